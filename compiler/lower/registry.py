"""The lowering registries — one small function per element kind and per action verb, found
by name — and the per-section context they work in (layout state, measuring, variables)."""

from __future__ import annotations

import builtins
import functools
import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import colors as color_table
from .. import layout
from ..coordinates import Frame
from ..diagnostics import Diagnostic, DiagnosticError
from ..groups import groups_of
from ..layout import Box, Occupancy, Placed, Shifted
from ..model import Action, Color, Element, In, Lesson, Part, Range, Ref, Relative, Section, Word
from ..span import Span
from ..tex_safety import tex_error_hint
from ..theme import Theme
from . import ir, part_refs
from .ir import Var
from .measurer import Measurer

# ---------------------------------------------------------------- registries


@dataclass(frozen=True)
class ElementRule:
    kind: str
    lower: Callable[[Element, SectionContext], Lowered]
    show: str  # the animation `create` uses: Create, Write or FadeIn


@dataclass(frozen=True)
class ActionRule:
    verb: str
    lower: Callable[[Action, SectionContext, StepCode], None]


ELEMENTS: dict[str, ElementRule] = {}
ACTIONS: dict[str, ActionRule] = {}
# Lowerings of kinds given in the coordinates of another element (`dot p at (2, 4) on ax`,
# lower/coords.py): used instead of the kind's own rule when the element is drawn on something.
COORDINATE_ELEMENTS: dict[str, Callable[[Element, SectionContext], Lowered]] = {}
# Run on each element before it is lowered; each gives the element to lower instead (lower/follow.py:
# one written with values is lowered as it is when they start).
BEFORE_RESOLVE: list[Callable[[SectionContext, Element], Element]] = []
# Run after each element is lowered, with its id (lower/groups.py: the group that holds it fits
# it into the group's place then, before anything is placed beside it).
AFTER_RESOLVE: list[Callable[[SectionContext, str], None]] = []


def element(kind: str, *, show: str = "Create"):
    """Register the lowering of an element kind."""

    def register(fn: Callable[[Element, SectionContext], Lowered]):
        ELEMENTS[kind] = ElementRule(kind, fn, show)
        return fn

    return register


def coordinate_element(kind: str):
    """Register the lowering of a kind given in another element's coordinates."""

    def register(fn: Callable[[Element, SectionContext], Lowered]):
        COORDINATE_ELEMENTS[kind] = fn
        return fn

    return register


def action(verb: str):
    """Register the lowering of an action verb."""

    def register(fn: Callable[[Action, SectionContext, StepCode], None]):
        ACTIONS[verb] = ActionRule(verb, fn)
        return fn

    return register


# ---------------------------------------------------------------- results


@dataclass
class Lowered:
    """An element as code: `var = expr`, then any `after` statements."""

    expr: ir.Call
    box: Box | None  # where it ends up (None: nowhere in particular)
    deps: tuple[str, ...] = ()  # element ids whose variables the code uses
    after: tuple[ir.Call, ...] = ()  # extra statements (calls) run after `var = expr`
    natural: tuple[float, float] | None = None  # its size before layout scaling (for `move`)
    scale: float = 1.0  # the layout scale applied to its natural size
    resizable: bool = False  # a shape: moved, it may stay as large as the grid (text: as a cell's text)


@dataclass
class StepCode:
    """What one step's actions contribute: statements before the step, its animations."""

    before: list[ir.Call] = field(default_factory=list)
    animations: list[ir.Call] = field(default_factory=list)


# ---------------------------------------------------------------- lowering errors


def error(message: str, span: Span, hint: str | None = None, code: str = "lowering") -> DiagnosticError:
    return DiagnosticError([Diagnostic("error", message, span, hint, code)])


# ---------------------------------------------------------------- the generated module's names


# What the generated module imports from lecture.runtime.scene_support (next to
# `from manim import *` and numpy as `np`).
HELPERS = ("LectureScene", "angle_between", "bar_chart", "brace_with_label", "bullet_list", "carry_terms",
           "corner_angle", "custom_element", "formula", "frame_around", "part_of", "placeholder",
           "play_custom", "table_of", "text_block",
           # motion (runtime/motion_support.py, lower/motion.py)
           "change_value", "keep_at", "keep_beside", "live_value", "move_along", "plot_area", "plot_piece",
           "redraw", "resize_with", "riemann_of", "start_trace", "tangent_line", "trace_of", "turn")


@functools.cache
def module_names() -> frozenset[str]:
    """Every name the generated module sees at the top: manim's public names, `np`, the helpers."""
    import manim

    return frozenset(k for k in dir(manim) if not k.startswith("_")) | {"np"} | frozenset(HELPERS)


# ---------------------------------------------------------------- the section context


def reserved_names() -> frozenset[str]:
    return frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) \
        | module_names() | {"self", "np", "config"}


