"""Build folders that a cloned repository cannot turn against the user.

A lesson repository may contain a `build/` folder with anything in it: symbolic links to
folders outside the lesson (`build/.cache/tmp/1-abcd -> ../../..`), links where a file of
ours will be written (`build/pythagoras/lesson.srt -> ~/.bashrc`), files where a folder of
ours should be. So everything Lecture writes under a build root or a cache root goes
through this module:

- `safe_dir(root, *parts)`: the folder as a real directory, made where missing. A symbolic
  link (or a file) on the way raises UnsafePathError naming it; Lecture never writes
  through a link in a build folder, and does not delete the link either (it may be the
  user's own arrangement), so the message asks the user to. Which folders are checked:
  `parts` always, and of `root` every folder below the current working folder (where a
  cloned repository lies), or only its last one when `root` lies elsewhere (the folders
  above a root the user chose outside the current folder are the user's business).
- `atomic_writer`: the one way Lecture writes a file all at once. A new file under a fresh
  name made with O_EXCL in the target's folder, then renamed over the target. A rename
  replaces a link instead of writing through it, so no existing path is ever opened for
  writing. `write_bytes_atomic`, `copy_stream_atomic` and runtime/atomic.py's
  `write_atomically` (lesson files) build on it; `place` / `atomic_output` /
  `temporary_file` rename the same kind of fresh file that a link or a tool filled.
- `read_regular`: reading back only regular files, never through a link (O_NOFOLLOW) and
  never blocking (O_NONBLOCK: a FIFO is not read).

The checks look at the folders as they are when a build starts (lstat, not stat); they
guard against what a repository holds, not against another process racing the build.
Nothing here follows a link (runtime/atomic.py, for lesson files, resolves an editor's link
on purpose before it calls `atomic_writer`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
    | getattr(os, "O_CLOEXEC", 0)


class UnsafePathError(Exception):
    """A path in a build or cache folder that Lecture will not write through (a symbolic
    link, or a file where a folder should be). The message names it and says what to do."""

    def __init__(self, path: str | os.PathLike[str], problem: str, advice: str) -> None:
        self.path = Path(path)
        super().__init__(f"{shown(path)} is {problem}; {advice}")


def _link_error(path: Path) -> UnsafePathError:
    return UnsafePathError(path, "a symbolic link",
                           "Lecture never writes through links in a build folder — delete it")


def shown(path: str | os.PathLike[str]) -> str:
    """`path` as a user types it: relative to the current folder when it lies inside it."""
    p = Path(path)
    if p.is_absolute():
        with contextlib.suppress(ValueError):
            return str(p.relative_to(Path.cwd()))
    return str(p)


def _real_dir(parent: Path, name: str) -> Path:
    """`parent/name` as a real folder (made when missing); never a link."""
    path = parent / name
    if name in ("", ".", "..") or os.sep in name or (os.altsep and os.altsep in name):
        raise UnsafePathError(path, "not a usable folder name",
                              "rename the lesson file or choose another build folder")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        with contextlib.suppress(FileExistsError):  # a concurrent build made it: check it
            os.mkdir(path)
        st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise _link_error(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(path, "not a folder",
                              "Lecture writes its build there — move it away or delete it")
    return path


def safe_dir(root: str | os.PathLike[str], *parts: str) -> Path:
    """The absolute path of `root/parts...`, each checked to be a real folder (see the
    module doc for which folders of `root` are checked), made where missing."""
    absolute = Path(os.path.abspath(root))
    cwd = Path.cwd()
    if absolute.is_relative_to(cwd):
        path, names = cwd, absolute.relative_to(cwd).parts
    elif absolute.name:
        path, names = absolute.parent, (absolute.name,)
    else:  # the file system's root
        path, names = absolute, ()
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
    for name in (*names, *parts):
        path = _real_dir(path, name)
    return path


# ---------------------------------------------------------------- files


def read_regular(path: str | os.PathLike[str], limit: int | None = None) -> bytes | None:
    """The bytes of a regular file (the first `limit` of them), or None when `path` is
    missing, a link, a folder, a FIFO or a device, or cannot be read."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read() if limit is None else f.read(limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def _temporary(dst: Path, suffix: str = ".tmp", mode: int = 0o666) -> tuple[int, Path]:
    """A new, empty file of ours next to `dst`, open for writing: O_EXCL, so never an
    existing path or link; by default the usual mode (0o666 less the umask), unlike
    mkstemp's 0o600."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file next to {dst}")


def temporary_file(dst: str | os.PathLike[str], suffix: str = ".tmp") -> Path:
    """A new, empty file of ours next to `dst` for a tool to fill (ffmpeg -y writes
    through a link at a fixed name; this name is fresh). The caller renames or removes it."""
    fd, tmp = _temporary(Path(dst), suffix)
    os.close(fd)
    return tmp


@contextlib.contextmanager
def atomic_output(dst: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """A fresh file next to `dst` for a tool to fill (see temporary_file; `suffix` keeps the
    extension ffmpeg goes by), renamed over `dst` when the block ends normally and removed
    when it raises. `dst` may be the block's own input: it is replaced only at the end."""
    dst = Path(dst)
    tmp = temporary_file(dst, suffix)
    try:
        yield tmp
        _replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _replace(tmp: Path, dst: Path) -> None:
    """Rename `tmp` over `dst`: a file or a link there is replaced (never followed)."""
    try:
        os.replace(tmp, dst)
    except IsADirectoryError:
        raise UnsafePathError(dst, "a folder", "Lecture writes a file there — move it away or "
                                               "delete it") from None


