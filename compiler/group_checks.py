"""The checks of groups (compiler.checks runs them with the others; the timeline asks
`not_all_shown` about a group used while part of it is off screen):

- `of …` on a kind that holds no members; a group with no members, or with two `of` lists;
- a member that is not an element of the section (or is a lecture line, or a part of an
  element), listed twice, the group itself, or already a member of another group (an element
  belongs to one group: to move two groups as one, group the groups);
- groups that hold each other (`group a of b`, `group b of a`);
- a place that depends on itself: a group placed beside one of its own members (or beside
  something placed beside one), a member placed beside (or joined `from`/`to`) its own group;
- `transform` of or into a group (a group is shown, hidden, moved and restyled, not morphed).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from . import model as m
from .diagnostics import Diagnostic, did_you_mean
from .groups import GroupIndex, ancestors, groups_of, is_group, leaves
from .kinds import KINDS, with_article
from .span import Span


def error(message: str, span: Span, hint: str | None, code: str) -> Diagnostic:
    return Diagnostic("error", message, span, hint, code)


def group_diagnostics(lesson: m.Lesson) -> Iterator[Diagnostic]:
    for section in lesson.sections:
        owner: dict[str, m.Element] = {}
        for el in section.elements:
            yield from _members(el, section, owner)
        yield from _cycles(section)
        yield from _places(section)
        for step in section.steps:
            for act in step.actions:
                yield from _transform(act, section)


def _members(el: m.Element, section: m.Section, owner: dict[str, m.Element]) -> Iterator[Diagnostic]:
    spec = KINDS.get(el.kind)
    lists = [a for a in el.args if isinstance(a, m.Members)]
    if spec is None:
        return  # an unknown kind: reported at its own line
    example = next(s.example for s in KINDS.values() if s.members)
    if spec.follows:
        return  # `trace tr of p`: compiler.motion_checks
    if not spec.members:
        for extra in lists:
            yield error(f"{with_article(el.kind)} holds no members", extra.span,
                        f"only a group takes `of …`: {example}", "bad-args")
        return
    if not el.members:
        yield error(f"the {el.kind} '{el.id}' has no members", el.id_span,
                    f"name the elements it holds after `of`: {example}", "empty-group")
    for extra in lists[1:]:
        yield error(f"the {el.kind} '{el.id}' has two `of` lists", extra.span,
                    "list every member after one `of`, separated by commas", "bad-args")
    listed: set[str] = set()
    for ref in el.members:
        yield from _member(el, ref, section, listed, owner)


def _member(group: m.Element, ref: m.Ref, section: m.Section, listed: set[str],
            owner: dict[str, m.Element]) -> Iterator[Diagnostic]:
    name = ref.name
    if ref.part is not None:
        yield error(f"a {group.kind} holds whole elements, not parts of them", ref.part.span or ref.span,
                    f"write `{name}`; a frame goes around a part: frame f around {name}[…]", "part-not-here")
    if name == group.id:
        yield error(f"'{name}' cannot hold itself", ref.span, "name other elements", "group-cycle")
        return
    if section.element(name) is None:
        yield _unknown(ref, section)
        return
    if name in listed:
        yield error(f"'{name}' is listed twice in '{group.id}'", ref.span, "list each member once",
                    "duplicate-member")
        return
    listed.add(name)
    first = owner.setdefault(name, group)
    if first is not group:
        yield error(f"'{name}' is already a member of the {first.kind} '{first.id}' (line {first.span.line})",
                    ref.span, f"an element belongs to one group; to move both as one, group the groups: "
                              f"group both of {first.id}, {group.id}", "two-groups")


def _unknown(ref: m.Ref, section: m.Section) -> Diagnostic:
    if section.line(ref.name) is not None:
        return error(f"'{ref.name}' is a lecture line, not an element", ref.span,
                     "lecture lines live in the left panel; a group holds elements", "not-an-element")
    names = section.elements_by_id.keys()
    hint = did_you_mean(ref.name, names) or (
        f"known here: {', '.join(islice(names, 12))}{', …' if len(names) > 12 else ''}" if names
        else f"define it in section '{section.id}' first")
    return error(f"no element named '{ref.name}' in section '{section.id}'", ref.span, hint, "undefined-id")


def _cycles(section: m.Section) -> Iterator[Diagnostic]:
    """Groups that hold each other, each cycle once, at the `of` list of its first group."""
    holds = {el.id: [r.name for r in el.members if r.name != el.id and is_group(section, r.name)]
             for el in section.elements if is_group(section, el.id)}
    reported: set[str] = set()
    for start in holds:
        path = _cycle_from(start, holds)
        if path is None or reported.intersection(path):
            continue
        reported.update(path)
        first = min((section.element(g) for g in path), key=lambda e: e.span.line)  # type: ignore[union-attr]
        where = next((a.span for a in first.args if isinstance(a, m.Members)), first.id_span)  # type: ignore[union-attr]
        shown = " → ".join([*path, path[0]])
        yield error(f"these groups hold each other: {shown}", where,
                    "a group holds elements or smaller groups; take one of them out", "group-cycle")


def _cycle_from(start: str, holds: dict[str, list[str]]) -> list[str] | None:
    """A cycle through `start`, as the groups along it, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in holds.get(node, []):
            if nxt == start:
                return path
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def _places(section: m.Section) -> Iterator[Diagnostic]:
    """A place that depends on itself through a group."""
    owner = groups_of(section)
    for el in section.elements:
        if is_group(section, el.id) and isinstance(el.placement, m.Relative):
            held = set(leaves(section, el.id))
            through = _relation_chain(section, el.placement.target.name)
            inside = next((n for n in through if n in held or n == el.id), None)
            if inside is not None:
                via = "" if inside == el.placement.target.name else f", which is placed beside '{inside}'"
                yield error(f"'{el.id}' is placed {el.placement.relation} '{el.placement.target.name}'{via}, "
                            f"which it holds", el.placement.span,
                            "a group's place cannot depend on what it moves: place it at a cell, in an area, "
                            "or beside another element", "group-relation")
        groups = ancestors(owner, el.id)
        for ref in _position_refs(el):
            if ref.name in groups:
                yield error(f"'{el.id}' is placed by '{ref.name}', the group that holds it", ref.span,
                            f"place it beside another member, or take it out of '{ref.name}'",
                            "group-relation")


