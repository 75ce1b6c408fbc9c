"""The preview command: the watch server (runtime/watch.py's `Watcher`) for a lesson, started
on first use and reused afterwards, in the language server's process; each renders on save.
A section's card on the watch page has the anchor `#section-ID`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.terminal import make_console

if TYPE_CHECKING:
    from lecture.runtime.watch import Watcher


class Previews:
    """One watch server per lesson file, until the language server shuts down."""

    def __init__(self) -> None:
        self._watchers: dict[Path, Watcher] = {}
        self._lock = threading.Lock()

    def url(self, path: Path, section: str | None, *, build_root: Path, quality: str = "low",
            voice: str | None = None) -> str:
        """The page of the lesson's watch server (started if it is not running), at a section."""
        # the watch server and the agents import Manim: only when a preview is asked for
        from lecture.agents.build_collaborators import build_collaborators
        from lecture.runtime.watch import Watcher, WatchOptions

        path = path.resolve()
        with self._lock:
            watcher = self._watchers.get(path)
            if watcher is None:
                options = WatchOptions(port=0, quality=quality, build_root=build_root, voice=voice)
                watcher = Watcher(path, options, console=make_console(), collaborators=build_collaborators())
                try:
                    watcher.start()
                except BaseException:
                    watcher.stop()
                    raise
                self._watchers[path] = watcher
        return watcher.url + (f"#section-{section}" if section else "")

    def close(self) -> None:
        with self._lock:
            watchers, self._watchers = list(self._watchers.values()), {}
        for watcher in watchers:
            watcher.stop()
