"""What a step shows is what the lesson says (issue 14): actions of one step on the same element
play one after another (or are refused, by `check` and the lowering alike); a translucent fill
is drawn once, during a wait too; `move` never rescales a dot nor grows a shape; numbers in the
generated code keep the precision they need.

The render-based tests render one small section in this process with the real Cairo renderer and
record every frame it writes (no video encoding, so colours are exact)."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import diagnose, lesson
from lecture.compiler import layout
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.frontend import load_text, parse_text
from lecture.compiler.lower import compile_lesson
from lecture.compiler.sourcemap import CompiledModule
from lecture.runtime.measure import ManimMeasurer
from lecture.runtime.tex import measure_cache_dir

FPS = 15
WIDTH, HEIGHT = 640, 360
FRAME_W, FRAME_H = 8.0 * WIDTH / HEIGHT, 8.0


def _compile(text: str) -> CompiledModule:
    return compile_lesson(load_text(text, "t.lecture").lesson, base_dir=Path("."), measurer=ManimMeasurer())


def _load(code: str, path: Path):
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Rendered:
    code: str
    frames: list[np.ndarray]  # RGB, one per video frame

    def pixel(self, frame: int, x: float, y: float) -> np.ndarray:
        """The colour at scene point (x, y) of a frame."""
        col = int((x + FRAME_W / 2) / FRAME_W * WIDTH)
        row = int((FRAME_H / 2 - y) / FRAME_H * HEIGHT)
        return self.frames[frame][row, col].astype(int)

    def drawn(self, frame: int, cx: float, cy: float, w: float, h: float) -> int:
        """How many pixels of a box (scene units) differ clearly from the background."""
        def column(x: float) -> int:
            return int((x + FRAME_W / 2) / FRAME_W * WIDTH)

        def row(y: float) -> int:
            return int((FRAME_H / 2 - y) / FRAME_H * HEIGHT)

        box = self.frames[frame][row(cy + h / 2):row(cy - h / 2), column(cx - w / 2):column(cx + w / 2)]
        patch = box.astype(int)
        background = self.frames[0][HEIGHT // 2, WIDTH // 2 - 100].astype(int)  # (inside the empty panel)
        return int((np.abs(patch - background).sum(axis=-1) > 60).sum())


def _render(module: CompiledModule, folder: Path) -> Rendered:
    """Render the module's first scene and record every frame (at FPS, WIDTH x HEIGHT)."""
    from manim import tempconfig

    mod = _load(module.code, folder / "truth_scenes.py")
    scene_cls = getattr(mod, module.scenes[0].class_name)
    frames: list[np.ndarray] = []
    settings = {"dry_run": True, "media_dir": str(measure_cache_dir()), "frame_rate": FPS,
                "pixel_width": WIDTH, "pixel_height": HEIGHT, "frame_height": FRAME_H, "frame_width": FRAME_W,
                "verbosity": "WARNING", "progress_bar": "none", "disable_caching": True}
    with tempconfig(settings):
        from manim.renderer.cairo_renderer import CairoRenderer

        renderer = CairoRenderer()
        add_frame = renderer.add_frame

        def record(frame: np.ndarray, num_frames: int = 1) -> None:
            frames.extend([frame[..., :3].copy()] * num_frames)
            add_frame(frame, num_frames)

        renderer.add_frame = record  # type: ignore[method-assign]
        scene_cls(renderer=renderer).render()
    assert len(frames) == round(module.scenes[0].duration * FPS)
    return Rendered(module.code, frames)


# ---------------------------------------------------------------- one shared render

SHARED = lesson('''
    polygon tri (0,0) (4,0) (0,3) in D2..F5 fill=blue opacity=0.3
    math answer $x = 42$ at B3
    step 1s: create tri
    step 2s: write answer; indicate answer
    wait 1s
''')
END_OF_STEP_1, END_OF_STEP_2, IN_THE_WAIT = FPS * 1 - 1, FPS * 3 - 1, FPS * 4 - 1


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Rendered:
    rendered = _render(_compile(SHARED), tmp_path_factory.mktemp("truth"))
    if os.environ.get("LECTURE_TRUTH_PNG"):  # a folder: the frames tested, as PNGs to look at
        from PIL import Image

        for i in (END_OF_STEP_1, END_OF_STEP_2, IN_THE_WAIT):
            Image.fromarray(rendered.frames[i]).save(Path(os.environ["LECTURE_TRUTH_PNG"]) / f"f{i}.png")
    return rendered


