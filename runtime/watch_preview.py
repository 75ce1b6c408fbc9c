"""What the `lecture watch` page shows (watch.py), and who hears of its changes.

One re-entrant lock guards all of it: the sections as last built, their failures, the
lesson's errors, the assembled lesson video, the build's generations (the build loop waits
on a condition of that lock) and the page's subscribers. The other parts of the watch
(watch_cycle.py, watch_jobs.py, watch_media.py) take the same lock when they read or change
it, so a snapshot and a subscription are taken at once and no event is missed.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from lecture.compiler.diagnostics import Diagnostic

from .cache import Cache
from .step_timing import SectionNarration
from .watch_server import sse, still_url, video_url


def _source_line(text: str | None, line: int) -> str | None:
    lines = (text or "").split("\n")
    return lines[line - 1].rstrip("\r")[:400] if text is not None and 1 <= line <= len(lines) else None


def diagnostic_json(d: Diagnostic, text: str | None) -> dict:
    """A diagnostic as the page shows it: with its source line, and as the terminal shows it."""
    out = d.to_json()
    out["source_line"] = _source_line(text, d.span.line)
    out["text"] = d.render(text)
    return out


def step_times(narration: SectionNarration | None, fps: int) -> list[dict[str, float]]:
    """Where each step of a section lies in its video, in seconds on the frames the generated
    scene gives it (`start`, `end`), and the middle of its last frame (`last`): the page tells
    from them which step a click lands on, and where to pause for a step the editor's cursor is
    in (a browser takes a pause at the very end of a video for its end, and moves it there)."""
    if narration is None or not narration.steps:
        return []
    starts, frames = narration.frame_starts(fps)
    ends = [*starts[1:], frames]
    return [{"start": round(a / fps, 4), "end": round(b / fps, 4), "last": round(max(a, b - 0.5) / fps, 4)}
            for a, b in zip(starts, ends, strict=True)]


class PreviewState:
    """The page's state (a watch_server.Preview) and the build's generations."""

    def __init__(self, cache: Cache, display: str) -> None:
        self.cache = cache
        self.display = display
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.requested = 0  # bumped by every (debounced) change
        self.built = 0  # the generation last built (start() asks for generation 1)
        self.stopping = False

        self.title = ""
        self.sections: list[dict] = []  # {"id", "title", "hash", "steps"} in order (steps: step_times)
        self.changed: list[str] = []
        self.errors: list[dict] = []
        self.failed: dict[str, dict] = {}  # hash -> {"id", "error"}
        self.lesson_key: str | None = None
        self.transition = "cut"  # the lesson's `transition:` setting, for the lesson video
        self.lesson_url: str | None = None
        self._event_id = 0
        self._clients: list[queue.Queue[str | None]] = []
        self.events: list[tuple[float, str, dict]] = []  # everything sent (for tests, bench)
        self.still_steps: dict[str, int | None] = {}  # hash -> the step its still ends (None: the section)

    # ------------------------------------------------------------ generations

    def kick(self) -> None:
        """A change: the build loop builds the lesson as saved now."""
        with self.cond:
            self.requested += 1
            self.cond.notify_all()

    def next_generation(self) -> int | None:
        """The generation to build, once there is a newer one than the last built; None when
        stopping."""
        with self.cond:
            while not self.stopping and self.requested == self.built:
                self.cond.wait()
            if self.stopping:
                return None
            return self.requested

    def finished(self, gen: int) -> None:
        with self.cond:
            self.built = gen

    def superseded(self, gen: int) -> bool:
        """Whether a newer save came in since `gen` was asked for (or the watch is stopping)."""
        with self.cond:
            return self.requested != gen or self.stopping

    def close(self) -> list[queue.Queue[str | None]] | None:
        """Stop: the build loop ends; the subscribers to tell, or None when already stopping."""
        with self.cond:
            if self.stopping:
                return None
            self.stopping = True
            self.cond.notify_all()
            return list(self._clients)

    # ------------------------------------------------------------ the page (watch_server.Preview)

    @property
    def media_root(self) -> Path:
        return self.cache.root

    def snapshot(self) -> dict:
        """Everything the page shows, as the `state` event and `/state` give it."""
        with self.lock:
            sections = []
            for s in self.sections:
                h = s["hash"]
                video = self.cache.record(h) is not None
                still = self.cache.still(h) is not None
                fail = self.failed.get(h)
                sections.append({**s, "video": video_url(h) if video else None,
                                 "still": still_url(h) if still else None,
                                 "still_step": self.still_steps.get(h) if still else None,
                                 "status": "ok" if video else "failed" if fail else "rendering",
                                 "error": fail["error"] if fail else None})
            return {"file": self.display, "title": self.title, "generation": self.built,
                    "sections": sections, "changed": list(self.changed),
                    "errors": list(self.errors), "lesson": self.lesson_url}

    def subscribe(self) -> tuple[queue.Queue[str | None], dict] | None:
        with self.lock:  # the snapshot and the subscription at once: no event is missed
            if self.stopping:
                return None
            q: queue.Queue[str | None] = queue.Queue()
            self._clients.append(q)
            return q, self.snapshot()

    def unsubscribe(self, events: queue.Queue[str | None]) -> None:
        with self.lock:
            if events in self._clients:
                self._clients.remove(events)

    def emit(self, name: str, data: dict) -> None:
        with self.lock:
            self._event_id += 1
            self.events.append((time.monotonic(), name, data))
            if name == "still":  # (a click on the still is at that step: preview ↔ source)
                self.still_steps[data["hash"]] = data.get("step")
            payload = sse(name, data, self._event_id)
            for q in self._clients:
                q.put(payload)

    def is_current(self, h: str) -> bool:
        """Whether `h` is a section of the lesson as last built (while the file has errors,
        that is the last good version: its videos keep coming to the page)."""
        with self.lock:
            return any(s["hash"] == h for s in self.sections)
