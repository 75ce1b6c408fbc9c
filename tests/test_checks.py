"""Every semantic diagnostic (checks and builder), by its stable code: one lesson that
triggers it, at an exact line:col with the expected message, and one corrected lesson
that does not. A final test makes sure no code in checks.py or builder.py goes untested."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import diagnose, lesson
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.frontend import load_text

ROOT = Path(__file__).resolve().parents[1]
WARNINGS = {"math-escape", "section-too-long", "no-steps", "never-shown", "line-never-shown"}


def with_settings(settings: str) -> str:
    return ('lesson "Test"\n' + settings +
            'section s "S"\n  text t "x" at A1\n  step 1s: create t\n')


# (case id, code, lesson text, line, column, message substring)
NEGATIVE = [
    ("empty-title", "empty-title",
     'lesson ""\nsection s "S"\n  text t "x" at A1\n  step 1s: create t\n', 1, 8,
     "the lesson title is empty"),
    ("duplicate-setting", "duplicate-setting", with_settings("  fps: 30\n  fps: 25\n"), 3, 3,
     "'fps' is set twice"),
    ("unknown-setting", "unknown-setting", with_settings("  colour: red\n"), 2, 3,
     "unknown setting 'colour'"),
    ("unknown-theme", "unknown-theme", with_settings("  theme: chalkbord\n"), 2, 10,
     "unknown theme 'chalkbord'"),
    ("bad-setting-size", "bad-setting", with_settings("  resolution: 30\n"), 2, 15,
     "'resolution' needs a size such as 1280x720"),
    ("bad-setting-odd-resolution", "bad-setting", with_settings("  resolution: 1281x720\n"), 2, 15,
     "resolution 1281x720 is not usable"),
    ("bad-setting-positive", "bad-setting", with_settings("  rate: -1\n"), 2, 9,
     "'rate' needs a positive number"),
    ("bad-setting-fps", "bad-setting", with_settings("  fps: 29.5\n"), 2, 8,
     "fps must be a whole number up to 120"),
    ("bad-setting-string", "bad-setting", with_settings("  audience: 12\n"), 2, 13,
     "'audience' needs text in quotes"),
    ("bad-setting-word", "bad-setting", with_settings("  voice: 3\n"), 2, 10,
     "'voice' needs a word"),
    ("duplicate-section", "duplicate-id",
     lesson('text t "x" at A1\nstep 1s: create t')
     + 'section s "Again"\n  text u "y" at A1\n  step 1s: create u\n', 5, 9,
     "section 's' is defined twice"),
    ("duplicate-element", "duplicate-id",
     lesson('text t "x" at A1\ncircle t at B2\nstep 1s: create t'), 4, 10,
     "'t' is defined twice in section 's'"),
    ("cell-id", "cell-id", lesson("circle B2 at B2\nstep 1s: create B2"), 3, 10,
     "'B2' looks like a grid cell"),
    ("duplicate-option", "duplicate-option",
     lesson("circle c at B2 color=red color=blue\nstep 1s: create c"), 3, 28,
     "option 'color' is given twice"),
    ("option-of-another-kind", "unknown-option",
     lesson('text t "x" at A1 radius=2\nstep 1s: create t'), 3, 20,
     "a text has no option 'radius'"),
    ("misspelt-option", "unknown-option", lesson("circle c at B2 colr=red\nstep 1s: create c"),
     3, 18, "unknown option 'colr'"),
    ("unknown-color", "unknown-color", lesson("circle c at B2 color=blu\nstep 1s: create c"),
     3, 24, "unknown colour 'blu'"),
    ("option-not-a-number", "bad-option", lesson("circle c at B2 radius=big\nstep 1s: create c"),
     3, 25, "'radius' needs a number"),
    ("option-not-positive", "bad-option", lesson("circle c at B2 radius=0\nstep 1s: create c"),
     3, 25, "'radius' must be greater than 0"),
    ("option-not-a-fraction", "bad-option",
     lesson("circle c at B2 opacity=1.5\nstep 1s: create c"), 3, 26,
     "'opacity' must be between 0 and 1"),
    ("option-not-a-range", "bad-option", lesson("axes ax x=3 in A1..D6\nstep 1s: create ax"),
     3, 13, "'x' needs a range such as -3..3"),
    ("option-inverted-range", "bad-option",
     lesson("axes ax x=3..-3 in A1..D6\nstep 1s: create ax"), 3, 13,
     "the range 3..-3 is empty or inverted"),
    ("option-not-a-word", "bad-option",
     lesson('code c "x = 1" language=3 at A1\nstep 1s: create c'), 3, 27,
     "'language' needs a word"),
    ("option-not-a-string", "bad-option",
     lesson("axes ax x=-3..3 x_label=2 in A1..D6\nstep 1s: create ax"), 3, 27,
     "'x_label' needs text in quotes"),
    ("kind-takes-no-strings", "bad-args", lesson('circle c "hello" at B2\nstep 1s: create c'),
     3, 3, "a circle takes no strings"),
    ("kind-needs-a-string", "bad-args", lesson("text t at B2\nstep 1s: create t"), 3, 8,
     "a text needs 1 string"),
    ("kind-takes-one-string", "bad-args", lesson('text t "a" "b" at B2\nstep 1s: create t'),
     3, 3, "a text takes at most 1 string"),
    ("kind-takes-no-endpoints", "bad-args",
     lesson("circle c from A1 to B2\nstep 1s: create c"), 3, 12, "takes no `from … to …`"),
    ("line-needs-two-points", "bad-args", lesson("arrow a (0,0) at B2\nstep 1s: create a"),
     3, 9, "needs two points or `from … to …`"),
    ("line-points-and-endpoints", "bad-args",
     lesson("arrow a (0,0) (1,1) from A1 to B2\nstep 1s: create a"), 3, 11,
     "either points or `from … to …`, not both"),
    ("polygon-needs-points", "bad-args",
     lesson("polygon p (0,0) (1,1) in B2..C3\nstep 1s: create p"), 3, 11,
     "a polygon needs at least 3 points"),
    ("not-drawn-on", "bad-args", lesson("circle c on ax at B2\nstep 1s: create c"), 3, 15,
     "a circle is not drawn `on` another element"),
    ("plot-needs-axes", "bad-args", lesson('plot f "x^2"\nstep 1s: create f'), 3, 8,
     "a plot needs the axes or plane it is drawn on"),
    ("kind-takes-no-rows", "bad-args", lesson('circle c at B2:\n  "a"\nstep 1s: create c'),
     4, 5, "a circle takes no indented rows"),
    ("item-row-is-one-string", "bad-args",
     lesson('bullets b in A1..C3:\n  "a" "b"\nstep 1s: create b'), 4, 9,
     "each row of a bullets is one string"),
    ("table-needs-rows", "bad-args", lesson("table t in A1..C3\nstep 1s: create t"), 3, 9,
     "a table needs rows"),
    ("bullets-need-items", "bad-args", lesson("bullets b in A1..C3\nstep 1s: create b"), 3, 11,
     "a bullets list needs items"),
    ("custom-needs-words", "bad-args", lesson("custom c in A1..C3\nstep 1s: play c"), 3, 10,
     "a custom element needs a description in words"),
    ("off-grid", "off-grid", lesson("circle c at G7\nstep 1s: create c"), 3, 15,
     "cell G7 is off the grid"),
    ("off-grid-endpoint", "off-grid", lesson("line d from A1 to A9\nstep 1s: create d"), 3, 21,
     "cell A9 is off the grid"),
    ("off-grid-move", "off-grid", lesson("circle c at B2\nstep 1s: create c\nstep 1s: move c to Z1"),
     5, 22, "cell Z1 is off the grid"),
    ("inverted-area", "inverted-area", lesson("circle c in C3..A1\nstep 1s: create c"), 3, 12,
     "the area C3..A1 is inverted"),
    ("relation-self", "relation-self", lesson('label l "x" below l\nstep 1s: create l'), 3, 21,
     "'l' is placed relative to itself"),
    ("not-a-line", "not-a-line", lesson("circle c at B2\nstep 1s: create c; highlight c"), 4, 32,
     "'c' is an element, not a lecture line"),
    ("not-an-element", "not-an-element",
     lesson('line l1 "A sentence."\nlabel lb "x" below l1\nstep 1s: create lb'), 4, 22,
     "'l1' is a lecture line, not an element"),
    ("undefined-element", "undefined-id", lesson("circle c at B2\nstep 1s: create cc"), 4, 19,
     "no element named 'cc' in section 's'"),
    ("undefined-line", "undefined-id", lesson('line l1 "A sentence."\nstep 1s: highlight l2'),
     4, 22, "no lecture line named 'l2' in section 's'"),
    ("undefined-relation-target", "undefined-id",
     lesson('label l "x" below nothing\nstep 1s: create l'), 3, 21,
     "no element named 'nothing'"),
    ("bad-expression", "bad-expression",
     lesson('axes ax x=-3..3 y=0..9 in A1..D6\nplot f "x**2" on ax\nstep 1s: create ax, f'),
     4, 13, "unexpected '*' in the function"),
    ("unknown-kind", "unknown-kind", lesson("cirle c at B2\nstep 1s: create c"), 3, 3,
     "unknown element kind 'cirle'"),
    ("bad-target", "bad-target", lesson('circle c at B2\nplot f "x^2" on c\nstep 1s: create c, f'),
     4, 19, "'c' is a circle, not axes"),
    ("ragged-table", "ragged-table",
     lesson('table t in A1..C3:\n  "a" "b"\n  "c"\nstep 1s: create t'), 5, 5,
     "this row has 1 cell, the first row has 2"),
    ("needs-relation", "needs-relation", lesson('label l "x" at B2\nstep 1s: create l'), 3, 9,
     "a label is placed relative to another element"),
    ("bad-placement", "bad-placement",
     lesson('axes ax x=-3..3 y=0..9 in A1..D6\nplot f "x^2" on ax at B2\nstep 1s: create ax, f'),
     4, 22, "a plot takes its place from its axes"),
    ("image-path-empty", "missing-image", lesson('image i "" at B2\nstep 1s: create i'), 3, 11,
     "the image path is empty"),
    ("image-missing", "missing-image", lesson('image i "nothere.png" at B2\nstep 1s: create i'),
     3, 11, "image file 'nothere.png' does not exist"),
    ("math-escape", "math-escape", lesson('math m "\\nabla f" at B2\nstep 1s: create m'), 3, 10,
     "this formula contains a line break"),
    ("relation-cycle", "relation-cycle",
     lesson('text a "x" below b\ntext b "y" below a\nstep 1s: create a, b'), 3, 14,
     "these placements form a cycle: a → b → a"),
    ("step-duration-zero", "bad-duration", lesson("circle c at B2\nstep 0s: create c"), 4, 8,
     "a step must last longer than 0 s"),
    ("section-duration-zero", "bad-duration",
     'lesson "Test"\nsection s "S" 0s\n  circle c at B2\n  step 1s: create c\n', 2, 1,
     "a section's duration must be positive"),
    ("section-too-long", "section-too-long",
     'lesson "Test"\nsection s "S" 2s\n  circle c at B2\n  step 3s: create c\n', 2, 1,
     "the steps of section 's' last 3 s, more than the declared 2 s"),
    ("no-steps", "no-steps", lesson('line l1 "x"'), 2, 9,
     "section 's' has no steps, so it shows nothing"),
    ("never-shown", "never-shown", lesson("circle c at B2\ncircle d at B3\nstep 1s: create c"),
     4, 10, "'d' is never shown"),
    ("unknown-action", "unknown-action", lesson("circle c at B2\nstep 1s: fadein c"), 4, 12,
     "unknown action 'fadein'"),
    ("already-shown", "already-shown", lesson("circle c at B2\nstep 1s: create c\nstep 1s: create c"),
     5, 19, "'c' is already on screen"),
    ("transform-into-shown", "already-shown",
     lesson("circle c at B2\nsquare q at B3\nstep 1s: create c, q\nstep 1s: transform c into q"),
     6, 29, "'q' is already on screen"),
    ("play-not-custom", "bad-action", lesson("circle c at B2\nstep 1s: play c"), 4, 17,
     "'c' is a circle; `play` runs a custom element's animation"),
    ("plot-before-axes", "before-exists",
     lesson('axes ax x=-3..3 y=0..9 in A1..D6\nplot f "x^2" on ax\nstep 1s: create f\n'
            'step 1s: create ax'), 5, 19, "the plot 'f' is shown before its axes 'ax'"),
    ("used-before-shown", "before-exists",
     lesson("circle c at B2\nstep 1s: indicate c\nstep 1s: create c"), 4, 21,
     "'c' is used before it is shown"),
    ("after-removed", "after-removed",
     lesson("circle c at B2\nstep 1s: create c\nstep 1s: fade out c\nstep 1s: indicate c"), 6, 21,
     "'c' acts after it was removed (line 5)"),
    # builder
    ("bad-cell", "bad-cell", lesson("circle c at top\nstep 1s: create c"), 3, 15,
     "'top' is not a cell of the anchor grid"),
    ("line-extra", "line-extra", lesson('line l1 "x" at B2\nstep 1s: highlight l1'), 3, 15,
     "a lecture line takes only an id and its sentence"),
    ("no-header", "no-header", 'section s "S"\n  circle c at B2\n  step 1s: create c\n', 1, 1,
     "the lesson has no header"),
    ("line-never-shown", "line-never-shown", lesson('line l1 "a"\nline l2 "b"\ntext t "x" at A1\n'
                                                    'step 1s: say l1 "A."; create t'), 4, 8,
     "lecture line 'l2' never appears"),
    ("two-placements", "two-placements", lesson("circle c at B2 in A1..B2\nstep 1s: create c"),
     3, 18, "an element has one placement"),
    ("bad-part", "bad-part", lesson('table t at B2:\n  "a" "b"\nstep 1s: create t\n'
                                    "step 1s: indicate t[0, 1]"), 6, 23, "'0' is not a part number"),
]

# (code, a corrected lesson with no diagnostics at all)
POSITIVE = {
    "empty-title": with_settings(""),
    "line-never-shown": lesson('line l1 "a"\nline l2 "b"\ntext t "x" at A1\n'
                               'step 1s: create t\nstep 1s: highlight l2'),
    "duplicate-setting": with_settings("  fps: 30\n  rate: 1.1\n"),
    "unknown-setting": with_settings('  audience: "ages 12-14"\n  subject: "geometry"\n'),
    "unknown-theme": with_settings("  theme: chalkboard\n"),
    "bad-setting": with_settings('  resolution: 1920x1080\n  fps: 30\n  rate: 0.9\n'
                                 '  audience: "adults"\n  voice: espeak\n  language: en\n'),
    "duplicate-id": lesson('text t "x" at A1\ncircle u at B2\nstep 1s: create t, u')
    + 'section s2 "Again"\n  text t "y" at A1\n  step 1s: create t\n',
    "cell-id": lesson("circle b2 at B2\nstep 1s: create b2"),
    "duplicate-option": lesson("circle c at B2 color=red fill=blue\nstep 1s: create c"),
    "unknown-option": lesson("circle c at B2 radius=2 color=#ff8800\nstep 1s: create c"),
    "unknown-color": lesson("circle c at B2 color=light_gray fill=#00ff00\nstep 1s: create c"),
    "bad-option": lesson('axes ax x=-3..3 y=0..9 step=1 x_label="x" in A1..D6\n'
                         'circle c at E2 radius=0.5 opacity=0.5\n'
                         'code k "x = 1" language=python at F5\n'
                         "step 1s: create ax, c, k"),
    "bad-args": lesson('circle c at B2\ntext t "a" at B3\narrow a (0,0) (1,1) at C2\n'
                       "line d from A1 to c\npolygon p (0,0) (1,1) (2,0) in D1..E2\n"
                       'table tb in A4..B6:\n  "a" "b"\nbullets bl in C4..D6:\n  "one"\n  "two"\n'
                       'custom cu "A square turns." in E4..F6\n'
                       "step 1s: create c, t, a, d, p, tb, bl\nstep 1s: play cu"),
    "off-grid": lesson("circle c at F6\nline d from A1 to F6\nstep 1s: create c, d\n"
                       "step 1s: move c to at A1"),
    "inverted-area": lesson("circle c in A1..C3\nstep 1s: create c"),
    "relation-self": lesson('circle c at B2\nlabel l "x" below c\nstep 1s: create c, l'),
    "not-a-line": lesson('line l1 "A sentence."\nstep 1s: highlight l1'),
    "not-an-element": lesson('circle c at B2\nlabel lb "x" below c\nstep 1s: create c, lb'),
    "undefined-id": lesson('line l1 "A sentence."\ncircle c at B2\n'
                           "step 1s: create c; highlight l1"),
    "bad-expression": lesson('axes ax x=-3..3 y=0..9 in A1..D6\nplot f "x^2 + 2 sin(x)" on ax\n'
                             "step 1s: create ax, f"),
    "unknown-kind": lesson("circle c at B2\nstep 1s: create c"),
    "bad-target": lesson('axes ax x=-3..3 y=0..9 in A1..D6\nplot f "x^2" on ax\n'
                         "step 1s: create ax, f"),
    "ragged-table": lesson('table t in A1..C3:\n  "a" "b"\n  "c" "d"\nstep 1s: create t'),
    "needs-relation": lesson('circle c at B2\nlabel l "x" right of c\nstep 1s: create c, l'),
    "bad-placement": lesson('axes ax x=-3..3 y=0..9 in A1..D6\nplot f "x^2" on ax\n'
                            "step 1s: create ax, f"),
    "missing-image": lesson('image i "pic.png" at B2\nstep 1s: create i'),
    "math-escape": lesson("math m $\\nabla f$ at B2\nstep 1s: create m"),
    "relation-cycle": lesson('text a "x" at A1\ntext b "y" below a\nstep 1s: create a, b'),
    "bad-duration": 'lesson "Test"\nsection s "S" 2s\n  circle c at B2\n  step 500ms: create c\n',
    "section-too-long": 'lesson "Test"\nsection s "S" 3s\n  circle c at B2\n  step 3s: create c\n',
    "no-steps": lesson('line l1 "x"\nstep 1s: highlight l1'),
    "never-shown": lesson("circle c at B2\ncircle d at B3\nstep 1s: create c\nstep 1s: create d"),
    "unknown-action": lesson('circle c at B2\nline l1 "x"\nstep 1s: fade in c; say l1 "Look."\n'
                             "step 1s: indicate c; highlight l1\nstep 1s: fade out c"),
    "already-shown": lesson("circle c at B2\nsquare q at B3\nstep 1s: create c\n"
                            "step 1s: transform c into q\nstep 1s: indicate q"),
    "bad-action": lesson('custom cu "A square turns." in A1..C3\nstep 1s: play cu'),
    "before-exists": lesson("circle c at B2\nstep 1s: create c\nstep 1s: indicate c"),
    "after-removed": lesson("circle c at B2\nstep 1s: create c\nstep 1s: fade out c\n"
                            "step 1s: fade in c\nstep 1s: indicate c"),
    "bad-cell": lesson("circle c at b2\nstep 1s: create c"),
    "line-extra": lesson('line l1 "x"\narrow a (0,0) (1,1) at B2\nstep 1s: highlight l1; create a'),
    "no-header": lesson("circle c at B2\nstep 1s: create c"),
    "two-placements": lesson("circle c at B2 color=red\nstep 1s: create c"),
    "bad-part": lesson('table t at B2:\n  "a" "b"\nstep 1s: create t\nstep 1s: indicate t[1, 2]'),
}


@pytest.mark.parametrize("case", NEGATIVE, ids=[c[0] for c in NEGATIVE])
def test_negative(case, tmp_path):
    _, code, text, line, column, message = case
    found = diagnose(text, base_dir=tmp_path)
    matching = [d for d in found if d.code == code]
    assert matching, f"no {code} diagnostic; got {[(d.code, d.message) for d in found]}"
    d = matching[0]
    assert (d.span.line, d.span.column) == (line, column), d.render(text)
    assert message in d.message
    assert d.span.file == "t.lecture"
    assert d.severity == ("warning" if code in WARNINGS else "error")
    # The span never starts past the end of its line, so the caret lands on the text.
    source_line = text.split("\n")[line - 1]
    assert 1 <= d.span.column <= len(source_line) + 1
    rendered = d.render(text)
    assert rendered.startswith(f"t.lecture:{line}:{column}: {d.severity}: ")
    if d.severity == "error":
        with pytest.raises(DiagnosticError):
            load_text(text, "t.lecture", base_dir=tmp_path)


@pytest.mark.parametrize("code", sorted(POSITIVE))
def test_positive(code, tmp_path):
    (tmp_path / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    loaded = load_text(POSITIVE[code], "t.lecture", base_dir=tmp_path)
    assert [(d.code, d.message) for d in loaded.diagnostics] == []


def test_warnings_do_not_stop_the_lesson_unless_strict():
    text = lesson("circle c at B2\ncircle d at B3\nstep 1s: create c")
    loaded = load_text(text)
    assert [d.code for d in loaded.diagnostics] == ["never-shown"]
    with pytest.raises(DiagnosticError) as info:
        load_text(text, strict=True)
    assert [(d.severity, d.code) for d in info.value.diagnostics] == [("error", "never-shown")]


def test_every_problem_is_reported_in_one_run_in_line_order():
    text = lesson("cirle c at B2\ncircle d at G7 colr=red\nstep 1s: create d; fadein d")
    found = diagnose(text)
    assert [d.code for d in found] == ["unknown-kind", "off-grid", "unknown-option", "unknown-action"]
    assert [(d.span.line, d.span.column) for d in found] == sorted(
        (d.span.line, d.span.column) for d in found)


def test_hints_name_the_likely_fix():
    found = {d.code: d for d in diagnose(lesson(
        "cirle c at B2\ncircle d at B3 color=blu\nstep 1s: create d; fadein d"))}
    assert found["unknown-kind"].hint == "did you mean 'circle'?"
    assert found["unknown-color"].hint == "did you mean 'blue'?"
    assert found["unknown-action"].hint == "did you mean 'fade in'?"


def test_an_element_id_wins_over_a_cell_name_in_endpoints():
    text = lesson("circle c2 at B2\ncircle c9 at B4\nline d from c2 to c9\nstep 1s: create c2, c9, d")
    assert diagnose(text) == []


def _codes_in(path: Path, functions: set[str]) -> set[str]:
    """The `code` argument of every error()/warning() call in a module."""
    codes = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in functions:
            continue
        args = list(node.args) + [k.value for k in node.keywords if k.arg == "code"]
        if len(node.args) >= 4 or any(k.arg == "code" for k in node.keywords):
            last = args[-1]
            if isinstance(last, ast.Constant) and isinstance(last.value, str):
                codes.add(last.value)
    return codes


def test_every_check_and_builder_code_has_a_negative_and_a_positive_case():
    codes = (_codes_in(ROOT / "compiler" / "checks.py", {"error", "warning"})
             | _codes_in(ROOT / "compiler" / "builder.py", {"error"}))
    assert len(codes) > 30  # the scan itself works
    tested_negative = {c[1] for c in NEGATIVE}
    assert codes - tested_negative == set(), "add a NEGATIVE case for these codes"
    assert codes - set(POSITIVE) == set(), "add a POSITIVE case for these codes"
