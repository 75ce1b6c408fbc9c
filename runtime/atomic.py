"""Rewriting a lesson file safely: all or nothing, and never over someone else's edit.

`write_atomically(path, text, expected)` writes `text` (UTF-8) to a temporary file in the
same folder and renames it over `path` with os.replace, so a reader sees the old file or
the new one, never half of each, and a crash leaves the old file whole. The file's
permission bits are kept.

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

import contextlib
import os
import secrets
import stat
from pathlib import Path


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

    if expected is not None and _current_bytes(target) != expected:
        raise ConcurrentEditError(path)

    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None

    fd, tmp_name = _create_temporary(target, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        # Last look just before the rename: the window for an unnoticed edit is tiny.
        if expected is not None and _current_bytes(target) != expected:
            raise ConcurrentEditError(path)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


def _create_temporary(target: Path, mode: int) -> tuple[int, str]:
    """A new, exclusive file next to `target` (created with `mode` less the umask)."""
    for _ in range(100):
        name = os.path.join(target.parent, f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           mode), name
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file next to {target}")


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
