"""A custom element with locked Coder code is lowered to a call of that code inside its box,
its `play` runs the code's own animations, and an error inside that code maps back to the
custom element's line through the source map."""

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
from lecture.agents.custom_elements import emit_function
from lecture.compiler import frontend
from lecture.compiler.lower import compile_lesson
from lecture.runtime.measure import ManimMeasurer

LESSON = '''lesson "Custom"

section s "A custom element"
  line l1 "Watch."
  custom spin in B2..D4 """A square that turns."""
  step 2s: say l1; play spin
'''

CODE = '''from manim import *

def build(box):
    sq = Square(side_length=min(box.width, box.height) * 0.6).move_to(box.center)
    return sq, [Create(sq), Rotate(sq, angle=PI / 4)]
'''


def _compile(tmp_path: Path, code: str = CODE, overrides=None):
    lesson = frontend.load_text(LESSON, str(tmp_path / "c.lecture")).lesson
    functions = {("s", "spin"): ("custom_s_spin", emit_function(code, "custom_s_spin"))}
    return lesson, compile_lesson(lesson, base_dir=tmp_path, measurer=ManimMeasurer(),
                                  custom_functions=functions, overrides=overrides)


def _load(code: str, path: Path):
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def test_locked_code_is_emitted_and_called_inside_its_box(tmp_path):
    lesson, module = _compile(tmp_path)
    ast.parse(module.code)
    assert "def build(box):" in module.code
    assert "spin = custom_element(" in module.code and "custom_s_spin" in module.code
    assert "play_custom(spin)" in module.code
    # the function's lines map back to the custom element
    line = next(i for i, text in enumerate(module.code.split("\n"), 1) if "Rotate(sq" in text)
    entry = module.source_map.lookup(line)
    assert entry is not None and entry.node == "section s / element spin"
    assert entry.span.line == 5


def test_placeholder_override_ignores_the_code(tmp_path):
    _, module = _compile(tmp_path, overrides={("s", "spin"): "placeholder"})
    scene_code = module.code[module.code.index("class "):]
    assert "spin = placeholder(" in scene_code and "'A square that turns.'" in scene_code
    assert "custom_element(" not in scene_code


def test_play_runs_the_codes_animations_and_keeps_the_element(tmp_path):
    from manim import tempconfig
    from manim.renderer.cairo_renderer import CairoRenderer

    _, module = _compile(tmp_path)
    mod = _load(module.code, tmp_path / "custom_scene_mod.py")
    cls = getattr(mod, module.scenes[0].class_name)
    with tempconfig({"dry_run": True, "media_dir": str(tmp_path / "media"), "frame_rate": 15,
                     "verbosity": "WARNING", "progress_bar": "none", "disable_caching": True}):
        scene = cls(renderer=CairoRenderer(skip_animations=True))
        played = []
        original = scene.play

        def spy(*animations, **kwargs):
            played.extend(animations)
            return original(*animations, **kwargs)

        scene.play = spy
        scene.render()
    inner = [a for group in played for a in getattr(group, "animations", [group])]
    assert any(type(a).__name__ == "_PlayCustom" for a in inner), inner
    squares = [m for m in scene.mobjects if type(m).__name__ == "Square"]
    assert squares, "the custom element stays on screen after its animation"
    sq = squares[0]
    assert 1.0 <= sq.get_center()[0] <= 4.0 and -1.5 <= sq.get_center()[1] <= 1.8


@pytest.mark.parametrize("override,expected", [("math-as-text", "'x',\n            width="),
                                               ("math-repaired", "MathTex")])
def test_math_as_text_override(tmp_path, override, expected):
    text = 'lesson "M"\n\nsection s "S"\n  math eq "x^{" at C3\n  step 1s: write eq\n'
    lesson = frontend.load_text(text, str(tmp_path / "m.lecture")).lesson
    module = compile_lesson(lesson, base_dir=tmp_path, measurer=ManimMeasurer(),
                            overrides={("s", "eq"): override})
    assert expected in module.code
