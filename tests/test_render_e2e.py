"""End to end: a small lesson rendered at low quality, joined into lesson.mp4, and checked
with ffprobe against the manifest.

Until the compiler's lowering stage exists, `build.compile_module` is replaced by a
hand-written compiled module for the same lesson; the tests marked `real_compiler` use
the real `compile_lesson`.
"""

from __future__ import annotations

import io
import json

import pytest
from lecture.compiler.sourcemap import CompiledModule, CompiledScene, SourceMap, SourceMapEntry
from lecture.runtime import build, manifest
from lecture.runtime.ffmpeg import probe
from lecture.runtime.render import QUALITIES, SettingsError, resolve_settings
from rich.console import Console

LESSON = """\
lesson "Two sections"
  audience: "tests"

section intro "Hello"
  line l1 "A circle."
  circle c at B2 color=blue
  step 1s: say l1; create c

section more "A square"
  line l2 "A square."
  square s at C4 color=red
  step 1s: say l2; create s
  wait 0.5s
"""


def _have_compiler() -> bool:
    try:
        from lecture.compiler.lower import compile_lesson  # noqa: F401
    except ImportError:
        return False
    return True


def _hand_compile(lesson, *, base_dir, fps) -> CompiledModule:
    """Stands in for compile_lesson: the same two scenes, written by hand."""
    intro, more = lesson.sections
    code = """\
from manim import *


class Intro(Scene):
    def construct(self):
        c = Circle(color=BLUE).move_to([0.5, 2.2, 0])
        self.play(Create(c), run_time=1.0)


class More(Scene):
    def construct(self):
        s = Square(color=RED).move_to([3.5, 1.2, 0])
        self.play(Create(s), run_time=1.0)
        self.wait(0.5)
"""
    entries = (
        SourceMapEntry(4, 7, "section intro", intro.span, "intro"),
        SourceMapEntry(6, 6, "section intro / element c", intro.elements[0].span, "intro"),
        SourceMapEntry(10, 14, "section more", more.span, "more"),
        SourceMapEntry(12, 12, "section more / element s", more.elements[0].span, "more"),
    )
    return CompiledModule(code, (CompiledScene("intro", "Intro", 1.0),
                                 CompiledScene("more", "More", 1.5)), SourceMap(entries))


@pytest.fixture
def compiler(monkeypatch):
    if not _have_compiler():
        monkeypatch.setattr(build, "compile_module", _hand_compile)


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, force_terminal=False, color_system=None), buf


# ---------------------------------------------------------------- fast


def test_quality_presets_and_lesson_settings():
    assert QUALITIES["low"].resolution == "854x480" and QUALITIES["low"].fps == 15
    assert (QUALITIES["4k"].width, QUALITIES["4k"].fps) == (3840, 60)
    assert resolve_settings(None, None) == QUALITIES["medium"]
    from lecture.compiler import frontend

    lesson = frontend.load_text('lesson "x"\n  resolution: 640x360\n  fps: 24\n').lesson
    s = resolve_settings(None, lesson)
    assert (s.width, s.height, s.fps, s.quality) == (640, 360, 24, "lesson")
    assert resolve_settings("HIGH", lesson) == QUALITIES["high"]
    with pytest.raises(SettingsError, match="low, medium, high, 4k"):
        resolve_settings("ultra", lesson)


def test_content_hash_ignores_line_endings():
    assert manifest.content_hash("a\r\nb") == manifest.content_hash("\ufeffa\nb\n")
    assert manifest.content_hash("a\n") != manifest.content_hash("b\n")


def test_unknown_section_lists_the_valid_ones(tmp_path, compiler):
    lesson = tmp_path / "two.lecture"
    lesson.write_text(LESSON)
    console, buf = _console()
    rc = build.render_lessons([lesson], build.RenderOptions(quality="low", sections=["intro,nope"],
                                                            build_root=tmp_path / "build"), console=console)
    out = buf.getvalue()
    assert rc == 2
    assert "no section 'nope'" in out and "intro, more" in out
    assert not (tmp_path / "build").exists()


def test_lesson_errors_exit_2(tmp_path):
    lesson = tmp_path / "bad.lecture"
    lesson.write_text('lesson "x"\n\nsection a "A"\n  cirle c at B2\n  step 1s: create c\n')
    console, buf = _console()
    rc = build.render_lessons([lesson], build.RenderOptions(quality="low", build_root=tmp_path / "build"),
                              console=console)
    assert rc == 2
    assert f"{lesson}:4:3: error:" in buf.getvalue()


# ---------------------------------------------------------------- slow: real renders


def test_render_two_sections_and_assemble(tmp_path, compiler):
    lesson = tmp_path / "two.lecture"
    lesson.write_text(LESSON)
    out_copy = tmp_path / "out" / "final.mp4"
    console, buf = _console()
    # silent: this test is about the declared timeline (tests/test_render_narrated.py
    # covers the voice, which may lengthen steps)
    rc = build.render_lessons([lesson], build.RenderOptions(quality="low", output=out_copy,
                                                            build_root=tmp_path / "build", voice="none"),
                              console=console)
    text = buf.getvalue()
    assert rc == 0, text
    root = tmp_path / "build" / "two"
    assert (root / "lesson_scenes.py").is_file() and (root / "sourcemap.json").is_file()
    assert "rendering intro" in text and "intro done in" in text
    video = root / "lesson.mp4"
    assert str(video) in text

    man = json.loads((root / "manifest.json").read_text())
    assert man["quality"] == "low" and man["fps"] == 15 and man["resolution"] == "854x480"
    assert man["content_hash"] == manifest.content_hash(LESSON)
    assert set(man["tools"]) >= {"lecture", "manim", "python", "ffmpeg"}
    assert all(man["tools"][k] for k in ("lecture", "manim", "python", "ffmpeg"))
    assert [s["id"] for s in man["sections"]] == ["intro", "more"]
    frame = 1 / 15

    info = probe(video, count_frames=True)
    assert info.has_video and info.video_codec == "h264"
    assert (info.width, info.height) == (854, 480)
    assert abs(info.duration - man["duration"]) < frame
    total = 0.0
    for sec in man["sections"]:
        assert sec["status"] == "ok" and sec["error"] is None
        assert sec["render_seconds"] > 0
        part = probe(sec["output"])
        assert (part.width, part.height) == (854, 480)
        assert abs(part.duration - sec["rendered_duration"]) < frame
        assert abs(sec["rendered_duration"] - sec["planned_duration"]) < frame
        total += part.duration
    assert abs(info.duration - total) < frame
    assert abs(info.duration - 2.5) < frame
    assert info.frames is not None and abs(info.frames - round(2.5 * 15)) <= 1
    # -o writes the same video there too
    assert out_copy.is_file() and abs(probe(out_copy).duration - info.duration) < frame


def test_render_only_some_sections(tmp_path, compiler):
    lesson = tmp_path / "two.lecture"
    lesson.write_text(LESSON)
    console, buf = _console()
    rc = build.render_lessons([lesson], build.RenderOptions(quality="low", sections=["more"],
                                                            build_root=tmp_path / "build"), console=console)
    assert rc == 0, buf.getvalue()
    root = tmp_path / "build" / "two"
    assert (root / "sections" / "more.mp4").is_file()
    assert not (root / "sections" / "intro.mp4").exists()
    assert not (root / "lesson.mp4").exists()  # lesson.mp4 always means the whole lesson
    man = json.loads((root / "manifest.json").read_text())
    assert {s["id"]: s["status"] for s in man["sections"]} == {"intro": "skipped", "more": "ok"}
    assert man["status"] == "partial"