@contextlib.contextmanager
def atomic_writer(dst: str | os.PathLike[str], *, mode: int | None = None, durable: bool = False,
                  before_replace: Callable[[], None] | None = None) -> Iterator[BinaryIO]:
    """A fresh file of ours next to `dst`, open for writing (binary); when the block ends
    normally it is renamed over `dst` (a file or a link there is replaced, never followed),
    when the block raises it is removed. The folder must exist.

    `mode`: the file's permission bits (it is private while being written); default 0o666
    less the umask. `durable`: fsync the file before the rename and the folder after it, so
    the new bytes survive a crash (for the user's own files; build and cache files are
    checked when read). `before_replace`: called last, just before the rename (after the
    fsync); what it raises leaves `dst` untouched. No temporary file is left behind."""
    dst = Path(dst)
    fd, tmp = _temporary(dst, mode=0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if before_replace is not None:
            before_replace()
        _replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    if durable:
        _fsync_dir(dst.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable where the platform allows it (not on Windows)."""
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


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` all at once (see atomic_writer), making its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as f:
        f.write(data)
    return path


def copy_stream_atomic(source: BinaryIO, dst: str | os.PathLike[str]) -> Path:
    """Write what `source` holds (read to its end) to `dst` all at once."""
    with atomic_writer(dst) as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
    return Path(dst)


def _copy_into(src: Path, dst: Path) -> Path:
    with open(src, "rb") as f:
        return copy_stream_atomic(f, dst)


def place(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, move: bool = False) -> Path:
    """Put the regular file `src` at `dst` atomically: a hard link (or a copy, across file
    systems, or the file itself with move=True) under a temporary name next to `dst`,
    then a rename. A `src` that is a link (or not a file) raises UnsafePathError."""
    src, dst = Path(src), Path(dst)
    mode = os.lstat(src).st_mode
    if not stat.S_ISREG(mode):
        raise UnsafePathError(src, "a symbolic link" if stat.S_ISLNK(mode) else "not a file",
                              "Lecture only copies its own files — delete it")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if move:
        with contextlib.suppress(OSError):  # (across file systems: copied below)
            _replace(src, dst)
            return dst
    else:
        tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(8)}.tmp")
        try:
            os.link(src, tmp, follow_symlinks=False)  # an existing name fails, never followed
        except OSError:
            pass  # no hard links here: copied below
        else:
            try:
                _replace(tmp, dst)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            return dst
    return _copy_into(src, dst)