def test_an_element_written_and_indicated_in_one_step_is_visible_at_its_end(shared):
    assert "Succession(Write(answer), Indicate(answer" in shared.code
    cx, cy = layout.cell_center("B3")
    written = shared.drawn(END_OF_STEP_2, cx, cy, 1.0, 0.5)
    assert written > 50  # the formula's glyphs are there
    assert shared.drawn(END_OF_STEP_1, cx, cy, 1.0, 0.5) == 0  # (and were not before the step)
    # the step's last frame is its finished picture (the indicate is over): the wait shows the same
    end, held = shared.frames[END_OF_STEP_2].astype(int), shared.frames[IN_THE_WAIT].astype(int)
    assert np.abs(end - held).max() <= 2


def test_a_translucent_fill_keeps_its_colour_through_a_wait(shared):
    inside = (2.0, -2.5)  # inside the triangle, away from its edges
    at_step_end = shared.pixel(END_OF_STEP_1, *inside)
    background = shared.pixel(END_OF_STEP_1, -5.0, -3.5)
    assert np.abs(at_step_end - background).sum() > 20  # the fill is there
    for frame in (END_OF_STEP_2, END_OF_STEP_2 + 1, IN_THE_WAIT):
        assert np.abs(shared.pixel(frame, *inside) - at_step_end).max() <= 2, frame


# ---------------------------------------------------------------- pairs of actions in one step


TWO_CIRCLES = '''
    circle a at B2
    circle b at B4
    square c side=1 at D4
    step 1s: create b
    step 2s: {actions}
    step 1s: create a
'''


@pytest.mark.parametrize("actions, expected", [
    ("create a; move a to D5", "Succession(Create(a), a.animate.move_to("),
    ("indicate b; move b to D5; indicate b", "Succession(Indicate(b, color='#f7d96f'), b.animate.move_to("),
    ("move b to D5; fade out b", "Succession(b.animate.move_to(np.array([4.5, -0.8, 0.0])), FadeOut(b))"),
    ("create a; transform a into c", "Succession(Create(a), ReplacementTransform(a, c))"),
    ("create a; indicate b", "self.step(2.0, Create(a), Indicate(b"),  # two elements: together
])
def test_actions_on_one_element_play_one_after_another(actions, expected):
    text = lesson(TWO_CIRCLES.format(actions=actions)).replace("step 1s: create a\n", "")
    assert expected in _compile(text).code


@pytest.mark.parametrize("actions, second, hint", [
    ("create a; fade out a", "fade out a", "later step"),
    ("indicate b; remove b", "remove b", "fade out b"),
    ("fade out b; create b", "create b", "later step"),
    ("transform b into c; indicate c", "indicate c", "later step"),  # c shows up when the step ends
])
def test_pairs_that_make_no_sense_are_refused_by_check_and_lowering(actions, second, hint):
    text = lesson(TWO_CIRCLES.format(actions=actions))
    column = text.split("\n")[6].index(second) + 1  # line 7: the step with the pair
    found = [d for d in diagnose(text) if d.code == "step-order"]
    assert len(found) == 1, found
    (diag,) = found
    assert (diag.severity, diag.span.line, diag.span.column) == ("error", 7, column)
    assert diag.span.end_column - diag.span.column == len(second) and hint in (diag.hint or "")
    with pytest.raises(DiagnosticError) as info:  # the lowering refuses it too (unchecked lesson)
        compile_lesson(parse_text(text, "t.lecture"), base_dir=Path("."), measurer=None)
    found_here = [(d.code, d.span.line, d.span.column) for d in info.value.diagnostics]
    assert found_here == [("step-order", 7, column)]


# ---------------------------------------------------------------- move keeps sizes


def _move_code(code: str, var: str) -> str:
    match = re.search(rf"\b{var}\.animate\.[^\n]*", code)
    assert match, code
    return match.group(0)


