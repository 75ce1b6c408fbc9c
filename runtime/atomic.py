"""Rewriting a lesson file safely: all or nothing, and never over someone else's edit.

`write_atomically(path, text, expected)` writes `text` (UTF-8) to a temporary file in the
same folder and renames it over `path` (runtime/safe_fs.py `atomic_writer`, durable: the
file and the folder are fsynced), so a reader sees the old file or the new one, never half
of each, and a crash leaves the old file whole. The file's permission bits are kept. A
symbolic link is followed on purpose (an editor's or a user's arrangement): its target is
replaced and the link stays.

`expected` is the file's bytes as the caller read them (for `lecture fmt`, the bytes it
formatted). If the file now holds other bytes, someone edited it in the meantime (an
editor, an agent): ConcurrentEditError is raised and nothing is written. The check and
the rename are as close together as the file system allows; there is no lock, so a write
in the instant between them is not detected.

Line ends: `text` is written exactly as given (no newline translation). The formatter's
output is canonical text, LF line ends and no byte order mark, so `lecture fmt` turns a
CRLF or BOM file into LF without BOM; that is part of the canonical form.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .safe_fs import atomic_writer


class ConcurrentEditError(RuntimeError):
    """The file changed on disk since it was read; it was left untouched."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(f"{os.fspath(path)} changed on disk since it was read; "
                         "not overwriting it (read it again and retry)")
        self.path = os.fspath(path)


def _current_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _mode(path: Path) -> int | None:
    """The permission bits of an existing file (kept by the rewrite), None for a new one."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


def write_atomically(path: str | os.PathLike[str], text: str | bytes,
                     expected: bytes | None = None) -> None:
    """Replace the file at `path` with `text` (a str is encoded as UTF-8).

    With `expected` given, the file must still hold exactly those bytes (a file that no
    longer exists counts as changed), else ConcurrentEditError is raised and nothing is
    written. A new file gets the default mode (0o666 less the umask); an existing file
    keeps its permission bits. No temporary file is left behind on any failure. A
    symbolic link is followed: its target is replaced, the link stays."""
    target = Path(os.path.realpath(os.fspath(path)))
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)

    def unchanged() -> None:
        if expected is not None and _current_bytes(target) != expected:
            raise ConcurrentEditError(path)

    unchanged()
    # The last look comes just before the rename: the window for an unnoticed edit is tiny.
    with atomic_writer(target, mode=_mode(target), durable=True, before_replace=unchanged) as f:
        f.write(data)
