"""The language points at parts (issue 15, points 1, 2, 4 and 5): formula terms, table cells,
rows and columns, list items and code lines (`eq[$b^2$]`, `t[2, 3]`, `t[row 2]`, `steps[2]`,
`prog[line 4]`); restyling (`color`, `scale`, `rotate`); frames `around` an element or a part;
terms carried across a rearrangement; xcolor in the TeX template.

Syntax, formatter, JSON form and checks are tested on the model; the rest on one shared render
(the real Cairo renderer, every frame recorded: colours are exact), whose frames are asserted
on: the coloured term is orange and its neighbours are not, the highlighted cell differs from its
neighbours at the step's end, the frame's rectangle goes around the term's box, a carried term
keeps its colour in the new formula."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import diagnose, lesson
from hypothesis import given, settings
from hypothesis import strategies as st
from lecture.compiler import model as m
from lecture.compiler.format import format_lesson, format_text
from lecture.compiler.frontend import load_text, parse_text
from lecture.compiler.jsonform import lesson_from_json, lesson_to_json, validate_json
from lecture.compiler.kinds import KINDS, PARTS, RESTYLE_VERBS, VERBS
from lecture.compiler.layout import Box
from lecture.compiler.lower import compile_lesson, section_contexts
from lecture.compiler.parts import term_key, term_spans, top_level_terms
from lecture.compiler.reference import language_reference
from lecture.runtime.measure import ManimMeasurer
from test_step_truth import FPS, Rendered, _render

# ---------------------------------------------------------------- syntax, formatter, JSON

EVERY_FORM = lesson('''
    math eq $a^2 + b^2 = c^2$ at B4
    table t in A1..B3:
      "n" "n²"
      "2" "4"
      "3" "9"
    bullets steps "one" "two" in E1..F2
    code prog """
      x = 1
      y = 2
      """ at E5
    frame f around t[2][2] color=yellow stroke=3
    arrow a from t[row 1] to eq["c^2"]
    label lb "b" below eq[$b^2$]
    brace br "sum" above eq[$a^2 + b^2$]
    step 1s: write eq; create t, steps, prog
    step 1s: create f, a, lb, br; color eq[$b^2$] orange; color t[column 2] #ff8800
    step 1s: highlight t[3, 1], prog[line 2]; indicate steps[2]
    step 1s: scale eq 1.5; rotate t -12.5 about A1; rotate prog 90
''')


def test_every_form_reads_as_parts_and_restyles():
    section = parse_text(EVERY_FORM).sections[0]
    frame, arrow, label, brace = (section.element(k) for k in ("f", "a", "lb", "br"))
    assert frame.placement == m.Relative("around", m.Ref("t", part=m.Part("cell", numbers=(2, 2))))
    assert arrow.endpoints.start.part == m.Part("row", numbers=(1,))
    assert arrow.endpoints.end.part == m.Part("term", term="c^2")
    assert label.placement.target.part == m.Part("term", term="b^2")
    assert brace.placement.target.part == m.Part("term", term="a^2 + b^2")
    acts = [a for s in section.steps for a in s.actions]
    color = next(a for a in acts if a.verb == "color" and a.value == m.Word("orange"))
    assert color.targets == (m.Ref("eq", part=m.Part("term", term="b^2")),)
    assert next(a for a in acts if a.verb == "color" and a.value == m.Color("#ff8800")).targets[0].part == \
        m.Part("column", numbers=(2,))
    rotate = next(a for a in acts if a.verb == "rotate")
    assert (rotate.value, rotate.about) == (-12.5, m.Ref("A1"))
    assert next(a for a in acts if a.verb == "scale").value == 1.5
    highlight = next(a for a in acts if a.verb == "highlight")
    assert [r.part for r in highlight.targets] == [m.Part("cell", numbers=(3, 1)),
                                                   m.Part("line", numbers=(2,))]


def test_the_formatter_writes_parts_canonically_and_stably():
    once = format_text(EVERY_FORM)
    assert format_text(once) == once
    assert "frame f around t[2, 2] color=yellow" in once  # t[2][2] is written t[2, 2]
    assert 'arrow a from t[row 1] to eq[$c^2$]' in once  # a term is written between $…$
    assert "color t[column 2] #ff8800" in once
    assert "rotate t -12.5 about A1" in once
    assert parse_text(once) == parse_text(EVERY_FORM)


def test_the_json_form_keeps_parts_and_restyles():
    model = parse_text(EVERY_FORM)
    data = lesson_to_json(model)
    assert validate_json(data) == []
    assert lesson_from_json(data) == model
    color = data["sections"][0]["steps"][1]["actions"][1]
    assert color["verb"] == "color" and color["value"] == {"type": "word", "name": "orange"}
    assert [(t["name"], {k: v for k, v in t["part"].items() if k != "at"}) for t in color["targets"]] == \
        [("eq", {"kind": "term", "term": "b^2"})]
    rotate = data["sections"][0]["steps"][3]["actions"][1]
    assert (rotate["value"], rotate["about"]) == (-12.5, "A1")
    frame = data["sections"][0]["elements"][4]["placement"]["target"]
    at = {"line": 13, "column": 19, "end_line": 13, "end_column": 25}
    assert frame == {"name": "t", "part": {"kind": "cell", "index": [2, 2], "at": at}}
    no_value = {k: v for k, v in color.items() if k != "value"}
    one_step = {"type": "step", "duration": 1, "actions": [no_value]}
    # a colour needs its value
    assert validate_json(dict(data, sections=[dict(data["sections"][0], steps=[one_step])]))


_NUMBER = st.integers(min_value=1, max_value=99)
_TERMS = st.sampled_from(["x", "b^2", "\\frac{a}{b}", "a + b", "{c}", "x$y"])
_PART = st.one_of(
    st.builds(lambda t: m.Part("term", term=t), _TERMS),
    st.builds(lambda r, c: m.Part("cell", numbers=(r, c)), _NUMBER, _NUMBER),
    st.builds(lambda k, n: m.Part(k, numbers=(n,)), st.sampled_from(["row", "column", "item", "line"]),
              _NUMBER))
_REF = st.builds(lambda name, part: m.Ref(name, part=part), st.sampled_from(["eq", "t", "x_1"]),
                 st.none() | _PART)
_ACTION = st.one_of(
    st.builds(lambda refs, c: m.Action("color", tuple(refs), value=c), st.lists(_REF, min_size=1, max_size=3),
              st.sampled_from([m.Word("orange"), m.Color("#12ab0f")])),
    st.builds(lambda refs, v: m.Action("scale", tuple(refs), value=v), st.lists(_REF, min_size=1, max_size=2),
              st.sampled_from([1.5, 2, 0.25])),
    st.builds(lambda refs, v, about: m.Action("rotate", tuple(refs), value=v, about=about),
              st.lists(_REF, min_size=1, max_size=2), st.sampled_from([90, -45.5]), st.none() | _REF),
    st.builds(lambda verb, refs: m.Action(verb, tuple(refs)), st.sampled_from(["indicate", "highlight"]),
              st.lists(_REF, min_size=1, max_size=3)))


@settings(max_examples=60, deadline=None)
@given(st.lists(_ACTION, min_size=1, max_size=4), _REF)
def test_generated_parts_round_trip_through_text_and_json(actions, around):
    element = m.Element("frame", "f", placement=m.Relative("around", around))
    model = m.Lesson(m.Text("T"), sections=(m.Section("s", m.Text("S"), elements=(element,),
                                                      steps=(m.Step(1.0, tuple(actions)),)),))
    text = format_lesson(model)
    assert parse_text(text) == model
    assert format_text(text) == text
    assert lesson_from_json(lesson_to_json(model)) == model
    assert validate_json(lesson_to_json(model)) == []


# ---------------------------------------------------------------- terms


def test_terms_are_matched_on_tex_tokens():
    assert term_spans("a^2 + b^2 = c^2", "b^2") == [(6, 9)]
    assert term_spans("a^2+b^2", "a^2 + b^2") == [(0, 7)]  # spaces do not matter
    assert term_spans("\\alpha + a", "a") == [(9, 10)]  # not inside a command
    assert term_spans("x + x^2", "x") == [(0, 1), (4, 5)]  # every place
    assert term_spans("b^{2} + 1", "b^{2") == []  # not a whole group
    assert term_key("\\alpha  b") == "\\alpha b" and term_key("a ^ 2") == "a^2"
    assert top_level_terms("a^2 + b^2 = c^2") == ["a^2", "b^2", "c^2"]
    assert top_level_terms("\\frac{a+b}{2} \\le \\sqrt{x}") == ["\\frac{a+b}{2}", "\\sqrt{x}"]
    assert top_level_terms("a^2 = c^2 - \\textcolor{orange}{b^2}") == ["a^2", "c^2", "b^2"]


# ---------------------------------------------------------------- checks


def _only(text: str) -> m.Diagnostic:
    found = [d for d in diagnose(text) if d.severity == "error"]
    assert len(found) == 1, [d.render() for d in found]
    return found[0]


MISUSES = [
    # (lesson body, line, column, message, hint part, code)
    ('math eq $a^2 + b^2$ at B2\nstep 1s: write eq\nstep 1s: indicate eq[$d^2$]', 5, 23,
     "'d^2' is not a term of 'eq'", "eq[$a^2$], eq[$b^2$]", "unknown-part"),
    ('table t at B2:\n  "a" "b"\n  "1" "2"\nstep 1s: create t\nstep 1s: color t[3, 1] red', 7, 19,
     "table 't' has 2 rows, not 3", "t[1, 1] to t[2, 2]", "unknown-part"),
    ('table t at B2:\n  "a" "b"\nstep 1s: create t\nstep 1s: highlight t[column 4]', 6, 23,
     "table 't' has 2 columns, not 4", "t[column 1]", "unknown-part"),
    ('bullets b "x" "y" at B2\nstep 1s: create b\nstep 1s: indicate b[3]', 5, 22,
     "list 'b' has 2 items, not 3", "b[1] to b[2]", "unknown-part"),
    ('code k """\n  a = 1\n\n  b = 2\n  """ at B2\nstep 1s: create k\nstep 1s: highlight k[line 2]', 9, 23,
     "line 2 of code 'k' is empty", "k[line 1] to k[line 3]", "unknown-part"),
    ('circle c at B2\nstep 1s: create c\nstep 1s: indicate c[1]', 5, 22, "circle 'c' has no parts",
     "circle elements have no parts", "unknown-part"),
    ('math eq $x$ at B2\nstep 1s: write eq\nstep 1s: indicate eq[row 1]', 5, 23, "math 'eq' has no rows",
     "its terms include eq[$x$]", "unknown-part"),
    ('table t at B2:\n  "a" "b"\nstep 1s: create t\nstep 1s: fade out t[1, 2]', 6, 22,
     "`fade out` acts on a whole element, not on a part of it", "write `fade out t`", "part-not-here"),
    ('table t at B2:\n  "a" "b"\nstep 1s: create t\nstep 1s: scale t[row 1] 2', 6, 19,
     "`scale` acts on a whole element", "write `scale t`", "part-not-here"),
    ('math eq $x$ at B2\nframe f at C3\nstep 1s: write eq; create f', 4, 11,
     "a frame goes around another element or a part of it", "frame f around eq[$b^2$]", "needs-around"),
    ('math eq $x$ at B2\ntext n "note" around eq\nstep 1s: write eq; write n', 4, 17,
     "only a frame goes `around` an element", "below, above", "bad-placement"),
    ('math eq $x$ at B2\nstep 1s: write eq\nstep 1s: color eq oranje', 5, 21, "unknown colour 'oranje'",
     "did you mean 'orange'?", "unknown-color"),
    ('math eq $a + \\textcolor{oranje}{b}$ at B2\nstep 1s: write eq', 3, 27,
     "unknown colour 'oranje' in the formula", "did you mean 'orange'?", "unknown-color"),
    ('math eq $x$ at B2\nstep 1s: write eq\nstep 1s: scale eq 0', 5, 12,
     "`scale` needs a factor greater than 0", "scale eq 1.5", "bad-action"),
    ('code k "x = 1" at B2\nstep 1s: create k\nstep 1s: color k red', 5, 18,
     "code 'k' draws in colours of its own", "color k[line 1] yellow", "bad-action"),
    ('square q at B2\nstep 1s: create q\nstep 1s: rotate q 45 about Z9', 5, 30, "cell Z9 is off the grid",
     "rows A-F", "off-grid"),
    ('square q at B2\nstep 1s: create q\nstep 1s: rotate q 45 about middle', 5, 30,
     "no element or cell named 'middle'", "rotate sq 90 about C3", "undefined-id"),
    ('math eq $x$ at B2\nstep 1s: color eq[$x$] red', 4, 18, "'eq' is used before it is shown",
     "create eq", "before-exists"),
    ('math eq $x$ at B2\nframe f around eq\nstep 1s: create f\nstep 1s: write eq', 5, 19,
     "the frame 'f' is shown before 'eq', which it goes around", "show eq in this or an earlier step",
     "before-exists"),
]


@pytest.mark.parametrize("body, line, column, message, hint, code", MISUSES,
                         ids=[f"{c[5]}-{i}" for i, c in enumerate(MISUSES)])
def test_each_misuse_is_a_diagnostic_at_its_place_with_a_hint(body, line, column, message, hint, code):
    d = _only(lesson(body))
    assert (d.code, d.span.line, d.span.column) == (code, line, column), d.render()
    assert message in d.message and hint in (d.hint or ""), d.render()


def test_the_right_uses_are_clean():
    text = lesson('''
        math eq $a^2 + \\textcolor{orange}{b^2} = c^2$ at B2
        table t at D2:
          "a" "b"
          "1" "2"
        frame f around eq[$c^2$] color=yellow
        step 1s: write eq; create t
        step 1s: create f; color t[2, 2] teal; highlight t[row 2]; indicate eq[$b^2$]
        step 1s: rotate t 30 about eq; scale eq 1.2; color eq #336699
    ''')
    assert [d.render() for d in diagnose(text) if d.severity == "error"] == []


# ---------------------------------------------------------------- the reference and the prompt


def test_the_reference_documents_every_part_and_restyle_from_the_tables():
    from lecture.agents.planner import system_prompt

    reference = language_reference()
    for _doc, example in PARTS.values():
        assert f"`{example}`" in reference
    for verb in RESTYLE_VERBS:
        assert f"| `{verb}` | {VERBS[verb][0]}" in reference
    assert KINDS["frame"].example in reference and "\\textcolor{orange}{b^2}" in reference
    assert "t[column 3]" in system_prompt()  # the Planner reads the same reference
    block = reference.split("### Parts", 1)[1].split("```lecture\n", 1)[1].split("```", 1)[0]
    assert not [d for d in diagnose(lesson(block)) if d.severity == "error"]  # its example is valid


# ---------------------------------------------------------------- lowering


def test_lowering_points_at_parts_and_carries_terms():
    text = lesson('''
        math eq $a^2 + b^2 = c^2$ at B4
        math eq2 $a^2 = c^2 - b^2$ at D4
        table t in A1..B3:
          "x" "y"
          "1" "2"
        code prog "a = 1" at E5
        frame f around eq[$b^2$] color=yellow
        step 1s: write eq; create t; fade in prog
        step 1s: color eq[$b^2$] orange; highlight t[2, 2]; indicate prog[line 1]; create f
        step 1s: rotate t 90 about A1; scale prog 0.5
        step 1s: fade out f; transform eq into eq2
    ''')
    code = compile_lesson(load_text(text, "t.lecture").lesson, base_dir=Path("."), measurer=None).code
    indent = "\n" + " " * 12
    assert f"eq = formula({indent}'a^2 + b^2 = c^2',{indent}terms=['b^2'],{indent}carry=True," in code
    assert "f = frame_around(part_of(eq, 'term', 'b^2'), color='#f7d96f', buff=0.1)" in code
    assert "part_of(eq, 'term', 'b^2').animate.set_color('#ff862f')" in code
    assert "self.highlight_part(part_of(t, 'cell', 2, 2))" in code
    assert "Indicate(part_of(prog, 'line', 1), color=" in code
    assert "turn(t, angle=90.0 * DEGREES, about_point=np.array([0.5, 2.2, 0.0]), whole_step=False)" in code
    assert "prog.animate.scale(0.5)" in code
    assert "carry_terms(eq, eq2)" in code and "ReplacementTransform" not in code
    plain = compile_lesson(load_text(lesson('math eq $x$ at B2\nmath e2 $y$ at B3\ntext n "n" at C2\n'
                                            'step 1s: write eq, n\nstep 1s: transform n into e2'),
                                     "t.lecture").lesson, base_dir=Path("."), measurer=None).code
    assert "eq = MathTex(" in plain and "ReplacementTransform(n, e2)" in plain  # nothing to carry


# ---------------------------------------------------------------- one shared render

SHARED = lesson('''
    math eq $a^2 + b^2 = c^2$ at B4 font_size=48
    math eq2 $a^2 = c^2 - b^2$ at E4 font_size=48
    math decl $x + \\textcolor{orange}{y} + \\mathbb{R} + \\dfrac{1}{2}$ at F1
    table t in A1..B3:
      "n" "n²"
      "2" "4"
      "3" "9"
    frame f around eq[$c^2$] color=yellow
    step 1s: write eq; create t; write decl
    step 1s: color eq[$b^2$] orange; highlight t[2, 2]; create f
    step 1s: indicate t[3, 1], decl[$x$], decl[$y$]
    step 1s: fade out f; transform eq into eq2
''')
END_OF = {n: FPS * n - 1 for n in range(1, 5)}
ORANGE, YELLOW = np.array([0xFF, 0x86, 0x2F]), np.array([0xF7, 0xD9, 0x6F])


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> tuple[Rendered, dict[str, Box]]:
    model = load_text(SHARED, "t.lecture").lesson
    module = compile_lesson(model, base_dir=Path("."), measurer=ManimMeasurer())
    rendered = _render(module, tmp_path_factory.mktemp("parts"))
    ctx = section_contexts(model, base_dir=Path("."), measurer=ManimMeasurer())[0]
    refs = {"a^2": ("eq", m.Part("term", term="a^2")), "b^2": ("eq", m.Part("term", term="b^2")),
            "c^2": ("eq", m.Part("term", term="c^2")), "eq2 b^2": ("eq2", m.Part("term", term="b^2")),
            "y": ("decl", m.Part("term", term="y")), "x": ("decl", m.Part("term", term="x")),
            **{f"cell {r},{c}": ("t", m.Part("cell", numbers=(r, c))) for r in (1, 2, 3) for c in (1, 2)}}
    boxes = {name: ctx.ref_box(m.Ref(eid, part=part)) for name, (eid, part) in refs.items()}
    if os.environ.get("LECTURE_TRUTH_PNG"):  # a folder: the frames tested, as PNGs to look at
        from PIL import Image

        for n, i in END_OF.items():
            Image.fromarray(rendered.frames[i]).save(Path(os.environ["LECTURE_TRUTH_PNG"]) / f"parts{n}.png")
    return rendered, boxes


def _pixels(r: Rendered, frame: int, box: Box) -> np.ndarray:
    from test_step_truth import FRAME_H, FRAME_W, HEIGHT, WIDTH

    left = int((box.left + FRAME_W / 2) / FRAME_W * WIDTH)
    right = int(np.ceil((box.right + FRAME_W / 2) / FRAME_W * WIDTH))
    top = int((FRAME_H / 2 - box.top) / FRAME_H * HEIGHT)
    bottom = int(np.ceil((FRAME_H / 2 - box.bottom) / FRAME_H * HEIGHT))
    return r.frames[frame][top:bottom, left:right].reshape(-1, 3).astype(int)


def _near(pixels: np.ndarray, colour: np.ndarray, tolerance: int = 60) -> int:
    return int((np.abs(pixels - colour).sum(axis=1) < tolerance).sum())


def test_a_coloured_term_is_that_colour_and_its_neighbours_are_not(shared):
    r, boxes = shared
    assert _near(_pixels(r, END_OF[1], boxes["b^2"]), ORANGE) == 0  # not before the step
    assert _near(_pixels(r, END_OF[2], boxes["b^2"]), ORANGE) >= 15
    for other in ("a^2", "c^2"):
        assert _near(_pixels(r, END_OF[2], boxes[other]), ORANGE) == 0


def test_a_term_coloured_in_its_tex_is_that_colour_from_the_start(shared):
    r, boxes = shared  # \textcolor{orange}{y}: xcolor is in the template, with the lesson's colours
    assert _near(_pixels(r, END_OF[1], boxes["y"]), ORANGE) >= 5
    assert _near(_pixels(r, END_OF[1], boxes["x"]), ORANGE) == 0


def _median(r: Rendered, frame: int, box: Box) -> np.ndarray:
    return np.median(_pixels(r, frame, box.inset(0.05)), axis=0)


def test_a_highlighted_cell_differs_from_its_neighbours_at_the_step_end(shared):
    r, boxes = shared
    cell = _median(r, END_OF[2], boxes["cell 2,2"])
    for neighbour in ("cell 1,2", "cell 3,2", "cell 2,1"):
        assert np.abs(cell - _median(r, END_OF[2], boxes[neighbour])).sum() > 40
    before = _median(r, END_OF[1], boxes["cell 2,2"]) - _median(r, END_OF[1], boxes["cell 3,2"])
    assert np.abs(before).sum() < 10
    assert np.abs(cell - _median(r, END_OF[3], boxes["cell 2,2"])).sum() < 10  # it stays


def test_an_indicated_cell_flashes_and_comes_back(shared):
    r, boxes = shared
    middle = END_OF[2] + FPS // 2
    cell = boxes["cell 3,1"]
    assert _near(_pixels(r, middle, cell), YELLOW, 90) > _near(_pixels(r, END_OF[2], cell), YELLOW, 90) + 5
    assert np.array_equal(_pixels(r, END_OF[3], cell), _pixels(r, END_OF[2], cell))


def test_a_frame_goes_around_the_terms_box(shared):
    r, boxes = shared
    term = boxes["c^2"]
    ring = Box(term.cx, term.cy, term.w + 0.2, term.h + 0.2)
    for side in (Box(ring.left, term.cy, 0.08, term.h * 0.5), Box(ring.right, term.cy, 0.08, term.h * 0.5),
                 Box(term.cx, ring.top, term.w * 0.5, 0.08), Box(term.cx, ring.bottom, term.w * 0.5, 0.08)):
        assert _near(_pixels(r, END_OF[2], side), YELLOW) >= 2, side
        assert _near(_pixels(r, END_OF[1], side), YELLOW) == 0
    assert _near(_pixels(r, END_OF[2], term.inset(0.03)), YELLOW) == 0  # the term itself is not framed over


def test_a_transform_carries_the_coloured_term_into_the_new_formula(shared):
    r, boxes = shared
    assert _near(_pixels(r, END_OF[4], boxes["eq2 b^2"]), ORANGE) >= 15
    assert _near(_pixels(r, END_OF[4], boxes["b^2"]), ORANGE) == 0  # it left its old place
