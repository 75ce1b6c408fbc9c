"""Benchmark: Lecture's cached, parallel rendering against plain Manim.

    .venv/bin/python bench/bench_render.py                       # everything (slow)
    .venv/bin/python bench/bench_render.py --lessons derivative --runs 1 --quality low

Three measurements, each the median over --runs runs, with the ratios taken within the
same run of this script:

1. cold render of each lesson (empty build folder, empty render cache, empty TeX/text SVG
   cache) with `lecture render` at the default number of jobs, against plain `manim -a`
   rendering the same generated module in one process (a fresh media folder), at each
   quality. `ceiling` is what perfect parallelism could give the baseline on this machine:
   its wall time divided by (its CPU seconds / cores).
2. re-render of an unchanged lesson: `lecture render` again (everything cached), against
   plain Manim run again on the same media folder (its own partial-movie cache).
3. watch mode: time from writing an edit to the page's events, heard over /events: a one-step
   edit (the first section's second step lasts a second longer: that step is rendered, the
   steps after it are found in the cache) to its `still` (the step's last frame), its `step`
   (the step's video) and `updated` (the section's video); and a section edit (its title,
   which every step shows) to `still` and `updated`. Ratios: step edit / section edit / cold
   (the first build).

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MANIM = str(Path(PY).with_name("manim"))
QUALITY_FLAG = {"low": "l", "medium": "m", "high": "h", "4k": "k"}


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def timed(cmd: list[str], *, env: dict | None = None, cwd: str | Path | None = None) -> tuple[float, float]:
    """Run a command; returns (wall seconds, CPU seconds of it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    cp = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cp.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({cp.returncode}):\n"
                           f"{cp.stdout[-3000:]}\n{cp.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def generate_module(lesson: Path, quality: str, out: Path, env: dict) -> None:
    """The generated Manim module of a lesson (what plain Manim renders)."""
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from lecture.compiler import frontend\nfrom lecture.compiler.lower import compile_lesson\n"
        "from lecture.runtime.measure import ManimMeasurer\n"
        "from lecture.runtime.render import resolve_settings\n"
        "p = Path(sys.argv[1]); loaded = frontend.load_file(p)\n"
        "s = resolve_settings(sys.argv[2], loaded.lesson)\n"
        "m = compile_lesson(loaded.lesson, base_dir=p.resolve().parent, measurer=ManimMeasurer(),\n"
        "                   fps=s.fps)\n"
        "Path(sys.argv[3]).write_text(m.code)\n")
    subprocess.run([PY, "-c", code, str(lesson), quality, str(out)], env=env, check=True)


# What plain Manim needs besides the generated module: Lecture's formulas load xcolor and the
# lesson's colour names (runtime/tex_preamble.py) on top of Manim's TeX template. (Manim's
# --tex_template applies to the first scene of `-a` only, so every scene sets it up.)
BASELINE_TEX = """

from manim import TexTemplate as _TexTemplate
from lecture.runtime.tex_preamble import lesson_preamble as _lesson_preamble
_setup = LectureScene.setup


def _setup_with_preamble(self):
    template = _TexTemplate()
    template.add_to_preamble(_lesson_preamble())
    config.tex_template = template
    _setup(self)


LectureScene.setup = _setup_with_preamble
"""


def fresh_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["LECTURE_CACHE_DIR"] = str(tmp / "svg-cache")  # the compiler's TeX/text SVGs: cold
    return env


# ---------------------------------------------------------------- 1 and 2


def bench_render(lesson: Path, quality: str, runs: int, jobs: int | None, baseline: bool) -> dict:
    rows: dict[str, list[float]] = {k: [] for k in (
        "ours_cold", "ours_cold_cpu", "base_cold", "base_cold_cpu", "ours_warm", "base_warm")}
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="lecture-bench-") as d:
            tmp = Path(d)
            env = fresh_env(tmp)
            # silent, like the baseline: bench_narration.py measures what the voice adds
            cmd = [PY, "-m", "lecture", "render", str(lesson), "-q", quality,
                   "--build-dir", str(tmp / "build"), "--voice", "none"]
            if jobs:
                cmd = _with_jobs(lesson, quality, tmp, jobs)
            wall, cpu = timed(cmd, env=env)
            rows["ours_cold"].append(wall)
            rows["ours_cold_cpu"].append(cpu)
            wall, _ = timed(cmd, env=env)
            rows["ours_warm"].append(wall)
            if baseline:
                env_b = fresh_env(tmp / "b")
                module = tmp / "module" / f"{lesson.stem}_scenes.py"
                module.parent.mkdir(parents=True)
                generate_module(lesson, quality, module, env_b)
                module.write_text(module.read_text() + BASELINE_TEX)
                shutil.rmtree(tmp / "b", ignore_errors=True)  # cold for manim too
                bcmd = [MANIM, "render", "-a", "-q", QUALITY_FLAG[quality], "--media_dir",
                        str(tmp / "media"), "--progress_bar", "none", "-v", "WARNING", str(module)]
                wall, cpu = timed(bcmd, env=fresh_env(tmp / "b"), cwd=tmp)
                rows["base_cold"].append(wall)
                rows["base_cold_cpu"].append(cpu)
                wall, _ = timed(bcmd, env=fresh_env(tmp / "b"), cwd=tmp)
                rows["base_warm"].append(wall)
        print(f"  {lesson.stem} {quality} run {run + 1}: "
              + ", ".join(f"{k}={v[-1]:.2f}" for k, v in rows.items() if v), flush=True)
    return {k: statistics.median(v) for k, v in rows.items() if v}


