"""A hostile repository's custom code: a lock entry runs only when it passes the static
allowlist, was trusted on this machine, and then only isolated by the OS (bwrap), with time
and memory limits; every refusal or limit is a diagnostic at the element's line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lecture.agents.build_collaborators import build_collaborators
from lecture.agents.custom_elements import collect_custom_nodes
from lecture.agents.lockfile import LockEntry, LockFile, lock_path, rounded_box
from lecture.compiler import frontend
from lecture.runtime import locked_code
from lecture.runtime.build import RenderOptions, render_lesson
from lecture.runtime.isolation import Isolation, Limits, adopt_file

LECTURE = str(Path(sys.executable).with_name("lecture"))

LESSON = '''lesson "Custom"

section s "A custom element"
  line l1 "Watch."
  custom spin in B2..D4 """A filled square."""
  step 1s: say l1; play spin
'''

SQUARE = '''from manim import *

def build(box):
    sq = Square(side_length=min(box.width, box.height) * 0.8, fill_opacity=1, color=YELLOW)
    sq.move_to(box.center)
    return sq, [FadeIn(sq)]
'''


def _write(tmp_path: Path, code: str, lesson: str = LESSON) -> Path:
    """The lesson and a lock file holding `code` for every custom element."""
    path = tmp_path / "repo" / "c.lecture"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(lesson, encoding="utf-8")
    loaded = frontend.load_file(path)
    lock = LockFile(lock_path(path))
    for n in collect_custom_nodes(loaded.lesson, base_dir=path.parent):
        lock.set(n.key, LockEntry(n.section, n.element, n.description, n.placement, rounded_box(n.box),
                                  n.theme.name, code, "someone-elses-model", "2026-01-01T00:00:00Z", 1))
    lock.save()
    return path


def _run(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([LECTURE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _frame_brightness(video: Path, at: float, box: tuple[int, int, int, int]) -> float:
    """Mean brightness (0-255) of a pixel box in the frame at `at` seconds."""
    from PIL import Image

    png = video.with_suffix(".png")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", str(at), "-i", str(video), "-frames:v", "1",
                    str(png)], check=True)
    img = Image.open(png).convert("L").crop(box)
    return float(sum(img.tobytes())) / (img.width * img.height)


def test_untrusted_code_is_not_run_until_the_user_trusts_it(tmp_path):
    path = _write(tmp_path, SQUARE)
    repo = path.parent
    check = _run("check", "--no-layout", path.name, cwd=repo)
    assert check.returncode == 2, check.stdout + check.stderr
    assert "c.lecture:5:3: error:" in check.stderr and "not written or trusted" in check.stderr
    assert "lecture trust c.lecture" in check.stderr and "Traceback" not in check.stderr
    render = _run("render", "-q", "low", "--voice", "none", path.name, cwd=repo)
    assert render.returncode == 2 and "not written or trusted" in render.stdout + render.stderr
    assert not (repo / "build" / "c" / "lesson.mp4").exists()

    refused = _run("trust", path.name, cwd=repo)  # no terminal, no --yes: shown, not trusted
    assert refused.returncode == 2 and "Square(side_length" in refused.stdout
    assert "nothing trusted" in refused.stdout

    trusted = _run("trust", "--yes", path.name, cwd=repo)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert "1 | from manim import *" in trusted.stdout and "trusted 1 snippet" in trusted.stdout
    assert _run("check", "--no-layout", path.name, cwd=repo).returncode == 0
    render = _run("render", "-q", "low", "--voice", "none", path.name, cwd=repo)
    assert render.returncode == 0, render.stdout + render.stderr
    video = repo / "build" / "c" / "lesson.mp4"
    # the yellow square is drawn in its box (B2..D4 is right of centre, in the upper half at 480p)
    inside = _frame_brightness(video, 0.9, (500, 130, 620, 240))
    outside = _frame_brightness(video, 0.9, (760, 380, 840, 460))
    assert inside > 120 and outside < 60, (inside, outside)


def test_edited_lock_code_is_untrusted_again(tmp_path):
    path = _write(tmp_path, SQUARE)
    assert _run("trust", "--yes", path.name, cwd=path.parent).returncode == 0
    lock = json.loads(lock_path(path).read_text())
    for entry in lock["entries"].values():  # an edit by hand: the code and its recorded hash differ
        entry["code"] = entry["code"].replace("YELLOW", "RED")
    lock_path(path).write_text(json.dumps(lock))
    check = _run("check", "--no-layout", path.name, cwd=path.parent)
    assert check.returncode == 2 and "was changed after it was written" in check.stderr
    for entry in lock["entries"].values():  # the hash updated too: still not the trusted code
        entry.pop("code_sha256")
    lock_path(path).write_text(json.dumps(lock))
    check = _run("check", "--no-layout", path.name, cwd=path.parent)
    assert check.returncode == 2 and "not written or trusted" in check.stderr


def test_code_outside_the_allowlist_is_refused_and_cannot_be_trusted(tmp_path):
    canary = tmp_path / "canary"
    hostile = ("from manim import *\nimport numpy as np\n\ndef build(box):\n"
               f"    np.lib.npyio.os.system('touch {canary}')\n    return Square(), []\n")
    path = _write(tmp_path, hostile)
    check = _run("check", "--no-layout", path.name, cwd=path.parent)
    assert check.returncode == 2 and "c.lecture:5:3: error:" in check.stderr and "is refused" in check.stderr
    trust = _run("trust", "--yes", path.name, cwd=path.parent)
    assert trust.returncode == 2 and "cannot be trusted" in trust.stdout
    render = _run("render", "-q", "low", "--voice", "none", path.name, cwd=path.parent)
    assert render.returncode == 2 and not canary.exists()


LIMITS_LESSON = '''lesson "Limits"

section loop "Loops"
  line l1 "Loop."
  custom spin in B2..D4 """Loops forever."""
  step 1s: say l1; play spin

section hog "Hogs"
  line l2 "Hog."
  custom hog in B2..D4 """Takes all the memory."""
  step 1s: say l2; play hog
'''


def test_time_and_memory_limits_are_diagnostics_at_the_element(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CUSTOM_SECONDS", "3")
    code = ("from manim import *\nimport numpy as np\n\ndef build(box):\n"
            "    if box.width < 0:\n        return Square(), []\n"
            "    total = 0\n    for i in range(10 ** 12):\n        total += i\n"
            "    grid = np.ones((60000, 60000))\n    return Square(), []\n")
    path = _write(tmp_path, code, LIMITS_LESSON)
    lock = LockFile.load(lock_path(path))
    for key, entry in list(lock.entries.items()):  # the hog skips the loop and allocates 28 GB
        if entry.element == "hog":
            entry.code = entry.code.replace("range(10 ** 12)", "range(3)")
            lock.set(key, entry)
    lock.save()
    assert _run("trust", "--yes", path.name, cwd=path.parent).returncode == 0
    started = time.monotonic()
    render = _run("render", "-q", "low", "--voice", "none", "--no-autofix", path.name, cwd=path.parent,
                  timeout=120)
    out = render.stdout + render.stderr
    assert render.returncode == 1, out
    assert time.monotonic() - started < 90
    assert "c.lecture:5:3" in out and "ran longer than 3 s" in out
    assert "c.lecture:10:3" in out and "MemoryError" in out
    assert "Traceback (most recent call last)" not in out


def test_isolated_process_sees_no_network_no_home_and_writes_only_its_scratch(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the user's secret")
    canary = tmp_path / "canary"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted: list[object] = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    probe = f'''
import os, socket, json
out = {{}}
for name, action in (("write", lambda: open({str(canary)!r}, "w").write("x")),
                     ("read", lambda: open({str(secret)!r}).read()),
                     ("connect", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2)),
                     ("scratch", lambda: open("made-here", "w").write("ok"))):
    try:
        action()
        out[name] = "ok"
    except OSError as exc:
        out[name] = type(exc).__name__
out["secret_env"] = os.environ.get("SECRET_CANARY")
print(json.dumps(out))
'''
    scratch = tmp_path / "scratch"
    os.environ["SECRET_CANARY"] = "sk-canary"
    try:
        proc = Isolation(scratch, limits=Limits(memory_mb=1024)).popen(
            [sys.executable, "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate(timeout=60)
    finally:
        del os.environ["SECRET_CANARY"]
        server.close()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["write"] != "ok" and not canary.exists()
    assert result["read"] != "ok" and result["connect"] != "ok" and not accepted
    assert result["scratch"] == "ok" and (scratch / "made-here").read_text() == "ok"
    assert result["secret_env"] is None


def test_render_path_runs_custom_code_isolated_even_if_the_static_check_missed_it(tmp_path, monkeypatch):
    """Defence in depth: with the allowlist switched off, hostile code in a trusted lock
    entry still cannot write outside the isolated worker's scratch folder."""
    canary = tmp_path / "canary"
    hostile = ("from manim import *\n\ndef build(box):\n"
               f"    open({str(canary)!r}, 'w').write('escaped')\n    return Square(), []\n")
    path = _write(tmp_path, hostile)
    monkeypatch.setattr(locked_code, "check_code", lambda code: [])
    from lecture.runtime.trust import TrustStore

    TrustStore.default().trust_code(hostile, lesson=str(path), element="spin")
    status = render_lesson(path, RenderOptions(quality="low", voice="none", build_root=path.parent / "build",
                                               autofix=False), collaborators=build_collaborators())
    assert status == 1
    assert not canary.exists()


def test_adopt_file_never_follows_a_link_out_of_the_scratch(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    secret = tmp_path / "secret"
    secret.write_text("private")
    (scratch / "movie.mp4").symlink_to(secret)
    (scratch / "sub").symlink_to(tmp_path)
    for planted in (scratch / "movie.mp4", scratch / "sub" / "secret", secret):
        with pytest.raises((OSError, ValueError)):
            adopt_file(planted, scratch, tmp_path / "out" / "taken")
    assert not (tmp_path / "out" / "taken").exists()
    (scratch / "real.mp4").write_bytes(b"video")
    assert adopt_file(scratch / "real.mp4", scratch, tmp_path / "out" / "taken").read_bytes() == b"video"
