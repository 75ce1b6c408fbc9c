"""One lowering per element kind. Each returns the element's constructor expression, already
scaled and moved to the box its placement resolves to."""

from __future__ import annotations

import math

from .. import layout
from ..expression import ExpressionError, parse_expression, to_numpy
from ..kinds import KINDS
from ..layout import MARGIN, SHAPE_SIZE, Box
from ..model import At, Element, End, In, Ref, Relative
from ..tex_repair import readable_tex, repair_tex
from . import ir
from .ir import Exact, Float, Name, Raw, Var, call, method, point
from .live import plot_function_code
from .part_refs import formula_call
from .registry import Lowered, SectionContext, element, error

# ---------------------------------------------------------------- shared placement


def wrap_width(el: Element) -> float:
    """The width text is wrapped to: its area's, or what an element at a cell may take."""
    if isinstance(el.placement, In):
        return layout.area_box(el.placement.first, el.placement.last).w - 2 * MARGIN
    return layout.AT_MAX_WIDTH


def wrapped(el: Element, ctx: SectionContext, make, estimate) -> Lowered:
    """Text wrapped to a width, then placed. In an area, a few wrap widths are tried (the
    area's width and wider) and the one that ends up largest after fitting wins: a narrow
    area gets a few long lines scaled down rather than one word a line."""
    width = wrap_width(el)
    if not isinstance(el.placement, In) or not ctx.measure_enabled:
        return place_natural(el, ctx, make(width), estimate(width))
    area = layout.area_box(el.placement.first, el.placement.last).inset(MARGIN)
    best: tuple[float, float, tuple[float, float]] | None = None
    for factor in (1.0, 1.5, 2.0, 3.0):
        w, h = ctx.measure(make(width * factor), el, estimate(width * factor))
        s = layout.fit_scale(w, h, area)
        if best is None or s > best[0] + 1e-6:
            best = (s, width * factor, (w, h))
        if s >= 1.0:
            break
    assert best is not None
    return place_natural(el, ctx, make(best[1]), estimate(best[1]), size=best[2])


def place_natural(el: Element, ctx: SectionContext, expr: ir.Call, estimate: tuple[float, float],
                  *, upscale: bool = False, size: tuple[float, float] | None = None) -> Lowered:
    """Measure the mobject `expr` builds, then scale (keeping its aspect) and move it to the
    box its placement resolves to."""
    w, h = size if size is not None else ctx.measure(expr, el, estimate)
    placed = ctx.place(el, w, h, upscale=upscale)
    s = placed.scale * ctx.extra_scale(el)
    box = Box(placed.box.cx, placed.box.cy, w * s, h * s)
    if isinstance(el.placement, Relative):
        ctx.occupancy.take_box(box)
    out = expr
    if abs(ir.rounded(s) - 1.0) > 1e-9:
        out = out.then("scale", Float(s))
    out = out.then("move_to", point(box.cx, box.cy))
    return Lowered(out, box, natural=(w, h), scale=s, resizable=upscale)


def place_shape(el: Element, ctx: SectionContext, w: float | None, h: float | None,
                default: tuple[float, float] = (SHAPE_SIZE, SHAPE_SIZE)) -> Box:
    """The box of a shape drawn at its final size: its explicit size (or the default),
    filling its area when it has none, capped to its area or the grid."""
    explicit = w is not None or h is not None
    nw = w if w is not None else (h if h is not None else default[0])
    nh = h if h is not None else (w if w is not None else default[1])
    fill = isinstance(el.placement, In) and not explicit
    placed = ctx.place(el, nw, nh, upscale=fill, max_size=(layout.GRID.w, layout.GRID.h))
    if isinstance(el.placement, Relative):
        ctx.occupancy.take_box(placed.box)
    return placed.box


def shape_style(el: Element, ctx: SectionContext) -> dict:
    """color / fill / opacity / stroke of a shape as keyword arguments."""
    stroke_color = ctx.color(el, "color", ctx.theme.shape)
    kw: dict = {"color": stroke_color}
    fill = ctx.color(el, "fill")
    opacity = ctx.number(el, "opacity")
    if fill is not None or opacity is not None:
        kw["fill_color"] = fill if fill is not None else stroke_color
        kw["fill_opacity"] = Float(opacity if opacity is not None else 0.5)
    stroke = ctx.number(el, "stroke")
    if stroke is not None:
        kw["stroke_width"] = Float(stroke)
    return kw


