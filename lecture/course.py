"""`lecture render --executor ray` of a course: several lessons built at once.

One build renders one lesson at a time (its sections at once): with a cluster, a course of
many lessons would leave most of its CPUs idle, and the lessons' own work here (load, check,
narrate, compile: Manim measures in-process, one lesson at a time) would add up. So each
lesson is built by a `lecture render LESSON` process of its own, `--lessons-at-once` of them
at a time, all joining the same cluster (and sharing the build folder and its cache, which
several builds may use at once). A Ray started here (no address given) is started once, by
this process, and joined by every lesson's.

The terminal shows a line when a lesson starts, and each lesson's own output as one block
when it ends (so its diagnostics read as in a one-lesson build). The exit status is the worst
of the lessons'. Ctrl-C reaches every lesson's process: each cancels its cluster tasks.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lecture.runtime.ray_pool import Connection, connect

EXIT_INTERRUPTED = 130
DEFAULT_LESSONS_AT_ONCE = 4

# `lecture render`'s options, as each lesson's process is given them (dest -> flag; a flag
# without value for True). tests/test_cluster.py checks that every option is here or is
# one this module sets itself.
FORWARDED = {"quality": "-q", "sections": "--sections", "build_dir": "--build-dir",
             "cache_dir": "--cache-dir", "jobs": "-j", "voice": "--voice", "strict": "--strict",
             "burn_subtitles": "--burn-subtitles"}
OWN = {"command", "files", "output", "executor", "address", "lessons_at_once", "autofix"}


def forwarded(args: argparse.Namespace) -> list[str]:
    """The command line options of one lesson's process (its file and address apart)."""
    argv: list[str] = []
    for dest, flag in FORWARDED.items():
        value = getattr(args, dest, None)
        if value is True:
            argv.append(flag)
        elif value not in (None, False):
            argv += [flag, str(value)]
    if not getattr(args, "autofix", True):
        argv.append("--no-autofix")
    return argv


@dataclass
class _Lesson:
    path: Path
    proc: subprocess.Popen
    said: list[str] = field(default_factory=list)  # its output so far (a thread reads it as it comes)
    reader: threading.Thread | None = None

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.said.append(line)


def _start(path: Path, options: list[str], address: str) -> _Lesson:
    cmd = [sys.executable, "-m", "lecture", "render", str(path), *options, "--executor", "ray",
           "--address", address, "--lessons-at-once", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace")
    lesson = _Lesson(path, proc)
    lesson.reader = threading.Thread(target=lesson.read, name=f"lesson-{path.stem}", daemon=True)
    lesson.reader.start()
    return lesson


def render_course(paths: list[Path], args: argparse.Namespace, at_once: int) -> int:
    """Build the lessons, `at_once` at a time, each in a process of its own (module doc)."""
    # (joined already by the command's early check; without an address, the Ray this process
    # started on this machine, which every lesson's process joins)
    connection: Connection = connect(args.address)
    address = args.address or os.environ.get("RAY_ADDRESS") \
        or connection.ray.get_runtime_context().gcs_address
    options = forwarded(args)
    waiting, status = _one_per_folder(paths)
    running: list[_Lesson] = []
    total = len(waiting)
    try:
        while waiting or running:
            while waiting and len(running) < at_once:
                path = waiting.pop(0)
                running.append(_start(path, options, address))
                print(f"▶ {path} ({total - len(waiting)} of {total})", file=sys.stderr, flush=True)
            done = next((lesson for lesson in running if lesson.proc.poll() is not None), None)
            if done is None:
                time.sleep(0.1)
                continue
            running.remove(done)
            status = max(status, _finish(done))
    except KeyboardInterrupt:
        _interrupt(running)
        return EXIT_INTERRUPTED
    finally:
        connection.close()
    return status


def _one_per_folder(paths: list[Path]) -> tuple[list[Path], int]:
    """The lessons to build, and 2 when two would build into one folder (the second is
    reported and left out, as a one-process build does)."""
    stems: dict[str, Path] = {}
    kept, status = [], 0
    for path in paths:
        other = stems.setdefault(path.stem, path)
        if other != path:
            print(f"error: {path} and {other} would both build into the same folder; render them separately",
                  file=sys.stderr)
            status = 2
            continue
        kept.append(path)
    return kept, status


def _finish(lesson: _Lesson) -> int:
    """A lesson's output, whole, and its exit status."""
    if lesson.reader is not None:
        lesson.reader.join(timeout=10)
    text = "".join(lesson.said)
    sys.stderr.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stderr.flush()
    return lesson.proc.returncode


def _interrupt(running: list[_Lesson]) -> None:
    """Every lesson's process stopped: a Ctrl-C at the terminal reached them too; else they
    are sent one (each cancels its tasks); waited for, killed if one lingers."""
    deadline = time.monotonic() + 3
    while any(lesson.proc.poll() is None for lesson in running) and time.monotonic() < deadline:
        time.sleep(0.05)
    for lesson in running:
        if lesson.proc.poll() is None:
            lesson.proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 30
    for lesson in running:
        try:
            lesson.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            lesson.proc.kill()
            lesson.proc.wait()
    print("interrupted", file=sys.stderr)


__all__ = ["DEFAULT_LESSONS_AT_ONCE", "FORWARDED", "OWN", "forwarded", "render_course"]
