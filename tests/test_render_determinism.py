"""The same lesson renders to the same frames in every process: a cached render, a unit joined
into a section, or a cluster's render may stand in for one made here only if rendering is a
function of its inputs. Python seeds its string hashing per process, and Manim iterates sets of
strings (TransformMatchingTex pairs a formula's parts through one), so the render workers run
with one fixed seed whatever the user's environment says."""

import os
import subprocess
import sys
from pathlib import Path

from test_step_units import _framemd5

# Two formulas with coloured terms: `transform` carries the terms matched by their TeX. Under
# hash seeds 1 and 4 the parts were paired in different orders and frames differed.
LEFT = r"\textcolor{green}{3^2} + \textcolor{orange}{4^2}"
LESSON = r'''lesson "Hash order"

section a "Sums"
  math sum34 $LEFT = \textcolor{green}{9} + \textcolor{orange}{16}$ in A1..C6
  math sum25 $LEFT = 25$ in A1..C6
  step 1s: write sum34
  step 2s: transform sum34 into sum25
'''.replace("LEFT", LEFT)


def _render(lesson: Path, build: Path, seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    run = subprocess.run([sys.executable, "-m", "lecture", "render", str(lesson), "-q", "low",
                          "--voice", "none", "--build-dir", str(build)],
                         cwd=lesson.parent, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return _framemd5(build / lesson.stem / "lesson.mp4")


def test_a_render_does_not_depend_on_the_callers_hash_seed(tmp_path):
    lesson = tmp_path / "sums.lecture"
    lesson.write_text(LESSON, encoding="utf-8")
    first = _render(lesson, tmp_path / "one", "1")
    second = _render(lesson, tmp_path / "four", "4")
    assert len(first) == 45  # 3 s at 15 fps
    assert first == second
