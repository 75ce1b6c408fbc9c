"""Lowering of groups (`group g of a, b, c in B1..D4`, compiler/groups.py):

    g = VGroup(a, b, c)                         # its members, as laid out

Each member is laid out as it would be alone (at its own place, beside another member, or
automatically). A placed group (or one with `scale=`) then scales its members as one, keeping
how they sit, into its place: every element it holds gets the same `.scale(s, about_point=…)
.shift(…)` at the end of its own code, so that what is placed beside a member, drawn on it or
measured on it (axes' coordinates, parts) sees it where it ends up. An element whose code takes
its place from another element the group moves (a plot on axes, a frame around a member, an
angle at a polygon's corner) follows that element instead of being moved twice. The group is
fitted as soon as one of its members is laid out (`AFTER_RESOLVE`), before anything outside is
placed beside a member.

Actions: `create`, `write`, `fade in`, `fade out`, `remove` and `color` act on each member
(compiler.groups.expanded, in the writer); `move`, `scale`, `rotate` and `indicate` act on the
VGroup as one, and `follow` then keeps the layout's idea of where each member is (`ctx.current`).
"""

from __future__ import annotations

from .. import layout
from ..coordinates import Frame
from ..groups import held, is_group, leaves
from ..kinds import KINDS
from ..layout import Box, Shifted
from ..model import Action, Element, In, Relative
from . import ir
from .ir import Float, Var, call, point
from .parts import about_point, turned
from .registry import AFTER_RESOLVE, Lowered, SectionContext, element

# Kinds whose mobject may not be a VMobject (an ImageMobject, what a custom element's code builds):
# a group holding one is a Group, which holds any mobject.
NOT_VECTOR = frozenset({"image", "custom"})


@element("group", show="FadeIn")
def lower_group(el: Element, ctx: SectionContext) -> Lowered:
    names = _members(el, ctx)
    for ref in el.members:
        if ref.name in names:
            ctx.resolve(ref.name, ref.span)
    kinds = {ctx.element(leaf).kind for leaf in leaves(ctx.section, el.id)}  # type: ignore[union-attr]
    expr = call("Group" if kinds & NOT_VECTOR else "VGroup", *[Var(ctx.var(n)) for n in names])
    box = union(ctx.current.get(n) or ctx.lowered[n].box for n in names)
    if box is None:
        return Lowered(expr, None, deps=tuple(names))
    scale, center = _place(el, ctx, box)
    if abs(ir.rounded(scale) - 1.0) > 1e-9 or max(abs(center[0] - box.cx), abs(center[1] - box.cy)) > 1e-4:
        _fit(ctx, el.id, box.center, scale, center)
    fitted = Box(center[0], center[1], box.w * scale, box.h * scale)
    return Lowered(expr, fitted, deps=tuple(names), natural=(box.w, box.h), scale=scale, resizable=True)


def _members(el: Element, ctx: SectionContext) -> list[str]:
    """The members that can be drawn: elements of the section, each once, not the group itself
    (the checks report the others)."""
    out: list[str] = []
    for ref in el.members:
        if ref.name != el.id and ref.name not in out and ctx.element(ref.name) is not None:
            out.append(ref.name)
    return out


def union(boxes) -> Box | None:  # noqa: ANN001 (any iterable of boxes or None)
    """The box around these boxes (None when there are none)."""
    have = [b for b in boxes if b is not None]
    if not have:
        return None
    return Box.from_edges(min(b.left for b in have), max(b.right for b in have),
                          min(b.bottom for b in have), max(b.top for b in have))


def _place(el: Element, ctx: SectionContext, box: Box) -> tuple[float, tuple[float, float]]:
    """The scale and centre a group's members get: its placement's, as for one element of their
    size (an area is filled when nothing in it is text, as shapes fill theirs; text only
    shrinks to fit), times `scale=`; without a placement, where they are."""
    extra = ctx.extra_scale(el)
    if el.placement is None:
        return extra, box.center
    textual = any(KINDS[ctx.element(n).kind].textual for n in leaves(ctx.section, el.id))  # type: ignore[union-attr]
    placed = ctx.place(el, max(box.w, 1e-6), max(box.h, 1e-6),
                       upscale=isinstance(el.placement, In) and not textual,
                       max_size=(layout.GRID.w, layout.GRID.h))
    if isinstance(el.placement, Relative):
        ctx.occupancy.take_box(placed.box)
    return placed.scale * extra, placed.box.center


# ---------------------------------------------------------------- fitting the members


