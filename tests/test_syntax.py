"""Grammar constructs (each parses to the expected model) and syntax diagnostics (each at
an exact line:col, with a teaching message and hint)."""

from __future__ import annotations

import pytest
from conftest import diagnose, lesson
from lecture.compiler import model as m
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.frontend import load_text, parse_text
from lecture.compiler.kinds import KINDS, VERBS

# ------------------------------------------------------------------ constructs


def parse(text: str) -> m.Lesson:
    return parse_text(text, "t.lecture")


def test_header_and_settings_of_every_value_type():
    lesson_ = parse('lesson "Pythagoras"\n  audience: "ages 12-14"\n  theme: light\n'
                    "  resolution: 1920x1080\n  fps: 30\n  rate: 1.5\n"
                    'section s "S"\n  line l1 "x"\n')
    assert lesson_.title.value == "Pythagoras"
    assert (lesson_.title.span.line, lesson_.title.span.column) == (1, 8)
    assert [s.key for s in lesson_.settings] == ["audience", "theme", "resolution", "fps", "rate"]
    assert lesson_.setting("audience") == "ages 12-14"
    assert lesson_.setting("theme") == m.Word("light")
    assert lesson_.setting("resolution") == "1920x1080"
    assert lesson_.setting("fps") == 30 and isinstance(lesson_.setting("fps"), int)
    assert lesson_.setting("rate") == 1.5


def test_header_without_settings_and_several_sections():
    lesson_ = parse('lesson "T"\nsection a "First" 20s\n  line l1 "x"\n'
                    'section b "Second" 1min\n  line l1 "y"\nsection c "Third" 500ms\n  line l1 "z"\n')
    assert lesson_.settings == ()
    assert [(s.id, s.title.value, s.duration) for s in lesson_.sections] == [
        ("a", "First", 20.0), ("b", "Second", 60.0), ("c", "Third", 0.5)]
    assert [s.span.line for s in lesson_.sections] == [2, 4, 6]


def test_lecture_line_and_its_spans():
    section = parse(lesson('line l1 "A right triangle has one 90° angle."')).sections[0]
    (line,) = section.lines
    assert line.id == "l1" and line.text.value == "A right triangle has one 90° angle."
    assert (line.span.line, line.span.column) == (3, 3)
    assert (line.id_span.line, line.id_span.column, line.id_span.end_column) == (3, 8, 10)
    assert section.elements == ()


@pytest.mark.parametrize("source, placement", [
    ("circle c at B2", m.At(m.Cell("B", 2))),
    ("circle c at b2", m.At(m.Cell("B", 2))),
    ("circle c in A1..C3", m.In(m.Cell("A", 1), m.Cell("C", 3))),
    ("circle c below d", m.Relative("below", m.Ref("d"))),
    ("circle c above d", m.Relative("above", m.Ref("d"))),
    ("circle c left of d", m.Relative("left of", m.Ref("d"))),
    ("circle c right of d", m.Relative("right of", m.Ref("d"))),
    ("circle c next to d", m.Relative("next to", m.Ref("d"))),
    ("circle c auto", m.Auto()),
    ("circle c", None),
])
def test_every_placement(source, placement):
    element = parse(lesson(source + "\ncircle d at F6")).sections[0].elements[0]
    assert element.placement == placement


def test_placement_and_options_in_any_order_after_the_content():
    a = parse(lesson("circle c at B2 color=red radius=2")).sections[0].elements[0]
    b = parse(lesson("circle c color=red at B2 radius=2")).sections[0].elements[0]
    assert a == b
    assert a.option("color") == m.Word("red") and a.option("radius") == 2


def test_option_values_of_every_type():
    element = parse(lesson('axes ax x=-3..3 y=0.5..9 step=0.5 color=#FF8800 x_label="time" '
                           "fill=blue_e in A1..D6")).sections[0].elements[0]
    assert element.option("x") == m.Range(-3, 3)
    assert element.option("y") == m.Range(0.5, 9)
    assert element.option("step") == 0.5
    assert element.option("color") == m.Color("#ff8800")
    assert element.option("x_label") == "time"
    assert element.option("fill") == m.Word("blue_e")
    x = element.options[0]
    assert (x.value_span.line, x.value_span.column, x.value_span.end_column) == (3, 13, 18)