class SectionContext:
    """Everything the lowering of one section needs, and the layout state it builds up."""

    def __init__(self, lesson: Lesson, section: Section, theme: Theme, base_dir: Path, *,
                 measurer: Measurer | None) -> None:
        """`measurer`: how real sizes are learnt (the runtime's); None estimates them."""
        self.lesson = lesson
        self.section = section
        self.theme = theme
        self.base_dir = base_dir
        self.measurer = measurer
        # The Coder's code for custom elements (element id -> generated function name) and
        # auto-fix overrides (element id -> "math-as-text" | "image-placeholder" | "placeholder").
        self.custom_functions: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        self.occupancy = Occupancy()
        self.lowered: dict[str, Lowered] = {}
        self._resolving: list[str] = []
        self.current: dict[str, Box] = {}  # each element's box as the steps go on
        # Elements the layout shifted back inside the grid (for the "no-room" rule), and the
        # placements waiting for their element's final box to be recorded as such.
        self.shifted: dict[str, Shifted] = {}
        self._shifts: dict[str, tuple[Placed, Box | None]] = {}
        self.scale_now: dict[str, float] = {}  # the layout scale each element has now
        self.frames: dict[str, Frame] = {}  # where each axes' coordinates land (lower/coords.py)
        self.part_boxes: dict[tuple[str, Part], Box] = {}  # where parts were laid out (ref_box)
        self.group_of = groups_of(section)  # element id -> the group that holds it (lower/groups.py)
        self.step_number = 0  # the step being lowered, from 1 (the writer sets it; values change by step)
        self.variables = self._name_variables()
        # Explicit areas and cells are taken before anything is placed automatically.
        for el in section.elements:
            if isinstance(el.placement, In):
                self.occupancy.take_box(layout.area_box(el.placement.first, el.placement.last).inset(0.05))
            elif el.placement is not None and hasattr(el.placement, "cell"):
                self.occupancy.take_box(layout.cell_box(el.placement.cell).inset(0.05))

    # -- names ---------------------------------------------------------------------------

    def _name_variables(self) -> dict[str, str]:
        reserved = reserved_names()
        used: set[str] = set()
        out: dict[str, str] = {}
        ids = [e.id for e in self.section.elements]
        for el_id in ids:
            name = el_id if el_id.isidentifier() else "el_" + "".join(
                ch if ch.isalnum() or ch == "_" else "_" for ch in el_id)
            while name in reserved or name in used or (name != el_id and name in ids):
                name += "_"
            used.add(name)
            out[el_id] = name
        return out

    def var(self, element_id: str) -> str:
        return self.variables[element_id]

    def element(self, element_id: str) -> Element | None:
        return self.section.element(element_id)

    # -- resolving elements ----------------------------------------------------------------

    def resolve(self, element_id: str, span: Span | None = None) -> Lowered:
        """Lower an element (once), resolving what it depends on first."""
        if element_id in self.lowered:
            return self.lowered[element_id]
        el = self.section.element(element_id)
        if el is None:
            raise error(f"no element '{element_id}' in section '{self.section.id}'",
                        span or self.section.span, code="unknown-element")
        if element_id in self._resolving:
            chain = " -> ".join(self._resolving[self._resolving.index(element_id):] + [element_id])
            raise error(f"elements are placed relative to each other in a circle: {chain}",
                        el.span, code="placement-cycle")
        rule = ELEMENTS.get(el.kind)
        if rule is None:
            raise error(f"the compiler cannot draw element kind '{el.kind}'", el.kind_span,
                        code="unknown-kind")
        for prepare in BEFORE_RESOLVE:
            el = prepare(self, el)
        lower = COORDINATE_ELEMENTS.get(el.kind, rule.lower) if el.drawn_on is not None else rule.lower
        self._resolving.append(element_id)
        try:
            low = lower(el, self)
        finally:
            self._resolving.pop()
        self.lowered[element_id] = low
        if low.box is not None:
            self.current[element_id] = low.box
            self._record_shift(element_id, low.box)
        self.scale_now[element_id] = low.scale
        for hook in AFTER_RESOLVE:
            hook(self, element_id)
        return low

    def resolving(self, element_id: str) -> bool:
        """Whether the element is being lowered now (what it depends on is being resolved)."""
        return element_id in self._resolving

    def box_of(self, element_id: str, span: Span | None = None) -> Box | None:
        return self.resolve(element_id, span).box

    def target_box(self, el: Element) -> Box | None:
        if isinstance(el.placement, Relative):
            return self.ref_box(el.placement.target)
        return None

    # -- references, parts included (`t[2, 3]`: lower/part_refs.py) -------------------------

    def ref_expr(self, ref: Ref) -> Var | ir.Call:
        """The code for what a reference names: the element's variable, or `part_of(…)`."""
        self.resolve(ref.name, ref.span)
        var = Var(self.var(ref.name))
        return var if ref.part is None else part_refs.part_call(var, ref.part)

    def ref_box(self, ref: Ref, *, now: bool = False) -> Box | None:
        """The box of an element or a part of it where it was laid out; `now`: where the steps
        so far have taken it."""
        low = self.resolve(ref.name, ref.span)
        current = self.current.get(ref.name) if now else None
        if ref.part is None:
            return current or low.box
        if low.box is None:
            return None
        box = self._part_box(ref, low)
        return part_refs.moved_with(box, low.box, current) if current is not None else box

    def _part_box(self, ref: Ref, low: Lowered) -> Box:
        part = ref.part
        assert part is not None and low.box is not None
        key = (ref.name, part)
        if key not in self.part_boxes:
            el = self.section.element(ref.name)
            assert el is not None
            if self.measurer is None:
                self.part_boxes[key] = part_refs.estimate_part_box(el, low.box, part)
            else:
                try:
                    cx, cy, w, h = self.measurer.box(part_refs.part_call(low.expr, part))
                except Exception as exc:  # a term TeX cannot pick out of its formula
                    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise error(f"cannot find this part of {el.kind} '{el.id}': {message}",
                                part.span or ref.span, code="build-failed") from None
                self.part_boxes[key] = Box(cx, cy, w, h)
        return self.part_boxes[key]

    # -- placing ---------------------------------------------------------------------------

    def place(self, el: Element, w: float, h: float, *, upscale: bool = False,
              max_size: tuple[float, float] = (layout.AT_MAX_WIDTH, layout.AT_MAX_HEIGHT)) -> Placed:
        """Resolve an element's placement for its natural size (layout.place), remembering
        when the layout had to shift it back inside the grid."""
        target = self.target_box(el)
        placed = layout.place(el.placement, w, h, occupancy=self.occupancy, target_box=target,
                              upscale=upscale, max_size=max_size)
        if placed.wanted is not None:
            self._shifts[el.id] = (placed, target)
        return placed

    def _record_shift(self, element_id: str, final: Box) -> None:
        """The shift of an element's final box (after `scale=`): where it is drawn, and where
        its placement wanted it."""
        placed, target = self._shifts.pop(element_id, (None, None))
        if placed is None or placed.wanted is None:
            return
        dx, dy = placed.wanted.cx - placed.box.cx, placed.wanted.cy - placed.box.cy
        wanted = Box(final.cx + dx, final.cy + dy, final.w, final.h)
        self.shifted[element_id] = Shifted(element_id, final, wanted, target)

    # -- measuring -------------------------------------------------------------------------

    @property
    def measure_enabled(self) -> bool:
        return self.measurer is not None

    def measure(self, expr: ir.Call, el: Element, estimate: tuple[float, float]) -> tuple[float, float]:
        """The width and height of the mobject the expression builds (estimate when
        measuring is off)."""
        if self.measurer is None:
            return estimate
        try:
            return self.measurer.size(expr)
        except DiagnosticError:
            raise
        except Exception as exc:  # a LaTeX error, a missing image, an unknown language...
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint, span = None, el.span
            if el.kind == "math" and el.texts:  # TeX typesets what was written, or refuses it
                hint, span = tex_error_hint(el.texts[0].value), el.texts[0].span
            raise error(f"cannot build {el.kind} '{el.id}': {message}", span, hint,
                        code="build-failed") from None

    # -- options ---------------------------------------------------------------------------

    def color(self, el: Element, key: str = "color", default: str | None = None) -> str | None:
        return color_value(el.option(key), default)

    def number(self, el: Element, key: str, default: float | None = None) -> float | None:
        v = el.option(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return default
        return float(v)

    def range(self, el: Element, key: str, default: tuple[float, float]) -> tuple[float, float]:
        v = el.option(key)
        if isinstance(v, Range) and v.high > v.low:
            return (float(v.low), float(v.high))
        return default

    def font_size(self, el: Element, default: float) -> float | int:
        fs = self.number(el, "font_size", default)
        return int(fs) if fs is not None and float(fs).is_integer() else fs  # type: ignore[return-value]

    def string(self, el: Element, key: str) -> str | None:
        v = el.option(key)
        if isinstance(v, str):
            return v
        if isinstance(v, Word):
            return v.name
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return ir.num(v)
        return None

    def extra_scale(self, el: Element) -> float:
        s = self.number(el, "scale", 1.0)
        return s if s and s > 0 else 1.0


def color_value(value: Any, default: str | None = None) -> str | None:
    """A colour option as '#rrggbb' (names from the colour table), or the default."""
    if isinstance(value, Color):
        return value.hex.lower()
    name = value.name if isinstance(value, Word) else value if isinstance(value, str) else None
    if name is not None:
        key = name.lower()
        if key in color_table.COLORS:
            return color_table.COLORS[key]
        if key.startswith("#") and len(key) == 7:
            return key
    return default
