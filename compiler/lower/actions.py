"""One lowering per action verb. Each adds animations (played together over the step's
time) or statements (run at the step's start) to its step."""

from __future__ import annotations

from .. import layout
from ..layout import Box
from ..model import Action, In, Ref, Relative
from . import ir
from .ir import point
from .registry import ELEMENTS, SectionContext, StepCode, action, error


def _element_var(ctx: SectionContext, ref: Ref) -> str:
    if ctx.element(ref.name) is None:
        raise error(f"no element '{ref.name}' in section '{ctx.section.id}'", ref.span,
                    code="unknown-element")
    ctx.resolve(ref.name, ref.span)
    return ctx.var(ref.name)


def _each(ctx: SectionContext, ref: Ref, make) -> list[str]:
    """`make(var, element_id)` for the element a reference names. Elements appear only when
    a step shows them (as the checks assume): nothing is added behind the lesson's back."""
    return [make(_element_var(ctx, ref), ref.name)]


def show_animation(ctx: SectionContext, element_id: str) -> str:
    el = ctx.element(element_id)
    return ELEMENTS[el.kind].show if el is not None else "FadeIn"


@action("create")
def lower_create(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        step.animations += _each(ctx, ref, lambda v, i: f"{show_animation(ctx, i)}({v})")


@action("write")
def lower_write(act: Action, ctx: SectionContext, step: StepCode) -> None:
    def make(v: str, i: str) -> str:
        anim = "Write" if show_animation(ctx, i) in ("Write", "Create") else show_animation(ctx, i)
        return f"{anim}({v})"

    for ref in act.targets:
        step.animations += _each(ctx, ref, make)


@action("fade in")
def lower_fade_in(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        step.animations += _each(ctx, ref, lambda v, i: f"FadeIn({v})")


@action("fade out")
def lower_fade_out(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        step.animations += _each(ctx, ref, lambda v, i: f"FadeOut({v})")


@action("remove")
def lower_remove(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        step.before += _each(ctx, ref, lambda v, i: f"self.remove({v})")


@action("indicate")
def lower_indicate(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        step.animations.append(f"Indicate({_element_var(ctx, ref)}, color={ctx.theme.accent!r})")


@action("play")
def lower_play(act: Action, ctx: SectionContext, step: StepCode) -> None:
    # A custom element runs the animations of its locked code; a placeholder fades in.
    for ref in act.targets:
        step.animations += _each(ctx, ref, lambda v, i: f"play_custom({v})")


@action("transform")
def lower_transform(act: Action, ctx: SectionContext, step: StepCode) -> None:
    if act.into is None or not act.targets:
        raise error("transform needs `A into B`", act.span, code="transform-shape")
    a = _element_var(ctx, act.targets[0])
    b = _element_var(ctx, act.into)  # laid out at its own placement
    step.animations.append(f"ReplacementTransform({a}, {b})")
    if act.targets[0].name in ctx.current:
        ctx.current.pop(act.targets[0].name)


@action("move")
def lower_move(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        var = _element_var(ctx, ref)
        low = ctx.lowered[ref.name]
        now = ctx.current.get(ref.name) or low.box
        if now is None or act.to is None:
            continue
        target_box = None
        if isinstance(act.to, Relative):
            other = act.to.target
            target_box = ctx.current.get(other.name) or ctx.box_of(other.name, other.span)
        # Shapes may grow into an area they move to; text only shrinks to fit.
        max_size = (layout.GRID.w, layout.GRID.h) if low.resizable else \
            (layout.AT_MAX_WIDTH, layout.AT_MAX_HEIGHT)
        placed = layout.place(act.to, now.w, now.h, occupancy=ctx.occupancy, target_box=target_box,
                              upscale=isinstance(act.to, In) and low.resizable, max_size=max_size)
        factor = placed.scale
        chain = f"{var}.animate"
        if abs(ir.rounded(factor) - 1.0) > 1e-9:
            chain += f".scale({ir.num(factor)})"
        chain += f".move_to({ir.render(point(placed.box.cx, placed.box.cy))})"
        step.animations.append(chain)
        ctx.current[ref.name] = Box(placed.box.cx, placed.box.cy, now.w * factor, now.h * factor)


def _highlight(ctx: SectionContext, ref: Ref, step: StepCode) -> None:
    if ctx.section.line(ref.name) is not None:
        step.animations.append(f"self.highlight({ref.name!r})")
    elif ctx.element(ref.name) is not None:  # an element: draw attention to it instead
        step.animations.append(f"Indicate({_element_var(ctx, ref)}, color={ctx.theme.accent!r})")
    else:
        raise error(f"no lecture line or element '{ref.name}'", ref.span, code="unknown-line")


@action("highlight")
def lower_highlight(act: Action, ctx: SectionContext, step: StepCode) -> None:
    for ref in act.targets:
        _highlight(ctx, ref, step)


@action("say")
def lower_say(act: Action, ctx: SectionContext, step: StepCode) -> None:
    # Narration is spoken by a later stage; `say l1` also highlights line l1.
    for ref in act.targets:
        if ctx.section.line(ref.name) is not None:
            step.animations.append(f"self.highlight({ref.name!r})")


