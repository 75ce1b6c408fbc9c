"""Lowering of motion (issue 16): values and their live readouts, tangents, traces, and the actions
that move things over a whole step — `change`, `move … along`, an eased `rotate`:

    value x0 = 1                              x0 = live_value(1.0)
    value s = "2 x0" at F2 label="s ="        s = live_value(2.0, label=text_block('s =', …), …).move_to(…)
                                              s.follows(lambda: 2.0 * x0.value())
    tangent tl on f x=x0 length=3             tl = tangent_line(ax, f, 1.0, length=3.0, color=…)
                                              redraw(tl, lambda: tangent_line(ax, f, x0.value(), …))
    trace tr of p                             tr = trace_of(p, color=…)
    step 4s: change x0 to 1, 3 ease=linear    change_value(x0, [1, 3], rate_func=linear)
    step 3s: move p along f x=0..2            move_along(p, plot_piece(ax, f, 0, 2), rate_func=smooth)
    step 3s: move p along c                   move_along(p, c, closed=True, rate_func=smooth)
                                              (from where p is: compiler/track.py)
    step 3s: rotate arm 360 ease=linear       turn(arm, angle=360 * DEGREES, rate_func=linear)

The scene side is runtime/motion_support.py. What follows the values (points, ends, ranges, numeric
options, plots that read values, elements beside moving ones) is lower/follow.py; the values as
code, lower/live.py. After each `change` and `move … along` the layout's boxes (`ctx.current`) are
where the step leaves everything (follow.settle)."""

from __future__ import annotations

import math

import numpy as np

from ..coordinates import axis_range
from ..kinds import EASINGS
from ..layout import Box
from ..model import Action, Element, MovingPoint, Point, Range, Ref, ValueRange
from ..shape_checks import plot_range
from ..track import Track, journey
from ..values import EASE_FUNCTIONS, bound_option, ease_of
from . import coords, ir, live
from .elements import place_natural
from .follow import (
    FIXED_HINTS,
    Values,
    motion_of,
    parsed,
    point_at,
    settle,
    step_end,
    use_of,
    value_at,
)
from .ir import Exact, Float, Name, Raw, Var, call, method
from .registry import Lowered, SectionContext, StepCode, action, element, error

Pt = tuple[float, float]
SHOWING = frozenset({"create", "write", "fade in"})
TANGENT_LENGTH = 3.0  # grid cells, when the lesson gives none
TRACE_STROKE = 4.0


def rate_function(act: Action) -> Name:
    """The Manim rate function of an action's `ease=` (kinds.EASINGS; smooth by default)."""
    return Name(EASINGS[ease_of(act)][1])


def _lesson_number(value: float) -> int | Exact:
    return value if isinstance(value, int) else Exact(value)


# ---------------------------------------------------------------- values


@element("value", show="Write")
def lower_value(el: Element, ctx: SectionContext) -> Lowered:
    """A value: its tracker, and when it is shown (placed, or created by a step) its readout."""
    _fixed_options(el)
    g = live.graph(ctx)
    value = g.values.get(el.id)
    start = live.finite(g.start.get(el.id, 0.0))
    if el.placement is not None or _shown(ctx, el.id):
        readout = _readout(el, ctx)
        low = place_natural(el, ctx, call("live_value", Exact(start), **readout), _estimate(ctx, el, start))
        motion_of(ctx).boxes[el.id] = lambda values: _readout_box(ctx, el, readout, values)
    else:  # never shown: only its tracker matters
        low = Lowered(call("live_value", Exact(start)), None)
    if value is not None and not value.is_tracker:
        if value.expression is None or value.text is None:
            raise error(f"cannot read the expression of value '{el.id}'", el.span, code="bad-value")
        code = live.expression_code(ctx, value.expression)
        low.after = (method(Var(ctx.var(el.id)), "follows", Raw(f"lambda: {code}")),)
        reads = live.expression_deps(value.expression)
        low.deps = tuple(d for d in reads if d in ctx.variables and d != el.id)
    return low


def _shown(ctx: SectionContext, element_id: str) -> bool:
    return any(ref.name == element_id for step in ctx.section.steps for act in step.actions
               if act.verb in SHOWING for ref in act.targets)


