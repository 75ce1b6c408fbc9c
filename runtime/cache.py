"""The render cache: finished section videos (and stills) addressed by a content hash.

A section's hash covers everything its video depends on, and nothing else:

- its own nodes, as canonical JSON of the model with spans and comments left out (so
  reformatting the file or editing a comment renders nothing);
- the lesson settings a section uses (theme, resolution, fps, voice, language, rate);
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
    lessons/<key>.mp4      an assembled lesson (key: its sections' hashes, in order)
    modules/<sha>.py       generated modules, by content (what the workers import)
    tmp/<pid>-<token>/     one running process's work (partial renders, logs)

Every file is written under a temporary name in `tmp/` and renamed into place, so readers
(another `lecture render` of the same lesson, the watch server) never see half a file.
A record (`.json`) is written after its video, so a video counts only when its record is
there: a run killed in between renders the section again. The `tmp/` folder of a process
that no longer runs is removed by the next one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from lecture.compiler.model import Comments, Lesson, Section, Word
from lecture.compiler.span import Span

CACHE_FORMAT = 1  # bump when the layout or the meaning of a hash changes
KEY_SETTINGS = ("theme", "resolution", "fps", "voice", "language", "rate")
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
    ] + [run / name for name in ("scene_support.py", "theme.py", "render.py")]
    h = hashlib.sha256()
    for f in files:
        with contextlib.suppress(OSError):
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def theme_name(lesson: Lesson) -> str | None:
    value = lesson.setting("theme")
    return value.name if isinstance(value, Word) else value if isinstance(value, str) else None


def theme_values(lesson: Lesson) -> dict:
    from lecture.runtime.theme import get_theme

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


def _file_hash(path: Path) -> str:
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


def section_key(lesson: Lesson, section: Section, *, width: int, height: int, fps: int,
                base_dir: Path, parts: dict | None = None) -> SectionKey:
    """The content hash of one section's video (see the module doc)."""
    settings = {s.key: canonical(s.value) for s in lesson.settings if s.key in KEY_SETTINGS}
    files = {str(p): _file_hash(p) for p in section_files(section, base_dir)}
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
    return SectionKey(section.id, digest(inputs), inputs)


def lesson_key(section_hashes: list[str], fps: int) -> str:
    """The key of an assembled lesson: its sections' hashes in order."""
    return digest({"sections": list(section_hashes), "fps": fps, "v": CACHE_FORMAT})


# ---------------------------------------------------------------- the store


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def place(src: Path, dst: Path, *, move: bool = False) -> Path:
    """Put `src` at `dst` atomically: a hard link (or a copy, across file systems, or the
    file itself with move=True) under a temporary name next to `dst`, then a rename."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.tmp")
    try:
        if move:
            try:
                os.replace(src, dst)
                return dst
            except OSError:
                shutil.copyfile(src, tmp)
        else:
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dst


def write_text_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


class Cache:
    """The cache folder (see the module doc). Safe to share between processes."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
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
        """The record of a finished video, or None when there is none (or its video is gone)."""
        try:
            data = json.loads(self.record_path(h).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if self.video_path(h).is_file() else None

    def still(self, h: str) -> Path | None:
        p = self.still_path(h)
        return p if p.is_file() else None

    def lesson_record(self, key: str) -> dict | None:
        try:
            data = json.loads((self.root / "lessons" / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if self.lesson_path(key).is_file() else None

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
        """The generated module's file, by content (written once, never changed)."""
        sha = hashlib.sha256(code.encode("utf-8")).hexdigest()[:24]
        path = self.root / "modules" / f"m{sha}.py"
        if path.is_file():
            with contextlib.suppress(OSError):
                os.utime(path)  # in use: not stale
        else:
            write_text_atomic(path, code)
        return path

    # -- temporary work

    @property
    def run_dir(self) -> Path:
        """This process's own temporary folder (created on first use)."""
        if self._run_dir is None:
            self.clean_stale()
            d = self.root / "tmp" / f"{os.getpid()}-{secrets.token_hex(4)}"
            d.mkdir(parents=True, exist_ok=True)
            self._run_dir = d
        return self._run_dir

    def job_dir(self, label: str) -> Path:
        d = self.run_dir / f"{label}-{secrets.token_hex(4)}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def close(self) -> None:
        """Remove this process's temporary folder."""
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None

    def clean_stale(self, max_age: float = 7 * 24 * 3600) -> None:
        """Remove the temporary folders of processes that no longer run (a killed run)."""
        tmp = self.root / "tmp"
        if not tmp.is_dir():
            return
        now = time.time()
        for d in tmp.iterdir():
            try:
                pid = int(d.name.split("-", 1)[0])
            except ValueError:
                pid = -1
            try:
                old = now - d.stat().st_mtime > max_age
            except OSError:
                continue
            if pid <= 0 or not pid_alive(pid) or old:
                shutil.rmtree(d, ignore_errors=True)
        # modules nobody needs any more (kept a day: a concurrent run may still use one)
        mods = self.root / "modules"
        if mods.is_dir():
            for m in mods.iterdir():
                with contextlib.suppress(OSError):
                    if now - m.stat().st_mtime > 24 * 3600:
                        m.unlink()