def test_element_arguments_points_endpoints_target_and_strings():
    section = parse(lesson('polygon tri (0,0) (4,0) (0,-3.5) in B2..E5\n'
                           "line seg from A1 to tri\n"
                           'plot f "x^2" on ax\n'
                           'text t "Area = ½·b·h" at F3\n')).sections[0]
    tri, seg, f, t = section.elements
    assert [(p.x, p.y) for p in tri.points] == [(0, 0), (4, 0), (0, -3.5)]
    assert seg.endpoints == m.Endpoints(m.Ref("A1"), m.Ref("tri"))
    assert f.target == m.Ref("ax") and f.texts[0].value == "x^2"
    assert t.texts[0].value == "Area = ½·b·h"
    assert (t.kind_span.column, t.id_span.column) == (3, 8)


def test_a_line_with_points_is_drawn_and_a_line_with_a_string_is_a_lecture_line():
    section = parse(lesson('line l1 "a sentence"\nline d (0,0) (1,1)\nline e from A1 to B2')).sections[0]
    assert [ln.id for ln in section.lines] == ["l1"]
    assert [(e.kind, e.id) for e in section.elements] == [("line", "d"), ("line", "e")]


def test_string_kinds_and_escapes():
    section = parse(lesson(
        'text a "say \\"hi\\" \\\\ and \\n twice"\n'
        "math b $\\frac{a}{b} \\neq c$\n"
        'math c "\\frac{a}{b}"\n'
        'code d """\n'
        "    def f(x):\n"
        "        return x\n"
        '    """ language=python\n')).sections[0]
    a, b, c, d = (e.texts[0].value for e in section.elements)
    assert a == 'say "hi" \\ and \n twice'
    assert b == "\\frac{a}{b} \\neq c"
    assert c == "\\frac{a}{b}"  # unknown escapes stay as written
    assert d == "def f(x):\n    return x"
    assert section.elements[3].option("language") == m.Word("python")


def test_table_rows_and_bullet_rows():
    section = parse(lesson('table t in A1..C4:\n  "n" "n²"\n  "3" "9"\n'
                           'bullets b in D1..F6:\n  "one"\n  $x^2$\n')).sections[0]
    t, b = section.elements
    assert [[c.value for c in row] for row in t.rows] == [["n", "n²"], ["3", "9"]]
    assert [[c.value for c in row] for row in b.rows] == [["one"], ["x^2"]]
    assert (t.rows[1][1].span.line, t.rows[1][1].span.column) == (5, 9)


def test_steps_inline_block_and_wait():
    section = parse(lesson("circle c at B2\nline l1 \"x\"\n"
                           'step 2s: say l1 "Look."; create c\n'
                           "step:\n  indicate c\n  highlight l1\n"
                           "wait 1.5s\n"
                           "step 500ms: fade out c")).sections[0]
    s1, s2, w, s4 = section.steps
    assert s1.duration == 2.0 and [a.verb for a in s1.actions] == ["say", "create"]
    assert s1.actions[0].targets == (m.Ref("l1"),) and s1.actions[0].text.value == "Look."
    assert s2.duration is None and s2.seconds == m.DEFAULT_STEP_SECONDS
    assert [a.verb for a in s2.actions] == ["indicate", "highlight"]
    assert [a.span.line for a in s2.actions] == [7, 8]
    assert w.is_wait and w.duration == 1.5 and w.actions == ()
    assert s4.duration == 0.5 and s4.actions[0].verb == "fade out"
    assert (s1.duration_span.line, s1.duration_span.column) == (5, 8)


