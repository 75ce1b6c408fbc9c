"""Elements that follow the section's values, or a moving element (issue 16):

    dot p at (x0, f(x0)) on ax          keep_at(p, lambda: ax.c2p(x0.value(), f.underlying_function(…)))
    line d from (x0, 0) to (x0, f(x0)) on ax
                                        redraw(d, lambda: Line(ax.c2p(x0.value(), 0), ax.c2p(…), …))
    area a on f x=0..x0                 a = plot_area(ax, f, 0, 1.0, …); redraw(a, lambda: plot_area(…))
    circle c at C3 radius=r             resize_with(c, lambda: r.value(), 0.5, 'scale')
    plot g "a x^2" on ax                redraw(g, lambda: ax.plot(lambda x: a.value() * x ** 2, …))
    label lp "P" above p                keep_beside(lp, p)        (p moves: it follows values, or a
                                                                   step moves it along a path)
    line link from p to s               redraw(link, lambda: Line(p, s, …, buff=0.1), p, s)   (p or s moves)

Each element is lowered by its own kind's rule as it is when the values start (`at_start`, run
before it is lowered: its moving points, value-bound ranges and options become their numbers
then), so its layout is the layout of its first frame; then `follow` (run after) adds the
updaters that redraw it from the trackers every frame (runtime/motion_support.py), and records
how its box moves with the values, so that the layout's idea of where it is (`ctx.current`)
follows it at every step's end (`settle`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeGuard
from weakref import WeakKeyDictionary

from .. import layout
from ..expression import Expression
from ..layout import Box, edge_point
from ..model import (
    Action,
    AtCoordinate,
    Element,
    End,
    Endpoints,
    MovingPoint,
    Option,
    Point,
    Range,
    Ref,
    Relative,
    Scalar,
    ValueRange,
)
from ..values import Use, bound_option
from . import coords, ir, live
from .ir import Exact, Float, Name, Raw, Var, call
from .registry import AFTER_RESOLVE, BEFORE_RESOLVE, Lowered, SectionContext, error

Values = Mapping[str, float]
BoxAt = Callable[[Values], Box | None]
Pt = tuple[float, float]

# Kinds that follow values by their own lowering (lower/motion.py).
OWN_LOWERING = frozenset({"value", "tangent", "trace"})
_DIRECTIONS = {"above": "UP", "below": "DOWN", "left of": "LEFT", "right of": "RIGHT"}
# A numeric option bound to values (`radius=r`): how the drawn element follows it, by kind
# (runtime/motion_support.resize_with); `None`: any kind.
RESIZES: dict[str, tuple[frozenset[str] | None, str]] = {
    "scale": (None, "scale"),
    "font_size": (frozenset({"text", "label", "math", "title", "bullets", "code", "table"}), "scale"),
    "radius": (frozenset({"circle", "dot", "arc"}), "scale"),
    "side": (frozenset({"square"}), "scale"),
    "width": (frozenset({"rectangle", "ellipse"}), "stretch_x"),
    "height": (frozenset({"rectangle", "ellipse"}), "stretch_y"),
    "opacity": (None, "opacity"),
    "stroke": (None, "stroke"),
}
FOLLOWING_HINT = ("give it a number; values may set a position, a range's bound, or the scale, radius, side, "
                  "width, height, font_size, opacity or stroke of a shape")
# Why an option written with values cannot follow them, where a general hint would not say.
FIXED_HINTS = {key: f"the ticks are laid out once, with the axes: give it a number ({key}=0.5)"
               for key in ("step", "x_step", "y_step")} | {
    "decimals": "a readout shows a fixed number of decimals: give it a number (decimals=2)"}


# ---------------------------------------------------------------- state


@dataclass
class Motion:
    """What follows what in one section: each follower's box as a function of the values, and
    the elements that move (an element placed beside one of them follows it)."""

    boxes: dict[str, BoxAt] = field(default_factory=dict)
    moving: set[str] = field(default_factory=set)


_STATE: WeakKeyDictionary[SectionContext, Motion] = WeakKeyDictionary()


def motion_of(ctx: SectionContext) -> Motion:
    state = _STATE.get(ctx)
    if state is None:
        state = _STATE[ctx] = Motion(moving=set(moved_along(ctx)))
    return state


def moved_along(ctx: SectionContext) -> tuple[str, ...]:
    """The elements a step moves along a path (`move p along f`)."""
    return tuple(ref.name for step in ctx.section.steps for act in step.actions
                 if act.verb == "move" and act.along is not None for ref in act.targets)


def settle(ctx: SectionContext, values: Values) -> None:
    """Where every follower is when the values are `values` (a step's end), in the layout."""
    for element_id, box_at in motion_of(ctx).boxes.items():
        box = box_at(values)
        if box is not None:
            ctx.current[element_id] = box


def step_end(ctx: SectionContext) -> dict[str, float]:
    """Every value at the end of the step being lowered."""
    g = live.graph(ctx)
    if not 1 <= ctx.step_number <= len(g.steps):
        return g.start
    return g.values_at(ctx.step_number, 1.0)


# ---------------------------------------------------------------- expressions of values


def use_of(ctx: SectionContext, element_id: str, where: str, key: str, bound: str = "", *,
           step: int | None = None) -> Use:
    """Where an element writes values (`step`: where that step's action on it does)."""
    uses = live.graph(ctx).uses if step is not None else live.graph(ctx).uses_of(element_id)
    found = next((u for u in uses if u.where == where and u.key == key and u.bound == bound and u.step == step
                  and element_id in u.element.split(", ")), None)
    if found is None:
        raise error(f"'{element_id}' has no {key} written with values here", ctx.section.span,
                    code="bad-value")
    return found


def parsed(use: Use) -> Expression:
    """A use's expression (the checks reported one that does not parse; lowering stops there)."""
    if use.expression is None:
        message = use.error.message if use.error is not None else "cannot read this expression"
        raise error(message, use.span, use.error.hint if use.error is not None else None, code="bad-value")
    return use.expression


def value_at(ctx: SectionContext, use: Use, values: Values) -> float:
    return live.finite(live.graph(ctx).evaluate(parsed(use), values))


def number_code(value: float) -> str:
    return ir.exact_num(value) if not isinstance(value, int) else repr(value)


def _coordinate(ctx: SectionContext, element_id: str, where: str, key: str, given: float | object,
                values: Values | None) -> tuple[str, float]:
    """One coordinate of a moving point: its code, and its number at `values` (None: start)."""
    if isinstance(given, int | float):
        return number_code(given), float(given)
    use = use_of(ctx, element_id, where, key, step=ctx.step_number if where == "move to" else None)
    numbers = live.graph(ctx).start if values is None else values
    return live.expression_code(ctx, parsed(use)), value_at(ctx, use, numbers)


def point_code(ctx: SectionContext, element_id: str, where: str, point: MovingPoint, system: str) -> str:
    x, _ = _coordinate(ctx, element_id, where, "x", point.x, None)
    y, _ = _coordinate(ctx, element_id, where, "y", point.y, None)
    return f"{ctx.var(system)}.c2p({x}, {y})"


def point_at(ctx: SectionContext, element_id: str, where: str, point: MovingPoint | Point,
             values: Values | None = None) -> tuple[float, float]:
    """A moving point's numbers at `values` (None: the start)."""
    _, x = _coordinate(ctx, element_id, where, "x", point.x, values)
    _, y = _coordinate(ctx, element_id, where, "y", point.y, values)
    return x, y


def uses_values(ctx: SectionContext, element_id: str) -> bool:
    return any(u.reads for u in live.graph(ctx).uses_of(element_id) if u.step is None)


# ---------------------------------------------------------------- before lowering: the start


def at_start(ctx: SectionContext, el: Element) -> Element:
    """The element as it is when the values start: its moving points, value-bound ranges and
    options as numbers (a tangent reads its own `x=`)."""
    if el.kind in OWN_LOWERING or not live.graph(ctx).uses_of(el.id):
        return el
    placement = el.placement
    if isinstance(placement, AtCoordinate) and isinstance(placement.at, MovingPoint):
        placement = replace(placement, at=_fixed(ctx, el.id, "at", placement.at))
    args = tuple(_fixed_ends(ctx, el.id, a) if isinstance(a, Endpoints) else a for a in el.args)
    options = tuple(_fixed_option(ctx, el, opt) for opt in el.options)
    return replace(el, args=args, placement=placement, options=options)


def _fixed(ctx: SectionContext, element_id: str, where: str, point: MovingPoint) -> Point:
    x, y = point_at(ctx, element_id, where, point)
    return Point(x, y, point.span)


def _fixed_ends(ctx: SectionContext, element_id: str, ends: Endpoints) -> Endpoints:
    def fixed(end: End, where: str) -> End:
        return _fixed(ctx, element_id, where, end) if isinstance(end, MovingPoint) else end

    return replace(ends, start=fixed(ends.start, "from"), end=fixed(ends.end, "to"))


def _fixed_option(ctx: SectionContext, el: Element, opt: Option) -> Option:
    if not bound_option(el.kind, opt):
        return opt
    start = live.graph(ctx).start
    if isinstance(opt.value, ValueRange):
        low = value_at(ctx, use_of(ctx, el.id, "option", opt.key, "low"), start)
        high = value_at(ctx, use_of(ctx, el.id, "option", opt.key, "high"), start)
        return replace(opt, value=Range(low, high))
    return replace(opt, value=value_at(ctx, use_of(ctx, el.id, "option", opt.key), start))


BEFORE_RESOLVE.append(at_start)


# ---------------------------------------------------------------- after lowering: following


def follow(ctx: SectionContext, element_id: str) -> None:
    """Make a lowered element follow the values it is written with, the plots it is drawn from
    that read values, or the moving element it is placed beside."""
    el = ctx.element(element_id)
    if el is None or el.kind in OWN_LOWERING:
        return
    low = ctx.lowered[element_id]
    box_at = _follow_values(ctx, el, low) if uses_values(ctx, element_id) or _joins_moving(ctx, el) else None
    if box_at is None and _moving_plots(ctx, el, low):
        box_at = _redraw_with_plots(ctx, el, low)
    elif box_at is None and isinstance(el.placement, Relative) and el.placement.relation != "around" \
            and el.placement.target.name in motion_of(ctx).moving:
        box_at = _keep_beside(ctx, el, low, el.placement.target)
    if box_at is not None:
        state = motion_of(ctx)
        state.moving.add(element_id)
        state.boxes[element_id] = box_at


def _follow_values(ctx: SectionContext, el: Element, low: Lowered) -> BoxAt | None:
    """Points, ends, ranges and options written with values; None when none of them moves here."""
    box_at: BoxAt = lambda values: ctx.lowered[el.id].box  # noqa: E731
    followed = False
    if isinstance(el.placement, AtCoordinate):
        kept = _keep_at(ctx, el, low, el.placement)
        box_at, followed = (kept, True) if kept is not None else (box_at, False)
    ends = el.endpoints
    if ends is not None and (any(isinstance(e, MovingPoint) for e in (ends.start, ends.end))
                             or _joins_moving(ctx, el)):
        box_at, followed = _redraw_ends(ctx, el, low, ends), True
    turning = [opt for opt in el.options
               if el.kind == "arc" and opt.key in ARC_ANGLES and bound_option(el.kind, opt)]
    if turning:
        _redraw_arc(ctx, el, low)
        followed = True
    for opt in el.options:
        if bound_option(el.kind, opt) and opt not in turning:
            box_at, followed = _follow_option(ctx, el, low, opt, box_at), True
    if not followed:
        return None
    low.deps = _with_deps(low.deps, ctx, el.id)
    return box_at


def _with_deps(deps: tuple[str, ...], ctx: SectionContext, element_id: str) -> tuple[str, ...]:
    """The element's dependencies and the values and plots its expressions read (defined first)."""
    more = [d for u in live.graph(ctx).uses_of(element_id) if u.expression is not None and u.step is None
            for d in live.expression_deps(u.expression)]
    return tuple(dict.fromkeys([*deps, *(d for d in more if d in ctx.variables and d != element_id)]))


def _lambda(code: str) -> Raw:
    return Raw(f"lambda: {code}")


PointAt = Callable[[Values | None], Pt]  # a point's coordinates at values (None: their start)


def _moving_place(ctx: SectionContext, el: Element, place: AtCoordinate) -> tuple[str, str, PointAt] | None:
    """Where an element placed at a coordinate is, when that moves: the code of the point, the
    axes it is on, and its coordinates at any values. A moving point (`at (x0, f(x0)) on ax`),
    or an x on a plot that reads values (`at 2 on g`, `plot g "a x^2"`)."""
    if isinstance(place.at, MovingPoint):
        moving = place.at
        return (point_code(ctx, el.id, "at", moving, place.on.name), place.on.name,
                lambda values: point_at(ctx, el.id, "at", moving, values))
    plot = ctx.element(place.on.name)
    if not isinstance(place.at, Scalar) or plot is None or plot.kind != "plot" or plot.target is None \
            or place.on.name not in _reading_plots(ctx):
        return None
    x, g = place.at.value, live.graph(ctx)
    code = f"{ctx.var(plot.target.name)}.i2gp({number_code(x)}, {ctx.var(plot.id)})"
    return code, plot.target.name, lambda values: (x, g.plot_function(plot.id, values or g.start)(x))


def _keep_at(ctx: SectionContext, el: Element, low: Lowered, place: AtCoordinate) -> BoxAt | None:
    """`dot p at (x0, f(x0)) on ax`: kept at (or beside) the point as it moves."""
    moving = _moving_place(ctx, el, place)
    if moving is None:
        return None
    code, axes, point = moving
    where = coords.side(el.kind, place)
    kwargs: dict = {}
    if where is not None:
        kwargs = {"side": Name(_DIRECTIONS[where]), "buff": Float(coords.LABEL_GAP)}
    kept = call("keep_at", Var(ctx.var(el.id)), _lambda(code), **kwargs, on=Var(ctx.var(axes)))
    low.after = (*low.after, kept)

    def box_at(values: Values) -> Box | None:
        frame = coords.frame(ctx, axes)
        (x0, y0), (x1, y1) = frame.at(*point(None)), frame.at(*point(values))
        box = ctx.lowered[el.id].box
        return None if box is None else Box(box.cx + x1 - x0, box.cy + y1 - y0, box.w, box.h)

    return box_at


def _unchained(expr: ir.Call, methods: frozenset[str] | None = None) -> tuple[ir.Call, list[ir.Call]]:
    """A call and the method calls chained after it (`.scale(…)`, `.shift(…)`); `methods`: stop at
    the first call of one of these (a method call itself: `ax.get_area(…)`)."""
    chain: list[ir.Call] = []
    node = expr
    while node.method is not None and isinstance(node.func, ir.Call) \
            and (methods is None or node.method not in methods):
        chain.append(node)
        node = node.func
    return node, chain[::-1]


def _rechained(base: ir.Call, chain: list[ir.Call]) -> ir.Call:
    out = base
    for link in chain:
        out = ir.Call(out, link.args, link.kwargs, link.method)
    return out


def _joins_moving(ctx: SectionContext, el: Element) -> bool:
    """Whether a line or arrow is drawn from or to an element that moves (`line link from p to s`,
    p following values): it is redrawn between them every frame."""
    ends = el.endpoints
    moving = motion_of(ctx).moving
    return ends is not None and any(_element_end(e, ctx) and e.name in moving for e in (ends.start, ends.end))


def _element_end(end: End, ctx: SectionContext) -> TypeGuard[Ref]:
    """An end that is a whole element (not a cell, not a part of an element)."""
    return isinstance(end, Ref) and end.part is None and ctx.element(end.name) is not None


EDGE_GAP = 0.1  # between a line and an element it is drawn from or to (layout.edge_point's gap)


def _redraw_ends(ctx: SectionContext, el: Element, low: Lowered, ends: Endpoints) -> BoxAt:
    """`line d from (x0, 0) to (x0, f(x0)) on ax`, `line link from p to s`: redrawn between its
    ends every frame — its moving points where the values put them, an element's edge where the
    element is (Manim's Line from a mobject: the edge facing the other end, EDGE_GAP short of it)."""
    on = el.target.name if el.target is not None else ""
    base, chain = _unchained(low.expr)
    # the elements at its ends, when one of them moves: drawn from their mobjects, caught up first
    joins = _joins_moving(ctx, el)
    joined = [e.name for e in (ends.start, ends.end) if joins and _element_end(e, ctx)]
    args = list(base.args)
    for i, (end, where) in enumerate(((ends.start, "from"), (ends.end, "to"))):
        if isinstance(end, MovingPoint):
            args[i] = Raw(point_code(ctx, el.id, where, end, on))
        elif isinstance(end, Ref) and end.name in joined:
            args[i] = Var(ctx.var(end.name))
    kwargs = base.kwargs
    if len(joined) == 2:  # (with a point at one end, no gap: the line reaches the point, as laid out)
        kwargs = (*((k, v) for k, v in kwargs if k != "buff"), ("buff", Float(EDGE_GAP)))
    redrawn = _rechained(ir.Call(base.func, tuple(args), kwargs, base.method), chain)
    low.after = (*low.after, call("redraw", Var(ctx.var(el.id)), _lambda(ir.render(redrawn)),
                                  *(Var(ctx.var(name)) for name in joined)))
    low.deps = tuple(dict.fromkeys([*low.deps, *joined]))

    def center(end: End, where: str, values: Values) -> Pt:
        if isinstance(end, MovingPoint | Point):
            return coords.frame(ctx, on).at(*point_at(ctx, el.id, where, end, values))
        if isinstance(end, Ref) and ctx.element(end.name) is None and layout.is_cell_name(end.name):
            return layout.cell_center(end.name)
        box = ctx.ref_box(end, now=True) if isinstance(end, Ref) and ctx.element(end.name) else None
        return box.center if box is not None else (0.0, 0.0)

    def box_at(values: Values) -> Box | None:  # as lower/elements.py draws a line between elements
        a, b = center(ends.start, "from", values), center(ends.end, "to", values)
        if _element_end(ends.start, ctx) and (box := ctx.ref_box(ends.start, now=True)) is not None:
            a = edge_point(box, b)
        if _element_end(ends.end, ctx) and (box := ctx.ref_box(ends.end, now=True)) is not None:
            b = edge_point(box, a)
        return Box.from_edges(min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1]))

    return box_at


