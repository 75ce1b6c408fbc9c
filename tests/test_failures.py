"""Render failures are reported at the `.lecture` node that caused them, not as tracebacks.

The fast tests map hand-made worker failures through a source map; the slow ones render a
hand-written compiled module (one good section, one bad) with Manim at low quality, and,
when the compiler's lowering stage exists, a real lesson with a bad formula and a missing
image.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from lecture.compiler import frontend
from lecture.compiler.sourcemap import CompiledModule, CompiledScene, SourceMap, SourceMapEntry
from lecture.runtime import build, failures
from lecture.runtime.ffmpeg import probe
from lecture.runtime.render import resolve_settings
from lecture.runtime.worker_result import TraceFrame, WorkerFailure
from rich.console import Console

LESSON = """\
lesson "Render failures"
  resolution: 854x480
  fps: 15

section intro "Intro"
  line l1 "Hello there."
  circle c at B2 color=blue
  step 1s: say l1; create c

section bad "Broken"
  math eq $\\frac{$ at C3
  step 1s: write eq
"""


def _hand_compiled(lesson_path: Path, image: Path | None = None) -> tuple[CompiledModule, object]:
    """What compile_lesson would produce for LESSON, written by hand: the `bad` section's
    formula does not typeset (or, with `image`, its element loads a picture)."""
    loaded = frontend.load_file(lesson_path)
    lesson = loaded.lesson
    intro, bad = lesson.sections
    lines: list[str] = ["from manim import *", "", ""]
    entries: list[SourceMapEntry] = []

    def emit(code: str, node: str | None = None, span=None, section=None) -> None:
        lines.append(code)
        if node is not None:
            entries.append(SourceMapEntry(len(lines), len(lines), node, span, section))

    start = len(lines) + 1
    emit("class Intro(Scene):")
    emit("    def construct(self):")
    emit("        c = Circle(color=BLUE).move_to([0.5, 2.2, 0])", "section intro / element c",
         intro.elements[0].span, "intro")
    emit("        self.play(Create(c), run_time=1.0)", "section intro / step 1",
         intro.steps[0].span, "intro")
    entries.append(SourceMapEntry(start, len(lines), "section intro", intro.span, "intro"))
    emit("")
    emit("")
    start = len(lines) + 1
    emit("class Bad(Scene):")
    emit("    def construct(self):")
    if image is None:
        emit('        eq = MathTex(r"\\frac{").move_to([2.5, 0.2, 0])',
             "section bad / element eq", bad.elements[0].span, "bad")
    else:
        emit(f"        eq = ImageMobject({str(image)!r})", "section bad / element eq",
             bad.elements[0].span, "bad")
    emit("        self.play(FadeIn(eq), run_time=1.0)", "section bad / step 1",
         bad.steps[0].span, "bad")
    entries.append(SourceMapEntry(start, len(lines), "section bad", bad.span, "bad"))
    module = CompiledModule("\n".join(lines) + "\n",
                            (CompiledScene("intro", "Intro", 1.0), CompiledScene("bad", "Bad", 1.0)),
                            SourceMap(tuple(entries)))
    return module, loaded


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, force_terminal=False, color_system=None), buf


# ---------------------------------------------------------------- fast: mapping only


def _map(tmp_path: Path) -> tuple[SourceMap, Path]:
    lesson_path = tmp_path / "m.lecture"
    lesson_path.write_text(LESSON)
    module, _ = _hand_compiled(lesson_path)
    mod = tmp_path / "lesson_scenes.py"
    mod.write_text(module.code)
    return module.source_map, mod


def test_innermost_generated_frame_maps_to_the_element(tmp_path):
    smap, mod = _map(tmp_path)
    failure = WorkerFailure("exception", "RuntimeError", "boom",
                            (TraceFrame("/x/manim/scene.py", 10),
                             TraceFrame(str(mod), 12),  # construct: the MathTex line
                             TraceFrame("/x/manim/tex.py", 99)))
    f = failures.diagnose("bad", failure, source_map=smap, module_path=mod)
    d = f.diagnostic
    assert (d.span.line, d.span.column) == (11, 3)
    assert d.code == "render-exception"
    assert "RuntimeError: boom" in d.message and "element eq" in d.message
    assert "Traceback" not in f.render(LESSON)


def test_unmapped_failure_falls_back_to_the_section(tmp_path):
    smap, mod = _map(tmp_path)
    failure = WorkerFailure.crash("killed")
    f = failures.diagnose("bad", failure, source_map=smap, module_path=mod)
    assert f.diagnostic.span.line == 10 and f.diagnostic.code == "render-crash"


def test_frames_are_read_from_a_raw_log_when_the_worker_died(tmp_path):
    smap, mod = _map(tmp_path)
    log = tmp_path / "bad.log"
    log.write_text(f'Traceback (most recent call last):\n  File "{mod}", line 13, in construct\n'
                   "    self.play(...)\nSegmentation fault\n")
    failure = WorkerFailure.crash("status -11")
    f = failures.diagnose("bad", failure, source_map=smap, module_path=mod, log_path=log)
    assert f.diagnostic.span.line == 12  # the step
    assert str(log) in f.render(LESSON)


def test_tex_log_lines_are_quoted(tmp_path):
    smap, mod = _map(tmp_path)
    texlog = tmp_path / "abc.log"
    texlog.write_text("This is pdfTeX\n! Missing } inserted.\n<inserted text> \n"
                      "                }\nl.8 \\end{align*}\n                 \n")
    failure = WorkerFailure("exception", "ValueError",
                            f"latex error converting to dvi. See log output above or the log file: {texlog}",
                            (TraceFrame(str(mod), 12),))
    f = failures.diagnose("bad", failure, source_map=smap, module_path=mod)
    assert f.diagnostic.code == "render-latex"
    assert f.tex_errors == ("! Missing } inserted.", "l.8 \\end{align*}")
    text = f.render(LESSON)
    assert text.startswith(f"{smap.entries[0].span.file}:11:3: error: LaTeX")
    assert "Missing } inserted" in text and "l.8" in text


# ---------------------------------------------------------------- slow: real renders


@pytest.mark.parametrize("what", ["latex", "image"])
def test_one_bad_section_fails_at_its_node_and_the_other_renders(tmp_path, what):
    lesson_path = tmp_path / "fail.lecture"
    lesson_path.write_text(LESSON)
    image = tmp_path / "gone.png" if what == "image" else None  # never created: "disappeared"
    module, loaded = _hand_compiled(lesson_path, image)
    console, buf = _console()
    out_dir = tmp_path / "build" / "fail"
    rc = build.render_compiled(module, build.RenderTarget(
        lesson=loaded.lesson, source_text=loaded.source.text, lesson_path=lesson_path,
        settings=resolve_settings("low"), out_dir=out_dir), console=console)
    out = buf.getvalue()
    assert rc == 1, out
    assert f"{lesson_path}:11:3: error:" in out
    assert "Traceback" not in out
    assert "failed: bad" in out
    assert str(out_dir / "logs" / "bad.log") in out
    if what == "latex":
        # TeX is given the formula as written (runtime/tex.py): its own line for `\frac{`
        assert "LaTeX" in out and "TeX says:" in out and "! File ended while scanning use of \\align*." in out
    else:
        assert "missing" in out and "gone.png" in out
    assert (out_dir / "logs" / "bad.log").read_text().count("Traceback") >= 1
    intro = out_dir / "sections" / "intro.mp4"
    assert probe(intro).has_video and not (out_dir / "sections" / "bad.mp4").exists()
    assert not (out_dir / "lesson.mp4").exists()
    man = json.loads((out_dir / "manifest.json").read_text())
    status = {s["id"]: s["status"] for s in man["sections"]}
    assert status == {"intro": "ok", "bad": "failed"} and man["status"] == "failed"
    bad = man["sections"][1]
    assert bad["error"].startswith(f"{lesson_path}:11:3:")
    assert bad["diagnostic"]["diagnostic"]["line"] == 11


def _have_compiler() -> bool:
    try:
        from lecture.compiler.lower import compile_lesson  # noqa: F401
    except ImportError:
        return False
    return True


def test_real_lesson_with_a_bad_formula(tmp_path):
    lesson_path = tmp_path / "formula.lecture"
    lesson_path.write_text(LESSON)
    console, buf = _console()
    # auto-fix off: this test is about how the failure is reported (test_autofix_build
    # covers the repair)
    rc = build.render_lessons([lesson_path], build.RenderOptions(quality="low", build_root=tmp_path / "build",
                                                                 autofix=False), console=console)
    out = buf.getvalue()
    assert rc == 1, out
    assert f"{lesson_path}:11:" in out and "LaTeX" in out, out
    assert "Traceback" not in out
    assert (tmp_path / "build" / "formula" / "sections" / "intro.mp4").is_file()


def test_real_lesson_with_an_image_that_disappears(tmp_path, monkeypatch):
    lesson_path = tmp_path / "pic.lecture"
    picture = tmp_path / "pic.png"
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(picture)
    lesson_path.write_text(LESSON.replace("math eq $\\frac{$ at C3", 'image eq "pic.png" at C3'))

    real_compile = build.compile_module

    def compile_then_delete(lesson, **kw):
        module = real_compile(lesson, **kw)
        picture.unlink(missing_ok=True)  # checked and compiled, gone before the render (a render
        # ahead of the narration compiles too)
        return module

    monkeypatch.setattr(build, "compile_module", compile_then_delete)
    console, buf = _console()
    # auto-fix off: this test is about how the failure is reported (test_autofix_build
    # covers the repair)
    rc = build.render_lessons([lesson_path], build.RenderOptions(quality="low", build_root=tmp_path / "build",
                                                                 autofix=False), console=console)
    out = buf.getvalue()
    assert rc == 1, out
    assert f"{lesson_path}:11:" in out and "pic.png" in out, out
    assert "Traceback" not in out
    assert (tmp_path / "build" / "pic" / "sections" / "intro.mp4").is_file()


def test_a_worker_that_dies_is_reported_at_its_section(tmp_path):
    lesson_path = tmp_path / "crash.lecture"
    lesson_path.write_text(LESSON)
    module, loaded = _hand_compiled(lesson_path)
    code = module.code.replace('        eq = MathTex(r"\\frac{").move_to([2.5, 0.2, 0])',
                               "        import os; os._exit(3)")
    module = CompiledModule(code, module.scenes, module.source_map)
    console, buf = _console()
    out_dir = tmp_path / "build" / "crash"
    rc = build.render_compiled(module, build.RenderTarget(
        lesson=loaded.lesson, source_text=loaded.source.text, lesson_path=lesson_path,
        settings=resolve_settings("low"), out_dir=out_dir, sections=["bad"]), console=console)
    out = buf.getvalue()
    assert rc == 1, out
    assert f"{lesson_path}:10:1: error: rendering section 'bad' failed" in out
    assert "status 3" in out and "Traceback" not in out
