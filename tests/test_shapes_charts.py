"""Issue 15, points 6 and 7: shapes teachers use every day (an ellipse, an arc, an angle at a
polygon's corner or between two lines with its label, the right-angle mark) and charts (a bar
chart whose `transform` grows the bars to new values, the area under a plot or between two,
Riemann rectangles that a `transform` to a larger n refines).

Each form is checked (every misuse a diagnostic at its line and column, with a hint),
formatted stably, carried through the JSON form, documented in the reference, lowered, measured
by the layout rules on the real mobjects, and rendered: the frames are read back and compared
with where the real mobjects say things are (the arc at its corner, the area's fill between its
x positions only, each bar as high as its new value, n columns of rectangles)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import diagnose, lesson
from frame_truth import PixelGrid, decode_frames, hex_rgb, section_problems, step_end_frames
from lecture.compiler import frontend
from lecture.compiler.colors import COLORS
from lecture.compiler.findings import lesson_findings
from lecture.compiler.format import format_lesson
from lecture.compiler.jsonform import lesson_from_json, lesson_to_json, validate_json
from lecture.compiler.kinds import KINDS
from lecture.compiler.lower import compile_lesson
from lecture.compiler.reference import language_reference
from lecture.compiler.shape_checks import corner_degrees
from lecture.compiler.theme import get_theme
from lecture.runtime.ffmpeg import probe
from lecture.runtime.geometry import compile_for_views, lesson_views, run_views
from lecture.runtime.scene_support import NAME_GAP, bar_chart

NEW_KINDS = ("ellipse", "arc", "angle", "rightangle", "bars", "area", "riemann")

# Every form, in a lesson `check --strict` passes (rendered below).
LESSON = '''lesson "Shapes and charts"
  voice: none

section shapes "Angles"
  polygon tri (0, 0) (4, 0) (0, 3) in B4..E6
  rightangle ra on tri corner=1
  angle th on tri corner=2 label="θ"
  line l1 from F1 to F3
  line l2 from F1 to D3
  angle a from l1 to l2 label="45°" radius=0.6 color=red
  ellipse e width=2 height=1 at A5
  arc bow radius=0.8 start=0 end=120 at A2
  step 1s: create tri, ra, th
  step 1s: create l1, l2, a, e, bow

section areas "Areas"
  axes ax x=0..3 y=0..9 in A1..F6
  plot f "x^2" on ax
  plot g "x" on ax
  area under on f x=1..2 fill=green opacity=0.5
  area gap on f between=g x=0..1 fill=green
  riemann r4 on f x=1..3 n=4 fill=blue
  riemann r8 on f x=1..3 n=8 fill=blue
  step 1s: create ax, f, under
  step 1s: fade out under; create r4
  step 1s: transform r4 into r8
  step 1s: fade out r8; create g, gap

section bars "Bars"
  bars sales y=0..10 in A1..F6:
    "Mon" "3"
    "Tue" "7"
    "Wed" "5"
  bars sales2 y=0..10 in A1..F6:
    "Mon" "6"
    "Tue" "2"
    "Wed" "9"
  step 1s: create sales
  step 1s: transform sales into sales2
'''


def _at(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """(line, column), 1-based, of `needle` (plus `offset` characters) in the text."""
    pos = text.index(needle) + offset
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


# ---------------------------------------------------------------- checks

TRIANGLE = "polygon tri (0, 0) (4, 0) (0, 3) in B2..E5\n"
LINES = "line l1 from F1 to F3\nline l2 from F1 to D3\n"
GRAPH = "axes ax x=0..3 y=0..9 in A1..C6\nplot f \"x^2\" on ax\nstep 1s: create ax, f\n"

# (name, body, code, needle, offset of the column in the needle, words of the message)
MISUSES = [
    ("corner out of range", TRIANGLE + "angle th on tri corner=4", "no-such-corner", "corner=4", 7,
     "'tri' has 3 corners: there is no corner 4"),
    ("corner missing", TRIANGLE + "angle th on tri", "missing-corner", "th on", 0, "needs corner=N"),
    ("corner not whole", TRIANGLE + "angle th on tri corner=1.5", "bad-option", "1.5", 0, "whole number"),
    ("angle on a circle", "circle c at B2\nangle th on c corner=1", "bad-target", "on c", 3,
     "'c' is a circle, not a polygon"),
    ("angle on nothing", 'angle th label="θ"', "bad-args", "th label", 0,
     "an angle needs `on POLYGON` or `from LINE to LINE`"),
    ("angle two ways", TRIANGLE + LINES + "angle th on tri corner=1 from l1 to l2", "bad-args",
     "on tri corner", 3, "not both"),
    ("angle from a circle", LINES + "circle c at B2\nangle th from l1 to c", "bad-target", "to c", 3,
     "'c' is a circle, not a line or an arrow"),
    ("parallel lines", "line l1 (0, 0) (1, 0) in A1..A3\nline l2 (0, 1) (1, 1) in B1..B3\n"
     "angle th from l1 to l2", "parallel-lines", "from l1", 0, "'l1' and 'l2' are parallel"),
    ("not a right angle", TRIANGLE + "rightangle ra on tri corner=2", "not-right-angle", "corner=2", 7,
     "corner 2 of 'tri' measures 37°, not 90°"),
    ("arc turns nowhere", "arc a start=90 end=90 at C3", "empty-arc", "end=90", 0, "draws nothing"),
    ("area outside its plot", GRAPH + "area a on f x=1..5", "range-outside", "1..5", 0,
     "x=1..5 reaches outside the plot 'f', drawn over x=0..3"),
    ("rectangles outside a plot's own x", "axes ax x=-3..3 y=0..9 in A1..C6\nplot f \"x^2\" on ax x=0..3\n"
     "riemann r on f x=-1..2", "range-outside", "-1..2", 0, "drawn over x=0..3"),
    ("area on axes", GRAPH + "area a on ax", "bad-target", "a on ax", 5, "'ax' is axes, not a plot"),
    ("area between a circle", GRAPH + "circle c at E5\narea a on f between=c", "bad-target", "between=c", 8,
     "'c' is a circle, not a plot"),
    ("area between nothing", GRAPH + "plot g \"x\" on ax\narea a on f between=h", "undefined-id",
     "between=h", 8, "no plot named 'h'"),
    ("plots apart", "axes ax x=-3..3 y=0..9 in A1..C6\nplot f \"x^2\" on ax x=-3..-1\n"
     "plot g \"x^2\" on ax x=1..3\narea a on f between=g", "range-outside", "between=g", 8, "share no x"),
    ("area placed", GRAPH + "area a on f at C3", "bad-placement", "at C3", 0,
     "takes its place from its plot"),
    ("area before its plot", "axes ax in A1..C6\nplot f \"x^2\" on ax\narea a on f\nstep 1s: create a\n"
     "step 1s: create ax, f", "before-exists", "create a", 7, "the area 'a' is shown before its plot 'f'"),
    ("no rectangles", GRAPH + "riemann r on f n=0", "bad-option", "n=0", 2, "whole number"),
    ("too many rectangles", GRAPH + "riemann r on f n=500", "bad-option", "n=500", 2, "thinner"),
    ("a bar's value", 'bars b in A1..C6:\n  "Mon" "three"', "bad-value", '"three"', 0, "not a number"),
    ("a bar's row", 'bars b in A1..C6:\n  "Mon" "3" "4"', "bad-row", '"Mon"', 0, "a name and a value"),
    ("a bar above its range", 'bars b y=0..10 in A1..C6:\n  "Mon" "3"\n  "Tue" "12"', "range-outside",
     '"12"', 0, "the bar's value 12 is outside the chart's y range 0..10"),
    ("bars without 0", 'bars b y=2..10 in A1..C6:\n  "Mon" "3"', "bad-option", "2..10", 0,
     "the bars grow from 0"),
    ("bars without rows", "bars b in A1..C6", "bad-args", "b in", 0, "a bar chart needs rows"),
]


@pytest.mark.parametrize("case", MISUSES, ids=[c[0] for c in MISUSES])
def test_each_misuse_is_a_diagnostic_at_its_place_with_a_hint(case):
    _, body, code, needle, offset, words = case
    text = lesson(body)
    found = [d for d in diagnose(text) if d.code == code]
    assert found, [(d.code, d.message) for d in diagnose(text)]
    d = found[0]
    assert (d.span.line, d.span.column) == _at(text, needle, offset), d.render(text)
    assert words in d.message
    assert d.hint


def test_every_form_is_clean_under_strict():
    assert [d.render(LESSON) for d in diagnose(LESSON)] == []


def test_the_corner_angle_of_the_written_points():
    tri = frontend.parse_text(lesson(TRIANGLE)).sections[0].elements[0]
    assert [round(corner_degrees(tri.points, k), 2) for k in (1, 2, 3)] == [90.0, 36.87, 53.13]
    clockwise = tuple(reversed(tri.points))
    assert round(corner_degrees(clockwise, 3), 2) == 90.0


# ---------------------------------------------------------------- one source of truth


def test_format_json_and_reference_know_every_form():
    parsed = frontend.parse_text(LESSON)
    once = format_lesson(parsed)
    assert format_lesson(frontend.parse_text(once)) == once
    assert frontend.parse_text(once) == parsed
    data = lesson_to_json(parsed)
    assert validate_json(data) == []
    assert lesson_from_json(data) == parsed
    reference = language_reference()
    for kind in NEW_KINDS:
        spec = KINDS[kind]
        assert f"| `{kind}` |" in reference and spec.example.split("\n")[0] in reference
    for option in ("corner", "label", "start", "end", "between", "n"):
        assert f"| `{option}` |" in reference
    assert "### Angles, charts and areas" in reference


def test_the_lowering_draws_with_manims_own_objects():
    code = compile_lesson(frontend.parse_text(LESSON), base_dir=Path("."), measurer=None).code
    assert "ra = corner_angle(tri, 1, radius=0.35, right=True," in code
    assert "th = corner_angle(tri, 2, radius=0.5, label='θ'," in code
    assert "a = angle_between(l1, l2, radius=0.6, label='45°'," in code
    assert "e = Ellipse(width=2.0, height=1.0," in code
    assert "start_angle=0 * DEGREES" in code and "angle=120 * DEGREES" in code
    assert "under = ax.get_area(f, x_range=[1.0, 2.0], color='#83c167', opacity=0.5, stroke_width=0)" in code
    assert "bounded_graph=g" in code
    # numpy's arange would give n + 1 rectangles for some n: the range ends half a rectangle early
    assert "r8 = ax.get_riemann_rectangles(f, x_range=[1.0, 2.875], dx=0.25," in code
    assert "sales2 = bar_chart(\n            [6.0, 2.0, 9.0],\n            ['Mon', 'Tue', 'Wed']," in code


# ---------------------------------------------------------------- the real mobjects and the video


class Shown:
    """The lesson as rendered, and its mobjects as the dry run built them at every step end."""

    def __init__(self, path: Path, build: Path) -> None:
        run = subprocess.run([sys.executable, "-m", "lecture", "render", str(path), "-q", "low",
                              "--build-dir", str(build)], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        self.loaded = frontend.load_file(str(path))
        self.mobjects: dict[tuple[int, int], dict] = {}
        compiled = compile_for_views(self.loaded.lesson, base_dir=path.parent)
        self.views = run_views(compiled, on_step=self._record)
        self.videos = {v.stem: v for v in (build / path.stem / "sections").glob("*.mp4")}
        info = probe(build / path.stem / "sections" / "shapes.mp4")
        self.width, self.height = int(info.width or 0), int(info.height or 0)
        self.grid = PixelGrid(self.width, self.height)
        self.fps = 15

    def _record(self, section: int, step: int, scene) -> None:
        construct = sys._getframe(2)  # this <- the probe's step <- the scene's construct()
        self.mobjects[(section, step)] = dict(construct.f_locals)

    def frame(self, section: str, step: int) -> np.ndarray:
        index = [s.id for s in self.loaded.lesson.sections].index(section)
        durations = [s.seconds for s in self.loaded.lesson.sections[index].steps]
        wanted = step_end_frames(durations, self.fps)[step - 1]
        return decode_frames(self.videos[section], [wanted], self.width, self.height).images[wanted]

    def pixel(self, point) -> tuple[int, int]:
        """(row, column) of a scene point."""
        return (int(round(self.height / 2 - point[1] * self.grid.per_unit)),
                int(round(self.width / 2 + point[0] * self.grid.per_unit)))

    def of(self, section: str, step: int, name: str):
        index = [s.id for s in self.loaded.lesson.sections].index(section)
        return self.mobjects[(index, step)][name]


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> Shown:
    folder = tmp_path_factory.mktemp("shapes")
    path = folder / "shapes.lecture"
    path.write_text(LESSON)
    return Shown(path, folder / "build")


def _near(image: np.ndarray, color: str, tolerance: int = 45) -> np.ndarray:
    return np.abs(image.astype(np.int16) - hex_rgb(color)).max(axis=2) <= tolerance


def _blend(color: str, opacity: float, background: str) -> str:
    mixed = opacity * hex_rgb(color) + (1 - opacity) * hex_rgb(background)
    return "#" + "".join(f"{int(round(c)):02x}" for c in mixed)


def test_the_layout_rules_measure_the_real_mobjects(shown):
    assert lesson_findings(shown.views) == []
    angles = {fp.element: fp for fp in shown.views[0].steps[1].visible}
    corner = shown.of("shapes", 1, "tri").get_vertices()[1]
    th = angles["th"].bbox
    assert th.left > corner[0] - 1.3 and th.right < corner[0] + 0.05 and abs(th.bottom - corner[1]) < 0.05
    assert {p.kind for p in angles["ra"].parts} == {"line"}  # a stroke, measured as one
    areas = {fp.element: fp for fp in shown.views[1].steps[0].visible}
    assert [p.kind for p in areas["under"].parts] == ["area"]
    rectangles = {fp.element: fp for fp in shown.views[1].steps[2].visible}
    assert len(rectangles["r8"].parts) == 8


def test_text_across_an_ellipse_or_an_arc_is_a_finding():
    """Measured on the real outlines: text inside an ellipse is one figure with it, text across
    its outline is not, nor text across an arc's stroke."""
    text = lesson("""
        ellipse e width=3 height=1.6 at B3
        text inside "in" at B3
        ellipse thin width=3 height=0.3 at E3
        text across "a long sentence" at E3
        arc bow radius=1 start=0 end=180 at C6
        text over "a long sentence" at C6
        step 1s: create e, thin, bow; write inside, across, over
    """)
    _, views = lesson_views(frontend.load_text(text, "t.lecture").lesson, base_dir=Path("."))
    overlaps = {frozenset((f.element, f.other)) for f in lesson_findings(views) if f.code == "overlap"}
    assert overlaps == {frozenset(("across", "thin")), frozenset(("over", "bow"))}


