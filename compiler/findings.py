"""Layout findings: the geometric rules the Critic and `lecture check` apply to what the
compiled scenes show at the end of every step.

This module is pure geometry. `lecture.runtime.geometry` runs a lesson's compiled scenes
(a dry run: no frame is drawn) and describes what each element looks like at the end of
each step as a `Footprint` — outlines in scene units taken from the real Manim mobjects;
the rules here turn those into `Finding`s and `Diagnostic`s that point at the lesson.

What is measured
----------------
Every element kind has a *role* (`KINDS[kind].role`, compiler.kinds) that decides its
footprint:

- text (title, text, bullets, math, code, table, label) and box kinds (image, axes,
  numberline, brace, custom): the bounding box of the element's mobject;
- shapes (circle, square, rectangle, polygon, dot): the filled outline of the shape (the
  real path, so two triangles that share an edge do not overlap);
- lines (line, arrow, plot): the stroke, at least `LINE_WIDTH` wide.

Besides its outline, a footprint lists its runs of text (`TextRun`: a line of text, a
formula, each tick number of an axes or number line, a brace's label) for the spacing rule.

Footprints are rasterised at `PX` scene units a pixel (about 2.7 px at 1080p).

A step that moves things (a `change` of values, a `move … along` a path, a `rotate`, and all
that follows them) is also measured at moments inside it (`StepView.moments`: evenly spaced
through its motions, and where a value turns round). The rules about where things are and how
large (MOMENT_CODES) apply there too; what happens only on the way is reported once, at its
first moment, at the element that moves into the other, saying when ("'lp' overlaps 'q' …
while x0 changes (x0 = 2.5) in step 3 (line 12)"). What is found at a step's end is reported
as it is.

The rules
---------
- overlap: two visible elements overlap by more than a small tolerance (each area
  footprint is first shrunk by `OVERLAP_DEPTH`; what is left in common must cover at least
  `OVERLAP_AREA`, or `LINE_OVERLAP_AREA` when a line is involved). Intended overlaps are
  exempt, by these principled rules:
    * an attached kind (KINDS[kind].attached: label, brace, plot) and its target; two
      elements drawn `on` the same element, or on what is drawn on it (two plots on one axes;
      an area under one of them and the other);
    * an element given in another's coordinates (`dot p at (2, 4) on ax`, a label `on f`) and
      that element (and a plot's axes); shapes, dots and lines in an axes' coordinates and
      the plots on those axes (a dot on a curve, a triangle under it) — text is not exempt
      from them: a label over a curve is a finding;
    * an element placed beside one given in coordinates (`label lp "P" above p`, p a dot on
      ax) and those coordinates' axes (and plot): it is the same picture as the label given in
      them (`label lp "P" above (2, 4) on ax`), and it moves with p through the axes' inside;
      again not with the plots drawn on them;
    * a connector (`line`/`arrow` `from X to Y`) and the elements X and Y it joins, and the
      axes (or plot) X or Y is given in the coordinates of: its end lies inside them; when
      both are given in one axes' coordinates, the connector is a line in them (`line sec
      from p to q` is the line from (1, 1) to (2, 4) on ax) and is exempt as one (a secant
      meets the curve its ends lie on);
    * a trace (`trace tr of p`) and the element it follows, and everything that element is
      exempt with: the trace is where the element has been (a dot's trace runs along the plot
      the dot is on, through its axes);
    * containment that reads as one figure: text or a box kind lying wholly inside a closed
      shape's interior, at least `CLEARANCE` from its outline (a value written in its
      square); a shape or line lying wholly inside a closed shape or a box kind (the pieces
      of a dissection, an inscribed circle, a tangent drawn on axes). Text that crosses a
      shape's outline, or that sits on an image or axes, is still a finding.
- off-frame: anything outside the frame's safe area (the frame less `SAFE_MARGIN_RATIO`
  of its size on every side: the "action safe" area of broadcast video);
- spills-area: an element placed `in` an area reaches outside that area's cells by more
  than `SPILL_TOLERANCE` (until a `move`, `scale` or `rotate` changes it: the teacher chose
  that size or place);
- too-small: text whose capital letters would be under `MIN_CAP_HEIGHT_PX` pixels tall in
  a 1080p video (cap height = the height of "H" at the text's effective font size: its
  font size times every scale applied to it); and a formula whose smallest script
  (compiler.tex_scripts: superscripts and subscripts at 0.7 of the formula, scripts of
  scripts and a `\tfrac`'s at 0.5) would have capitals under `MIN_SCRIPT_CAP_HEIGHT_PX`;
- too-close: two runs of text of different elements less than `MIN_TEXT_GAP` apart (or
  touching), which read as one ("σ from μ" beside a tick "3" reads "3σ from μ"). No pair is
  exempt: an attached label may lie over its target's lines, but never against its text;
- no-room: an element the layout shifted back inside the grid (layout.Placed.wanted) — a
  relation with no room on its side, which leaves it less than half of `layout.GAP` from its
  target or over it, or an `at` cell near the edge, which pushes it onto another element; the
  hint names the relations that fit and how far to move the target;
- dangling-connector: a line or arrow `from X to Y` shown at the end of a step while X or
  Y is not;
- lecture lines: a section's lines that the panel can only show at under
  `MIN_PANEL_FONT_RATIO` of the theme's size (too many or too long lines), or one line
  wrapping onto more than `MAX_LINE_ROWS` rows;
- low-contrast: an element's colour against the background under WCAG's 3:1 (the
  minimum for large text and graphics, WCAG 2.1 SC 1.4.11);
- over-panel / over-title: an element over the lecture-line panel or the title band.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from . import model as m
from . import theme as T
from .diagnostics import Diagnostic
from .groups import fitted, leaves, with_leaves
from .kinds import BOX, KINDS, LINE, SHAPE, TEXT, KindSpec
from .layout import (
    GAP,
    Box,
    Shifted,
    cells_to_make_room,
    gap_between,
    nearest_cell_that_fits,
    past_edge,
    relation_fits,
)
from .span import Span
from .values import section_values

# ---------------------------------------------------------------- thresholds

PX = 0.02  # raster resolution: scene units a pixel
PX_PER_UNIT_1080 = 1080 / T.FRAME_HEIGHT  # 135 px a scene unit in a 1080p video
MIN_CAP_HEIGHT_PX = 14.0  # at 1080p
# A formula's scripts: 0.9 of the body minimum, 12.6 px at 1080p (8.4 px at 720p). A script is
# one to three glyphs read one at a time, which the eye resolves a little smaller than running
# text; but the superscripts about 8 px tall at 720p that issue 14 found were not readable.
# TeX's own ratio is 0.7, so the theme's 40 pt formulas (capitals 38 px) pass with room, scripts
# at 27 px and scripts of scripts at 19 px, while a formula shrunk to the body minimum fails.
MIN_SCRIPT_CAP_HEIGHT_PX = 0.9 * MIN_CAP_HEIGHT_PX
# Two runs of text closer than this read as one word: three quarters of a word space at the
# smallest text the layout sets (0.106 units between words at the tick numbers' 24 pt; 0.13
# at the body's 30 pt), and well above the space between letters (about 0.03).
MIN_TEXT_GAP = 0.08
LINE_WIDTH = 0.04  # the least width a stroke counts with (about 5 px at 1080p)
OVERLAP_DEPTH = 0.04  # area footprints are shrunk by this before they are intersected
OVERLAP_AREA = 0.01  # square units left in common that make an overlap (e.g. 0.1 x 0.1)
LINE_OVERLAP_AREA = 0.004  # the same with a line: about 0.1 units of a stroke
CLEARANCE = 0.05  # text inside a shape keeps at least this far from its outline
SAFE_MARGIN_RATIO = 0.035  # action-safe margin on each side, of the frame's size
OFF_FRAME_TOLERANCE = 0.02
SPILL_TOLERANCE = 0.06
EDGE_TOLERANCE = 0.05  # over the panel / title band by more than this
MIN_PANEL_FONT_RATIO = 0.75
MAX_LINE_ROWS = 3
MIN_CONTRAST = 3.0

_SAFE_W = T.FRAME_WIDTH / 2 * (1 - 2 * SAFE_MARGIN_RATIO)
_SAFE_H = T.FRAME_HEIGHT / 2 * (1 - 2 * SAFE_MARGIN_RATIO)
SAFE = Box.from_edges(-_SAFE_W, _SAFE_W, -_SAFE_H, _SAFE_H)
PANEL_REGION = Box.from_edges(-T.FRAME_WIDTH / 2, T.PANEL_DIVIDER_X, -T.FRAME_HEIGHT / 2, T.TITLE_RULE_Y)

GEOMETRIC_CODES = frozenset({"overlap", "off-frame", "spills-area", "over-panel", "over-title", "no-room",
                             "too-close"})
# The rules applied at moments inside a step that moves things (StepView.moments): where things are
# and how large. What is shown, the layout's shifts and the colours are those of the step's end.
MOMENT_CODES = frozenset({"overlap", "off-frame", "spills-area", "over-panel", "over-title", "too-close",
                          "too-small"})


def role_of(kind: str) -> str:
    """The kind's role (kinds.SHAPE, LINE, TEXT or BOX); an unknown kind is measured as a box."""
    spec = KINDS.get(kind)
    return spec.role if spec is not None else BOX


