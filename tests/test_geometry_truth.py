"""Geometry that `lecture check` used to pass although the video showed it wrong (issue 14):
a relation or a cell shifted silently back inside the grid onto another element, text set
against text, scripts too small to read inside a formula of a readable size, an arrow left
pointing at an element that is gone. Each is now a finding at the element's line, with a
hint that names the fix; ordinary layouts stay clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from lecture.agents.critic import check_lesson
from lecture.compiler import layout
from lecture.compiler.findings import MIN_TEXT_GAP, box_gap, to_diagnostics
from lecture.compiler.frontend import load_text
from lecture.compiler.layout import Box
from lecture.compiler.model import At, Cell, Ref, Relative
from lecture.compiler.tex_scripts import Script, smallest_script

# One lesson, one section per case (one compile and dry run for all of them).
LESSON = '''lesson "Geometry truth"

section edge "A relation at the grid's edge"
  rectangle bar6 at C6 width=1 height=2 fill=blue
  rectangle bar7 right of bar6 width=0.6 height=2 fill=orange
  rectangle bar1 at C1 width=0.6 height=2 fill=blue
  rectangle bar2 right of bar1 width=0.6 height=2 fill=orange
  step 1s: create bar6, bar7, bar1, bar2

section cell "A cell at the grid's edge"
  square q at C4 side=0.8
  text long "a sentence far too wide for its cell" at C6
  text fine "fits" at A3
  step 1s: create q; write long, fine

section ticks "A label against a tick number"
  numberline zline in E1..E4 x=-3..3 step=1
  label z_tag "σ from μ" right of zline
  text a "hello" at B2
  label b "world" below a
  step 1s: create zline; write z_tag, a, b

section scripts "Scripts in a small formula"
  math small $e^{-x^2/2}$ at C3 font_size=24
  math normal $a^2 + b^2 = c^2$ at A3
  step 1s: write small, normal

section arrows "An arrow to a faded element"
  circle c at B2
  circle d at B5
  arrow a from c to d
  arrow early from c to late
  circle late at E5
  step 1s: create c, d, a
  step 1s: fade out d
  step 1s: create early
  step 1s: create late
'''


def _at(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column), 1-based, of the n-th occurrence of `needle` in the lesson."""
    pos = -1
    for _ in range(occurrence):
        pos = text.index(needle, pos + 1)
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


@pytest.fixture(scope="module")
def findings():
    lesson = load_text(LESSON, "truth.lecture").lesson
    return check_lesson(lesson, Path(".")).findings


def _of(findings, code: str, section: str):
    return [f for f in findings if f.code == code and f.section == section]


# ---------------------------------------------------------------- case 3: no silent clamp


def test_a_relation_without_room_is_a_finding_at_its_placement(findings):
    # bar7 is shifted back wholly over bar6, which the overlap rule accepts (a shape inside a
    # shape, as in a dissection): before, nothing was said
    assert not _of(findings, "overlap", "edge")
    (f,) = _of(findings, "no-room", "edge")
    assert f.element == "bar7" and f.other == "bar6"
    assert (f.span.line, f.span.column) == _at(LESSON, "right of bar6")
    assert "does not fit right of 'bar6'" in f.message and "onto 'bar6'" in f.message
    # the hint names the relations that fit there, and how far to move the target
    assert "`left of bar6`" in f.hint and "`below bar6`" in f.hint and "`above bar6`" not in f.hint
    assert "move 'bar6' 1 column left" in f.hint
    # with --strict it is an error, like every layout finding
    assert f.to_diagnostic(strict=True).severity == "error"


def test_a_relation_with_room_is_not_a_finding(findings):
    assert not [f for f in findings if f.element in ("bar1", "bar2")]


def test_a_cell_shifted_onto_another_element_is_a_finding(findings):
    (f,) = _of(findings, "no-room", "cell")
    assert f.element == "long" and f.other == "q"
    assert (f.span.line, f.span.column) == _at(LESSON, "at C6", 2)
    assert "at C6 does not fit inside the grid" in f.message
    assert f.hint.startswith("anchor it at B4, where it fits")  # clear of q and the grid's edge
    assert not [x for x in findings if x.element == "fine"]


