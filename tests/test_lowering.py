"""Lowering a lesson to a Manim module: every element kind and action, comments and source
map, timing, themes, determinism, and the generated scenes actually running (dry run)."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.frontend import load_text
from lecture.compiler.kinds import KINDS, VERBS
from lecture.compiler.lower import ACTIONS, ELEMENTS, class_name, compile_lesson
from lecture.runtime.measure import ManimMeasurer

LESSON = textwrap.dedent('''\
    lesson "Everything"
      theme: chalkboard

    section shapes "Shapes and text"
      line l1 "Circles, squares and rectangles are shapes."
      line l2 "Text and formulas sit in cells too."
      line l3 "Arrows connect things."
      circle c at A1 color=red
      square sq side=1.5 in A2..B3 fill=blue opacity=0.5
      rectangle box in A4..B6 color=green stroke=2
      dot p at C1
      text note "Area = base × height ÷ 2" at C4
      math eq $\\frac{a}{b} = c$ below note
      arrow hint from c to eq color=yellow
      line seg from E1 to F3
      label lc "c" right of c
      title big "Why shapes?" in E4..F6
      square sq2 side=1 at D2 color=#ff8800
      step 1s: say l1; create c, sq, p, box
      step 2s: highlight l2; write note, eq; fade in big
      step 1.5s: say l3 "arrows"; create hint, lc, seg
      step 2s: move eq to at F1; indicate note
      step: transform sq into sq2
      step 1s: fade out c; remove p
      wait 0.5s

    section graphs "Graphs and tables"
      axes ax x=-3..3 y=0..9 in A1..D4 x_label="x" y_label="y"
      plot f "x^2" on ax color=yellow
      numberline nl x=-5..5 step=1 in F1..F6
      table tb in A5..C6:
        "n" "n²"
        "3" "9"
      bullets bl "one" "two is a longer item" in D5..E6
      brace br "width" below tb
      code src """print(1)""" language=python in E1..E4
      image pic "pic.png" at F6
      custom cu "four triangles slide around" in A1..B4
      step 2s: create ax, f, nl
      step 2s: create tb, br; write bl
      step 1s: write src; fade in pic
      step 3s: fade out ax, f; play cu
    ''')

# line numbers of some statements in LESSON
LINE_OF = {"c": 8, "eq": 13, "ax": 28, "step1": 19, "wait": 25}


@pytest.fixture(scope="module")
def lesson_dir(tmp_path_factory) -> Path:
    from PIL import Image

    d = tmp_path_factory.mktemp("lesson")
    Image.new("RGBA", (60, 40), (200, 80, 80, 255)).save(d / "pic.png")
    (d / "k.lecture").write_text(LESSON, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def compiled(lesson_dir):
    loaded = load_text(LESSON, str(lesson_dir / "k.lecture"), base_dir=lesson_dir)
    return loaded.lesson, compile_lesson(loaded.lesson, base_dir=lesson_dir, measurer=ManimMeasurer())


def test_every_kind_and_verb_has_a_lowering():
    assert set(KINDS) <= set(ELEMENTS)
    assert set(VERBS) <= set(ACTIONS)


def test_module_is_valid_python_with_a_scene_per_section(compiled):
    lesson, module = compiled
    tree = ast.parse(module.code)
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert classes == ["S01Shapes", "S02Graphs"]
    assert [s.class_name for s in module.scenes] == classes
    assert [s.section_id for s in module.scenes] == ["shapes", "graphs"]


def test_scene_duration_is_the_sum_of_its_steps(compiled):
    _, module = compiled
    assert module.scenes[0].duration == pytest.approx(1 + 2 + 1.5 + 2 + 1 + 1 + 0.5)
    assert module.scenes[1].duration == pytest.approx(8.0)


def test_class_names():
    assert class_name(1, "intro") == "S01Intro"
    assert class_name(12, "proof_by_pictures") == "S12ProofByPictures"
    assert class_name(3, "_") == "S03Section"


@pytest.mark.parametrize("snippet", [
    "c = Circle(radius=0.4, color='#fc6255').move_to(np.array([0.5, 2.2, 0.0]))",
    "sq = Square(",
    "fill_opacity=0.5",
    "box = Rectangle(",
    "stroke_width=2.0",
    "p = Dot(np.array([0.5, 0.2, 0.0])",
    "note = text_block(",
    "'Area = base × height ÷ 2'",
    "eq = MathTex(",
    "'\\\\frac{a}{b} = c'",
    "hint = Arrow(",
    "seg = Line(np.array([0.5, -1.8, 0.0]), np.array([2.5, -2.8, 0.0])",
    "lc = text_block(",
    "big = text_block(",
    "bold=True",
    "color='#ff8800'",
    "ax = Axes(",
    "x_range=[-3.0, 3.0, 1.0]",
    "ax.add(ax.get_axis_labels(",
    "f = ax.plot(lambda x: (x ** 2.0), x_range=[-3.0, 3.0, 0.0301], color='#f7d96f')",
    "nl = NumberLine(",
    "tb = table_of(",
    "[['n', 'n²'], ['3', '9']]",
    "bl = bullet_list(",
    "br = brace_with_label(tb, direction=DOWN, text='width'",
    "src = Code(",
    "language='python'",
    "pic = ImageMobject(",
    "cu = placeholder(",
    "'four triangles slide around'",
])
def test_element_code(compiled, snippet):
    assert snippet in compiled[1].code


@pytest.mark.parametrize("snippet", [
    "self.step(1.0, self.highlight('l1'), Create(c), Create(sq), Create(p), Create(box))",
    "self.highlight('l2'), Write(note), Write(eq), FadeIn(big)",
    "self.step(1.5, self.highlight('l3'), GrowArrow(hint), Write(lc), Create(seg))",
    "eq.animate.move_to(np.array([",
    "Indicate(note, color='#f7d96f')",
    "self.step(1.0, ReplacementTransform(sq, sq2))",
    "self.remove(p)\n        self.step(1.0, FadeOut(c))",
    "self.step(0.5)\n",
    "self.step(2.0, Create(ax), Create(f), Create(nl))",
    "self.step(3.0, FadeOut(ax), FadeOut(f), play_custom(cu))",
])
def test_action_code(compiled, snippet):
    assert snippet in compiled[1].code


def test_title_and_lecture_lines(compiled):
    code = compiled[1].code
    assert "self.show_title('Shapes and text')" in code
    assert "('l1', 'Circles, squares and rectangles are shapes.')," in code
    assert "theme_name = 'chalkboard'" in code


def test_comments_name_the_lesson_lines(compiled):
    lines = compiled[1].code.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.strip().startswith("c = Circle("))
    assert lines[i - 1].strip() == f"# c: circle — k.lecture:{LINE_OF['c']}"
    j = next(n for n, ln in enumerate(lines) if ln.strip().startswith("self.step(1.0, self.highlight('l1')"))
    assert lines[j - 1].strip() == f"# step 1, 1s — k.lecture:{LINE_OF['step1']}"
    assert f"# step 7, wait 0.5s — k.lecture:{LINE_OF['wait']}" in compiled[1].code


def test_source_map_points_back_at_the_lesson(compiled):
    _, module = compiled
    lines = module.code.splitlines()
    circle = next(n for n, ln in enumerate(lines, start=1) if ln.strip().startswith("c = Circle("))
    entry = module.source_map.lookup(circle)
    assert entry.node == "section shapes / element c" and entry.section == "shapes"
    assert entry.span.line == LINE_OF["c"]
    axes = next(n for n, ln in enumerate(lines, start=1) if ln.strip().startswith("ax.add("))
    assert module.source_map.lookup(axes).span.line == LINE_OF["ax"]
    step = next(n for n, ln in enumerate(lines, start=1) if "ReplacementTransform" in ln)
    assert module.source_map.lookup(step).node == "section shapes / step 5"
    cls = next(n for n, ln in enumerate(lines, start=1) if ln.startswith("class S02Graphs"))
    assert module.source_map.lookup(cls).node == "section graphs"
    assert json.loads(module.source_map.to_json())


def test_same_lesson_gives_byte_identical_code(compiled, lesson_dir):
    lesson, module = compiled
    assert compile_lesson(lesson, base_dir=lesson_dir, measurer=ManimMeasurer()).code == module.code


def test_byte_identical_across_processes(compiled, lesson_dir):
    script = textwrap.dedent(f'''
        import sys
        from pathlib import Path
        from lecture.compiler.frontend import load_file
        from lecture.compiler.lower import compile_lesson
        from lecture.runtime.measure import ManimMeasurer
        d = Path({str(lesson_dir)!r})
        sys.stdout.write(compile_lesson(load_file(d / "k.lecture").lesson, base_dir=d,
                                        measurer=ManimMeasurer()).code)
    ''')
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         check=True, cwd=lesson_dir)
    assert out.stdout == compiled[1].code


def test_light_theme_goes_through_the_same_code():
    text = 'lesson "L"\n  theme: light\nsection s "S"\n  text t "hi" at B2\n  step 1s: write t\n'
    module = compile_lesson(load_text(text, "l.lecture").lesson, base_dir=Path("."), measurer=ManimMeasurer())
    assert "theme_name = 'light'" in module.code
    assert "color='#222222'" in module.code  # the light theme's text colour


def test_step_without_duration_lasts_one_second():
    text = 'lesson "L"\nsection s "S"\n  circle c at B2\n  step: create c\n  step 2.5s: indicate c\n'
    module = compile_lesson(load_text(text, "l.lecture").lesson, base_dir=Path("."), measurer=ManimMeasurer())
    assert "self.step(1.0, Create(c))" in module.code
    assert "self.step(2.5, Indicate(c" in module.code
    assert module.scenes[0].duration == 3.5


def test_bad_latex_is_reported_at_the_lesson_line():
    text = 'lesson "L"\nsection s "S"\n  math m $\\frac{a$ at B2\n  step 1s: write m\n'
    with pytest.raises(DiagnosticError) as info:
        compile_lesson(load_text(text, "bad.lecture").lesson, base_dir=Path("."), measurer=ManimMeasurer())
    (diag,) = info.value.diagnostics
    assert diag.span.line == 3 and diag.code == "build-failed"


def test_element_ids_that_clash_with_python_names_are_renamed():
    text = ('lesson "L"\nsection s "S"\n  circle Circle at B2\n  circle self at C2\n'
            '  step 1s: create Circle, self\n')
    code = compile_lesson(load_text(text, "l.lecture").lesson, base_dir=Path("."),
                          measurer=ManimMeasurer()).code
    assert "Circle_ = Circle(" in code and "self_ = Circle(" in code
    assert "Create(Circle_), Create(self_)" in code


# ---------------------------------------------------------------- frame-exact timing


@pytest.mark.parametrize("fps", [15, 24, 30, 60])
def test_frame_arithmetic_of_step_is_exact(fps):
    # What Manim does: a played animation writes len(arange(0, t, 1/fps)) frames, a frozen
    # wait writes int(t / (1/fps)) frames. `step` picks t so that both give exactly n.
    for n in range(1, 400):
        assert len(np.arange(0, (n - 0.5) / fps, 1 / fps)) == n
        assert int(((n + 0.5) / fps) / (1 / fps)) == n


# ---------------------------------------------------------------- running the scenes


def _load_module(code: str, path: Path):
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("scene_index", [0, 1])
def test_scenes_run_and_keep_their_layout(compiled, tmp_path, scene_index):
    from lecture.compiler import layout
    from manim import tempconfig

    lesson, module = compiled
    mod = _load_module(module.code, tmp_path / f"lesson_scenes_{scene_index}.py")
    scene_info = module.scenes[scene_index]
    positions = {}
    cls = getattr(mod, scene_info.class_name)

    class Probe(cls):
        def step(self, seconds, *animations):
            if not positions:  # elements as laid out, before any step moves them
                frame = sys._getframe(1)
                positions.update({k: v.get_center()[:2] for k, v in frame.f_locals.items()
                                  if hasattr(v, "get_center") and k != "self"})
            super().step(seconds, *animations)

    from lecture.runtime.tex import measure_cache_dir

    # the compiler's measuring cache: its texts and formulas are already typeset there
    with tempconfig({"dry_run": True, "media_dir": str(measure_cache_dir()), "frame_rate": 15,
                     "verbosity": "WARNING", "progress_bar": "none", "disable_caching": True}):
        from manim.renderer.cairo_renderer import CairoRenderer

        scene = Probe(renderer=CairoRenderer(skip_animations=True))
        scene.render()
        assert scene._frames == round(scene_info.duration * 15)
        for mob in scene.mobjects:  # nothing strays out of the frame
            assert abs(mob.get_center()[0]) < 7.11 and abs(mob.get_center()[1]) < 4.0
    if scene_index == 0:
        assert positions["c"] == pytest.approx((0.5, 2.2), abs=1e-3)
        assert positions["note"] == pytest.approx((3.5, 0.2), abs=1e-3)
        assert positions["eq"][1] < 0.2  # below note
    else:
        assert positions["tb"] == pytest.approx(layout.area_box(
            lesson.sections[1].element("tb").placement.first,
            lesson.sections[1].element("tb").placement.last).center, abs=1e-3)