# ---------------------------------------------------------------- what the scene shows


@dataclass(frozen=True)
class Part:
    """One outline of a footprint, in scene units: a filled polygon ("area"), a stroke
    ("line", `width` wide) or an axis-aligned rectangle ("rect": two corners)."""

    kind: str
    points: tuple[tuple[float, float], ...]
    width: float = 0.0

    def transformed(self, sx: float, sy: float, cx: float, cy: float, dx: float, dy: float) -> Part:
        pts = tuple((cx + (x - cx) * sx + dx, cy + (y - cy) * sy + dy) for x, y in self.points)
        return Part(self.kind, pts, self.width)


@dataclass(frozen=True)
class TextRun:
    """One run of text in an element (a line of text, a formula, a tick number): its box and
    what it says (for messages)."""

    box: Box
    text: str


def _moved_box(b: Box, sx: float, sy: float, cx: float, cy: float, dx: float, dy: float) -> Box:
    return Box(cx + (b.cx - cx) * sx + dx, cy + (b.cy - cy) * sy + dy, b.w * sx, b.h * sy)


@dataclass(frozen=True, eq=False)
class Footprint:
    """What one element covers at the end of a step."""

    element: str
    kind: str
    parts: tuple[Part, ...]
    bbox: Box
    cap_height: float | None = None  # scene units; None: no text in it
    colors: tuple[str, ...] = ()  # '#rrggbb' of its strokes and text
    texts: tuple[TextRun, ...] = ()  # its runs of text
    # the cap height its smallest script is drawn at, and that script's source (formulas)
    script_cap_height: float | None = None
    script_text: str = ""

    @property
    def role(self) -> str:
        return role_of(self.kind)

    def transformed(self, s: float = 1.0, dx: float = 0.0, dy: float = 0.0,
                    about: tuple[float, float] | None = None, sy: float | None = None) -> Footprint:
        """Scaled by `s` (and `sy` vertically, when given) about `about` (its centre by
        default), then shifted."""
        sx, sy = s, s if sy is None else sy
        cx, cy = about if about is not None else self.bbox.center
        parts = tuple(p.transformed(sx, sy, cx, cy, dx, dy) for p in self.parts)
        bbox = _moved_box(self.bbox, sx, sy, cx, cy, dx, dy)
        texts = tuple(TextRun(_moved_box(t.box, sx, sy, cx, cy, dx, dy), t.text) for t in self.texts)
        cap = self.cap_height * min(sx, sy) if self.cap_height is not None else None
        script = self.script_cap_height * min(sx, sy) if self.script_cap_height is not None else None
        return replace(self, parts=parts, bbox=bbox, cap_height=cap, texts=texts, script_cap_height=script)


def rect_footprint(element: str, kind: str, box: Box, **kw) -> Footprint:
    part = Part("rect", ((box.left, box.bottom), (box.right, box.top)))
    return Footprint(element, kind, (part,), box, **kw)


