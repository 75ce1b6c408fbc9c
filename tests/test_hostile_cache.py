"""A cloned repository's build/ folder is data, never instructions (issue 12, "Safe to clone").

A repository may hold a `build/` folder with anything in it. These tests plant what an
attacker would: links in the cache's tmp/ folder (the stale-entry cleaner once deleted
whatever they pointed at), a generated module and its bytecode under the predictable
names the render workers import, damaged records, links where Lecture writes its build
outputs and its speech cache. Each asserts that no canary appears, that nothing outside
the build changes, and that the user gets a clear error (exit status 2, no traceback)
where Lecture refuses to go on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import py_compile
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from lecture.runtime import cache as cache_mod
from lecture.runtime.safe_fs import UnsafePathError, place, safe_dir, write_bytes_atomic
from lecture.runtime.speech import Narrator
from lecture.runtime.speech.base import Audio, Engine, VoiceInfo

LESSON = """\
lesson "Hostile"

section one "One"
  circle c at B2 color=blue
  step 1s: create c
"""


def _snapshot(root: Path, skip: str | None = None) -> dict[str, str]:
    """Every entry under `root` (links not followed): its kind and content."""
    out: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            if skip is not None and (rel == skip or rel.startswith(skip + os.sep)):
                continue
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
    return out


def _outside(tmp_path: Path) -> Path:
    """A folder outside the lesson with a canary in it (what a link points at)."""
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "canary.txt").write_text("keep me\n")
    (outside / "sub" / "notes.txt").write_text("keep me too\n")
    return outside


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hostile.lecture").write_text(LESSON)
    return repo, _outside(tmp_path)


def _render(repo: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lecture", "render", "hostile.lecture", "--voice",
                           "none", "-q", "low", "--no-autofix", *extra], cwd=repo,
                          capture_output=True, text=True, timeout=300)


def _video_streams(video: Path) -> list[str]:
    cp = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of",
                         "csv=p=0", str(video)], capture_output=True, text=True, check=True)
    return cp.stdout.split()


# ---------------------------------------------------------------- through the CLI


def test_planted_cache_entries_are_never_trusted(tmp_path):
    repo, outside = _repo(tmp_path)
    cold = _render(repo)
    assert cold.returncode == 0, cold.stdout + cold.stderr
    cache = repo / "build" / ".cache"
    (module,) = (cache / "modules").glob("m*.py")
    (record,) = (cache / "sections").glob("*.json")
    generated = module.read_text()

    # The module the workers import, under its predictable name, with code that leaves a
    # canary (and would still draw the scene, so only the canary tells)...
    canary = tmp_path / "canary"
    planted = f"import pathlib\npathlib.Path({str(canary)!r}).write_text('ran')\n" + generated
    module.write_text(planted)
    # ...and as bytecode Python would run without looking at the source at all.
    pyc = Path(importlib.util.cache_from_source(str(module)))
    py_compile.compile(str(module), cfile=str(pyc), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    planted_pyc = pyc.read_bytes()
    # A damaged record: the section is a miss, so it is rendered with that module.
    record.write_text("{not json")
    # Links where the cleaner looks for dead runs' folders: pid 1 is alive, 999999999 is
    # not; `../../..` is the repository itself.
    tmp = cache / "tmp"
    (tmp / "1-abcd").symlink_to("../../..")
    (tmp / "999999999-abcd").symlink_to(outside)
    (tmp / "notours").symlink_to(outside)
    before_outside = _snapshot(outside)
    before_repo = _snapshot(repo, skip="build")

    run = _render(repo)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "one done in" in out and ": rendered" in out  # the damaged record was a miss
    assert not canary.exists()
    assert "canary" not in module.read_text() and module.read_text() == generated
    assert not pyc.exists() or pyc.read_bytes() != planted_pyc
    video = repo / "build" / "hostile" / "lesson.mp4"
    assert "video" in _video_streams(video)
    assert _snapshot(outside) == before_outside
    assert _snapshot(repo, skip="build") == before_repo
    # the cleaner removed the links that looked like its own entries (the links only)
    assert not os.path.lexists(tmp / "1-abcd") and not os.path.lexists(tmp / "999999999-abcd")
    assert (tmp / "notours").is_symlink()  # not named like ours: left alone
    assert "Traceback" not in out


@pytest.mark.parametrize(("link", "target"), [
    ("build/hostile/sections", "outside"),
    ("build/hostile/logs", "outside"),
    ("build/hostile", "outside"),
    ("build", "outside"),
    ("build/.cache", "outside"),
    ("build/.cache/tmp", "repo"),
    ("build/.cache/sections", "outside"),
])
def test_a_link_in_the_build_folder_is_refused(tmp_path, link, target):
    repo, outside = _repo(tmp_path)
    path = repo / link
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(outside if target == "outside" else repo)
    before_outside, before_repo = _snapshot(outside), _snapshot(repo, skip="build")

    t0 = time.monotonic()
    run = _render(repo)
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert f"{link} is a symbolic link; Lecture never writes through links in a build folder" \
        in " ".join(out.split()), out
    assert "Traceback" not in out and "internal error" not in out
    assert _snapshot(outside) == before_outside
    assert _snapshot(repo, skip="build") == before_repo
    assert time.monotonic() - t0 < 60  # refused before anything is rendered


def test_a_file_where_a_build_folder_goes_is_refused(tmp_path):
    repo, _ = _repo(tmp_path)
    (repo / "build" / "hostile").mkdir(parents=True)
    (repo / "build" / "hostile" / "sections").write_text("not a folder\n")
    run = _render(repo)
    out = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 2, out
    assert "build/hostile/sections is not a folder" in out and "Traceback" not in out
    assert (repo / "build" / "hostile" / "sections").read_text() == "not a folder\n"


def test_cache_dir_option_and_a_fast_unchanged_rebuild(tmp_path):
    repo, _ = _repo(tmp_path)
    shared = tmp_path / "shared-cache"
    env = {**os.environ, "LECTURE_CACHE_DIR": str(tmp_path / "user-cache")}
    cold = subprocess.run([sys.executable, "-m", "lecture", "render", "hostile.lecture", "--voice",
                           "none", "-q", "low", "--cache-dir", str(shared)], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert len(list((shared / "sections").glob("*.mp4"))) == 1
    assert not (repo / "build" / ".cache").exists()

    # Unchanged: every section from the cache, timed inside a fresh interpreter.
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from lecture.runtime.build import RenderOptions, render_lessons
        t = time.perf_counter()
        rc = render_lessons([Path("hostile.lecture")], RenderOptions(quality="low", voice="none",
                            cache_dir=Path({str(shared)!r})))
        print("SECONDS", time.perf_counter() - t)
        assert rc == 0
    """)
    warm = subprocess.run([sys.executable, "-c", script], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert "cached" in warm.stdout and ": rendered" not in warm.stdout
    seconds = float(warm.stdout.split("SECONDS")[1].split()[0])
    print(f"unchanged rebuild with --cache-dir: {seconds:.3f}s")
    assert seconds < 0.5


# ---------------------------------------------------------------- the cache, directly


def test_the_cleaner_removes_only_its_own_entries_and_never_follows_links(tmp_path):
    outside = _outside(tmp_path)
    before = _snapshot(outside)
    c = cache_mod.Cache(tmp_path / "c")
    tmp = tmp_path / "c" / "tmp"
    (tmp / "1-abcd").symlink_to(outside)  # a live pid: a link is still never ours
    (tmp / "999999999-beef").symlink_to(outside)
    dead = tmp / "999999998-cafe"  # a dead run's real folder, holding a link
    dead.mkdir()
    (dead / "inner").symlink_to(outside)
    (dead / "partial.mp4").write_bytes(b"x")
    (tmp / "keep-me").mkdir()  # not named like ours
    old_module = tmp_path / "c" / "modules" / ("m" + "0" * 24 + ".py")
    old_module.symlink_to(outside / "canary.txt")
    os.utime(old_module, (1, 1), follow_symlinks=False)

    mine = c.run_dir  # cleans first
    assert mine.is_dir()
    assert sorted(p.name for p in tmp.iterdir()) == sorted(["keep-me", mine.name])
    assert not os.path.lexists(old_module)
    assert _snapshot(outside) == before
    c.close()
    assert not mine.exists() and (tmp / "keep-me").is_dir()


def test_a_module_is_used_only_when_its_bytes_are_the_code(tmp_path):
    outside = _outside(tmp_path)
    before = _snapshot(outside)
    c = cache_mod.Cache(tmp_path / "c")
    code = "X = 1\n"
    name = "m" + hashlib.sha256(code.encode()).hexdigest()[:24] + ".py"
    modules = tmp_path / "c" / "modules"

    (modules / name).write_text("X = 2  # planted\n")
    assert c.module(code).read_text() == code

    (modules / name).unlink()
    (modules / name).symlink_to(outside / "canary.txt")  # a link: replaced, never written through
    path = c.module(code)
    assert not path.is_symlink() and path.read_text() == code
    assert (outside / "canary.txt").read_text() == "keep me\n"

    pyc = Path(importlib.util.cache_from_source(str(path)))
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(b"planted bytecode")
    (pyc.parent / "other.cpython-311.pyc").write_bytes(b"not this module's")
    assert c.module(code).read_text() == code
    assert not pyc.exists() and (pyc.parent / "other.cpython-311.pyc").exists()

    for entry in pyc.parent.iterdir():
        entry.unlink()
    pyc.parent.rmdir()
    pyc.parent.symlink_to(outside)  # Python would write (and read) bytecode through it
    c.module(code)
    assert not os.path.lexists(pyc.parent)
    assert _snapshot(outside) == before


def test_records_videos_and_stills_are_checked_before_use(tmp_path):
    outside = _outside(tmp_path)
    c = cache_mod.Cache(tmp_path / "c")
    h = "ab" * 16
    mp4 = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 100
    good = {"section": "one", "duration": 1.0, "frames": 15, "class_name": "S01One"}

    def store(record: str, video: bytes | None = mp4) -> None:
        c.record_path(h).write_text(record)
        c.video_path(h).unlink(missing_ok=True)
        if video is not None:
            c.video_path(h).write_bytes(video)

    store(json.dumps(good))
    assert c.record(h) == good
    for damaged in ("{not json", "[]", json.dumps({**good, "duration": "1"}),
                    json.dumps({**good, "frames": -1}), json.dumps({**good, "duration": True}),
                    json.dumps({k: v for k, v in good.items() if k != "duration"}),
                    json.dumps({**good, "class_name": ["S"]}), "\xff\xfe"):
        store(damaged)
        assert c.record(h) is None, damaged
    store(json.dumps(good), video=b"#EXTM3U\nfile:///etc/passwd\n")  # not an MP4
    assert c.record(h) is None
    store(json.dumps(good), video=None)
    (outside / "real.mp4").write_bytes(mp4)
    c.video_path(h).symlink_to(outside / "real.mp4")  # a link, even to an MP4
    assert c.record(h) is None
    c.record_path(h).unlink()
    c.record_path(h).symlink_to(outside / "canary.txt")
    c.video_path(h).unlink()
    c.video_path(h).write_bytes(mp4)
    assert c.record(h) is None

    c.still_path(h).symlink_to(outside / "canary.txt")
    assert c.still(h) is None
    c.still_path(h).unlink()
    c.still_path(h).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    assert c.still(h) == c.still_path(h)

    key = "cd" * 16
    (tmp_path / "c" / "lessons" / f"{key}.json").write_text(json.dumps({"duration": 2.0}))
    c.lesson_path(key).symlink_to(outside / "real.mp4")
    assert c.lesson_record(key) is None
    c.lesson_path(key).unlink()
    c.lesson_path(key).write_bytes(mp4)
    assert c.lesson_record(key) == {"duration": 2.0}


def test_writes_replace_links_and_folders_must_be_real(tmp_path, monkeypatch):
    outside = _outside(tmp_path)
    before = _snapshot(outside)
    build = tmp_path / "build"
    build.mkdir()
    (build / "manifest.json").symlink_to(outside / "canary.txt")
    write_bytes_atomic(build / "manifest.json", b"{}\n")
    assert not (build / "manifest.json").is_symlink()
    (build / "src.mp4").symlink_to(outside / "canary.txt")
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        place(build / "src.mp4", build / "copy.mp4")
    (build / "own.mp4").write_bytes(b"video")
    (build / "dst.mp4").symlink_to(outside / "canary.txt")
    place(build / "own.mp4", build / "dst.mp4")
    assert (build / "dst.mp4").read_bytes() == b"video" and not (build / "dst.mp4").is_symlink()
    assert _snapshot(outside) == before

    monkeypatch.chdir(tmp_path)
    (build / "lesson").symlink_to(outside)
    with pytest.raises(UnsafePathError, match=r"^build/lesson is a symbolic link"):
        safe_dir("build", "lesson", "sections")
    with pytest.raises(UnsafePathError, match="not a usable folder name"):
        safe_dir("build", "..")
    (tmp_path / "linked-build").symlink_to(build)
    with pytest.raises(UnsafePathError, match="^linked-build is a symbolic link"):
        safe_dir("linked-build", "x")
    assert safe_dir("build", "fine", "sections") == build / "fine" / "sections"
    assert _snapshot(outside) == before


class _Beep(Engine):
    """A tiny real engine: a tenth of a second of silence per sentence."""

    def resolve(self, voice, language):
        return "beep"

    def identity(self, voice):
        return "beep-1"

    def synthesize(self, text, *, voice, language, rate):
        return Audio(b"\x00\x00" * 2205, 22050)

    def voices(self):
        return [VoiceInfo("beep", "beep", "en", True)]


def test_the_speech_cache_is_never_written_or_read_through_a_link(tmp_path):
    outside = _outside(tmp_path)
    wav_outside = outside / "voice.wav"
    wav_outside.write_bytes(b"RIFF" + b"\x00" * 4 + b"WAVE")  # not a usable WAV
    before = _snapshot(outside)
    cache_dir = tmp_path / "build" / ".speech-cache"
    narrator = Narrator("piper", cache_dir=cache_dir, engine=_Beep())
    narrator.speak("A first sentence.")
    (entry,) = (cache_dir / "piper").glob("*.wav")
    name = entry.name
    entry.unlink()
    entry.symlink_to(wav_outside)  # the entry's predictable name, pointing outside

    again = Narrator("piper", cache_dir=cache_dir, engine=_Beep())
    again.speak("A first sentence.")
    assert again.synthesized == 1 and again.reused == 0  # the link was not read
    assert not (cache_dir / "piper" / name).is_symlink()  # it was replaced, not written through
    assert _snapshot(outside) == before

    linked = tmp_path / "build2" / ".speech-cache"
    linked.mkdir(parents=True)
    (linked / "piper").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        Narrator("piper", cache_dir=linked, engine=_Beep()).speak("A first sentence.")
    assert _snapshot(outside) == before


def test_the_watch_page_serves_no_link_and_refuses_a_linked_build(tmp_path, capsys):
    import threading
    import urllib.error
    import urllib.request

    from lecture.runtime.watch import Watcher, WatchOptions, watch
    from lecture.runtime.watch_server import PreviewHandler, PreviewServer

    outside = _outside(tmp_path)
    lesson = tmp_path / "w.lecture"
    lesson.write_text(LESSON)
    w = Watcher(lesson, WatchOptions(port=0, build_root=tmp_path / "build"))
    server = PreviewServer(("127.0.0.1", 0), PreviewHandler)
    server.watcher = w  # (only the page server: no workers, no build)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/media/sections/"
        (w.cache.root / "sections" / ("ab" * 16 + ".mp4")).symlink_to(outside / "canary.txt")
        (w.cache.root / "sections" / ("cd" * 16 + ".mp4")).write_bytes(b"\x00\x00\x00\x20ftyp")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "ab" * 16 + ".mp4", timeout=10)
        assert err.value.code == 404
        with urllib.request.urlopen(base + "cd" * 16 + ".mp4", timeout=10) as r:
            assert r.read() == b"\x00\x00\x00\x20ftyp"
    finally:
        server.shutdown()
        server.server_close()
        w.stop()

    (tmp_path / "build" / "w" / "watch-logs").rmdir()
    (tmp_path / "build" / "w" / "watch-logs").symlink_to(outside)
    before = _snapshot(outside)
    capsys.readouterr()
    assert watch(lesson, WatchOptions(port=0, build_root=tmp_path / "build")) == 2
    assert "w/watch-logs is a symbolic link" in capsys.readouterr().out
    assert _snapshot(outside) == before


def test_subtitles_replace_a_link_instead_of_writing_through_it(tmp_path):
    from lecture.compiler.frontend import load_text
    from lecture.runtime import subtitles
    from lecture.runtime.step_timing import plan_narration

    outside = _outside(tmp_path)
    before = _snapshot(outside)
    text = LESSON.replace("  step 1s: create c", '  line l1 "A circle."\n  step 1s: say l1; create c')
    lesson = load_text(text, "n.lecture").lesson
    plan = plan_narration(lesson, Narrator("piper", cache_dir=None, engine=_Beep()))
    out = tmp_path / "build" / "n"
    out.mkdir(parents=True)
    (out / "lesson.srt").symlink_to(outside / "canary.txt")
    (out / "lesson.vtt").symlink_to(outside / "sub" / "notes.txt")
    srt, vtt = subtitles.write_subtitles(plan, 15, out / "lesson")
    assert not srt.is_symlink() and "A circle." in srt.read_text()
    assert not vtt.is_symlink() and vtt.read_text().startswith("WEBVTT")
    assert _snapshot(outside) == before