def _follow_option(ctx: SectionContext, el: Element, low: Lowered, opt: Option, box_at: BoxAt) -> BoxAt:
    if isinstance(opt.value, ValueRange):
        return _redraw_range(ctx, el, low, opt, box_at)
    kinds, how = RESIZES.get(opt.key, (frozenset(), ""))
    if not how or (kinds is not None and el.kind not in kinds):
        raise error(f"the {opt.key} of {el.kind} '{el.id}' cannot follow a value", opt.span,
                    FIXED_HINTS.get(opt.key, FOLLOWING_HINT), code="bad-value")
    if how in ("stretch_x", "stretch_y") and el.option("width" if how == "stretch_y" else "height") is None:
        how = "scale"  # one side given: the other keeps its proportion
    use = use_of(ctx, el.id, "option", opt.key)
    start = value_at(ctx, use, live.graph(ctx).start)
    code = live.expression_code(ctx, parsed(use))
    low.after = (*low.after, call("resize_with", Var(ctx.var(el.id)), _lambda(code), Exact(start), how))

    def resized(values: Values) -> Box | None:
        box = box_at(values)
        if box is None or how in ("opacity", "stroke") or not start:
            return box
        factor = max(abs(value_at(ctx, use, values) / start), 1e-3)
        w = box.w * factor if how != "stretch_y" else box.w
        h = box.h * factor if how != "stretch_x" else box.h
        return Box(box.cx, box.cy, w, h)

    return resized


