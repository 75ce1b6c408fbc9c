"""Benchmark: what OS isolation costs a render of a lesson with custom elements.

    .venv/bin/python bench/bench_isolation.py --runs 3

A lesson of SECTIONS sections, each drawing one custom element (locked code, trusted in a
private config folder), rendered cold (`lecture render -q low --voice none`, empty build
and render cache) in two ways within the same run of this script:

- isolated: as Lecture ships — the custom sections render in bwrap'd workers
  (runtime/isolation.py: namespaces, read-only file system, limits);
- baseline: the same build with the isolated pool's workers started without bwrap (the
  pool's `isolation` dropped), everything else identical.

Prints the median wall time of each and their ratio (the aim: ≤ 1.10). Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from lecture.agents.build_collaborators import build_collaborators
from lecture.agents.custom_elements import collect_custom_nodes
from lecture.agents.lockfile import LockEntry, LockFile, lock_path, rounded_box
from lecture.compiler import frontend
from lecture.runtime import pool as pool_mod
from lecture.runtime.build import RenderOptions, render_lesson
from lecture.runtime.trust import TrustStore

SECTIONS = 4
CODE = '''from manim import *
import numpy as np

def build(box):
    dots = VGroup(*[Dot(box.point(0.1 + 0.8 * i / 11, 0.5 + 0.35 * np.sin(i / 2)), color=BLUE)
                    for i in range(12)])
    frame = Rectangle(width=box.width * 0.9, height=box.height * 0.9).move_to(box.center)
    return VGroup(frame, dots), [Create(frame), LaggedStart(*[FadeIn(d) for d in dots])]
'''


def write_lesson(folder: Path) -> Path:
    body = ['lesson "Isolation benchmark"', ""]
    for i in range(SECTIONS):
        body += [f'section s{i} "Section {i}"', f'  line l{i} "Dots on a wave."',
                 f'  custom wave{i} in B2..E5 """Dots on a sine wave inside a frame."""',
                 f"  step 3s: say l{i}; play wave{i}", "  wait 1s", ""]
    path = folder / "bench.lecture"
    path.write_text("\n".join(body), encoding="utf-8")
    lesson = frontend.load_file(path).lesson
    lock = LockFile(lock_path(path))
    for n in collect_custom_nodes(lesson, base_dir=folder):
        lock.set(n.key, LockEntry(n.section, n.element, n.description, n.placement, rounded_box(n.box),
                                  n.theme.name, CODE, "bench", "2026-01-01T00:00:00Z", 1))
        TrustStore.default().trust_code(CODE)
    lock.save()
    return path


def render_once(path: Path, build: Path, *, isolated: bool) -> float:
    real_init = pool_mod.RenderPool.__init__

    def without_isolation(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        kwargs.pop("isolation", None)
        real_init(self, *args, **kwargs)

    patch = mock.patch.object(pool_mod.RenderPool, "__init__", without_isolation) if not isolated \
        else mock.patch.object(pool_mod.RenderPool, "__init__", real_init)
    with open(os.devnull, "w") as quiet, patch, mock.patch("sys.stdout", quiet):
        t = time.perf_counter()
        status = render_lesson(path, RenderOptions(quality="low", voice="none", build_root=build,
                                                   autofix=False), collaborators=build_collaborators())
        wall = time.perf_counter() - t
    if status != 0:
        sys.exit(f"render failed ({'isolated' if isolated else 'baseline'}): status {status}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lecture-bench-iso-") as tmp:
        root = Path(tmp)
        os.environ["LECTURE_CONFIG_DIR"] = str(root / "config")
        os.environ["LECTURE_CACHE_DIR"] = str(root / "user-cache")
        path = write_lesson(root)
        times: dict[str, list[float]] = {"baseline": [], "isolated": []}
        for run in range(args.runs):
            for mode in ("baseline", "isolated") if run % 2 == 0 else ("isolated", "baseline"):
                build = root / f"build-{mode}-{run}"
                times[mode].append(render_once(path, build, isolated=mode == "isolated"))
        base, iso = statistics.median(times["baseline"]), statistics.median(times["isolated"])
        print(f"lesson: {SECTIONS} sections, each with one custom element; cold renders, low quality, silent")
        print(f"{'mode':<10} {'median s':>9}  runs")
        for mode, values in times.items():
            print(f"{mode:<10} {statistics.median(values):>9.2f}  " + " ".join(f"{v:.2f}" for v in values))
        print(f"isolation overhead: {iso / base:.3f}x the unisolated render (aim <= 1.10)")


if __name__ == "__main__":
    main()
