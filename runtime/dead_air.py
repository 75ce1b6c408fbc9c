"""Dead air: narration speaking over a picture that does not move.

A step's animations start with the step and run for at most MAX_ANIMATION_SECONDS (a
lecture-line highlight QUICK; a custom element's own animations, a `change` of values, a
`move … along` a path and a `rotate … ease=` the whole step; see step_time.py and
compiler.motion_checks.lasts_the_step); then the picture holds until the step ends. The
step's speech starts with the step too, so whatever of it is still playing once the
animations are done is spoken over a still picture. More than DEAD_AIR_SECONDS of that is a
finding at the step: the viewer listens to a slide that has stopped teaching.

The rule reads the TIMED step (step_timing.py lengthens a step to its speech first), the
same animations the compiler lowers each verb to (compiler/lower/actions.py), played as the
lowering orders them (actions on one element one after another, compiler/lower/writer.py),
and the highlight the scene keeps: `say l1` (or `highlight l1`) highlights line l1 only
when it is not already the highlighted line, otherwise nothing moves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.kinds import RESTYLE_VERBS
from lecture.compiler.model import Action, Section, Step
from lecture.compiler.motion_checks import lasts_the_step
from lecture.compiler.step_order import touched

from .step_time import MAX_ANIMATION_SECONDS, QUICK

DEAD_AIR_SECONDS = 6.0  # narration over a still picture for longer than this is a finding

# Verbs that animate each element they name for the capped animation time.
_ANIMATING = frozenset({"create", "write", "fade in", "fade out", "indicate", "transform", "move"}) \
    | RESTYLE_VERBS  # color, scale, rotate


@dataclass(frozen=True)
class Motion:
    """How long a step's picture moves from the step's start, and the lecture line that is
    highlighted once the step has played."""

    seconds: float
    highlighted: str | None


def step_motion(step: Step, section: Section, highlighted: str | None) -> Motion:
    """How long the picture moves in `step` (timed), given the line highlighted before it.

    Actions on different elements play together; those on the same element one after
    another (compiler/lower/writer.py lowers them to a Succession, each part taking its own
    time), so an element's lane lasts the sum of its actions' times."""
    lanes: list[_Lane] = []
    quick = 0.0  # lecture-line highlights: beside everything else
    for act in step.actions:
        for part in _one_target_each(act):
            runs = _action_runs(part, section, highlighted)
            if not runs:
                continue
            highlighted = runs[-1][1]
            elements = {element_id for element_id, _ in touched(part, section)}
            run = max(r for r, _ in runs)
            if elements:
                _add_to_lanes(lanes, elements, run, (part.verb, tuple(sorted(elements))))
            else:
                quick = max(quick, run)
    moving = max([quick, *(lane.seconds for lane in lanes)])
    return Motion(min(moving, step.seconds), highlighted)


@dataclass
class _Lane:
    """The actions on some elements, played one after another."""

    elements: set[str]
    seconds: float
    last: tuple[str, tuple[str, ...]]  # the last action (verb, elements): the same again plays once


def _one_target_each(act: Action) -> list[Action]:
    """`create a, b` as `create a` and `create b` (as the lowering splits it)."""
    if act.verb == "transform" or len(act.targets) < 2:
        return [act]
    return [replace(act, targets=(ref,)) for ref in act.targets]


def _add_to_lanes(lanes: list[_Lane], elements: set[str], run: float,
                  action: tuple[str, tuple[str, ...]]) -> None:
    joined = [lane for lane in lanes if lane.elements & elements]
    if not joined:
        lanes.append(_Lane(set(elements), run, action))
        return
    first = joined[0]
    for lane in joined[1:]:  # lanes that now meet play together first, then this action
        first.elements |= lane.elements
        first.seconds = max(first.seconds, lane.seconds)
        lanes.remove(lane)
    first.elements |= elements
    if action != first.last:
        first.seconds += run
        first.last = action


def _action_runs(act: Action, section: Section, highlighted: str | None) -> list[tuple[float, str | None]]:
    """The run time of each animation an action (on one target) plays, each with the
    highlighted line after it (`remove` plays none: the element goes at the step's start)."""
    if act.verb == "play" or lasts_the_step(act):
        return [(float("inf"), highlighted)] if act.targets else []
    if act.verb in _ANIMATING:
        return [(MAX_ANIMATION_SECONDS, highlighted)] if act.targets or act.into else []
    if act.verb not in ("say", "highlight"):
        return []
    runs: list[tuple[float, str | None]] = []
    for ref in act.targets:
        if section.line(ref.name) is not None:
            if ref.name != highlighted:
                highlighted = ref.name
                runs.append((QUICK, highlighted))
        elif act.verb == "highlight" and section.element(ref.name) is not None:
            runs.append((MAX_ANIMATION_SECONDS, highlighted))  # an element is indicated
    return runs


def _tenths(value: float) -> str:
    return f"{value:.1f}"


def dead_air(step: Step, speech_seconds: float, motion: Motion, *, strict: bool) -> Diagnostic | None:
    """The dead-air finding of a timed step whose speech lasts `speech_seconds`, or None."""
    still = speech_seconds - motion.seconds
    if still <= DEAD_AIR_SECONDS:
        return None
    moving = (f"the picture stops moving after {_tenths(motion.seconds)} s"
              if motion.seconds > 0 else "nothing moves in this step")
    return Diagnostic(
        "error" if strict else "warning",
        f"the narration speaks for {_tenths(still)} s over a still picture ({moving}; "
        f"more than {DEAD_AIR_SECONDS:g} s is dead air)",
        step.span,
        "split the step into shorter steps, each showing what its sentence says, or add an "
        "`indicate` or a `highlight` of what the narration points at",
        "dead-air")


__all__ = ["DEAD_AIR_SECONDS", "Motion", "dead_air", "step_motion"]