@dataclass(frozen=True)
class StepView:
    """What a step shows at its end; or, as one of a step's `moments`, at a moment inside it."""

    index: int  # 1-based, counting waits, as the generated code's comments do
    span: Span
    visible: tuple[Footprint, ...]  # in the order the scene holds them
    # a step that moves things (a change, a move along a path, a turn): what it shows at moments
    # inside it, in order (runtime/geometry.py measures them; the step's end is this view)
    moments: tuple[StepView, ...] = ()
    fraction: float | None = None  # a moment's time, as a fraction of its step; None: the step's end

    def get(self, element_id: str) -> Footprint | None:
        return next((f for f in self.visible if f.element == element_id), None)


@dataclass(frozen=True)
class PanelView:
    """The lecture lines as the scene laid them out."""

    font_size: float  # the size they are shown at (after any shrinking)
    theme_font_size: float
    rows: tuple[tuple[str, int], ...]  # (line id, rows it wraps onto)
    cap_height: float | None = None


@dataclass(frozen=True)
class SectionView:
    section: m.Section
    steps: tuple[StepView, ...]
    background: str
    panel: PanelView | None = None
    # the elements the layout shifted back inside the grid (from the layout the scenes were
    # compiled with: whoever predicts another layout must give its own)
    shifted: tuple[Shifted, ...] = ()


# ---------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    code: str
    section: str
    element: str | None  # the node it is reported at: an element or lecture-line id
    message: str
    hint: str | None
    span: Span
    other: str | None = None
    step: int | None = None
    step_line: int | None = None
    severity: str = "warning"
    during: str = ""  # a finding at a moment inside its step: when ("while x0 changes (x0 = 2.5)")

    @property
    def key(self) -> tuple:
        return (self.code, self.section, self.element, self.other)

    @property
    def geometric(self) -> bool:
        return self.code in GEOMETRIC_CODES

    def where(self) -> str:
        if self.step is None:
            return ""
        during = f" {self.during}" if self.during else ""
        return f"{during} in step {self.step} (line {self.step_line})"

    def to_diagnostic(self, strict: bool = False) -> Diagnostic:
        severity: Literal["error", "warning"] = "error" if strict or self.severity == "error" else "warning"
        return Diagnostic(severity, self.message + self.where(), self.span, self.hint, "layout-" + self.code)

    def to_json(self) -> dict:
        return {"code": self.code, "section": self.section, "element": self.element, "other": self.other,
                "step": self.step, "line": self.span.line, "column": self.span.column,
                "message": self.message + self.where(), "hint": self.hint}


def to_diagnostics(findings: Iterable[Finding], strict: bool = False) -> list[Diagnostic]:
    out = [f.to_diagnostic(strict) for f in findings]
    out.sort(key=lambda d: (d.span.line, d.span.column))
    return out


# ---------------------------------------------------------------- rasterising

_ORIGIN_X = -T.FRAME_WIDTH / 2 - 2.0
_ORIGIN_Y = T.FRAME_HEIGHT / 2 + 2.0


@dataclass(frozen=True, eq=False)
class Mask:
    row: int
    col: int
    bits: np.ndarray  # bool, rows x cols

    @property
    def count(self) -> int:
        return int(self.bits.sum())


def _to_px(x: float, y: float) -> tuple[float, float]:
    return ((x - _ORIGIN_X) / PX, (_ORIGIN_Y - y) / PX)


def _erode(bits: np.ndarray, k: int) -> np.ndarray:
    out = bits.copy()
    for _ in range(k):
        shrunk = out.copy()
        shrunk[1:, :] &= out[:-1, :]
        shrunk[:-1, :] &= out[1:, :]
        shrunk[:, 1:] &= out[:, :-1]
        shrunk[:, :-1] &= out[:, 1:]
        shrunk[0, :] = shrunk[-1, :] = False
        shrunk[:, 0] = shrunk[:, -1] = False
        out = shrunk
    return out


def rasterise(fp: Footprint, shrink: float = 0.0) -> Mask:
    """The footprint's pixels; area parts shrunk by `shrink` units (strokes are not)."""
    from PIL import Image, ImageDraw

    pad = 3 + int(LINE_WIDTH / PX)
    x0, y0 = _to_px(fp.bbox.left, fp.bbox.top)
    x1, y1 = _to_px(fp.bbox.right, fp.bbox.bottom)
    c0, r0 = int(np.floor(x0)) - pad, int(np.floor(y0)) - pad
    w = max(int(np.ceil(x1)) + pad - c0, 1)
    h = max(int(np.ceil(y1)) + pad - r0, 1)
    areas = Image.new("1", (w, h), 0)
    strokes = Image.new("1", (w, h), 0)
    da, ds = ImageDraw.Draw(areas), ImageDraw.Draw(strokes)

    def local(pt: tuple[float, float]) -> tuple[float, float]:
        px, py = _to_px(*pt)
        return (px - c0, py - r0)

    rect_shrink = shrink
    for part in fp.parts:
        if part.kind == "rect":
            (xa, ya), (xb, yb) = part.points
            xa, xb = min(xa, xb) + rect_shrink, max(xa, xb) - rect_shrink
            ya, yb = min(ya, yb) + rect_shrink, max(ya, yb) - rect_shrink
            if xb <= xa or yb <= ya:
                continue
            (pa, qa), (pb, qb) = local((xa, yb)), local((xb, ya))
            da.rectangle([pa, qa, max(pb - 1, pa), max(qb - 1, qa)], fill=1)
        elif part.kind == "area" and len(part.points) >= 3:
            da.polygon([local(p) for p in part.points], fill=1)
        elif len(part.points) >= 2:
            width = max(int(round(max(part.width, LINE_WIDTH) / PX)), 1)
            ds.line([local(p) for p in part.points], fill=1, width=width)
    bits = np.asarray(areas, dtype=bool)
    if shrink > 0 and any(p.kind == "area" for p in fp.parts):
        bits = _erode(bits, int(round(shrink / PX)))
    bits = bits | np.asarray(strokes, dtype=bool)
    return Mask(r0, c0, bits)


