"""Lowering of restyling (`color`, `scale`, `rotate`) and of frames (`frame f around X`).

A restyle acts on what a reference names (an element, or for `color` a part of it:
`part_of(…)`, lower/part_refs.py) over the step: `.animate.set_color`, `.animate.scale`,
`Rotate`. A frame is the runtime's `frame_around` (runtime/part_support.py): a rectangle
around an element or a part, with an updater that keeps it around it as it moves or grows.
The layout follows each restyle in `ctx.current`, as it follows `move`.
"""

from __future__ import annotations

import math

from .. import layout
from ..layout import Box
from ..model import Action, Element, Ref, Relative
from . import ir
from .ir import Float, Raw, call, method, point
from .motion import rotation
from .registry import Lowered, SectionContext, StepCode, action, color_value, element, error

FRAME_BUFF = 0.1  # between a frame and what it goes around


def _shown(ctx: SectionContext, ref: Ref) -> ir.Var | ir.Call:
    if ctx.element(ref.name) is None:
        raise error(f"no element '{ref.name}' in section '{ctx.section.id}'", ref.span,
                    code="unknown-element")
    return ctx.ref_expr(ref)


@action("color")
def lower_color(act: Action, ctx: SectionContext, step: StepCode) -> None:
    color = color_value(act.value)
    if color is None:
        raise error("`color` needs a colour", act.span, code="bad-action")
    for ref in act.targets:
        step.animations.append(method(ir.Attr(_shown(ctx, ref), "animate"), "set_color", color))


@action("scale")
def lower_scale(act: Action, ctx: SectionContext, step: StepCode) -> None:
    factor = float(act.value) if isinstance(act.value, int | float) else 1.0
    for ref in act.targets:
        step.animations.append(method(ir.Attr(_shown(ctx, ref), "animate"), "scale", Float(factor)))
        now = ctx.ref_box(ref, now=True)
        if now is not None:
            ctx.current[ref.name] = Box(now.cx, now.cy, now.w * factor, now.h * factor)


def about_point(ctx: SectionContext, ref: Ref | None, box: Box) -> tuple[float, float]:
    """The point a rotation turns about: a cell's centre, an element's centre now, or its own."""
    if ref is None:
        return box.center
    if layout.is_cell_name(ref.name) and ctx.element(ref.name) is None:
        return layout.cell_center(ref.name)
    other = ctx.ref_box(ref, now=True)
    return other.center if other is not None else box.center


def turned(box: Box, degrees: float, about: tuple[float, float]) -> Box:
    """The box around `box` turned by `degrees` about a point."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    corners = [(box.left, box.bottom), (box.left, box.top), (box.right, box.bottom), (box.right, box.top)]
    ax, ay = about
    turned = [(ax + (x - ax) * c - (y - ay) * s, ay + (x - ax) * s + (y - ay) * c) for x, y in corners]
    xs, ys = [p[0] for p in turned], [p[1] for p in turned]
    return Box.from_edges(min(xs), max(xs), min(ys), max(ys))


@action("rotate")
def lower_rotate(act: Action, ctx: SectionContext, step: StepCode) -> None:
    degrees = float(act.value) if isinstance(act.value, int | float) else 0.0
    for ref in act.targets:
        target = _shown(ctx, ref)
        now = ctx.ref_box(ref, now=True)
        kwargs: dict = {"angle": Raw(f"{ir.exact_num(degrees)} * DEGREES")}
        if act.about is not None and now is not None:
            about = about_point(ctx, act.about, now)
            kwargs["about_point"] = point(*about)
            ctx.current[ref.name] = turned(now, degrees, about)
        elif now is not None:
            ctx.current[ref.name] = turned(now, degrees, now.center)
        step.animations.append(rotation(act, target, **kwargs))  # (`ease=`: over the whole step)


@element("frame")
def lower_frame(el: Element, ctx: SectionContext) -> Lowered:
    if not isinstance(el.placement, Relative) or el.placement.relation != "around":
        raise error(f"frame '{el.id}' goes around an element, e.g. `around eq`", el.span,
                    code="frame-placement")
    target = el.placement.target
    kwargs: dict = {"color": ctx.color(el, "color", ctx.theme.accent), "buff": Float(FRAME_BUFF)}
    stroke = ctx.number(el, "stroke")
    if stroke is not None:
        kwargs["stroke_width"] = Float(stroke)
    expr = call("frame_around", ctx.ref_expr(target), **kwargs)
    around = ctx.ref_box(target)
    box = Box(around.cx, around.cy, around.w + 2 * FRAME_BUFF, around.h + 2 * FRAME_BUFF) \
        if around is not None else None
    return Lowered(expr, box, deps=(target.name,), resizable=False)