def finish_shape(expr: ir.Call, el: Element, ctx: SectionContext, box: Box) -> Lowered:
    expr = expr.then("move_to", point(box.cx, box.cy))
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        box = Box(box.cx, box.cy, box.w * extra, box.h * extra)
    return Lowered(expr, box, natural=(box.w, box.h), scale=1.0, resizable=True)


def _estimate_text(text: str, font_size: float, width: float) -> tuple[float, float]:
    """A rough size for text when measuring is off (tests of code shape only)."""
    char = 0.0095 * font_size
    lines = text.split("\n")
    raw = max((len(ln) for ln in lines), default=0) * char
    n = sum(max(1, math.ceil(len(ln) * char / width)) for ln in lines)
    return (min(raw, width), n * 0.045 * font_size)


# ---------------------------------------------------------------- text-like


def _text_element(el: Element, ctx: SectionContext, *, font: float, bold: bool = False) -> Lowered:
    text = el.texts[0].value if el.texts else ""
    fs = ctx.font_size(el, font)
    color = ctx.color(el, "color", ctx.theme.text)

    def make(width: float) -> ir.Call:
        kwargs = {"width": Float(width), "font_size": fs, "color": color}
        if bold:
            kwargs["bold"] = True
        return call("text_block", text, **kwargs)

    return wrapped(el, ctx, make, lambda width: _estimate_text(text, float(fs), width))


@element("title", show="Write")
def lower_title(el: Element, ctx: SectionContext) -> Lowered:
    return _text_element(el, ctx, font=ctx.theme.heading_font_size, bold=True)


@element("text", show="Write")
def lower_text(el: Element, ctx: SectionContext) -> Lowered:
    return _text_element(el, ctx, font=ctx.theme.text_font_size)


@element("label", show="Write")
def lower_label(el: Element, ctx: SectionContext) -> Lowered:
    return _text_element(el, ctx, font=ctx.theme.label_font_size)


@element("bullets", show="Write")
def lower_bullets(el: Element, ctx: SectionContext) -> Lowered:
    items = [t.value for t in el.texts] + [t.value for row in el.rows for t in row]
    fs = ctx.font_size(el, ctx.theme.text_font_size)
    color = ctx.color(el, "color", ctx.theme.text)
    return wrapped(el, ctx,
                   lambda width: call("bullet_list", items, width=Float(width), font_size=fs, color=color),
                   lambda width: _estimate_text("\n".join("• " + i for i in items), float(fs), width))


@element("math", show="Write")
def lower_math(el: Element, ctx: SectionContext) -> Lowered:
    tex = el.texts[0].value if el.texts else ""
    fs = ctx.font_size(el, ctx.theme.math_font_size)
    color = ctx.color(el, "color", ctx.theme.text)
    if ctx.overrides.get(el.id) == "math-as-text":  # auto-fix: LaTeX refused it even repaired
        # for reading, wrapped at the text size like a `text` element: never raw LaTeX in tiny type
        shown, tfs = readable_tex(tex), ctx.theme.text_font_size
        return wrapped(el, ctx, lambda width: call("text_block", shown, width=Float(width), font_size=tfs,
                                                   color=color),
                       lambda width: _estimate_text(shown, float(tfs), width))
    override = ctx.overrides.get(el.id, "")
    if override == "math-repaired":  # auto-fix: compiler/tex_repair.py's repairs
        tex = repair_tex(tex)
    elif override.startswith("math-model:"):  # auto-fix: the formula as the model repaired it
        tex = override.removeprefix("math-model:")
    expr = formula_call(el, ctx.section, tex, font_size=fs, color=color)  # MathTex, or with its terms
    return place_natural(el, ctx, expr, _estimate_text(tex, float(fs) * 0.8, 6.0))


@element("code", show="Write")
def lower_code(el: Element, ctx: SectionContext) -> Lowered:
    source = el.texts[0].value if el.texts else ""
    language = ctx.string(el, "language") or "text"
    fs = ctx.font_size(el, ctx.theme.code_font_size)
    expr = call("Code", code_string=source, language=language, formatter_style=ctx.theme.code_style,
                add_line_numbers=False, background="rectangle", paragraph_config={"font_size": fs})
    return place_natural(el, ctx, expr, _estimate_text(source, float(fs), 12.0))