class MaskCache:
    """Masks of footprints, by identity (footprints are immutable)."""

    def __init__(self) -> None:
        self._masks: dict[tuple[int, float], tuple[Footprint, Mask]] = {}

    def get(self, fp: Footprint, shrink: float = 0.0) -> Mask:
        key = (id(fp), shrink)
        hit = self._masks.get(key)
        if hit is not None and hit[0] is fp:
            return hit[1]
        if len(self._masks) > 50000:
            self._masks.clear()
        mask = rasterise(fp, shrink)
        self._masks[key] = (fp, mask)
        return mask


def _window(a: Mask, b: Mask) -> tuple[np.ndarray, np.ndarray] | None:
    r0, c0 = max(a.row, b.row), max(a.col, b.col)
    r1 = min(a.row + a.bits.shape[0], b.row + b.bits.shape[0])
    c1 = min(a.col + a.bits.shape[1], b.col + b.bits.shape[1])
    if r1 <= r0 or c1 <= c0:
        return None
    return (a.bits[r0 - a.row:r1 - a.row, c0 - a.col:c1 - a.col],
            b.bits[r0 - b.row:r1 - b.row, c0 - b.col:c1 - b.col])


def common_pixels(a: Mask, b: Mask) -> int:
    w = _window(a, b)
    return 0 if w is None else int((w[0] & w[1]).sum())


def inside(inner: Mask, outer: Mask, slack: int = 0) -> bool:
    """Whether all of `inner` (but `slack` pixels) lies in `outer`."""
    total = inner.count
    if total == 0:
        return True
    return total - common_pixels(inner, outer) <= slack


# ---------------------------------------------------------------- relations between elements


@dataclass
class SectionRules:
    """What the lesson says about a section's elements that the rules need."""

    section: m.Section
    exempt: set[frozenset[str]] = field(default_factory=set)
    areas: dict[str, Box] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def of(section: m.Section) -> SectionRules:
        from .layout import area_box

        rules = SectionRules(section)
        drawn_on: dict[str, list[str]] = {}  # element id -> the elements drawn `on` it
        for i, el in enumerate(section.elements):
            rules.order[el.id] = i
            spec = KINDS.get(el.kind)
            target = el.drawn_on
            if target is None and isinstance(el.placement, m.Relative):
                target = el.placement.target
            if spec is not None and spec.attached and target is not None:
                rules.exempt.add(frozenset((el.id, target.name)))
                if spec.on and el.target is not None:
                    drawn_on.setdefault(_drawn_root(section, target.name), []).append(el.id)
            if spec is not None and spec.coordinates and el.drawn_on is not None:
                _exempt_in_coordinates(el, spec, section, rules, drawn_on)
            if isinstance(el.placement, m.Relative):
                rules.exempt.update(_beside_coordinates(el, el.placement.target.name, section))
            ends = el.endpoints
            if ends is not None:
                for ref in ends.refs:
                    if section.element(ref.name) is not None:
                        rules.exempt.add(frozenset((el.id, ref.name)))
                        rules.exempt.update(_beside_coordinates(el, ref.name, section))
                axes = _joined_in(el, ends, section)
                if axes is not None:
                    drawn_on.setdefault(axes, []).append(el.id)
            if isinstance(el.placement, m.In):
                rules.areas[el.id] = area_box(el.placement.first, el.placement.last)
        for ids in drawn_on.values():
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    rules.exempt.add(frozenset((a, b)))
        _exempt_traces(section, rules.exempt)
        # groups (compiler.groups): what is exempt with a group is exempt with its members, and a
        # placed group moves its members out of their own areas into its place
        rules.exempt = with_leaves(section, rules.exempt)
        for name in fitted(section):
            rules.areas.pop(name, None)
        return rules


def _drawn_root(section: m.Section, name: str) -> str:
    """The element at the bottom of a chain of `on`: the axes of an area on a plot on them."""
    seen: set[str] = set()
    el = section.element(name)
    while el is not None and el.target is not None and el.id not in seen:
        seen.add(el.id)
        name = el.target.name
        el = section.element(name)
    return name


def _coordinate_system(el: m.Element, section: m.Section) -> tuple[str, ...]:
    """The element (axes, plane, number line or plot) whose coordinates place `el`, and a plot's
    axes; () when it is not given in coordinates."""
    spec = KINDS.get(el.kind)
    if spec is None or not spec.coordinates or el.drawn_on is None:
        return ()
    system = section.element(el.drawn_on.name)
    if system is None:
        return ()
    if system.kind == "plot" and system.target is not None:
        return (system.id, system.target.name)
    return (system.id,)


def _beside_coordinates(el: m.Element, name: str, section: m.Section) -> set[frozenset[str]]:
    """`el` placed beside, or joined to, the element `name`: exempt with the coordinates that
    element is given in (a label above a dot on axes, a connector to it)."""
    other = section.element(name)
    if other is None or other.id == el.id:
        return set()
    return {frozenset((el.id, s)) for s in _coordinate_system(other, section) if s != el.id}


def _joined_in(el: m.Element, ends: m.Endpoints, section: m.Section) -> str | None:
    """The axes a connector lies in when both the elements it joins are given in their
    coordinates (`line sec from p to q`, p and q dots on ax: the line from (1, 1) to (2, 4) on
    ax), unless it is text; None otherwise."""
    spec = KINDS.get(el.kind)
    if spec is None or spec.textual or len(ends.refs) != 2:
        return None
    systems = set()
    for ref in ends.refs:
        other = section.element(ref.name)
        system = _coordinate_system(other, section) if other is not None else ()
        if not system:
            return None
        systems.add(system[-1])  # (a plot's axes)
    return systems.pop() if len(systems) == 1 else None


def _exempt_traces(section: m.Section, exempt: set[frozenset[str]]) -> None:
    """A trace with the element it follows, and with all that element is exempt with."""
    for el in section.elements:
        spec = KINDS.get(el.kind)
        if spec is None or not spec.follows or len(el.members) != 1:
            continue
        followed = el.members[0].name
        pairs = {frozenset((el.id, followed))}
        pairs |= {frozenset((el.id, other)) for pair in exempt if followed in pair
                  for other in pair if other not in (followed, el.id)}
        exempt.update(pairs)


