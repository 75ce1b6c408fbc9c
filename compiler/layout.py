"""Anchor resolution: placements (`at B2`, `in A1..C3`, `below eq`, `auto`) -> boxes in scene
units on the 6 x 6 anchor grid of the teaching layout.

Pure geometry: the sizes it works with are measured by the caller on real Manim mobjects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from . import theme as T
from .model import At, Cell, In, Placement, Relative
from .span import NO_SPAN, Span

MARGIN = 0.1  # kept free inside an area, on each side
GAP = 0.2  # between an element and the one it is placed relative to
AT_MAX_WIDTH = 4.0  # what an element `at` a cell (or placed by relation) may be at most
AT_MAX_HEIGHT = 2.0
SHAPE_SIZE = 0.8  # default size of a shape at a cell: about one cell


@dataclass(frozen=True)
class Box:
    """An axis-aligned box: centre and size, in scene units."""

    cx: float
    cy: float
    w: float
    h: float

    @property
    def left(self) -> float:
        return self.cx - self.w / 2

    @property
    def right(self) -> float:
        return self.cx + self.w / 2

    @property
    def top(self) -> float:
        return self.cy + self.h / 2

    @property
    def bottom(self) -> float:
        return self.cy - self.h / 2

    @property
    def center(self) -> tuple[float, float]:
        return (self.cx, self.cy)

    def inset(self, margin: float) -> Box:
        return Box(self.cx, self.cy, max(self.w - 2 * margin, 0.0), max(self.h - 2 * margin, 0.0))

    def contains(self, other: Box, tol: float = 1e-6) -> bool:
        return (other.left >= self.left - tol and other.right <= self.right + tol
                and other.bottom >= self.bottom - tol and other.top <= self.top + tol)

    def overlaps(self, other: Box, tol: float = 1e-6) -> bool:
        return (self.left < other.right - tol and other.left < self.right - tol
                and self.bottom < other.top - tol and other.bottom < self.top - tol)

    @staticmethod
    def from_edges(left: float, right: float, bottom: float, top: float) -> Box:
        return Box((left + right) / 2, (bottom + top) / 2, right - left, top - bottom)


GRID = Box.from_edges(T.GRID_LEFT, T.GRID_RIGHT, T.GRID_BOTTOM, T.GRID_TOP)
TITLE_BAND = Box.from_edges(-T.FRAME_WIDTH / 2, T.FRAME_WIDTH / 2, T.TITLE_RULE_Y, T.FRAME_HEIGHT / 2)
PANEL = Box.from_edges(T.PANEL_LEFT, T.PANEL_RIGHT, T.PANEL_BOTTOM, T.PANEL_TOP)


# ---------------------------------------------------------------- cell names
# The one rule for what a cell name is, used by the builder, the checks, the JSON form, the
# formatter and the layout: a row letter then a column number, "C4". A lesson may write the
# letter in either case (`at c4` is C4); the canonical form, which `lecture fmt` writes and
# the JSON form's schema asks for, is upper case. Whether the cell is on the 6 x 6 grid is a
# separate question (`on_grid`), so that `at G7` reads as a cell and is reported as off the grid.
_CELL_NAME = re.compile(r"([A-Za-z])([0-9]+)")


def parse_cell_name(name: str, span: Span = NO_SPAN) -> Cell | None:
    """The cell a name such as "C4" or "c4" stands for, on the grid or off it; None when the
    name is not one letter followed by digits."""
    match = _CELL_NAME.fullmatch(name)
    if match is None:
        return None
    return Cell(match.group(1).upper(), int(match.group(2)), span)


def on_grid(cell: Cell) -> bool:
    """Whether a cell is one of the grid's: rows A-F, columns 1-6."""
    return cell.row in tuple(T.GRID_ROWS) and 1 <= cell.column <= T.GRID_COLUMNS


def is_cell_name(name: str) -> bool:
    """Whether a name is a cell on the grid, in either case: "c4" and "C4" are, "G1" is not."""
    cell = parse_cell_name(name)
    return cell is not None and on_grid(cell)


def is_canonical(cell: Cell) -> bool:
    """Whether a cell reads back as itself from its name: an upper-case row letter A-Z and a
    column of 0 or more (what the formatter can write)."""
    return parse_cell_name(cell.name) == cell


