"""Lowerings of the shapes teachers draw every day beyond circles and polygons: an ellipse, an
arc, the mark of an angle (with its label) and of a right angle.

An angle is drawn by the scene helpers `corner_angle` and `angle_between`
(runtime/scene_support.py) on the polygon's or the lines' real mobjects as laid out: Manim's
Angle or RightAngle, on the inner side at a polygon's corner, the smaller way round between two
lines. Its box here, for the layout of what is placed beside it, is the mark's reach around the
corner, whose place is worked out from the polygon's box and points.
"""

from __future__ import annotations

import math

from .. import layout
from ..layout import Box
from ..model import Element, In, Ref, Relative
from . import ir
from .elements import finish_shape, shape_style, wide_shape_box
from .ir import Float, Raw, Var, call, point
from .registry import Lowered, SectionContext, element, error

Pt = tuple[float, float]

ANGLE_RADIUS = 0.5  # grid cells, when the lesson gives none (the helper shrinks it to fit short edges)
RIGHT_ANGLE_SIDE = 0.35
LABEL_REACH = 0.45  # how far past the mark a label may reach, for the box


@element("ellipse")
def lower_ellipse(el: Element, ctx: SectionContext) -> Lowered:
    box = wide_shape_box(el, ctx, default=(2.0, 1.0))
    expr = call("Ellipse", width=Float(box.w), height=Float(box.h), **shape_style(el, ctx))
    return finish_shape(expr, el, ctx, box)


def _arc_extent(start: float, end: float) -> tuple[float, float, float, float]:
    """The bounding box (left, right, bottom, top) of an arc of radius 1 about the origin."""
    turns = max(int(abs(end - start) / 2) + 2, 3)  # a point every two degrees or so
    angles = [math.radians(start + (end - start) * i / (turns - 1)) for i in range(turns)]
    xs, ys = [math.cos(a) for a in angles], [math.sin(a) for a in angles]
    return min(xs), max(xs), min(ys), max(ys)


def _degrees(value: float) -> Raw:
    """`120 * DEGREES`: an angle as the lesson wrote it, in Manim's radians."""
    text = ir.exact_num(value)
    return Raw(f"{text[:-2] if text.endswith('.0') else text} * DEGREES")


@element("arc")
def lower_arc(el: Element, ctx: SectionContext) -> Lowered:
    radius = ctx.number(el, "radius")
    start, end = ctx.number(el, "start", 0.0) or 0.0, ctx.number(el, "end", 90.0)
    end = 90.0 if end is None else end
    left, right, bottom, top = _arc_extent(start, end)
    r = radius if radius is not None else 1.0
    w, h = max(right - left, 1e-3) * r, max(top - bottom, 1e-3) * r
    # its box scales the arc (keeping its shape): an area fills it when no radius is given
    placed = ctx.place(el, w, h, upscale=isinstance(el.placement, In) and radius is None,
                       max_size=(layout.GRID.w, layout.GRID.h))
    if isinstance(el.placement, Relative):
        ctx.occupancy.take_box(placed.box)
    r *= placed.scale
    center = (placed.box.cx - (left + right) / 2 * r, placed.box.cy - (bottom + top) / 2 * r)
    style: dict = {"color": ctx.color(el, "color", ctx.theme.shape)}
    stroke = ctx.number(el, "stroke")
    if stroke is not None:
        style["stroke_width"] = Float(stroke)
    expr = call("Arc", radius=Float(r), start_angle=_degrees(start), angle=_degrees(end - start),
                arc_center=point(*center), **style)
    box = Box(placed.box.cx, placed.box.cy, (right - left) * r, (top - bottom) * r)
    extra = ctx.extra_scale(el)
    if abs(extra - 1.0) > 1e-9:
        expr = expr.then("scale", Float(extra))
        box = Box(box.cx, box.cy, box.w * extra, box.h * extra)
    return Lowered(expr, box, natural=(box.w, box.h), resizable=True)


# ---------------------------------------------------------------- angles


@element("angle")
def lower_angle(el: Element, ctx: SectionContext) -> Lowered:
    return _angle_mark(el, ctx, right=False)


@element("rightangle")
def lower_rightangle(el: Element, ctx: SectionContext) -> Lowered:
    return _angle_mark(el, ctx, right=True)


