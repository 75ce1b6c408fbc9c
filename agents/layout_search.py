"""The Critic's search for anchor edits: a deterministic, geometric search (no model).

For every element involved in a geometric finding (or text too small to read) it tries
candidate anchors in order of cost — a new `at` cell, a shifted `in` area, another
relation, a smaller `scale=`, or, when more room is the fix, a larger area or scale —
predicts each result with the compiler's own layout (measuring memoised for the run) and
the element's measured footprint moved to match, and takes the edit that leaves fewest
findings, then costs least, without creating a new one. `agents.critic` runs it and
writes the edits.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecture.compiler import layout as L
from lecture.compiler import theme as T
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.edits import TextEdit, option_edit, placement_edit
from lecture.compiler.findings import (
    GEOMETRIC_CODES,
    Checker,
    Finding,
    Footprint,
    SectionRules,
    SectionView,
    StepView,
)
from lecture.compiler.format import placement as placement_text
from lecture.compiler.kinds import AROUND, KINDS, LINE, NONE, RELATION
from lecture.compiler.layout import Box
from lecture.compiler.lower import ir
from lecture.compiler.lower.registry import SectionContext
from lecture.compiler.model import At, Cell, Element, In, Lesson, Option, Relative, Section
from lecture.runtime.measure import ManimMeasurer

from .anchor_edit import AnchorEdit

ROWS = T.GRID_ROWS
RELATION_ORDER = ("below", "above", "right of", "left of")
SCALE_STEPS = (0.9, 0.8, 0.75, 0.7, 0.6, 0.5, 0.4)
MAX_SCALE = 3.0  # the largest scale= the Critic writes (as the vision model may)
MAX_ROUNDS = 24
MAX_PASSES = 3
# What the search removes: every geometric finding (new codes there included), and text too
# small to read, which more room fixes.
SEARCHED_CODES = GEOMETRIC_CODES | {"too-small"}
# Findings that more room fixes, rather than another place: their element may also get a
# larger area or a larger scale.
GROW_CODES = frozenset({"too-small", "spills-area"})


def searched(f: Finding) -> bool:
    return f.code in SEARCHED_CODES


# ---------------------------------------------------------------- anchor edits (anchor_edit.py)


def text_edits(lesson: Lesson, edits: Iterable[AnchorEdit]) -> list[TextEdit]:
    out: list[TextEdit] = []
    merged: dict[tuple[str, str], AnchorEdit] = {}
    for e in edits:
        prev = merged.get((e.section, e.element))
        if prev is not None:
            e = dataclasses.replace(prev, placement=e.placement or prev.placement,
                                    scale=e.scale if e.scale is not None else prev.scale)
        merged[(e.section, e.element)] = e
    for e in merged.values():
        section = lesson.section(e.section)
        el = section.element(e.element) if section is not None else None
        if el is None:
            continue
        if e.placement is not None:
            out.append(placement_edit(el, e.placement))
        if e.scale is not None:
            out.append(option_edit(el, "scale", e.scale))
    return out


def with_edit(section: Section, edit: AnchorEdit) -> Section:
    """The section with one element's placement or scale changed."""
    elements = []
    for el in section.elements:
        if el.id == edit.element:
            if edit.placement is not None:
                el = dataclasses.replace(el, placement=edit.placement)
            if edit.scale is not None:
                opts = [o for o in el.options if o.key != "scale"] + [Option("scale", edit.scale)]
                el = dataclasses.replace(el, options=tuple(opts))
        elements.append(el)
    return dataclasses.replace(section, elements=tuple(elements))


# ---------------------------------------------------------------- predicting a layout


