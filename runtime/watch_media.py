"""What `lecture watch` makes from cached section videos with ffmpeg, without rendering: a
section's still (the video's last frame) and the lesson video (its sections' videos, once
all are there)."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from . import cache as cache_mod
from .cache import Cache
from .ffmpeg import FfmpegError, last_frame
from .plan import assemble as assemble_lesson
from .report import say
from .watch_preview import PreviewState
from .watch_server import lesson_url, still_url

if TYPE_CHECKING:
    from rich.console import Console


class DerivedMedia:
    def __init__(self, state: PreviewState, cache: Cache, fps: int, console: Console | None) -> None:
        self.state = state
        self.cache = cache
        self.fps = fps
        self.console = console

    def extract_still(self, sid: str, h: str, quiet: bool = False) -> None:
        """The last frame of a cached video (made by `lecture render`, which makes no stills)."""
        work = self.cache.job_dir(f"{sid}-frame")
        try:
            out = last_frame(self.cache.video_path(h), work / "still.png")
            if out.is_file():
                self.cache.put_still(h, out)
                if not quiet and self.state.is_current(h):
                    self.state.emit("still", {"id": sid, "hash": h, "url": still_url(h)})
        except (FfmpegError, OSError):
            pass
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def assemble_if_complete(self) -> None:
        """When every section has its video: the plan's assemble stage (the lesson video,
        cached by its sections)."""
        state = self.state
        with state.lock:
            if state.stopping or not state.sections:
                return
            hashes = [s["hash"] for s in state.sections]
            transition = state.transition
        if any(self.cache.record(h) is None for h in hashes):
            return
        key = cache_mod.lesson_key(hashes, self.fps, transition)
        with state.lock:
            if key == state.lesson_key:
                return
            state.lesson_key = key
        try:
            assemble_lesson(self.cache, [self.cache.video_path(h) for h in hashes], hashes, fps=self.fps,
                            transition=transition)
        except (FfmpegError, OSError) as exc:
            say(self.console, f"  could not assemble the lesson video: {exc}", "red")
            with state.lock:
                state.lesson_key = None
            return
        with state.lock:
            if state.lesson_key != key:
                return
            state.lesson_url = lesson_url(key)
        state.emit("lesson", {"video": state.lesson_url})
        say(self.console, "  ✓ lesson video assembled", "green")
