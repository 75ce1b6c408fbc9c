"""A readout's number set from glyphs typeset once per font (runtime/motion_support._Typeface) is
set as Pango sets the whole number: every glyph within 1e-3 scene units of where `_run` puts it,
in two fonts and sizes; a font whose glyphs would sit elsewhere (kerning) is caught and its
numbers set whole; a readout set from glyphs — moved, scaled, recoloured — looks as one set whole;
and the copies share nothing that changes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from lecture.compiler import theme
from lecture.runtime import motion_support as ms
from manim import Text

FONTS = [ms._Font(theme.DEFAULT_FONT, 30.0, "#ffffff", "NORMAL"),
         ms._Font("DejaVu Serif", 48.0, "#ffcc00", "BOLD")]
NUMBERS = ["0", "7", "1.25", "\u22123.75", "10.00", "\u2212128.096", "99.9", "0.01", "4711", "\u22120.5"]
TOLERANCE = 1e-3


def _placed(run: ms._Run) -> list[np.ndarray]:
    """A run's glyphs' points with its pen start at x = 0 and its baseline at y = 0."""
    at = np.array([run.start, run.baseline, 0.0])
    return [g.points - at for g in run.glyphs.submobjects]


@pytest.mark.parametrize("font", FONTS, ids=lambda f: f"{f.name}-{f.size:g}")
def test_composed_numbers_sit_where_pango_sets_them(font: ms._Font) -> None:
    face = ms._Typeface.of(font)
    assert face is not None, "the font's digits should be set one after the other"
    for text in NUMBERS:
        composed, whole = face.compose(text), ms._run(text, font)
        assert composed.glyphs.original_text == text
        assert abs((composed.end - composed.start) - (whole.end - whole.start)) < TOLERANCE, text
        mine, pango = _placed(composed), _placed(whole)
        assert len(mine) == len(pango) == len(text)
        for a, b in zip(mine, pango, strict=True):
            assert a.shape == b.shape
            assert float(np.max(np.abs(a - b))) < TOLERANCE, text


def test_a_font_that_kerns_is_set_whole() -> None:
    font = FONTS[0]
    face = ms._Typeface.of(font)
    assert face is not None
    sample = ms._run(ms._SAMPLE, font)
    inks = list(sample.glyphs.submobjects)
    assert face.sets_as(sample, inks)
    point = face.glyphs["."]
    kerned = dataclasses.replace(face, glyphs={**face.glyphs, ".": dataclasses.replace(
        point, advance=point.advance - 0.01)})  # (as if Pango drew the digits after a point closer)
    assert not kerned.sets_as(sample, inks)


def _readout(monkeypatch: pytest.MonkeyPatch, whole: bool, value: float) -> ms.LiveValue:
    if whole:  # (as before glyphs were set once: the number typeset by Pango each time)
        monkeypatch.setattr(ms, "_number_run", ms._run)
    readout = ms.LiveValue(1.0, label=Text("slope =", font_size=30), decimals=2,
                           unit=Text("m/s", font_size=30), color="#ffcc00", span=(-20, 20))
    readout.scale(1.5).move_to(np.array([2.0, -1.0, 0.0])).set_opacity(0.6)
    readout.set_number(value)
    monkeypatch.undo()
    return readout


@pytest.mark.parametrize("value", [-12.5, 3.14159, 0.0])
def test_a_readout_set_from_glyphs_matches_one_set_whole(monkeypatch: pytest.MonkeyPatch,
                                                         value: float) -> None:
    mine, pango = _readout(monkeypatch, False, value), _readout(monkeypatch, True, value)
    assert mine.number.original_text == pango.number.original_text
    assert isinstance(mine.number, Text)
    for a, b in zip(mine.number.submobjects, pango.number.submobjects, strict=True):
        assert float(np.max(np.abs(a.points - b.points))) < TOLERANCE
        assert np.allclose(a.fill_rgbas, b.fill_rgbas)
    assert mine.unit is not None and pango.unit is not None
    assert float(np.max(np.abs(mine.unit.get_center() - pango.unit.get_center()))) < TOLERANCE
    assert abs(mine.number.font_size - pango.number.font_size) < 0.05  # (the check's cap height reads it)


def test_composed_copies_share_nothing_that_changes() -> None:
    face = ms._Typeface.of(FONTS[0])
    assert face is not None
    first = face.compose("1.5").glyphs
    before = [g.points.copy() for g in face.compose("1.5").glyphs.submobjects]
    first.shift(np.array([1.0, 2.0, 0.0])).set_fill("#ff0000", opacity=0.3)
    first.submobjects[0].points[:] = 0.0
    again = face.compose("1.5").glyphs
    assert [np.array_equal(g.points, b) for g, b in zip(again.submobjects, before, strict=True)] == [True] * 3
    assert all(np.allclose(g.fill_rgbas[0, 3], 1.0) for g in again.submobjects)
    assert all(g.points.size and g.get_fill_opacity() == 1.0 for g in face.glyphs["1"].ink.get_family())


def test_room_is_kept_only_for_a_wider_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """A span whose numbers are as wide as the shown one keeps no room (digits measured one by one
    differ in width by a rounding: a room point for it would change how `Write` paces the readout),
    and one with a wider number keeps the same room as when numbers were set whole."""
    def built(whole: bool, span: list[float]) -> ms.LiveValue:
        if whole:
            monkeypatch.setattr(ms, "_number_run", ms._run)
        readout = ms.LiveValue(8.0, label=Text("V =", font=theme.DEFAULT_FONT, font_size=28), decimals=1,
                               font_size=28, color="#58c4dd", span=span)
        monkeypatch.undo()
        return readout

    for span in ([2.0, 8.0], [-20.0, 8.0]):
        mine, pango = built(False, span), built(True, span)
        assert len(mine.family_members_with_points()) == len(pango.family_members_with_points())
        assert abs(mine.get_right()[0] - pango.get_right()[0]) < TOLERANCE
    assert len(built(False, [-20.0, 8.0]).submobjects) == len(built(False, [2.0, 8.0]).submobjects) + 1
