"""One lowering per action verb. Each adds animations (played together over the step's
time) or statements (run at the step's start) to its step, as expressions of the same IR
the elements lower to (`ir.Call`); the writer prints both."""

from __future__ import annotations

from .. import layout
from ..kinds import KINDS
from ..layout import Box
from ..model import Action, AtCoordinate, Ref, Relative
from . import coords, ir, motion
from .follow import at_step_values
from .ir import SELF, Float, Var, call, method, point
from .part_refs import carried
from .registry import ELEMENTS, SectionContext, StepCode, action, error


def _element_var(ctx: SectionContext, ref: Ref) -> Var:
    """The variable of the element a reference names. Elements appear only when a step shows
    them (as the checks assume): nothing is added behind the lesson's back."""
    if ctx.element(ref.name) is None:
        raise error(f"no element '{ref.name}' in section '{ctx.section.id}'", ref.span,
                    code="unknown-element")
    ctx.resolve(ref.name, ref.span)
    return Var(ctx.var(ref.name))


def show_animation(ctx: SectionContext, element_id: str) -> str:
    el = ctx.element(element_id)
    return ELEMENTS[el.kind].show if el is not None else "FadeIn"


def _target(ctx: SectionContext, ref: Ref) -> Var | ir.Call:
    """What an action on a reference acts on: the element, or a part of it (`part_of(…)`)."""
    _element_var(ctx, ref)
    return ctx.ref_expr(ref)


def _indicate(ctx: SectionContext, ref: Ref) -> ir.Call:
    return call("Indicate", _target(ctx, ref), color=ctx.theme.accent)


@action("create")
def lower_create(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        var = _element_var(ctx, ref)
        step.animations.append(call(show_animation(ctx, ref.name), var))


@action("write")
def lower_write(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        var = _element_var(ctx, ref)
        shown = show_animation(ctx, ref.name)
        step.animations.append(call("Write" if shown in ("Write", "Create") else shown, var))


# How elements appear that have no picture yet to fade or draw (a trace starts drawing): by every verb
# that shows them.
OWN_SHOW = frozenset({"start_trace"})


@action("fade in")
def lower_fade_in(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        var = _element_var(ctx, ref)
        shown = show_animation(ctx, ref.name)
        step.animations.append(call(shown if shown in OWN_SHOW else "FadeIn", var))


@action("fade out")
def lower_fade_out(act: Action, ctx: SectionContext, step: StepCode) -> None:
    step.animations += [call("FadeOut", _element_var(ctx, ref)) for ref in act.targets]


@action("remove")
def lower_remove(act: Action, ctx: SectionContext, step: StepCode) -> None:
    step.before += [method(SELF, "remove", _element_var(ctx, ref)) for ref in act.targets]


@action("indicate")
def lower_indicate(act: Action, ctx: SectionContext, step: StepCode) -> None:
    step.animations += [_indicate(ctx, ref) for ref in act.targets]


@action("play")
def lower_play(act: Action, ctx: SectionContext, step: StepCode) -> None:
    # A custom element runs the animations of its locked code; a placeholder fades in.
    step.animations += [call("play_custom", _element_var(ctx, ref)) for ref in act.targets]


@action("transform")
def lower_transform(act: Action, ctx: SectionContext, step: StepCode) -> None:
    if act.into is None or not act.targets:
        raise error("transform needs `A into B`", act.span, code="transform-shape")
    a = _element_var(ctx, act.targets[0])
    b = _element_var(ctx, act.into)  # laid out at its own placement
    # formula into formula: their terms move to their new places (lower/part_refs.py)
    carry = carried(ctx.section, act.into.name) and carried(ctx.section, act.targets[0].name)
    step.animations.append(call("carry_terms" if carry else "ReplacementTransform", a, b))
    if act.targets[0].name in ctx.current:
        ctx.current.pop(act.targets[0].name)


@action("move")
def lower_move(act: Action, ctx: SectionContext, step: StepCode) -> None:
    if act.along is not None:  # `move p along f`: lower/motion.py
        motion.lower_move_along(act, ctx, step)
        return
    act = at_step_values(ctx, act)  # `move p to (x0, 1) on ax`: where the values put it
    for ref in act.targets:
        var = _element_var(ctx, ref)
        low = ctx.lowered[ref.name]
        now = ctx.current.get(ref.name) or low.box
        if now is None or act.to is None:
            continue
        if isinstance(act.to, AtCoordinate):  # `move p to (3, 9) on ax`: it keeps its size
            animation, box = coords.move_to_coordinate(ctx, ref.name, act.to, (now.w, now.h))
            step.animations.append(animation)
            ctx.current[ref.name] = box
            continue
        target_box = None
        if isinstance(act.to, Relative):
            other = act.to.target
            target_box = ctx.ref_box(other, now=True)
        # A move keeps the element's size: it only shrinks to fit where it goes (shapes may be
        # as large as the grid there, text as large as a cell's text may be), never grows, and a
        # point-like mark (a dot) keeps its size wherever it goes.
        max_size = (layout.GRID.w, layout.GRID.h) if low.resizable else \
            (layout.AT_MAX_WIDTH, layout.AT_MAX_HEIGHT)
        placed = layout.place(act.to, now.w, now.h, occupancy=ctx.occupancy, target_box=target_box,
                              max_size=max_size)
        element = ctx.element(ref.name)
        factor = 1.0 if element is not None and KINDS[element.kind].mark else placed.scale
        animate: ir.Attr | ir.Call = ir.Attr(var, "animate")
        if abs(ir.rounded(factor) - 1.0) > 1e-9:
            animate = method(animate, "scale", Float(factor))
        step.animations.append(method(animate, "move_to", point(placed.box.cx, placed.box.cy)))
        ctx.current[ref.name] = Box(placed.box.cx, placed.box.cy, now.w * factor, now.h * factor)


def _highlight_line(ref: Ref) -> ir.Call:
    return method(SELF, "highlight", ref.name)


@action("highlight")
def lower_highlight(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        if ref.part is not None:  # a part of an element: a marker over it that stays
            step.animations.append(method(SELF, "highlight_part", _target(ctx, ref)))
        elif ctx.section.line(ref.name) is not None:
            step.animations.append(_highlight_line(ref))
        elif ctx.element(ref.name) is not None:  # an element: draw attention to it instead
            step.animations.append(_indicate(ctx, ref))
        else:
            raise error(f"no lecture line or element '{ref.name}'", ref.span, code="unknown-line")


@action("say")
def lower_say(act: Action, ctx: SectionContext, step: StepCode) -> None:
    # Narration is spoken by a later stage; `say l1` also highlights line l1.
    for ref in act.targets:
        if ctx.section.line(ref.name) is not None:
            step.animations.append(_highlight_line(ref))