def test_every_action_form():
    section = parse(lesson('circle a at B2\ncircle b at B3\nline l1 "x"\n'
                           "step 1s: create a, b\n"
                           'step 1s: say "Only words."; say l1; say l1 "Words."\n'
                           "step 1s: fade in a; fade out b; transform a into b\n"
                           "step 1s: move a, b to at C4; move a to right of b; write a")).sections[0]
    actions = [a for step in section.steps for a in step.actions]
    assert [a.verb for a in actions] == ["create", "say", "say", "say", "fade in", "fade out",
                                         "transform", "move", "move", "write"]
    create, say1, say2, say3, fade_in, fade_out, transform, move1, move2, _ = actions
    assert create.targets == (m.Ref("a"), m.Ref("b"))
    assert say1.targets == () and say1.text.value == "Only words."
    assert say2.targets == (m.Ref("l1"),) and say2.text is None
    assert transform.targets == (m.Ref("a"),) and transform.into == m.Ref("b")
    assert move1.targets == (m.Ref("a"), m.Ref("b")) and move1.to == m.At(m.Cell("C", 4))
    assert move2.to == m.Relative("right of", m.Ref("b"))
    assert (fade_out.span.line, fade_out.span.column) == (8, 23)


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_documented_action_example_parses(verb):
    """The examples in kinds.VERBS are shown to teachers in the README's reference."""
    _, example = VERBS[verb]
    text = lesson('line l1 "x"\ntext eq "a" at A1\ntext eq2 "b" at A2\ntext tri "c" at A3\n'
                  'text photo "d" at A4\ncustom proof "e" at A5\n'
                  f"step 1s: {example}")
    actions = parse(text).sections[0].steps[0].actions
    assert actions[0].verb == verb


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_documented_kind_example_parses(kind):
    example = KINDS[kind].example
    body = "\n".join(example.split("\n"))
    element = parse(lesson(body)).sections[0].elements
    assert element and element[0].kind == kind


def test_comments_blank_lines_and_trailing_whitespace_are_ignored():
    plain = lesson('circle c at B2\nstep 1s: create c')
    noisy = ('# A lesson\nlesson "Test"   \n\n# section comment\nsection s "S"\t\n'
             "  # about c\n  circle c at B2   # a circle\n\n\n  step 1s: create c # go\n# end\n")
    lesson_, expected = parse(noisy), parse(plain)
    assert lesson_.title == expected.title
    (section,), (expected_section,) = lesson_.sections, expected.sections
    assert [(e.kind, e.id, e.placement) for e in section.elements] == [
        (e.kind, e.id, e.placement) for e in expected_section.elements]
    assert [s.actions[0].verb for s in section.steps] == ["create"]
    assert lesson_.comments.before == (" A lesson",)
    circle = lesson_.sections[0].elements[0]
    assert circle.comments.before == (" about c",) and circle.comments.after == " a circle"
    assert lesson_.trailing_comments == (" end",)
    assert load_text(noisy).diagnostics == ()


def test_a_colour_is_not_a_comment_but_a_hash_word_is():
    element = parse(lesson("circle c at B2 color=#00ff00 # green")).sections[0].elements[0]
    assert element.option("color") == m.Color("#00ff00")
    assert element.comments.after == " green"


def test_any_consistent_indentation_and_tabs():
    two = lesson("circle c at B2\nstep 1s:\n  create c")
    four = two.replace("  ", "    ")
    tabs = two.replace("  ", "\t")
    assert parse(two) == parse(four) == parse(tabs)


def test_keywords_are_only_reserved_where_they_are_keywords():
    # `in`, `step`, `auto` are names where a name is expected.
    text = lesson('text step "x" at A1\ntext auto "y" at A2\nstep 1s: create step, auto')
    section = parse(text).sections[0]
    assert [e.id for e in section.elements] == ["step", "auto"]


# ------------------------------------------------------------------ syntax errors

H = 'lesson "X"\nsection a "A"\n'