@element("table", show="Create")
def lower_table(el: Element, ctx: SectionContext) -> Lowered:
    rows = [[t.value for t in row] for row in el.rows] or [[t.value for t in el.texts]]
    fs = ctx.font_size(el, 28)
    expr = call("table_of", rows, font_size=fs, color=ctx.color(el, "color", ctx.theme.text))
    n = max((len(r) for r in rows), default=1)
    return place_natural(el, ctx, expr, (n * 1.2, len(rows) * 0.7))


@element("image", show="FadeIn")
def lower_image(el: Element, ctx: SectionContext) -> Lowered:
    rel = el.texts[0].value if el.texts else ""
    path = (ctx.base_dir / rel).resolve()
    if ctx.overrides.get(el.id) == "image-placeholder":  # auto-fix: the image cannot be read
        box = place_shape(el, ctx, None, None, default=(2.0, 2.0))
        return finish_shape(call("placeholder", rel, width=Float(box.w), height=Float(box.h),
                                 color=ctx.theme.muted, text_color=ctx.theme.text), el, ctx, box)
    if ctx.measure_enabled and not path.is_file():
        raise error(f"image file not found: {path}", el.texts[0].span if el.texts else el.span,
                    code="missing-image")
    expr = call("ImageMobject", str(path))
    return place_natural(el, ctx, expr, (2.0, 2.0), upscale=isinstance(el.placement, In))


# ---------------------------------------------------------------- shapes


@element("circle")
def lower_circle(el: Element, ctx: SectionContext) -> Lowered:
    r = ctx.number(el, "radius")
    d = 2 * r if r is not None else None
    box = place_shape(el, ctx, d, d)
    radius = min(box.w, box.h) / 2
    box = Box(box.cx, box.cy, 2 * radius, 2 * radius)
    return finish_shape(call("Circle", radius=Float(radius), **shape_style(el, ctx)), el, ctx, box)


@element("square")
def lower_square(el: Element, ctx: SectionContext) -> Lowered:
    side = ctx.number(el, "side")
    box = place_shape(el, ctx, side, side)
    s = min(box.w, box.h)
    box = Box(box.cx, box.cy, s, s)
    return finish_shape(call("Square", side_length=Float(s), **shape_style(el, ctx)), el, ctx, box)


def wide_shape_box(el: Element, ctx: SectionContext, default: tuple[float, float]) -> Box:
    """The box of a shape sized by `width=`/`height=` (a rectangle, an ellipse): an area it is
    placed in when it gives neither; one side given, the other in the proportion 2 : 1."""
    w, h = ctx.number(el, "width"), ctx.number(el, "height")
    if isinstance(el.placement, In) and w is None and h is None:
        return layout.area_box(el.placement.first, el.placement.last).inset(MARGIN)
    if w is not None and h is None:
        h = w / 2
    if h is not None and w is None:
        w = h * 2
    return place_shape(el, ctx, w, h, default=default)


@element("rectangle")
def lower_rectangle(el: Element, ctx: SectionContext) -> Lowered:
    box = wide_shape_box(el, ctx, default=(1.6, 0.8))
    expr = call("Rectangle", width=Float(box.w), height=Float(box.h), **shape_style(el, ctx))
    return finish_shape(expr, el, ctx, box)


@element("dot")
def lower_dot(el: Element, ctx: SectionContext) -> Lowered:
    r = ctx.number(el, "radius", 0.08) or 0.08
    box = place_shape(el, ctx, 2 * r, 2 * r)
    r = min(r, box.w / 2, box.h / 2) if isinstance(el.placement, In) else r
    expr = call("Dot", point(box.cx, box.cy), radius=Float(r),
                color=ctx.color(el, "color", ctx.theme.accent))
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        r *= extra
    return Lowered(expr, Box(box.cx, box.cy, 2 * r, 2 * r), natural=(2 * r, 2 * r), resizable=True)


Pt = tuple[float, float]


def _fit_points(el: Element, ctx: SectionContext, pts: list[Pt]) -> list[Pt]:
    """Points given in grid units, scaled (keeping their aspect) into the element's box."""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    w, h = max(xs) - min(xs), max(ys) - min(ys)
    fill = isinstance(el.placement, In)
    placed = ctx.place(el, max(w, 1e-6), max(h, 1e-6), upscale=fill,
                       max_size=(layout.GRID.w, layout.GRID.h))
    if isinstance(el.placement, Relative):
        ctx.occupancy.take_box(placed.box)
    s = placed.scale
    cx0, cy0 = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return [(placed.box.cx + (x - cx0) * s, placed.box.cy + (y - cy0) * s) for x, y in pts]