def _exempt_in_coordinates(el: m.Element, spec: KindSpec, section: m.Section, rules: SectionRules,
                           drawn_on: dict[str, list[str]]) -> None:
    """An element in the coordinates of axes (or of a plot on them) overlaps them, and, unless
    it is text, the plots and shapes drawn on them, by intent."""
    assert el.drawn_on is not None
    system = section.element(el.drawn_on.name)
    if system is None:
        return
    axes = system.target.name if system.kind == "plot" and system.target is not None else system.id
    rules.exempt.update({frozenset((el.id, system.id)), frozenset((el.id, axes))})
    if not spec.textual:
        drawn_on.setdefault(axes, []).append(el.id)


# ---------------------------------------------------------------- colour


def _luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    if len(h) != 6:
        return 0.0
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two '#rrggbb' colours (1 to 21)."""
    la, lb = _luminance(a), _luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


# ---------------------------------------------------------------- the checker


def _overlap_limit(a: Footprint, b: Footprint) -> float:
    return LINE_OVERLAP_AREA if LINE in (a.role, b.role) else OVERLAP_AREA


class Checker:
    """Applies the rules to section views. Keeps masks and pair results between calls, so
    that the Critic can try many placements cheaply (unchanged footprints are not
    measured again)."""

    def __init__(self) -> None:
        self.masks = MaskCache()
        self._pairs: dict[tuple[int, int], tuple[Footprint, Footprint, float | None]] = {}

    # -- pairs ---------------------------------------------------------------------------

    def overlap(self, a: Footprint, b: Footprint, rules: SectionRules) -> float | None:
        """The area two footprints share beyond the tolerance (None: no finding)."""
        if frozenset((a.element, b.element)) in rules.exempt:
            return None
        key = (id(a), id(b))
        hit = self._pairs.get(key)
        if hit is not None and hit[0] is a and hit[1] is b:
            return hit[2]
        result = self._measure(a, b)
        if len(self._pairs) > 200000:
            self._pairs.clear()
        self._pairs[key] = (a, b, result)
        return result

    def _measure(self, a: Footprint, b: Footprint) -> float | None:
        margin = OVERLAP_DEPTH
        if not a.bbox.overlaps(b.bbox, tol=margin):
            return None
        ma, mb = self.masks.get(a, OVERLAP_DEPTH), self.masks.get(b, OVERLAP_DEPTH)
        shared = common_pixels(ma, mb) * PX * PX
        if shared < _overlap_limit(a, b):
            return None
        for inner, outer in ((a, b), (b, a)):
            if self._contained(inner, outer):
                return None
        return shared

    def _contained(self, inner: Footprint, outer: Footprint) -> bool:
        if outer.role == SHAPE and inner.role in (TEXT, BOX):
            if not outer.bbox.contains(inner.bbox, tol=0.0):
                return False
            return inside(self.masks.get(inner), self.masks.get(outer, CLEARANCE))
        if outer.role in (SHAPE, BOX) and inner.role in (SHAPE, LINE):
            if not outer.bbox.contains(inner.bbox, tol=OVERLAP_DEPTH + 2 * PX):
                return False
            return inside(self.masks.get(inner, OVERLAP_DEPTH), self.masks.get(outer))
        return False

    # -- a section ---------------------------------------------------------------------

    def section(self, view: SectionView, rules: SectionRules | None = None,
                only: set[str] | None = None) -> list[Finding]:
        """Every finding of a section, each reported once, at the first step it appears
        in. `only`: the rules to apply (codes); all by default."""
        rules = rules or SectionRules.of(view.section)
        sec = view.section
        out: dict[tuple, Finding] = {}
        mid: dict[tuple, Finding] = {}  # found at moments inside steps
        first_seen: dict[str, int] = {}
        moved: set[str] = set()
        released: set[str] = set()  # moved, scaled or rotated: no longer bound to its area

        def want(code: str) -> bool:
            return only is None or code in only

        for n, step in enumerate(view.steps):
            model_step = sec.steps[step.index - 1] if 0 < step.index <= len(sec.steps) else None
            if model_step is not None:
                for act in model_step.actions:
                    # (a group's members move with it)
                    names = {n for t in act.targets for n in (t.name, *leaves(sec, t.name))}
                    if act.verb == "move":
                        moved.update(names)
                    if act.verb in ("move", "scale", "rotate"):
                        released.update(names)
            for fp in step.visible:
                first_seen.setdefault(fp.element, n)
            seen = _Seen(rules, first_seen, moved)
            for f in self._step(view, _StepFindings(sec, step), seen, released, want):
                out.setdefault(f.key, f)
            if step.moments:  # inside a step that moves things
                seen = replace(seen, moving=_moving(view.steps[n - 1] if n else None, step))
            for moment in step.moments:
                for f in self._step(view, _StepFindings(sec, moment, _during(sec, moment)), seen, released,
                                    lambda code: code in MOMENT_CODES and want(code)):
                    mid.setdefault(f.key, f)
        for key, f in mid.items():  # what only happens on the way: once, at its first moment
            out.setdefault(key, f)
        if view.panel is not None and want("lecture-lines"):
            out.update({f.key: f for f in self._panel(view, sec)})
        return list(out.values())

    def _step(self, view: SectionView, at: _StepFindings, seen: _Seen, released: set[str],
              want: Callable[[str], bool]) -> list[Finding]:
        """The findings of what one step view shows."""
        visible = sorted(at.step.visible, key=lambda f: seen.rules.order.get(f.element, 10 ** 6))
        found: list[Finding] = []
        if want("overlap"):
            found += self._overlaps(visible, seen, at)
        found += _between_findings(view, visible, seen, at, found, want)
        for fp in visible:
            found += _frame_findings(fp, at, seen.rules, released, want)
            found += _look_findings(fp, at, view.background, want)
        return found

    def _overlaps(self, visible: list[Footprint], seen: _Seen, at: _StepFindings) -> Iterator[Finding]:
        for i, a in enumerate(visible):
            for b in visible[i + 1:]:
                shared = self.overlap(a, b, seen.rules)
                if shared is None:
                    continue
                later, earlier = seen.later_first(a, b)
                other = at.section.element(earlier.element)
                other_line = f" (line {other.span.line})" if other is not None else ""
                yield at.finding("overlap", later.element,
                                 f"'{later.element}' overlaps '{earlier.element}'{other_line} "
                                 f"by {shared:.2f} square units",
                                 "give one of them another anchor (`lecture critique` can pick free "
                                 "cells), or make it smaller with scale=", other=earlier.element)

    def _panel(self, view: SectionView, sec: m.Section) -> list[Finding]:
        found = []
        panel = view.panel
        assert panel is not None
        for line_id, rows in panel.rows:
            line = sec.line(line_id)
            if rows > MAX_LINE_ROWS and line is not None:
                found.append(Finding("lecture-lines", sec.id, line_id,
                                     f"lecture line '{line_id}' wraps onto {rows} rows of the panel "
                                     f"(at most {MAX_LINE_ROWS})",
                                     "lecture lines are short bullet sentences: shorten it, or split it "
                                     "into two lines", line.span))
        small = panel.cap_height is not None and panel.cap_height * PX_PER_UNIT_1080 < MIN_CAP_HEIGHT_PX
        if (panel.font_size < panel.theme_font_size * MIN_PANEL_FONT_RATIO - 1e-6 or small) and sec.lines:
            longest = max(sec.lines, key=lambda ln: len(ln.text.value))
            found.append(Finding("lecture-lines", sec.id, longest.id,
                                 f"section '{sec.id}' has too many or too long lecture lines for the "
                                 f"panel: they are shown at {panel.font_size:.0f} pt instead of "
                                 f"{panel.theme_font_size:.0f} pt",
                                 f"shorten the longest line ('{longest.id}'), or split the section",
                                 longest.span))
        return found


def _moving(before: StepView | None, step: StepView) -> frozenset[str]:
    """The elements a step moves: measured differently at some moment of it, or at its end, than
    at the end of the step before (runtime/geometry.py measures an unchanged element once)."""
    views = ([before] if before is not None else []) + [*step.moments, step]
    found: set[str] = set()
    for fp in step.visible:
        shapes = {id(v.get(fp.element)) for v in views}
        if len(shapes) > 1:
            found.add(fp.element)
    return frozenset(found)


@dataclass(frozen=True)
class _StepFindings:
    """Makes the findings of one step of a section (or of a moment inside it: `during` says when)."""

    section: m.Section
    step: StepView
    during: str = ""

    def finding(self, code: str, eid: str, message: str, hint: str, other: str | None = None) -> Finding:
        el = self.section.element(eid)
        span = el.span if el is not None else self.section.span
        return Finding(code, self.section.id, eid, message, hint, span, other, self.step.index,
                       self.step.span.line, during=self.during)


def _during(section: m.Section, moment: StepView) -> str:
    """When a moment inside a step is, in words: what the step moves, and the values then
    (`while x0 changes (x0 = 2.25)`), or the time (`while 'arm' turns (1.2 s into the step)`)."""
    number = moment.index
    step = section.steps[number - 1] if 0 < number <= len(section.steps) else None
    if step is None:
        return "during the step"
    changed = [r.name for a in step.actions if a.verb == "change" for r in a.targets]
    words = [f"{' and '.join(changed)} change{'s' if len(changed) == 1 else ''}"] if changed else []
    for act in step.actions:
        names = " and ".join(f"'{r.name}'" for r in act.targets)
        if act.verb == "move" and act.along is not None:
            words.append(f"{names} move{'s' if len(act.targets) == 1 else ''} along '{act.along.name}'")
        elif act.verb == "rotate":
            words.append(f"{names} turn{'s' if len(act.targets) == 1 else ''}")
    fraction = moment.fraction if moment.fraction is not None else 1.0
    values = section_values(section).values_at(number, fraction) if changed else {}
    now = ", ".join(f"{name} = {values[name]:.3g}" for name in dict.fromkeys(changed)
                    if name in values and np.isfinite(values[name]))
    when = now or f"{fraction * step.seconds:.1f} s into the step"
    return f"while {' and '.join(words) or 'things move'} ({when})"


@dataclass(frozen=True)
class _Seen:
    """What the rules of one step know of the steps before: when each element was first shown,
    which elements a `move` has taken elsewhere."""

    rules: SectionRules
    first_seen: dict[str, int]
    moved: set[str]
    moving: frozenset[str] = frozenset()  # at a moment inside a step: what the step moves

    def later_first(self, a: Footprint, b: Footprint) -> tuple[Footprint, Footprint]:
        """The two, the one that moves into the other (at a moment inside a step), or else the
        one shown later (or written later), first: a finding about a pair is reported at the
        element that made it."""
        def when(fp: Footprint) -> tuple[bool, int, int]:
            return (fp.element in self.moving, self.first_seen.get(fp.element, 0),
                    self.rules.order.get(fp.element, 0))

        return (b, a) if when(b) >= when(a) else (a, b)


def _between_findings(view: SectionView, visible: list[Footprint], seen: _Seen, at: _StepFindings,
                      found: list[Finding], want: Callable[[str], bool]) -> list[Finding]:
    """The rules about an element and the others shown with it: text too close to text,
    elements the grid's edge pushed onto others, connectors whose ends are gone."""
    out: list[Finding] = []
    if want("too-close"):
        overlapping = {frozenset((f.element, f.other)) for f in found
                       if f.code == "overlap" and f.element is not None and f.other is not None}
        out += _too_close(visible, seen, at, overlapping)
    if want("no-room"):
        shifted = {s.element: s for s in view.shifted}
        for fp in visible:
            if fp.element in shifted and fp.element not in seen.moved:
                out += _no_room(fp, shifted[fp.element], visible, seen.rules, at)
    if want("dangling-connector"):
        out += _dangling(visible, seen, at)
    return out


