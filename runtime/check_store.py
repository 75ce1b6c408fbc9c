"""What `lecture check` measured, kept in the user's cache so that checking an unchanged lesson
again needs no Manim: the sizes the layout measured (runtime/measure.py `CachedMeasurer`) and what
each section's scenes showed (runtime/warm_check.py).

    store = CheckStore.default()              # <user cache>/check/v1
    store.get("sizes", key)                   # a JSON value, or None (a miss)
    store.put("sizes", key, [1.5, 0.75])

Where, and why there. Only in the user's cache folder (compiler/user_cache.py), never in a
lesson's build folder: a build folder may come from a cloned repository, and an entry planted
there could make `check` pass what the video shows wrong. Nothing in a lesson can write to the
user's cache (README, "Safe to clone").

What a key covers. A key is the SHA-256 of what the value was computed from (the caller's
inputs) and of `environment()`: the versions of Lecture, Manim, ManimPango and Python, the TeX
programs found on PATH, when fontconfig's caches last changed (fonts installed or removed), and a
hash of every source file of the compiler and the runtime, so a new version, a development edit
of the layout code, another TeX or other fonts give other keys and the old entries are never read
again (they are removed when unused for `STALE_DAYS`).

What an entry is. A JSON file `<kind>/<key[:2]>/<key>.json` holding the format, its key, its
value and a checksum of the three. It is used only when it is a regular file (never read through
a link), no larger than `MAX_ENTRY_BYTES`, valid JSON of that shape, named by the key it holds and
its checksum matches; otherwise it is a miss (and is removed) and the value is computed again.
An entry is data, never code: the worst a deliberately forged one can do — it needs the user's
own rights over the cache folder — is change what `check` reports; each reader also validates
the value's shape (`CheckStore.get(..., valid=)`), so a damaged value never reaches the rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lecture.compiler.user_cache import user_cache_dir

from .safe_fs import UnsafePathError, read_regular, safe_dir, write_bytes_atomic

STORE_FORMAT = 1  # bump when the layout of an entry or the meaning of a key changes
MAX_ENTRY_BYTES = 64 << 20  # a section's views are well below this; anything larger is not ours
STALE_DAYS = 30  # entries not used for this long are removed (one sweep per process at most)
KINDS = ("sizes", "views")
_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^[0-9a-f]{64}\.json$")


# ---------------------------------------------------------------- keys


@cache
def environment() -> dict[str, str | None]:
    """What every entry depends on besides its own inputs (see the module doc)."""
    from importlib.metadata import PackageNotFoundError, version

    from lecture import __version__

    def package(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {"lecture": __version__, "manim": package("manim"), "manimpango": package("manimpango"),
            "python": platform.python_version(), "tex": _tex_programs(), "fonts": _font_caches(),
            "code": code_fingerprint(), "format": str(STORE_FORMAT)}


def _font_caches() -> str:
    """When fontconfig's caches last changed: a font installed or removed changes what text
    measures (Pango draws text with the fonts fontconfig finds)."""
    found = []
    for folder in ("/var/cache/fontconfig", "~/.cache/fontconfig", "~/.fontconfig"):
        with contextlib.suppress(OSError):
            found.append(f"{folder}:{os.stat(os.path.expanduser(folder)).st_mtime_ns}")
    return ";".join(found)


def _tex_programs() -> str:
    """The TeX programs formulas are typeset with, as found on PATH (path, size, time)."""
    found = []
    for name in ("latex", "pdflatex", "xelatex", "dvisvgm"):
        exe = shutil.which(name)
        with contextlib.suppress(OSError):
            if exe is not None:
                real = os.path.realpath(exe)
                st = os.stat(real)
                found.append(f"{real}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(found)


@cache
def code_fingerprint() -> str:
    """A hash of every source file of Lecture's compiler and runtime (4 ms): what a lesson
    lowers to, how its scenes are built and measured."""
    import lecture.compiler as compiler_pkg
    import lecture.runtime as runtime_pkg

    h = hashlib.sha256()
    for pkg in (compiler_pkg, runtime_pkg):
        root = Path(pkg.__path__[0])
        for f in sorted(root.rglob("*")):
            if f.suffix in (".py", ".json", ".lark") and "__pycache__" not in f.parts:
                with contextlib.suppress(OSError):
                    h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:32]


def key_of(inputs: Any) -> str:
    """The key of a value computed from `inputs` (JSON-able) in this environment."""
    text = json.dumps({"env": environment(), "inputs": inputs}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checksum(kind: str, key: str, value_json: str) -> str:
    return hashlib.sha256(f"{STORE_FORMAT}\0{kind}\0{key}\0{value_json}".encode()).hexdigest()


# ---------------------------------------------------------------- the store


@dataclass(frozen=True)
class CheckStore:
    root: Path

    @staticmethod
    def default() -> CheckStore:
        return CheckStore(user_cache_dir() / "check" / f"v{STORE_FORMAT}")

    def _path(self, kind: str, key: str) -> Path:
        if kind not in KINDS or not _KEY_RE.match(key):
            raise ValueError(f"not a check-store entry: {kind}/{key}")
        return self.root / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str, valid: Callable[[Any], bool] = lambda v: True) -> Any:
        """The value stored under `key`, or None when there is none or it is not sound (then
        it is removed)."""
        path = self._path(kind, key)
        data = read_regular(path, MAX_ENTRY_BYTES + 1)
        if data is None:
            return None
        value = _decoded(data, kind, key)
        if value is None or not valid(value):
            self._discard(path)
            return None
        with contextlib.suppress(OSError):  # its last use, for the sweep of stale entries
            os.utime(path)
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        """Store a value (best effort: a cache that cannot be written is a cache that misses)."""
        path = self._path(kind, key)
        value_json = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
        check = _checksum(kind, key, value_json)
        entry = f'{{"format":{STORE_FORMAT},"key":"{key}","check":"{check}","value":{value_json}}}'
        data = entry.encode("utf-8")
        if len(data) > MAX_ENTRY_BYTES:
            return
        with contextlib.suppress(OSError, UnsafePathError):
            folder = safe_dir(self.root, kind, key[:2])
            write_bytes_atomic(folder / path.name, data)
        self._sweep_once()

    def _discard(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(path).st_mode) and _NAME_RE.match(path.name):
                path.unlink()

    def _sweep_once(self) -> None:
        if _swept.get(self.root):
            return
        _swept[self.root] = True
        cutoff = time.time() - STALE_DAYS * 86400
        for kind in KINDS:
            for entry in _entries(self.root / kind):
                with contextlib.suppress(OSError):
                    st = os.lstat(entry)
                    if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
                        entry.unlink()


_swept: dict[Path, bool] = {}


def _entries(folder: Path) -> list[Path]:
    """The files named like entries in a kind's folder (its two-letter folders), never
    following a link."""
    out: list[Path] = []
    with contextlib.suppress(OSError):
        for sub in folder.iterdir():
            if len(sub.name) == 2 and stat.S_ISDIR(os.lstat(sub).st_mode):
                out += [f for f in sub.iterdir() if _NAME_RE.match(f.name)]
    return out


def _decoded(data: bytes, kind: str, key: str) -> Any:
    """The value of an entry's bytes, or None when they are not a sound entry for `key`."""
    if len(data) > MAX_ENTRY_BYTES:
        return None
    try:
        entry = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or set(entry) != {"format", "key", "check", "value"} \
            or entry["format"] != STORE_FORMAT or entry["key"] != key:
        return None
    value_json = json.dumps(entry["value"], separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    if entry["check"] != _checksum(kind, key, value_json):
        return None
    return entry["value"]


__all__ = ["CheckStore", "code_fingerprint", "environment", "key_of"]
