"""The render cache and the worker pool.

A section is rendered again only when something its video depends on changed (not a
comment, not the layout of the text); a fully cached rebuild does not even import Manim;
two renders of one lesson at once both succeed; a worker that dies takes only its own
section down.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from lecture.compiler import frontend
from lecture.runtime import build, cache
from lecture.runtime.pool import RenderPool
from lecture.runtime.render import QUALITIES
from lecture.runtime.worker_result import WorkerOutput
from rich.console import Console

LESSON = """\
# a tiny lesson
lesson "Cache"
  theme: chalkboard

section one "First"
  line l1 "A circle."
  circle c at B2 color=blue
  step 1s: say l1; create c

section two "Second"
  square s at C4 color=red  # a square
  step 1s: create s
"""

# The same lesson: other comments, other spacing and line breaks. Nothing to render.
LESSON_REWORDED_COMMENTS = """\
# a tiny lesson, now with more comments
lesson   "Cache"
  theme:   chalkboard


section one "First"
  # the first section
  line l1 "A circle."
  circle c at B2   color=blue   # round
  step 1s:
    say l1
    create c

section two "Second"
  square s at C4 color=red
  step 1s: create s   # done
"""

LESSON_SECOND_CHANGED = LESSON.replace("color=red", "color=green")


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, force_terminal=False, color_system=None), buf


def _render(path: Path, root: Path, **kw) -> tuple[int, str, dict]:
    console, buf = _console()
    rc = build.render_lessons([path], build.RenderOptions(quality="low", build_root=root, **kw),
                              console=console)
    man = json.loads((root / path.stem / "manifest.json").read_text())
    return rc, buf.getvalue(), man


def _cached(man: dict) -> dict[str, bool]:
    return {s["id"]: s["cached"] for s in man["sections"]}


def _frame_md5(video: Path) -> str:
    cp = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:v", "-f", "md5", "-"],
                        capture_output=True, text=True, check=True)
    return cp.stdout.strip()


# ---------------------------------------------------------------- hashing (fast)


def _keys(text: str, **kw) -> dict[str, str]:
    lesson = frontend.load_text(text, "c.lecture").lesson
    s = QUALITIES["low"]
    return {k: v.hash for k, v in build.section_keys(lesson, s, base_dir=Path("."), **kw).items()}


def test_hash_ignores_comments_and_layout():
    assert _keys(LESSON) == _keys(LESSON_REWORDED_COMMENTS)


def test_hash_follows_content_settings_quality_and_parts():
    base = _keys(LESSON)
    changed = _keys(LESSON_SECOND_CHANGED)
    assert changed["one"] == base["one"] and changed["two"] != base["two"]
    themed = _keys(LESSON.replace("theme: chalkboard", "theme: light"))
    assert themed["one"] != base["one"] and themed["two"] != base["two"]
    audience = _keys(LESSON.replace("  theme: chalkboard\n",
                                    '  theme: chalkboard\n  audience: "anyone"\n'))
    assert audience == base  # a setting no section uses
    lesson = frontend.load_text(LESSON, "c.lecture").lesson
    sec = lesson.sections[0]
    lo = cache.section_key(lesson, sec, width=854, height=480, fps=15, base_dir=Path("."))
    hi = cache.section_key(lesson, sec, width=1920, height=1080, fps=60, base_dir=Path("."))
    assert lo.hash != hi.hash
    with_parts = _keys(LESSON, section_parts=lambda lesson, s: {"narration": f"n-{s.id}"})
    assert with_parts["one"] != base["one"]
    assert _keys(LESSON, section_parts=lambda lesson, s: {"narration": f"n-{s.id}"}) == with_parts


def test_hash_covers_image_bytes(tmp_path):
    from PIL import Image

    pic = tmp_path / "p.png"
    Image.new("RGB", (4, 4), "red").save(pic)
    text = 'lesson "I"\nsection a "A"\n  image im "p.png" at B2\n  step 1s: create im\n'
    lesson = frontend.load_text(text, str(tmp_path / "i.lecture"), base_dir=tmp_path).lesson

    def key():
        return cache.section_key(lesson, lesson.sections[0], width=854, height=480, fps=15,
                                 base_dir=tmp_path).hash

    first = key()
    assert key() == first
    Image.new("RGB", (4, 4), "blue").save(pic)
    os.utime(pic, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert key() != first


def test_stale_temporary_folders_are_removed(tmp_path):
    c = cache.Cache(tmp_path / "c")
    dead = tmp_path / "c" / "tmp" / "999999999-abcd"
    (dead / "job").mkdir(parents=True)
    (dead / "job" / "partial.mp4").write_bytes(b"x")
    mine = c.run_dir
    assert mine.is_dir() and not dead.exists()
    c.close()
    assert not mine.exists()


# ---------------------------------------------------------------- real renders


def test_cache_hits_misses_and_no_manim(tmp_path):
    lesson = tmp_path / "cache.lecture"
    lesson.write_text(LESSON)
    root = tmp_path / "build"
    rc, out, man = _render(lesson, root)
    assert rc == 0, out
    assert _cached(man) == {"one": False, "two": False}
    assert "one done in" in out and "rendered" in out
    video = root / "cache" / "lesson.mp4"
    first_md5 = _frame_md5(video)

    # Unchanged: nothing rendered, and Manim is not even imported (a fresh interpreter).
    script = textwrap.dedent(f"""
        import sys, time
        t = time.perf_counter()
        from pathlib import Path
        from lecture.runtime.build import RenderOptions, render_lessons
        rc = render_lessons([Path({str(lesson)!r})], RenderOptions(quality="low",
                            build_root=Path({str(root)!r})))
        print("SECONDS", time.perf_counter() - t)
        print("MANIM", "manim" in sys.modules, "COMPILER", "lecture.compiler.lower" in sys.modules)
        sys.exit(rc)
    """)
    t0 = time.perf_counter()
    cp = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - t0
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "MANIM False COMPILER False" in cp.stdout, cp.stdout
    assert "one done in" in cp.stdout and "cached" in cp.stdout and "rendered" not in cp.stdout
    inner = float(cp.stdout.split("SECONDS")[1].split()[0])
    print(f"cached rebuild: {inner:.3f}s in the call, {wall:.3f}s with interpreter start")
    assert inner < 2.0  # ~0.1-0.3 s here; generous for slow CI machines
    man = json.loads((root / "cache" / "manifest.json").read_text())
    assert _cached(man) == {"one": True, "two": True} and man["jobs"] == 0
    assert _frame_md5(video) == first_md5

    # Comments and layout only: still nothing rendered.
    lesson.write_text(LESSON_REWORDED_COMMENTS)
    rc, out, man = _render(lesson, root)
    assert rc == 0, out
    assert _cached(man) == {"one": True, "two": True}, out
    assert "rendered" not in out

    # One section changed: exactly that one is rendered.
    lesson.write_text(LESSON_SECOND_CHANGED)
    rc, out, man = _render(lesson, root)
    assert rc == 0, out
    assert _cached(man) == {"one": True, "two": False}, out
    assert "two done in" in out and out.count(": rendered") == 1
    assert _frame_md5(video) != first_md5
    assert not any((root / ".cache" / "tmp").iterdir())  # nothing left behind


def test_two_concurrent_renders_of_one_lesson(tmp_path):
    lesson = tmp_path / "twice.lecture"
    lesson.write_text(LESSON)
    root = tmp_path / "build"
    cmds = [[sys.executable, "-m", "lecture", "render", str(lesson), "-q", "low",
             "--build-dir", str(root), "-o", str(tmp_path / f"out{i}.mp4")] for i in (1, 2)]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for c in cmds]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    for p, out in zip(procs, outs, strict=True):
        assert p.returncode == 0, out
    md5s = {_frame_md5(tmp_path / f"out{i}.mp4") for i in (1, 2)}
    md5s.add(_frame_md5(root / "twice" / "lesson.mp4"))
    assert len(md5s) == 1
    man = json.loads((root / "twice" / "manifest.json").read_text())
    assert man["status"] == "ok" and all(s["status"] == "ok" for s in man["sections"])
    leftovers = [p for p in (root / "twice").rglob("*") if ".tmp" in p.name or p.name.startswith(".")]
    assert leftovers == []
    assert not any((root / ".cache" / "tmp").iterdir())


# ---------------------------------------------------------------- the pool


POOL_MODULE = """\
from manim import *