def test_the_video_shows_what_the_model_holds(shown):
    assert sorted(shown.videos) == sorted(s.id for s in shown.loaded.lesson.sections)
    for view in shown.views:
        video = shown.videos[view.section.id]
        durations = [s.seconds for s in view.section.steps]
        assert section_problems(view, video, durations, shown.fps, shown.width, shown.height) == []


def test_the_angle_marks_sit_at_their_corners(shown):
    image = shown.frame("shapes", 1)
    tri = shown.of("shapes", 1, "tri").get_vertices()
    accent = get_theme("chalkboard").accent
    ys, xs = np.nonzero(_near(image, accent))
    assert len(xs) > 40  # the arc and the θ
    corner = np.array(shown.pixel(tri[1]))
    distance = np.hypot(ys - corner[0], xs - corner[1]) / shown.grid.per_unit
    assert distance.max() < 1.3  # every mark pixel within reach of corner 2, inside the triangle …
    assert xs.max() <= corner[1] + 2 and ys.max() <= corner[0] + 2
    arc = (distance > 0.4) & (distance < 0.6)  # … and the arc of radius 0.5 is drawn
    assert int(arc.sum()) > 5
    # the right-angle mark: the text's colour in the square at corner 1, not beyond
    row, col = shown.pixel(tri[0])
    side = int(0.5 * shown.grid.per_unit)
    square = _near(image, get_theme("chalkboard").text, 60)[row - side:row + 3, col - 3:col + side]
    assert int(square.sum()) > 8
    assert int(_near(image, get_theme("chalkboard").text, 60)[row - 3 * side:row - side, col:col + 2 * side]
               .sum()) == 0


