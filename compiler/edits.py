"""Minimal text edits of a lesson file, at the spans of its nodes.

The Critic changes anchors, and nothing else: `at B2` becomes `at D2`, ` at C4` is
inserted after an element that had no placement, `scale=0.8` is added or rewritten. Every
other byte of the file stays as it was — comments, blank lines, spacing, a byte order
mark, CRLF line ends. Spans hold positions in the *normalised* text (LF, no BOM);
`to_original` maps them back to the file as decoded.

    edits = [placement_edit(element, At(Cell("D", 2)))]
    new_text = apply_edits(source, edits)        # the file's text, edited
    print(unified_diff(source.original, new_text, "lesson.lecture"))
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from .format import placement as placement_text
from .model import Element, Placement
from .source import Source


@dataclass(frozen=True)
class TextEdit:
    """Replace [start, end) of the normalised text with `text` (start == end: insert)."""

    start: int
    end: int
    text: str


class EditError(ValueError):
    """Edits that overlap, or point outside the text."""


def _head_end(el: Element) -> int:
    """Where to insert into an element's statement: after its last argument or option on
    the head line (before a `:` that opens its rows)."""
    ends = [el.id_span.end_pos, el.kind_span.end_pos]
    for arg in el.args:
        ends.append(arg.span.end_pos)
    for opt in el.options:
        ends.append(opt.span.end_pos)
    if el.placement is not None:
        ends.append(el.placement.span.end_pos)
    first_row = min((t.span.start_pos for row in el.rows for t in row if t.span.end_pos), default=None)
    ends = [e for e in ends if e and (first_row is None or e <= first_row)]
    return max(ends)


def placement_edit(el: Element, new: Placement) -> TextEdit:
    """`at B2` -> `at D2` at the placement's own span, or ` at D2` inserted when the element
    had none."""
    text = placement_text(new)
    if el.placement is not None and el.placement.span.end_pos > el.placement.span.start_pos:
        return TextEdit(el.placement.span.start_pos, el.placement.span.end_pos, text)
    at = _head_end(el)
    return TextEdit(at, at, " " + text)


def format_number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "0") else "0.001"


def option_edit(el: Element, key: str, value: float) -> TextEdit:
    """`key=value`: the existing option's value rewritten, or the option appended."""
    for opt in el.options:
        if opt.key == key and opt.value_span.end_pos > opt.value_span.start_pos:
            return TextEdit(opt.value_span.start_pos, opt.value_span.end_pos, format_number(value))
    at = _head_end(el)
    return TextEdit(at, at, f" {key}={format_number(value)}")


def position_map(source: Source) -> list[int]:
    """For each position of the normalised text (and its end), the position in the
    original text: a BOM skipped, CRLF and lone CR counted as the newline they became."""
    original = source.original
    out: list[int] = []
    i = 1 if original.startswith("\ufeff") else 0
    n = len(original)
    while i < n:
        out.append(i)
        if original[i] == "\r" and i + 1 < n and original[i + 1] == "\n":
            i += 2
        else:
            i += 1
    # the final newline the normalisation added, if any, and the end
    while len(out) < len(source.text):
        out.append(n)
    out.append(n)
    return out


def apply_edits(source: Source, edits: Iterable[TextEdit]) -> str:
    """The original text with the edits applied (positions mapped from the normalised
    text); raises EditError for overlapping edits."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end or (a.start == a.end == b.start == b.end):
            raise EditError(f"edits overlap at positions {a.start}-{a.end} and {b.start}-{b.end}")
    mapping = position_map(source)
    text = source.original
    for e in reversed(ordered):
        if not 0 <= e.start <= e.end <= len(source.text):
            raise EditError(f"edit {e.start}-{e.end} is outside the text")
        start, end = mapping[e.start], mapping[e.end]
        text = text[:start] + e.text + text[end:]
    return text


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff of two versions of a file (line ends shown as they are)."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{name.lstrip('/')}", tofile=f"b/{name.lstrip('/')}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
