"""Diagnostics: every user-facing error or warning, pointing at the lesson text.

A diagnostic prints like a compiler's::

    pythagoras.lecture:12:5: error: unknown element kind 'cirle'
       12 |     cirle c at B2
          |     ^^^^^
      hint: did you mean 'circle'?
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from .span import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    span: Span
    hint: str | None = None
    code: str = ""  # a short stable name, e.g. "unknown-kind", for tests and tools

    def render(self, source: str | None = None) -> str:
        """Format as `file:line:col: severity: message`, the source line, a caret underline
        of the span, and the hint. Control characters and bidi overrides from the lesson are
        shown escaped (see `printable`), so a lesson cannot drive the user's terminal."""
        head = (f"{printable(self.span.file)}:{self.span.line}:{self.span.column}: {self.severity}: "
                f"{printable(self.message)}")
        out = [head]
        text_line = _source_line(source, self.span.line)
        if text_line is not None:
            gutter = f"{self.span.line:>5} | "
            plain, start = _excerpt(text_line, max(self.span.column - 1, 0))
            plain = plain.expandtabs(1)  # a tab is one column, as lark counts it
            if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
                width = self.span.end_column - self.span.column
            else:
                width = max(len(plain.rstrip()) - start, 1)
            width = max(1, min(width, max(len(plain) - start, 1)))
            shown, column_of = _printable_columns(plain)
            out.append(gutter + shown)
            first, last = column_of(start), column_of(start + width)
            out.append(" " * (len(gutter) - 2) + "| " + " " * first + "^" * max(last - first, 1))
        if self.hint:
            out.append(f"  hint: {printable(self.hint)}")
        return "\n".join(out)

    def to_json(self) -> dict:
        return {
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "code": self.code,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
        }


def _source_line(source: str | None, line: int) -> str | None:
    if source is None or line < 1:
        return None
    lines = _lines(source)
    if line > len(lines):
        return None
    return lines[line - 1].rstrip("\r")


_SHOWN = 400  # characters of a source line at most


def _excerpt(line: str, start: int) -> tuple[str, int]:
    """Never echo megabytes of a pathological line back to the terminal: show 400
    characters of it, from its start or, for a span further on, from a little before the
    span (a long line with many diagnostics must not print its length again for each).
    Returns the text to show and where the span starts in it."""
    if len(line) <= _SHOWN:
        return line, start
    first = 0 if start < _SHOWN - 40 else start - 40
    before = "… " if first else ""
    after = " …" if first + _SHOWN < len(line) else ""
    return before + line[first:first + _SHOWN] + after, start - first + len(before)


@lru_cache(maxsize=4)
def _lines(source: str) -> tuple[str, ...]:
    """The lines of a source, split once for all its diagnostics (not once each: a long
    lesson with many diagnostics would take quadratic time)."""
    return tuple(source.split("\n"))


# C0 controls but tab and line feed, DEL, C1 controls (ESC and CSI start terminal commands),
# and the bidi embeddings, overrides, isolates and marks that reorder what the terminal shows.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Lesson text made safe for a terminal: each control or bidi character becomes a
    visible escape such as \\x1b or \\u202e."""
    return _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)


def _printable_columns(line: str) -> tuple[str, Callable[[int], int]]:
    """A line as `printable` shows it, and where its character at each index is shown, so
    that the underline stays under the text it marks."""
    if not _UNPRINTABLE.search(line):
        return line, lambda index: index
    starts = [0]
    for char in line:
        starts.append(starts[-1] + (len(_escape(char)) if _UNPRINTABLE.match(char) else 1))

    def column_of(index: int) -> int:  # past the end of the line, one column per character
        return starts[index] if index < len(starts) else starts[-1] + index - len(line)
    return printable(line), column_of


@dataclass
class DiagnosticError(Exception):
    """Raised by the front end when a lesson cannot be used; carries every diagnostic found."""

    diagnostics: list[Diagnostic]
    source: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return render_all(self.diagnostics, self.source)


def render_all(diagnostics: Iterable[Diagnostic], source: str | None = None) -> str:
    return "\n".join(d.render(source) for d in diagnostics)


_MOST_CHOICES = 1_000  # far more names than a real section has


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A `did you mean 'x'?` hint for a misspelt word, or None when nothing is close."""
    if not isinstance(choices, Collection):
        choices = list(choices)
    if len(choices) > _MOST_CHOICES:  # comparing costs ~10 µs a name, for every misspelt word
        return None
    match = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)
