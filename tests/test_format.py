"""The canonical formatter: round trips, idempotence, comments, layout."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lecture.compiler import model as m
from lecture.compiler.builder import decode_string, parse_duration, parse_number
from lecture.compiler.format import (
    FormatError,
    block_literal,
    duration,
    format_lesson,
    format_text,
    number,
    quote,
)
from lecture.compiler.frontend import parse_text

try:
    from strategies import durations, lessons, numbers, texts
except ImportError:  # tests/ as a package
    from tests.strategies import durations, lessons, numbers, texts

PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

T1 = '''# A first lesson
lesson "The Pythagorean Theorem"
  audience: "ages 12-14"
  theme: chalkboard
  resolution: 1280x720

section intro "Right triangles" 20s
  line l1 "A right triangle has one 90° angle."   # trailing
  line l2 "Its longest side, c, is the hypotenuse."
  polygon tri (0,0) (3,0) (0,2) in B2..E5 color=blue
  math eq $a^2 + b^2 = c^2$ at F4 color=#ff8800
  line seg from A1 to C3
  table t in A1..B3:
    "x" "y"
    "1" "2"
  step 2s: say l1 "Here is a right triangle."; create tri
  # before step
  step 3s:
    say l2
    write eq
  wait 1s

section proof "A visual proof"
  custom rearrange in A1..F6:
    """Four copies of the triangle slide inside a square of side a+b;
       the uncovered area is first a^2 + b^2, then c^2."""
  step 8s: play rearrange
'''

T1_CANONICAL = '''# A first lesson
lesson "The Pythagorean Theorem"
  audience: "ages 12-14"
  theme: chalkboard
  resolution: 1280x720

section intro "Right triangles" 20s
  line l1 "A right triangle has one 90° angle."  # trailing
  line l2 "Its longest side, c, is the hypotenuse."

  polygon tri (0, 0) (3, 0) (0, 2) in B2..E5 color=blue
  math eq $a^2 + b^2 = c^2$ at F4 color=#ff8800
  line seg from A1 to C3
  table t in A1..B3:
    "x" "y"
    "1" "2"

  step 2s: say l1 "Here is a right triangle."; create tri
  # before step
  step 3s: say l2; write eq
  wait 1s

section proof "A visual proof"
  custom rearrange in A1..F6:
    """Four copies of the triangle slide inside a square of side a+b;
       the uncovered area is first a^2 + b^2, then c^2."""

  step 8s: play rearrange
'''


def fmt(text: str) -> str:
    return format_text(text)


# ------------------------------------------------------------------ (a) properties

def _count_comments(lesson: m.Lesson) -> int:
    def count(node) -> int:
        c = getattr(node, "comments", m.NO_COMMENTS)
        return len(c.before) + (c.after is not None)

    total = count(lesson) + len(lesson.trailing_comments)
    total += sum(count(s) for s in lesson.settings)
    for sec in lesson.sections:
        total += count(sec) + sum(count(n) for n in (*sec.lines, *sec.elements, *sec.steps))
        total += sum(count(a) for step in sec.steps for a in step.actions)
    return total


@PROPERTY
@given(lessons())
def test_generated_lessons_round_trip(lesson):
    """parse(fmt(x)) == x, fmt is idempotent, the text is canonical, no comment is lost."""
    text = format_lesson(lesson)
    again = parse_text(text)
    assert again == lesson
    assert format_lesson(again) == text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\r" not in text and not text.startswith("\ufeff")
    assert _count_comments(again) == _count_comments(lesson)


@PROPERTY
@given(lessons(max_sections=1))
def test_format_text_is_idempotent_on_messy_layout(lesson):
    """The same lesson laid out badly (CRLF, BOM, odd indentation) formats the same."""
    text = format_lesson(lesson)
    messy = "\ufeff" + text.replace("\n  ", "\n    ").replace("\n", "\r\n")
    if '"""' not in text:  # re-indenting would change a block string's continuation lines
        assert fmt(messy) == text
    assert fmt(text) == text


@given(texts)
@settings(max_examples=500, deadline=None)
def test_quote_round_trips(value):
    assert decode_string(quote(value)) == value


