"""Files followed for `lecture watch`: the lesson and the images it shows.

They are watched with watchdog through their folders, so editors that save by writing a new
file and renaming it over the old one keep being followed; changes in quick succession are
taken as one (`debounce` seconds after the last, `on_change` is called once).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_WATCHED_EVENTS = {"created", "modified", "moved", "deleted", "closed"}


class FileWatch:
    def __init__(self, files: Iterable[Path], on_change: Callable[[], None], debounce: float) -> None:
        self.on_change = on_change
        self.debounce = debounce
        self._lock = threading.Lock()
        self._watched: set[str] = {str(f) for f in files}  # absolute paths
        self._watches: dict[str, Any] = {}  # folder -> watchdog watch
        self._observer: Any = None  # a watchdog Observer (imported when started)
        self._timer: threading.Timer | None = None
        self._stopped = False

    def start(self) -> None:
        from watchdog.observers import Observer

        self._observer = Observer()
        for folder in {str(Path(f).parent) for f in self._watched}:
            self._watch_folder(Path(folder))
        self._observer.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
        if self._observer is not None:
            self._observer.stop()
            with contextlib.suppress(RuntimeError):
                self._observer.join(timeout=5)

    def set_files(self, files: Iterable[Path]) -> None:
        """Follow these files (absolute paths) from now on, and only these."""
        wanted = {str(f) for f in files}
        folders = {str(Path(f).parent) for f in wanted}
        with self._lock:
            self._watched = wanted
        for folder in folders:
            self._watch_folder(Path(folder))
        for folder in list(self._watches):
            if folder not in folders and self._observer is not None:
                with contextlib.suppress(Exception):
                    self._observer.unschedule(self._watches.pop(folder))

    def _watch_folder(self, folder: Path) -> None:
        key = str(folder.resolve())
        if key in self._watches or self._observer is None:
            return
        with contextlib.suppress(OSError):
            self._watches[key] = self._observer.schedule(_Events(self), key, recursive=False)

    def _event(self, event: Any) -> None:
        if event.event_type not in _WATCHED_EVENTS:
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        with self._lock:
            hit = any(p and os.path.abspath(os.fsdecode(p)) in self._watched for p in paths)
            if not hit or self._stopped:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self.on_change)
            self._timer.daemon = True
            self._timer.start()


class _Events:
    """A watchdog event handler that forwards to the FileWatch."""

    def __init__(self, watch: FileWatch) -> None:
        self.watch = watch

    def dispatch(self, event: Any) -> None:
        self.watch._event(event)
