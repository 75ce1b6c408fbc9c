"""Copies of a text share the parsed SVG path each glyph was made from (runtime/tex.py
_share_svg_paths, installed with the SVG cache) and nothing else: the copy's points are its own,
moving it leaves the original where it was, and both draw the same picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lecture.runtime import tex
from manim import Camera, Text


def _drawn(mob: Text) -> np.ndarray:
    camera = Camera(pixel_width=320, pixel_height=180)
    camera.capture_mobject(mob)
    return np.array(camera.pixel_array)


def test_a_copied_text_shares_only_its_parsed_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tex, "_INSTALLED", tex._INSTALLED)  # (the cache folder put back after)
    tex.install_svg_cache(tmp_path)
    text = Text("Slope 4.2", font_size=48)
    copy = text.copy()
    glyphs, copied = text.submobjects, copy.submobjects
    assert len(glyphs) == len(copied) > 0
    assert all(a.path_obj is b.path_obj for a, b in zip(glyphs, copied, strict=True))
    assert all(a.points is not b.points and np.array_equal(a.points, b.points)
               for a, b in zip(glyphs, copied, strict=True))
    assert np.array_equal(_drawn(text), _drawn(copy))
    before = [g.points.copy() for g in glyphs]
    copy.shift(np.array([1.0, 0.5, 0.0])).set_color("#ff0000")
    assert all(np.array_equal(g.points, b) for g, b in zip(glyphs, before, strict=True))
    assert not np.array_equal(_drawn(text), _drawn(copy))