@given(texts, st.integers(0, 40))
@settings(max_examples=500, deadline=None)
def test_block_literal_reads_back_or_is_refused(value, column):
    literal = block_literal(value, column, "  ")
    if literal is not None:
        assert decode_string(literal) == value


@given(durations)
@settings(max_examples=500, deadline=None)
def test_durations_read_back_exactly(seconds):
    text = duration(seconds)
    assert parse_duration(text) == seconds
    assert "e" not in text


@given(numbers)
@settings(max_examples=500, deadline=None)
def test_numbers_read_back_exactly(value):
    parsed = parse_number(number(value))
    assert parsed == value and type(parsed) is type(value)


# ------------------------------------------------------------------ (b) examples

def test_literals():
    assert duration(2.0) == "2s"
    assert duration(1.5) == "1.5s"
    assert duration(0.5) == "500ms"
    assert duration(0.001) == "1ms"
    assert duration(0.0015) == "0.0015s"
    assert duration(0.0) == "0s"
    assert duration(120.0) == "120s"
    assert duration(1e-05) == "0.00001s"
    assert number(3) == "3" and number(-2) == "-2"
    assert number(1.0) == "1.0" and number(1e-05) == "1e-05" and number(1e22) == "1e+22"
    assert quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'
    for bad in (float("inf"), float("nan"), -1.0):
        with pytest.raises(FormatError):
            duration(bad)
    with pytest.raises(FormatError):
        number(float("nan"))


def test_comments_stay_at_their_statements():
    text = '''# file head
lesson "L"  # after header
  # above audience
  audience: "kids"  # after audience

# above section
section s "S"  # after section
  # above step
  step 1s:  # after step line
    # above create
    create c  # after create
    fade out c
  # above line
  line l1 "one"  # after line
  circle c at B2  # after circle
# at the very end
'''
    out = fmt(text)
    assert out == '''# file head
lesson "L"  # after header
  # above audience
  audience: "kids"  # after audience

# above section
section s "S"  # after section
  # above line
  line l1 "one"  # after line

  circle c at B2  # after circle

  # above step
  step 1s:  # after step line
    # above create
    create c  # after create
    fade out c
# at the very end
'''
    assert fmt(out) == out
    assert parse_text(out) == parse_text(text)


def test_canonical_order_and_spacing():
    text = '''lesson   "L"
    theme:   light
section s "S"   3s
    step 1s: create c
    circle c at B2 color=red    radius=1.5
    line l1   "one"
    wait 500ms
    text t "hi" below c
    line l2 "two"
section u "U"
    wait 0.25s
'''
    assert fmt(text) == '''lesson "L"
  theme: light

section s "S" 3s
  line l1 "one"
  line l2 "two"

  circle c at B2 color=red radius=1.5
  text t "hi" below c

  step 1s: create c
  wait 500ms

section u "U"
  wait 250ms
'''


def test_crlf_and_bom_format_like_lf():
    lf = fmt(T1)
    assert fmt(T1.replace("\n", "\r\n")) == lf
    assert fmt("\ufeff" + T1) == lf
    assert fmt("\ufeff" + T1.replace("\n", "\r\n")) == lf
    assert fmt(T1.rstrip("\n")) == lf  # no final newline


def test_step_forms():
    actions = "; ".join(f"create element_number_{i}" for i in range(8))
    long_step = f'lesson "L"\nsection s "S"\n  step 2s: {actions}\n'
    out = fmt(long_step)
    assert "  step 2s:\n    create element_number_0\n    create element_number_1\n" in out
    assert parse_text(out) == parse_text(long_step)

    short = 'lesson "L"\nsection s "S"\n  step:\n    say l1 "x"\n    move a, b to next to c\n'
    assert fmt(short).endswith('  step: say l1 "x"; move a, b to next to c\n')

    with_comment = 'lesson "L"\nsection s "S"\n  step:\n    create a  # why\n    create b\n'
    assert fmt(with_comment).endswith("  step:\n    create a  # why\n    create b\n")