class Fine(Scene):
    def construct(self):
        self.play(Create(Circle()), run_time=0.4)


class Exits(Scene):
    def construct(self):
        import os
        os._exit(3)


class Segfaults(Scene):
    def construct(self):
        import ctypes
        ctypes.string_at(0)


class Slow(Scene):
    def construct(self):
        import time
        time.sleep(60)
"""


def _job(tmp_path: Path, module: Path, scene: str, n: int) -> tuple[dict, Path]:
    job = {"module": str(module), "scene": scene, "section": f"{scene.lower()}{n}",
           "width": 256, "height": 144, "fps": 10, "media_dir": str(tmp_path / f"media{n}")}
    return job, tmp_path / f"log{n}.txt"


def test_a_dying_worker_takes_down_only_its_job(tmp_path):
    module = tmp_path / "scenes.py"
    module.write_text(POOL_MODULE)
    with RenderPool(2) as pool:
        futs = {}
        for n, scene in enumerate(["Exits", "Fine", "Segfaults", "Fine", "Slow", "Fine"]):
            job, log = _job(tmp_path, module, scene, n)
            futs[n] = pool.submit(job, log_path=log, priority=n,
                                  timeout=4 if scene == "Slow" else None)
        results = {n: f.result(timeout=120) for n, f in futs.items()}
        failures = {n: results[n].failure for n in (0, 2, 4)}
        assert not results[0].ok and failures[0] is not None and failures[0].kind == "crash"
        assert "status 3" in failures[0].message
        assert not results[2].ok and failures[2] is not None and "SIGSEGV" in failures[2].message
        assert failures[4] is not None and failures[4].kind == "timeout"
        for n in (1, 3, 5):
            assert results[n].ok, results[n]
            out = results[n].outcome
            assert isinstance(out, WorkerOutput) and out.kind == "movie" and out.path.is_file()
        assert "the worker process ended with status 3" in (tmp_path / "log0.txt").read_text()
        # the dead were replaced; the pool still works, at full strength
        deadline = time.monotonic() + 30
        while (pool.spawned < 5 or len(pool.pids) < 2) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pool.spawned == 5 and len(pool.pids) == 2

        # cancelling a running job kills its worker only; a queued one is just dropped
        slow_job, slow_log = _job(tmp_path, module, "Slow", 10)
        slow = pool.submit(slow_job, log_path=slow_log)
        time.sleep(1.0)
        fine_job, fine_log = _job(tmp_path, module, "Fine", 11)
        fine = pool.submit(fine_job, log_path=fine_log)
        assert pool.cancel(slow)
        assert slow.result(timeout=30).cancelled
        assert fine.result(timeout=60).ok
    assert pool.pids == []
