"""What `lecture check` passes is what the video shows (issue 14): TeX typesets a formula as
written or check says why, with TeX's own line, at the formula, exactly as render says it;
check knows the narration's timing (the same narrator, cache and findings as render), its
numbers agree with what the video plays, and narration over a still picture is dead air.

The lessons are tiny; the speech is spoken once per module into a shared build folder (its
`.speech-cache`, as render keeps it), so later runs read it back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lecture.compiler.frontend import load_text
from lecture.runtime.dead_air import DEAD_AIR_SECONDS, step_motion
from lecture.runtime.step_time import MAX_ANIMATION_SECONDS, QUICK
from lecture.runtime.step_timing import narrator_for, plan_narration

from lecture.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """`lecture ARGV` in this process: its exit status and everything it printed."""
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out + out.err


# ---------------------------------------------------------------- case 4: TeX's silent recovery

TEX_LESSON = 'lesson "TeX"\n\nsection s "S"\n  math f {formula} at B2\n  step 1s: write f\n'


@pytest.mark.parametrize("formula, tex_says, hint", [
    (r"$\frac{a}{b$", r"! File ended while scanning use of \align*.", "2 `{` but 1 `}`"),
    (r"$\frac{a}{b}}$", r"! Argument of \align* has an extra }.", "3 `}` but 2 `{`"),
    (r"$\left( x$", r"! Extra }, or forgotten \right.", "every \\left needs a \\right"),
    (r"$x_1_2$", r"! Double subscript.", "check the formula's braces and commands"),  # refused before too
])
def test_a_formula_tex_would_repair_is_an_error_at_the_formula_with_tex_s_own_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], formula: str, tex_says: str, hint: str) -> None:
    lesson = tmp_path / "t.lecture"
    lesson.write_text(TEX_LESSON.format(formula=formula), encoding="utf-8")
    status, out = _run(capsys, "check", "--strict", "--no-narration", str(lesson))
    assert status == 2, out
    # at the formula (line 4, its `$` at column 10), TeX's own line, the excerpt underlined
    assert f"{lesson}:4:10: error: cannot build math 'f': LaTeX error: {tex_says}\n" in out
    assert f"    4 |   math f {formula} at B2\n" in out
    assert "      |          " + "^" * len(formula) + "\n" in out
    assert re.search(rf"^  hint: .*{re.escape(hint)}", out, re.M), out
    # no log mentioned that is not there: no log at all
    assert "log" not in out.replace("lesson", "")
    assert f"{lesson}: 1 error" in out


def test_render_says_the_same_as_check_and_keeps_the_log_it_names(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lesson = tmp_path / "t.lecture"
    lesson.write_text(TEX_LESSON.format(formula=r"$\frac{a}{b$"), encoding="utf-8")
    _, checked = _run(capsys, "check", "--no-narration", str(lesson))
    status, rendered = _run(capsys, "render", str(lesson), "-q", "low", "--voice", "none", "--no-autofix",
                            "--build-dir", str(tmp_path / "build"))
    assert status != 0
    diagnostic = checked[:checked.index(f"{lesson}: 1 error")]
    assert diagnostic.startswith(f"{lesson}:4:10: error: ") and diagnostic in rendered
    logs = re.findall(r"log: (\S+)", rendered)
    assert logs and all(Path(log).is_file() and Path(log).is_relative_to(tmp_path / "build") for log in logs)


def test_a_formula_as_written_still_typesets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lesson = tmp_path / "t.lecture"
    lesson.write_text(TEX_LESSON.format(formula=r"$\frac{a}{b} + \left( x \right) + \{y\}$"),
                      encoding="utf-8")
    status, out = _run(capsys, "check", "--strict", "--no-narration", str(lesson))
    assert status == 0 and f"{lesson}: no problems" in out, out


# ---------------------------------------------------------------- case 5: narration timing in check

SQUARE = ("A square appears while I speak. It takes a moment to draw, and then it stays on the screen "
          "for us to look at. Look closely now.")
NOTHING = ("Nothing appears while I speak. Nothing moves on the screen, and it stays like that for us "
           "to look at. Look closely now.")  # about 7 s, as SQUARE
NARRATED = f'''\
lesson "Narrated"

section intro "Hello"
  line l1 "A circle."
  circle c at B2 color=blue
  square s at C4 color=red
  step 2s: say l1; create c
  step 1s: say "This sentence is much too long to be spoken in one second."
  step 8s:
    say "{SQUARE}"
    create s
  step 8s:
    say "{NOTHING}"
'''
# line 8: the overrun; line 12: dead air (line 9 speaks as long, but a square is drawn)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build folder for the module: its speech cache is filled once."""
    return tmp_path_factory.mktemp("build")


@pytest.fixture
def narrated(tmp_path: Path) -> Path:
    path = tmp_path / "n.lecture"
    path.write_text(NARRATED, encoding="utf-8")
    return path


