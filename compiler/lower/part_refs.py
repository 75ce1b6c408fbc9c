"""Parts of elements in the generated code, and where they are on the grid.

A reference to a part (`t[2, 3]`, compiler/parts.py) is written `part_of(t, 'cell', 2, 3)` (the
runtime's PartView: runtime/part_support.py). A formula whose terms the section points at, or
that a `transform` turns into another formula (or comes from one), is built by `formula(…)`
with those terms picked out (`carry`: the terms between its operators too), so that its terms
can be coloured, framed and pointed at, and carried across the rearrangement by
TransformMatchingTex.

The layout needs a part's box (a label `right of eq[$b^2$]`, an arrow `to t[2, 3]`, a frame
`around` it): measured on the real mobjects through the Measurer (`box`), or estimated from
the element's box when measuring is off (tests of the code's shape only).
"""

from __future__ import annotations

from typing import Any

from ..layout import Box
from ..model import Element, Part, Section
from ..parts import code_lines, list_items, referenced_terms, table_size
from . import ir


def selector(part: Part) -> tuple[Any, ...]:
    """The arguments after the element in `part_of(element, …)`."""
    if part.kind == "term":
        return ("term", part.term)
    return (part.kind, *part.numbers)


def part_call(element: Any, part: Part) -> ir.Call:
    return ir.call("part_of", element, *selector(part))


def carried(section: Section, element_id: str) -> bool:
    """Whether a formula is turned into another formula, or comes from one (its terms carry)."""
    for step in section.steps:
        for act in step.actions:
            if act.verb != "transform" or act.into is None or not act.targets:
                continue
            ends = (act.targets[0].name, act.into.name)
            if element_id in ends and all(_is_math(section, e) for e in ends):
                return True
    return False


def _is_math(section: Section, element_id: str) -> bool:
    el = section.element(element_id)
    return el is not None and el.kind == "math"


def formula_call(el: Element, section: Section, tex: str, **kwargs: Any) -> ir.Call:
    """The constructor of a math element: MathTex, or `formula` when its terms are pointed at
    or carried."""
    terms = referenced_terms(section, el.id)
    carry = carried(section, el.id)
    if not terms and not carry:
        return ir.call("MathTex", tex, **kwargs)
    more: dict[str, Any] = {"terms": terms} if terms else {}
    if carry:
        more["carry"] = True
    return ir.call("formula", tex, **more, **kwargs)


def estimate_part_box(el: Element, box: Box, part: Part) -> Box:
    """A part's box when measuring is off: its share of the element's box (rows and columns
    of a table, items of a list, lines of code); a term is taken as the whole formula."""
    if el.kind == "table":
        rows, cols = table_size(el)
        w, h = box.w / max(cols, 1), box.h / max(rows, 1)
        r0, r1 = (part.numbers[0],) * 2 if part.kind in ("cell", "row") else (1, rows)
        column = part.numbers[1] if part.kind == "cell" else part.numbers[0]
        c0, c1 = (column,) * 2 if part.kind in ("cell", "column") else (1, cols)
        return Box.from_edges(box.left + (c0 - 1) * w, box.left + c1 * w, box.top - r1 * h,
                              box.top - (r0 - 1) * h)
    n = list_items(el) if el.kind == "bullets" else len(code_lines(el)) if el.kind == "code" else 0
    if n and part.kind in ("item", "line"):
        h = box.h / n
        i = part.numbers[0]
        return Box.from_edges(box.left, box.right, box.top - i * h, box.top - (i - 1) * h)
    return box


def moved_with(part_box: Box, laid_out: Box, now: Box) -> Box:
    """A part's box once its element went from `laid_out` to `now` (moved, scaled)."""
    s = now.w / laid_out.w if laid_out.w > 1e-9 else 1.0
    return Box(now.cx + (part_box.cx - laid_out.cx) * s, now.cy + (part_box.cy - laid_out.cy) * s,
               part_box.w * s, part_box.h * s)