# (case id, text, code, line, column, message substring, hint substring or None)
SYNTAX_ERRORS = [
    ("title-not-a-string", 'lesson X\nsection a "A"\n  line l "x"\n', "syntax", 1, 8,
     "unexpected 'X'", 'the lesson title is a string'),
    ("words-after-title", 'lesson "X" extra\nsection a "A"\n  line l "x"\n', "syntax", 1, 12,
     "unexpected 'extra'", "expected the end of the line"),
    ("lesson-without-title", "lesson\n", "syntax", 1, 6, "this line ends too early",
     "the lesson needs a title"),
    ("setting-without-colon", 'lesson "X"\n  theme\nsection a "A"\n  line l "x"\n', "syntax", 2, 7,
     "this line ends too early", "expected ':'"),
    ("section-without-id", 'lesson "X"\nsection "A"\n  line l "x"\n', "syntax", 2, 9,
     "unexpected '\"A\"'", "expected a name"),
    ("section-without-title", 'lesson "X"\nsection\n', "syntax", 2, 7, "this line ends too early",
     "a section needs an id and a title"),
    ("section-without-statements", 'lesson "X"\nsection a "A"\n', "syntax", 2, 13,
     "this line ends too early", "a section's statements go on the following lines"),
    ("section-duration-without-unit", 'lesson "X"\nsection a "A" 2\n  line l "x"\n', "syntax", 2, 15,
     "unexpected '2'", "durations need a unit"),
    ("two-section-durations", 'lesson "X"\nsection a "A" 2s 3s\n  line l "x"\n', "syntax", 2, 18,
     "unexpected '3s'", None),
    ("unknown-top-keyword-typo", 'lesson "X"\nsektion a "A"\n  line l "x"\n', "syntax", 2, 1,
     "unexpected 'sektion'", "did you mean 'section'?"),
    ("unknown-top-keyword", 'lesson "X"\nchapter a "A"\n  line l "x"\n', "syntax", 2, 1,
     "unexpected 'chapter'", "expected 'section'"),
    ("misspelt-lesson", 'lessn "X"\nsection a "A"\n  line l "x"\n', "syntax", 1, 1,
     "unexpected 'lessn'", "did you mean 'lesson'?"),
    ("misspelt-step", H + '  text t "x" at A1\n  stpe 2s: create t\n', "syntax", 4, 8,
     "unexpected '2s'", "'stpe' is not a statement: did you mean 'step'?"),
    ("step-duration-without-unit", H + '  text t "x" at A1\n  step 2: create t\n', "syntax", 4, 8,
     "unexpected '2'", "durations need a unit"),
    ("step-without-colon", H + '  text t "x" at A1\n  step 2s create t\n', "syntax", 4, 11,
     "unexpected 'create'", "write a ':' after the step's duration"),
    ("step-ends-after-semicolon", H + '  text t "x" at A1\n  step 1s: create t;\n', "syntax", 4, 20,
     "this line ends too early", None),
    ("step-colon-without-block", H + '  text t "x"\n  step 1s:\n  step 1s: create t\n',
     "indentation", 4, 10, "the ':' at the end of this line needs an indented block", "remove the ':'"),
    ("step-colon-at-end-of-file", H + '  text t "x"\n  step 1s:\n', "indentation", 4, 10,
     "the ':' at the end of this line needs an indented block", None),
    ("table-colon-without-rows", H + '  table t in A1..B2:   # rows?\n\n  step 1s: create t\n',
     "indentation", 3, 20, "the ':' at the end of this line needs an indented block", None),
    ("wait-without-duration", H + '  text t "x" at A1\n  wait\n', "syntax", 4, 6,
     "this line ends too early", "wait needs a duration"),
    ("wait-without-unit", H + '  text t "x" at A1\n  wait 2\n', "syntax", 4, 8, "unexpected '2'",
     "durations need a unit"),
    ("element-without-id", H + "  text\n", "syntax", 3, 6, "this line ends too early",
     "'text' needs an id after it"),
    ("option-without-value", H + '  text t "x" at A1 color\n', "syntax", 3, 24,
     "this line ends too early", "expected '='"),
    ("short-hex-colour", H + '  text t "x" at A1 color=#ff88\n', "syntax", 3, 25,
     "this line ends too early", None),
    ("id-starts-with-digit", H + '  text 1t "x" at A1\n', "syntax", 3, 8, "unexpected '1'", "a name"),
    ("single-quotes", H + "  text t 'x' at A1\n", "syntax", 3, 10, "unexpected character \"'\"",
     "strings use double quotes"),
    ("stray-character", H + '  text t "x" at A1 @\n', "syntax", 3, 20,
     "unexpected character '@'", None),
    ("unclosed-point", H + "  polygon p (0,0 (1,1) (2,0) at A1\n", "syntax", 3, 18,
     "unexpected '('", "expected ')'"),
    ("fade-without-direction", H + '  text t "x" at A1\n  step 1s: fade t\n', "syntax", 4, 17,
     "unexpected 't'", "expected 'in', 'out'"),
    ("say-two-strings", H + '  text t "x" at A1\n  step 1s: say "a" "b"\n', "syntax", 4, 20,
     "unexpected '\"b\"'", None),
    ("unterminated-string", H + '  text t "hello at A1\n  step 1s: create t\n',
     "unterminated-string", 3, 10, "unterminated string", 'close it with a "'),
    ("string-ending-in-escaped-quote", H + '  text t "abc\\"\n', "unterminated-string", 3, 10,
     "unterminated string", None),
    ("unterminated-block-string", H + '  text t """hello\n  step 1s: create t\n',
     "unterminated-string", 3, 10, 'unterminated block string: no closing """', None),
    ("unterminated-math", H + "  math m $a^2 at A1\n", "unterminated-string", 3, 10,
     "unterminated math string", "second $"),
    ("unexpected-indent", H + '  text t "x" at A1\n    step 1s: create t\n', "indentation", 4, 1,
     "unexpected indentation", None),
    ("odd-indent", H + '  text t "x" at A1\n   step 1s: create t\n', "indentation", 4, 1,
     "unexpected indentation", None),
    ("dedent-to-no-level", H + '    text t "x" at A1\n  step 1s: create t\n', "indentation", 4, 1,
     "does not match any enclosing block", "indent statements of one block by the same amount"),
    ("mixed-tabs-and-spaces-in-one-line", H + '  text t "x"\n \t step 1s: create t\n', "tabs",
     4, 2, "mixes tabs and spaces", "spaces only"),
    ("tabs-after-spaces", H + '  text t "x"\n\tstep 1s: create t\n', "tabs", 4, 1,
     "indented with tabs, but line 3 uses spaces", None),
    ("empty", "", "empty", 1, 1, "the lesson is empty", 'lesson "Title"'),
    ("only-white-space", "  \n\t\n\n", "empty", 1, 1, "the lesson is empty", None),
]


