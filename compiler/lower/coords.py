"""Lowering of what is given in the coordinates of axes, a number plane, a number line or a
plot, and of the number plane itself:

    dot p at (2, 4) on ax                  p = Dot(ax.c2p(2, 4), ...)
    dot m at 3 on nl                       m = Dot(nl.n2p(3), ...)
    dot q at 1 on f                        q = Dot(ax.i2gp(1, f), ...)
    label top "max" at (2, 4) on ax        top = text_block("max", ...).next_to(ax.c2p(2, 4), UP, ...)
    label lf "f(x)" on f                   lf = text_block("f(x)", ...).next_to(f.get_end(), RIGHT, ...)
    arrow v from (0, 0) to (2, 2) on ax    v = Arrow(ax.c2p(0, 0), ax.c2p(2, 2), buff=0.0, ...)
    polygon t (0, 0) (2, 0) (2, 3) on ax   t = Polygon(ax.c2p(0, 0), ax.c2p(2, 0), ax.c2p(2, 3), ...)
    move p to (3, 9) on ax                 p.animate.move_to(ax.c2p(3, 9))

The generated code asks the axes where a coordinate is (their own c2p, n2p, i2gp), so a dot is
where the axes put (2, 4), whatever their size. The layout needs the same points to know each
element's box: it measures them on the real axes (`Measurer.points`), once per axes, as an
affine map (a `Frame`)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import layout
from ..coordinates import Frame, axis_range, curve
from ..kinds import KINDS
from ..layout import Box
from ..model import AtCoordinate, Coordinate, Element, End, Point, Ref, Scalar
from . import ir
from .elements import axes_like, line_style, shape_style
from .ir import Exact, Float, Name, Var, call, method
from .registry import Lowered, SectionContext, coordinate_element, element, error

Pt = tuple[float, float]
LABEL_GAP = 0.15  # between a label and the point it labels (a dot's radius is 0.08)


# ---------------------------------------------------------------- where coordinates land


def frame(ctx: SectionContext, system_id: str) -> Frame:
    """The frame of axes, a plane or a number line (built once per section)."""
    if system_id in ctx.frames:
        return ctx.frames[system_id]
    system = ctx.element(system_id)
    assert system is not None
    low = ctx.resolve(system_id)
    two = KINDS[system.kind].dimensions == 2
    (x0, x1), (y0, y1) = axis_range(system, 0), axis_range(system, 1) if two else (0.0, 1.0)
    if ctx.measurer is not None:  # (x0, y0), (x1, y0), (x0, y1) as the real mobject places them
        corners = [[Exact(x0), Exact(y0)], [Exact(x1), Exact(y0)], [Exact(x0), Exact(y1)]]
        probe = low.expr.then("c2p", corners) if two else \
            low.expr.then("n2p", call("np.array", [Exact(x0), Exact(x1)]))
        pts = ctx.measurer.points(probe)
    else:  # estimated: the ranges spread over the element's box
        box = low.box or Box(0.0, 0.0, 4.0, 3.0)
        pts = [(box.left, box.bottom if two else box.cy), (box.right, box.bottom if two else box.cy),
               (box.left, box.top)]
    (ox, oy), (px, py) = pts[0], pts[1]
    per_x = ((px - ox) / (x1 - x0), (py - oy) / (x1 - x0))
    per_y = ((pts[2][0] - ox) / (y1 - y0), (pts[2][1] - oy) / (y1 - y0)) if two else (0.0, 0.0)
    ctx.frames[system_id] = Frame(x0, y0, (ox, oy), per_x, per_y)
    return ctx.frames[system_id]


@dataclass(frozen=True)
class Located:
    """A coordinate as code (`ax.c2p(2, 4)`), where it lands, and the elements the code uses."""

    code: ir.Call
    point: Pt
    deps: tuple[str, ...]


def _number(value: float) -> int | Exact:
    """A lesson's number as written: 2 stays 2, 0.5 stays 0.5."""
    return value if isinstance(value, int) else Exact(value)


def locate(ctx: SectionContext, on: Ref, coord: Coordinate) -> Located:
    """A coordinate on axes, a plane, a number line or a plot (the checks made sure it fits)."""
    system = ctx.element(on.name)
    if system is None:
        raise error(f"no element '{on.name}' in section '{ctx.section.id}'", on.span, code="unknown-element")
    var = Var(ctx.var(on.name))
    if system.kind == "plot":
        c = curve(system, ctx.section)
        if c is None or not isinstance(coord, Scalar):
            raise error(f"'{on.name}' has no point there", coord.span, code="bad-coordinate")
        x = float(coord.value)
        axes_id = c.axes.id
        code = method(Var(ctx.var(axes_id)), "i2gp", _number(coord.value), var)
        return Located(code, frame(ctx, axes_id).at(x, c.y_at(x)), (axes_id, on.name))
    if KINDS[system.kind].dimensions == 2 and isinstance(coord, Point):
        code = method(var, "c2p", _number(coord.x), _number(coord.y))
        return Located(code, frame(ctx, on.name).at(coord.x, coord.y), (on.name,))
    if KINDS[system.kind].dimensions == 1 and isinstance(coord, Scalar):
        code = method(var, "n2p", _number(coord.value))
        return Located(code, frame(ctx, on.name).at(coord.value), (on.name,))
    raise error(f"'{on.name}' has no coordinates of that shape", coord.span, code="bad-coordinate")


