"""Positions between the lesson model and the editor: the model counts characters (1-based
lines and columns, offsets into the normalised text), LSP counts 0-based columns in the units
the client and server agreed on at initialization: UTF-16 code units (the default; they differ
from characters only outside the Basic Multilingual Plane, emoji), UTF-8 bytes or characters."""

from __future__ import annotations

from lecture.compiler.source import Source
from lecture.compiler.span import Span
from lsprotocol import types as lsp


def _units(char: str, encoding: str) -> int:
    """How many units of the agreed encoding a character takes."""
    if encoding == lsp.PositionEncodingKind.Utf8:
        return len(char.encode("utf-8"))
    if encoding == lsp.PositionEncodingKind.Utf32:
        return 1
    return 2 if ord(char) > 0xFFFF else 1


class Lines:
    """A document's lines, for conversions both ways."""

    def __init__(self, src: Source, encoding: str = lsp.PositionEncodingKind.Utf16) -> None:
        self.src = src
        self.encoding = encoding
        self.text = src.text
        self.lines = src.text.split("\n")

    def position(self, offset: int) -> lsp.Position:
        line, column = self.src.lines.line_column(max(0, min(offset, len(self.text))))
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return lsp.Position(line=line - 1, character=self._length(text[:column - 1]))

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(start=self.position(start), end=self.position(max(start, end)))

    def span_range(self, span: Span) -> lsp.Range:
        """A span as a range; a span without offsets (a diagnostic made from line and column)
        by its lines and columns."""
        if span.end_pos > span.start_pos or span.start_pos:
            return self.range(span.start_pos, span.end_pos)
        start = self._from_line_column(span.line, span.column)
        end = self._from_line_column(span.end_line, span.end_column) if span.end_line else start
        return lsp.Range(start=start, end=end if (end.line, end.character) > (start.line, start.character)
                         else lsp.Position(line=start.line, character=start.character + 1))

    def _from_line_column(self, line: int, column: int) -> lsp.Position:
        line = max(line, 1)
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return lsp.Position(line=line - 1, character=self._length(text[:max(column, 1) - 1]))

    def _length(self, text: str) -> int:
        return sum(_units(char, self.encoding) for char in text)

    def offset(self, position: lsp.Position) -> int:
        """The character offset of an editor position (clamped to the text)."""
        if position.line >= len(self.lines):
            return len(self.text)
        text = self.lines[position.line]
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return self.src.lines.starts[position.line] + index
            units += _units(char, self.encoding)
        return self.src.lines.starts[position.line] + len(text)

    def line_text(self, line: int) -> str:
        return self.lines[line] if 0 <= line < len(self.lines) else ""