def _fit(ctx: SectionContext, group_id: str, origin: tuple[float, float], scale: float,
         center: tuple[float, float]) -> None:
    """Scale every element the group holds by `scale` about `origin`, then move `origin` to
    `center`: in its code, and in what the layout knows of it."""
    inside = set(held(ctx.section, group_id))

    def moved(b: Box) -> Box:
        return Box(center[0] + (b.cx - origin[0]) * scale, center[1] + (b.cy - origin[1]) * scale,
                   b.w * scale, b.h * scale)

    for name in inside:
        low = ctx.lowered[name]
        if not is_group(ctx.section, name) and not inside.intersection(low.deps):
            low.expr = _fitted_expr(low.expr, origin, scale, center)  # (else it follows what it is on)
        if low.box is not None:
            low.box = moved(low.box)
        if name in ctx.current:
            ctx.current[name] = moved(ctx.current[name])
        low.scale *= scale
        ctx.scale_now[name] = low.scale
        if name in ctx.frames:
            ctx.frames[name] = _moved_frame(ctx.frames[name], origin, scale, center)
        if name in ctx.shifted:
            s = ctx.shifted[name]
            ctx.shifted[name] = Shifted(s.element, moved(s.box), moved(s.wanted),
                                        moved(s.target) if s.target is not None else None)
    for key, box in list(ctx.part_boxes.items()):
        if key[0] in inside:
            ctx.part_boxes[key] = moved(box)


def _fitted_expr(expr: ir.Call, origin: tuple[float, float], scale: float,
                 center: tuple[float, float]) -> ir.Call:
    if abs(ir.rounded(scale) - 1.0) > 1e-9:
        expr = expr.then("scale", Float(scale), about_point=point(*origin))
    dx, dy = center[0] - origin[0], center[1] - origin[1]
    if max(abs(dx), abs(dy)) > 1e-4:
        expr = expr.then("shift", point(dx, dy))
    return expr


def _moved_frame(frame: Frame, origin: tuple[float, float], scale: float,
                 center: tuple[float, float]) -> Frame:
    ox, oy = frame.origin
    return Frame(frame.x0, frame.y0,
                 (center[0] + (ox - origin[0]) * scale, center[1] + (oy - origin[1]) * scale),
                 (frame.per_x[0] * scale, frame.per_x[1] * scale),
                 (frame.per_y[0] * scale, frame.per_y[1] * scale))


def _with_its_group(ctx: SectionContext, element_id: str) -> None:
    """Lay out the group that holds an element as soon as the element is: the group may move it."""
    group = ctx.group_of.get(element_id)
    if group is not None and group not in ctx.lowered and not ctx.resolving(group):
        ctx.resolve(group)


AFTER_RESOLVE.append(_with_its_group)


# ---------------------------------------------------------------- following actions


def boxes_before(act: Action, ctx: SectionContext) -> dict[str, Box]:
    """Where the groups an action moves as one are before it (for `follow`)."""
    if not ctx.group_of:
        return {}
    out: dict[str, Box] = {}
    for ref in act.targets:
        if ref.part is None and is_group(ctx.section, ref.name):
            box = ctx.ref_box(ref, now=True)
            if box is not None:
                out[ref.name] = box
    return out


def follow(act: Action, ctx: SectionContext, before: dict[str, Box]) -> None:
    """After an action: the members of a group it moved, scaled or turned went with it; and each
    group is where its members are now (one of them may have moved alone)."""
    if not ctx.group_of:
        return
    for group, old in before.items():
        new = ctx.current.get(group)
        if new is None or new == old:
            continue
        for name in held(ctx.section, group):
            now = ctx.current.get(name) or ctx.lowered[name].box
            if now is not None:
                ctx.current[name] = _carried(act, ctx, now, old, new)
    for group in set(ctx.group_of.values()):
        if group in ctx.lowered:
            box = union(ctx.current.get(n) for n in leaves(ctx.section, group))
            if box is not None:
                ctx.current[group] = box


def _carried(act: Action, ctx: SectionContext, box: Box, old: Box, new: Box) -> Box:
    """Where a member goes when its group goes from `old` to `new`: turned with it, or moved and
    scaled with it."""
    if act.verb == "rotate":
        degrees = float(act.value) if isinstance(act.value, int | float) else 0.0
        return turned(box, degrees, about_point(ctx, act.about, old))
    s = new.w / old.w if old.w > 1e-9 else (new.h / old.h if old.h > 1e-9 else 1.0)
    return Box(new.cx + (box.cx - old.cx) * s, new.cy + (box.cy - old.cy) * s, box.w * s, box.h * s)