def _readout(el: Element, ctx: SectionContext) -> dict:
    """The readout's keyword arguments: label and unit (as text blocks), decimals, colour, size —
    one line of text in one font and size (runtime/motion_support.LiveValue sets it)."""
    fs = ctx.font_size(el, ctx.theme.text_font_size)
    color = ctx.color(el, "color", ctx.theme.text)
    decimals = int(min(max(ctx.number(el, "decimals", 2.0) or 0.0, 0.0), 10.0))
    kw: dict = {}
    label, unit = ctx.string(el, "label"), ctx.string(el, "unit")
    if label:
        kw["label"] = call("text_block", label, font_size=fs, color=color)
    kw["decimals"] = decimals
    if unit:
        kw["unit"] = call("text_block", unit, font_size=fs, color=color)
    kw.update(color=color, font_size=fs)
    span = _span(ctx, el.id)
    if span is not None:
        kw["span"] = [Exact(span[0]), Exact(span[1])]
    return kw


SPAN_SAMPLES = 64  # moments a step is sampled at to know the least and the most a readout shows


def _span(ctx: SectionContext, value_id: str) -> tuple[float, float] | None:
    """The least and the most a value is over the section (None: it never changes): its readout
    keeps room for the widest number between them, so that it fits its place all along."""
    numbers = live.graph(ctx).sampled(SPAN_SAMPLES).values.get(value_id)
    finite = numbers[np.isfinite(numbers)] if numbers is not None else np.zeros(0)
    if finite.size == 0 or float(finite.min()) == float(finite.max()):
        return None
    return float(finite.min()), float(finite.max())


# Options of the kinds lowered here that may be written with values (`x=x0`, `length="2 r"`); any
# other numeric option must be a number.
FOLLOWING_OPTIONS = {"value": frozenset(), "tangent": frozenset({"x", "length"}), "trace": frozenset()}


def _fixed_options(el: Element) -> None:
    """Refuse an option written with values that this kind cannot follow, at the option."""
    for opt in el.options:
        if bound_option(el.kind, opt) and opt.key not in FOLLOWING_OPTIONS.get(el.kind, frozenset()):
            raise error(f"the {opt.key} of {el.kind} '{el.id}' cannot follow a value", opt.span,
                        FIXED_HINTS.get(opt.key, "give it a number"), code="bad-value")


def _estimate(ctx: SectionContext, el: Element, value: float) -> tuple[float, float]:
    fs = float(ctx.font_size(el, ctx.theme.text_font_size))
    widest = max((f"{v:.2f}" for v in (value, *(_span(ctx, el.id) or ()))), key=len)
    text = f"{ctx.string(el, 'label') or ''} {widest} {ctx.string(el, 'unit') or ''}".strip()
    return len(text) * 0.0095 * fs, 0.045 * fs


def _readout_box(ctx: SectionContext, el: Element, readout: dict, values: Values) -> Box | None:
    """A readout's box showing `values`: from where it was laid out, as wide as it keeps room for
    (or wider, showing a number outside the values' span)."""
    low = ctx.lowered[el.id]
    if low.box is None:
        return None
    value = live.finite(values.get(el.id, math.nan))
    w, h = ctx.measure(call("live_value", Exact(value), **readout), el, _estimate(ctx, el, value))
    w, h = w * low.scale, h * low.scale
    return Box(low.box.left + w / 2, low.box.cy, w, h)


# ---------------------------------------------------------------- tangents


def _plot_of(el: Element, ctx: SectionContext) -> tuple[Element, str]:
    target = el.target
    plot = ctx.element(target.name) if target is not None else None
    if target is None or plot is None or plot.kind != "plot" or plot.target is None:
        raise error(f"tangent '{el.id}' is drawn on a plot: write `on PLOT`", el.span, code="needs-plot")
    ctx.resolve(target.name, target.span)
    return plot, plot.target.name


