"""Auto-fix inside `lecture render`: a node that fails is repaired at its own scope (here a
formula LaTeX rejects becomes plain text), its section is compiled and rendered again,
the other section is left as it was, the repair is a warning at the node's line and is
recorded in the manifest."""

import json
import subprocess
import sys

LESSON = r"""lesson "Autofix"

section a "Good"
  line l1 "Fine."
  circle c at B2
  step 1s: create c

section b "Bad formula"
  line l2 "Broken."
  math eq $\mathscr{x}$ at C3
  step 1s: write eq
"""


def test_a_failing_formula_is_repaired_and_the_lesson_assembled(tmp_path):
    (tmp_path / "af.lecture").write_text(LESSON, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "lecture", "render", "af.lecture", "-q", "low",
                          "--voice", "none"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Traceback" not in out
    # at the formula, with TeX's own line
    assert ("af.lecture:10:11: error: cannot build math 'eq': LaTeX error: ! Undefined control sequence."
            in out)
    assert "af.lecture:10:3: warning: LaTeX could not typeset formula 'eq'; it is shown as plain text" in out
    man = json.loads((tmp_path / "build" / "af" / "manifest.json").read_text())
    assert man["status"] == "ok" and (tmp_path / "build" / "af" / "lesson.mp4").is_file()
    [repair] = man["repairs"]
    assert (repair["section"], repair["element"], repair["action"], repair["ok"]) == \
        ("b", "eq", "math-as-text", True)
    code = (tmp_path / "build" / "af" / "lesson_scenes.py").read_text()
    assert "eq = text_block(" in code and "mathscr" not in code and "MathTex" not in code  # readable
