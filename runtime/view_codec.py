"""A section's views (what its scenes show at every step, runtime/geometry.py) as JSON and back,
for the check store (runtime/check_store.py), exactly: every number read back is the float it
was, and footprints shared between steps stay shared (the layout rules tell an element that
did not move from one that did by the identity of its footprint: compiler/findings.py).

What is stored is the views without their section: `decode` is given the section as the lesson
says it now and takes the steps' spans from it (a step's view is at its step; past the last
step, at the section), so a section moved down the file by an edit above it reads its views
back at its new lines. A value that is not of this shape raises `BadViews`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lecture.compiler.findings import Footprint, PanelView, Part, SectionView, StepView, TextRun
from lecture.compiler.layout import Box, Shifted
from lecture.compiler.model import Section
from lecture.compiler.span import Span


class BadViews(ValueError):
    """A stored value that is not a section's views."""


# ---------------------------------------------------------------- encoding


def encode(view: SectionView) -> dict[str, Any]:
    """The JSON-able form of a section's views (its section left out)."""
    table: list[list[Any]] = []
    index: dict[int, int] = {}

    def ref(fp: Footprint) -> int:
        if id(fp) not in index:
            index[id(fp)] = len(table)
            table.append(_footprint(fp))
        return index[id(fp)]

    def step(s: StepView) -> list[Any]:
        return [s.index, [ref(fp) for fp in s.visible], [step(m) for m in s.moments], s.fraction]

    steps = [step(s) for s in view.steps]
    panel = view.panel
    return {
        "background": view.background,
        "panel": None if panel is None else [panel.font_size, panel.theme_font_size,
                                             [[line, rows] for line, rows in panel.rows], panel.cap_height],
        "shifted": [[s.element, _box(s.box), _box(s.wanted), None if s.target is None else _box(s.target)]
                    for s in view.shifted],
        "footprints": table,
        "steps": steps,
    }


def _box(b: Box) -> list[float]:
    return [b.cx, b.cy, b.w, b.h]


def _footprint(fp: Footprint) -> list[Any]:
    return [fp.element, fp.kind, [[p.kind, [[x, y] for x, y in p.points], p.width] for p in fp.parts],
            _box(fp.bbox), fp.cap_height, list(fp.colors), [[_box(t.box), t.text] for t in fp.texts],
            fp.script_cap_height, fp.script_text]


# ---------------------------------------------------------------- decoding


def decode(data: Any, section: Section) -> SectionView:
    """The views `encode` wrote, for `section` as it is now. Raises BadViews."""
    try:
        return _decode(data, section)
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise BadViews(str(exc)) from None


def with_section(view: SectionView, section: Section) -> SectionView:
    """The same views for `section` as it is now (their spans taken from it); footprints are
    kept as they are (shared, not copied)."""
    def respan(s: StepView) -> StepView:
        return replace(s, span=_step_span(section, s.index), moments=tuple(respan(m) for m in s.moments))

    return replace(view, section=section, steps=tuple(respan(s) for s in view.steps))


def _step_span(section: Section, index: int) -> Span:
    """Where a step's view is reported (runtime/geometry.py `_Measurer.view`)."""
    return section.steps[index - 1].span if index <= len(section.steps) else section.span


def _decode(data: Any, section: Section) -> SectionView:
    _need(isinstance(data, dict) and set(data) == {"background", "panel", "shifted", "footprints", "steps"})
    table = [_read_footprint(f) for f in _list(data["footprints"])]

    def step(s: Any, depth: int) -> StepView:
        index, visible, moments, fraction = _list(s, 4)
        _need(_int(index) and index >= 1 and depth <= 1 and (fraction is None or _num(fraction)))
        refs = _list(visible)
        _need(all(_int(r) and 0 <= r < len(table) for r in refs))
        return StepView(index, _step_span(section, index), tuple(table[r] for r in refs),
                        tuple(step(m, depth + 1) for m in _list(moments)), fraction)

    background = data["background"]
    _need(isinstance(background, str))
    return SectionView(section, tuple(step(s, 0) for s in _list(data["steps"])), background,
                       _read_panel(data["panel"]), tuple(_read_shifted(s) for s in _list(data["shifted"])))


def _read_panel(p: Any) -> PanelView | None:
    if p is None:
        return None
    size, theme_size, rows, cap = _list(p, 4)
    _need(_num(size) and _num(theme_size) and (cap is None or _num(cap)))
    pairs = tuple((_str(r[0]), r[1]) for r in (_list(row, 2) for row in _list(rows)))
    _need(all(_int(n) for _, n in pairs))
    return PanelView(size, theme_size, pairs, cap)


def _read_shifted(s: Any) -> Shifted:
    element, box, wanted, target = _list(s, 4)
    return Shifted(_str(element), _read_box(box), _read_box(wanted),
                   None if target is None else _read_box(target))


def _read_footprint(f: Any) -> Footprint:
    element, kind, parts, bbox, cap, colors, texts, script_cap, script_text = _list(f, 9)
    _need((cap is None or _num(cap)) and (script_cap is None or _num(script_cap)))
    return Footprint(_str(element), _str(kind), tuple(_read_part(p) for p in _list(parts)), _read_box(bbox),
                     cap, tuple(_str(c) for c in _list(colors)),
                     tuple(TextRun(_read_box(b), _str(t)) for b, t in (_list(r, 2) for r in _list(texts))),
                     script_cap, _str(script_text))


def _read_part(p: Any) -> Part:
    kind, points, width = _list(p, 3)
    _need(_num(width))
    return Part(_str(kind), tuple(_point(q) for q in _list(points)), width)


def _point(q: Any) -> tuple[float, float]:
    x, y = _list(q, 2)
    _need(_num(x) and _num(y))
    return (x, y)


def _read_box(b: Any) -> Box:
    cx, cy, w, h = _list(b, 4)
    _need(all(_num(v) for v in (cx, cy, w, h)))
    return Box(cx, cy, w, h)


def _list(value: Any, length: int | None = None) -> list[Any]:
    _need(isinstance(value, list) and (length is None or len(value) == length))
    return value


def _str(value: Any) -> str:
    _need(isinstance(value, str))
    return value


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _num(value: Any) -> bool:
    """A number, as measured (even a NaN or an infinity Manim gave: read back as it was)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _need(condition: bool) -> None:
    if not condition:
        raise BadViews("not a section's views")


__all__ = ["BadViews", "decode", "encode", "with_section"]