@element("tangent")
def lower_tangent(el: Element, ctx: SectionContext) -> Lowered:
    """The tangent to a plot at `x=` (a number or values), `length=` long; redrawn from the values
    every frame when either reads one."""
    _fixed_options(el)
    plot, axes = _plot_of(el, ctx)
    if el.option("x") is None:
        raise error(f"tangent '{el.id}' needs the x it touches the plot at: `x=2` or `x=x0`", el.span,
                    code="bad-option")
    x_use = use_of(ctx, el.id, "option", "x")
    length_bound = not isinstance(el.option("length"), int | float | None)
    length_use = use_of(ctx, el.id, "option", "length") if length_bound else None
    fixed_length = ctx.number(el, "length", TANGENT_LENGTH) or TANGENT_LENGTH
    style: dict = {"color": ctx.color(el, "color", ctx.theme.accent)}
    stroke = ctx.number(el, "stroke")
    if stroke is not None:
        style["stroke_width"] = Float(stroke)

    def length_at(values: Values) -> float:
        return abs(value_at(ctx, length_use, values)) if length_use is not None else fixed_length

    head = (Var(ctx.var(axes)), Var(ctx.var(plot.id)))
    start = live.graph(ctx).start
    expr = call("tangent_line", *head, Exact(value_at(ctx, x_use, start)), length=Exact(length_at(start)),
                **style)
    deps = [axes, plot.id, *live.expression_deps(parsed(x_use))]
    curve_moves = bool(live.graph(ctx).plots[plot.id].reads) if plot.id in live.graph(ctx).plots else False
    if x_use.reads or (length_use is not None and length_use.reads) or curve_moves:
        length_code = Raw(live.expression_code(ctx, parsed(length_use))) if length_use is not None \
            else Exact(fixed_length)
        if length_use is not None:
            deps += live.expression_deps(parsed(length_use))
        redrawn = call("tangent_line", *head, Raw(live.expression_code(ctx, parsed(x_use))),
                       length=length_code, **style)
        state = motion_of(ctx)
        state.moving.add(el.id)
        state.boxes[el.id] = lambda values: _tangent_box(ctx, plot.id, axes, value_at(ctx, x_use, values),
                                                         length_at(values), values)
        redraw = call("redraw", Var(ctx.var(el.id)), Raw(f"lambda: {ir.render(redrawn)}"))
        after: tuple[ir.Call, ...] = (redraw,)
    else:
        after = ()
    box = _tangent_box(ctx, plot.id, axes, value_at(ctx, x_use, start), length_at(start), start)
    deps_known = tuple(dict.fromkeys(d for d in deps if d in ctx.variables and d != el.id))
    return Lowered(expr, box, deps=deps_known, after=after, resizable=False)


def _tangent_box(ctx: SectionContext, plot_id: str, axes_id: str, x: float, length: float,
                 values: Values) -> Box | None:
    """The box of the tangent at x, computed as the scene's tangent_line draws it."""
    f = live.graph(ctx).plot_function(plot_id, values)
    axes = ctx.element(axes_id)
    low, high = axis_range(axes, 0) if axes is not None else (0.0, 1.0)
    h = (high - low) * 1e-5
    frame = coords.frame(ctx, axes_id)
    here, before, after = (frame.at(t, f(t)) for t in (x, x - h, x + h))
    dx, dy = after[0] - before[0], after[1] - before[1]
    norm = math.hypot(dx, dy)
    if not all(math.isfinite(c) for c in (*here, norm)) or norm == 0:
        return None
    ux, uy = dx / norm * length / 2, dy / norm * length / 2
    return Box.from_edges(min(here[0] - ux, here[0] + ux), max(here[0] - ux, here[0] + ux),
                          min(here[1] - uy, here[1] + uy), max(here[1] - uy, here[1] + uy))


# ---------------------------------------------------------------- traces


@element("trace", show="start_trace")
def lower_trace(el: Element, ctx: SectionContext) -> Lowered:
    """The path an element travels, drawn from when the trace is created."""
    if len(el.members) != 1:
        raise error(f"trace '{el.id}' follows one element: `trace {el.id} of p`", el.span, code="bad-args")
    _fixed_options(el)
    target = el.members[0]
    if ctx.element(target.name) is None:
        raise error(f"no element '{target.name}' in section '{ctx.section.id}'", target.span,
                    code="unknown-element")
    low = ctx.resolve(target.name, target.span)
    style: dict = {"color": ctx.color(el, "color", ctx.theme.accent),
                   "stroke_width": Float(ctx.number(el, "stroke", TRACE_STROKE) or TRACE_STROKE)}
    expr = call("trace_of", Var(ctx.var(target.name)), **style)
    where = ctx.current.get(target.name) or low.box
    box = Box(where.cx, where.cy, 0.0, 0.0) if where is not None else None

    def box_at(values: Values) -> Box | None:  # all the way it has travelled
        boxes = [b for b in (ctx.current.get(el.id), ctx.current.get(target.name)) if b is not None]
        if not boxes:
            return None
        return Box.from_edges(min(b.left for b in boxes), max(b.right for b in boxes),
                              min(b.bottom for b in boxes), max(b.top for b in boxes))

    motion_of(ctx).boxes[el.id] = box_at
    return Lowered(expr, box, deps=(target.name,), resizable=False)