def _with_jobs(lesson: Path, quality: str, tmp: Path, jobs: int) -> list[str]:
    code = ("import sys\nfrom pathlib import Path\n"
            "from lecture.runtime.build import RenderOptions, render_lessons\n"
            "sys.exit(render_lessons([Path(sys.argv[1])], RenderOptions(quality=sys.argv[2], "
            "build_root=Path(sys.argv[3]), jobs=int(sys.argv[4]), voice='none')))\n")
    return [PY, "-c", code, str(lesson), quality, str(tmp / "build"), str(jobs)]


# ---------------------------------------------------------------- 3


class SSE:
    def __init__(self, url: str) -> None:
        host, port = url.split("//", 1)[1].rstrip("/").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=600)
        self.conn.request("GET", "/events")
        self.resp = self.conn.getresponse()
        self.q: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = "message", []
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data:
                        self.q.put((time.perf_counter(), name, json.loads("\n".join(data))))
                    name, data = "message", []
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
        except OSError:
            pass

    def until(self, pred, timeout: float = 600) -> tuple[float, str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            t, name, data = self.q.get(timeout=max(0.1, deadline - time.monotonic()))
            if pred(name, data):
                return t, name, data


def bench_watch(lesson: Path, runs: int, jobs: int | None) -> dict:
    from lecture.runtime.watch import Watcher, WatchOptions

    with tempfile.TemporaryDirectory(prefix="lecture-bench-watch-") as d:
        tmp = Path(d)
        copy = tmp / lesson.name
        shutil.copy(lesson, copy)
        for extra in lesson.parent.iterdir():  # images next to the lesson
            if extra.suffix.lower() in (".png", ".jpg", ".jpeg", ".svg") and extra.is_file():
                shutil.copy(extra, tmp / extra.name)
        text = copy.read_text()
        w = Watcher(copy, WatchOptions(port=0, quality="low", jobs=jobs, build_root=tmp / "build"),
                    console=_Quiet())
        url = w.start()
        try:
            sse = SSE(url)
            t0 = time.perf_counter()
            sse.until(lambda n, d: n == "lesson")
            initial = time.perf_counter() - t0
            sid = re.search(r"^section (\S+)", text, re.M).group(1)
            rows: dict[str, list[float]] = {k: [] for k in (
                "step_still", "step_video", "step_updated", "still", "updated")}
            for run in range(runs):
                edited = _step_edit(text, run + 1)
                seen = _edit(sse, copy, edited, sid, ("still", "step", "updated"))
                for key, event in (("step_still", "still"), ("step_video", "step"),
                                   ("step_updated", "updated")):
                    rows[key].append(seen[event])
                time.sleep(0.5)
                copy.write_text(text)  # (back: its videos are cached)
                _edit(sse, copy, text, sid, ("updated",), wait=False)
                time.sleep(0.5)
                edited = re.sub(r'^(section \S+ "[^"]*)(")', rf"\1 ({run + 1})\2", text,
                                count=1, flags=re.M)
                seen = _edit(sse, copy, edited, sid, ("still", "updated"))
                rows["still"].append(seen["still"])
                rows["updated"].append(seen["updated"])
                print(f"  watch run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in rows.items()),
                      flush=True)
                copy.write_text(text)
                time.sleep(0.5)
        finally:
            w.stop()
    return {"initial": initial, **{k: statistics.median(v) for k, v in rows.items()}}


def _step_edit(text: str, run: int) -> str:
    """The first section's second step (its first when it has one), `run` seconds longer."""
    first = re.search(r"^section ", text, re.M)
    assert first is not None
    nxt = re.search(r"^section ", text[first.end():], re.M)
    end = first.end() + nxt.start() if nxt else len(text)
    steps = list(re.finditer(r"^(\s+step )([0-9.]+)s", text[first.start():end], re.M))
    assert steps, "the first section has no step"
    m = steps[1] if len(steps) > 1 else steps[0]
    at = first.start() + m.start(2)
    seconds = float(m.group(2)) + run
    return text[:at] + f"{seconds:g}" + text[first.start() + m.end(2):]


def _edit(sse: SSE, path: Path, text: str, sid: str, events: tuple[str, ...], *,
          wait: bool = True) -> dict[str, float]:
    """Write `text` and wait for each of `events` of section `sid`; seconds from the write."""
    t = time.perf_counter()
    path.write_text(text)
    seen: dict[str, float] = {}
    deadline = time.monotonic() + (600 if wait else 60)
    while len(seen) < len(events) and time.monotonic() < deadline:
        try:
            te, name, _ = sse.until(lambda n, d: n in events and d.get("id") == sid,
                                    timeout=max(deadline - time.monotonic(), 0.1))
        except queue.Empty:
            break
        seen.setdefault(name, te - t)
    return seen


class _Quiet:
    def print(self, *a, **k) -> None:
        pass


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lessons", default="", help="comma-separated example names (default: all)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quality", default="low,high", help="comma-separated: low,medium,high,4k")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    ap.add_argument("--no-baseline", action="store_true", help="skip plain manim")
    ap.add_argument("--no-watch", action="store_true", help="skip the watch-mode latency")
    ap.add_argument("--no-render", action="store_true", help="skip measurements 1 and 2")
    args = ap.parse_args(argv)

    names = [n.strip() for n in args.lessons.split(",") if n.strip()]
    lessons = sorted((ROOT / "examples").glob("*.lecture"))
    if names:
        lessons = [p for p in lessons if p.stem in names]
    if not lessons:
        print("no lessons to benchmark", file=sys.stderr)
        return 2
    qualities = [q.strip() for q in args.quality.split(",") if q.strip()]
    n = cores()
    print(f"# {n} cores, jobs={args.jobs or n}, runs={args.runs}, lessons: "
          + ", ".join(p.stem for p in lessons), flush=True)

    results = []
    if not args.no_render:
        for q in qualities:
            for lesson in lessons:
                results.append((lesson.stem, q, bench_render(lesson, q, args.runs, args.jobs,
                                                              not args.no_baseline)))
    watch = {}
    if not args.no_watch:
        for lesson in lessons:
            watch[lesson.stem] = bench_watch(lesson, args.runs, args.jobs)

    if results:
        print("\n## 1. cold render (median seconds)")
        print(f"{'lesson':16} {'quality':8} {'lecture':>9} {'manim':>9} {'speedup':>8} "
              f"{'ceiling':>8} {'of ceiling':>10} {'lecture cpu':>12} {'manim cpu':>10}")
        for name, q, r in results:
            base = r.get("base_cold")
            speed = f"{base / r['ours_cold']:.2f}x" if base else "-"
            ceiling = f"{base / (r['base_cold_cpu'] / n):.2f}x" if base else "-"
            share = f"{(base / r['ours_cold']) / (base / (r['base_cold_cpu'] / n)):.0%}" if base else "-"
            print(f"{name:16} {q:8} {r['ours_cold']:9.2f} {base or float('nan'):9.2f} {speed:>8} "
                  f"{ceiling:>8} {share:>10} {r['ours_cold_cpu']:12.2f} "
                  f"{r.get('base_cold_cpu', float('nan')):10.2f}")
        print("\n## 2. re-render of an unchanged lesson (median seconds)")
        print(f"{'lesson':16} {'quality':8} {'lecture':>9} {'manim':>9} {'speedup':>8}")
        for name, q, r in results:
            base = r.get("base_warm")
            speed = f"{base / r['ours_warm']:.1f}x" if base else "-"
            print(f"{name:16} {q:8} {r['ours_warm']:9.2f} {base or float('nan'):9.2f} {speed:>8}")
    if watch:
        print("\n## 3. watch mode, low quality (median seconds from the write)")
        print(f"{'lesson':16} {'first build':>12} {'step->still':>12} {'step->video':>12} "
              f"{'step->section':>14} {'section->still':>15} {'section->video':>15} {'step/section':>13} "
              f"{'step/cold':>10}")
        for name, r in watch.items():
            print(f"{name:16} {r['initial']:12.2f} {r['step_still']:12.2f} {r['step_video']:12.2f} "
                  f"{r['step_updated']:14.2f} {r['still']:15.2f} {r['updated']:15.2f} "
                  f"{r['step_video'] / r['updated']:13.2f} {r['step_video'] / r['initial']:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
