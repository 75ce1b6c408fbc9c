"""The build manifest: `build/<lesson>/manifest.json`.

It records what a render produced and from what: each section's declared and rendered
durations (the rendered ones read back with ffprobe, so they match the files), output
paths, render times, status and error; the lesson's content hash; the tool versions;
the quality, frame rate and resolution.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from lecture.compiler.user_cache import user_cache_dir

from .ffmpeg import VERSION_TIMEOUT, FfmpegError, run
from .safe_fs import write_bytes_atomic

MANIFEST_VERSION = 1


def content_hash(text: str) -> str:
    """sha256 of a lesson's normalised text (LF line ends, no BOM, final newline), so the
    same lesson saved on Windows or Unix hashes the same."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def tool_versions() -> dict[str, str | None]:
    """Versions of lecture, manim, python and ffmpeg."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    try:
        from lecture import __version__ as lecture_version

        versions["lecture"] = lecture_version
    except ImportError:  # pragma: no cover
        versions["lecture"] = None
    try:
        from importlib.metadata import version

        versions["manim"] = version("manim")
    except Exception:  # noqa: BLE001
        versions["manim"] = None
    versions["ffmpeg"] = _ffmpeg_version()
    return versions


def _ffmpeg_version() -> str | None:
    """`ffmpeg -version`, remembered per ffmpeg binary (running it costs a tenth of a second,
    a large part of a fully cached rebuild)."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    try:
        st = os.stat(exe)
    except OSError:
        return None
    key = f"{os.path.realpath(exe)}:{st.st_size}:{st.st_mtime_ns}"
    memo = user_cache_dir() / "tools.json"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(key), str):
        return known[key]
    try:
        out = run([exe, "-version"], "report its version", VERSION_TIMEOUT).stdout
    except FfmpegError:
        return None
    m = re.match(r"ffmpeg version (\S+)", out.decode("utf-8", "replace"))
    version = m.group(1) if m else None
    if version is not None:
        try:
            write_bytes_atomic(memo, json.dumps({key: version}).encode("utf-8"))
        except OSError:
            pass
    return version


@dataclass
class SectionRecord:
    id: str
    title: str
    class_name: str | None  # the Scene class (None when the section did not compile)
    declared_duration: float | None  # the section's declared target (`section x "T" 20s`)
    planned_duration: float | None  # the compiled scene's length (sum of its steps)
    status: str  # ok | failed | skipped
    rendered_duration: float | None = None  # seconds, from ffprobe
    frames: int | None = None
    output: str | None = None  # the section's video
    render_seconds: float | None = None
    log: str | None = None
    error: str | None = None  # `file:line:col: message`
    diagnostic: dict | None = None
    hash: str | None = None  # the section's content hash (see cache.py)
    cached: bool = False  # True: taken from the cache, not rendered by this run
    seconds: float | None = None  # what this run spent on the section (render, or cache lookup)
    units: int | None = None  # rendered as step units: how many (None: rendered whole, or cached)
    units_cached: int | None = None  # of those, found in the cache (their starting state unchanged)


@dataclass
class Manifest:
    lesson: str  # the lesson file as given
    title: str
    content_hash: str
    quality: str
    fps: int
    resolution: str
    module: str  # the generated module
    source_map: str
    # The module holds every chosen section of the lesson; `module_key` names the lesson it
    # was compiled for (its text and its sections' hashes) and `module_hash` its content, so
    # that a fully cached build keeps it without compiling (see build.py).
    module_key: str | None = None
    module_hash: str | None = None
    sections: list[SectionRecord] = field(default_factory=list)
    status: str = "ok"  # ok | failed | partial (only some sections asked for)
    output: str | None = None  # lesson.mp4 (None when a section failed)
    copied_to: str | None = None  # the -o path, when given
    duration: float | None = None  # of the assembled video, from ffprobe
    frames: int | None = None
    lesson_key: str | None = None  # the assembled video's cache key (its sections' hashes)
    cache_dir: str | None = None
    jobs: int | None = None  # worker processes used (0: nothing had to be rendered)
    subtitles: list[str] = field(default_factory=list)  # lesson.srt, lesson.vtt
    narration: dict | None = None  # voice, timing per step (declared and actual)
    custom: list = field(default_factory=list)  # the Coder's code per custom element
    repairs: list = field(default_factory=list)  # auto-fix: node, error, tries, tokens
    usage: dict | None = None  # model calls per agent: tokens and time
    tools: dict = field(default_factory=tool_versions)
    created: str = field(default_factory=lambda: datetime.now(UTC)
                         .isoformat(timespec="seconds"))
    version: int = MANIFEST_VERSION

    def to_json(self) -> dict:
        return asdict(self)

    def write(self, path: str | Path) -> Path:
        # (under a fresh name first: two runs of the same lesson may write at the same moment)
        return write_bytes_atomic(path, (json.dumps(self.to_json(), indent=2) + "\n").encode("utf-8"))


def read_manifest(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