def test_the_area_is_filled_between_its_x_positions_only(shown):
    image = shown.frame("areas", 1)
    ax = shown.of("areas", 1, "ax")
    theme = get_theme("chalkboard")
    fill = _near(image, _blend(COLORS["green"], 0.5, theme.background), 25)
    inside = [shown.pixel(ax.c2p(x, x * x / 2)) for x in (1.1, 1.3, 1.5, 1.7, 1.9)]
    assert all(fill[r, c] for r, c in inside)
    outside = [shown.pixel(ax.c2p(x, y)) for x, y in ((0.7, 0.2), (0.9, 0.3), (2.1, 1.0), (2.5, 2.0),
                                                       (1.5, 3.0), (1.2, 2.2))]
    assert not any(fill[r, c] for r, c in outside)
    # its edges are at the range's x positions, within two pixels
    row, middle = shown.pixel(ax.c2p(1.5, 0.5))
    line = fill[row]
    left, right = middle, middle
    while line[left - 1]:
        left -= 1
    while line[right + 1]:
        right += 1
    assert abs(left - shown.pixel(ax.c2p(1, 0))[1]) <= 2
    assert abs(right - shown.pixel(ax.c2p(2, 0))[1]) <= 2


def _columns(shown: Shown, step: int) -> int:
    """Runs of the rectangles' fill along a line just above the x axis, from x=1 to x=3."""
    image = shown.frame("areas", step)
    ax = shown.of("areas", step, "ax")
    fill = _near(image, _blend(COLORS["blue"], 0.6, get_theme("chalkboard").background), 25)
    row, left = shown.pixel(ax.c2p(1, 0.5))
    right = shown.pixel(ax.c2p(3, 0.5))[1]
    line = fill[row, left - 3:right + 4].astype(int)
    return int((np.diff(line) == 1).sum() + line[0])