# ---------------------------------------------------------------- placed at a coordinate


def _place(el: Element) -> AtCoordinate:
    if not isinstance(el.placement, AtCoordinate):
        raise error(f"say where on '{el.drawn_on.name if el.drawn_on else '?'}' '{el.id}' goes",
                    el.span, code="bad-coordinate")
    return el.placement


@coordinate_element("dot")
def dot_at(el: Element, ctx: SectionContext) -> Lowered:
    place = _place(el)
    at = locate(ctx, place.on, place.at)
    r = ctx.number(el, "radius", 0.08) or 0.08
    where = side(el.kind, place)
    color = ctx.color(el, "color", ctx.theme.accent)
    expr = call("Dot", at.code, radius=Float(r), color=color) if where is None else \
        call("Dot", radius=Float(r), color=color)
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        r *= extra
    if where is not None:  # `dot d below (2, 4) on ax`
        expr = _put(expr, at.code, where)
    box = _box_at(at.point, (2 * r, 2 * r), where)
    return Lowered(expr, box, deps=at.deps, natural=(2 * r, 2 * r), resizable=True)


def _content(el: Element, ctx: SectionContext) -> tuple[ir.Call, tuple[float, float]]:
    """The text or formula of a label, text or math element, unplaced, and a rough size."""
    value = el.texts[0].value if el.texts else ""
    if el.kind == "math":
        fs = ctx.font_size(el, ctx.theme.math_font_size)
        expr = call("MathTex", value, font_size=fs, color=ctx.color(el, "color", ctx.theme.text))
    else:
        default = ctx.theme.label_font_size if el.kind == "label" else ctx.theme.text_font_size
        fs = ctx.font_size(el, default)
        expr = call("text_block", value, width=Float(layout.AT_MAX_WIDTH), font_size=fs,
                    color=ctx.color(el, "color", ctx.theme.text))
    rough = (min(len(value) * 0.0095 * float(fs), layout.AT_MAX_WIDTH), 0.045 * float(fs))
    return expr, rough


# Where something sits beside a point (`next_to` it): the Manim direction and its vector.
_SIDES: dict[str, tuple[str, Pt]] = {"above": ("UP", (0.0, 1.0)), "below": ("DOWN", (0.0, -1.0)),
                                     "left of": ("LEFT", (-1.0, 0.0)), "right of": ("RIGHT", (1.0, 0.0))}


def _box_at(point: Pt, size: tuple[float, float], side: str | None) -> Box:
    """The box of something w x h at a point: centred on it, or beside it (`next_to`, with
    LABEL_GAP between)."""
    w, h = size
    if side is None:
        return Box(point[0], point[1], w, h)
    dx, dy = _SIDES[side][1]
    return Box(point[0] + dx * (LABEL_GAP + w / 2), point[1] + dy * (LABEL_GAP + h / 2), w, h)


def _put(receiver: ir.Call | ir.Attr, point_code: ir.Call, side: str | None) -> ir.Call:
    """`.move_to(point)`, or `.next_to(point, UP, buff=…)`, on a mobject or its `.animate`."""
    if side is None:
        return method(receiver, "move_to", point_code)
    return method(receiver, "next_to", point_code, Name(_SIDES[side][0]), buff=Float(LABEL_GAP))


def _beside(expr: ir.Call, point_code: ir.Call, point: Pt, size: tuple[float, float],
            side: str | None) -> tuple[ir.Call, Box]:
    return _put(expr, point_code, side), _box_at(point, size, side)


def side(kind: str, place: AtCoordinate) -> str | None:
    """Where an element goes at a coordinate: beside it as its relation says (`below (2, 4) on
    ax`); at it, a label sits above the point it labels, anything else is centred on it."""
    if place.relation is not None:
        return place.relation
    return "above" if kind == "label" else None


def _text_at(el: Element, ctx: SectionContext) -> Lowered:
    expr, rough = _content(el, ctx)
    w, h = ctx.measure(expr, el, rough)
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        w, h = w * extra, h * extra
    if isinstance(el.placement, AtCoordinate):
        at = locate(ctx, el.placement.on, el.placement.at)
        placed, box = _beside(expr, at.code, at.point, (w, h), side(el.kind, el.placement))
        return Lowered(placed, box, deps=at.deps, natural=(w / extra, h / extra), scale=extra)
    return _text_at_curve_end(el, ctx, expr, (w, h), extra)