def _angle_mark(el: Element, ctx: SectionContext, *, right: bool) -> Lowered:
    size = ctx.number(el, "side" if right else "radius", RIGHT_ANGLE_SIDE if right else ANGLE_RADIUS)
    style: dict = {"radius": Float(size or ANGLE_RADIUS)}
    if right:
        style["right"] = True
    label = None if right else ctx.string(el, "label")
    if label:
        style["label"] = label
        style["font_size"] = ctx.font_size(el, ctx.theme.label_font_size)
    style["color"] = ctx.color(el, "color", ctx.theme.text if right else ctx.theme.accent)
    stroke = ctx.number(el, "stroke")
    if stroke is not None:
        style["stroke_width"] = Float(stroke)
    ends = el.endpoints
    if el.target is not None:
        expr, corner, deps = _at_corner(el, ctx, el.target, style)
    elif ends is not None and isinstance(ends.start, Ref) and isinstance(ends.end, Ref):
        expr, corner, deps = _between(el, ctx, ends.start, ends.end, style)
    else:
        raise error(f"{el.kind} '{el.id}' needs `on POLYGON corner=N` or `from LINE to LINE`", el.span,
                    code="angle-shape")
    reach = (size or ANGLE_RADIUS) + (LABEL_REACH if label else 0.0)
    return Lowered(expr, Box(corner[0], corner[1], 2 * reach, 2 * reach), deps=deps, resizable=False)


Mark = tuple[ir.Call, Pt, tuple[str, ...]]  # the mark's code, its corner, the elements it is drawn on


def _at_corner(el: Element, ctx: SectionContext, target: Ref, style: dict) -> Mark:
    polygon = ctx.element(target.name)
    if polygon is None or polygon.kind != "polygon":
        raise error(f"'{target.name}' is not a polygon", target.span, code="angle-target")
    low = ctx.resolve(target.name, target.span)
    corner = int(ctx.number(el, "corner", 1) or 1)
    if not 1 <= corner <= len(polygon.points):
        raise error(f"'{target.name}' has no corner {corner}", el.span, code="angle-corner")
    expr = call("corner_angle", Var(ctx.var(target.name)), corner, **style)
    where = _vertex(polygon, low.box, corner) if low.box is not None else (0.0, 0.0)
    return expr, where, (target.name,)


def _vertex(polygon: Element, box: Box, corner: int) -> Pt:
    """Where a polygon's corner is drawn: its points are mapped onto its box, each axis by a
    scale and a shift (as the layout fits them, or as axes place them)."""
    xs, ys = [p.x for p in polygon.points], [p.y for p in polygon.points]
    p = polygon.points[corner - 1]
    sx = box.w / (max(xs) - min(xs)) if max(xs) > min(xs) else 0.0
    sy = box.h / (max(ys) - min(ys)) if max(ys) > min(ys) else 0.0
    return (box.left + (p.x - min(xs)) * sx, box.bottom + (p.y - min(ys)) * sy)


def _between(el: Element, ctx: SectionContext, first: Ref, second: Ref,
             style: dict) -> Mark:
    for ref in (first, second):
        line = ctx.element(ref.name)
        if line is None or line.kind not in ("line", "arrow"):
            raise error(f"'{ref.name}' is not a line", ref.span, code="angle-target")
    a, b = ctx.resolve(first.name, first.span), ctx.resolve(second.name, second.span)
    expr = call("angle_between", Var(ctx.var(first.name)), Var(ctx.var(second.name)), **style)
    return expr, _meeting_point(a, b), (first.name, second.name)


def _meeting_point(a: Lowered, b: Lowered) -> Pt:
    """Where two lines (as lowered) meet, or near it when their ends are not literal points."""
    ends_a, ends_b = _ends(a.expr), _ends(b.expr)
    if ends_a and ends_b:
        (p, q), (r, s) = ends_a, ends_b
        u, v = (q[0] - p[0], q[1] - p[1]), (s[0] - r[0], s[1] - r[1])
        cross = u[0] * v[1] - u[1] * v[0]
        if abs(cross) > 1e-12:
            t = ((r[0] - p[0]) * v[1] - (r[1] - p[1]) * v[0]) / cross
            return (p[0] + t * u[0], p[1] + t * u[1])
    boxes = [low.box for low in (a, b) if low.box is not None]
    if not boxes:
        return (0.0, 0.0)
    return (sum(bx.cx for bx in boxes) / len(boxes), sum(bx.cy for bx in boxes) / len(boxes))


def _ends(expr: ir.Call) -> tuple[Pt, Pt] | None:
    """The two literal points of `Line(np.array([x, y, 0]), np.array([x, y, 0]), …)`."""
    pts: list[Pt] = []
    for arg in expr.args:
        if isinstance(arg, ir.Call) and arg.func == "np.array" and arg.args and isinstance(arg.args[0], list):
            coords = arg.args[0]
            if len(coords) >= 2 and all(isinstance(c, Float) for c in coords[:2]):
                pts.append((coords[0].value, coords[1].value))
    return (pts[0], pts[1]) if len(pts) == 2 else None
