"""Groups: elements that move, fade and fit into a place as one (`group g of a, b, c in B1..D4`).

A group is an element whose kind holds members (`KindSpec.members`). This module answers from the
lesson alone what the checks, the step order, the lowering and the layout rules ask about groups:

- a group's *leaves*: the elements it holds in the end, its members with any group among them
  replaced by that group's own leaves (each once, in the order written; a cycle, which the checks
  report, is cut);
- how an action on a group acts on its members (`expanded`): showing, hiding and recolouring act
  on each leaf as they would alone (`create g` writes the text and traces the shapes; a member
  that draws in colours of its own keeps them); `move`, `scale`, `rotate`, `indicate` and
  `highlight` act on the group as one, about its centre;
- when a group is on screen: when all of its leaves are (`GroupIndex.shown`), however they got
  there, and it is gone as soon as one of them goes;
- which elements a placed group fits (`fitted`): placed, a group scales its leaves together,
  keeping how they sit, into its place; without a placement they stay where they are.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, replace

from . import model as m
from .kinds import HIDING_VERBS, KINDS, SHOWING_VERBS

# Verbs that act on each leaf of a group as on an element alone; the others act on it as one.
ONE_BY_ONE = SHOWING_VERBS | HIDING_VERBS | {"color"}


def is_group(section: m.Section, name: str) -> bool:
    el = section.element(name)
    spec = KINDS.get(el.kind) if el is not None else None
    return spec is not None and spec.members


def leaves(section: m.Section, name: str) -> tuple[str, ...]:
    """The elements a name stands for: itself, or a group's leaves (none for an unknown name)."""
    out: list[str] = []
    _collect(section, name, out, set())
    return tuple(out)


def _collect(section: m.Section, name: str, out: list[str], seen: set[str]) -> None:
    if name in seen:
        return
    seen.add(name)
    el = section.element(name)
    if el is None:
        return
    if not is_group(section, name):
        out.append(name)
        return
    for ref in el.members:
        _collect(section, ref.name, out, seen)


def groups_of(section: m.Section) -> dict[str, str]:
    """The group each element is a member of (the first that names it: the checks refuse a
    second)."""
    owner: dict[str, str] = {}
    for el in section.elements:
        if is_group(section, el.id):
            for ref in el.members:
                if ref.name != el.id:
                    owner.setdefault(ref.name, el.id)
    return owner


def ancestors(owner: dict[str, str], name: str) -> list[str]:
    """The groups an element is in: its own group, that group's group, and so on."""
    out: list[str] = []
    while name in owner and owner[name] not in out and owner[name] != name:
        name = owner[name]
        out.append(name)
    return out


def expanded(action: m.Action, section: m.Section) -> m.Action:
    """The action as it acts on elements: a group shown, hidden or recoloured stands for its
    leaves (each at the group's reference, for the diagnostics); other verbs act on it as one."""
    if action.verb not in ONE_BY_ONE or not any(is_group(section, r.name) for r in action.targets):
        return action
    targets: list[m.Ref] = []
    for ref in action.targets:
        if not is_group(section, ref.name):
            targets.append(ref)
            continue
        for leaf in leaves(section, ref.name):
            if action.verb == "color" and _own_colors(section, leaf):
                continue  # a code listing or an image keeps its colours
            targets.append(m.Ref(leaf, ref.span))
    return replace(action, targets=tuple(targets))


def _own_colors(section: m.Section, name: str) -> bool:
    el = section.element(name)
    spec = KINDS.get(el.kind) if el is not None else None
    return spec is not None and spec.own_colors


@dataclass(frozen=True)
class GroupIndex:
    """A section's groups and their leaves, found once (the timeline asks after every action)."""

    leaves: dict[str, tuple[str, ...]]

    @staticmethod
    def of(section: m.Section) -> GroupIndex:
        return GroupIndex({el.id: leaves(section, el.id) for el in section.elements
                           if is_group(section, el.id)})

    def shown(self, visible: Set[str]) -> set[str]:
        """The groups on screen when these elements are: those whose leaves all are."""
        return {g for g, held in self.leaves.items() if held and all(leaf in visible for leaf in held)}


def fitted(section: m.Section) -> dict[str, str]:
    """Each element that a placed group moves into its place (a placed group's leaves, and the
    groups among its members), with the outermost such group."""
    owner = groups_of(section)
    out: dict[str, str] = {}
    for el in section.elements:
        if not is_group(section, el.id) or el.placement is None:
            continue
        if any(section.element(g) is not None and section.element(g).placement is not None  # type: ignore[union-attr]
               for g in ancestors(owner, el.id)):
            continue  # an outer placed group fits it, and its leaves with it
        for name in held(section, el.id):
            out[name] = el.id
    return out


def held(section: m.Section, name: str) -> list[str]:
    """Every element a group holds, at any depth: leaves and groups."""
    out: list[str] = []
    stack = [name]
    while stack:
        el = section.element(stack.pop())
        for ref in el.members if el is not None else ():
            if ref.name not in out and ref.name != name and section.element(ref.name) is not None:
                out.append(ref.name)
                stack.append(ref.name)
    return out


def with_leaves(section: m.Section, pairs: set[frozenset[str]]) -> set[frozenset[str]]:
    """Pairs of elements, a group in a pair standing for each of its leaves too (a frame around a
    group, a label beside it, an arrow to it: exempt from its members as from the group)."""
    out = set(pairs)
    for pair in pairs:
        names = sorted(pair)
        if len(names) != 2:
            continue
        a, b = names
        for x in leaves(section, a) if is_group(section, a) else (a,):
            for y in leaves(section, b) if is_group(section, b) else (b,):
                if x != y:
                    out.add(frozenset((x, y)))
    return out