ARC_ANGLES = ("start", "end")


def _angle_code(ctx: SectionContext, el: Element, key: str, default: float) -> str:
    """An arc's `start=` or `end=` in degrees, as code: its number, or its expression of values."""
    given = next((opt for opt in el.options if opt.key == key), None)
    if given is None or not bound_option(el.kind, given):
        return f"({number_code(ctx.number(el, key, default) or 0.0)})"
    return f"({live.expression_code(ctx, parsed(use_of(ctx, el.id, 'option', key)))})"


def _redraw_arc(ctx: SectionContext, el: Element, low: Lowered) -> None:
    """`arc a … start=0 end=t`: the arc turns as the values change, about the centre and at the
    radius it was laid out with (its box stays the one of its start)."""
    base, chain = _unchained(low.expr)
    start, end = _angle_code(ctx, el, "start", 0.0), _angle_code(ctx, el, "end", 90.0)
    angles = {"start_angle": Raw(f"{start} * DEGREES"), "angle": Raw(f"({end} - {start}) * DEGREES")}
    kwargs = tuple((k, angles.get(k, v)) for k, v in base.kwargs)
    redrawn = _rechained(ir.Call(base.func, base.args, kwargs, base.method), chain)
    low.after = (*low.after, call("redraw", Var(ctx.var(el.id)), _lambda(ir.render(redrawn))))