def _bbox(pts: list[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return Box.from_edges(min(xs), max(xs), min(ys), max(ys))


@element("polygon")
def lower_polygon(el: Element, ctx: SectionContext) -> Lowered:
    pts = _fit_points(el, ctx, [(p.x, p.y) for p in el.points] or [(0, 0), (1, 0), (0, 1)])
    expr = call("Polygon", *[point(x, y) for x, y in pts], **shape_style(el, ctx))
    box = _bbox(pts)
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        box = Box(box.cx, box.cy, box.w * extra, box.h * extra)
    return Lowered(expr, box, natural=(box.w, box.h), resizable=True)


def _end(ctx: SectionContext, ref: End) -> tuple[Pt, Box | None]:
    """An end of `from X to Y`: a cell's centre, or an element's box (and its centre)."""
    if not isinstance(ref, Ref):  # a coordinate: lower/coords.py draws lines `on` axes
        raise error("a coordinate needs the axes it is on: add `on AXES`", ref.span, code="bad-coordinate")
    if layout.is_cell_name(ref.name) and ctx.element(ref.name) is None:
        return layout.cell_center(ref.name), None
    box = ctx.ref_box(ref)  # an element's, or a part's (`to t[2, 3]`)
    if box is None:
        return (0.0, 0.0), None
    return box.center, box


def line_style(el: Element, ctx: SectionContext, cls: str) -> dict:
    """A line's or an arrow's keyword arguments: colour, stroke, and no gap at an arrow's ends."""
    style: dict = {"color": ctx.color(el, "color", ctx.theme.shape)}
    stroke = ctx.number(el, "stroke")
    if stroke is not None:
        style["stroke_width"] = Float(stroke)
    if cls == "Arrow":
        style["buff"] = Float(0.0)
    return style


def _line_like(el: Element, ctx: SectionContext, cls: str) -> Lowered:
    style = line_style(el, ctx, cls)
    ends = el.endpoints
    deps: tuple[str, ...] = ()
    if ends is not None:
        (a, abox), (b, bbox) = _end(ctx, ends.start), _end(ctx, ends.end)
        if abox is not None:
            a = layout.edge_point(abox, b)
        if bbox is not None:
            b = layout.edge_point(bbox, a)
        pts = [a, b]
    else:
        given = [(p.x, p.y) for p in el.points]
        if len(given) < 2:
            given = [(0.0, 0.0), (1.0, 0.0)]
        pts = _fit_points(el, ctx, given[:2])
    expr = call(cls, point(*pts[0]), point(*pts[1]), **style)
    return Lowered(expr, _bbox(pts), deps=deps, natural=None, resizable=True)


@element("line")
def lower_line(el: Element, ctx: SectionContext) -> Lowered:
    return _line_like(el, ctx, "Line")


@element("arrow", show="GrowArrow")
def lower_arrow(el: Element, ctx: SectionContext) -> Lowered:
    return _line_like(el, ctx, "Arrow")


# ---------------------------------------------------------------- graphs


def _nice_step(low: float, high: float) -> float:
    """A tick step: every unit for spans of 1 to 12, else 1, 2 or 5 times a power of ten giving
    about 8 ticks (a span below 1 too: x=0..0.00024 ticks every 0.00005, and a plot samples
    ten points a tick)."""
    span = high - low
    if 1 <= span <= 12:
        return 1.0
    raw = span / 8
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


@element("axes")
def lower_axes(el: Element, ctx: SectionContext) -> Lowered:
    return axes_like(el, ctx, "Axes")


def axes_like(el: Element, ctx: SectionContext, cls: str, *, equal_units: bool = False,
              **more: object) -> Lowered:
    """Axes, or a kind built like them (a number plane: `cls` NumberPlane, with `more`
    keyword arguments): filling their area, tick numbers included, axis labels kept inside;
    with `equal_units`, a unit is as long on both axes (a plane's grid is of squares)."""
    x_default, y_default = KINDS[el.kind].default_ranges
    xr = ctx.range(el, "x", x_default)
    yr = ctx.range(el, "y", y_default)
    step = ctx.number(el, "step")
    xs = ctx.number(el, "x_step") or step or _nice_step(*xr)
    ys = ctx.number(el, "y_step") or step or _nice_step(*yr)
    color = ctx.color(el, "color", ctx.theme.text)
    x_label, y_label = ctx.string(el, "x_label"), ctx.string(el, "y_label")
    if isinstance(el.placement, In):
        # Axes fill their whole area, whatever its shape: a graph is read by its axes' numbers.
        box = layout.area_box(el.placement.first, el.placement.last).inset(MARGIN)
        ctx.occupancy.take_box(box)
    else:
        box = place_shape(el, ctx, None, None, default=(4.0, 3.0))
    # Axis labels sit beyond the right end of the x axis and above the top of the y axis:
    # keep room for them there, as wide and tall as they really are.
    lx = call("text_block", x_label or "", font_size=ctx.theme.label_font_size, color=color)
    ly = call("text_block", y_label or "", font_size=ctx.theme.label_font_size, color=color)
    right = ctx.measure(lx, el, (0.5, 0.3))[0] + 0.25 if x_label else 0.0
    top = ctx.measure(ly, el, (0.5, 0.3))[1] + 0.25 if y_label else 0.0
    inner = Box(box.cx - right / 2, box.cy - top / 2, max(box.w - right, 0.5), max(box.h - top, 0.5))
    if equal_units:
        unit = min(inner.w / (xr[1] - xr[0]), inner.h / (yr[1] - yr[0]))
        inner = Box(inner.cx, inner.cy, unit * (xr[1] - xr[0]), unit * (yr[1] - yr[0]))
        box = Box(inner.cx + right / 2, inner.cy + top / 2, inner.w + right, inner.h + top)
    expr = call(cls, x_range=[Exact(xr[0]), Exact(xr[1]), Exact(xs)],
                y_range=[Exact(yr[0]), Exact(yr[1]), Exact(ys)],
                x_length=Float(inner.w), y_length=Float(inner.h),
                axis_config={"color": color, "include_tip": False, "font_size": 24},
                x_axis_config={"include_numbers": True, "decimal_number_config": _decimals(xr[0], xs, color)},
                y_axis_config={"include_numbers": True, "decimal_number_config": _decimals(yr[0], ys, color)},
                **more)
    # The tick numbers hang outside the axis lines: measure the whole and shrink it to fit.
    w, h = ctx.measure(expr, el, (inner.w, inner.h))
    fit = min(1.0, inner.w / max(w, 1e-6), inner.h / max(h, 1e-6))
    if fit < 1.0 - 1e-9:
        expr = expr.then("scale", Float(fit))
    after: tuple[ir.Call, ...] = ()
    if x_label or y_label:
        var = Var(ctx.var(el.id))
        after = (method(var, "add", method(var, "get_axis_labels", lx, ly)),)
    expr = expr.then("move_to", point(inner.cx, inner.cy))
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        box = Box(box.cx, box.cy, box.w * extra, box.h * extra)
    low = Lowered(expr, box, natural=(box.w, box.h), scale=1.0, resizable=True)
    low.after = after
    return low


def _decimals(start: float, step: float, color: str | None) -> dict:
    """Tick numbers with the decimals they need: 1, 2, 3 rather than 1.0, 2.0, 3.0; 0.25, 0.5;
    0.00005, 0.0001 rather than 0.0, 0.0."""
    def places(v: float) -> int:
        return len(f"{abs(v):.10f}".rstrip("0").split(".")[1])

    return {"color": color, "num_decimal_places": max(places(start), places(step))}


@element("numberline")
def lower_numberline(el: Element, ctx: SectionContext) -> Lowered:
    xr = ctx.range(el, "x", KINDS[el.kind].default_ranges[0])
    step = ctx.number(el, "step") or _nice_step(*xr)
    color = ctx.color(el, "color", ctx.theme.text)
    box = place_shape(el, ctx, None, None, default=(4.0, 0.8))
    length = box.w
    expr = call("NumberLine", x_range=[Exact(xr[0]), Exact(xr[1]), Exact(step)], length=Float(length),
                color=color, include_numbers=True, font_size=24,
                decimal_number_config=_decimals(xr[0], step, color))
    return finish_shape(expr, el, ctx, Box(box.cx, box.cy, length, min(box.h, 0.8)))


# A plot is sampled at about this many points whatever its ticks: Manim's default, ten a tick,
# drew exp(10x) on 0..1 from ten points, 8 px off at 720p; 200 keep a steep curve within a pixel.
PLOT_SAMPLES = 200


def _sample_step(low: float, high: float) -> float:
    """The step a plot is sampled at: about PLOT_SAMPLES points, with 3 significant digits, and
    not close to a whole fraction of the range: Manim samples arange(low, high, step), then
    `high`, and smooths the curve through them; a last piece much shorter than a step (or a
    rounding error long) bent the curve's end past `high`."""
    span = high - low
    unit = 10.0 ** (math.floor(math.log10(span / PLOT_SAMPLES)) - 2)  # the third digit's
    k = math.ceil(span / PLOT_SAMPLES / unit)
    while not 0.3 <= (span / (k * unit)) % 1.0 <= 0.99:  # the last piece: 0.3 to 0.99 of a step
        k += 1
    return ir.exact(k * unit)


@element("plot")
def lower_plot(el: Element, ctx: SectionContext) -> Lowered:
    target = el.target
    if target is None:
        raise error(f"plot '{el.id}' needs axes: write `on AXES`", el.span, code="plot-without-axes")
    axes_el = ctx.element(target.name)
    if axes_el is None or axes_el.kind not in KINDS[el.kind].on:
        raise error(f"'{target.name}' is not an axes element", target.span, code="plot-target")
    axes = ctx.resolve(target.name, target.span)
    text = el.texts[0] if el.texts else None
    # a plot that reads values (`"a x^2"`) asks them for their value now: lower/live.py
    function = plot_function_code(ctx, el.id)
    try:
        function = function or f"lambda x: {to_numpy(parse_expression(text.value if text else ''))}"
    except ExpressionError as exc:
        raise error(f"plot '{el.id}': {exc.message}", text.span if text else el.span, exc.hint,
                    code="plot-expression") from None
    xr = ctx.range(el, "x", ctx.range(axes_el, "x", (-4.0, 4.0)))
    kw: dict = {"x_range": [Exact(xr[0]), Exact(xr[1]), Exact(_sample_step(*xr))],
                "color": ctx.color(el, "color", ctx.theme.accent)}
    stroke = ctx.number(el, "stroke")
    if stroke is not None:
        kw["stroke_width"] = Float(stroke)
    expr = method(Var(ctx.var(target.name)), "plot", Raw(function), **kw)
    return Lowered(expr, axes.box, deps=(target.name,), resizable=False)


# ---------------------------------------------------------------- attached


_DIRECTIONS = {"below": "DOWN", "above": "UP", "left of": "LEFT", "right of": "RIGHT", "next to": "RIGHT"}


@element("brace")
def lower_brace(el: Element, ctx: SectionContext) -> Lowered:
    if not isinstance(el.placement, Relative):
        raise error(f"brace '{el.id}' must be placed beside an element, e.g. `below tri`", el.span,
                    code="brace-placement")
    target = el.placement.target
    tbox = ctx.ref_box(target)
    relation = el.placement.relation
    text = el.texts[0].value if el.texts else None
    color = ctx.color(el, "color", ctx.theme.text)
    expr = call("brace_with_label", ctx.ref_expr(target), direction=Name(_DIRECTIONS[relation]),
                text=text, color=color, font_size=ctx.theme.label_font_size)
    box = None
    if tbox is not None:
        depth = 0.35 + (0.45 if text else 0.0)
        across = tbox.w if relation in ("below", "above") else tbox.h
        w, h = (across, depth) if relation in ("below", "above") else (depth, across)
        box = layout.beside(tbox, relation, w, h, gap=0.05)
    return Lowered(expr, box, deps=(target.name,), resizable=False)


# ---------------------------------------------------------------- custom


@element("custom", show="FadeIn")
def lower_custom(el: Element, ctx: SectionContext) -> Lowered:
    description = el.texts[0].value if el.texts else (el.rows[0][0].value if el.rows and el.rows[0] else "")
    if isinstance(el.placement, In):
        box = layout.area_box(el.placement.first, el.placement.last).inset(MARGIN)
    else:
        default = (3.0, 2.0) if isinstance(el.placement, At) else (2.8, 2.8)
        box = place_shape(el, ctx, None, None, default=default)
    function = ctx.custom_functions.get(el.id)
    if function is not None and ctx.overrides.get(el.id) != "placeholder":
        # The Coder's locked code draws inside the box itself: no scaling or moving here.
        expr = call("custom_element", Name(function), Float(box.left), Float(box.bottom),
                    Float(box.right), Float(box.top))
        return Lowered(expr, box)
    expr = call("placeholder", description, width=Float(box.w), height=Float(box.h),
                color=ctx.theme.muted, text_color=ctx.theme.text)
    return finish_shape(expr, el, ctx, box)
