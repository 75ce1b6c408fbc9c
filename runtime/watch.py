"""`lecture watch`: re-render what changed on every save and show it live in a browser.

    watch(path, WatchOptions(port=8765, quality="low"))   # blocks until Ctrl-C; returns 0

It watches the lesson file (and the images it shows) with watchdog, through their folders,
so editors that save by writing a new file and renaming it over the old one keep being
followed; saves in quick succession are taken as one (100 ms; file_watch.py). On each
change the build plan (plan.py) runs, as for `lecture render`:

- load: with errors, they are printed and sent to the page, which shows them over the last
  good videos (file:line:col, message, the source line) until the next clean save; a lesson
  file that is deleted or renamed away is such an error too, until it is back;
- narrate and key: each section's content hash (cache.py) says which sections changed;
- resolve and compile: only those, at preview quality;
- render units: newest save first: work for a version of a section that is no longer
  current is cancelled. A section's still (its last frame, rendered with the animations
  skipped, which is quick) is rendered before its video;
- assemble: the lesson video, once every section has its video.

The page (watch_server.py, on 127.0.0.1 only) lists the sections in order, each with its
latest video and still, and the whole lesson's video once every section is there; it hears
of changes by server-sent events (`/events`) and reloads only what changed: the section just
changed is scrolled into view and played.

Events (each `data:` is JSON): `state` (everything; the first event of every
connection), `sections` (the list of sections and the ids that changed), `still`,
`updated` (a section's new video), `failed` (a section could not be rendered), `errors`,
`clean` (the errors are gone), `lesson` (the assembled lesson video).

The parts: watch_setup.py (the options, fixed at the start), watch_preview.py (what the
page shows, the build's generations, the page's subscribers; one lock for all of it),
watch_cycle.py (the rebuild on each change), watch_jobs.py (the render jobs and their
results), watch_media.py (stills and the lesson video from cached videos), watch_server.py
(the page's HTTP server) and file_watch.py.

Tests and tools can run a `Watcher` in their own process (`start()` returns the URL,
`stop()` ends it) or run `python -m lecture.runtime.watch FILE --port 0`, which prints
`watching FILE at http://127.0.0.1:PORT/` first (without the agents: a lesson with custom
elements needs `lecture watch`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .collaborators import Collaborators
from .file_watch import FileWatch
from .isolated_render import IsolatedRenders
from .pool import RenderPool
from .report import EXIT_LESSON_ERROR, EXIT_OK, say
from .safe_fs import UnsafePathError
from .watch_cycle import BuildCycle
from .watch_jobs import RenderJobs
from .watch_media import DerivedMedia
from .watch_preview import PreviewState
from .watch_server import HOST, PreviewHandler, PreviewServer
from .watch_setup import DEFAULT_PORT, DEFAULT_QUALITY, WatchOptions, WatchSetup

if TYPE_CHECKING:
    import queue

    from rich.console import Console

__all__ = ["Watcher", "WatchOptions", "main", "watch"]


class Watcher:
    """The watch server: the file watching, the build loop (watch_cycle.BuildCycle), the
    render jobs (watch_jobs.RenderJobs) and the page (watch_server, showing
    watch_preview.PreviewState). Its parts share the state's lock."""

    def __init__(self, path: str | Path, options: WatchOptions | None = None, *,
                 console: Console | None = None, collaborators: Collaborators | None = None) -> None:
        self.setup = setup = WatchSetup.make(path, options or WatchOptions(), console, collaborators)
        self.options, self.path, self.cache = setup.options, setup.path, setup.cache
        self.state = PreviewState(setup.cache, setup.display)
        self.media = DerivedMedia(self.state, setup.cache, setup.settings.fps, console)
        self.renders = RenderJobs(setup, self.state, self.media)
        self._files = FileWatch([self.path], self.state.kick, self.options.debounce)
        self.cycle = BuildCycle(setup, self.state, self.renders, self.media, self._files)
        self._server: PreviewServer | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life cycle

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.server_address[1]}/"

    @property
    def pool(self) -> RenderPool | None:
        return self.renders.pool

    def start(self) -> str:
        """Start serving, watching and the first build; returns the page's URL."""
        self._server = PreviewServer((HOST, self.options.port), PreviewHandler)
        self._server.watcher = self
        self.renders.pool = RenderPool(self.setup.jobs, cwd=self.path.parent)
        self.renders.isolated = IsolatedRenders(frozenset(), lambda: self.cache.run_dir / "isolated",
                                                (self.path.parent.resolve(), self.cache.root / "modules"))
        self._files.start()
        for target, name in ((self._server.serve_forever, "lecture-http"),
                             (self.cycle.loop, "lecture-build")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self.state.kick()
        return self.url

    def stop(self) -> None:
        """Stop everything: the workers are ended and this run's temporary files removed."""
        clients = self.state.close()
        if clients is None:
            return
        for q in clients:
            q.put(None)
        self._files.stop()
        self.renders.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for t in self._threads:
            t.join(timeout=10)
        self.cache.close()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ the page (watch_server.Preview)

    @property
    def media_root(self) -> Path:
        return self.state.media_root

    def snapshot(self) -> dict:
        return self.state.snapshot()

    def subscribe(self) -> tuple[queue.Queue[str | None], dict] | None:
        return self.state.subscribe()

    def unsubscribe(self, events: queue.Queue[str | None]) -> None:
        self.state.unsubscribe(events)


# ---------------------------------------------------------------- entry points


def watch(path: str | Path, options: WatchOptions | None = None, *, console: Console | None = None,
          collaborators: Collaborators | None = None) -> int:
    """Watch a lesson and serve its live preview until Ctrl-C (or SIGTERM). Returns 0 when
    stopped, 2 when it cannot start (no such file, the port is taken, a bad quality)."""
    options = options or WatchOptions()
    path = Path(path)
    if not path.is_file():
        say(console, f"error: {path}: no such file", "red")
        return EXIT_LESSON_ERROR
    try:
        watcher = Watcher(path, options, console=console, collaborators=collaborators)
    except (ValueError, UnsafePathError) as exc:
        say(console, f"error: {exc}", "red")
        return EXIT_LESSON_ERROR
    try:
        url = watcher.start()
    except OSError as exc:
        watcher.stop()
        say(console, f"error: cannot serve on {HOST}:{options.port}: {exc.strerror or exc}", "red")
        return EXIT_LESSON_ERROR
    say(console, f"watching {path} at {url} (Ctrl-C to stop)", "bold")
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while True:
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass
    finally:
        say(console, "stopping…")
        watcher.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    say(console, "stopped")
    return EXIT_OK


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """`python -m lecture.runtime.watch FILE [--port P] [--quality Q] [--jobs N] ...`"""
    ap = argparse.ArgumentParser(prog="python -m lecture.runtime.watch")
    ap.add_argument("file")
    ap.add_argument("--port", type=int, default=DEFAULT_PORT)
    ap.add_argument("-q", "--quality", default=DEFAULT_QUALITY,
                    choices=["low", "medium", "high", "4k"])
    ap.add_argument("-j", "--jobs", type=int, default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--build-dir", default="build")
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return watch(args.file, WatchOptions(port=args.port, quality=args.quality, jobs=args.jobs,
                                         cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                                         build_root=Path(args.build_dir)))


if __name__ == "__main__":
    sys.exit(main())
