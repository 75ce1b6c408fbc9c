"""Coordinates on axes, number planes, number lines and plots (issue 15, point 3): the forms
read, check, format, travel as JSON, lower to code that asks the axes where a coordinate is,
and render where the axes put them (a dot at its coordinate within a pixel of the frame)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import diagnose, lesson
from frame_truth import decode_frames, step_end_frames
from hypothesis import given, settings
from hypothesis import strategies as st
from lecture.compiler import model as m
from lecture.compiler import theme as T
from lecture.compiler.diagnostics import Diagnostic, has_errors
from lecture.compiler.expression import evaluate, parse_expression
from lecture.compiler.findings import lesson_findings
from lecture.compiler.format import format_lesson, format_text
from lecture.compiler.frontend import load_text, parse_text
from lecture.compiler.jsonform import lesson_from_json, lesson_to_json, validate_json
from lecture.compiler.kinds import KINDS
from lecture.compiler.lower import compile_lesson
from lecture.compiler.reference import language_reference
from lecture.runtime.ffmpeg import probe
from lecture.runtime.geometry import compile_for_views, lesson_views, run_views

# Every form, in a lesson `check --strict` passes (the render test draws it).
LESSON = textwrap.dedent('''\
    lesson "Coordinates"
      voice: none

    section s "Points on axes"
      axes ax x=0..5 y=0..10 x_step=0.5 y_step=2 in A1..D4
      plot f "x^2" on ax x=0..3 color=yellow
      numberline nl x=0..10 step=1 in F1..F6
      plane pl x=-2..2 y=-2..2 in A5..D6
      dot p at (2, 4) on ax color=red radius=0.12
      arrow v from (3.5, 1) to (4.5, 5) on ax color=green
      label top "max" left of (2, 4) on ax
      dot q at 1 on f color=orange
      label lf "f(x)" on f
      dot m at 3 on nl color=blue radius=0.12
      dot c at (1, -1) on pl color=purple radius=0.12

      step 1s: create ax, nl, pl, f
      step 1s: create p, v, top, q, lf, m, c
      step 1s: move p to (4, 8) on ax; move m to 7 on nl
    ''')

# The other forms: positional points, a polygon, mixed ends, a formula at a point, a move beside.
MORE = textwrap.dedent('''\
    lesson "More coordinates"

    section s "More"
      axes ax x=-1..4 y=-1..9 in A1..D6
      text note "here" at F3
      polygon tri (0, 0) (2, 0) (2, 3) on ax fill=blue
      line seg (0, 0) (1, 1) on ax
      arrow a from note to (3, 9) on ax
      math eq $y = 3$ at (1, 3) on ax
      label lb "b" below 2 on nl
      numberline nl x=0..4 in F4..F6
      arrow jump from 1 to 3 on nl

      step 1s: create ax, nl, tri, seg, note, a, eq, lb, jump
      step 1s: move eq to above (3, 3) on ax
    ''')


# ---------------------------------------------------------------- reading and writing


def _elements(text: str) -> dict[str, m.Element]:
    return {e.id: e for e in parse_text(text, "t.lecture").sections[0].elements}


def test_the_forms_read_as_coordinates():
    els = _elements(LESSON) | _elements(MORE)
    p = els["p"].placement
    assert isinstance(p, m.AtCoordinate) and (p.at, p.on, p.relation) == (m.Point(2, 4), m.Ref("ax"), None)
    assert els["p"].drawn_on == m.Ref("ax")
    top = els["top"].placement
    assert isinstance(top, m.AtCoordinate) and top.relation == "left of"
    mark = els["m"].placement
    assert isinstance(mark, m.AtCoordinate) and mark.at == m.Scalar(3)
    assert els["lf"].target == m.Ref("f") and els["lf"].placement is None
    ends = els["v"].endpoints
    assert ends is not None and ends.refs == ()
    assert (ends.start, ends.end) == (m.Point(3.5, 1), m.Point(4.5, 5))
    mixed = els["a"].endpoints
    assert mixed is not None and mixed.refs == (m.Ref("note"),) and mixed.end == m.Point(3, 9)
    assert els["jump"].endpoints == m.Endpoints(m.Scalar(1), m.Scalar(3))
    assert els["tri"].points == (m.Point(0, 0), m.Point(2, 0), m.Point(2, 3))
    move = parse_text(LESSON, "t.lecture").sections[0].steps[2].actions[0]
    assert move.to == m.AtCoordinate(m.Point(4, 8), m.Ref("ax"))


@pytest.mark.parametrize("text", [LESSON, MORE])
def test_the_formatter_keeps_every_form_and_is_stable(text):
    once = format_text(text)
    assert format_text(once) == once
    assert parse_text(once, "t.lecture") == parse_text(text, "t.lecture")
    wanted = [ln.strip() for ln in once.splitlines()]
    if text is LESSON:
        assert "dot p at (2, 4) on ax color=red radius=0.12" in wanted
        assert 'label top "max" left of (2, 4) on ax' in wanted
        assert "step 1s: move p to (4, 8) on ax; move m to 7 on nl" in wanted
        assert "axes ax in A1..D4 x=0..5 y=0..10 x_step=0.5 y_step=2" in wanted
    else:
        assert "arrow a from note to (3, 9) on ax" in wanted
        assert "arrow jump from 1 to 3 on nl" in wanted
        assert "step 1s: move eq to above (3, 3) on ax" in wanted


@pytest.mark.parametrize("text", [LESSON, MORE])
def test_the_json_form_round_trips_and_validates(text):
    lesson_model = parse_text(text, "t.lecture")
    data = json.loads(json.dumps(lesson_to_json(lesson_model)))
    assert validate_json(data) == []
    assert lesson_from_json(data) == lesson_model
    assert format_lesson(lesson_from_json(data)) == format_lesson(lesson_model)


def test_the_json_form_is_checked_against_the_schema():
    data = lesson_to_json(parse_text(LESSON, "t.lecture"))
    placement = data["sections"][0]["elements"][4]["placement"]
    assert placement["type"] == "coordinate" and placement["coordinate"]["x"] == 2
    placement["relation"] = "inside"
    assert validate_json(data)  # not a relation to a coordinate


_numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0.5, -1.5, 1e-05, 1e22, -0.0]))
_coordinates = st.one_of(st.builds(m.Point, _numbers, _numbers), st.builds(m.Scalar, _numbers))
_relations = st.sampled_from((None, *m.COORDINATE_RELATIONS))


@st.composite
def _coordinate_sections(draw) -> m.Section:
    """Elements and moves in every coordinate form, with arbitrary numbers."""
    place = st.builds(m.AtCoordinate, _coordinates, st.just(m.Ref("ax")), _relations)
    end = st.one_of(_coordinates, st.sampled_from([m.Ref("ax"), m.Ref("B2")]))
    elements = (
        m.Element("axes", "ax"),
        m.Element(draw(st.sampled_from(["dot", "label", "text", "math"])), "p",
                  (m.Text("t"),) if draw(st.booleans()) else (), draw(place)),
        m.Element("arrow", "v", (m.Endpoints(draw(end), draw(end)), m.Target(m.Ref("ax")))),
        m.Element("polygon", "t", (*draw(st.lists(st.builds(m.Point, _numbers, _numbers), min_size=3,
                                                  max_size=4)), m.Target(m.Ref("ax")))),
    )
    move = m.Action("move", (m.Ref("p"),), to=draw(place))
    return m.Section("s", m.Text("S"), elements=elements, steps=(m.Step(1.0, (move,)),))


@settings(max_examples=60, deadline=None)
@given(section=_coordinate_sections())
def test_any_coordinate_form_formats_and_travels_as_json_exactly(section):
    lesson_model = m.Lesson(m.Text("L"), sections=(section,))
    text = format_lesson(lesson_model)
    assert parse_text(text, "t.lecture") == lesson_model
    assert format_text(text) == text
    data = json.loads(json.dumps(lesson_to_json(lesson_model)))
    assert validate_json(data) == [] and lesson_from_json(data) == lesson_model


# ---------------------------------------------------------------- checks


def _only(text: str, code: str) -> Diagnostic:
    found = [d for d in diagnose(text) if d.code == code]
    assert len(found) == 1, [str(d) for d in diagnose(text)]
    return found[0]


AXES = "axes ax x=0..5 y=0..10 in A1..D6\nnumberline nl x=0..10 in F1..F6\n"


@pytest.mark.parametrize("line, code, column, words, hint", [
    ("dot p at (6, 4) on ax", "out-of-range", 10, "x = 6 is outside the x range of 'ax'", "x=0..5"),
    ("dot p at (2, -1) on ax", "out-of-range", 10, "y = -1 is outside the y range", "y=0..10"),
    ("dot m at 11 on nl", "out-of-range", 10, "11 is outside the range of 'nl'", "x=0..10"),
    ("polygon t (0, 0) (2, 0) (2, 30) on ax", "out-of-range", 25, "y = 30", "y=0..10"),
    ("arrow a from (0, 0) to (9, 1) on ax", "out-of-range", 24, "x = 9", "x=0..5"),
    ("dot p at 3 on ax", "coordinate-shape", 10, "a place on axes is a point (x, y)", "(3, 0) on ax"),
    ("dot p at (3, 1) on nl", "coordinate-shape", 10, "one number, not a point", "at 3 on nl"),
    ("dot p at (1, 1) on c", "bad-target", 20, "'c' is a circle, which has no coordinates", "on axes"),
    ("polygon t (0, 0) (1, 0) (1, 1) on nl", "bad-target", 35, "its coordinates are one number each",
     "axes or a plane"),
    ("dot p (2, 4) on ax", "bad-args", 7, "a dot takes no points", "dot p at (2, 4) on ax"),
    ("dot p on ax", "bad-args", 10, "say where on 'ax' a dot goes", "dot p at (2, 4) on ax"),
    ("arrow a from (0, 0) to (1, 1)", "bad-args", 14, "a coordinate needs the axes it is on", "on ax"),
    ("polygon t at (1, 1) on ax", "bad-placement", 11, "its points are coordinates", "on ax"),
    ("circle k at (1, 1) on ax", "bad-placement", 10, "a circle is not placed at a coordinate",
     "dot p at (2, 4) on ax"),
    ("dot p at (1, 1) on nope", "undefined-id", 20, "no element named 'nope'", None),
])
def test_a_misused_coordinate_is_a_diagnostic_at_its_place(line, code, column, words, hint):
    text = lesson(AXES + "circle c at F6\n" + line + "\nstep 1s: create ax, nl, c")
    found = [d for d in diagnose(text) if d.code == code]
    assert len(found) == 1, [str(d) for d in diagnose(text)]
    d = found[0]
    assert d.severity == "error" and words in d.message
    assert (d.span.line, d.span.column) == (6, column + 2), str(d)  # (the body is indented by 2)
    if hint is not None:
        assert d.hint is not None and hint in d.hint


def test_an_out_of_range_coordinate_underlines_the_coordinate():
    text = lesson(AXES + "label top \"max\" at (2, 40) on ax\nstep 1s: create ax, top")
    d = _only(text, "out-of-range")
    source_line = text.splitlines()[d.span.line - 1]
    assert source_line[d.span.column - 1:d.span.end_column - 1] == "(2, 40)"
    assert "y=0..10" in (d.hint or "")


def test_points_on_a_curve_are_checked_by_its_x_and_its_value():
    curves = AXES + 'plot f "x^2" on ax x=0..3\nplot g "log(x)" on ax x=0.5..5\n'
    outside = _only(lesson(curves + "dot q at 4 on f\nstep 1s: create ax, f, q"), "out-of-range")
    assert "outside the curve 'f'" in outside.message and "x=0..3" in (outside.hint or "")
    inside = lesson(curves + "label l \"f\" on f\nstep 1s: create ax, f, l")
    assert not [d for d in diagnose(inside) if d.code == "out-of-range"]  # it ends at y = 9, inside 0..10
    high = lesson(curves.replace("x=0..3", "x=0..4") + "label l \"f\" on f\nstep 1s: create ax, f, l")
    d = _only(high, "out-of-range")
    assert "the curve 'f' ends at x = 4, where y = 16 is outside the y range of 'ax'" in d.message
    assert "label l at X on f" in (d.hint or "")
    undefined = lesson(curves.replace("x=0.5..5", "x=-1..5") + "dot q at -0.5 on g\nstep 1s: create ax, g, q")
    assert "has no value at x = -0.5" in _only(undefined, "out-of-range").message


def test_a_curve_end_inside_the_axes_and_clean_forms_pass():
    assert not has_errors(load_text(LESSON, "t.lecture").diagnostics)
    assert not has_errors(load_text(MORE, "t.lecture").diagnostics)


def test_a_dot_is_not_shown_before_its_axes():
    text = lesson(AXES + "dot p at (1, 1) on ax\nstep 1s: create p\nstep 1s: create ax")
    d = _only(text, "before-exists")
    assert d.message == "the dot 'p' is shown before 'ax', whose coordinates place it"


def test_a_plot_goes_on_a_plane():
    text = lesson("plane pl x=-3..3 y=-2..2 in A1..F6\nplot f \"x/2\" on pl\nstep 1s: create pl, f")
    assert not has_errors(load_text(text, "t.lecture").diagnostics)


def test_the_curve_function_is_evaluated_as_numpy_would():
    for source, x, expected in [("x^2", 3.0, 9.0), ("2x - 1", 1.0, 1.0), ("3 sin(x) + pi", 0.0, np.pi)]:
        assert evaluate(parse_expression(source), x) == pytest.approx(expected)
    assert np.isnan(evaluate(parse_expression("log(x)"), -1.0))
    assert np.isnan(evaluate(parse_expression("x^0.5"), -1.0))


# ---------------------------------------------------------------- reference and kinds


def test_the_reference_documents_the_forms():
    text = language_reference()
    assert "### Coordinates on axes and number lines" in text
    for example in ("dot p at (2, 4) on ax", 'label top "max" at (2, 4) on ax', "dot m at 3 on nl",
                    'label lf "f(x)" on f', "arrow v from (0, 0) to (2, 2) on ax",
                    "polygon tri (0, 0) (2, 0) (2, 3) on ax", "move p to (3, 9) on ax",
                    "| `plane` |", "| `x_step` |", "| `y_step` |"):
        assert example in text, example
    assert KINDS["plane"].dimensions == 2 and KINDS["numberline"].dimensions == 1
    assert "plane" in KINDS["plot"].on


# ---------------------------------------------------------------- lowering


def _compact(code: str) -> str:
    """Code without white space or trailing commas: the same however a call is wrapped."""
    return "".join(code.split()).replace(",)", ")")


def test_the_code_asks_the_axes_where_each_coordinate_is():
    code = _compact(compile_lesson(parse_text(LESSON, "t.lecture"), base_dir=Path("."), measurer=None).code)
    for fragment in ("p = Dot(ax.c2p(2, 4), radius=0.12", "m = Dot(nl.n2p(3)", "q = Dot(ax.i2gp(1, f)",
                     "v = Arrow(ax.c2p(3.5, 1), ax.c2p(4.5, 5)", ".next_to(ax.c2p(2, 4), LEFT, buff=0.15)",
                     ".next_to(f.get_end(), RIGHT, buff=0.15)", "c = Dot(pl.c2p(1, -1)",
                     "p.animate.move_to(ax.c2p(4, 8))", "m.animate.move_to(nl.n2p(7))",
                     "pl = NumberPlane(", "x_range=[0.0, 5.0, 0.5]", "y_range=[0.0, 10.0, 2.0]"):
        assert _compact(fragment) in code, fragment
    more = _compact(compile_lesson(parse_text(MORE, "t.lecture"), base_dir=Path("."), measurer=None).code)
    for fragment in ("Polygon(ax.c2p(0, 0), ax.c2p(2, 0), ax.c2p(2, 3)", "Line(ax.c2p(0, 0), ax.c2p(1, 1)",
                     "Arrow(nl.n2p(1), nl.n2p(3)", "MathTex('y = 3'", ".move_to(ax.c2p(1, 3))",
                     ".next_to(nl.n2p(2), DOWN", "eq.animate.next_to(ax.c2p(3, 3), UP"):
        assert _compact(fragment) in more, fragment


# ---------------------------------------------------------------- rendered


def _pixel(point, width: int, height: int) -> tuple[float, float]:
    """A scene point as (column, row) in a frame, pixel centres at .5."""
    per_unit = height / T.FRAME_HEIGHT
    return width / 2 + point[0] * per_unit, height / 2 - point[1] * per_unit


def _coverage(image: np.ndarray, color: str, background: str) -> np.ndarray:
    """How much of each pixel a colour covers over the background (0 to 1): a pixel that
    blends the two lies on the line between them in RGB; anything else (another colour's
    anti-aliased edge) covers nothing."""
    fg, bg = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) for c in (color, background))
    d = image.astype(float) - bg
    span = fg - bg
    alpha = np.clip(d @ span / (span @ span), 0.0, 1.0)
    residual = np.linalg.norm(d - alpha[..., None] * span, axis=2)
    return np.where(residual < 18, alpha, 0.0)


def _centroid(cover: np.ndarray, window: tuple[float, float], radius: float = 14.0) -> tuple[float, float]:
    """The coverage-weighted centroid (column, row; pixel centres at .5) around a place."""
    rows, cols = np.mgrid[0:cover.shape[0], 0:cover.shape[1]]
    near = (np.abs(cols + 0.5 - window[0]) < radius) & (np.abs(rows + 0.5 - window[1]) < radius)
    weight = np.where(near, cover, 0.0)
    assert weight.sum() > 10, f"nothing of that colour near {window}"
    total = weight.sum()
    return float((weight * (cols + 0.5)).sum() / total), float((weight * (rows + 0.5)).sum() / total)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The lesson rendered at low quality, its step-end frames, and where the dry run's real
    axes, number line and plane put the coordinates."""
    folder = tmp_path_factory.mktemp("coords")
    path = folder / "coords.lecture"
    path.write_text(LESSON)
    loaded = load_text(LESSON, str(path))
    compiled = compile_for_views(loaded.lesson, base_dir=folder)
    expected: dict[str, tuple[float, float]] = {}
    ticks: dict[str, int] = {}

    def measure(section: int, step: int, scene) -> None:
        if step != 1:
            return
        from manim import Axes, NumberLine, NumberPlane

        for mob in scene.mobjects:
            if isinstance(mob, NumberPlane):
                expected["c"] = tuple(mob.c2p(1, -1)[:2])
            elif isinstance(mob, Axes):
                expected["p"], expected["p moved"] = tuple(mob.c2p(2, 4)[:2]), tuple(mob.c2p(4, 8)[:2])
                expected["v start"] = tuple(mob.c2p(3.5, 1)[:2])
                expected["v end"] = tuple(mob.c2p(4.5, 5)[:2])
                ticks["x"], ticks["y"] = len(mob.x_axis.ticks), len(mob.y_axis.ticks)
            elif isinstance(mob, NumberLine):
                expected["m"], expected["m moved"] = tuple(mob.n2p(3)[:2]), tuple(mob.n2p(7)[:2])

    views = run_views(compiled, on_step=measure)
    run = subprocess.run([sys.executable, "-m", "lecture", "render", str(path), "-q", "low",
                          "--build-dir", str(folder / "build")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    manifest = json.loads((folder / "build" / "coords" / "manifest.json").read_text())
    video = Path(manifest["sections"][0]["output"])
    info = probe(video)
    ends = step_end_frames([1.0, 1.0, 1.0], manifest["fps"])
    frames = decode_frames(video, ends, info.width, info.height)
    return {"frames": [frames.images[i] for i in ends], "size": (info.width, info.height),
            "expected": expected, "ticks": ticks, "views": views, "compiled": compiled}


def test_a_dot_is_at_its_coordinate_within_a_pixel(rendered):
    width, height = rendered["size"]
    background = rendered["views"][0].background
    step2, step3 = rendered["frames"][1], rendered["frames"][2]
    for image, key, color in [(step2, "p", "#fc6255"), (step3, "p moved", "#fc6255"),
                              (step2, "m", "#58c4dd"), (step3, "m moved", "#58c4dd"),
                              (step2, "c", "#9a72ac")]:
        want = _pixel(rendered["expected"][key], width, height)
        got = _centroid(_coverage(image, color, background), want)
        assert abs(got[0] - want[0]) <= 1.0 and abs(got[1] - want[1]) <= 1.0, (key, got, want)


def test_the_arrow_ends_at_its_coordinates(rendered):
    width, height = rendered["size"]
    cover = _coverage(rendered["frames"][1], "#83c167", rendered["views"][0].background)
    start = np.array(_pixel(rendered["expected"]["v start"], width, height))
    end = np.array(_pixel(rendered["expected"]["v end"], width, height))
    rows, cols = np.nonzero(cover > 0.1)  # a tenth covered: the tip's apex is a sliver
    pts = np.stack([cols + 0.5, rows + 0.5], axis=1)
    weights = cover[rows, cols]
    length = float(np.linalg.norm(end - start))
    direction = (end - start) / length
    along = (pts - start) @ direction
    across = (pts - start) @ np.array([-direction[1], direction[0]])
    near = (np.abs(across) < 12) & (along > -12) & (along < length + 12)
    assert abs(along[near].max() - length) <= 1.0, (along[near].max(), length)  # the tip's apex
    assert abs(along[near].min()) <= 1.0, along[near].min()  # the tail
    shaft = near & (along > 0.1 * length) & (along < 0.6 * length)
    offset = float((weights[shaft] * across[shaft]).sum() / weights[shaft].sum())
    assert abs(offset) <= 0.5, offset  # the shaft runs through both points


def test_per_axis_steps_set_the_ticks(rendered):
    # 0..5 every 0.5, 0..10 every 2 (Manim leaves out the tick at the origin); one step for
    # both would have given 5 and 10
    assert rendered["ticks"] == {"x": 10, "y": 5}


def test_the_layout_knows_where_coordinates_land(rendered):
    """The compiler's boxes (for relative placement and the layout rules) are the real points."""
    ctx = rendered["compiled"].contexts[0]
    for key in ("p", "m", "c"):
        box = ctx.lowered[key].box
        assert box is not None
        assert box.center == pytest.approx(rendered["expected"][key], abs=1e-3), key


def test_layout_findings_measure_the_real_mobjects(rendered):
    """Clean as written; a label moved onto the curve is a finding, a dot on it is not."""
    assert lesson_findings(rendered["views"]) == []
    crowded = LESSON.replace('label top "max" left of (2, 4) on ax', 'label top "max" at (2.2, 4.6) on ax')
    _, views = lesson_views(load_text(crowded, "t.lecture").lesson, base_dir=Path("."))
    overlaps = {(f.code, f.element, f.other) for f in lesson_findings(views) if f.code == "overlap"}
    assert any("top" in (e, o) and "f" in (e, o) for _, e, o in overlaps), overlaps
    assert not any("q" in (e, o) or "p" in (e, o) for _, e, o in overlaps), overlaps


def test_the_critic_leaves_coordinates_where_the_axes_put_them():
    from lecture.agents.vision import valid_edits

    lesson_model = parse_text(LESSON, "t.lecture")
    answer = {"edits": [{"section": "s", "element": "p", "placement": "at F3"},
                        {"section": "s", "element": "ax", "placement": "in A1..C4"}]}
    edits, rejected = valid_edits(answer, lesson_model)
    assert [e.element for e in edits] == ["ax"]
    assert len(rejected) == 1 and "s/p" in rejected[0]


def test_the_references_example_is_a_valid_lesson():
    text = language_reference()
    start = text.index("### Coordinates on axes and number lines")
    block = text[text.index("```lecture\n", start):].split("\n", 1)[1].split("```", 1)[0]
    found = diagnose(lesson(block))
    assert not [d for d in found if d.severity == "error"], [str(d) for d in found]


def test_coordinates_are_on_a_whole_element():
    text = lesson(AXES + "dot p at (1, 1) on ax[2]\nstep 1s: create ax, p")
    d = _only(text, "bad-target")
    assert "not a part of 'ax'" in d.message and d.hint == "write `on ax`"
