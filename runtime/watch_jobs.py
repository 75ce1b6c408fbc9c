"""The render units of `lecture watch` as jobs of the worker pool (watch.py): each still and
video asked for is in flight until it is done; what is done goes to the cache and the page,
and a failure is reported once per version of a section. The results come back on a pool
thread and are handled on one of two threads of our own (`post`), so that storing a video
(with its voice) never holds up the pool."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import failures, units
from .ffmpeg import FfmpegError
from .isolated_render import IsolatedRenders
from .pool import JobResult, RenderPool
from .report import say
from .safe_fs import place
from .soundtrack import Soundtrack
from .step_units_jobs import UnitsLost, UnitWork, join_units
from .step_units_plan import Chunk, read_outcomes
from .watch_media import DerivedMedia
from .watch_preview import PreviewState
from .watch_server import still_url, unit_url, video_url
from .watch_setup import WatchSetup
from .worker_result import WorkerFailure


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
        self.groups: dict[Future, list[Future]] = {}  # a section's video made by step units: its jobs
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
        for member in self.groups.pop(fut, [fut]):  # (a section's step units: each of its jobs)
            if self.pool is not None:
                self.pool.cancel(member)
        if not fut.done():
            fut.set_result(None)

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

    # ------------------------------------------------------------ step units

    def submit_units(self, job: Job, work: UnitWork, gen: int, rank: int, *, still: bool,
                     video: bool) -> None:
        """A section's still and video made by step units (step_units_jobs.py): the still of
        the first step whose code changed (its last frame, drawn once), that step's video
        (shown on the page as soon as it is there), and the other steps, whose starting states
        the worker checks against the cache; or, when nothing of the section is cached, runs of
        its steps shared by the workers."""
        n, edited = len(work.units), work.edited()
        if still:
            # a section built for the first time shows its end (the still the page keeps for it)
            target = edited if edited is not None and not work.cold else n - 1
            self._submit_group(job, work, "still", [Chunk(target, target + 1)], (-gen, 0, rank),
                               still_of=target)
        if not video:
            return
        if work.cold:
            runs = work.plan(self.setup.jobs)
        elif edited is None:
            runs = [Chunk(0, n)]
        else:  # the changed step alone (nothing fingerprinted before it), and the others
            runs = [Chunk(edited, edited + 1)] + ([Chunk(0, n)] if n > 1 else [])
            work.skips[Chunk(0, n)] = frozenset({edited})
        work.pending = set(runs)
        self._submit_group(job, work, "video", runs, (-gen, 1, rank))

    def _submit_group(self, job: Job, work: UnitWork, kind: str, runs: list[Chunk], priority: tuple, *,
                      still_of: int | None = None) -> None:
        assert self.pool is not None
        sid = job.unit.section
        group: Future = Future()
        members: list[Future] = []
        with self.state.lock:
            if self.state.stopping:
                return
            self.inflight[(job.hash, kind)] = group
            self.groups[group] = members
        if kind == "video":
            self._say(f"  rendering {sid} ({len(work.units)} steps, {len(runs)} jobs)…")
        for n, chunk in enumerate(runs):
            label = f"{sid}-{kind}-{n}"
            ws = units.workspace(self.cache.job_dir(label), None, sid, label)
            log = ws.job_dir / "log.txt"
            spec = job.unit.job(self.setup.settings, ws.media_dir, self.setup.path.parent)
            spec["units"] = work.job(chunk, still_of=still_of)
            with self.state.lock:
                if self.state.stopping:
                    return
                fut = self.pool.submit(spec, log_path=log, priority=(*priority, n))
                members.append(fut)
            done = functools.partial(self._post_unit_done, job, work, kind, chunk, ws, log, group)
            fut.add_done_callback(done)

    def _post_unit_done(self, job: Job, work: UnitWork, kind: str, chunk: Chunk, ws: units.Workspace,
                        log: Path, group: Future, fut: Future) -> None:
        self._post_submit(self._unit_job_done, job, work, kind, chunk, ws, log, group, fut)

    def _unit_job_done(self, job: Job, work: UnitWork, kind: str, chunk: Chunk, ws: units.Workspace,
                       log: Path, group: Future, fut: Future) -> None:
        try:
            result: JobResult = fut.result()
            if result.cancelled or group.done() or self.state.stopping:
                return
            if kind == "still":  # (its list is read apart: the still's run may be a run of the video too)
                self._step_still(job, work, chunk.first, result, ws)
                self._group_over(job, kind, group)
                return
            with work.lock:  # (the runs of one section come back on either of two threads)
                self._run_done(job, work, kind, chunk, ws, group, result)
        except (UnitsLost, FfmpegError, OSError) as exc:
            failed = JobResult(WorkerFailure.internal(type(exc).__name__, str(exc)), 0.0)
            self._group_failed(job, group, ws, failed)
        finally:
            ws.remove()

    def _run_done(self, job: Job, work: UnitWork, kind: str, chunk: Chunk, ws: units.Workspace, group: Future,
                  result: JobResult) -> None:
        """A run of the section's video is back: its units into the cache (the changed step's on
        the page at once), and once all runs are, the section's video."""
        problem = "no list" if result.output is None else work.take(chunk, result.output, ws.job_dir)
        if problem is not None:
            if result.failure is None:
                result = JobResult(WorkerFailure.internal("StepUnits", problem), result.seconds)
            self._group_failed(job, group, ws, result)
            return
        spent = time.monotonic() - self._started.get(job.hash, time.monotonic())
        for u in range(chunk.first, chunk.stop):
            rendered = not work.outcomes[u].cached
            key = work.store_unit(self.cache, u, record={"preview": True})
            if rendered and key is not None and u == work.edited():
                self._step_video(job, work, u, key, spent)
        if work.done and not group.done():
            self._units_joined(job, work, ws, result.seconds, spent)
            self._group_over(job, kind, group)

    def _group_over(self, job: Job, kind: str, group: Future) -> None:
        with self.state.lock:
            if self.inflight.get((job.hash, kind)) is group:
                del self.inflight[(job.hash, kind)]
            self.groups.pop(group, None)
        if not group.done():
            group.set_result(None)

    def _group_failed(self, job: Job, group: Future, ws: units.Workspace, result: JobResult) -> None:
        with self.state.lock:
            for key in [k for k, f in self.inflight.items() if f is group]:
                del self.inflight[key]
        self.cancel(group)
        self._job_failed(job, ws, result)

    def _step_still(self, job: Job, work: UnitWork, u: int, result: JobResult, ws: units.Workspace) -> None:
        """The still of the changed step: the section's still (until the section's video is there,
        the page shows it)."""
        spent = time.monotonic() - self._started.get(job.hash, time.monotonic())
        listed = read_outcomes(result.output) if result.output is not None else None
        got = next((o for o in listed or [] if o.index == u), None)
        still = Path(got.still).resolve() if got is not None and got.still is not None else None
        if still is None or not still.is_relative_to(ws.job_dir.resolve()):
            return
        spec = work.units.units[u]
        self.cache.put_still(job.hash, still)
        if self.state.is_current(job.hash):  # (a unit's still is the end of its last step)
            self.state.emit("still", {"id": job.unit.section, "hash": job.hash, "url": still_url(job.hash),
                                      "step": spec.stop_step, "seconds": round(spent, 3)})
            self._say(f"  ✓ {job.unit.section}: still of step {spec.stop_step} in {spent:.2f}s", "green")

    def _step_video(self, job: Job, work: UnitWork, u: int, key: str, spent: float) -> None:
        spec = work.units.units[u]
        if self.state.is_current(job.hash):
            self.state.emit("step", {"id": job.unit.section, "hash": job.hash, "step": spec.first_step + 1,
                                     "steps": spec.stop_step - spec.first_step, "video": unit_url(key, "mp4"),
                                     "start": round(work.start_seconds(u), 3), "duration": spec.seconds,
                                     "seconds": round(spent, 3)})
            self._say(f"  ✓ {job.unit.section}: step {spec.first_step + 1} rendered in {spent:.2f}s", "green")

    def _units_joined(self, job: Job, work: UnitWork, ws: units.Workspace, seconds: float,
                      spent: float) -> None:
        """Every unit is there: the section's video joined from them, as a rendered one."""
        movie = join_units(work.store(self.cache), ws.job_dir / "section.mp4")
        edited = work.edited()
        self._video_done(job, ws, movie, seconds, spent,
                         start=work.start_seconds(edited) if edited is not None else 0.0)

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
                    spent: float, start: float = 0.0) -> None:
        sid, h = job.unit.section, job.hash
        _, info = units.store_video(self.cache, h, sid, movie, soundtrack=job.soundtrack,  # with its voice
                                    work=ws.job_dir,
                                    record={"render_seconds": round(seconds, 3), "preview": True})
        if self.cache.still(h) is None and (h, "still") not in self.inflight:
            self.media.extract_still(sid, h, quiet=True)
        if self.state.is_current(h):
            self.state.emit("updated", {"id": sid, "hash": h, "video": video_url(h),
                                        "still": still_url(h) if self.cache.still(h) else None,
                                        "duration": info.duration, "seconds": round(spent, 3),
                                        "start": round(start, 3)})
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
            if fut is not None:
                self.cancel(fut)
        self._say(f"  ✗ {sid} failed", "red")
        self._say(rendered, "red")
        if self.state.is_current(h):
            self.state.emit("failed", {"id": sid, "hash": h, "error": rendered,
                                       "diagnostic": failure.diagnostic.to_json()})
