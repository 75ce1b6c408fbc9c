"""Hover: the reference entry of a kind, option, setting or action (from kinds.py, as
`lecture reference` prints it); for an id, what it is and where it is (its box in grid cells,
measured by the last layout pass, or from its placement); for a cell, where it is."""

from __future__ import annotations

import re

from lecture.compiler.kinds import KINDS, OPTIONS, SETTINGS, VERBS
from lecture.compiler.layout import Box, area_box, cell_box, cells_covered, is_cell_name
from lecture.compiler.model import At, Element, In, LectureLine, Section
from lecture.compiler.theme import GRID_ROWS


def _users(key: str) -> str:
    return ", ".join(k.name for k in KINDS.values() if key in k.options)


def kind_entry(kind: str) -> str:
    spec = KINDS[kind]
    options = ", ".join(f"`{o}`" for o in spec.options) or "none"
    return f"**{kind}** — {spec.doc}\n\n```lecture\n{spec.example}\n```\n\noptions: {options}"


def option_entry(key: str) -> str:
    spec = OPTIONS[key]
    return f"**{key}=** ({spec.type}) — {spec.doc}\n\nused by: {_users(key)}"


def verb_entry(verb: str) -> str:
    doc, example = VERBS[verb]
    return f"**{verb}** — {doc}\n\n```lecture\n{example}\n```"


def setting_entry(key: str) -> str:
    kind, doc = SETTINGS[key]
    return f"**{key}:** ({kind}) — {doc}"


def cells_text(box: Box) -> str:
    """A box as the grid cells it covers: `B2..E5`, `C3`, or `outside the grid`."""
    covered = cells_covered(box)
    if not covered:
        return "outside the grid"
    rows = [r for r, _ in covered]
    columns = [c for _, c in covered]
    first = f"{GRID_ROWS[min(rows)]}{min(columns) + 1}"
    last = f"{GRID_ROWS[max(rows)]}{max(columns) + 1}"
    return first if first == last else f"{first}..{last}"


def _box_text(box: Box) -> str:
    return (f"{cells_text(box)} (x {box.left:.2f}..{box.right:.2f}, y {box.bottom:.2f}..{box.top:.2f}, "
            f"{box.w:.2f} × {box.h:.2f} units)")


def placement_box(el: Element) -> Box | None:
    """The box its placement names when that needs no measuring: a cell, or an area."""
    if isinstance(el.placement, At) and is_cell_name(el.placement.cell.name):
        return cell_box(el.placement.cell)
    if isinstance(el.placement, In) and is_cell_name(el.placement.first.name) \
            and is_cell_name(el.placement.last.name):
        return area_box(el.placement.first, el.placement.last)
    return None


def id_entry(section: Section, node: Element | LectureLine, measured: Box | None) -> str:
    if isinstance(node, LectureLine):
        return f"lecture line **{node.id}** of section `{section.id}`\n\n> {node.text.value}"
    head = f"**{node.kind} {node.id}** — {KINDS[node.kind].doc if node.kind in KINDS else 'element'}"
    if measured is not None:
        return f"{head}\n\nbox: {_box_text(measured)}, as laid out by the last check"
    planned = placement_box(node)
    if planned is not None:
        return f"{head}\n\nplaced in {_box_text(planned)}"
    return f"{head}\n\nits box is measured after a pause in typing, when the lesson has no errors"


def word_entry(word: str, after: str) -> str | None:
    """The entry for a language word under the cursor; `after` is the text that follows it."""
    if re.match(r"\s*=", after) and word in OPTIONS:
        return option_entry(word)
    if re.match(r"\s*:", after) and word in SETTINGS:
        return setting_entry(word)
    if word in KINDS:
        return kind_entry(word)
    if word == "fade":
        return "\n\n".join(verb_entry(v) for v in VERBS if v.startswith("fade"))
    if word in VERBS:
        return verb_entry(word)
    if is_cell_name(word):
        box = cell_box(word.upper())
        return f"grid cell **{word.upper()}**: centre ({box.cx:.2f}, {box.cy:.2f})"
    return None
