"""Motion in a lesson's scene: values that change over a step, what follows them, movement
along a path, traces (compiler/lower/motion.py writes the calls; the generated module imports
these names through scene_support).

    x0 = live_value(1.0)                                   # a value: a tracker (and its readout)
    slope = live_value(2.0, label=text_block('slope =', ...), decimals=2).move_to(...)
    slope.follows(lambda: 2.0 * x0.value())                # an expression of values
    keep_at(p, lambda: ax.c2p(x0.value(), f.underlying_function(x0.value())))
    redraw(tl, lambda: tangent_line(ax, f, x0.value(), length=3.0, color='#ffff00'))
    self.step(4.0, change_value(x0, [3.0], rate_func=smooth))

Everything that follows a value is redrawn from the trackers every frame by an updater, so it
is where the values put it on every frame, and at every step's end (runtime/geometry.py brings
each step's animations to their end and applies the updaters before it measures). Animations
that last their whole step (`lecture_full`: a change, a move along a path, an eased turn) say
so to LectureScene.step; those whose way matters and not only their end (`lecture_motion`: a
trace draws it) are sampled on the way by geometry.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import numpy as np
from manim import (
    RIGHT,
    Animation,
    Arc,
    DecimalNumber,
    Line,
    Mobject,
    MoveAlongPath,
    Rotate,
    TracedPath,
    ValueTracker,
    VGroup,
    VMobject,
    smooth,
)

RateFunction = Callable[[float], float]
READOUT_GAP = 0.15  # between a readout's label, number and unit, at font size 30
PLOT_PIECE_SAMPLES = 200  # points a piece of a plot is sampled at (as lower/elements.py samples plots)


# ---------------------------------------------------------------- values


class LiveValue(VGroup):
    """A value of the lesson: a tracker that `change` animates, or an expression of other values
    (`follows`); shown, a live readout of it — an optional label, the number, an optional unit —
    whose number follows the value and grows to the right from where it was placed."""

    def __init__(self, start: float, *, label: VMobject | None = None, decimals: int = 2,
                 unit: VMobject | None = None, color: str = "#ffffff", font_size: float = 30) -> None:
        """`label` and `unit`: text built by the scene's `text_block`, written before and after."""
        super().__init__()
        self.tracker = ValueTracker(start)
        self.rule: Callable[[], float] | None = None
        self.decimals = decimals
        self.number = DecimalNumber(start, num_decimal_places=decimals, color=color, font_size=font_size)
        self.label, self.unit = label, unit
        self.add(*(m for m in (self.label, self.number, self.unit) if m is not None))
        self.arrange(RIGHT, buff=READOUT_GAP * font_size / 30)
        self._unit_gap = (self.unit.get_left()[0] - self.number.get_right()[0], self.unit.height) \
            if self.unit is not None else None
        self.add_updater(lambda m: m.refresh())

    def value(self) -> float:
        """The value now: its tracker's, or its expression's of the others."""
        return float(self.rule()) if self.rule is not None else float(self.tracker.get_value())

    def follows(self, rule: Callable[[], float]) -> LiveValue:
        """Make this value an expression of others (computed when asked, never stored)."""
        self.rule = rule
        return self

    def refresh(self) -> None:
        """Show the value now: a new number (its left edge stays), the unit after it."""
        value = self.value()
        if f"{value:.{self.decimals}f}" == f"{self.number.number:.{self.decimals}f}":
            return  # (the same digits: nothing to typeset)
        self.number.set_value(value)
        if self.unit is not None and self._unit_gap is not None:
            gap, height = self._unit_gap
            scaled = gap * self.unit.height / height if height > 0 else gap
            self.unit.shift(RIGHT * (self.number.get_right()[0] + scaled - self.unit.get_left()[0]))


def live_value(start: float, **readout: Any) -> LiveValue:
    """A value starting at `start` (see LiveValue for the readout's options)."""
    return LiveValue(start, **readout)


class ValueChange(Animation):
    """Values' trackers sliding to each of `values` in turn, in equal shares of the step, each
    leg eased by `rate_func`; it lasts the whole step."""

    lecture_full = True
    lecture_motion = True

    def __init__(self, value: LiveValue, values: Sequence[float], rate_func: RateFunction = smooth) -> None:
        self.value = value
        self.targets = [float(v) for v in values]
        self.ease = rate_func
        self.legs: list[tuple[float, float]] = []
        super().__init__(value.tracker, rate_func=lambda t: t)

    def begin(self) -> None:
        start = self.value.tracker.get_value()
        self.legs = []
        for target in self.targets:  # each leg starts where the one before ended
            self.legs.append((start, target))
            start = start + (target - start) * self.ease(1.0)
        super().begin()

    def interpolate_mobject(self, alpha: float) -> None:
        if not self.legs:
            return
        n = len(self.legs)
        leg = min(int(alpha * n), n - 1)
        low, high = self.legs[leg]
        self.value.tracker.set_value(low + (high - low) * self.ease(alpha * n - leg))