_RANGE_CALLS = {"get_area": "plot_area", "get_riemann_rectangles": "riemann_of"}


def _redraw_range(ctx: SectionContext, el: Element, low: Lowered, opt: Option, box_at: BoxAt) -> BoxAt:
    """`area a on f x=0..x0`: an area or rectangles between bounds that move, redrawn each frame."""
    base, chain = _unchained(low.expr, frozenset(_RANGE_CALLS))
    helper = _RANGE_CALLS.get(base.method or "")
    if helper is None or opt.key != "x":
        raise error(f"the {opt.key} range of {el.kind} '{el.id}' cannot follow a value", opt.span,
                    "a range bound may be a value on an area's or Riemann rectangles' x=", code="bad-value")
    start = live.graph(ctx).start
    bounds = [use_of(ctx, el.id, "option", "x", bound) for bound in ("low", "high")]
    numbers = [Exact(value_at(ctx, use, start)) for use in bounds]
    codes = [Raw(live.expression_code(ctx, parsed(use))) for use in bounds]
    style = {k: v for k, v in base.kwargs if k not in ("x_range", "dx")}
    count = (max(int(ctx.number(el, "n", 4) or 4), 1),) if helper == "riemann_of" else ()
    head = (base.func, *base.args[:1])
    low.expr = _rechained(call(helper, *head, *numbers, *count, **style), chain)
    redrawn = call(helper, *head, *codes, *count, **style)
    low.after = (*low.after, call("redraw", Var(ctx.var(el.id)), _lambda(ir.render(redrawn))))
    return box_at