def test_the_layout_says_when_it_shifts():
    target = Box(5.5, 0.2, 0.6, 2.0)
    p = layout.place(Relative("right of", Ref("x")), 0.6, 2.0, occupancy=layout.Occupancy(),
                     target_box=target)
    assert p.wanted is not None and p.wanted.left == pytest.approx(target.right + layout.GAP)
    assert layout.GRID.contains(p.box)
    inside = layout.place(At(Cell("C", 3)), 0.6, 0.6, occupancy=layout.Occupancy())
    assert inside.wanted is None
    assert layout.cells_to_make_room(target, "right of", 0.6, 2.0) == 1
    assert layout.relation_fits(target, "left of", 0.6, 2.0)
    assert not layout.relation_fits(target, "right of", 0.6, 2.0)


# ---------------------------------------------------------------- case 6a: touching text


def test_a_label_against_a_tick_number_is_too_close(findings):
    (f,) = _of(findings, "too-close", "ticks")
    assert f.element == "z_tag" and f.other == "zline"
    assert (f.span.line, f.span.column) == _at(LESSON, 'label z_tag')
    assert "'σ from μ' of 'z_tag'" in f.message and "'3' of 'zline'" in f.message
    assert "another anchor or relation" in f.hint


def test_the_gap_rule_measures_boxes():
    assert box_gap(Box(0, 0, 1, 1), Box(0.6, 0, 0.1, 1)) == pytest.approx(0.05)
    assert box_gap(Box(0, 0, 1, 1), Box(0.5, 0.2, 1, 1)) == 0.0
    assert box_gap(Box(0, 0, 1, 1), Box(1 + MIN_TEXT_GAP, 0, 1, 1)) == pytest.approx(MIN_TEXT_GAP)
    assert box_gap(Box(0, 0, 1, 1), Box(1.3, 1.4, 1, 1)) == pytest.approx(0.5)  # 0.3 across, 0.4 up


# ---------------------------------------------------------------- case 6b: small scripts


def test_a_formula_with_unreadable_scripts_is_too_small(findings):
    (f,) = _of(findings, "too-small", "scripts")
    assert f.element == "small"
    assert (f.span.line, f.span.column) == _at(LESSON, "math small")
    assert "script `2`" in f.message and "font_size=" in f.hint


@pytest.mark.parametrize("tex, factor, text", [
    (r"a^2 + b^2", 0.7, "2"),
    (r"e^{-x^2/2}", 0.5, "2"),
    (r"\tfrac{\sigma^2}{n}", 0.5, "2"),
    (r"\dfrac{1}{2}", 1.0, ""),
    (r"\frac{a}{b}", 1.0, ""),  # display style: a fraction's parts are at text size
    (r"\sqrt[3]{x}", 0.5, "3"),
    (r"x_\text{max}", 0.7, r"\text{max}"),
    (r"\sum_{i=1}^{n} i", 0.7, "i=1"),
    (r"{a \over b^2}", 0.7, "2"),
])
def test_tex_script_sizes(tex, factor, text):
    assert smallest_script(tex) == Script(factor, text)


# ---------------------------------------------------------------- case 7c: dangling arrows


def test_an_arrow_to_a_faded_element_is_dangling(findings):
    found = {f.element: f for f in _of(findings, "dangling-connector", "arrows")}
    gone = found["a"]
    assert gone.other == "d" and gone.step == 2
    assert (gone.span.line, gone.span.column) == _at(LESSON, "arrow a ")
    assert "no longer shown" in gone.message and "fade 'a' out in the same step as 'd'" in gone.hint
    early = found["early"]
    assert early.other == "late" and "not shown yet" in early.message
    assert "show 'early' in the same step as 'late'" in early.hint


def test_strict_check_makes_them_errors(findings):
    codes = {d.code for d in to_diagnostics(findings, strict=True) if d.severity == "error"}
    assert {"layout-no-room", "layout-too-close", "layout-too-small", "layout-dangling-connector"} <= codes
