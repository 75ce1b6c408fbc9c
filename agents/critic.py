"""The Critic: layout findings, and the anchor edits that remove them.

`lecture check` reports findings (`run_check_findings`); `lecture critique FILE` rewrites
anchors (`run_critique`):

1. the lesson is compiled and its scenes dry-run (lecture.runtime.geometry): what every
   step shows, from the real mobjects;
2. the geometric findings (every code of compiler/findings.py's GEOMETRIC_CODES: overlaps,
   off-frame, spilling out of an area, over the panel or the title band, ...) and text too
   small to read are searched away, section by section, with *anchor edits* only — a new
   `at` cell, a new `in` area (same size, shifted), another relation, or a smaller
   `scale=`; and, for an element too small to read or spilling out of its area, a larger
   area (`in B2..B2` -> `in B2..C4`, or an area around its `at` cell) or a larger scale.
   The search is greedy and deterministic: each round tries, for every element involved
   in a finding, its candidate anchors in order of cost (cells moved; ties broken by row,
   then column), predicts the result (the element re-laid-out by the compiler's own layout,
   its measured footprint moved and scaled to match, dependants following), and takes the
   edit that leaves fewest findings, then costs least, without creating a finding that
   was not there. Nothing else about the lesson is changed;
3. the edits are written as minimal text changes at the placements' spans (compiler.edits),
   the lesson is checked again for real, and what is left (too much for the frame) is
   reported with a suggestion.

With `--vlm`, a vision model is shown key frames with the anchor grid drawn over them and
may propose more anchor edits (agents.vision); only those the geometric check accepts are
applied.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecture.compiler import frontend, source
from lecture.compiler import layout as L
from lecture.compiler import theme as T
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.edits import TextEdit, apply_edits, option_edit, placement_edit, unified_diff
from lecture.compiler.findings import (
    GEOMETRIC_CODES,
    Checker,
    Finding,
    Footprint,
    SectionRules,
    SectionView,
    StepView,
    lesson_findings,
    to_diagnostics,
)
from lecture.compiler.format import placement as placement_text
from lecture.compiler.kinds import KINDS, LINE, NONE, RELATION
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


class _MemoContext:
    """Lays a section out again (the compiler's own layout) with measuring memoised."""

    measured: dict[str, tuple[float, float]] = {}

    @classmethod
    def boxes(cls, lesson: Lesson, section: Section, theme: Any, base_dir: Path) -> dict[str, Box | None]:
        ctx = SectionContext(lesson, section, theme, base_dir, measurer=_MemoMeasurer(cls.measured))
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
        boxes = _MemoContext.boxes(self.lesson, section, self.theme, self.base_dir)
        changed = {eid: (self.base_boxes.get(eid), box) for eid, box in boxes.items()
                   if not _same_box(self.base_boxes.get(eid), box)}
        if not changed:
            return self.view
        steps = []
        cache: dict[int, Footprint] = {}
        for step in self.view.steps:
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
            steps.append(StepView(step.index, step.span, tuple(visible)))
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
        if spec is None or spec.placement == NONE or el.endpoints is not None:
            return []  # plots follow their axes; lines from X to Y follow their ends
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


# ---------------------------------------------------------------- checking a lesson


@dataclass
class Checked:
    lesson: Lesson
    compiled: Any
    views: list[SectionView]
    findings: list[Finding]


def check_lesson(lesson: Lesson, base_dir: Path, checker: Checker | None = None) -> Checked:
    from lecture.runtime.geometry import lesson_views

    compiled, views = lesson_views(lesson, base_dir=base_dir)
    return Checked(lesson, compiled, views, lesson_findings(views, checker))


def run_check_findings(loaded: frontend.Loaded, *, strict: bool = False,
                       base_dir: Path | None = None) -> list[Diagnostic]:
    """The layout findings of a checked lesson as diagnostics (warnings; errors when
    strict), for `lecture check`. Compiles the lesson and dry-runs its scenes (no video).
    Raises DiagnosticError when the lesson cannot be compiled (e.g. LaTeX rejects a formula)."""
    base = base_dir if base_dir is not None else Path(loaded.source.name).resolve().parent
    checked = check_lesson(loaded.lesson, base)
    return to_diagnostics(checked.findings, strict)


# ---------------------------------------------------------------- critique


@dataclass
class CritiqueResult:
    original: str  # the file's text as read
    text: str  # with the edits
    edits: list[AnchorEdit]
    before: list[Finding]
    after: list[Finding]
    log: list[str]

    @property
    def changed(self) -> bool:
        return self.text != self.original


def search_edits(lesson: Lesson, checked: Checked, base_dir: Path, checker: Checker,
                 *, deadline: float | None = None) -> tuple[list[AnchorEdit], list[str]]:
    from lecture.compiler.lower import lesson_theme
    from lecture.compiler.theme import get_theme

    theme = get_theme(lesson_theme(lesson))
    edits: list[AnchorEdit] = []
    log: list[str] = []
    for index, view in enumerate(checked.views):
        if not any(searched(f) for f in checked.findings if f.section == view.section.id):
            continue
        ctx = checked.compiled.contexts[index]
        base_boxes = {eid: low.box for eid, low in ctx.lowered.items()}
        search = SectionSearch(lesson, view.section, view, base_boxes, theme, base_dir, checker)
        search.run(deadline)
        edits.extend(search.edits.values())
        log.extend(search.log)
    return edits, log


def critique_source(src: source.Source, *, base_dir: Path, vlm: Any = None,
                    time_limit: float = 120.0, say=None) -> CritiqueResult:
    """Find and fix the layout of a lesson; returns the new text (nothing is written).
    `vlm`: a callable (lesson, checked, base_dir) -> list[AnchorEdit] (the vision Critic)."""
    say = say or (lambda text: None)
    deadline = time.monotonic() + time_limit
    checker = Checker()
    loaded = frontend.load_source(src, base_dir=base_dir)
    lesson = loaded.lesson
    checked = check_lesson(lesson, base_dir, checker)
    before = checked.findings
    all_edits: list[AnchorEdit] = []
    log: list[str] = []
    text = src.original
    current_src = src
    for _ in range(MAX_PASSES):
        if not any(searched(f) for f in checked.findings):
            break
        edits, steps = search_edits(lesson, checked, base_dir, checker, deadline=deadline)
        if not edits:
            break
        text = apply_edits(current_src, text_edits(lesson, edits))
        new_src = source.from_text(text, src.name)
        lesson = frontend.load_source(new_src, base_dir=base_dir).lesson
        new_checked = check_lesson(lesson, base_dir, checker)
        if sum(map(searched, new_checked.findings)) >= sum(map(searched, checked.findings)):
            # the prediction did not hold up: keep what was there
            lesson = frontend.load_source(current_src, base_dir=base_dir).lesson
            text = current_src.original
            break
        all_edits.extend(edits)
        log.extend(steps)
        checked, current_src = new_checked, new_src
        if time.monotonic() > deadline:
            break
    if vlm is not None:
        for edit in vlm(lesson, checked, base_dir) or []:
            attempt = apply_edits(current_src, text_edits(lesson, [edit]))
            try:
                attempt_src = source.from_text(attempt, src.name)
                attempt_lesson = frontend.load_source(attempt_src, base_dir=base_dir).lesson
                attempt_checked = check_lesson(attempt_lesson, base_dir, checker)
            except DiagnosticError:
                say(f"vision edit ignored (the lesson no longer checks): {edit.describe()}")
                continue
            old_keys = {f.key for f in checked.findings}
            if {f.key for f in attempt_checked.findings} <= old_keys:
                text, current_src, lesson, checked = attempt, attempt_src, attempt_lesson, attempt_checked
                all_edits.append(edit)
                log.append(edit.describe() + " (vision)")
            else:
                say(f"vision edit ignored (the geometric check finds new problems): {edit.describe()}")
    return CritiqueResult(src.original, text, all_edits, before, checked.findings, log)


def cannot_fit(findings: Sequence[Finding], lesson: Lesson) -> list[Diagnostic]:
    """What critique could not fix, said plainly, with what to do about it."""
    out = []
    for f in findings:
        if not f.geometric:
            out.append(f.to_diagnostic())
            continue
        section = lesson.section(f.section)
        count = len(section.elements) if section is not None else 0
        hint = (f"there is not enough room in the frame for everything section '{f.section}' shows at once "
                f"({count} elements): split the section, fade out what is no longer needed, or shorten "
                "long text")
        out.append(Diagnostic("warning", f"cannot fit: {f.message}{f.where()}", f.span, hint,
                              "layout-cannot-fit"))
    return out




def run_critique(args: argparse.Namespace, *, out=None, err=None) -> int:
    """`lecture critique FILE [--dry-run] [--vlm]`. Exit 0: nothing left to fix; 1: some
    findings remain; 2: the lesson has errors, or the file changed on disk meanwhile."""
    from lecture.runtime.atomic import ConcurrentEditError, write_atomically

    out = out or sys.stdout
    err = err or sys.stderr
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}:1:1: error: cannot read the file: {exc.strerror}", file=err)
        return 2
    try:
        src = source.decode(data, str(path))
    except DiagnosticError as exc:
        print(exc, file=err)
        return 2
    base_dir = path.resolve().parent
    vlm = None
    usage = None
    if getattr(args, "vlm", False):
        from lecture.agents.config import config_from_args
        from lecture.agents.usage import UsageLog
        from lecture.agents.vision import VisionCritic

        usage = UsageLog()
        vlm = VisionCritic(config_from_args(args, start=path.parent), usage=usage,
                           say=lambda t: print(t, file=err))
    try:
        result = critique_source(src, base_dir=base_dir, vlm=vlm,
                                 time_limit=getattr(args, "time_limit", 120.0) or 120.0,
                                 say=lambda t: print(t, file=err))
    except DiagnosticError as exc:
        for d in exc.diagnostics:
            print(d.render(exc.source or src.text), file=err)
        return 2
    if usage is not None and usage.summary():
        print(usage.summary(), file=err)
    for line in result.log:
        print(f"edit: {line}", file=err)
    if result.changed:
        diff = unified_diff(result.original, result.text, str(path))
        if args.dry_run:
            out.write(diff)
        else:
            try:
                write_atomically(path, result.text.encode("utf-8"), expected=data)
            except ConcurrentEditError:
                print(f"{path}: error: the file changed on disk during the critique; nothing was "
                      "written — run `lecture critique` again", file=err)
                return 2
            out.write(diff)
            print(f"rewrote {len(result.edits)} anchor{'s' if len(result.edits) != 1 else ''} in {path}",
                  file=err)
    final = source.from_text(result.text, str(path))
    for d in cannot_fit(result.after, frontend.load_source(final, base_dir=base_dir).lesson):
        print(d.render(final.text), file=err)
    before, after = len(result.before), len(result.after)
    print(f"{path}: {before} finding{'s' if before != 1 else ''} before, {after} after", file=err)
    return 0 if not result.after else 1


__all__ = ["AnchorEdit", "CritiqueResult", "check_lesson", "critique_source",
           "run_check_findings", "run_critique"]