def cell_index(cell: Cell | str) -> tuple[int, int]:
    """(row 0-5, column 0-5) of a cell or a cell name such as "B3"."""
    parsed = parse_cell_name(cell) if isinstance(cell, str) else cell
    if parsed is None:
        raise ValueError(f"{cell!r} is not a cell name")
    return T.GRID_ROWS.index(parsed.row.upper()), parsed.column - 1


def cell_center(cell: Cell | str) -> tuple[float, float]:
    r, c = cell_index(cell)
    return T.cell_center(T.GRID_ROWS[r], c + 1)


def cell_box(cell: Cell | str) -> Box:
    x, y = cell_center(cell)
    return Box(x, y, T.CELL, T.CELL)


def cells_box(r0: int, c0: int, r1: int, c1: int) -> Box:
    """The box of the block of cells from (r0, c0) to (r1, c1), in either order."""
    r0, r1 = sorted((r0, r1))
    c0, c1 = sorted((c0, c1))
    return Box.from_edges(T.GRID_LEFT + c0 * T.CELL, T.GRID_LEFT + (c1 + 1) * T.CELL,
                          T.GRID_TOP - (r1 + 1) * T.CELL, T.GRID_TOP - r0 * T.CELL)


def area_box(first: Cell, last: Cell) -> Box:
    r0, c0 = cell_index(first)
    r1, c1 = cell_index(last)
    return cells_box(r0, c0, r1, c1)


def fit_scale(w: float, h: float, box: Box, *, upscale: bool = False) -> float:
    """The factor that makes a w x h thing fit in `box`, keeping its aspect."""
    factors = []
    if w > 1e-9:
        factors.append(box.w / w)
    if h > 1e-9:
        factors.append(box.h / h)
    if not factors:
        return 1.0
    s = min(factors)
    return s if upscale else min(s, 1.0)


def clamp_into(box: Box, region: Box = GRID) -> Box:
    """Shift a box so that it lies inside `region` (centred on it if it is too big)."""
    if box.w > region.w:
        cx = region.cx
    else:
        cx = min(max(box.cx, region.left + box.w / 2), region.right - box.w / 2)
    if box.h > region.h:
        cy = region.cy
    else:
        cy = min(max(box.cy, region.bottom + box.h / 2), region.top - box.h / 2)
    return Box(cx, cy, box.w, box.h)


def beside(target: Box, relation: str, w: float, h: float, gap: float = GAP) -> Box:
    """A w x h box placed `relation` of the target box, `gap` away, centred on its side."""
    if relation == "below":
        return Box(target.cx, target.bottom - gap - h / 2, w, h)
    if relation == "above":
        return Box(target.cx, target.top + gap + h / 2, w, h)
    if relation == "left of":
        return Box(target.left - gap - w / 2, target.cy, w, h)
    # "right of" and "next to"
    return Box(target.right + gap + w / 2, target.cy, w, h)


# The side each relation puts an element on: (x, y) direction from its target.
RELATION_SIDES: dict[str, tuple[int, int]] = {"right of": (1, 0), "next to": (1, 0), "left of": (-1, 0),
                                              "below": (0, -1), "above": (0, 1)}


def past_edge(box: Box, relation: str, region: Box = GRID) -> float:
    """How far a box placed `relation` of something reaches past the region's edge on that
    side (<= 0: it fits)."""
    dx, dy = RELATION_SIDES[relation]
    if dx:
        return box.right - region.right if dx > 0 else region.left - box.left
    return box.top - region.top if dy > 0 else region.bottom - box.bottom


def gap_between(target: Box, box: Box, relation: str) -> float:
    """The space between a target and a box that should lie `relation` of it, on that side
    (negative: the box reaches back over the target's edge)."""
    dx, dy = RELATION_SIDES[relation]
    if dx:
        return box.left - target.right if dx > 0 else target.left - box.right
    return box.bottom - target.top if dy > 0 else target.bottom - box.top


def relation_fits(target: Box, relation: str, w: float, h: float, region: Box = GRID) -> bool:
    """Whether a w x h box fits `relation` of the target, `GAP` away, inside the region."""
    dx, _ = RELATION_SIDES[relation]
    across = h <= region.h + 1e-6 if dx else w <= region.w + 1e-6
    return across and past_edge(beside(target, relation, w, h), relation, region) <= 1e-6