def _text_at_curve_end(el: Element, ctx: SectionContext, expr: ir.Call, size: tuple[float, float],
                       extra: float) -> Lowered:
    """`label lf "f(x)" on f`: right of the curve's last point."""
    on = el.target
    plot = ctx.element(on.name) if on is not None else None
    c = curve(plot, ctx.section) if plot is not None and plot.kind == "plot" else None
    if on is None or c is None:
        raise error(f"say where '{el.id}' goes: at (x, y) on axes, or on a plot", el.span,
                    code="bad-coordinate")
    ctx.resolve(on.name, on.span)
    x = c.x_range[1]
    end = frame(ctx, c.axes.id).at(x, c.y_at(x))
    placed, box = _beside(expr, method(Var(ctx.var(on.name)), "get_end"), end, size, "right of")
    return Lowered(placed, box, deps=(on.name,), natural=(size[0] / extra, size[1] / extra), scale=extra)


coordinate_element("label")(_text_at)
coordinate_element("text")(_text_at)
coordinate_element("math")(_text_at)


# ---------------------------------------------------------------- points in coordinates


def _bbox(pts: list[Pt]) -> Box:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return Box.from_edges(min(xs), max(xs), min(ys), max(ys))


def _target(el: Element) -> Ref:
    if el.target is None:
        raise error(f"'{el.id}' needs the axes its points are on: `on AXES`", el.span, code="bad-coordinate")
    return el.target


@coordinate_element("polygon")
def polygon_on(el: Element, ctx: SectionContext) -> Lowered:
    on = _target(el)
    corners = [locate(ctx, on, p) for p in el.points]
    expr = call("Polygon", *[c.code for c in corners], **shape_style(el, ctx))
    box = _bbox([c.point for c in corners])
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        box = Box(box.cx, box.cy, box.w * extra, box.h * extra)
    return Lowered(expr, box, deps=(on.name,), natural=(box.w, box.h), resizable=True)


def _ends(el: Element, ctx: SectionContext, on: Ref) -> tuple[list[tuple[ir.Call, Pt]], tuple[str, ...]]:
    """The two ends of a line or arrow drawn on axes: coordinates, or the edge of an element
    (or a cell's centre) toward the other end."""
    given: list[End] = list(el.points[:2])
    if el.endpoints is not None:
        given = [el.endpoints.start, el.endpoints.end]
    located: list[Located | None] = [None if isinstance(e, Ref) else locate(ctx, on, e) for e in given]
    deps = tuple(d for at in located if at is not None for d in at.deps)
    out: list[tuple[ir.Call, Pt]] = []
    for i, (end, at) in enumerate(zip(given, located, strict=True)):
        if at is not None:
            out.append((at.code, at.point))
            continue
        assert isinstance(end, Ref)
        other = located[1 - i]
        toward = other.point if other is not None else (0.0, 0.0)
        if layout.is_cell_name(end.name) and ctx.element(end.name) is None:
            p = layout.cell_center(end.name)
        else:
            box = ctx.box_of(end.name, end.span)
            p = layout.edge_point(box, toward) if box is not None else (0.0, 0.0)
        out.append((ir.point(*p), p))
    return out, deps


def _line_on(el: Element, ctx: SectionContext, cls: str) -> Lowered:
    on = _target(el)
    style = line_style(el, ctx, cls)
    ((a_code, a), (b_code, b)), deps = _ends(el, ctx, on)
    expr = call(cls, a_code, b_code, **style)
    return Lowered(expr, _bbox([a, b]), deps=deps, natural=None, resizable=True)


@coordinate_element("line")
def line_on(el: Element, ctx: SectionContext) -> Lowered:
    return _line_on(el, ctx, "Line")


@coordinate_element("arrow")
def arrow_on(el: Element, ctx: SectionContext) -> Lowered:
    return _line_on(el, ctx, "Arrow")


# ---------------------------------------------------------------- moving to a coordinate


def move_to_coordinate(ctx: SectionContext, element_id: str, place: AtCoordinate,
                       size: tuple[float, float]) -> tuple[ir.Call, Box]:
    """`move p to (3, 9) on ax`: the animation, and the box the element ends in. It goes where
    it would be placed `at` that coordinate: a label above it, anything else centred on it
    (or beside it, as its relation says: `move top to below (3, 9) on ax`)."""
    at = locate(ctx, place.on, place.at)
    el = ctx.element(element_id)
    where = side(el.kind, place) if el is not None else place.relation
    animate = ir.Attr(Var(ctx.var(element_id)), "animate")
    return _put(animate, at.code, where), _box_at(at.point, size, where)


# ---------------------------------------------------------------- the number plane


@element("plane")
def lower_plane(el: Element, ctx: SectionContext) -> Lowered:
    lines = {"stroke_color": ctx.theme.muted, "stroke_width": 1, "stroke_opacity": 0.35}
    return axes_like(el, ctx, "NumberPlane", equal_units=True, background_line_style=lines)
