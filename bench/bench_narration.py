"""Benchmark: what narration adds to a build.

    .venv/bin/python bench/bench_narration.py                 # all examples, low quality
    .venv/bin/python bench/bench_narration.py --lessons pythagoras --runs 1

For each lesson, in the same run (medians over --runs):
- speech cold: every sentence synthesised with the offline piper voice (empty speech cache),
  timed in-process with the same Narrator a build uses (`plan_narration`);
- speech cached: the same again, every sentence from the cache;
- render silent: a cold `lecture render --voice none` (empty build and render cache);
- render voiced: a cold `lecture render` with the default voice on an already warm speech
  cache, so the difference to the silent render is mixing and muxing the audio.
The ratios are speech cold / render silent (aim: under 10 %) and speech cached / render
silent (aim: nothing). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def speech_seconds(lesson_path: Path, cache_dir: Path) -> tuple[float, int]:
    from lecture.compiler import frontend
    from lecture.runtime import step_timing

    lesson = frontend.load_file(lesson_path).lesson
    t0 = time.perf_counter()
    narrator, problems = step_timing.narrator_for(lesson, cache_dir=cache_dir)
    assert narrator is not None, problems
    plan = step_timing.plan_narration(lesson, narrator)
    return time.perf_counter() - t0, plan.synthesized


def render_seconds(lesson_path: Path, build: Path, voice: str | None) -> float:
    cmd = [sys.executable, "-m", "lecture", "render", str(lesson_path), "-q", "low",
           "--build-dir", str(build)]
    if voice:
        cmd += ["--voice", voice]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lessons", default="", help="comma-separated example names (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    names = [n for n in args.lessons.split(",") if n] or sorted(
        p.stem for p in (ROOT / "examples").glob("*.lecture"))
    print(f"{'lesson':<16}{'speech cold':>12}{'cached':>9}{'render silent':>15}{'render voiced':>15}"
          f"{'cold/render':>13}{'cached/render':>15}")
    for name in names:
        path = ROOT / "examples" / f"{name}.lecture"
        cold, cached, silent, voiced = [], [], [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                tmp_path = Path(tmp)
                seconds, spoken = speech_seconds(path, tmp_path / "speech")
                assert spoken > 0
                cold.append(seconds)
                seconds, spoken = speech_seconds(path, tmp_path / "speech")
                assert spoken == 0
                cached.append(seconds)
                silent.append(render_seconds(path, tmp_path / "silent", "none"))
                voiced_build = tmp_path / "voiced"
                voiced_build.mkdir()
                shutil.copytree(tmp_path / "speech", voiced_build / ".speech-cache")
                voiced.append(render_seconds(path, voiced_build, None))
        c, k, s, v = (statistics.median(x) for x in (cold, cached, silent, voiced))
        print(f"{name:<16}{c:>11.2f}s{k:>8.2f}s{s:>14.1f}s{v:>14.1f}s{c / s:>12.1%}{k / s:>14.1%}")


if __name__ == "__main__":
    main()
