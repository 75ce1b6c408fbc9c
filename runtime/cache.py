"""The render cache: finished section videos (and stills) addressed by a content hash.

A section's hash covers everything its video depends on, and nothing else:

- its own nodes, as canonical JSON of the model with spans and comments left out (so
  reformatting the file or editing a comment renders nothing);
- the lesson settings a section uses (theme, resolution, fps, voice, language, rate, lines);
- the theme's values (colours, sizes), the bytes of the files it shows (images);
- the render size and frame rate (the quality);
- the versions of Lecture and Manim, and a fingerprint of Lecture's own lowering and
  scene code (so a development checkout never serves a video its current code would not
  draw);
- `parts`: anything else a caller folds in (the narration's hash, the Coder's lock
  entries), any JSON-able value.

All of it is computed from the lesson model, before anything is compiled, and without
importing Manim: a lesson whose sections are all cached is rebuilt by linking files.

Layout of the cache folder (by default `build/.cache`):

    sections/<hash>.mp4    a section's video      sections/<hash>.json  its record
    sections/<hash>.png    its last frame (watch mode)
    lessons/<key>.mp4      an assembled lesson (key: its sections' hashes in order, the transition)
    units/<static>-<state>.mp4|.json|.png
                           a step unit's video, record and last frame (step_units_plan.py: its
                           code's key, then the fingerprint of the state it starts from)
    modules/<sha>.py       generated modules, by content (what the workers import)
    tmp/<pid>-<token>/     one running process's work (partial renders, logs)

Every file is written under a temporary name in `tmp/` and renamed into place, so readers
(another `lecture render` of the same lesson, the watch server) never see half a file.
A record (`.json`) is written after its video, so a video counts only when its record is
there: a run killed in between renders the section again. The `tmp/` folder of a process
that no longer runs is removed by the next one.

A cache folder may come from a cloned repository (`build/.cache`), so nothing in it is
trusted: its folders must be real folders, never links (safe_fs.py: UnsafePathError
otherwise); a record is used only when it has the shape of ours and its video is a
regular MP4 file (a still: a PNG), else it is a miss; a module file is used only when its
bytes are the code (and its cached bytecode is removed); the cleaner removes only entries
named like ours, and a link itself, never what it points to.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import stat
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from lecture.compiler.model import Comments, Lesson, Section, Word
from lecture.compiler.span import Span

from .safe_fs import place, read_regular, safe_dir, write_bytes_atomic

CACHE_FORMAT = 1  # bump when the layout or the meaning of a hash changes
KEY_SETTINGS = ("theme", "resolution", "fps", "voice", "language", "rate", "lines")
DEFAULT_CACHE_DIR_NAME = ".cache"

# ---------------------------------------------------------------- canonical JSON


def canonical(value: Any) -> Any:
    """A JSON-able form of a model value: dataclasses as {"@": type, field: value}, with
    every span and comment left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"@": type(value).__name__}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if isinstance(v, Span | Comments) or f.name in ("span", "comments", "file") \
                    or f.name.endswith("_span"):
                continue
            out[f.name] = canonical(v)
        return out
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, float):
        return {"@f": repr(value)} if value != value or value in (float("inf"), float("-inf")) \
            else value
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def digest(value: Any, length: int = 32) -> str:
    return hashlib.sha256(dumps(value).encode("utf-8")).hexdigest()[:length]


# ---------------------------------------------------------------- what a section depends on


@lru_cache(maxsize=1)
def versions() -> dict[str, str | None]:
    """Lecture's and Manim's versions (read from package metadata: Manim is not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    from lecture import __version__

    try:
        manim_version: str | None = version("manim")
    except PackageNotFoundError:
        manim_version = None
    return {"lecture": __version__, "manim": manim_version, "cache": str(CACHE_FORMAT)}


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the Lecture sources that decide what a section looks like (lowering,
    layout, themes, scene helpers, the render worker)."""
    import lecture.compiler as compiler_pkg
    import lecture.runtime as runtime_pkg

    comp = Path(compiler_pkg.__file__).parent
    run = Path(runtime_pkg.__file__).parent
    files = sorted((comp / "lower").glob("*.py")) + [
        comp / name for name in ("layout.py", "colors.py", "expression.py", "kinds.py")
    ] + [run / name for name in ("scene_support.py", "step_time.py", "tex.py", "theme.py", "render.py",
                                 "motion_support.py", "part_support.py", "step_units.py")]
    h = hashlib.sha256()
    for f in files:
        with contextlib.suppress(OSError):
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def theme_name(lesson: Lesson) -> str | None:
    value = lesson.setting("theme")
    return value.name if isinstance(value, Word) else value if isinstance(value, str) else None


