"""Reading a lesson file: bytes -> normalised text, with diagnostics for what is not text.

Normalisation keeps line and column numbers of the original file: a UTF-8 byte order
mark is dropped (editors do not count it as a column), CRLF and lone CR become LF, and a
missing final newline is added.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .diagnostics import Diagnostic, DiagnosticError
from .span import Span

MAX_LESSON_BYTES = 2 * 1024 * 1024  # a real lesson is a few kB; 5,000 lines is ~150 kB


@dataclass(frozen=True)
class Source:
    """A lesson's text, ready for the parser."""

    name: str  # the path as the user wrote it, used in diagnostics
    text: str  # normalised: LF line ends, no BOM, ends with a newline (unless empty)
    original: str  # as decoded, for tools that rewrite the file byte-exactly

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex.of(self.text)


_NEWLINE = re.compile(r"\n")


@dataclass(frozen=True)
class LineIndex:
    """Where each line of a text starts, so that an offset becomes (line, column) by binary
    search: counting newlines from the start for every node made long lessons quadratic."""

    starts: tuple[int, ...]  # the offset of the first character of each line; starts[0] == 0

    @staticmethod
    def of(text: str) -> LineIndex:
        return LineIndex((0, *(m.end() for m in _NEWLINE.finditer(text))))

    def line_column(self, pos: int) -> tuple[int, int]:
        """The 1-based line and column (in characters) of a character offset."""
        line = max(bisect.bisect_right(self.starts, pos), 1)
        return line, pos - self.starts[line - 1] + 1

    def line_start(self, pos: int) -> int:
        """The offset where the line holding `pos` starts."""
        return self.starts[max(bisect.bisect_right(self.starts, pos), 1) - 1]


def _error(name: str, message: str, line: int = 1, column: int = 1, hint: str | None = None,
           code: str = "") -> DiagnosticError:
    return DiagnosticError([Diagnostic("error", message, Span.point(name, line, column), hint, code)])


def decode(data: bytes, name: str) -> Source:
    """Decode lesson bytes or raise a DiagnosticError that says what is wrong with them."""
    if len(data) > MAX_LESSON_BYTES:
        raise _error(
            name,
            f"file is too large for a lesson ({len(data) / 1e6:.1f} MB; the limit is "
            f"{MAX_LESSON_BYTES // (1024 * 1024)} MB)",
            hint="split the lesson into several files, one per topic",
            code="too-large",
        )
    for bom, encoding in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                          (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):  # what Windows editors call "Unicode": not binary, but not UTF-8
            raise _error(name, f"the file is saved as {encoding}, not UTF-8",
                         hint="save the file as UTF-8 in your editor", code="encoding")
    if b"\x00" in data[:8192] or b"\x00" in data:
        pos = data.index(b"\x00")
        line = data.count(b"\n", 0, pos) + 1
        column = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
        raise _error(name, "this looks like a binary file, not a lesson (it contains NUL bytes)",
                     line, column, hint="lessons are UTF-8 text files ending in .lecture",
                     code="binary")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1: exc.start].decode("utf-8", "replace")) + 1
        raise _error(name, f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column,
                     hint="save the file as UTF-8 in your editor", code="encoding") from None
    return from_text(text, name)


def from_text(text: str, name: str = "<lesson>") -> Source:
    original = text
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return Source(name, text, original)


def read(path: str | Path) -> Source:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise _error(str(path), "no such file", hint="check the path", code="no-file") from None
    except IsADirectoryError:
        raise _error(str(path), "this is a folder, not a lesson file", code="no-file") from None
    except OSError as exc:
        raise _error(str(path), f"cannot read the file: {exc.strerror}", code="no-file") from None
    return decode(data, str(path))