class _MemoMeasurer:
    """The runtime's measurer with its answers remembered in `memo` (the search lays the same
    elements out again and again)."""

    def __init__(self, memo: dict[str, tuple[float, float]]) -> None:
        self.memo = memo
        self.inner = ManimMeasurer()

    def size(self, expr: ir.Call) -> tuple[float, float]:
        key = ir.render(expr)
        if key not in self.memo:
            self.memo[key] = self.inner.size(expr)
        return self.memo[key]

    def points(self, expr: ir.Call) -> list[tuple[float, float]]:
        return self.inner.points(expr)

    def box(self, expr: ir.Call) -> tuple[float, float, float, float]:
        return self.inner.box(expr)


def laid_out_boxes(lesson: Lesson, section: Section, theme: Any, base_dir: Path,
                   memo: dict[str, tuple[float, float]]) -> dict[str, Box | None]:
    """A section laid out again (the compiler's own layout) with measuring memoised in
    `memo` (one per critique run: the search lays the same elements out again and again)."""
    ctx = SectionContext(lesson, section, theme, base_dir, measurer=_MemoMeasurer(memo))
    out: dict[str, Box | None] = {}
    for el in section.elements:
        try:
            out[el.id] = ctx.resolve(el.id, el.span).box
        except DiagnosticError:
            out[el.id] = None
    return out


def _transform(fp: Footprint, old: Box, new: Box) -> Footprint:
    sx = new.w / old.w if old.w > 1e-6 else 1.0
    sy = new.h / old.h if old.h > 1e-6 else 1.0
    dx, dy = new.cx - old.cx, new.cy - old.cy
    if fp.role != LINE:
        s = sx if old.w > 1e-6 else sy
        return fp.transformed(s, dx, dy, about=old.center)
    return fp.transformed(sx, dx, dy, about=old.center, sy=sy)