# ---------------------------------------------------------------- changing values


@action("change")
def lower_change(act: Action, ctx: SectionContext, step: StepCode) -> None:
    """`change x0 to 1, 3`: the tracker slides to each value in turn, over the whole step."""
    g = live.graph(ctx)
    for ref in act.targets:
        value = g.values.get(ref.name)
        if value is None:
            raise error(f"'{ref.name}' is not a value", ref.span, "`change` slides a value: value x0 = 1",
                        code="bad-value")
        if not value.is_tracker:
            raise error(f"'{ref.name}' is an expression of other values", ref.span,
                        "change the values it reads, and it follows them", code="bad-value")
        ctx.resolve(ref.name, ref.span)
        targets = [_lesson_number(v) for v in act.values]
        step.animations.append(call("change_value", Var(ctx.var(ref.name)), targets,
                                    rate_func=rate_function(act)))
    settle(ctx, step_end(ctx))


# ---------------------------------------------------------------- moving along a path


CLOSED_PATHS = frozenset({"circle", "ellipse", "polygon"})  # gone round once; the others, end to end
PLOT_SAMPLES = 400  # points a plot's piece is sampled at to know where a move along it ends


def lower_move_along(act: Action, ctx: SectionContext, step: StepCode) -> None:
    """`move p along f x=0..2`: over the whole step, along the path from where p is (compiler/
    track.py says the way); the layout's box of p ends where the scene's p ends."""
    path = act.along
    assert path is not None
    path_el = ctx.element(path.name)
    if path_el is None:
        raise error(f"no element '{path.name}' in section '{ctx.section.id}'", path.span,
                    code="unknown-element")
    ctx.resolve(path.name, path.span)
    closed = path_el.kind in CLOSED_PATHS
    code, track = _plot_path(ctx, act, path_el) if path_el.kind == "plot" else \
        (Var(ctx.var(path.name)), _shape_track(ctx, path_el, closed))
    shape = {"closed": True} if closed else {}
    for ref in act.targets:
        if ctx.element(ref.name) is None:
            raise error(f"no element '{ref.name}' in section '{ctx.section.id}'", ref.span,
                        code="unknown-element")
        low = ctx.resolve(ref.name, ref.span)
        step.animations.append(call("move_along", Var(ctx.var(ref.name)), code, **shape,
                                    rate_func=rate_function(act)))
        now = ctx.current.get(ref.name) or low.box
        if now is not None and track is not None:
            x, y = journey(track, now.center).at(1.0, EASE_FUNCTIONS[ease_of(act)])
            ctx.current[ref.name] = Box(float(x), float(y), now.w, now.h)
    settle(ctx, step_end(ctx))


def _step_start(ctx: SectionContext) -> Values:
    """Every value as the step being lowered starts (what a path is drawn with then)."""
    g = live.graph(ctx)
    return g.values_at(ctx.step_number, 0.0) if 1 <= ctx.step_number <= len(g.steps) else g.start


