"""Benchmark: what narration adds to a build.

    .venv/bin/python bench/bench_narration.py                 # all examples, low quality
    .venv/bin/python bench/bench_narration.py --lessons pythagoras --runs 1

For each lesson, in the same run (medians over --runs), every render a cold `lecture render
-q low` into an empty build folder (empty render cache):
- silent: `--voice none`;
- voiced cold: the default offline voice with an empty speech cache (every sentence
  synthesised, its loudness measured once, as it enters the cache);
- voiced cached: the default voice with the speech cache the cold run left, so its
  difference to the silent render is placing the sentences at their stored gains,
  encoding the tracks and muxing them;
- speech: every sentence synthesised in-process with the same Narrator a build uses
  (`plan_narration`, empty speech cache), for reference;
- assembly: lesson.mp4's track and subtitles made from the cached speech and muxed into the
  silent render's lesson.mp4 in-process, all in the foreground (`Soundtrack.finish_lesson`):
  what a build would wait for at its end if nothing were made in the background.
Targets (issue 17): voiced cold / silent <= 1.10, voiced cached / silent <= 1.02 (wall
time). The CPU seconds of each render (its process and every process it started) are
printed too: on a shared machine they move less than wall times. Not part of the test
suite.
"""

from __future__ import annotations

import argparse
import resource
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


def assembly_seconds(lesson_path: Path, cache_dir: Path, silent_video: Path, work: Path) -> float:
    from lecture.compiler import frontend
    from lecture.runtime import step_timing
    from lecture.runtime.render import resolve_settings
    from lecture.runtime.soundtrack import Soundtrack

    lesson = frontend.load_file(lesson_path).lesson
    narrator, _ = step_timing.narrator_for(lesson, cache_dir=cache_dir)
    assert narrator is not None
    plan = step_timing.plan_narration(lesson, narrator)
    assert plan.synthesized == 0
    video = shutil.copyfile(silent_video, work / "lesson.mp4")
    t0 = time.perf_counter()
    Soundtrack(plan, resolve_settings("low", lesson).fps).finish_lesson(video, work / "audio")
    return time.perf_counter() - t0


def render_seconds(lesson_path: Path, build: Path, voice: str | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the render and every process it started)."""
    cmd = [sys.executable, "-m", "lecture", "render", str(lesson_path), "-q", "low",
           "--build-dir", str(build)]
    if voice:
        cmd += ["--voice", voice]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_run(path: Path, tmp: Path) -> dict[str, float]:
    """Every figure of one lesson, once."""
    out: dict[str, float] = {}
    out["silent"], out["silent cpu"] = render_seconds(path, tmp / "silent", "none")
    out["cold"], out["cold cpu"] = render_seconds(path, tmp / "cold", None)
    cached = tmp / "cached"
    cached.mkdir()
    shutil.copytree(tmp / "cold" / ".speech-cache", cached / ".speech-cache")
    out["cached"], out["cached cpu"] = render_seconds(path, cached, None)
    seconds, spoken = speech_seconds(path, tmp / "speech")
    assert spoken > 0
    out["speech"] = seconds
    out["assembly"] = assembly_seconds(path, tmp / "speech", tmp / "silent" / path.stem / "lesson.mp4", tmp)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lessons", default="", help="comma-separated example names (default: all)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    names = [n for n in args.lessons.split(",") if n] or sorted(
        p.stem for p in (ROOT / "examples").glob("*.lecture"))
    print(f"{'lesson':<24}{'silent':>8}{'voiced cold':>13}{'voiced cached':>15}{'cold/silent':>13}"
          f"{'cached/silent':>15}{'speech':>8}{'assembly':>10}   cpu: silent  cold  cached")
    for name in names:
        path = ROOT / "examples" / f"{name}.lecture"
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(one_run(path, Path(tmp)))
        m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{name:<24}{m['silent']:>7.1f}s{m['cold']:>12.1f}s{m['cached']:>14.1f}s"
              f"{m['cold'] / m['silent']:>12.2f}x{m['cached'] / m['silent']:>14.2f}x"
              f"{m['speech']:>7.2f}s{m['assembly']:>9.2f}s{m['silent cpu']:>13.1f}s"
              f"{m['cold cpu']:>5.1f}s{m['cached cpu']:>7.1f}s")


if __name__ == "__main__":
    main()