def test_move_never_rescales_a_dot_nor_grows_a_shape():
    code = _compile(lesson('''
        dot d at A1
        dot big radius=0.6 at A3
        square q side=1 at B5
        square wide side=3 at D2
        step 1s: create d, big, q, wide
        step 1s: move d to C6..C6
        step 1s: move big to F6..F6
        step 1s: move q to D5..F6
        step 1s: move wide to C6..C6
    ''')).code
    assert ".scale(" not in _move_code(code, "d")  # a dot keeps its size in a bigger cell…
    assert ".scale(" not in _move_code(code, "big")  # …and in a smaller one
    assert ".scale(" not in _move_code(code, "q")  # a shape keeps its size in a bigger area
    shrink = re.search(r"\.scale\(([0-9.]+)\)", _move_code(code, "wide"))
    assert shrink and float(shrink.group(1)) < 1.0  # and shrinks to fit a smaller one


# ---------------------------------------------------------------- literals keep their precision


STEEP = lesson('''
    axes ax x=0..0.00024 y=0..1 in A1..C6
    plot f "(x/0.00024)^8" on ax
    axes bx x=0..1 y=0..22000 in D1..F6
    plot g "exp(10x)" on bx
    square s side=1 at A1 opacity=0.5
    step 1s: create ax, f, bx, g
    step 0.7s: create s
''')


def _call_keywords(code: str, func: str) -> list[dict[str, object]]:
    """The literal keyword arguments of every call of `func` (a name or a method)."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == func:
                found.append({k.arg: ast.literal_eval(k.value) for k in node.keywords
                              if k.arg and isinstance(k.value, (ast.List, ast.Constant))})
    return found


def _locals_at_first_step(module: CompiledModule, folder: Path) -> dict:
    """The scene's variables when its first step starts (a dry run: nothing drawn)."""
    from manim import tempconfig

    mod = _load(module.code, folder / "steep_scenes.py")
    seen: dict = {}

    class Probe(getattr(mod, module.scenes[0].class_name)):
        def step(self, seconds, *animations):
            if not seen:
                seen.update(sys._getframe(1).f_locals)
            super().step(seconds, *animations)

    with tempconfig({"dry_run": True, "media_dir": str(measure_cache_dir()), "frame_rate": FPS,
                     "verbosity": "WARNING", "progress_bar": "none", "disable_caching": True}):
        from manim.renderer.cairo_renderer import CairoRenderer

        Probe(renderer=CairoRenderer(skip_animations=True)).render()
    return seen


def _curve_points(curve) -> np.ndarray:
    """Points along a curve as drawn: each of its cubic Bézier pieces at 20 parameters."""
    t = np.linspace(0.0, 1.0, 20)[:, None]
    pieces = curve.points.reshape(-1, 4, 3)
    return np.concatenate([(1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c + t ** 3 * d
                           for a, b, c, d in pieces])


def test_numbers_keep_their_precision_and_a_steep_plot_follows_its_function(tmp_path):
    module = _compile(STEEP)
    code = module.code
    x_range = _call_keywords(code, "Axes")[0]["x_range"]
    assert isinstance(x_range, list) and x_range[:2] == [0.0, 0.00024]  # read back exactly
    assert 0 < x_range[2] <= 0.00024 / 4  # ticks (and samples) inside the range
    plots = [kw["x_range"] for kw in _call_keywords(code, "plot")]
    assert plots == [[0.0, 0.00024, 1.21e-06], [0.0, 1.0, 0.00501]]  # sampled at about 200 points
    assert "fill_opacity=0.5" in code and "self.step(0.7, " in code  # common values still read plainly
    found = _locals_at_first_step(module, tmp_path)
    for axes, curve, function, high in ((found["ax"], found["f"], lambda x: (x / 0.00024) ** 8, 0.00024),
                                        (found["bx"], found["g"], lambda x: np.exp(10 * x), 1.0)):
        points = _curve_points(curve)
        assert points[:, 0].max() <= axes.coords_to_point(high, 0)[0] + 1e-6  # no spur past its end
        for x in np.linspace(0.0, high, 41):
            expected = axes.coords_to_point(x, function(x))
            assert np.linalg.norm(points - expected, axis=1).min() < 0.015, x  # within ~1.5 px at 720p
