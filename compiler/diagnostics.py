"""Diagnostics: every user-facing error or warning, pointing at the lesson text.

A diagnostic prints like a compiler's::

    pythagoras.lecture:12:5: error: unknown element kind 'cirle'
       12 |     cirle c at B2
          |     ^^^^^
      hint: did you mean 'circle'?
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
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
        of the span, and the hint."""
        head = f"{self.span.file}:{self.span.line}:{self.span.column}: {self.severity}: {self.message}"
        out = [head]
        text_line = _source_line(source, self.span.line)
        if text_line is not None:
            gutter = f"{self.span.line:>5} | "
            shown = text_line.expandtabs(1)
            out.append(gutter + shown)
            start = max(self.span.column - 1, 0)
            if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
                width = self.span.end_column - self.span.column
            else:
                width = max(len(shown.rstrip()) - start, 1)
            width = max(1, min(width, max(len(shown) - start, 1)))
            out.append(" " * (len(gutter) - 2) + "| " + " " * start + "^" * width)
        if self.hint:
            out.append(f"  hint: {self.hint}")
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
    lines = source.split("\n")
    if line > len(lines):
        return None
    text = lines[line - 1].rstrip("\r")
    # Never echo megabytes of a pathological line back to the terminal.
    return text if len(text) <= 400 else text[:400] + " …"


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


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A `did you mean 'x'?` hint for a misspelt word, or None when nothing is close."""
    match = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)