# ---------------------------------------------------------------- plots that read values


def _reading_plots(ctx: SectionContext) -> set[str]:
    return {p for p, plot in live.graph(ctx).plots.items() if plot.reads}


def _moving_plots(ctx: SectionContext, el: Element, low: Lowered) -> list[str]:
    """The plots that read values which this element is (a plot) or is drawn from."""
    reading = _reading_plots(ctx)
    own = [el.id] if el.id in reading else []
    return own + [d for d in low.deps if d in reading]


def _redraw_with_plots(ctx: SectionContext, el: Element, low: Lowered) -> BoxAt:
    """A plot that reads values (`plot g "a x^2"`), or what is drawn from one (an area under it, a
    dot on it): rebuilt every frame from its own code, after the plots it is drawn from."""
    plots = [Var(ctx.var(p)) for p in _moving_plots(ctx, el, low) if p != el.id]
    low.after = (*low.after, call("redraw", Var(ctx.var(el.id)), _lambda(ir.render(low.expr)), *plots))
    if el.kind == "plot":
        low.deps = _with_deps(low.deps, ctx, el.id) + tuple(
            sorted(r for r in live.graph(ctx).plots[el.id].reads if r in ctx.variables))
    return lambda values: ctx.lowered[el.id].box


# ---------------------------------------------------------------- beside a moving element