# ---------------------------------------------------------------- text too close to text


def box_gap(a: Box, b: Box) -> float:
    """The distance between two boxes (0 when they touch or overlap)."""
    dx = max(b.left - a.right, a.left - b.right, 0.0)
    dy = max(b.bottom - a.top, a.bottom - b.top, 0.0)
    return float(np.hypot(dx, dy))


def _closest_runs(a: Footprint, b: Footprint) -> tuple[float, TextRun, TextRun] | None:
    best: tuple[float, TextRun, TextRun] | None = None
    for ra in a.texts:
        for rb in b.texts:
            gap = box_gap(ra.box, rb.box)
            if best is None or gap < best[0]:
                best = (gap, ra, rb)
    return best


def _quoted(run: TextRun, owner: str) -> str:
    text = " ".join(run.text.split())
    if not text or text == owner:
        return f"'{owner}'"
    return f"'{text[:24]}…' of '{owner}'" if len(text) > 24 else f"'{text}' of '{owner}'"


def _too_close(visible: list[Footprint], seen: _Seen, at: _StepFindings,
               overlapping: set[frozenset[str]]) -> Iterator[Finding]:
    """Runs of text of two elements closer than MIN_TEXT_GAP. No pair is exempt (a label may
    lie over its target's lines, never against its text); pairs the overlap rule reported in
    this step are not reported twice."""
    texted = [fp for fp in visible if fp.texts]
    for i, a in enumerate(texted):
        for b in texted[i + 1:]:
            if frozenset((a.element, b.element)) in overlapping or box_gap(a.bbox, b.bbox) >= MIN_TEXT_GAP:
                continue
            close = _closest_runs(a, b)
            if close is None or close[0] >= MIN_TEXT_GAP:
                continue
            later, earlier = seen.later_first(a, b)
            gap, run_later, run_earlier = close if later is a else (close[0], close[2], close[1])
            other = at.section.element(earlier.element)
            other_line = f" (line {other.span.line})" if other is not None else ""
            how = "touches" if gap < 1e-6 else f"is only {gap:.2f} units from"
            yield at.finding("too-close", later.element,
                             f"{_quoted(run_later, later.element)} {how} "
                             f"{_quoted(run_earlier, earlier.element)}{other_line}",
                             f"text closer than {MIN_TEXT_GAP:g} units (about a space) reads as one word: "
                             f"give '{later.element}' another anchor or relation, or make it smaller with "
                             "scale=",
                             other=earlier.element)


