"""Code actions from the diagnostics' hints: the "did you mean" fixes, a missing duration unit,
declaring an id that is used but not declared."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lecture.compiler.model import Lesson, Section
from lsprotocol import types as lsp

from .analysis import section_at
from .positions import Lines

_MEANT = re.compile(r"did you mean '([^']+)'\?")
_QUOTED = re.compile(r"'([^']+)'")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNDEFINED = re.compile(r"no (element|lecture line) named '([^']+)' in section")


def _fix(title: str, uri: str, diagnostic: lsp.Diagnostic, edits: list[lsp.TextEdit],
         preferred: bool = True) -> lsp.CodeAction:
    return lsp.CodeAction(title=title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                          is_preferred=preferred, edit=lsp.WorkspaceEdit(changes={uri: edits}))


def _hint(diagnostic: lsp.Diagnostic) -> str:
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    return str(data.get("hint") or "")


def _did_you_mean(uri: str, d: lsp.Diagnostic, lines: Lines) -> Iterator[lsp.CodeAction]:
    meant = _MEANT.search(_hint(d)) or _MEANT.search(d.message)
    if meant is None:
        return
    start, end = lines.offset(d.range.start), lines.offset(d.range.end)
    written = lines.text[start:end]
    wrong = _QUOTED.search(d.message)
    if wrong is not None and wrong.group(1) != meant.group(1) and wrong.group(1) in written:
        start += written.index(wrong.group(1))  # only the misspelt word of a longer span (`colr=red`)
        end = start + len(wrong.group(1))
    elif wrong is not None and lines.text[start:].startswith(wrong.group(1)):
        end = start + len(wrong.group(1))  # a span that marks the word's first character
    yield _fix(f"Change to '{meant.group(1)}'", uri, d,
               [lsp.TextEdit(range=lines.range(start, end), new_text=meant.group(1))])


def _add_unit(uri: str, d: lsp.Diagnostic, lines: Lines) -> Iterator[lsp.CodeAction]:
    if "durations need a unit" not in _hint(d):
        return
    start = lines.offset(d.range.start)
    number = _NUMBER.match(lines.text, start)
    if number is None:
        return
    end = lines.position(number.end())
    yield _fix(f"Write {number.group()}s", uri, d, [lsp.TextEdit(range=lsp.Range(start=end, end=end),
                                                                 new_text="s")])


def _insertion_line(section: Section, element: bool) -> tuple[int, str]:
    """Where a new declaration goes in a section (a 0-based line, before which it is inserted)
    and its indentation: after the last node of its sort, else before the first step, else
    after the section's head."""
    nodes = section.elements if element else section.lines
    if nodes:
        return nodes[-1].span.end_line, " " * (nodes[-1].span.column - 1)
    if section.steps:
        return section.steps[0].span.line - 1, " " * (section.steps[0].span.column - 1)
    return section.span.line, "  "


def _declare(uri: str, d: lsp.Diagnostic, lesson: Lesson | None, lines: Lines) -> Iterator[lsp.CodeAction]:
    undefined = _UNDEFINED.search(d.message)
    if undefined is None or lesson is None:
        return
    section = section_at(lesson, lines.offset(d.range.start))
    if section is None:
        return
    element = undefined.group(1) == "element"
    name = undefined.group(2)
    line, indent = _insertion_line(section, element)
    text = f'{indent}text {name} "…" auto\n' if element else f'{indent}line {name} "…"\n'
    where = lsp.Position(line=line, character=0)
    yield _fix(f"Declare {'text' if element else 'lecture line'} '{name}'", uri, d,
               [lsp.TextEdit(range=lsp.Range(start=where, end=where), new_text=text)], preferred=False)


def code_actions(uri: str, diagnostics: list[lsp.Diagnostic], lesson: Lesson | None,
                 lines: Lines) -> list[lsp.CodeAction]:
    out: list[lsp.CodeAction] = []
    for d in diagnostics:
        out += _did_you_mean(uri, d, lines)
        out += _add_unit(uri, d, lines)
        out += _declare(uri, d, lesson, lines)
    return out
