"""For any input the front end either returns a checked lesson or raises DiagnosticError
with well-formed diagnostics, never another exception: arbitrary text, arbitrary bytes,
lesson-shaped token soup, and random edits of a valid lesson."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lecture.compiler import source
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.frontend import Loaded, load_source, load_text

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = '''# A first lesson
lesson "The Pythagorean Theorem"
  audience: "ages 12-14"
  theme: chalkboard
  resolution: 1280x720

section intro "Right triangles" 20s
  line l1 "A right triangle has one 90° angle."   # trailing
  line l2 "Its longest side, c, is the hypotenuse."
  polygon tri (0,0) (3,0) (0,2) in B2..E5 color=blue
  math eq $a^2 + b^2 = c^2$ at F4 color=#ff8800
  math eq2 $c^2$ at F5
  line seg from A1 to C3
  axes ax x=-3..3 y=0..9 in A4..C6
  plot f "x^2" on ax color=yellow
  label lb "c" right of tri
  table t in A1..B3:
    "x" "y"
    "1" "2"
  step 2s: say l1 "Here is a right triangle."; create tri, seg, t, lb
  # before step
  step 3s:
    say l2
    write eq
    create ax, f
  wait 1s
  step 1s: transform eq into eq2; fade out tri

section proof "A visual proof"
  custom rearrange in A1..F6:
    """Four copies of the triangle slide inside a square of side a+b;
       the uncovered area is first a^2 + b^2, then c^2."""
  step 8s: play rearrange
'''


def assert_front_end_contract(run) -> None:
    """`run()` loads something: it returns a Loaded or raises a well-formed DiagnosticError."""
    try:
        result = run()
    except DiagnosticError as exc:
        assert exc.diagnostics, "a DiagnosticError carries at least one diagnostic"
        assert any(d.severity == "error" for d in exc.diagnostics)
        for d in exc.diagnostics:
            assert d.code, f"diagnostic without a code: {d}"
            assert d.message and "\n" not in d.message
            assert d.span.line >= 1 and d.span.column >= 1, d
            if exc.source is not None:
                assert d.span.line <= exc.source.count("\n") + 1, d
        rendered = str(exc)  # rendering never fails either
        assert rendered.count(": error: ") >= 1
        return
    assert isinstance(result, Loaded)
    for d in result.diagnostics:
        assert d.severity == "warning" and d.code and d.span.line >= 1
        d.render(result.source.text)


def test_the_valid_lesson_is_valid():
    loaded = load_text(VALID)
    assert [d.code for d in loaded.diagnostics if d.severity == "error"] == []


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    assert_front_end_contract(lambda: load_text(text))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data):
    assert_front_end_contract(lambda: load_source(source.decode(data, "fuzz.lecture")))


@FUZZ
@given(st.binary(max_size=200).map(lambda b: VALID.encode() + b))
def test_a_valid_lesson_followed_by_arbitrary_bytes(data):
    assert_front_end_contract(lambda: load_source(source.decode(data, "fuzz.lecture")))


TOKENS = ["lesson", "section", "step", "wait", "say", "fade", "in", "out", "transform", "into",
          "move", "to", "from", "on", "at", "below", "above", "left", "right", "of", "next",
          "auto", "line", "text", "circle", "table", "plot", "axes", "custom", "create", "l1",
          "c", "B2", "A1..C3", "G9", "(0,0)", "(1,", '"x"', '"', '"""', '"""a\nb"""', "$a$", "$",
          "#ff8800", "#", "# note", "2s", "500ms", "1min", "0s", "2", "-1", "1280x720", "3..-3",
          "color=red", "=", ":", ";", ",", "..", "\n", "\n  ", "\n    ", "\n\t", " ", "  ", "\t",
          "\r\n", "\ufeff", "é", "\\", "\\n", "\x0c", "\u2028"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join))
def test_lesson_shaped_token_soup(text):
    assert_front_end_contract(lambda: load_text(text))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_token_soup_inside_a_valid_section(text):
    assert_front_end_contract(lambda: load_text(VALID + "  " + text + "\n"))


edit = st.tuples(st.sampled_from(["delete", "duplicate", "insert"]),
                 st.integers(min_value=0, max_value=len(VALID)),
                 st.sampled_from(list("abc \t\n\"$#:;,.()=-_019s\\\r") + ['"""', "  ", "\n  ", "é"]))


def apply_edits(text: str, edits) -> str:
    chars = list(text)
    for op, pos, piece in edits:
        pos = min(pos, len(chars))
        if op == "delete" and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op == "duplicate" and chars:
            p = min(pos, len(chars) - 1)
            chars.insert(p, chars[p])
        else:
            chars.insert(pos, piece)
    return "".join(chars)


@FUZZ
@given(st.lists(edit, min_size=1, max_size=6))
def test_random_edits_of_a_valid_lesson(edits):
    assert_front_end_contract(lambda: load_text(apply_edits(VALID, edits)))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, VALID.count("\n")), st.integers(0, 2)), min_size=1,
                max_size=4))
def test_moved_deleted_and_duplicated_lines(ops):
    lines = VALID.split("\n")
    for index, op in ops:
        index = min(index, len(lines) - 1)
        if op == 0:
            del lines[index]
        elif op == 1:
            lines.insert(index, lines[index])
        else:
            lines.insert(0, lines.pop(index))
    assert_front_end_contract(lambda: load_text("\n".join(lines)))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, VALID.count("\n")), st.sampled_from(["", " ", "  ", "\t", "    "])),
                min_size=1, max_size=4))
def test_re_indented_lines(ops):
    lines = VALID.split("\n")
    for index, indent in ops:
        index = min(index, len(lines) - 1)
        lines[index] = indent + lines[index].lstrip(" \t")
    assert_front_end_contract(lambda: load_text("\n".join(lines)))


@FUZZ
@given(st.text(max_size=40), st.integers(0, 20))
def test_arbitrary_text_in_every_string(text, which):
    """Any text between quotes (escaped) is a string, never a crash."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    parts = VALID.split('"')
    index = 1 + 2 * (which % (len(parts) // 2))
    parts[index] = escaped if '"""' not in parts[index] else parts[index]
    assert_front_end_contract(lambda: load_text('"'.join(parts)))