def _same_box(a: Box | None, b: Box | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(abs(p - q) < 1e-6 for p, q in ((a.cx, b.cx), (a.cy, b.cy), (a.w, b.w), (a.h, b.h)))


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _grown(r0: int, c0: int, r1: int, c1: int) -> Iterable[tuple[int, int, int, int, int]]:
    """Every larger area of the grid holding rows r0..r1 and columns c0..c1: its rows and
    columns, and how many it adds."""
    for top in range(r0 + 1):
        for bottom in range(r1, len(ROWS)):
            for left in range(c0 + 1):
                for right in range(c1, T.GRID_COLUMNS):
                    added = (r0 - top) + (bottom - r1) + (c0 - left) + (right - c1)
                    if added:
                        yield top, left, bottom, right, added


# ---------------------------------------------------------------- the search


@dataclass
class SectionSearch:
    """The search for anchor edits in one section."""

    lesson: Lesson
    section: Section
    view: SectionView
    base_boxes: dict[str, Box | None]
    theme: Any
    base_dir: Path
    checker: Checker
    memo: dict[str, tuple[float, float]] = field(default_factory=dict)  # measured sizes
    edits: dict[str, AnchorEdit] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rules = SectionRules.of(self.section)
        self.moved_from: dict[str, int] = {}
        for i, step in enumerate(self.section.steps, start=1):
            for act in step.actions:
                if act.verb == "move":
                    for t in act.targets:
                        self.moved_from.setdefault(t.name, i)

    # -- state -------------------------------------------------------------------------

    def current_section(self, extra: AnchorEdit | None = None) -> Section:
        section = self.section
        for e in list(self.edits.values()) + ([extra] if extra else []):
            section = with_edit(section, e)
        return section

    def predicted_view(self, extra: AnchorEdit | None = None) -> SectionView:
        section = self.current_section(extra)
        boxes = laid_out_boxes(self.lesson, section, self.theme, self.base_dir, self.memo)
        changed = {eid: (self.base_boxes.get(eid), box) for eid, box in boxes.items()
                   if not _same_box(self.base_boxes.get(eid), box)}
        if not changed:
            return self.view
        steps = []
        cache: dict[int, Footprint] = {}

        def predicted(step: StepView) -> StepView:  # (a step's end, or a moment inside it)
            visible = []
            for fp in step.visible:
                pair = changed.get(fp.element)
                if pair is None or pair[0] is None or pair[1] is None or \
                        self.moved_from.get(fp.element, 10 ** 6) <= step.index:
                    visible.append(fp)
                    continue
                moved = cache.get(id(fp))
                if moved is None:
                    moved = _transform(fp, pair[0], pair[1])
                    cache[id(fp)] = moved
                visible.append(moved)
            return dataclasses.replace(step, visible=tuple(visible))

        for step in self.view.steps:
            moments = tuple(predicted(m) for m in step.moments)
            steps.append(dataclasses.replace(predicted(step), moments=moments))
        return dataclasses.replace(self.view, section=section, steps=tuple(steps))

    def findings(self, view: SectionView) -> list[Finding]:
        return self.checker.section(view, SectionRules.of(view.section) if view.section is not self.section
                                    else self.rules, only=set(SEARCHED_CODES))

    # -- candidates ----------------------------------------------------------------------

    def candidates(self, eid: str, grow: bool = False) -> list[AnchorEdit]:
        """The anchor edits to try for one element, cheapest first. `grow`: it needs more
        room (too small to read, spilling out of its area), so larger areas and larger
        scales are tried too."""
        el = self.current_section().element(eid)
        if el is None:
            return []
        spec = KINDS.get(el.kind)
        if spec is None or spec.placement in (NONE, AROUND) or el.endpoints is not None \
                or el.drawn_on is not None:
            # plots follow their axes, lines from X to Y their ends, a dot at (2, 4) its axes, a frame
            # what it goes around
            return []
        out = self._relations(el)
        if spec.placement != RELATION:
            out += self._areas(el, grow) if isinstance(el.placement, In) else self._cells(el, grow)
        if spec.scalable:  # only where the lesson may say scale= (a plot follows its axes)
            out += self._scales(el, grow)
        kind_order = {At: 0, In: 0, Relative: 1}
        out.sort(key=lambda e: (e.cost, e.scale is not None, kind_order.get(type(e.placement), 2),
                                placement_text(e.placement) if e.placement else ""))
        return out

    def _relations(self, el: Element) -> list[AnchorEdit]:
        p = el.placement
        if not isinstance(p, Relative):
            return []
        return [AnchorEdit(self.section.id, el.id, Relative(rel, p.target), cost=1.0)
                for rel in RELATION_ORDER if rel != p.relation]

    def _areas(self, el: Element, grow: bool) -> list[AnchorEdit]:
        """An `in` area shifted (cost: cells moved), or grown around where it is (cost:
        rows and columns added)."""
        assert isinstance(el.placement, In)
        (r0, c0), (r1, c1) = L.cell_index(el.placement.first), L.cell_index(el.placement.last)
        r0, r1 = sorted((r0, r1))
        c0, c1 = sorted((c0, c1))
        h, w = r1 - r0, c1 - c0
        out = []
        for r in range(len(ROWS) - h):
            for c in range(T.GRID_COLUMNS - w):
                d = abs(r - r0) + abs(c - c0)
                if d:
                    out.append(self._area(el, r, c, r + h, c + w, float(d)))
        if grow:
            out += [self._area(el, top, left, bottom, right, float(added))
                    for top, left, bottom, right, added in _grown(r0, c0, r1, c1)]
        return out

    def _cells(self, el: Element, grow: bool) -> list[AnchorEdit]:
        """Another `at` cell (cost: cells moved; +1 for an element placed otherwise), or an
        area around its cell (cost: rows and columns added, +1)."""
        anchor = self._anchor_cell(el.id, el)
        if anchor is None:
            return []
        ar, ac = anchor
        p = el.placement
        extra = 0.0 if isinstance(p, At) else 1.0
        out = []
        for r in range(len(ROWS)):
            for c in range(T.GRID_COLUMNS):
                d = abs(r - ar) + abs(c - ac)
                if d or not isinstance(p, At):
                    out.append(AnchorEdit(self.section.id, el.id, At(Cell(ROWS[r], c + 1)), cost=d + extra))
        if grow:
            out += [self._area(el, top, left, bottom, right, added + 1.0)
                    for top, left, bottom, right, added in _grown(ar, ac, ar, ac)]
        return out

    def _area(self, el: Element, r0: int, c0: int, r1: int, c1: int, cost: float) -> AnchorEdit:
        area = In(Cell(ROWS[r0], c0 + 1), Cell(ROWS[r1], c1 + 1))
        return AnchorEdit(self.section.id, el.id, area, cost=cost)

    def _scales(self, el: Element, grow: bool) -> list[AnchorEdit]:
        """A smaller scale (cost: how much smaller); when it needs room, a larger one."""
        original = self.section.element(el.id)
        base = _number(original.option("scale", 1.0) if original is not None else 1.0, 1.0)
        now = _number(el.option("scale", base), base)
        out = []
        for i, factor in enumerate(SCALE_STEPS, start=1):
            value = round(base * factor, 3)
            if abs(value - now) > 1e-9 and value < now:
                out.append(AnchorEdit(self.section.id, el.id, scale=value, cost=float(i)))
            larger = round(now / factor, 3)
            if grow and now < larger <= MAX_SCALE:
                out.append(AnchorEdit(self.section.id, el.id, scale=larger, cost=float(i)))
        return out

    def _anchor_cell(self, eid: str, el: Element) -> tuple[int, int] | None:
        if isinstance(el.placement, At):
            return L.cell_index(el.placement.cell)
        box = self.base_boxes.get(eid)
        if box is None:
            return None
        c = min(max(int((box.cx - T.GRID_LEFT) // T.CELL), 0), T.GRID_COLUMNS - 1)
        r = min(max(int((T.GRID_TOP - box.cy) // T.CELL), 0), len(ROWS) - 1)
        return (r, c)

    # -- the greedy search -------------------------------------------------------------

    def run(self, deadline: float | None = None) -> list[Finding]:
        """Search edits; returns the geometric findings predicted to remain."""
        now = self.findings(self.predicted_view())
        for _ in range(MAX_ROUNDS):
            if not now or (deadline is not None and time.monotonic() > deadline):
                break
            keys = {f.key for f in now}
            needs_room = {f.element for f in now if f.code in GROW_CODES}
            involved: list[str] = []
            for f in now:
                for eid in (f.element, f.other):
                    if eid and eid not in involved and self.section.element(eid) is not None:
                        involved.append(eid)
            # later elements first: the author's first visuals stay where they are
            involved.sort(key=lambda e: -self.rules.order.get(e, 0))
            best: tuple[tuple, AnchorEdit, list[Finding]] | None = None
            relaxed: tuple[tuple, AnchorEdit, list[Finding]] | None = None
            for rank, eid in enumerate(involved):
                for cand in self.candidates(eid, grow=eid in needs_room):
                    if best is not None and cand.cost > best[0][1]:
                        break
                    after = self.findings(self.predicted_view(self._combined(cand)))
                    if len(after) >= len(now):
                        continue
                    score = (len(after), cand.cost, rank)
                    if all(f.key in keys for f in after):
                        if best is None or score < best[0]:
                            best = (score, cand, after)
                        break
                    if relaxed is None or score < relaxed[0]:
                        relaxed = (score, cand, after)
            chosen = best or relaxed
            if chosen is None:
                break
            _, cand, after = chosen
            self.log.append(cand.describe(self.current_section().element(cand.element)))
            self.edits[cand.element] = self._combined(cand)
            now = after
        return now

    def _combined(self, cand: AnchorEdit) -> AnchorEdit:
        prev = self.edits.get(cand.element)
        if prev is None:
            return cand
        return dataclasses.replace(cand, placement=cand.placement or prev.placement,
                                   scale=cand.scale if cand.scale is not None else prev.scale)