def _plot_path(ctx: SectionContext, act: Action, plot: Element) -> tuple[Var | ir.Call, Track | None]:
    """A plot, or the piece of it between `x=` bounds (numbers, or values as the step starts), and
    its track (from its left end)."""
    if plot.target is None:
        raise error(f"plot '{plot.id}' needs axes: write `on AXES`", plot.span, code="plot-without-axes")
    axes = plot.target.name
    values = _step_start(ctx)
    given = act.option("x")
    low, high = plot_range(plot, ctx.section) or (0.0, 1.0)
    code: Var | ir.Call = Var(ctx.var(plot.id))
    if isinstance(given, Range | ValueRange):
        ends = [_bound(ctx, act, given, bound, values) for bound in ("low", "high")]
        (low_code, low), (high_code, high) = ends
        code = call("plot_piece", Var(ctx.var(axes)), code, low_code, high_code)
    f, frame = live.graph(ctx).plot_function(plot.id, values), coords.frame(ctx, axes)
    with np.errstate(all="ignore"):
        points = [frame.at(float(x), f(float(x))) for x in np.linspace(low, high, PLOT_SAMPLES)]
    finite = [p for p in points if all(math.isfinite(c) for c in p)]
    return code, Track.of_points(finite, closed=False) if finite else None


def _bound(ctx: SectionContext, act: Action, given: Range | ValueRange, bound: str,
           values: Values) -> tuple[int | Exact | Raw, float]:
    number = given.low if bound == "low" else given.high
    if not isinstance(number, str):
        return _lesson_number(number), float(number)
    use = use_of(ctx, act.targets[0].name, "option", "x", bound, step=ctx.step_number)
    return Raw(live.expression_code(ctx, parsed(use))), value_at(ctx, use, values)


def _shape_track(ctx: SectionContext, path: Element, closed: bool) -> Track | None:
    """The track of a path that is a shape, as it is when the step starts: given in the
    coordinates of axes, or measured from the shape as laid out and moved (or resized) since."""
    on_axes = _coordinate_track(ctx, path, closed)
    if on_axes is not None:
        return on_axes
    low = ctx.lowered[path.id]
    now = ctx.current.get(path.id) or low.box
    points: list[tuple[float, float]] | None = None
    if ctx.measurer is not None:
        try:
            points = ctx.measurer.points(call("np.asarray", ir.Attr(low.expr, "points")))
        except Exception:  # noqa: BLE001  (a path built from other elements cannot be built alone)
            points = None
    if not points or now is None or low.box is None:
        return _estimated_track(path, now, closed)
    # moved and resized since it was laid out (a `move`, a radius that follows a value)
    s = now.w / low.box.w if low.box.w > 1e-9 else 1.0
    moved = [(now.cx + (x - low.box.cx) * s, now.cy + (y - low.box.cy) * s) for x, y in points]
    return Track.of_curves(moved, closed)


def _estimated_track(path: Element, box: Box | None, closed: bool) -> Track | None:
    """Without a measurer: a circle or an ellipse from its box (from its rightmost point,
    counter-clockwise, as Manim draws it); nothing for other shapes."""
    if box is None or path.kind not in ("circle", "ellipse"):
        return None
    turns = np.linspace(0.0, 2 * math.pi, 129)
    return Track.of_points(np.column_stack([box.cx + box.w / 2 * np.cos(turns),
                                            box.cy + box.h / 2 * np.sin(turns)]), closed)


def _coordinate_track(ctx: SectionContext, path: Element, closed: bool) -> Track | None:
    """The track of a line or polygon given in the coordinates of axes, as the step starts."""
    on = path.target
    if on is None or ctx.element(on.name) is None:
        return None
    ends = path.endpoints
    given: list[tuple[str, object]] = [("from", ends.start), ("to", ends.end)] if ends is not None \
        else [("at", p) for p in path.points]
    frame, values = coords.frame(ctx, on.name), _step_start(ctx)
    points: list[Pt] = []
    for where, end in given:
        if isinstance(end, Point | MovingPoint):
            points.append(frame.at(*point_at(ctx, path.id, where, end, values)))
        elif isinstance(end, Ref) and ctx.element(end.name) is not None:
            box = ctx.box_of(end.name, end.span)
            if box is None:
                return None
            points.append(box.center)
        else:
            return None
    return Track.of_points(points, closed) if len(points) >= 2 else None


# ---------------------------------------------------------------- turning


def rotation(act: Action, target: Var | ir.Call, **kwargs: object) -> ir.Call:
    """`rotate a 90`: a turn in the animation time every action has; with `ease=`, a turn that
    lasts the whole step, eased as asked (`ease=linear`: a steady turn). Traces follow both."""
    if act.option("ease") is None:
        return call("turn", target, **kwargs, whole_step=Raw("False"))
    return call("turn", target, **kwargs, rate_func=rate_function(act))
