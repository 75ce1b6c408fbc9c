"""What a `lecture watch` works with, fixed when it starts (watch.py): the options, the lesson
file, the render settings, the cache and the folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import build
from .cache import Cache
from .collaborators import Collaborators
from .plan import SectionParts
from .pool import default_jobs
from .render import RenderSettings, resolve_settings
from .safe_fs import safe_dir

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_PORT = 8765
DEFAULT_QUALITY = "low"
DEBOUNCE_SECONDS = 0.1


@dataclass(frozen=True)
class WatchOptions:
    port: int = DEFAULT_PORT  # 0: any free port
    quality: str = DEFAULT_QUALITY
    jobs: int | None = None  # worker processes (default: the number of cores)
    cache_dir: Path | None = None  # the render cache (default: build_root/.cache)
    build_root: Path = Path("build")
    debounce: float = DEBOUNCE_SECONDS  # saves closer than this are one change
    voice: str | None = None
    section_parts: SectionParts | None = None  # extra inputs of each section's hash


@dataclass(frozen=True)
class WatchSetup:
    options: WatchOptions
    path: Path  # the lesson file, absolute
    display: str  # the lesson file as given (how diagnostics name it)
    settings: RenderSettings
    console: Console | None
    collaborators: Collaborators
    jobs: int  # worker processes
    build_root: Path
    cache: Cache
    log_dir: Path  # the failures' logs

    @classmethod
    def make(cls, path: str | Path, options: WatchOptions, console: Console | None,
             collaborators: Collaborators | None) -> WatchSetup:
        """The setup of `options` (a bad quality: ValueError; a link where the logs go:
        UnsafePathError)."""
        lesson = Path(path).resolve()
        settings = resolve_settings(options.quality)
        build_root = Path(options.build_root)
        cache = Cache(options.cache_dir if options.cache_dir is not None
                      else build.default_cache_dir(build_root))
        log_dir = build_root / lesson.stem / "watch-logs"
        safe_dir(build_root, lesson.stem, "watch-logs")  # a link there: UnsafePathError
        return cls(options, lesson, str(path), settings, console, collaborators or Collaborators(),
                   max(1, options.jobs or default_jobs()), build_root, cache, log_dir)