def cells_to_make_room(target: Box, relation: str, w: float, h: float, region: Box = GRID) -> int | None:
    """How many cells the target must move away from the region's edge for a w x h box to fit
    `relation` of it; None when moving it cannot make room."""
    short = past_edge(beside(target, relation, w, h), relation, region)
    if short <= 1e-6:
        return 0
    cells = math.ceil(short / T.CELL - 1e-9)
    dx, dy = RELATION_SIDES[relation]
    moved = Box(target.cx - dx * cells * T.CELL, target.cy - dy * cells * T.CELL, target.w, target.h)
    return cells if region.contains(moved) else None


def nearest_cell_that_fits(cell: Cell, w: float, h: float, avoid: Sequence[Box] = ()) -> str | None:
    """The cell nearest to `cell` (fewest rows and columns away, then the higher, then the
    further left) where a w x h box centred on it lies inside the grid, clear of the boxes to
    avoid; None when none does."""
    r0, c0 = cell_index(cell)

    def free(box: Box) -> bool:
        return GRID.contains(box) and not any(box.overlaps(other) for other in avoid)

    fits = [(abs(r - r0) + abs(c - c0), r, c) for r in range(len(T.GRID_ROWS)) for c in range(T.GRID_COLUMNS)
            if free(Box(*T.cell_center(T.GRID_ROWS[r], c + 1), w, h))]
    if not fits:
        return None
    _, r, c = min(fits)
    return f"{T.GRID_ROWS[r]}{c + 1}"


def cells_covered(box: Box) -> list[tuple[int, int]]:
    """The grid cells a box overlaps."""
    out = []
    for r in range(len(T.GRID_ROWS)):
        for c in range(T.GRID_COLUMNS):
            if cells_box(r, c, r, c).overlaps(box, tol=0.05):
                out.append((r, c))
    return out


class Occupancy:
    """Which grid cells are taken, for `auto` placement."""

    def __init__(self) -> None:
        self.taken: set[tuple[int, int]] = set()

    def take_box(self, box: Box) -> None:
        self.taken.update(cells_covered(box))

    def take_cells(self, r0: int, c0: int, r1: int, c1: int) -> None:
        for r in range(min(r0, r1), max(r0, r1) + 1):
            for c in range(min(c0, c1), max(c0, c1) + 1):
                self.taken.add((r, c))

    def find(self, rows: int, cols: int) -> tuple[int, int] | None:
        """The first free block of rows x cols cells, scanning rows top to bottom and
        columns left to right; None when there is none."""
        nr, nc = len(T.GRID_ROWS), T.GRID_COLUMNS
        for r in range(nr - rows + 1):
            for c in range(nc - cols + 1):
                if all((rr, cc) not in self.taken
                       for rr in range(r, r + rows) for cc in range(c, c + cols)):
                    return r, c
        return None

    def allocate(self, w: float, h: float) -> Box:
        """A free block of cells big enough for w x h (plus margins), shrinking the request
        when nothing that big is free; the whole grid when the grid is full."""
        rows = min(max(math.ceil(h + 2 * MARGIN - 1e-6), 1), len(T.GRID_ROWS))
        cols = min(max(math.ceil(w + 2 * MARGIN - 1e-6), 1), T.GRID_COLUMNS)
        # Every smaller block too, best first: the one that shows the element largest, then
        # the one that uses fewest cells (a long text prefers one long row to a small square).
        def shown_scale(rr: int, cc: int) -> float:
            return min((cc - 2 * MARGIN) / max(w, 1e-6), (rr - 2 * MARGIN) / max(h, 1e-6), 1.0)

        candidates = sorted(((rr, cc) for rr in range(rows, 0, -1) for cc in range(cols, 0, -1)),
                            key=lambda rc: (-round(shown_scale(*rc), 6), rc[0] * rc[1], rc))
        for rr, cc in candidates:
            found = self.find(rr, cc)
            if found is not None:
                r, c = found
                self.take_cells(r, c, r + rr - 1, c + cc - 1)
                return cells_box(r, c, r + rr - 1, c + cc - 1)
        return GRID