# ---------------------------------------------------------------- shifted back inside the grid

_MOVE_WORDS = {"right of": ("column", "left"), "next to": ("column", "left"), "left of": ("column", "right"),
               "below": ("row", "up"), "above": ("row", "down")}


def _laid_out_as(fp: Footprint, shift: Shifted) -> bool:
    """Whether the footprint is the element where the layout put it (a view predicted for
    another placement keeps its old shift records: they do not describe a moved element)."""
    return abs(fp.bbox.cx - shift.box.cx) < 0.25 and abs(fp.bbox.cy - shift.box.cy) < 0.25


def _no_room(fp: Footprint, shift: Shifted, visible: list[Footprint], rules: SectionRules,
             at: _StepFindings) -> Iterator[Finding]:
    el = at.section.element(fp.element)
    if el is None or not _laid_out_as(fp, shift):
        return
    if isinstance(el.placement, m.Relative) and shift.target is not None:
        finding = _relation_without_room(el, el.placement, shift, at)
        if finding is not None:
            yield finding
    elif isinstance(el.placement, m.At):
        yield from _cell_without_room(el, el.placement, fp, shift, visible, rules, at)


def _relation_without_room(el: m.Element, placement: m.Relative, shift: Shifted,
                           at: _StepFindings) -> Finding | None:
    """A relation shifted back inside the grid so far that it no longer reads as beside its
    target: less than half the layout's gap from it, or over it."""
    target, relation, name = shift.target, placement.relation, placement.target.name
    assert target is not None
    gap = gap_between(target, shift.box, relation)
    if gap >= GAP / 2:
        return None
    w, h = shift.box.w, shift.box.h
    short = past_edge(shift.wanted, relation)
    where = f"onto '{name}'" if gap < 0 else f"to {gap:.2f} units from '{name}'"
    fixes = [f"`{rel} {name}`" for rel in ("right of", "left of", "below", "above")
             if rel != relation and not (relation == "next to" and rel == "right of")
             and relation_fits(target, rel, w, h)]
    hint = f"put it {' or '.join(fixes)}" if fixes else ""
    cells = cells_to_make_room(target, relation, w, h)
    if cells:
        unit, direction = _MOVE_WORDS[relation]
        move = f"move '{name}' {cells} {unit}{'s' if cells > 1 else ''} {direction}"
        hint = f"{hint}, or {move}" if hint else move
    hint = hint or "make it smaller with scale=, or give it a cell of its own (`at` or `in`)"
    finding = at.finding("no-room", el.id,
                         f"'{el.id}' does not fit {relation} '{name}': it would reach {short:.2f} units "
                         f"past the grid's edge, so it was shifted back inside, {where}", hint, other=name)
    return replace(finding, span=placement.span)


def _common_area(a: Box, b: Box) -> float:
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.top, b.top) - max(a.bottom, b.bottom)
    return max(w, 0.0) * max(h, 0.0)


def _cell_without_room(el: m.Element, placement: m.At, fp: Footprint, shift: Shifted,
                       visible: list[Footprint], rules: SectionRules, at: _StepFindings) -> Iterator[Finding]:
    """An element at a cell near the grid's edge, shifted inside the grid onto another element:
    it covers more of it than it would have at its cell."""
    dx, dy = shift.offset
    wanted = Box(fp.bbox.cx + dx, fp.bbox.cy + dy, fp.bbox.w, fp.bbox.h)
    for other in visible:
        if other is fp or frozenset((fp.element, other.element)) in rules.exempt:
            continue
        if _common_area(fp.bbox, other.bbox) > _common_area(wanted, other.bbox) + OVERLAP_AREA:
            others = [o.bbox for o in visible if o is not fp]
            cell = nearest_cell_that_fits(placement.cell, fp.bbox.w, fp.bbox.h, others)
            hint = (f"anchor it at {cell}, where it fits inside the grid, or " if cell else "") + \
                "give it an area (`in`), or make it smaller with scale="
            line = at.section.element(other.element)
            other_line = f" (line {line.span.line})" if line is not None else ""
            finding = at.finding("no-room", el.id,
                                 f"'{el.id}' at {placement.cell.name} does not fit inside the grid there: "
                                 f"it was shifted {float(np.hypot(dx, dy)):.2f} units inside, onto "
                                 f"'{other.element}'{other_line}", hint, other=other.element)
            yield replace(finding, span=placement.span)
            return


