"""Benchmark: `lecture check` with layout, cold and warm, against the path it replaced.

    .venv/bin/python bench/bench_check.py                        # every example
    .venv/bin/python bench/bench_check.py --lessons derivative,pythagoras --runs 3

For each lesson, in one run (medians over --runs; each cold figure a fresh process):
- old: the check as it was before the warm checker (front end, narration, then
  agents.critic.run_check_findings: the lesson compiled on Manim and every scene dry-run), in a
  fresh process;
- cold, empty cache: `lecture check FILE` in a fresh process with an empty check store (it
  builds everything and fills the store; typeset formulas stay cached, as for "old");
- cold: `lecture check FILE` in a fresh process, the lesson unchanged since the last check
  (target: 2 s);
- cold, 1 line: the same after a one-line edit (an element of a late section recoloured);
- warm: `WarmChecker.check` of the unchanged text again, in the process that checked it
  (the watch process, the language server) (target: 0.2 s);
- warm, 1 line: the same for the one-line edit (target: 0.2 s).
Ratios are old / figure. The narration is checked as `lecture check` checks it (its speech is
put in the speech cache before timing starts, as on any machine that has checked the lesson
once). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("old", "empty", "cold", "cold1", "warm", "warm1")

OLD_CHECK = """
import sys
from pathlib import Path
from lecture.compiler import frontend
from lecture.compiler.diagnostics import DiagnosticError
path, build = Path(sys.argv[1]), Path(sys.argv[2])
loaded = frontend.load_file(path)
try:
    from lecture.runtime.soundtrack import check_narration
    check_narration(loaded.lesson, voice=None, strict=False, build_root=build)
    from lecture.agents.critic import run_check_findings
    run_check_findings(loaded, base_dir=path.resolve().parent)
except DiagnosticError:
    pass
"""


def one_line_edit(text: str) -> str:
    """The text with one line changed: the first element drawn in a named colour in the last
    section that has one gets another colour (the narration, spoken and cached, is unchanged)."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"\s*section\b", line)]
    for start, end in reversed(list(zip(starts, [*starts[1:], len(lines)], strict=True))):
        for i in range(start + 1, end):
            m = re.search(r"\bcolor=(\w+)", lines[i])
            if m and not re.match(r"\s*(line|say|step|wait)\b", lines[i]):
                other = "orange" if m[1] != "orange" else "yellow"
                lines[i] = lines[i][:m.start(1)] + other + lines[i][m.end(1):]
                return "".join(lines)
    raise ValueError("no element drawn in a named colour")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (this process's and its children's: a busy machine
    stretches the first, hardly the second)."""
    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    t0, c0 = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - t0, cpu() - c0


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> None:
    """(Run in the lesson's folder, not the checkout: with PYTHONPATH pointing at a copy of the
    package, that copy is what runs.)"""
    done = subprocess.run(cmd, check=False, capture_output=True, env=env, cwd=cwd)
    if done.returncode not in (0, 2):  # (2: the lesson has errors, a check's answer)
        raise SystemExit(f"{' '.join(cmd[:4])}… failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")


def entries(cache: Path) -> int:
    """Entries in the check store (a cold check that wrote some missed: see the note)."""
    return sum(1 for _ in cache.glob("check/*/*/*/*.json"))


def bench_lesson(name: str, runs: int, work: Path) -> dict[str, tuple[float, float]]:
    from lecture.agents.warm_check import CheckOptions, WarmChecker
    from lecture.runtime.check_store import CheckStore

    lesson = work / f"{name}.lecture"
    original = (ROOT / "examples" / f"{name}.lecture").read_text(encoding="utf-8")
    for extra in (ROOT / "examples").iterdir():  # the images the lessons show
        if extra.suffix != ".lecture":
            shutil.copy(extra, work / extra.name)
    edited = one_line_edit(original)
    build = work / "build"
    cache = work / "cache"
    env = {**os.environ, "LECTURE_CACHE_DIR": str(cache)}
    check = [sys.executable, "-m", "lecture", "check", str(lesson), "--build-dir", str(build)]
    lesson.write_text(original, encoding="utf-8")
    run(check, env, work)  # the speech cache filled (and the check cache): not timed
    figures: dict[str, list[tuple[float, float]]] = {k: [] for k in COLUMNS}
    missed = False
    for _ in range(runs):
        lesson.write_text(original, encoding="utf-8")
        old = [sys.executable, "-c", OLD_CHECK, str(lesson), str(build)]
        figures["old"].append(timed(lambda: run(old, env, work)))  # noqa: B023 (called at once)
        shutil.rmtree(cache / "check", ignore_errors=True)  # (typeset formulas stay)
        figures["empty"].append(timed(lambda: run(check, env, work)))
        filled = entries(cache)
        figures["cold"].append(timed(lambda: run(check, env, work)))
        missed |= entries(cache) != filled  # Lecture's sources changed meanwhile: another key
        lesson.write_text(edited, encoding="utf-8")
        figures["cold1"].append(timed(lambda: run(check, env, work)))
        # warm: one process checks the lesson, then the same text, then the edit
        os.environ["LECTURE_CACHE_DIR"] = str(cache)
        shutil.rmtree(cache / "check", ignore_errors=True)  # (typeset formulas stay)
        checker = WarmChecker(CheckOptions(build_root=build), store=CheckStore.default())
        checker.check(original, lesson)
        figures["warm"].append(timed(lambda: checker.check(original, lesson)))  # noqa: B023
        figures["warm1"].append(timed(lambda: checker.check(edited, lesson)))  # noqa: B023
    if missed:
        print(f"note: {name}: a cold check missed the cache (Lecture's sources changed during the run)")
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
            for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lessons", default="", help="comma-separated example names (default: all)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    names = [n for n in args.lessons.split(",") if n] or sorted(
        p.stem for p in (ROOT / "examples").glob("*.lecture"))
    heads = ("old", "cold empty", "cold", "cold 1 line", "warm", "warm 1 line")
    print("wall seconds (CPU seconds); ratios: old / cold, old / warm, old / warm 1 line")
    print(f"{'lesson':<24}" + "".join(f"{h:>16}" for h in heads) + "   ratios")
    for name in names:
        with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
            f = bench_lesson(name, args.runs, Path(tmp))
        old = f["old"][0]
        ratios = f"{old / f['cold'][0]:.1f}x {old / f['warm'][0]:.0f}x {old / f['warm1'][0]:.1f}x"
        cells = "".join(f"{f'{f[c][0]:.2f} ({f[c][1]:.2f})':>16}" for c in COLUMNS)
        print(f"{name:<24}{cells}   {ratios}", flush=True)


if __name__ == "__main__":
    main()