def theme_values(lesson: Lesson) -> dict:
    from lecture.compiler.theme import get_theme

    try:
        theme = get_theme(theme_name(lesson))
    except Exception:  # noqa: BLE001 - the checker reports unknown themes
        return {"name": theme_name(lesson)}
    return dataclasses.asdict(theme) if dataclasses.is_dataclass(theme) else {"repr": repr(theme)}


def section_files(section: Section, base_dir: Path) -> list[Path]:
    """The files a section shows (its images), resolved against the lesson's folder."""
    out = []
    for el in section.elements:
        if el.kind == "image" and el.texts:
            out.append((Path(base_dir) / el.texts[0].value).resolve())
    return out


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes ("missing" when it cannot be read), remembered while its
    size and time are unchanged."""
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return _file_hash_cached(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _file_hash_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return "missing"
    return h.hexdigest()


@dataclasses.dataclass(frozen=True)
class SectionKey:
    section_id: str
    hash: str
    parts: dict  # the inputs, each already hashed (kept in the record, for explaining misses)
    # What the hash holds that the picture depends on, but the section's own nodes and its
    # narration: the base of its step units' keys (step_units_plan.py)
    unit_base: str = ""


# The settings the picture depends on (voice, language, rate are heard, or timed in the code)
PICTURE_SETTINGS = ("theme", "resolution", "fps", "lines")


def section_key(lesson: Lesson, section: Section, *, width: int, height: int, fps: int,
                base_dir: Path, parts: dict | None = None, picture_parts: dict | None = None) -> SectionKey:
    """The content hash of one section's video (see the module doc). `picture_parts`: those
    of `parts` that change the picture (custom code, repairs; not the narration), for the
    base of its step units' keys."""
    settings = {s.key: canonical(s.value) for s in lesson.settings if s.key in KEY_SETTINGS}
    files = {str(p): file_hash(p) for p in section_files(section, base_dir)}
    inputs = {
        "section": digest(section),
        "settings": digest(settings),
        "theme": digest(theme_values(lesson)),
        "quality": f"{width}x{height}@{fps}",
        "versions": digest(versions()),
        "code": code_fingerprint(),
        "files": digest(sorted(files.values())),
    }
    if parts:
        inputs["parts"] = digest(parts)
    picture = {k: v for k, v in inputs.items() if k not in ("section", "settings", "parts")}
    picture["settings"] = digest({k: v for k, v in settings.items() if k in PICTURE_SETTINGS})
    picture["parts"] = digest(picture_parts or {})
    return SectionKey(section.id, digest(inputs), inputs, digest(picture))


def lesson_key(section_hashes: list[str], fps: int, transition: str = "cut") -> str:
    """The key of an assembled lesson: its sections' hashes in order, and how they join."""
    return digest({"sections": list(section_hashes), "fps": fps, "transition": transition,
                   "v": CACHE_FORMAT})


# ---------------------------------------------------------------- the store

RECORD_LIMIT = 1 << 20  # bytes: a record is a few hundred; anything larger is not ours
RUN_DIR_RE = re.compile(r"^([1-9][0-9]{0,9})-[0-9a-f]{1,32}$")  # tmp/<pid>-<token>
MODULE_RE = re.compile(r"^m[0-9a-f]{24}\.py$")  # modules/m<sha>.py
MP4_MAGIC = b"ftyp"  # an MP4 starts with its ftyp box (bytes 4-8)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# What a record must hold to be used: field -> (check, required). Every field read back
# is here; a record that does not fit (damaged, planted, from another version) is a miss.
SECTION_RECORD = {
    "duration": (lambda v: _is_number(v) and v >= 0, True),
    "frames": (lambda v: v is None or _is_count(v), False),
    "render_seconds": (lambda v: v is None or _is_number(v), False),
    "class_name": (lambda v: v is None or isinstance(v, str), False),
    "planned_duration": (lambda v: v is None or _is_number(v), False),
}
UNIT_RECORD = {
    "frames": (lambda v: _is_count(v), True),
    "duration": (lambda v: v is None or (_is_number(v) and v >= 0), False),
}
UNIT_NAME_RE = re.compile(r"^([0-9a-f]{32})-([0-9a-f]{32})$")  # units/<static>-<state>
LESSON_RECORD = {
    "duration": (lambda v: _is_number(v) and v >= 0, True),
    "frames": (lambda v: v is None or _is_count(v), False),
}


