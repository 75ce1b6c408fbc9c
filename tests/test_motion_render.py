"""Motion and live values, rendered (issue 16): a dot that follows a value stays on its curve at
every sampled frame while the value changes; a readout shows the number its value has at that
frame; a trace covers the path its dot travelled, from where it was when the trace was created;
a move along a plot runs on the plot and ends at the end of its piece; the layout's boxes follow
the values to every step's end. And the code the lowering writes for each motion."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
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
      value y0 = "f(x0)" at F2 label="y =" decimals=2
      tangent tl on f x=x0 length=2 color=white
      dot p at (x0, f(x0)) on ax color=red radius=0.12
      trace tr of p color=green stroke=8
      dot q at (0, 0) on ax color=blue radius=0.12

      step 1s: create ax, f, tl, p, tr; write y0
      step 2s: change x0 to 3
      step 1s: create q
      step 2s: move q along f x=0..2
    ''')

FPS = 15
STEPS = [1.0, 2.0, 1.0, 2.0]
CHANGE_FIRST, CHANGE_FRAMES = 15, 30  # step 2: frames 15..44
ALONG_FIRST, ALONG_FRAMES = 60, 30  # step 4: frames 60..89
RED, GREEN, BLUE, WHITE, YELLOW = "#fc6255", "#83c167", "#58c4dd", "#ffffff", "#f7d96f"
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


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The lesson rendered at low quality with the frames the tests read, and the dry run's real
    axes (where coordinates land), readout (to draw references of it) and step-end views."""
    folder = tmp_path_factory.mktemp("motion")
    path = folder / "motion.lecture"
    path.write_text(LESSON)
    loaded = load_text(LESSON, str(path))
    assert not has_errors(loaded.diagnostics), loaded.diagnostics
    compiled = compile_for_views(loaded.lesson, base_dir=folder)
    kept: dict[str, Any] = {}

    def keep(section: int, step: int, scene: Any) -> None:
        if step == 1:
            kept["axes"] = next(m for m in scene.mobjects if type(m).__name__ == "Axes")
            kept["readout"] = next(m for m in scene.mobjects if type(m).__name__ == "LiveValue").copy()

    views = run_views(compiled, on_step=keep)
    run = subprocess.run([sys.executable, "-m", "lecture", "render", str(path), "-q", "low",
                          "--build-dir", str(folder / "build")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    manifest = json.loads((folder / "build" / "motion" / "manifest.json").read_text())
    assert manifest["fps"] == FPS
    video = Path(manifest["sections"][0]["output"])
    info = probe(video)
    wanted = [_change_frame(k) for k in (0, 4, 10, 15, 22, 29)] + [ALONG_FIRST + k for k in (8, 15, 22, 29)]
    frames = decode_frames(video, wanted, info.width, info.height)
    return {"frames": frames.images, "size": (info.width, info.height), "views": views, "compiled": compiled,
            "graph": section_values(loaded.lesson.sections[0]), "background": views[0].background, **kept}


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
        readout.number.set_value(value)
        camera = Camera(pixel_width=width, pixel_height=height, background_color=rendered["background"])
        camera.capture_mobjects([readout])
        return np.asarray(camera.get_image().convert("RGB"))


def _readout_crop(rendered: dict[str, Any], image: np.ndarray) -> np.ndarray:
    """The readout's place in a frame, in luminance (the video's colour is sampled at half size)."""
    box = next(fp.bbox for fp in rendered["views"][0].steps[1].visible if fp.element == "y0")
    (left, top), (right, bottom) = (_pixel((box.left - 0.1, box.top + 0.1), *rendered["size"]),
                                    _pixel((box.right + 0.4, box.bottom - 0.1), *rendered["size"]))
    crop = image[int(top):int(bottom), int(left):int(right)].astype(float)
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
    "move_along(p, c, rate_func=smooth)",
    "self.step(1.0, Rotate(arm, angle=90.0 * DEGREES))",
])
def test_each_motion_lowers_to_its_helper(code, fragment):
    assert " ".join(fragment.split()) in code


def test_lesson_text_reaches_the_code_only_through_the_expression_printer(code):
    """A value's expression is printed from its parsed tree (`2 a x0` is not in the code as
    written); its label and unit are string literals of text blocks."""
    assert "2 a x0" not in code
    assert "text_block('slope =', font_size=30" in code and "text_block('m/s', font_size=30" in code


def test_an_option_that_cannot_follow_a_value_is_an_error_at_it():
    lesson = parse_text(textwrap.dedent('''\
        lesson "Steps"

        section s "S"
          value s = 1
          axes ax in A1..D4 x=0..4 y=0..4 step=s

          step 1s: create ax
        '''), "steps.lecture")
    with pytest.raises(DiagnosticError) as caught:
        compile_lesson(lesson, base_dir=Path("."), measurer=None)
    found = caught.value.diagnostics[0]
    assert "cannot follow a value" in found.message and found.code == "bad-value"
    assert (found.span.line, found.span.column) == (5, 35) and "give it a number" in (found.hint or "")
