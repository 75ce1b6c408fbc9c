"""Lowerings of charts and areas: a bar chart from values, the area under a plot (or between
two plots), Riemann rectangles.

A bar chart is the scene helper `bar_chart` (Manim's BarChart with plain-text names), built
at the size its place leaves once its tick numbers and names are measured; `transform` into
another chart with the same `y=` grows each bar to its new value (the bars, axes and names
morph one to one). Areas and rectangles are the axes' own `get_area` and
`get_riemann_rectangles` on the plot as drawn; `transform r4 into r8` makes each rectangle
of the first split into rectangles of the second (ReplacementTransform matches them in order).
"""

from __future__ import annotations

import math

from .. import layout
from ..layout import MARGIN, Box
from ..model import Element, In, Word
from ..shape_checks import bar_value, plot_range
from . import ir
from .elements import _decimals, _nice_step, place_shape
from .ir import Exact, Float, Var, call, method
from .registry import Lowered, SectionContext, element, error

AREA_OPACITY = 0.4
RECTANGLE_OPACITY = 0.6
RECTANGLE_STROKE = 2.0  # in the text's colour: the rectangles read as separate columns
BAR_OPACITY = 0.8
BAR_FONT_SIZE = 24


# ---------------------------------------------------------------- bar charts


def _bar_range(el: Element, ctx: SectionContext, values: list[float]) -> tuple[float, float, float]:
    """The y range (low, high, tick step): `y=` as given, else from 0 to the values rounded out
    to whole ticks."""
    given = ctx.range(el, "y", (0.0, 0.0))
    if given[1] > given[0]:
        return given[0], given[1], ctx.number(el, "step") or _nice_step(*given)
    low, high = min(0.0, *values), max(0.0, *values)
    if high <= low:
        high = low + 1.0
    step = ctx.number(el, "step") or _nice_step(low, high)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


@element("bars")
def lower_bars(el: Element, ctx: SectionContext) -> Lowered:
    rows = [(row[0].value, bar_value(row[1].value)) for row in el.rows if len(row) == 2]
    names, values = [n for n, _ in rows], [v if v is not None else 0.0 for _, v in rows]
    if not values:
        raise error(f"bar chart '{el.id}' has no bars", el.span, code="bars-empty")
    low, high, step = _bar_range(el, ctx, values)
    text_color = ctx.theme.text
    style = {"color": ctx.color(el, "color", ctx.theme.shape), "text_color": text_color,
             "opacity": Float(ctx.number(el, "opacity", BAR_OPACITY) or 0.0),
             "font_size": ctx.font_size(el, BAR_FONT_SIZE),
             "decimals": _decimals(low, step, text_color)["num_decimal_places"]}

    def make(width: float, height: float) -> ir.Call:
        return call("bar_chart", [Exact(v) for v in values], names,
                    y_range=[Exact(low), Exact(high), Exact(step)], width=Float(width), height=Float(height),
                    **style)

    if isinstance(el.placement, In):
        box = layout.area_box(el.placement.first, el.placement.last).inset(MARGIN)
        ctx.occupancy.take_box(box)
    else:
        box = place_shape(el, ctx, None, None, default=(4.0, 3.0))
    # The tick numbers stand left of the axes and the names below: measure how far, and give
    # the axes what is left of the box.
    first = (box.w * 0.8, box.h * 0.8)
    w, h = ctx.measure(make(*first), el, (box.w, box.h))
    lengths = (max(box.w - (w - first[0]), 0.5), max(box.h - (h - first[1]), 0.5))
    expr = make(*lengths)
    w, h = ctx.measure(expr, el, (box.w, box.h))
    fit = min(1.0, box.w / max(w, 1e-6), box.h / max(h, 1e-6))
    if abs(ir.rounded(fit) - 1.0) > 1e-9:
        expr = expr.then("scale", Float(fit))
    expr = expr.then("move_to", ir.point(box.cx, box.cy))
    out = Box(box.cx, box.cy, w * fit, h * fit)
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        out = Box(out.cx, out.cy, out.w * extra, out.h * extra)
    return Lowered(expr, out, natural=(out.w, out.h), resizable=True)


# ---------------------------------------------------------------- on a plot


def _on_plot(el: Element, ctx: SectionContext) -> tuple[Element, str, tuple[float, float]]:
    """The plot an element is drawn on, its axes' id, and the element's x range (its `x=`, else
    the plot's)."""
    target = el.target
    plot = ctx.element(target.name) if target is not None else None
    if target is None or plot is None or plot.kind != "plot" or plot.target is None:
        raise error(f"{el.kind} '{el.id}' needs a plot: write `on PLOT`", el.span, code="needs-plot")
    ctx.resolve(target.name, target.span)
    domain = plot_range(plot, ctx.section) or (-4.0, 4.0)
    return plot, plot.target.name, ctx.range(el, "x", domain)


@element("area")
def lower_area(el: Element, ctx: SectionContext) -> Lowered:
    plot, axes, (low, high) = _on_plot(el, ctx)
    kw: dict = {"x_range": [Exact(low), Exact(high)], "color": ctx.color(el, "fill", ctx.theme.shape),
                "opacity": Float(ctx.number(el, "opacity", AREA_OPACITY) or 0.0), "stroke_width": 0}
    deps = [plot.id, axes]
    bound = el.option("between")
    if isinstance(bound, Word | str):
        name = bound.name if isinstance(bound, Word) else bound
        if ctx.element(name) is None:
            raise error(f"no plot '{name}' for the area '{el.id}' to reach", el.span, code="needs-plot")
        ctx.resolve(name, el.span)
        kw["bounded_graph"] = Var(ctx.var(name))
        deps.append(name)
    expr = method(Var(ctx.var(axes)), "get_area", Var(ctx.var(plot.id)), **kw)
    return Lowered(expr, ctx.box_of(axes), deps=tuple(deps), resizable=False)


@element("riemann")
def lower_riemann(el: Element, ctx: SectionContext) -> Lowered:
    plot, axes, (low, high) = _on_plot(el, ctx)
    n = max(int(ctx.number(el, "n", 4) or 4), 1)
    dx = (high - low) / n
    # numpy's arange(low, high, dx) gives n + 1 starts when rounding leaves the last just under
    # `high`: ending the range half a rectangle early gives exactly n.
    expr = method(Var(ctx.var(axes)), "get_riemann_rectangles", Var(ctx.var(plot.id)),
                  x_range=[Exact(low), Exact(high - dx / 2)], dx=Exact(dx),
                  color=ctx.color(el, "fill", ctx.theme.shape),
                  fill_opacity=Float(ctx.number(el, "opacity", RECTANGLE_OPACITY) or 0.0),
                  stroke_color=ctx.color(el, "color", ctx.theme.text),
                  stroke_width=Float(ctx.number(el, "stroke", RECTANGLE_STROKE) or 0.0))
    return Lowered(expr, ctx.box_of(axes), deps=(plot.id, axes), resizable=False)