def test_a_transform_to_a_larger_n_refines_the_rectangles(shown):
    assert _columns(shown, 2) == 4
    assert _columns(shown, 3) == 8


def _bar_heights(shown: Shown, step: int, name: str) -> tuple[list[float], list[float]]:
    """Each bar's height in the frame and as its value says, in pixels."""
    image = shown.frame("bars", step)
    chart = shown.of("bars", step, name)
    bar = _near(image, _blend(COLORS["blue"], 0.8, get_theme("chalkboard").background), 30)
    seen, wanted = [], []
    for i, value in enumerate(chart.values):
        base_row, col = shown.pixel(chart.c2p(i + 0.5, 0))
        rows = np.nonzero(bar[:, col])[0]
        seen.append(float(base_row - rows.min()))
        wanted.append(base_row - shown.pixel(chart.c2p(i + 0.5, value))[0])
    return seen, wanted


def test_a_transformed_bar_chart_shows_the_new_values(shown):
    before, wanted_before = _bar_heights(shown, 1, "sales")
    after, wanted_after = _bar_heights(shown, 2, "sales2")
    assert np.allclose(before, wanted_before, atol=3), (before, wanted_before)
    assert np.allclose(after, wanted_after, atol=3), (after, wanted_after)
    assert after[2] > before[2] + 20 and after[1] < before[1] - 20  # 5 -> 9 and 7 -> 2


def test_bar_names_in_a_narrow_chart_keep_a_gap_and_one_size():
    # two bars in a narrow chart: "sick" and "well" ran together as "sickwell" before
    chart = bar_chart([10, 90], ["sick", "well"], y_range=[0, 100, 20], width=1.2, height=3)
    sick, well = chart.submobjects[-1]
    assert well.get_left()[0] - sick.get_right()[0] >= NAME_GAP - 1e-6
    assert abs(sick.font_size - well.font_size) < 1e-6
    wide = bar_chart([10, 90], ["sick", "well"], y_range=[0, 100, 20], width=6, height=3)
    assert wide.submobjects[-1][0].font_size == 24  # a chart with room keeps the asked size