def _relation_chain(section: m.Section, name: str) -> list[str]:
    """An element, what it is placed beside, what that is placed beside, and so on."""
    out: list[str] = []
    while name not in out:
        out.append(name)
        el = section.element(name)
        if el is None or not isinstance(el.placement, m.Relative):
            break
        name = el.placement.target.name
    return out


def _position_refs(el: m.Element) -> list[m.Ref]:
    """The elements an element's place is taken from: beside, around, `from`/`to`, `on`."""
    refs = [el.placement.target] if isinstance(el.placement, m.Relative) else []
    if el.endpoints is not None:
        refs += el.endpoints.refs
    if el.drawn_on is not None:
        refs.append(el.drawn_on)
    return refs


def _transform(act: m.Action, section: m.Section) -> Iterator[Diagnostic]:
    if act.verb != "transform":
        return
    for ref in (*act.targets, *((act.into,) if act.into is not None else ())):
        if is_group(section, ref.name):
            yield error(f"a group is not transformed: '{ref.name}' is a group", ref.span,
                        "transform its members one by one, or fade the group out and another in",
                        "bad-action")


def not_all_shown(ref: m.Ref, index: GroupIndex, visible: set[str],
                  gone: dict[str, Span]) -> Iterator[Diagnostic]:
    """A group used (moved, indicated…) while some of its members are off screen."""
    missing = [leaf for leaf in index.leaves.get(ref.name, ()) if leaf not in visible]
    if not missing:
        if not index.leaves.get(ref.name):
            yield error(f"'{ref.name}' holds nothing to show", ref.span, "give the group members",
                        "empty-group")
        return
    first = missing[0]
    when = f" (it went at line {gone[first].line})" if first in gone else " yet"
    names = ", ".join(missing)
    yield error(f"'{ref.name}' is not all on screen: '{first}' is not shown{when}", ref.span,
                f"a group acts when all its members are shown; show {'them' if len(missing) > 1 else 'it'} "
                f"first: fade in {names}", "before-exists")
