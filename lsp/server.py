"""`lecture lsp`: the language server, over stdio, on pygls.

Every feature reads the document's analysis (analysis.py: the front end that `lecture check`
runs); documents.py holds the state and runs the slow checks (layout findings, narration
timing) after a pause in typing; commands.py has the preview and preview ↔ source commands.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.format import format_text
from lecture.compiler.highlight import grammar_keywords
from lecture.compiler.layout import parse_cell_name
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from . import outline
from .actions import code_actions
from .analysis import declaration, section_at
from .commands import register_commands
from .completion import complete
from .documents import Document, LectureServer, Settings
from .hover import id_entry, word_entry
from .names import name_at, occurrences

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


server = LectureServer()


def _doc(ls: LectureServer, uri: str) -> Document | None:
    doc = ls.documents.get(uri)
    if doc is None:
        text = ls.workspace.get_text_document(uri).source
        doc = ls.update(uri, 0, text)
    return doc


# ---------------------------------------------------------------- life cycle and sync


@server.feature(lsp.INITIALIZE)
def initialize(ls: LectureServer, params: lsp.InitializeParams) -> None:
    ls.settings = Settings.of(params.initialization_options)
    folder = params.workspace_folders[0].uri if params.workspace_folders else params.root_uri
    if folder:
        ls.root = Path(to_fs_path(folder) or ls.root)


@server.feature(lsp.SHUTDOWN)
def shutdown(ls: LectureServer, params: None) -> None:
    ls.previews.close()
    ls.slow_runner.shutdown(wait=False, cancel_futures=True)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LectureServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.update(params.text_document.uri, params.text_document.version, params.text_document.text)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LectureServer, params: lsp.DidChangeTextDocumentParams) -> None:
    text = ls.workspace.get_text_document(params.text_document.uri).source
    ls.update(params.text_document.uri, params.text_document.version, text)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LectureServer, params: lsp.DidCloseTextDocumentParams) -> None:
    doc = ls.documents.pop(params.text_document.uri, None)
    if doc is not None and doc.waiting is not None:
        doc.waiting.cancel()
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                      diagnostics=[]))


# ---------------------------------------------------------------- completion and hover


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[" ", "=", ",", "."]))
def completion(ls: LectureServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    doc = _doc(ls, params.text_document.uri)
    assert doc is not None
    lines = doc.analysis.lines
    prefix = lines.line_text(params.position.line)[:params.position.character]
    lesson = doc.analysis.lesson  # while the text does not parse, completion reads the text
    section = section_at(lesson, lines.offset(params.position)) if lesson is not None else None
    items = complete(section, lines.lines, params.position.line, prefix)
    return lsp.CompletionList(is_incomplete=False, items=items)


def _word_at(text: str, offset: int) -> tuple[int, int]:
    start = end = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return start, end


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: LectureServer, params: lsp.HoverParams) -> lsp.Hover | None:
    doc = _doc(ls, params.text_document.uri)
    assert doc is not None
    analysis = doc.analysis
    offset = analysis.lines.offset(params.position)
    found = name_at(analysis, offset)
    if found is not None:
        node = declaration(found.section, found.name)
        assert node is not None
        measured = ls.measured.get(doc.uri)
        box = measured.boxes.get((found.section.id, found.name)) if measured is not None else None
        text: str | None = id_entry(found.section, node, box)
        start, end = found.start, found.end
    else:
        start, end = _word_at(analysis.src.text, offset)
        words = analysis.src.text
        text = word_entry(words[start:end], words[end:end + 3]) if end > start else None
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                     range=analysis.lines.range(start, end))


# ---------------------------------------------------------------- navigation


def _located(ls: LectureServer, uri: str, position: lsp.Position) -> tuple[Document, Any] | None:
    doc = _doc(ls, uri)
    if doc is None or doc.analysis.lesson is None:
        return None
    found = name_at(doc.analysis, doc.analysis.lines.offset(position))
    return (doc, found) if found is not None else None


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LectureServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    located = _located(ls, params.text_document.uri, params.position)
    if located is None:
        return None
    doc, found = located
    node = declaration(found.section, found.name)
    assert node is not None
    return lsp.Location(uri=doc.uri, range=doc.analysis.lines.span_range(node.id_span))


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: LectureServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    located = _located(ls, params.text_document.uri, params.position)
    if located is None:
        return []
    doc, found = located
    node = declaration(found.section, found.name)
    assert node is not None
    spots = occurrences(doc.analysis, found.section, found.name)
    if not params.context.include_declaration:
        spots = [s for s in spots if s[0] != node.id_span.start_pos]
    return [lsp.Location(uri=doc.uri, range=doc.analysis.lines.range(a, b)) for a, b in spots]


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
def document_highlight(ls: LectureServer, params: lsp.DocumentHighlightParams) -> list[lsp.DocumentHighlight]:
    located = _located(ls, params.text_document.uri, params.position)
    if located is None:
        return []
    doc, found = located
    return [lsp.DocumentHighlight(range=doc.analysis.lines.range(a, b))
            for a, b in occurrences(doc.analysis, found.section, found.name)]


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(ls: LectureServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
    located = _located(ls, params.text_document.uri, params.position)
    if located is None:
        return None
    doc, found = located
    return doc.analysis.lines.range(found.start, found.end)


@server.feature(lsp.TEXT_DOCUMENT_RENAME, lsp.RenameOptions(prepare_provider=True))
def rename(ls: LectureServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    located = _located(ls, params.text_document.uri, params.position)
    if located is None:
        return None
    doc, found = located
    new = params.new_name
    if not _NAME.match(new) or new in grammar_keywords() or parse_cell_name(new) is not None:
        raise JsonRpcInvalidParams(f"'{new}' cannot name an element or a line: a name starts with a "
                                   "letter, and is neither a keyword nor a grid cell")
    if declaration(found.section, new) is not None:
        raise JsonRpcInvalidParams(f"section '{found.section.id}' already has '{new}'")
    edits = [lsp.TextEdit(range=doc.analysis.lines.range(a, b), new_text=new)
             for a, b in occurrences(doc.analysis, found.section, found.name)]
    return lsp.WorkspaceEdit(changes={doc.uri: edits})


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: LectureServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    doc = _doc(ls, params.text_document.uri)
    if doc is None or doc.analysis.lesson is None:
        return []
    return outline.document_symbols(doc.analysis.lesson, doc.analysis.lines)


@server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
def folding_range(ls: LectureServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange]:
    doc = _doc(ls, params.text_document.uri)
    model = doc.model if doc is not None else None
    if model is None or model.lesson is None:
        return []
    return outline.folding_ranges(model.lesson, model.lines)


# ---------------------------------------------------------------- edits


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LectureServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
    """`lecture fmt`'s canonical layout (compiler/format.py); nothing while the text has
    syntax errors (they are shown as diagnostics)."""
    document = ls.workspace.get_text_document(params.text_document.uri)
    try:
        formatted = format_text(document.source, document.path)
    except DiagnosticError:
        return None
    if formatted == document.source:
        return []
    end = lsp.Position(line=len(document.lines), character=0)
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                         new_text=formatted)]


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_action(ls: LectureServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    doc = _doc(ls, params.text_document.uri)
    assert doc is not None
    return code_actions(doc.uri, list(params.context.diagnostics), doc.analysis.lesson, doc.analysis.lines)


register_commands(server)


def run_lsp(args: Any = None) -> int:
    """Serve over stdio. Anything else the process writes to its standard output (Manim, a
    subprocess) would corrupt the protocol, so file descriptor 1 is pointed at stderr and the
    protocol keeps a private copy of the real stdout."""
    logging.getLogger("pygls").setLevel(logging.WARNING)
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server.start_io(stdin=sys.stdin.buffer, stdout=protocol_out)
    return 0