@dataclass(frozen=True)
class Placed:
    """Where an element goes: the factor applied to its natural size and its final box."""

    scale: float
    box: Box  # the element's own box after scaling, centred where it goes
    area: Box  # the region it was fitted into (an area, a cell's cap box, an allocated block)
    # Where its placement put it before it was shifted back inside the grid (`at` a cell near
    # the edge, a relation that runs out of room); None when it was not shifted.
    wanted: Box | None = None


@dataclass(frozen=True)
class Shifted:
    """An element the layout shifted back inside the grid, away from where its placement put
    it (see `Placed.wanted`): the layout rules report it when that lands it on something."""

    element: str
    box: Box  # where it is drawn
    wanted: Box  # where its placement put it (the same size)
    target: Box | None = None  # for a relation: the box of the element it is placed beside

    @property
    def offset(self) -> tuple[float, float]:
        """From where it is drawn to where it was wanted."""
        return (self.wanted.cx - self.box.cx, self.wanted.cy - self.box.cy)


def _shifted_into_grid(wanted: Box) -> tuple[Box, Box | None]:
    """The box shifted inside the grid, and the box wanted when that moved it."""
    box = clamp_into(wanted)
    moved = abs(box.cx - wanted.cx) > 1e-6 or abs(box.cy - wanted.cy) > 1e-6
    return box, wanted if moved else None


def place(placement: Placement | None, w: float, h: float, *, occupancy: Occupancy,
          target_box: Box | None = None, upscale: bool = False,
          max_size: tuple[float, float] = (AT_MAX_WIDTH, AT_MAX_HEIGHT)) -> Placed:
    """Resolve a placement for something measured w x h (its natural size).

    - `in A1..C3`: fit inside the area less a margin (scaled down; up too when `upscale`);
    - `at B2`: centred on the cell, natural size capped to `max_size`, shifted into the grid;
    - relations: beside `target_box`, `GAP` away, capped like `at`, shifted into the grid;
    a shift is never silent: `Placed.wanted` keeps where the placement put it, and the layout
    rules (compiler.findings, "no-room") report a shift that lands on the target or another
    element, with the placements that would fit;
    - `auto` / None: the first free block of cells that holds it, fitted like `in`.
    """
    if isinstance(placement, In):
        area = area_box(placement.first, placement.last)
        s = fit_scale(w, h, area.inset(MARGIN), upscale=upscale)
        return Placed(s, Box(area.cx, area.cy, w * s, h * s), area)
    if isinstance(placement, At):
        x, y = cell_center(placement.cell)
        cap = Box(x, y, *max_size)
        s = fit_scale(w, h, cap, upscale=upscale)
        box, wanted = _shifted_into_grid(Box(x, y, w * s, h * s))
        return Placed(s, box, cap, wanted)
    if isinstance(placement, Relative) and target_box is not None:
        cap = Box(0, 0, *max_size)
        s = fit_scale(w, h, cap, upscale=upscale)
        box, wanted = _shifted_into_grid(beside(target_box, placement.relation, w * s, h * s))
        return Placed(s, box, box, wanted)
    # Auto, no placement, or a relation whose target has no box
    cap = Box(0, 0, GRID.w - 2 * MARGIN, GRID.h - 2 * MARGIN)
    s0 = fit_scale(w, h, cap)
    area = occupancy.allocate(w * s0, h * s0)
    s = fit_scale(w, h, area.inset(MARGIN), upscale=upscale)
    return Placed(s, Box(area.cx, area.cy, w * s, h * s), area)


def edge_point(box: Box, toward: tuple[float, float], buff: float = 0.1) -> tuple[float, float]:
    """Where the ray from the box's centre toward a point leaves the box (plus `buff`)."""
    dx, dy = toward[0] - box.cx, toward[1] - box.cy
    if abs(dx) < 1e-9 and abs(dy) < 1e-9:
        return box.center
    tx = (box.w / 2) / abs(dx) if abs(dx) > 1e-9 else math.inf
    ty = (box.h / 2) / abs(dy) if abs(dy) > 1e-9 else math.inf
    t = min(tx, ty)
    length = math.hypot(dx, dy)
    t = min(t + buff / length, 1.0)
    return (box.cx + dx * t, box.cy + dy * t)