def _read_record(path: Path, shape: dict) -> dict | None:
    data = read_regular(path, RECORD_LIMIT + 1)
    if data is None or len(data) > RECORD_LIMIT:
        return None
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    for name, (check, required) in shape.items():
        if (name in record and not check(record[name])) or (required and name not in record):
            return None
    return record


def _has_magic(path: Path, magic: bytes, offset: int = 0) -> bool:
    """Whether `path` is a regular file (not a link) whose bytes at `offset` are `magic`:
    a cached video is an MP4, a still a PNG, whatever their names say."""
    head = read_regular(path, offset + len(magic))
    return head is not None and head[offset:] == magic


def _remove_own(path: Path, *, folder: bool) -> None:
    """Remove an entry we made: a link is removed itself (never its target); a real folder
    (when `folder`) with its contents (shutil.rmtree does not follow links inside, and
    refuses a link at the top); a regular file; anything else is left alone."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return
    if stat.S_ISLNK(mode) or stat.S_ISREG(mode):
        with contextlib.suppress(OSError):
            os.unlink(path)
    elif folder and stat.S_ISDIR(mode):
        shutil.rmtree(path, ignore_errors=True)


class Cache:
    """The cache folder (see the module doc). Safe to share between processes, and safe
    to find in a cloned repository: its folders are checked to be real folders (a link
    raises UnsafePathError, see safe_fs.py), what is read back is checked before use, and
    only entries named like ours are ever removed."""

    def __init__(self, root: str | Path) -> None:
        self.root = safe_dir(root)
        for sub in ("sections", "lessons", "modules", "tmp", "units"):
            safe_dir(self.root, sub)
        self._run_dir: Path | None = None

    # -- paths

    def video_path(self, h: str) -> Path:
        return self.root / "sections" / f"{h}.mp4"

    def still_path(self, h: str) -> Path:
        return self.root / "sections" / f"{h}.png"

    def record_path(self, h: str) -> Path:
        return self.root / "sections" / f"{h}.json"

    def lesson_path(self, key: str) -> Path:
        return self.root / "lessons" / f"{key}.mp4"

    # -- lookups

    def record(self, h: str) -> dict | None:
        """The record of a finished video, or None when there is none, it is not shaped like
        ours, or its video is gone (or is not a regular MP4 file)."""
        data = _read_record(self.record_path(h), SECTION_RECORD)
        return data if data is not None and _has_magic(self.video_path(h), MP4_MAGIC, 4) else None

    def still(self, h: str) -> Path | None:
        p = self.still_path(h)
        return p if _has_magic(p, PNG_MAGIC) else None

    def lesson_record(self, key: str) -> dict | None:
        data = _read_record(self.root / "lessons" / f"{key}.json", LESSON_RECORD)
        return data if data is not None and _has_magic(self.lesson_path(key), MP4_MAGIC, 4) \
            else None

    # -- step units (step_units_plan.py)

    def unit_path(self, key: str, suffix: str) -> Path:
        if UNIT_NAME_RE.match(key) is None:
            raise ValueError(f"not a unit's key: {key!r}")
        return self.root / "units" / f"{key}{suffix}"

    def unit_record(self, key: str) -> dict | None:
        """A unit's record, when it is shaped like ours and its video is a regular MP4 file."""
        if UNIT_NAME_RE.match(key) is None:
            return None
        data = _read_record(self.unit_path(key, ".json"), UNIT_RECORD)
        return data if data is not None and _has_magic(self.unit_path(key, ".mp4"), MP4_MAGIC, 4) else None

    def unit_still(self, key: str) -> Path | None:
        p = self.unit_path(key, ".png")
        return p if UNIT_NAME_RE.match(key) and _has_magic(p, PNG_MAGIC) else None

    def unit_states(self, statics: set[str]) -> dict[str, list[str]]:
        """For each unit of `statics`, the starting states the cache holds its video for."""
        out: dict[str, list[str]] = {}
        for entry in sorted(_entries(self.root / "units")):
            name = entry.name
            found = UNIT_NAME_RE.match(name[:-5]) if name.endswith(".json") else None
            if found is not None and found.group(1) in statics and self.unit_record(name[:-5]) is not None:
                out.setdefault(found.group(1), []).append(found.group(2))
        return out

    def put_unit(self, key: str, movie: Path, record: dict, still: Path | None = None) -> Path:
        dst = place(Path(movie), self.unit_path(key, ".mp4"), move=True)
        if still is not None:
            place(Path(still), self.unit_path(key, ".png"), move=True)
        write_text_atomic(self.unit_path(key, ".json"), json.dumps(record, indent=1) + "\n")
        return dst

    # -- stores

    def put_video(self, h: str, movie: Path, record: dict) -> Path:
        dst = place(Path(movie), self.video_path(h), move=True)
        write_text_atomic(self.record_path(h), json.dumps(record, indent=1) + "\n")
        return dst

    def put_still(self, h: str, image: Path) -> Path:
        return place(Path(image), self.still_path(h), move=True)

    def put_lesson(self, key: str, video: Path, record: dict) -> Path:
        dst = place(Path(video), self.lesson_path(key), move=True)
        write_text_atomic(self.root / "lessons" / f"{key}.json", json.dumps(record, indent=1) + "\n")
        return dst

    def module(self, code: str) -> Path:
        """The generated module's file, by content. An existing file is used only when it
        holds exactly `code` (a cloned cache may hold a planted one under this predictable
        name); anything else there is replaced. Python's bytecode for it is removed, so
        the workers compile the verified source (a planted .pyc would otherwise run)."""
        data = code.encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()[:24]
        path = self.root / "modules" / f"m{sha}.py"
        if read_regular(path, len(data) + 1) == data:
            with contextlib.suppress(OSError):
                os.utime(path, follow_symlinks=False)  # in use: not stale
        else:
            write_bytes_atomic(path, data)
        drop_bytecode(path)
        return path

    # -- temporary work

    @property
    def run_dir(self) -> Path:
        """This process's own temporary folder (created on first use)."""
        if self._run_dir is None:
            self.clean_stale()
            d = self.root / "tmp" / f"{os.getpid()}-{secrets.token_hex(4)}"
            d.mkdir()  # new: never one found in the cache
            self._run_dir = d
        return self._run_dir

    def job_dir(self, label: str) -> Path:
        d = self.run_dir / f"{label}-{secrets.token_hex(4)}"
        d.mkdir()
        return d

    def close(self) -> None:
        """Remove this process's temporary folder."""
        if self._run_dir is not None:
            _remove_own(self._run_dir, folder=True)
            self._run_dir = None

    def clean_stale(self, max_age: float = 7 * 24 * 3600) -> None:
        """Remove the temporary folders of processes that no longer run (a killed run), and
        modules unused for a day. Only entries named like ours are touched; a link is
        removed itself, never followed (see _remove_own)."""
        now = time.time()
        for entry in _entries(self.root / "tmp"):
            found = RUN_DIR_RE.match(entry.name)
            if found is None:
                continue
            try:
                st = os.lstat(entry)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode) or not pid_alive(int(found.group(1))) \
                    or now - st.st_mtime > max_age:
                _remove_own(entry, folder=True)
        # modules nobody needs any more (kept a day: a concurrent run may still use one)
        for entry in _entries(self.root / "modules"):
            with contextlib.suppress(OSError):
                if MODULE_RE.match(entry.name) and now - os.lstat(entry).st_mtime > 24 * 3600:
                    _remove_own(entry, folder=False)
                    drop_bytecode(entry)


def _entries(folder: Path) -> list[Path]:
    """The entries of a real folder (none when `folder` is a link or not a folder)."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return []
        return [folder / name for name in os.listdir(folder)]
    except OSError:
        return []


def drop_bytecode(module: Path) -> None:
    """Remove Python's cached bytecode of `module` (`__pycache__/<stem>.*.pyc`): Python
    would run a planted one (an unchecked hash-based .pyc) instead of the source. A link
    named `__pycache__` is removed itself, so Python writes no bytecode through it."""
    pycache = module.parent / "__pycache__"
    try:
        if stat.S_ISLNK(os.lstat(pycache).st_mode):
            _remove_own(pycache, folder=False)
            return
    except OSError:
        return
    for entry in _entries(pycache):
        if entry.name.startswith(module.stem + ".") and entry.name.endswith(".pyc"):
            _remove_own(entry, folder=False)