def test_every_action_and_placement_form():
    text = '''lesson "L"
section s "S"
  line l1 "x"
  circle a at A1
  circle b in A1..B2
  circle c below a
  circle d above a
  circle e left of a
  circle f right of a
  circle g next to a
  circle h auto
  step: create a, b; fade in c; fade out c; transform a into h; move b, d to C1..D2
  step: say l1 "words"; say l1; say "just words"; say; highlight l1; play z
  step: move a to C4; move a to at C4; move a to in A1..B2; move a to below b; move a to auto
'''
    out = fmt(text)
    assert parse_text(out) == parse_text(text)
    assert "  step: create a, b; fade in c; fade out c; transform a into h; move b, d to C1..D2\n" in out
    assert '  step: say l1 "words"; say l1; say "just words"; say; highlight l1; play z\n' in out
    assert ("  step: move a to C4; move a to C4; move a to A1..B2; move a to below b; "
            "move a to auto\n") in out


def test_strings_choose_their_form():
    text = r'''lesson "Quotes \" and \\ and \n newline"
section s "S"
  math m1 "a^2 \\frac{1}{2}"
  math m2 "costs $5"
  code c1 """def f(x):
                 return x"""
  code c2 """
    def g():
        return 1
    """
  code c3 "holds \"\"\"\nthree quotes"
  custom k:
    """Described
       in words."""
'''
    out = fmt(text)
    lesson = parse_text(text)
    assert parse_text(out) == lesson
    assert r"math m1 $a^2 \frac{1}{2}$" in out
    assert 'math m2 "costs $5"' in out
    assert '  code c2 """\n    def g():\n        return 1\n    """\n' in out
    assert r'code c3 "holds \"\"\"\nthree quotes"' in out  # no block can hold """
    assert '    """Described\n       in words."""\n' in out
    assert out.startswith(r'lesson "Quotes \" and \\ and \n newline"')


def test_sizes_and_values():
    text = '''lesson "L"
  resolution: 1920x1080
  audience: "1x2"
  rate: 1.25
section s "S"
  axes ax x=-3..3 y=0.5..1e3 step=2 color=#AABBCC x_label=$t$
  step 1s: create ax
'''
    out = fmt(text)
    assert "  resolution: 1920x1080\n" in out
    assert '  audience: "1x2"\n' in out
    assert "axes ax x=-3..3 y=0.5..1000.0 step=2 color=#aabbcc x_label=\"t\"" in out
    assert parse_text(out) == parse_text(text)


def test_models_without_a_text_form_are_refused():
    base = parse_text('lesson "L"\nsection s "S"\n  circle c at B2\n  step 1s: create c\n')
    sec = base.sections[0]

    def with_section(**changes):
        return dataclasses.replace(base, sections=(dataclasses.replace(sec, **changes),))

    bad = [
        dataclasses.replace(base, title=m.Text("carriage\rreturn")),
        with_section(steps=(m.Step(-1.0, (m.Action("create", (m.Ref("c"),)),)),)),
        with_section(steps=(m.Step(1.0, ()),)),
        with_section(steps=(m.Step(1.0, (m.Action("say", (m.Ref("a"), m.Ref("b"))),)),)),
        with_section(elements=(m.Element("line", "x", (m.Text("looks like a lecture line"),)),)),
        with_section(lines=(), elements=(), steps=()),
        dataclasses.replace(base, comments=m.Comments(("two\nlines",))),
    ]
    for lesson in bad:
        with pytest.raises(FormatError):
            format_lesson(lesson)


# ------------------------------------------------------------------ (c) the example lesson

def test_example_lesson_is_stable():
    out = fmt(T1)
    assert out == T1_CANONICAL
    assert fmt(out) == out
    assert parse_text(out) == parse_text(T1)


def test_element_parts_in_any_order_are_written_canonically():
    text = 'lesson "L"\nsection s "S"\n  text t color=red at B2 "hi" scale=2\n'
    assert fmt(text).endswith('  text t "hi" at B2 color=red scale=2\n')


EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.lecture"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_format_to_a_fixed_point(path):
    text = path.read_text(encoding="utf-8")
    lesson = parse_text(text, str(path))
    out = format_lesson(lesson)
    assert parse_text(out) == lesson
    assert fmt(out) == out