def _keep_beside(ctx: SectionContext, el: Element, low: Lowered, target: Ref) -> BoxAt:
    """`label lp "P" above p` where p moves: it keeps where it was laid out beside p."""
    low.after = (*low.after, call("keep_beside", Var(ctx.var(el.id)), Var(ctx.var(target.name))))
    low.deps = tuple(dict.fromkeys([*low.deps, target.name]))

    def box_at(values: Values) -> Box | None:
        mine, theirs = ctx.lowered[el.id].box, ctx.lowered[target.name].box
        now = ctx.current.get(target.name)
        if mine is None or theirs is None or now is None:
            return mine
        return Box(now.cx + mine.cx - theirs.cx, now.cy + mine.cy - theirs.cy, mine.w, mine.h)

    return box_at


AFTER_RESOLVE.append(follow)


# ---------------------------------------------------------------- actions at values


def at_step_values(ctx: SectionContext, act: Action) -> Action:
    """`move p to (x0, 1) on ax`: to where the point is when the step ends."""
    to = act.to
    if not isinstance(to, AtCoordinate) or not isinstance(to.at, MovingPoint):
        return act
    x, y = point_at(ctx, act.targets[0].name, "move to", to.at, step_end(ctx)) if act.targets else (0.0, 0.0)
    return replace(act, to=replace(to, at=Point(x, y, to.at.span)))
