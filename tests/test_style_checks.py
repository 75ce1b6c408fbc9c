"""The style guide's checked rules (compiler/style_checks.py): mixed label styles for one shape,
ids in the narration, and notes whose size jumps across a transform (measured on the real
mobjects). Each has lessons that break it, at an exact line:col with its hint, and lessons
that keep it and get no diagnostic at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import diagnose, lesson
from lecture.agents.critic import check_lesson
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.findings import SectionView, StepView, rect_footprint, to_diagnostics
from lecture.compiler.frontend import load_text
from lecture.compiler.layout import Box
from lecture.compiler.style_checks import is_id_like, note_size_findings

STYLE_CODES = {"mixed-label-style", "narration-names-id"}


def style_of(text: str) -> list:
    return [d for d in diagnose(text) if d.code in STYLE_CODES]


def only(text: str, code: str):
    found = [d for d in diagnose(text) if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in diagnose(text)]
    return found[0]


# ------------------------------------------------------------------ mixed-label-style

TRIANGLE = 'polygon tri (0, 0) (4, 0) (0, 3) in B2..E5\n'


def test_a_brace_among_labels_is_the_odd_one_out():
    text = lesson(TRIANGLE + 'label side_a "a" left of tri\nbrace side_b "b" below tri\n'
                  'label side_c "c" right of tri\nstep 1s: create tri, side_a, side_b, side_c')
    d = only(text, "mixed-label-style")
    assert (d.span.line, d.span.column, d.span.end_column) == (5, 3, 8)  # `brace` underlined
    assert d.severity == "warning"
    assert d.message == ("'side_b' names a part of 'tri' with a brace, while 'side_a' and 'side_c' are "
                         "labels: the sides and corners of one shape are named in one style")
    assert d.hint == 'write it as the others are written: label side_b "b" below tri'
    with pytest.raises(DiagnosticError) as info:  # check --strict fails on it
        load_text(text, "t.lecture", strict=True)
    assert [(e.severity, e.code) for e in info.value.diagnostics] == [("error", "mixed-label-style")]


def test_a_formula_among_labels_and_a_label_among_formulas():
    formula = only(lesson(TRIANGLE + 'label side_a "a" left of tri\nlabel side_b "b" below tri\n'
                          'math side_c $c$ right of tri\nstep 1s: create tri, side_a, side_b, side_c'),
                   "mixed-label-style")
    assert formula.span.line == 6 and "with a formula" in formula.message
    assert formula.hint.endswith('label side_c "c" right of tri')
    label = only(lesson(TRIANGLE + 'label side_a "a" left of tri\nmath side_b $b$ below tri\n'
                        'math side_c $c$ right of tri\nstep 1s: create tri, side_a, side_b, side_c'),
                 "mixed-label-style")
    assert label.span.line == 4 and "while 'side_b' and 'side_c' are formulas" in label.message
    assert label.hint.endswith("math side_a $a$ left of tri")


def test_on_a_tie_the_first_name_sets_the_style_and_plain_text_counts_as_a_style():
    d = only(lesson(TRIANGLE + 'text side_a "a" left of tri\nlabel side_b "b" below tri\n'
                    "step 1s: create tri, side_a, side_b"), "mixed-label-style")
    assert d.span.line == 5 and d.message.startswith("'side_b' names a part of 'tri' with a label, while "
                                                     "'side_a' is a plain text")
    assert d.hint.endswith('text side_b "b" below tri')


def test_corners_count_and_the_hint_writes_the_string_as_a_lesson_does():
    d = only(lesson(TRIANGLE + 'label A "A" left of tri\nlabel B "B" below tri\nlabel C "C" right of tri\n'
                    'math root $\\sqrt{2}$ above tri\nstep 1s: create tri, A, B, C, root'),
             "mixed-label-style")
    assert "while 'A', 'B' and 'C' are labels" in d.message
    assert d.hint.endswith('label root "\\\\sqrt{2}" above tri')  # a backslash is escaped in "…"


def test_one_style_and_what_is_no_name_pass():
    text = lesson(TRIANGLE + (
        'label side_a "a" left of tri\n'
        'label side_b $b$ below tri\n'            # $…$ in a label is still drawn as a label
        'label side_c "c" right of tri\n'
        'text area "Area = 6" above tri\n'        # a statement beside it: a caption, not a name
        'math rule $\\tfrac{1}{2} \\cdot 4 \\cdot 3$ next to side_c\n'  # beside a label, not the shape
        'angle th on tri corner=2 label="θ"\n'    # a mark, not a name
        'brace span below side_b\n'               # a brace without a label names nothing
        'table t at F5:\n  "x" "y"\n'
        'label tx "x" above t\n'                  # a table is no shape
        'math ty $y$ below t\n'
        'step 1s: create tri, side_a, side_b, side_c, area, rule, th, span, t, tx, ty'))
    assert style_of(text) == []


# ------------------------------------------------------------------ narration-names-id


def test_an_id_the_step_shows_is_named_in_words():
    text = lesson('square sq_a at B2\nstep 1s: say "Look at sq_a, the green square."; create sq_a')
    d = only(text, "narration-names-id")
    assert (d.span.line, d.span.column, d.span.end_column) == (4, 25, 29)
    assert d.message == ("the narration says 'sq_a', the id of a square: ids are names in the file, "
                         "not words for a listener")
    assert d.hint == ("name the square as the class sees it (what it shows, its colour, where it is), "
                      "not by its id 'sq_a'")
    with pytest.raises(DiagnosticError):
        load_text(text, "t.lecture", strict=True)


def test_an_id_the_step_does_not_touch_says_so():
    d = only(lesson('square sq_a at B2\ncircle c at B4\nstep 1s: create sq_a\n'
                    'step 1s: say "Meanwhile sq_a stays."; create c'), "narration-names-id")
    assert (d.span.line, d.span.column) == (6, 27)
    assert d.message == ("the narration says 'sq_a', the id of a square that this step neither shows "
                         "nor acts on")
    assert d.hint == ("name the square in words, and show or mark it as the sentence speaks of it "
                      "(e.g. indicate sq_a), or leave it out of this sentence")


def test_a_lecture_line_id_in_the_narration():
    d = only(lesson('line l1 "A square."\nline l2 "Its side."\nsquare sq at B2\n'
                    'step 1s: say l1 "See l2 on the left."; create sq\nstep 1s: say l2 "Its side."'),
             "narration-names-id")
    assert (d.span.line, d.span.column) == (6, 24)
    assert "the id of a lecture line" in d.message
    assert "`say l2 \"…\"`" in d.hint


def test_acting_on_a_group_acts_on_its_members():
    d = only(lesson('square sq_a at B2\ncircle c at B4\ngroup g of sq_a, c in B1..C3\n'
                    'step 1s: say "Here is sq_a."; create g'), "narration-names-id")
    assert "neither shows nor acts on" not in d.message


def test_a_string_with_escapes_is_underlined_whole():
    d = only(lesson('square sq_a at B2\nstep 1s: say "He said \\"sq_a\\"."; create sq_a'),
             "narration-names-id")
    assert (d.span.column, d.span.end_column) == (16, 35)  # the whole "…", quotes included


def test_words_that_are_ids_and_ids_that_are_formulas_pass():
    text = lesson(
        'line l1 "The triangle."\n'
        'polygon tri (0, 0) (4, 0) (0, 3) in B2..E5\nlabel a "a" left of tri\n'
        'label area "6" above tri\nmath sum $3 + 4$ at F5\ntext CO2 "CO2" at A6\nvalue x0 = 1\n'
        'step 1s: say l1 "This tri has side a; its area and the sum of sides grow like CO2."; '
        "create tri, a, area, sum, CO2\n"
        'step 1s: say "The box0 and x01 are no ids here, nor is X0."; change x0 to 2')
    assert style_of(text) == []


@pytest.mark.parametrize("name, spoken", [
    ("sq_a", False), ("l2", False), ("x0", False), ("sideA", False), ("_t", False),
    ("tri", True), ("a", True), ("area", True), ("Sum", True), ("CO2", True), ("H2O", True),
    ("B12", True), ("ABC", True)])
def test_which_ids_a_sentence_may_hold_as_words(name, spoken):
    assert is_id_like(name) is not spoken


# ------------------------------------------------------------------ note-size-changes

NOTES = '''lesson "Notes"
section jumps "Notes of different lengths"
  text note0 "15 < 42: right" in F1..F3
  text note1 "31 < 42: still to the right of the middle, so look further on" in F1..F3
  math m1 $a + b$ at C3
  math m2 $a + b + c$ at C3 font_size=24
  step 1s: write note0; write m1
  step 1s: transform note0 into note1; transform m1 into m2
section steady "Notes of one length"
  text n0 "15 < 42: look right" in F1..F3
  text n1 "31 < 42: still right" in F1..F3
  text far "a note far away, with many more words in it" in A4..A4
  square sq at C3
  text inside "x" at C3
  step 1s: write n0; create sq
  step 1s: transform n0 into n1; transform sq into inside
  step 1s: transform n1 into far
'''


@pytest.fixture(scope="module")
def notes():
    loaded = load_text(NOTES, "t.lecture")
    assert [d.code for d in loaded.diagnostics] == []
    return loaded, check_lesson(loaded.lesson, Path(".")).findings


def test_a_note_that_shrinks_across_a_transform_is_found(notes):
    _, findings = notes
    jumps = {f.element: f for f in findings if f.code == "note-size-changes"}
    assert set(jumps) == {"note1", "m2"}  # nothing in the section of one length
    f = jumps["note1"]
    assert (f.other, f.section, f.step, f.step_line, f.span.line) == ("note0", "jumps", 2, 8, 4)
    assert f.message.startswith("'note1' is drawn ")
    assert "% smaller than 'note0', which it replaces" in f.message
    assert f.message.endswith("the note jumps in size")
    assert "about the same length" in f.hint
    assert jumps["m2"].hint == ("give both the same font_size= ('m1' has the default size of a formula, "
                                "'m2' font_size=24), small enough that the longer fits its place")


def test_it_is_a_layout_diagnostic_that_strict_makes_an_error(notes):
    _, findings = notes
    found = [d for d in to_diagnostics(findings) if d.code == "layout-note-size-changes"]
    assert [(d.severity, d.span.line, d.span.column) for d in found] == [("warning", 4, 3), ("warning", 6, 3)]
    assert "in step 2 (line 8)" in found[0].message
    strict = [d for d in to_diagnostics(findings, strict=True) if d.code == "layout-note-size-changes"]
    assert {d.severity for d in strict} == {"error"}


def _view(before: float, after: float, *, shift: float = 0.0) -> list[SectionView]:
    """Two steps of a hand-made view: 'a' with capitals `before` units tall, then 'b' (shifted
    right by `shift`) at `after`."""
    section = load_text(lesson('text a "x" at C3\ntext b "y" at C3\nstep 1s: write a\n'
                               "step 1s: transform a into b")).lesson.sections[0]
    box = Box(0.0, 0.0, 2.0, 0.5)
    moved = Box(shift, 0.0, 2.0, 0.5)
    steps = (StepView(1, section.steps[0].span, (rect_footprint("a", "text", box, cap_height=before),)),
             StepView(2, section.steps[1].span, (rect_footprint("b", "text", moved, cap_height=after),)))
    return [SectionView(section, steps, "#000000")]


def test_the_tolerance_is_fifteen_percent_either_way():
    assert note_size_findings(_view(0.2, 0.2 * 0.86)) == []
    assert note_size_findings(_view(0.2 * 0.86, 0.2)) == []
    assert [f.element for f in note_size_findings(_view(0.2, 0.2 * 0.84))] == ["b"]
    larger = note_size_findings(_view(0.2 * 0.84, 0.2))
    assert "% larger than 'a'" in larger[0].message
    assert note_size_findings(_view(0.2, 0.1, shift=3.0)) == []  # drawn elsewhere: not one note


# ------------------------------------------------------------------ `lecture check` as a teacher runs it


def _check_strict(path: Path) -> tuple[set[tuple[str, int, str]], int]:
    env = {k: v for k, v in os.environ.items() if k != "LECTURE_DEBUG"}
    result = subprocess.run([sys.executable, "-m", "lecture", "check", "--strict", "--no-narration",
                             "--format", "json", str(path)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert "Traceback" not in result.stderr
    return {(d["code"], d["line"], d["severity"]) for d in json.loads(result.stdout)}, result.returncode


def test_lecture_check_strict_fails_on_each_rule(tmp_path):
    read = tmp_path / "read.lecture"  # found when the lesson is read: strict stops there
    read.write_text(lesson(TRIANGLE + 'label side_a "a" left of tri\nbrace side_b "b" below tri\n'
                           'step 1s: say "Here is side_a."; create tri, side_a, side_b\n'), encoding="utf-8")
    assert _check_strict(read) == ({("mixed-label-style", 5, "error"), ("narration-names-id", 6, "error")}, 2)
    measured = tmp_path / "measured.lecture"  # found on the built scenes
    measured.write_text(lesson('text note0 "short" in F1..F3\n'
                               'text note1 "a much longer note that must shrink to fit in here" in F1..F3\n'
                               "step 1s: write note0\nstep 1s: transform note0 into note1\n"),
                        encoding="utf-8")
    assert _check_strict(measured) == ({("layout-note-size-changes", 4, "error")}, 2)
