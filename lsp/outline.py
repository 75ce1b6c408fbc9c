"""The outline view (document symbols: the header, sections → lecture lines, elements, steps)
and folding ranges (sections, step blocks, rows, multi-line strings, comment runs)."""

from __future__ import annotations

from lecture.compiler.format import duration
from lecture.compiler.model import Lesson, Section, Step
from lecture.compiler.span import Span
from lsprotocol import types as lsp

from .positions import Lines


def _symbol(lines: Lines, name: str, kind: lsp.SymbolKind, span: Span, selection: Span | None = None,
            detail: str = "", children: list[lsp.DocumentSymbol] | None = None) -> lsp.DocumentSymbol:
    chosen = selection if selection is not None and selection.end_pos > selection.start_pos else span
    return lsp.DocumentSymbol(name=name, kind=kind, range=lines.span_range(span),
                              selection_range=lines.span_range(chosen), detail=detail or None,
                              children=children)


def _step_name(step: Step, number: int) -> str:
    if step.is_wait:
        return f"wait {duration(step.seconds)}"
    shown = f" {duration(step.duration)}" if step.duration is not None else ""
    return f"step {number}{shown}"


def _section_symbol(lines: Lines, section: Section) -> lsp.DocumentSymbol:
    children = [_symbol(lines, line.id, lsp.SymbolKind.String, line.span, line.id_span,
                        line.text.value) for line in section.lines]
    children += [_symbol(lines, el.id, lsp.SymbolKind.Object, el.span, el.id_span, el.kind)
                 for el in section.elements]
    number = 0
    for step in section.steps:
        number += 1
        verbs = ", ".join(dict.fromkeys(a.verb for a in step.actions))
        children.append(_symbol(lines, _step_name(step, number), lsp.SymbolKind.Event, step.span,
                                detail=verbs))
    return _symbol(lines, section.id, lsp.SymbolKind.Module, section.span, section.id_span,
                   section.title.value, children)


def document_symbols(lesson: Lesson, lines: Lines) -> list[lsp.DocumentSymbol]:
    out = []
    if lesson.span.end_pos > lesson.span.start_pos:
        settings = [_symbol(lines, s.key, lsp.SymbolKind.Property, s.span) for s in lesson.settings]
        out.append(_symbol(lines, f"lesson \"{lesson.title.value}\"", lsp.SymbolKind.File, lesson.span,
                           children=settings))
    out += [_section_symbol(lines, section) for section in lesson.sections]
    return out


def _fold(span: Span, kind: str | None = None) -> lsp.FoldingRange | None:
    if span.end_line <= span.line:
        return None
    return lsp.FoldingRange(start_line=span.line - 1, end_line=span.end_line - 1, kind=kind)


def _comment_runs(lines: Lines) -> list[lsp.FoldingRange]:
    runs, start = [], None
    for number, text in enumerate([*lines.lines, ""]):
        if text.lstrip().startswith("#"):
            start = number if start is None else start
            continue
        if start is not None and number - 1 > start:
            runs.append(lsp.FoldingRange(start_line=start, end_line=number - 1,
                                         kind=lsp.FoldingRangeKind.Comment))
        start = None
    return runs


def folding_ranges(lesson: Lesson, lines: Lines) -> list[lsp.FoldingRange]:
    spans: list[Span] = [lesson.span]
    for section in lesson.sections:
        spans.append(section.span)
        spans += [el.span for el in section.elements]
        spans += [step.span for step in section.steps]
    found = [f for f in (_fold(s) for s in spans) if f is not None]
    return found + _comment_runs(lines)
