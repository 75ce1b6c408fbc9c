"""The render units of `lecture watch` as jobs of the worker pool (watch.py): each still and
video asked for is in flight until it is done; what is done goes to the cache and the page,
and a failure is reported once per version of a section. The results come back on a pool
thread and are handled on one of two threads of our own (`post`), so that storing a video
(with its voice) never holds up the pool."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import failures, units
from .isolated_render import IsolatedRenders
from .pool import JobResult, RenderPool
from .report import say
from .safe_fs import place
from .soundtrack import Soundtrack
from .watch_media import DerivedMedia
from .watch_preview import PreviewState
from .watch_server import still_url, video_url
from .watch_setup import WatchSetup


@dataclass(frozen=True)
class Job:
    """One unit of one version, as a still or a video."""

    unit: units.Unit
    hash: str
    kind: str  # "still" | "video"
    text: str  # the lesson's source (failures are shown with its lines)
    soundtrack: Soundtrack


class RenderJobs:
    """The jobs in flight (under the state's lock) and what becomes of them."""

    def __init__(self, setup: WatchSetup, state: PreviewState, media: DerivedMedia) -> None:
        self.setup = setup
        self.state = state
        self.media = media
        self.cache = setup.cache
        self.pool: RenderPool | None = None  # (both made when the watch starts)
        self.isolated: IsolatedRenders | None = None
        self.post = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lecture-post")
        self.inflight: dict[tuple[str, str], Future] = {}  # (hash, "still"|"video") -> job
        self._started: dict[str, float] = {}  # hash -> when its work was asked for

    def close(self) -> None:
        """End the workers and drop the results still to come."""
        if self.pool is not None:
            self.pool.close()
        if self.isolated is not None:
            self.isolated.close()
        self.post.shutdown(wait=True, cancel_futures=True)

    def _say(self, text: str, style: str | None = None) -> None:
        say(self.setup.console, text, style)

    def cancel(self, fut: Future) -> None:
        if self.pool is not None:
            self.pool.cancel(fut)

    def mark_started(self, h: str) -> None:
        """Work for section version `h` is asked for (its time is counted from the first ask)."""
        with self.state.lock:
            self._started.setdefault(h, time.monotonic())

    # ------------------------------------------------------------ submitting

    def submit(self, job: Job, priority: tuple) -> None:
        assert self.pool is not None
        sid, label = job.unit.section, f"{job.unit.section}-{job.kind}"
        ws = units.workspace(self.cache.job_dir(label), self.isolated, sid, label)
        log = (ws.worker_dir or ws.job_dir) / "log.txt"
        spec = job.unit.job(self.setup.settings, ws.media_dir, self.setup.path.parent,
                            still=job.kind == "still")
        if job.kind == "video":
            self._say(f"  rendering {sid}…")
        with self.state.lock:
            if self.state.stopping:
                return
            fut = ws.pool(self.pool, self.isolated).submit(spec, log_path=log, priority=priority)
            self.inflight[(job.hash, job.kind)] = fut
        fut.add_done_callback(lambda f: self._post_submit(self._job_done, job, ws, log, f))

    def _post_submit(self, fn: Callable[..., None], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # shutting down
            self.post.submit(fn, *args)

    # ------------------------------------------------------------ results

    def _job_done(self, job: Job, ws: units.Workspace, log: Path, fut: Future) -> None:
        try:
            result: JobResult = fut.result()
            with self.state.lock:
                if self.inflight.get((job.hash, job.kind)) is fut:
                    del self.inflight[(job.hash, job.kind)]
            if result.cancelled or self.state.stopping:
                return
            if ws.worker_dir is not None:  # out of the isolated scratch, never via a link
                result, taken_log = ws.collect(result, log)
                place(taken_log, ws.job_dir / "log.txt", move=True)
            spent = time.monotonic() - self._started.get(job.hash, time.monotonic())
            output = result.output
            if output is not None and job.kind == "still":
                self._still_done(job, output, spent)
            elif output is not None:
                self._video_done(job, ws, output, result.seconds, spent)
            else:
                self._job_failed(job, ws, result)
        finally:
            ws.remove()

    def _still_done(self, job: Job, image: Path, spent: float) -> None:
        sid, h = job.unit.section, job.hash
        self.cache.put_still(h, image)
        if self.state.is_current(h):
            self.state.emit("still", {"id": sid, "hash": h, "url": still_url(h), "seconds": round(spent, 3)})
            self._say(f"  ✓ {sid}: still in {spent:.2f}s", "green")

    def _video_done(self, job: Job, ws: units.Workspace, movie: Path, seconds: float,
                    spent: float) -> None:
        sid, h = job.unit.section, job.hash
        _, info = units.store_video(self.cache, h, sid, movie, soundtrack=job.soundtrack,  # with its voice
                                    work=ws.job_dir,
                                    record={"render_seconds": round(seconds, 3), "preview": True})
        if self.cache.still(h) is None and (h, "still") not in self.inflight:
            self.media.extract_still(sid, h, quiet=True)
        if self.state.is_current(h):
            self.state.emit("updated", {"id": sid, "hash": h, "video": video_url(h),
                                        "still": still_url(h) if self.cache.still(h) else None,
                                        "duration": info.duration, "seconds": round(spent, 3)})
            self._say(f"  ✓ {sid}: rendered in {spent:.2f}s ({info.duration:.2f}s of video)", "green")
        self.media.assemble_if_complete()

    def _job_failed(self, job: Job, ws: units.Workspace, result: JobResult) -> None:
        """A failure: reported once per version of the section."""
        sid = job.unit.section
        with self.state.lock:
            if job.hash in self.state.failed:
                return
        log_dir = self.setup.log_dir
        log_path = log_dir / f"{sid}.log"
        with contextlib.suppress(OSError):
            place(ws.job_dir / "log.txt", log_path)
        failure = units.diagnose(job.unit, result, ws, log=log_path, tex_log=log_dir / f"{sid}.tex.log",
                                 lesson_file=str(self.setup.path))
        self.section_failed(sid, job.hash, failure, job.text)

    def section_failed(self, sid: str, h: str, failure: failures.RenderFailure,
                       text: str | None) -> None:
        """Section version `h` cannot be made: on the page (when current) and in the terminal."""
        rendered = failure.render(text)
        with self.state.lock:
            self.state.failed[h] = {"id": sid, "error": rendered}
        # the other job of this version is pointless now
        for kind in ("still", "video"):
            fut = self.inflight.get((h, kind))
            if fut is not None and self.pool is not None:
                self.pool.cancel(fut)
        self._say(f"  ✗ {sid} failed", "red")
        self._say(rendered, "red")
        if self.state.is_current(h):
            self.state.emit("failed", {"id": sid, "hash": h, "error": rendered,
                                       "diagnostic": failure.diagnostic.to_json()})
