"""Motion and live values, rendered (issue 16): a dot that follows a value stays on its curve at
every sampled frame while the value changes; a readout shows the number its value has at that
frame, set as one line (its label still, the number on the label's baseline, the unit after it);
a line between two moving dots follows both; a trace covers the path its dot travelled, from
where it was when the trace was created; a move along a path runs on it from where the element
is (round a closed path from its nearest point, to the far end of an open one, onto the path
first when it is off it) and the layout's boxes end where the video's elements do; the layout's
boxes follow the values to every step's end. And the code the lowering writes for each motion."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from frame_truth import decode_frames
from lecture.compiler import theme as T
from lecture.compiler.diagnostics import DiagnosticError, has_errors
from lecture.compiler.frontend import load_text, parse_text
from lecture.compiler.lower import compile_lesson
from lecture.compiler.values import section_values
from lecture.runtime.ffmpeg import probe
from lecture.runtime.geometry import compile_for_views, run_views
from lecture.runtime.measure import measuring

LESSON = textwrap.dedent('''\
    lesson "Motion"
      voice: none

    section s "Slide"
      axes ax in A1..D4 x=0..4 y=0..10
      plot f "x^2" on ax x=0..3 color=yellow
      value x0 = 1
      value y0 = "f(x0)" at F2 label="h =" decimals=2 unit="m"
      tangent tl on f x=x0 length=2 color=white
      dot p at (x0, f(x0)) on ax color=red radius=0.12
      trace tr of p color=green stroke=8
      dot q at (0, 0) on ax color=blue radius=0.12
      dot w at (4, 2 x0) on ax color=purple radius=0.12
      line link from p to w color=purple

      step 1s: create ax, f, tl, p, tr, w, link; write y0
      step 2s: change x0 to 3
      step 1s: create q
      step 2s: move q along f x=0..2
    ''')

FPS = 15
STEPS = [1.0, 2.0, 1.0, 2.0]
CHANGE_FIRST, CHANGE_FRAMES = 15, 30  # step 2: frames 15..44
ALONG_FIRST, ALONG_FRAMES = 60, 30  # step 4: frames 60..89
RED, GREEN, BLUE, WHITE, YELLOW = "#fc6255", "#83c167", "#58c4dd", "#ffffff", "#f7d96f"
PURPLE, ORANGE = "#9a72ac", "#ff862f"
AXES = "#f2f0e6"  # the theme's text colour: the axes' lines and numbers


def _change_frame(k: int) -> int:
    return CHANGE_FIRST + k


def _fraction(k: int, frames: int) -> float:
    """Where a whole-step motion is on the step's frame k (LectureScene.step: it ends on the last)."""
    return k / (frames - 1)


# ---------------------------------------------------------------- pixels


def _pixel(point: Any, width: int, height: int) -> tuple[float, float]:
    """A scene point as (column, row) in a frame, pixel centres at .5."""
    per_unit = height / T.FRAME_HEIGHT
    return width / 2 + float(point[0]) * per_unit, height / 2 - float(point[1]) * per_unit


def _coverage(image: np.ndarray, color: str, background: str) -> np.ndarray:
    """How much of each pixel a colour covers over the background (0 to 1); a pixel of another
    colour covers nothing."""
    fg, bg = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=float) for c in (color, background))
    d = image.astype(float) - bg
    span = fg - bg
    alpha = np.clip(d @ span / (span @ span), 0.0, 1.0)
    residual = np.linalg.norm(d - alpha[..., None] * span, axis=2)
    return np.where(residual < 18, alpha, 0.0)


def _centroid(cover: np.ndarray, near: tuple[float, float], radius: float = 12.0) -> tuple[float, float]:
    rows, cols = np.mgrid[0:cover.shape[0], 0:cover.shape[1]]
    window = (np.abs(cols + 0.5 - near[0]) < radius) & (np.abs(rows + 0.5 - near[1]) < radius)
    weight = np.where(window, cover, 0.0)
    assert weight.sum() > 10, f"nothing of that colour near {near}"
    total = weight.sum()
    return float((weight * (cols + 0.5)).sum() / total), float((weight * (rows + 0.5)).sum() / total)


