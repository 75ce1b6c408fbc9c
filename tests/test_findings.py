"""Layout findings (`lecture check`): what the compiled scenes show at the end of each step,
measured on the real Manim mobjects, checked against the Critic's rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lecture.agents.critic import check_lesson, run_check_findings
from lecture.compiler.findings import Checker, contrast_ratio
from lecture.compiler.frontend import load_text

CROWDED = '''lesson "Crowded"

# every element on one cell
section s "Everything at B2"
  line l1 "Too much in one place."
  text a "hello world" at B2
  math b $x^2 + y^2$ at B2   # a formula
  square q at B2 color=green
  text d "more words" at B2
  step 1s: write a   # line 10
  step 1s: write b
  step 1s: create q; write d
'''


def findings_of(text: str, name: str = "t.lecture", base_dir: Path = Path(".")):
    lesson = load_text(text, name).lesson
    return check_lesson(lesson, base_dir).findings


@pytest.fixture(scope="module")
def crowded():
    return findings_of(CROWDED)


def test_overlaps_are_reported_at_the_element_lines(crowded):
    overlaps = {(f.element, f.other) for f in crowded if f.code == "overlap"}
    assert ("b", "a") in overlaps and ("d", "a") in overlaps and ("d", "b") in overlaps
    lines = {f.element: f.span.line for f in crowded}
    assert lines["b"] == 7 and lines["d"] == 9


def test_a_finding_names_its_step(crowded):
    b = next(f for f in crowded if f.code == "overlap" and f.element == "b")
    assert b.step == 2 and b.step_line == 11
    d = b.to_diagnostic()
    assert d.severity == "warning" and "in step 2 (line 11)" in d.message and d.hint
    assert d.code == "layout-overlap"
    assert b.to_diagnostic(strict=True).severity == "error"


def test_run_check_findings_gives_sorted_diagnostics():
    loaded = load_text(CROWDED, "t.lecture")
    diags = run_check_findings(loaded, base_dir=Path("."))
    assert diags and [d.span.line for d in diags] == sorted(d.span.line for d in diags)
    assert all(d.severity == "warning" for d in diags)
    assert all(d.severity == "error" for d in run_check_findings(loaded, strict=True, base_dir=Path(".")))


INTENDED = '''lesson "Intended"
section s "S"
  square box at B1 side=1
  text v "3" at B1
  polygon tri (0,0) (2,0) (0,1) in A3..B5
  label lt "c" right of tri
  brace bt "base" below tri
  axes ax in D1..F4 x=0..3 y=0..9 scale=0.9
  plot f "x^2" on ax
  plot g "3x" on ax
  line ground from E5 to E6
  arrow to_tri from A1 to tri
  step 1s: create box; write v
  step 1s: create tri, lt, bt
  step 1s: create ax, f, g, ground, to_tri
'''


def test_intended_overlaps_are_exempt():
    found = findings_of(INTENDED)
    assert [f for f in found if f.code == "overlap"] == []


def test_text_crossing_a_shape_outline_is_a_finding():
    text = INTENDED.replace('text v "3" at B1', 'text v "a long label" at B1')
    found = findings_of(text)
    assert any(f.code == "overlap" and {f.element, f.other} == {"v", "box"} for f in found)


def test_off_frame_small_text_contrast_and_long_lines():
    text = '''lesson "Bad"
section s "S"
  line l1 "A lecture line that goes on and on and on, far longer than any bullet sentence should \
ever be, and then some more words"
  text big "wide" at C6 scale=4
  text tiny "tiny" at F1 font_size=6
  circle dim at D3 color=dark_gray
  step 1s: write big, tiny; create dim
'''
    found = {f.code: f for f in findings_of(text)}
    assert "off-frame" in found and found["off-frame"].element == "big"
    assert found["too-small"].element == "tiny" and found["too-small"].span.line == 5
    assert found["low-contrast"].element == "dim"
    assert found["lecture-lines"].element == "l1" and found["lecture-lines"].span.line == 3


def test_spilling_out_of_an_area_and_over_the_title():
    text = 'lesson "L"\nsection s "S"\n  text t "words in a box" in A2..A3 scale=2.5\n  step 1s: write t\n'
    codes = {f.code for f in findings_of(text)}
    assert "spills-area" in codes and "over-title" in codes


def test_a_scaled_element_is_no_longer_bound_to_its_area():
    """`scale leaf 1.5` is the teacher's choice of size: the area only placed it. Until the
    scale, the same size spills (the rule still holds before it)."""
    head = 'lesson "L"\nsection s "S"\n  circle c in C3..D4 color=green\n'
    scaled = {f.code for f in findings_of(head + "  step 1s: create c\n  step 1s: scale c 1.5\n")}
    assert "spills-area" not in scaled
    drawn_big = {f.code for f in findings_of(head.replace("green", "green scale=1.5") +
                                              "  step 1s: create c\n")}
    assert "spills-area" in drawn_big


def test_wcag_contrast_ratio():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_the_checker_reuses_its_measurements(crowded):
    lesson = load_text(CROWDED, "t.lecture").lesson
    checker = Checker()
    checked = check_lesson(lesson, Path("."), checker)
    start = time.perf_counter()
    for _ in range(20):
        checker.section(checked.views[0])
    assert time.perf_counter() - start < 1.0