@pytest.mark.parametrize("case", SYNTAX_ERRORS, ids=[c[0] for c in SYNTAX_ERRORS])
def test_syntax_error(case):
    _, text, code, line, column, message, hint = case
    with pytest.raises(DiagnosticError) as info:
        load_text(text, "t.lecture")
    diagnostics = info.value.diagnostics
    assert len(diagnostics) == 1  # a syntax error stops the parse: one clear diagnostic
    (d,) = diagnostics
    assert (d.code, d.span.line, d.span.column) == (code, line, column), d.render(text)
    assert message in d.message
    if hint is not None:
        assert d.hint and hint in d.hint
    assert d.severity == "error" and d.span.file == "t.lecture"
    assert info.value.source is not None  # the CLI can show the line
    rendered = str(info.value)
    assert rendered.startswith(f"t.lecture:{line}:{column}: error: ")
    if text.strip():
        assert f"{line:>5} | " in rendered and "^" in rendered


def test_a_syntax_error_in_a_later_section_names_its_line():
    text = lesson("circle c at B2\nstep 1s: create c") + 'section b "B"\n  circle d at B2 @\n'
    (d,) = diagnose(text)
    assert (d.span.line, d.span.column) == (6, 18)


def test_comment_only_file_has_no_header():
    (d,) = diagnose("# just a note\n\n# and another\n")
    assert (d.code, d.span.line, d.span.column) == ("no-header", 1, 1)


def test_deep_nesting_gets_a_diagnostic():
    text = H + "".join(" " * (2 + i) + "step 1s:\n" for i in range(2000))
    (d,) = diagnose(text)
    assert d.code in ("syntax", "indentation", "nesting") and d.span.line >= 3


def test_deeply_nested_parentheses_get_a_diagnostic():
    (d,) = diagnose(H + "  polygon p " + "(" * 5000 + "\n")
    assert (d.code, d.span.line, d.span.column) == ("syntax", 3, 14)