def change_value(value: LiveValue, values: Sequence[float], *,
                 rate_func: RateFunction = smooth) -> ValueChange:
    """`change x0 to 1, 3`: x0 slides to 1, then to 3, over the step."""
    return ValueChange(value, values, rate_func)


# ---------------------------------------------------------------- following


def _caught_up(target: Mobject) -> Mobject:
    """The mobject another one follows, its own updaters applied first (whatever order the scene
    updates them in), except a trace's: it adds a point each time."""
    if not isinstance(target, TracedPath):
        target.update(0)
    return target


def keep_at(mob: Mobject, where: Callable[[], Any], side: Any = None, buff: float = 0.15,
            on: Mobject | None = None) -> Mobject:
    """Keep a mobject at a moving point (`dot p at (x0, f(x0)) on ax`), or beside it (`side`);
    `on`: the axes the point is on."""
    def update(m: Mobject) -> None:
        point = np.asarray(where(), dtype=float)
        if not np.all(np.isfinite(point)):
            return  # (no place: a value outside where its expression has one)
        if side is None:
            m.move_to(point)
        else:
            m.next_to(point, side, buff=buff)

    mob.add_updater(update)
    if side is None:
        _PLACES[mob] = _Place(where, on)
    return mob


@dataclass(frozen=True)
class _Place:
    """Where a mobject kept at a moving point is meant to be (keep_at), and the axes that say where."""

    where: Callable[[], Any]
    on: Mobject | None


_PLACES: WeakKeyDictionary[Mobject, _Place] = WeakKeyDictionary()


def keep_beside(mob: Mobject, target: Mobject) -> Mobject:
    """Keep a mobject where it was laid out beside another one, as that one moves."""
    offset = mob.get_center() - target.get_center()
    mob.add_updater(lambda m: m.move_to(_caught_up(target).get_center() + offset))
    return mob


def redraw(mob: Mobject, build: Callable[[], Mobject], *after: Mobject) -> Mobject:
    """Rebuild a mobject every frame from the values (a line to the curve, a tangent, an area up
    to a value), keeping its style as the steps have made it; `after`: the mobjects it is built
    from that are redrawn too (a plot that reads values), brought up to date first."""
    def update(m: Mobject) -> None:
        for source in after:
            _caught_up(source)
        new = build()
        if isinstance(new, VMobject) and isinstance(m, VMobject):
            new.match_style(m)
        m.become(new)

    mob.add_updater(update)
    return mob


def resize_with(mob: Mobject, value: Callable[[], float], start: float, how: str = "scale") -> Mobject:
    """Keep a size or a style in proportion to a value that started at `start` (a bound option:
    `radius=r`): `scale` (about its centre), `stretch_x`, `stretch_y`, `opacity`, `stroke`."""
    state = {"factor": 1.0}

    def update(m: Mobject) -> None:
        wanted = float(value())
        if not np.isfinite(wanted):
            return
        if how == "opacity":
            m.set_fill(opacity=min(max(wanted, 0.0), 1.0))
        elif how == "stroke":
            m.set_stroke(width=max(wanted, 0.0))
        else:
            factor = max(abs(wanted / start), 1e-3) if start else 1.0  # never collapsed to nothing
            change = factor / state["factor"]
            if how == "scale":  # an arc (a circle, a dot) about its centre, not its box's
                m.scale(change, about_point=m.get_arc_center() if isinstance(m, Arc) else m.get_center())
            else:
                m.stretch(change, 0 if how == "stretch_x" else 1)
            state["factor"] = factor

    mob.add_updater(update)
    return mob


# ---------------------------------------------------------------- drawn from values


def _underlying(graph: Any) -> Callable[[float], float]:
    function: Callable[[float], float] = graph.underlying_function
    return function


def tangent_line(axes: Any, graph: Any, x: float, *, length: float = 3.0, **style: Any) -> Line:
    """The tangent to a plot at x, `length` long, centred on the point of the curve."""
    f = _underlying(graph)
    span = float(axes.x_range[1] - axes.x_range[0])
    h = span * 1e-5
    with np.errstate(all="ignore"):
        here = axes.c2p(x, f(x))
        slope = axes.c2p(x + h, f(x + h)) - axes.c2p(x - h, f(x - h))
    norm = float(np.linalg.norm(slope))
    if not (np.all(np.isfinite(here)) and np.isfinite(norm)) or norm == 0:
        here = here if np.all(np.isfinite(here)) else axes.c2p(axes.x_range[0], axes.y_range[0])
        return Line(here, here, **style)  # no tangent there: nothing drawn
    half = slope / norm * length / 2
    return Line(here - half, here + half, **style)


def plot_area(axes: Any, graph: Any, low: float, high: float, **style: Any) -> VMobject:
    """The area under a plot between two x that may move (`x=0..x0`); nothing when they meet."""
    if not high > low:
        return VMobject(**{k: v for k, v in style.items() if k in ("color", "stroke_width")})
    area: VMobject = axes.get_area(graph, x_range=[low, high], **style)
    return area