# ---------------------------------------------------------------- connectors


def _dangling(visible: list[Footprint], seen: _Seen, at: _StepFindings) -> Iterator[Finding]:
    """A line or arrow `from X to Y` shown while X or Y is not: it points at nothing."""
    shown = {fp.element for fp in visible}
    for fp in visible:
        el = at.section.element(fp.element)
        ends = el.endpoints if el is not None else None
        if ends is None:
            continue
        for ref in ends.refs:
            if at.section.element(ref.name) is None or ref.name in shown:
                continue  # a grid cell, or shown
            if ref.name in seen.first_seen:
                message, hint = "no longer shown", f"fade '{fp.element}' out in the same step as " \
                    f"'{ref.name}' (or before)"
            else:
                message, hint = "not shown yet", f"show '{fp.element}' in the same step as '{ref.name}' " \
                    "(or after)"
            yield at.finding("dangling-connector", fp.element,
                             f"'{fp.element}' points at '{ref.name}', which is {message}", hint,
                             other=ref.name)


def _frame_findings(fp: Footprint, at: _StepFindings, rules: SectionRules, released: set[str],
                    want: Callable[[str], bool]) -> Iterator[Finding]:
    """Where an element lies: past the frame's safe area, out of its area, over the panel or
    the title band."""
    eid, box = fp.element, fp.bbox
    if want("off-frame"):
        past = max(SAFE.left - box.left, box.right - SAFE.right, SAFE.bottom - box.bottom, box.top - SAFE.top)
        if past > OFF_FRAME_TOLERANCE:
            side = max((SAFE.left - box.left, "left"), (box.right - SAFE.right, "right"),
                       (SAFE.bottom - box.bottom, "bottom"), (box.top - SAFE.top, "top"))[1]
            yield at.finding("off-frame", eid,
                             f"'{eid}' reaches {past:.2f} units past the {side} edge of the frame's "
                             "safe area",
                             "anchor it further inside the grid, or make it smaller with scale=")
    if want("spills-area") and eid in rules.areas and eid not in released:
        area = rules.areas[eid]
        past = max(area.left - box.left, box.right - area.right, area.bottom - box.bottom, box.top - area.top)
        if past > SPILL_TOLERANCE:
            el = at.section.element(eid)
            area_text = f"{el.placement.first.name}..{el.placement.last.name}" \
                if el is not None and isinstance(el.placement, m.In) else "its area"
            yield at.finding("spills-area", eid,
                             f"'{eid}' spills {past:.2f} units out of its area {area_text}",
                             "give it a larger area, or make it smaller with scale=")
    if want("over-panel"):
        depth = min(PANEL_REGION.right - box.left, box.right - PANEL_REGION.left,
                    PANEL_REGION.top - box.bottom, box.top - PANEL_REGION.bottom)
        if depth > EDGE_TOLERANCE:
            yield at.finding("over-panel", eid, f"'{eid}' lies over the lecture-line panel on the left",
                             "visuals belong in the grid, columns 1-6: anchor it there")
    if want("over-title"):
        depth = box.top - T.TITLE_RULE_Y
        if depth > EDGE_TOLERANCE and box.bottom < T.FRAME_HEIGHT / 2:
            yield at.finding("over-title", eid, f"'{eid}' reaches {depth:.2f} units into the title band",
                             "anchor it lower (row A is the highest row)")


def _too_small(fp: Footprint, at: _StepFindings) -> Iterator[Finding]:
    """Text too small to read: its capitals, or its smallest script's (a formula's
    superscripts and subscripts), once only, the body first."""
    eid = fp.element
    body = fp.cap_height * PX_PER_UNIT_1080 if fp.cap_height is not None else None
    script = fp.script_cap_height * PX_PER_UNIT_1080 if fp.script_cap_height is not None else None
    if body is not None and body < MIN_CAP_HEIGHT_PX:
        px = body
        yield at.finding("too-small", eid,
                         f"text of '{eid}' is too small to read: capitals {px:.0f} px tall "
                         f"at 1080p (at least {MIN_CAP_HEIGHT_PX:.0f})",
                         "give it a larger area or fewer words, or a larger font_size=")
    elif script is not None and script < MIN_SCRIPT_CAP_HEIGHT_PX:
        px = script
        larger = MIN_SCRIPT_CAP_HEIGHT_PX / px
        yield at.finding("too-small", eid,
                         f"the script `{fp.script_text}` in '{eid}' is too small to read: capitals "
                         f"{px:.0f} px tall at 1080p (scripts need at least {MIN_SCRIPT_CAP_HEIGHT_PX:.1f})",
                         f"make the formula about {larger:.1f}x larger (a larger area or font_size=), or "
                         "write the script at full size (`\\dfrac` for `\\tfrac`, `\\exp(…)` for a "
                         "long exponent)")


def _look_findings(fp: Footprint, at: _StepFindings, background: str,
                   want: Callable[[str], bool]) -> Iterator[Finding]:
    """Whether an element can be read: the size of its text, its contrast."""
    eid = fp.element
    if want("too-small"):
        yield from _too_small(fp, at)
    if want("low-contrast") and fp.colors:
        worst = min(fp.colors, key=lambda c: contrast_ratio(c, background))
        ratio = contrast_ratio(worst, background)
        if ratio < MIN_CONTRAST:
            yield at.finding("low-contrast", eid,
                             f"'{eid}' ({worst}) has a contrast of {ratio:.1f}:1 against the "
                             f"background {background} (at least {MIN_CONTRAST:g}:1)",
                             "choose a lighter colour on a dark theme (a darker one on `light`)")


def lesson_findings(views: Sequence[SectionView], checker: Checker | None = None) -> list[Finding]:
    checker = checker or Checker()
    found: list[Finding] = []
    for view in views:
        found.extend(checker.section(view))
    found.sort(key=lambda f: (f.span.line, f.span.column, f.code))
    return found
