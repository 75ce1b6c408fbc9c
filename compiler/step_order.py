"""Actions of one step that act on the same element.

A step's animations play together, but two actions on the same element cannot: `write x;
indicate x` played at once shows an Indicate that keeps restoring the not-yet-written `x`. So
the actions on one element play one after another, in the order written (the lowering makes
them a `Succession`), except for the pairs in CONFLICTS, which make no sense in one step and are
refused, by `lecture check` and by the lowering alike, at the second action.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .diagnostics import Diagnostic
from .groups import leaves
from .model import Action, Section, Step

# What an action does to one element
SHOW = "show"  # create, write, fade in, play
HIDE = "hide"  # fade out
REMOVE = "remove"  # remove: at the step's start, before its animations
ATTEND = "attend"  # indicate; highlight of an element
MOVE = "move"  # move; color, scale, rotate (they change it as a move does)
MORPH = "morph"  # transform A into B: what happens to A (it becomes B)
INTO = "into"  # transform A into B: what happens to B (it takes A's place when the step ends)

_ROLE_OF_VERB = {"create": SHOW, "write": SHOW, "fade in": SHOW, "play": SHOW, "fade out": HIDE,
                 "remove": REMOVE, "indicate": ATTEND, "highlight": ATTEND, "move": MOVE,
                 "transform": MORPH, "color": MOVE, "scale": MOVE, "rotate": MOVE}


@dataclass(frozen=True)
class Conflict:
    earlier: frozenset[str]
    later: frozenset[str]
    problem: str  # {id}: the element; {first}, {second}: the two actions' verbs
    hint: str


# Every other pair plays in the order written. (`lecture check`'s timeline already refuses
# showing an element twice and acting on one after it is faded out, removed or transformed.)
CONFLICTS = (
    Conflict(frozenset({INTO}), frozenset({HIDE, REMOVE, ATTEND, MOVE, MORPH}),
             "'{id}' appears only when the step's `transform` ends, so `{second} {id}` cannot follow it",
             "{second} it in a later step: step 1s: {second} {id}"),
    Conflict(frozenset({SHOW}), frozenset({HIDE, REMOVE}),
             "'{id}' would appear and vanish in the same step (`{first}`, then `{second}`)",
             "take it away in a later step: step 1s: {second} {id}"),
    Conflict(frozenset({ATTEND, MOVE}), frozenset({REMOVE}),
             "`remove` takes '{id}' away at the step's start, before `{first} {id}` plays",
             "use `fade out {id}` to take it away after it, or remove it in a later step"),
    Conflict(frozenset({HIDE, MORPH}), frozenset({SHOW}),
             "'{id}' is shown again in the step that took it away (`{first}`, then `{second}`)",
             "show it again in a later step: step 1s: {second} {id}"),
)


def conflict(earlier: str, later: str) -> Conflict | None:
    return next((c for c in CONFLICTS if earlier in c.earlier and later in c.later), None)


def touched(action: Action, section: Section) -> Iterator[tuple[str, str]]:
    """(element id, what the action does to it) for each element the action acts on (each member
    of a group); lecture lines (`highlight l1`, `say l1`) and unknown names are left out."""
    role = _ROLE_OF_VERB.get(action.verb)
    if role is None:
        return
    for ref in action.targets:
        if action.verb == "highlight" and section.line(ref.name) is not None:
            continue  # a lecture line: not an element (as the lowering decides)
        for name in leaves(section, ref.name):  # a group acts on its members (compiler.groups)
            yield name, role
    if action.verb == "transform" and action.into is not None and section.element(action.into.name):
        yield action.into.name, INTO


def step_conflicts(step: Step, section: Section) -> list[Diagnostic]:
    """The pairs of actions of a step that act on the same element and cannot both play."""
    done: dict[str, list[tuple[str, Action]]] = {}
    found: list[Diagnostic] = []
    for action in step.actions:
        for element_id, role in touched(action, section):
            for earlier_role, earlier in done.get(element_id, []):
                c = conflict(earlier_role, role)
                if c is not None:
                    words = {"id": element_id, "first": earlier.verb, "second": action.verb}
                    found.append(Diagnostic("error", c.problem.format(**words), action.span,
                                            c.hint.format(**words), "step-order"))
                    break
            done.setdefault(element_id, []).append((role, action))
    return found