def _nearest(image: np.ndarray, color: str, others: tuple[str, ...]) -> np.ndarray:
    """1 where a pixel is nearer `color` than any of `others` (the background among them) and
    close to it: a stroke drawn over another blends with it at its edges."""
    def distance(c: str) -> np.ndarray:
        rgb = np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
        return np.linalg.norm(image.astype(float) - rgb, axis=2)

    mine = distance(color)
    return ((mine < 40) & np.all([mine < distance(o) for o in others], axis=0)).astype(float)


def _covered(cover: np.ndarray, at: tuple[float, float]) -> float:
    """The most a colour covers in the 3 x 3 pixels around a place."""
    c, r = int(at[0]), int(at[1])
    return float(cover[r - 1:r + 2, c - 1:c + 2].max())


# ---------------------------------------------------------------- the render


def _render(folder: Path, name: str, lesson: str, frames: list[int],
            keep: Callable[[int, int, Any], None]) -> dict[str, Any]:
    """A lesson rendered at low quality with the frames the tests read, its dry run's step-end
    views (`keep` sees the dry run's scene after each step) and its values."""
    path = folder / f"{name}.lecture"
    path.write_text(lesson)
    loaded = load_text(lesson, str(path))
    assert not has_errors(loaded.diagnostics), loaded.diagnostics
    compiled = compile_for_views(loaded.lesson, base_dir=folder)
    views = run_views(compiled, on_step=keep)
    run = subprocess.run([sys.executable, "-m", "lecture", "render", str(path), "-q", "low",
                          "--build-dir", str(folder / "build")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    manifest = json.loads((folder / "build" / name / "manifest.json").read_text())
    assert manifest["fps"] == FPS
    video = Path(manifest["sections"][0]["output"])
    info = probe(video)
    decoded = decode_frames(video, frames, info.width, info.height)
    return {"frames": decoded.images, "size": (info.width, info.height), "views": views, "compiled": compiled,
            "graph": section_values(loaded.lesson.sections[0]), "background": views[0].background}


def _first(scene: Any, kind: str) -> Any:
    return next(m for m in scene.mobjects if type(m).__name__ == kind)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The lesson, with the dry run's real axes (where coordinates land) and readout (to draw
    references of it)."""
    kept: dict[str, Any] = {}

    def keep(section: int, step: int, scene: Any) -> None:
        if step == 1:
            kept["axes"] = _first(scene, "Axes")
            kept["readout"] = _first(scene, "LiveValue").copy()

    wanted = [_change_frame(k) for k in (0, 4, 10, 15, 22, 29)] + [ALONG_FIRST + k for k in (8, 15, 22, 29)]
    return {**_render(tmp_path_factory.mktemp("motion"), "motion", LESSON, wanted, keep), **kept}


def _at(rendered: dict[str, Any], x: float, y: float) -> tuple[float, float]:
    """Where (x, y) of the lesson's axes lands in a frame."""
    return _pixel(rendered["axes"].c2p(x, y), *rendered["size"])


def test_a_dot_that_follows_a_value_stays_on_its_curve(rendered):
    """`dot p at (x0, f(x0))` while `change x0 to 3` plays: on every sampled frame it is where
    the value is then (values.py's timeline, Manim's smooth), within a pixel."""
    g = rendered["graph"]
    seen = []
    for k in (0, 4, 10, 15, 22, 29):
        x0 = g.values_at(2, _fraction(k, CHANGE_FRAMES))["x0"]
        want = _at(rendered, x0, x0 ** 2)
        got = _centroid(_coverage(rendered["frames"][_change_frame(k)], RED, rendered["background"]), want)
        assert abs(got[0] - want[0]) <= 1.0 and abs(got[1] - want[1]) <= 1.0, (k, x0, got, want)
        seen.append(x0)
    assert seen[0] == pytest.approx(1.0) and seen[-1] == pytest.approx(3.0)
    assert all(a < b for a, b in zip(seen, seen[1:], strict=False))  # it moved on every sample


def _reference(rendered: dict[str, Any], value: float) -> np.ndarray:
    """The readout as it is laid out, showing `value`, drawn alone on the background."""
    from manim import Camera, tempconfig

    width, height = rendered["size"]
    with measuring(), tempconfig({"pixel_width": width, "pixel_height": height}):
        readout = rendered["readout"].copy()
        readout.clear_updaters()
        readout.set_number(value)
        camera = Camera(pixel_width=width, pixel_height=height, background_color=rendered["background"])
        camera.capture_mobjects([readout])
        return np.asarray(camera.get_image().convert("RGB"))


def _readout_crop(rendered: dict[str, Any], image: np.ndarray, part: str = "number") -> np.ndarray:
    """A part of the readout's place in a frame (its label, its number and on to the right of the
    readout, its unit), in luminance (the video's colour is sampled at half size)."""
    readout, box = rendered["readout"], next(fp.bbox for fp in rendered["views"][0].steps[1].visible
                                             if fp.element == "y0")
    piece = getattr(readout, part)
    left = piece.get_left()[0] - 0.05
    right = box.right + 0.4 if part == "number" else piece.get_right()[0] + 0.05
    (c0, r0), (c1, r1) = (_pixel((left, box.top + 0.1), *rendered["size"]),
                          _pixel((right, box.bottom - 0.1), *rendered["size"]))
    crop = image[int(r0):int(r1), int(c0):int(c1)].astype(float)
    return crop @ np.array([0.299, 0.587, 0.114])


def test_a_readout_shows_the_value_it_has_at_that_frame(rendered):
    """`value y0 = "f(x0)"` shown: on sampled frames its number is the one the value has then
    (the frame matches a drawing of the readout showing that number, and not one showing
    another), and it changes as x0 changes."""
    g = rendered["graph"]
    crops = {}
    for k in (10, 22, 29):
        value = g.values_at(2, _fraction(k, CHANGE_FRAMES))["y0"]
        frame = _readout_crop(rendered, rendered["frames"][_change_frame(k)])
        right = np.abs(frame - _readout_crop(rendered, _reference(rendered, value))).mean()
        wrong = np.abs(frame - _readout_crop(rendered, _reference(rendered, value + 1.11))).mean()
        assert right < 6.0 and wrong > 3 * right, (k, value, right, wrong)  # (video noise: ~3.5)
        crops[k] = frame
    assert np.abs(crops[10] - crops[22]).mean() > 3.0  # the number changed between the two


def _ink_rows(crop: np.ndarray, background: float) -> np.ndarray:
    """The rows of a crop that hold ink (its glyphs)."""
    return np.nonzero((crop - background > 60).sum(axis=1) > 0)[0]


def _ink_columns(crop: np.ndarray, background: float) -> np.ndarray:
    return np.nonzero((crop - background > 60).sum(axis=0) > 0)[0]


def test_a_readout_reads_as_one_line_whose_label_stays_still(rendered):
    """`value y0 … label="h =" unit="m"` while y0 goes from 1.00 to 9.00: the label's pixels do
    not change; the number and the unit sit on the label's baseline (no glyph here descends); the
    unit keeps its place while the number keeps its count of digits, a space after the number as
    the number is a space after the label."""
    first, last, middle = (rendered["frames"][_change_frame(k)] for k in (0, 29, 15))
    background = float(np.array([int(rendered["background"][i:i + 2], 16) for i in (1, 3, 5)])
                       @ np.array([0.299, 0.587, 0.114]))
    labels = [_readout_crop(rendered, frame, "label") for frame in (first, middle, last)]
    assert all(np.abs(labels[0] - other).mean() < 1.5 for other in labels[1:])  # (video noise ~0.5)
    units = [_readout_crop(rendered, frame, "unit") for frame in (first, middle, last)]
    assert all(np.abs(units[0] - other).mean() < 1.5 for other in units[1:])
    numbers = [_readout_crop(rendered, frame) for frame in (first, last)]
    assert np.abs(numbers[0] - numbers[1]).mean() > 3.0  # (the number did change: 1.00, 9.00)
    for frame in (first, last):
        bottoms = [_ink_rows(_readout_crop(rendered, frame, part), background)[-1]
                   for part in ("label", "number", "unit")]
        assert max(bottoms) - min(bottoms) <= 1, bottoms
    # one line: the space from the label to the number is about the space from the number to the unit
    readout, size = rendered["readout"], rendered["size"]
    label_right = _pixel((readout.label.get_right()[0], 0.0), *size)[0]
    unit_left = _pixel((readout.unit.get_left()[0], 0.0), *size)[0]
    band = _readout_crop(rendered, last, "label")  # (its rows; the columns are counted from 0 below)
    top = int(_pixel((0.0, next(fp.bbox for fp in rendered["views"][0].steps[1].visible
                                if fp.element == "y0").top + 0.1), *size)[1])
    ink = np.nonzero(((last[top:top + band.shape[0]] @ np.array([0.299, 0.587, 0.114])) - background
                      > 60).sum(axis=0) > 0)[0]
    label_right, unit_left = label_right + 2, unit_left - 2  # (a glyph's edge blends into the pixel beside)
    after_label = ink[ink > label_right].min() - ink[ink <= label_right].max()
    before_unit = ink[ink >= unit_left].min() - ink[ink < unit_left].max()
    assert abs(after_label - before_unit) <= 3 and after_label >= 4, (after_label, before_unit)


def test_the_check_model_reads_the_readout_at_each_step_end(rendered):
    """What `check` measures at a step's end is the readout showing the value then."""
    texts = [[run.text for fp in step.visible if fp.element == "y0" for run in fp.texts]
             for step in rendered["views"][0].steps[:2]]
    assert "1.00" in texts[0] and "9.00" in texts[1], texts


def test_a_trace_covers_the_path_travelled(rendered):
    """`trace tr of p`, created with p at x0 = 1: at the end of the change the curve from 1 to 3
    is covered by the trace's colour, and nothing of it lies before 1."""
    frame, palette = rendered["frames"][_change_frame(29)], (GREEN, YELLOW, AXES, rendered["background"])
    trace = _nearest(frame, GREEN, palette[1:])
    curve = _nearest(frame, YELLOW, (GREEN, *palette[2:]))
    for x in np.linspace(1.15, 2.7, 12):
        assert _covered(trace, _at(rendered, x, x ** 2)) == 1.0, x
    for x in np.linspace(0.2, 0.8, 6):
        assert _covered(trace, _at(rendered, x, x ** 2)) == 0.0, x
        assert _covered(curve, _at(rendered, x, x ** 2)) == 1.0, x  # (the curve is drawn there)


def test_a_line_between_two_moving_dots_follows_both(rendered):
    """`line link from p to w`, p at (x0, f(x0)) and w at (4, 2 x0): on sampled frames of the
    change its middle lies on the segment between where both dots are then, and not where the
    line began."""
    g = rendered["graph"]
    others = (RED, GREEN, YELLOW, WHITE, AXES, rendered["background"])

    def middle(x0: float, t: float) -> tuple[float, float]:
        (ax, ay), (bx, by) = _at(rendered, x0, x0 ** 2), _at(rendered, 4.0, 2 * x0)
        return ax + (bx - ax) * t, ay + (by - ay) * t

    for k in (10, 22, 29):
        x0 = g.values_at(2, _fraction(k, CHANGE_FRAMES))["x0"]
        cover = _nearest(rendered["frames"][_change_frame(k)], PURPLE, others)
        for t in (0.35, 0.5, 0.65):
            assert _covered(cover, middle(x0, t)) == 1.0, (k, x0, t)
    cover = _nearest(rendered["frames"][_change_frame(29)], PURPLE, others)
    assert all(_covered(cover, middle(1.0, t)) == 0.0 for t in (0.35, 0.5, 0.65))  # (it left there)


def test_the_tangent_touches_the_curve_where_the_value_is(rendered):
    """`tangent tl on f x=x0 length=2`, when the change ends: along the line through (3, 9) with
    the slope 6, a unit either side of it."""
    cover = _coverage(rendered["frames"][_change_frame(29)], WHITE, rendered["background"])
    axes = rendered["axes"]
    here, ahead = np.array(axes.c2p(3, 9)), np.array(axes.c2p(3.001, 9 + 0.006))
    unit = (ahead - here) / np.linalg.norm(ahead - here)
    for t in (0.3, 0.6, 0.9):  # past the curve's end: the line alone (below, the trace covers it)
        assert _covered(cover, _pixel(here + unit * t, *rendered["size"])) > 0.5, t
    beyond = _pixel(here + unit * 1.2, *rendered["size"])
    assert _covered(cover, beyond) == 0.0


def _distance_to_curve(rendered: dict[str, Any], point: tuple[float, float]) -> float:
    xs = np.linspace(0.0, 3.0, 3001)
    pts = np.array([_at(rendered, x, x ** 2) for x in xs])
    return float(np.min(np.hypot(pts[:, 0] - point[0], pts[:, 1] - point[1])))


def test_a_move_along_a_plot_runs_on_it_and_ends_at_its_end(rendered):
    """`move q along f x=0..2`: on the curve on every sampled frame, at (2, 4) on the last."""
    background = rendered["background"]
    end = _at(rendered, 2, 4)
    last = _centroid(_coverage(rendered["frames"][ALONG_FIRST + 29], BLUE, background), end)
    assert abs(last[0] - end[0]) <= 1.0 and abs(last[1] - end[1]) <= 1.0, (last, end)
    for k in (8, 15, 22):
        frame = rendered["frames"][ALONG_FIRST + k]
        cover = _coverage(frame, BLUE, background)
        rows, cols = np.nonzero(cover > 0.5)
        where = (float(cols.mean()) + 0.5, float(rows.mean()) + 0.5)
        got = _centroid(cover, where)
        assert _distance_to_curve(rendered, got) <= 1.5, (k, got)
        assert _pixel(rendered["axes"].c2p(0, 0), *rendered["size"])[0] + 3 < got[0] < end[0] - 3, (k, got)


def test_the_layout_follows_the_values_to_the_last_step(rendered):
    """The compiler's boxes (what it places things beside) are where the dry run's real mobjects
    are when the lesson ends: the dot at x0 = 3, the moved dot at (2, 4), the tangent, the
    readout grown to its last number."""
    ctx = rendered["compiled"].contexts[0]
    last = {fp.element: fp.bbox for fp in rendered["views"][0].steps[-1].visible}
    for name, tolerance in (("p", 1e-3), ("q", 1e-3), ("tl", 0.02), ("y0", 0.02)):
        box = ctx.current[name]
        assert box.center == pytest.approx(last[name].center, abs=tolerance), name
        assert (box.w, box.h) == pytest.approx((last[name].w, last[name].h), abs=tolerance * 2 + 1e-3), name


# ---------------------------------------------------------------- moving along a path from where it is


ALONG = textwrap.dedent('''\
    lesson "Along"
      voice: none

    section s "Along"
      axes ax in A1..D6 x=0..8 y=0..4
      polygon sq (1, 1) (3, 1) (3, 3) (1, 3) on ax color=blue
      plot f "x - 4" on ax x=5..8 color=yellow
      circle c at F5 radius=0.5 color=white
      dot p at (3, 2) on ax color=red radius=0.1
      dot q at (8, 4) on ax color=green radius=0.1
      dot r at (6.5, 0.5) on ax color=orange radius=0.1
      dot m above c color=purple radius=0.1

      step 1s: create ax, sq, f, c, p, q, r, m
      step 2s: move p along sq ease=linear; move q along f ease=linear
      step 2s: move r along f ease=linear; move m along c ease=linear
    ''')
SECOND, THIRD = 15, 45  # the first frames of steps 2 and 3 (30 frames each)
ALONG_SAMPLES = (0, 4, 7, 11, 15, 22, 29)


@pytest.fixture(scope="module")
def along(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The moves rendered, with the dry run's axes and circle, and where the dot m starts."""
    kept: dict[str, Any] = {}

    def keep(section: int, step: int, scene: Any) -> None:
        if step == 1:
            kept["axes"], kept["circle"] = _first(scene, "Axes"), _first(scene, "Circle")
            kept["m"] = next(m for m in scene.mobjects if type(m).__name__ == "Dot"
                             and m.get_fill_color().to_hex().lower() == PURPLE).get_center()

    wanted = [first + k for first in (SECOND, THIRD) for k in ALONG_SAMPLES]
    return {**_render(tmp_path_factory.mktemp("along"), "along", ALONG, wanted, keep), **kept}


def _square_at(axes: Any, share: float) -> np.ndarray:
    """The point `share` of the way round the square (1, 1) (3, 1) (3, 3) (1, 3), from (3, 2) the
    way it is drawn, as far along it on screen (the axes' units differ across and up)."""
    corners = [np.array(axes.c2p(x, y)) for x, y in ((3, 2), (3, 3), (1, 3), (1, 1), (3, 1), (3, 2))]
    sides = [float(np.linalg.norm(b - a)) for a, b in zip(corners, corners[1:], strict=False)]
    d = share * sum(sides)
    for a, b, side in zip(corners, corners[1:], sides, strict=False):
        if d <= side:
            return a + (b - a) * d / side
        d -= side
    return corners[-1]


def _dot_at(along: dict[str, Any], frame: int, color: str, want: tuple[float, float]) -> tuple[float, float]:
    got = _centroid(_coverage(along["frames"][frame], color, along["background"]), want)
    assert abs(got[0] - want[0]) <= 1.5 and abs(got[1] - want[1]) <= 1.5, (frame, color, got, want)
    return got


def test_a_dot_goes_round_a_closed_path_from_where_it_is(along):
    """`move p along sq`, p on the square's right side: up from where it is, round the square the
    way its corners are written, back to where it started (not first to the square's first corner)."""
    for k in ALONG_SAMPLES:
        _dot_at(along, SECOND + k, RED, _pixel(_square_at(along["axes"], _fraction(k, 30)), *along["size"]))


def test_a_dot_at_an_open_path_s_far_end_travels_back_along_it(along):
    """`move q along f`, q at the plot's right end (8, 4): to its left end (5, 1)."""
    for k in ALONG_SAMPLES:
        x = 8.0 - 3.0 * _fraction(k, 30)
        _dot_at(along, SECOND + k, GREEN, _pixel(along["axes"].c2p(x, x - 4.0), *along["size"]))


def test_a_dot_off_the_path_moves_onto_it_first(along):
    """`move r along f`, r below the plot: straight to the nearer end (5, 1) over the first fifth of
    the step, then along the plot to (8, 4); `move m along c`, m above the circle: onto its top,
    then once round counter-clockwise (a quarter of the way round: the circle's left)."""
    from manim import smooth

    axes, size = along["axes"], along["size"]
    circle = along["circle"]
    centre, radius = circle.get_center(), circle.width / 2
    for k in ALONG_SAMPLES:
        f = _fraction(k, 30)
        if f < 0.2:
            t = smooth(f / 0.2)
            r_at = np.array(axes.c2p(6.5, 0.5)) * (1 - t) + np.array(axes.c2p(5.0, 1.0)) * t
            m_at = along["m"] * (1 - t) + (centre + np.array([0.0, radius, 0.0])) * t
        else:
            u = (f - 0.2) / 0.8
            r_at = np.array(axes.c2p(5.0 + 3.0 * u, 1.0 + 3.0 * u))
            turn = np.pi / 2 + 2 * np.pi * u
            m_at = centre + radius * np.array([np.cos(turn), np.sin(turn), 0.0])
        _dot_at(along, THIRD + k, ORANGE, _pixel(r_at, *size))
        _dot_at(along, THIRD + k, PURPLE, _pixel(m_at, *size))


def test_the_layout_ends_each_move_where_the_video_does(along):
    """The compiler's boxes after each move along a path are where the dry run's dots are."""
    ctx = along["compiled"].contexts[0]
    last = {fp.element: fp.bbox for fp in along["views"][0].steps[-1].visible}
    for name in ("p", "q", "r", "m"):
        assert ctx.current[name].center == pytest.approx(last[name].center, abs=2e-3), name
    assert last["m"].center == pytest.approx((along["circle"].get_center()[0],
                                              along["circle"].get_top()[1]), abs=2e-3)


# ---------------------------------------------------------------- the code


CODE = textwrap.dedent('''\
    lesson "Code"

    section s "S"
      axes ax in A1..D4 x=0..4 y=0..16
      value a = 1
      value x0 = 1
      value r = 0.5
      value slope = "2 a x0" at F2 label="slope =" unit="m/s" decimals=1
      plot g "a x^2" on ax
      dot p at (x0, g(x0)) on ax
      line drop from (x0, 0) to (x0, g(x0)) on ax
      label lp "P" above p
      area under on g x=0..x0
      circle c at F5 radius=r
      line arm from C6 to D6
      value t = 30
      arc bow at E3 radius=1 start=0 end=t
      riemann rr on g x=0..x0 n=4

      step 1s: create ax, g, p, drop, lp, under, c, arm; write slope
      step 2s: change x0 to 2, 3 ease=linear; change r to 1
      step 2s: rotate arm 90 about C6 ease=in; move p along c
      step 1s: rotate arm 90
    ''')


@pytest.fixture(scope="module")
def code() -> str:
    lesson = parse_text(CODE, "code.lecture")
    compiled = compile_lesson(lesson, base_dir=Path("."), measurer=None).code
    return " ".join(compiled.split())


@pytest.mark.parametrize("fragment", [
    "x0 = live_value(1.0)",
    "slope.follows(lambda: (2.0 * a.value() * x0.value()))",
    "g = ax.plot(lambda x: (a.value() * x ** 2.0)",
    "keep_at(p, lambda: ax.c2p(x0.value(), g.underlying_function(x0.value())), on=ax)",
    "redraw( drop, lambda: Line(ax.c2p(x0.value(), 0), ax.c2p(x0.value(), g.underlying_function(x0.value()))",
    "keep_beside(lp, p)",
    "under = plot_area(ax, g, 0.0, 1.0,",
    "lambda: plot_area(ax, g, 0.0, x0.value(),",
    "resize_with(c, lambda: r.value(), 0.5, 'scale')",
    "lambda: Arc(radius=1.0, start_angle=(0.0) * DEGREES, angle=((t.value()) - (0.0)) * DEGREES,",
    "lambda: riemann_of(ax, g, 0.0, x0.value(), 4,",
    "change_value(x0, [2, 3], rate_func=linear)",
    "change_value(r, [1], rate_func=smooth)",
    "turn(arm, angle=90.0 * DEGREES, about_point=",
    "rate_func=rate_functions.ease_in_sine",
    "move_along(p, c, closed=True, rate_func=smooth)",
    "self.step(1.0, turn(arm, angle=90.0 * DEGREES, whole_step=False))",
])
def test_each_motion_lowers_to_its_helper(code, fragment):
    assert " ".join(fragment.split()) in code


def test_lesson_text_reaches_the_code_only_through_the_expression_printer(code):
    """A value's expression is printed from its parsed tree (`2 a x0` is not in the code as
    written); its label and unit are string literals of text blocks."""
    assert "2 a x0" not in code
    assert "text_block('slope =', font_size=30" in code and "text_block('m/s', font_size=30" in code


@pytest.mark.parametrize(("line", "column", "hint"), [
    ("axes ax in A1..D4 x=0..4 y=0..4 step=s", 35, "ticks are laid out once"),
    ('axes ax in A1..D4 x=0..4 y=0..4 x_step="2 s"', 35, "x_step=0.5"),
    ("numberline ax in A1..A4 x=0..4 step=s", 34, "ticks are laid out once"),
    ('value v = 2 at B2 label="v =" decimals=s', 33, "decimals=2"),
    ("trace ax of w stroke=s", 17, "give it a number"),
])
def test_an_option_that_cannot_follow_a_value_is_an_error_at_it(line, column, hint):
    """A tick step, a readout's decimals, a trace's stroke written with values: an error at the
    option, whose hint says to give it a number."""
    lesson = parse_text(textwrap.dedent('''\
        lesson "Steps"

        section s "S"
          value s = 1
          LINE
          dot w at B5

          step 1s: create ax, w
        ''').replace("LINE", line), "steps.lecture")
    with pytest.raises(DiagnosticError) as caught:
        compile_lesson(lesson, base_dir=Path("."), measurer=None)
    found = caught.value.diagnostics[0]
    assert "cannot follow a value" in found.message and found.code == "bad-value"
    assert (found.span.line, found.span.column) == (5, column) and "give it a number" in (found.hint or "")
    assert hint in (found.hint or ""), found.hint