def riemann_of(axes: Any, graph: Any, low: float, high: float, n: int, **style: Any) -> VGroup:
    """`n` Riemann rectangles under a plot between two x that may move."""
    if not high > low:
        return VGroup()
    dx = (high - low) / n
    rectangles: VGroup = axes.get_riemann_rectangles(graph, x_range=[low, high - dx / 2], dx=dx, **style)
    return rectangles


def plot_piece(axes: Any, graph: Any, low: float, high: float) -> VMobject:
    """The piece of a plot between two x (a path to move along: `move p along f x=0..2`)."""
    step = (high - low) / PLOT_PIECE_SAMPLES
    piece: VMobject = axes.plot(_underlying(graph), x_range=[low, high, step])
    return piece


# ---------------------------------------------------------------- traces


class _StartTrace(Animation):
    """A trace appearing: it starts drawing at once, from where its element is, under it."""

    def __init__(self, trace: TracedPath) -> None:
        super().__init__(trace, introducer=True, suspend_mobject_updating=False)

    def _setup_scene(self, scene: Any) -> None:
        super()._setup_scene(scene)
        followed = getattr(self.mobject, "followed", None)
        if followed in scene.mobjects and self.mobject in scene.mobjects:  # drawn just before it
            scene.mobjects.remove(self.mobject)
            scene.mobjects.insert(scene.mobjects.index(followed), self.mobject)

    def interpolate_mobject(self, alpha: float) -> None:
        pass  # (the trace draws itself, by its updater)

    def update_mobjects(self, dt: float) -> None:
        pass  # (the scene updates the trace, once a frame: updated here too, it added each point twice)


class _Trace(TracedPath):
    """A TracedPath that waits while what it follows is being drawn in or animated with its updating
    held (a half-drawn dot's centre, or a point on axes being drawn, wanders): the path then joins
    where it was to where it is."""

    def __init__(self, target: Mobject, **style: Any) -> None:
        self.followed = target
        super().__init__(self.point, **style)

    def point(self) -> Any:
        place = _PLACES.get(self.followed)
        if place is not None:
            return np.asarray(place.where(), dtype=float)
        return _caught_up(self.followed).get_center()

    def held(self) -> bool:
        """Whether what it follows is being drawn in or animated (its updating held: the step's
        animations hold all they animate), unless a motion carries it (`move … along`, a turn)."""
        place = _PLACES.get(self.followed)
        movers = [self.followed] if place is None or place.on is None else [self.followed, place.on]
        return any(getattr(m, "updating_suspended", False) and m not in _CARRIED for m in movers)

    def update_path(self, mob: Mobject, dt: float) -> None:
        if self.held() or not np.all(np.isfinite(self.point())):
            return
        super().update_path(mob, dt)


def trace_of(target: Mobject, *, color: str = "#ffffff", stroke_width: float = 3) -> TracedPath:
    """The path a mobject travels, drawn behind it once the trace is in the scene: where it is
    meant to be when it is kept at a moving point, else its centre."""
    return _Trace(target, stroke_color=color, stroke_width=stroke_width)


def start_trace(trace: TracedPath) -> Animation:
    """`create tr`: the trace starts drawing."""
    return _StartTrace(trace)


# ---------------------------------------------------------------- moving over the whole step


# What a motion (move along, turn) is carrying now: a trace follows it, though the step holds its updating.
_CARRIED: WeakSet[object] = WeakSet()


class _Carrying(Animation):
    """A motion over the whole step that traces follow (geometry.py samples its way too)."""

    lecture_full = True
    lecture_motion = True

    def begin(self) -> None:
        _CARRIED.update(self.mobject.get_family())
        super().begin()

    def clean_up_from_scene(self, scene: Any) -> None:
        super().clean_up_from_scene(scene)
        for mob in self.mobject.get_family():
            _CARRIED.discard(mob)


class _Along(_Carrying, MoveAlongPath):
    pass


class _Turn(_Carrying, Rotate):
    pass


def move_along(mob: Mobject, path: VMobject, *, rate_func: RateFunction = smooth) -> Animation:
    """`move ball along flight`: from the path's start to its end, over the whole step."""
    return _Along(mob, path, rate_func=rate_func)


def turn(mob: Mobject, angle: float, *, about_point: Any = None,
         rate_func: RateFunction = smooth) -> Animation:
    """`rotate arm 360 about O ease=linear`: a turn over the whole step, eased as asked."""
    return _Turn(mob, angle=angle, about_point=about_point, rate_func=rate_func)


__all__ = ["LiveValue", "ValueChange", "change_value", "keep_at", "keep_beside", "live_value", "move_along",
           "plot_area", "plot_piece", "redraw", "resize_with", "riemann_of", "start_trace", "tangent_line",
           "trace_of", "turn"]