def test_check_strict_reports_the_narration_as_render_strict_does(
        narrated: Path, build_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checked = _run(capsys, "check", "--strict", "--no-layout", "--build-dir", str(build_dir),
                           str(narrated))
    assert status == 2, checked
    found = re.findall(rf"^{re.escape(str(narrated))}:(\d+):(\d+): (\w+): (.*)$", checked, re.M)
    assert [(line, col, severity) for line, col, severity, _ in found] == [
        ("8", "3", "error"), ("12", "3", "error")], checked
    assert re.fullmatch(r"narration needs \d+(\.\d)? s, step declares 1 s", found[0][3])
    assert found[1][3].startswith("the narration speaks for 7.")
    assert "over a still picture (nothing moves in this step; more than 6 s is dead air)" in found[1][3]
    assert "  hint: split the step into shorter steps" in checked and "`indicate` or a `highlight`" in checked
    assert list((build_dir / ".speech-cache").rglob("*.wav"))  # where render keeps its speech

    status, rendered = _run(capsys, "render", "--strict", "-q", "low", "--build-dir", str(build_dir),
                            str(narrated))
    assert status == 2
    assert checked[:checked.rindex(f"{narrated}: 2 errors")] in rendered

    # without --strict: the same findings, as warnings; --no-narration: none of them
    status, out = _run(capsys, "check", "--no-layout", "--build-dir", str(build_dir), str(narrated))
    assert status == 0 and f"{narrated}: 2 warnings" in out and ":8:3: warning: narration needs" in out
    status, out = _run(capsys, "check", "--strict", "--no-layout", "--no-narration", str(narrated))
    assert status == 0 and f"{narrated}: no problems" in out, out


def test_the_overrun_says_one_number_and_the_video_plays_it(
        narrated: Path, build_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _run(capsys, "check", "--no-layout", "--build-dir", str(build_dir), str(narrated))
    needs = re.search(r"narration needs (\S+) s, step declares 1 s", out)
    lasts = re.search(r"hint: the step will last (\S+) s; shorten the narration or declare `step (\S+)s`",
                      out)
    assert needs and lasts, out
    assert needs[1] == lasts[1] == lasts[2] and re.fullmatch(r"\d+\.\d", needs[1])

    loaded = load_text(NARRATED, str(narrated))
    narrator, _ = narrator_for(loaded.lesson, cache_dir=build_dir / ".speech-cache")
    assert narrator is not None
    plan = plan_narration(loaded.lesson, narrator)
    assert plan.synthesized == 0  # check spoke it already: all from the cache
    assert plan.lesson.sections[0].steps[1].seconds == float(needs[1])  # what the scene plays
    assert [s.seconds for s in plan.lesson.sections[0].steps[2:]] == [8.0, 8.0]


def test_without_a_voice_check_times_the_narration_by_an_estimate_and_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "n.lecture"
    path.write_text(NARRATED.replace('lesson "Narrated"\n', 'lesson "Narrated"\n  voice: openai\n'),
                    encoding="utf-8")
    status, out = _run(capsys, "check", "--strict", "--no-layout", "--build-dir", str(tmp_path / "b"),
                       str(path))
    assert status == 2, out
    assert re.search(rf"{re.escape(str(path))}:9:3: error: narration needs \d+(\.\d)? s, step declares 1 s "
                     r"\(an estimate: this machine cannot speak the narration\)", out), out
    assert ":13:3: error: the narration speaks for" in out
    assert "(narration timed by an estimate: the openai voice has no endpoint configured)" in out


# ---------------------------------------------------------------- the dead-air rule


def _steps(body: str):
    lesson = load_text('lesson "T"\n\nsection s "S"\n  line l1 "One."\n  line l2 "Two."\n'
                       '  circle c at B2\n  square q at B4\n  custom k at C4 "a spinning wheel"\n' + body,
                       "t.lecture").lesson
    return lesson.sections[0]


def test_the_picture_moves_as_the_scene_plays_the_step() -> None:
    section = _steps("  step 9s: say l1\n  step 9s: say l1\n  step 9s: highlight l2; create c, q\n"
                     "  step 1s: fade out c\n  step 9s: play k\n  step 9s: remove q\n"
                     "  step 9s: say \"Hm.\"\n  step 9s: fade in c; indicate c\n"
                     "  step 4s: indicate c, k; fade out c\n")
    highlighted = None
    moving = []
    for step in section.steps:
        motion = step_motion(step, section, highlighted)
        highlighted = motion.highlighted
        moving.append(motion.seconds)
    # a line is highlighted quickly, and only when it is not the highlighted line already;
    # an animation runs its capped time (never past the step), a custom element's the whole
    # step; a removal moves nothing, nor does narration alone; actions on one element play one
    # after another (here never past the step)
    assert moving == [QUICK, 0.0, MAX_ANIMATION_SECONDS, 1.0, 9.0, 0.0, 0.0, 2 * MAX_ANIMATION_SECONDS, 4.0]
    assert highlighted == "l2"
    assert DEAD_AIR_SECONDS == 6.0
