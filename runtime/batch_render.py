"""`lecture render`'s render stage: a compiled lesson's sections, as a batch, into its build
folder (`build/<lesson>/`, see build.py for its layout).

Sections found in the cache are placed as they are; the others are rendered in parallel in
the worker pool (the sections drawing custom elements in the isolated pool), queued in the
lesson's order; each section's line says whether it was rendered or cached, and how long it
took. A section that fails is reported at the `.lecture` node that caused it; the
others still render. When every chosen section is there, they are joined into lesson.mp4
(cached by their hashes; with `--sections`, only into `-o`); then manifest.json is written.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.compiler.kinds import setting_choice
from lecture.compiler.model import Lesson
from lecture.compiler.sourcemap import CompiledModule

from . import assemble, failures, manifest, units
from . import cache as cache_mod
from .cache import Cache, SectionKey, place, write_text_atomic
from .ffmpeg import FfmpegError, probe
from .isolated_render import IsolatedRenders
from .plan import LESSON_VIDEO, Compiled
from .plan import assemble as assemble_lesson
from .pool import JobResult, RenderPool, default_jobs
from .render import RenderSettings
from .report import EXIT_OK, EXIT_RENDER_FAILED, say, spinner
from .safe_fs import safe_dir
from .soundtrack import Soundtrack
from .step_units_jobs import UnitsLost, UnitWork, join_units
from .step_units_plan import Chunk, share_out, split_section
from .worker_result import WorkerFailure

if TYPE_CHECKING:
    from rich.console import Console

MODULE_NAME = "lesson_scenes.py"
SOURCE_MAP_NAME = "sourcemap.json"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class RenderTarget:
    """What a batch render makes, and where."""

    lesson: Lesson
    source_text: str
    lesson_path: Path
    settings: RenderSettings
    out_dir: Path  # build/<lesson>/
    sections: Sequence[str] | None = None  # only these (None: every section)
    output: Path | None = None  # the lesson video is also copied here (-o)
    soundtrack: Soundtrack | None = None
    burn_subtitles: bool = False

    @property
    def transition(self) -> str:
        """How the sections join (the lesson's `transition:` setting)."""
        return setting_choice(self.lesson, "transition")


@dataclass(frozen=True)
class CacheUse:
    """The render cache, every section's key and the sections found in it (their records).
    Without a cache every compiled section is rendered and nothing is stored."""

    cache: Cache | None = None
    keys: Mapping[str, SectionKey] = field(default_factory=dict)
    cached: Mapping[str, dict] = field(default_factory=dict)
    # of `cached`: rendered by this very build, ahead of its narration (build.py _render_ahead)
    ahead: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Workers:
    """Who renders: `pool` (else one is started for this batch), and the isolated pool for
    the sections that run custom code."""

    pool: RenderPool | None = None
    isolated: IsolatedRenders | None = None
    jobs: int | None = None
    timeout: float | None = None  # seconds for one section


@dataclass(frozen=True)
class Outcome:
    code: int  # EXIT_OK or EXIT_RENDER_FAILED
    failures: tuple[failures.RenderFailure, ...] = ()


def render_compiled(compiled: Compiled | CompiledModule, target: RenderTarget, *,
                    console: Console | None = None, cache: CacheUse | None = None,
                    workers: Workers | None = None, started: float | None = None,
                    extra: Mapping[str, object] | None = None) -> int:
    """Render an already compiled lesson (tests drive it with a hand-written module); the
    exit status. `extra`: more fields of the manifest."""
    return render_units(compiled, target, console=console, cache=cache, workers=workers,
                        started=started, extra=extra).code


def render_units(compiled: Compiled | CompiledModule, target: RenderTarget, *,
                 console: Console | None = None, cache: CacheUse | None = None,
                 workers: Workers | None = None, started: float | None = None,
                 extra: Mapping[str, object] | None = None) -> Outcome:
    """Render the compiled sections (and place the cached ones) into the build folder, join
    them and write the manifest. Sections the compiler rejected are reported and recorded
    as failed like sections whose render failed."""
    started = time.perf_counter() if started is None else started
    if isinstance(compiled, CompiledModule):
        compiled = Compiled(compiled)
    batch = _Batch(compiled, target, cache or CacheUse(), workers or Workers(), console)
    try:
        batch.start()
        batch.collect()
    finally:
        batch.clean_up()
    return batch.finish(started, extra or {})


@dataclass
class _Running:
    unit: units.Unit
    future: Future
    ws: units.Workspace
    log_tmp: Path
    record: manifest.SectionRecord
    work: UnitWork | None = None  # a section rendered as step units: this job's run of them
    chunk: Chunk | None = None


class _Batch:
    """One batch render: the section records, the running jobs, the failures."""

    def __init__(self, compiled: Compiled, target: RenderTarget, use: CacheUse, workers: Workers,
                 console: Console | None) -> None:
        self.compiled, self.t, self.use, self.workers, self.console = compiled, target, use, workers, console
        self.pool = workers.pool
        self.own_pool: RenderPool | None = None
        out = target.out_dir
        for sub in ("sections", "logs"):  # real folders, never links (a cloned build/ may hold any)
            safe_dir(out, sub)
        self.module = self._write_module()
        scenes = compiled.module.scenes
        self.scenes = {s.section_id: s for s in scenes}
        self.order = [s.id for s in target.lesson.sections]
        self.order += [sid for sid in self.scenes if sid not in self.order]  # (a hand-made module)
        self.chosen = [sid for sid in self.order if (target.sections is None or sid in target.sections)
                       and (sid in use.cached or (compiled.renders(sid)
                                                  and (sid in self.scenes or sid in compiled.failures)))]
        self.partial = len(self.chosen) < len(self.order)
        self.to_render = [sid for sid in self.chosen if sid not in use.cached and sid in self.scenes]
        self.man = self._manifest()
        self.records: dict[str, manifest.SectionRecord] = {}
        self.running: list[_Running] = []
        self.failed: list[failures.RenderFailure] = []
        # the sections to render as step units, and the runs of units each is shared out in
        self.works: dict[str, UnitWork] = {}
        self.runs: dict[str, list[Chunk]] = {}

    def _write_module(self) -> Path:
        """The generated module and its source map in the build folder; the module the
        workers import."""
        code, out = self.compiled.module.code, self.t.out_dir
        module_path = out / MODULE_NAME
        if not code:
            return module_path
        write_text_atomic(module_path, code)
        write_text_atomic(out / SOURCE_MAP_NAME, self.compiled.module.source_map.to_json() + "\n")
        if self.use.cache is not None:  # workers import a copy named by its content: never rewritten
            return self.use.cache.module(code)
        cache_mod.drop_bytecode(module_path)  # never bytecode found next to it (a cloned build/)
        return module_path

    def _manifest(self) -> manifest.Manifest:
        t, cache = self.t, self.use.cache
        return manifest.Manifest(
            lesson=str(t.lesson_path), title=t.lesson.title.value,
            content_hash=manifest.content_hash(t.source_text), quality=t.settings.quality,
            fps=t.settings.fps, resolution=t.settings.resolution,
            module=str(t.out_dir / MODULE_NAME), source_map=str(t.out_dir / SOURCE_MAP_NAME),
            module_hash=manifest.content_hash(code) if (code := self.compiled.module.code) else None,
            cache_dir=str(cache.root) if cache else None)

    # ------------------------------------------------------------ starting

    def start(self) -> None:
        t = self.t
        self._share_out()
        plural = "s" if len(self.order) != 1 else ""
        say(self.console, f"Rendering {t.lesson_path} ({len(self.chosen)} of {len(self.order)} "
                          f"section{plural}, {t.settings.resolution} at {t.settings.fps} fps; "
                          f"{len(self.use.cached)} cached, {len(self.to_render)} to render)")
        for index, sid in enumerate(self.order, start=1):
            record = self._record(sid)
            self.man.sections.append(record)
            self.records[sid] = record
            if sid not in self.chosen:
                continue
            if sid in self.use.cached:
                self._place_cached(sid, record)
            elif sid in self.compiled.failures:
                self._compile_failed(sid, record)
            else:
                self._submit(index, sid, record)

    def _record(self, sid: str) -> manifest.SectionRecord:
        section, scene, key = self.t.lesson.section(sid), self.scenes.get(sid), self.use.keys.get(sid)
        return manifest.SectionRecord(
            id=sid, title=section.title.value if section else sid,
            class_name=scene.class_name if scene else None,
            declared_duration=section.duration if section else None,
            planned_duration=scene.duration if scene else None, status="skipped",
            hash=key.hash if key else None)

    def _place_cached(self, sid: str, record: manifest.SectionRecord) -> None:
        t0 = time.perf_counter()
        rec, key, cache = self.use.cached[sid], self.use.keys[sid], self.use.cache
        assert cache is not None
        log_path = self.t.out_dir / "logs" / f"{sid}.log"
        video = place(cache.video_path(key.hash), self.t.out_dir / "sections" / f"{sid}.mp4")
        record.status, record.cached, record.output = "ok", sid not in self.use.ahead, str(video)
        record.rendered_duration = rec.get("duration")
        record.frames = rec.get("frames")
        record.render_seconds = rec.get("render_seconds")
        record.class_name = record.class_name or rec.get("class_name")
        record.planned_duration = record.planned_duration or rec.get("planned_duration")
        record.log = str(log_path) if log_path.is_file() else None
        record.seconds = round(time.perf_counter() - t0, 4)
        how = "rendered while its narration was spoken" if sid in self.use.ahead else "cached"
        say(self.console, f"  ✓ {sid} done in {record.seconds:.2f}s: {how} "
                          f"({(record.rendered_duration or 0):.2f}s of video)", "green")

    def _compile_failed(self, sid: str, record: manifest.SectionRecord) -> None:
        log_path = self.t.out_dir / "logs" / f"{sid}.log"
        failure = failures.from_compile(sid, self.compiled.failures[sid], log_path=log_path)
        (self.t.out_dir / "sections" / f"{sid}.mp4").unlink(missing_ok=True)
        self._failed(record, failure, "failed while compiling")
        record.log = str(log_path)

    def _failed(self, record: manifest.SectionRecord, failure: failures.RenderFailure, how: str) -> None:
        self.failed.append(failure)
        record.status = "failed"
        record.error = failure.summary
        record.diagnostic = failure.to_json()
        say(self.console, f"  ✗ {record.id} {how}", "red")
        say(self.console, failure.render(self.t.source_text), "red")

    def _share_out(self) -> None:
        """The sections to render as step units (all but those drawing custom code), and the
        runs of units they are shared out in across the workers."""
        isolated = self.workers.isolated
        for sid in self.to_render:
            if isolated is not None and sid in isolated:
                continue
            key = self.use.keys.get(sid)
            split = split_section(self.compiled.module.code, self.scenes[sid].class_name,
                                  key.unit_base if key else "")
            if split is not None:
                self.works[sid] = UnitWork.of(sid, split, self.use.cache)
        cold = {sid: w.units for sid, w in self.works.items() if w.cold}
        self.runs = share_out(cold, self._jobs()) if cold else {}

    def _jobs(self) -> int:
        """The workers: the pool's, else one per core (at most one per unit to render)."""
        if self.pool is not None:
            return self.pool.jobs
        most = sum(len(w.units) for w in self.works.values()) + len(self.to_render) - len(self.works)
        return max(1, min(self.workers.jobs or default_jobs(), most))

    def _submit(self, index: int, sid: str, record: manifest.SectionRecord) -> None:
        t, w = self.t, self.workers
        section = t.lesson.section(sid)
        unit = units.Unit(sid, self.scenes[sid].class_name, self.module.resolve(),
                          self.compiled.module.source_map, section.span if section else None)
        isolated = w.isolated if w.isolated is not None and sid in w.isolated else None
        if self.pool is None and isolated is None:
            self.own_pool = self.pool = RenderPool(self._jobs())
        work = self.works.get(sid)
        if work is None:  # (custom code renders whole, in the isolated pool)
            self._submit_job(index, unit, record, None, None)
        else:
            (t.out_dir / "logs" / f"{sid}.log").write_bytes(b"")  # (each run's log is added to it)
            for n, chunk in enumerate(work.plan(self._jobs(), self.runs.get(sid))):
                self._submit_job((index, n), unit, record, work, chunk)
        say(self.console, f"  rendering {sid} ({index}/{len(self.order)})…")

    def _submit_job(self, priority: object, unit: units.Unit, record: manifest.SectionRecord,
                    work: UnitWork | None, chunk: Chunk | None) -> None:
        t, w, cache, sid = self.t, self.workers, self.use.cache, unit.section
        isolated = w.isolated if w.isolated is not None and sid in w.isolated else None
        token = secrets.token_hex(4)
        job_dir = cache.job_dir(sid) if cache is not None else safe_dir(t.out_dir, "work") / f"{sid}-{token}"
        job_dir.mkdir(parents=True, exist_ok=True)
        ws = units.workspace(job_dir, isolated, sid, sid)
        log_tmp = self._log_header(unit, (t.out_dir / "logs" / f".{sid}.{token}.log").resolve())
        timeout = w.timeout
        if isolated is not None:
            assert ws.worker_dir is not None
            log_tmp = place(log_tmp, ws.worker_dir / "render.log", move=True)
            timeout = isolated.timeout(timeout)
        job = unit.job(t.settings, ws.media_dir, Path(t.lesson_path).resolve().parent)
        if work is not None and chunk is not None:
            job["units"] = work.job(chunk)
        fut = ws.pool(self.pool, isolated).submit(job, log_path=log_tmp, priority=(0, priority),
                                                  timeout=timeout)
        self.running.append(_Running(unit, fut, ws, log_tmp, record, work, chunk))

    def _log_header(self, unit: units.Unit, log: Path) -> Path:
        s = self.t.settings
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"# lecture: rendering section {unit.section!r} ({unit.scene}) of "
                       f"{self.module}\n# {s.width}x{s.height} {s.fps} fps\n", encoding="utf-8")
        return log

    # ------------------------------------------------------------ collecting

    def collect(self) -> None:
        by_future = {r.future: r for r in self.running}
        jobs_used = self.pool.jobs if (self.pool is not None and self.running) else 0
        self.man.jobs = jobs_used
        n = len(self.running)
        with spinner(self.console, f"rendering {n} section{'s' if n != 1 else ''} with {jobs_used} "
                                   f"worker{'s' if jobs_used != 1 else ''}…"):
            for fut in as_completed(list(by_future)):
                r = by_future[fut]
                if r.work is None:
                    self._finish_section(r, fut.result())
                else:
                    self._finish_chunk(r, fut.result())

    def _finish_chunk(self, r: _Running, result: JobResult) -> None:
        """A run of a section's step units is back: once all are, the section is joined."""
        work = r.work
        assert work is not None and r.chunk is not None
        if r.record.status == "failed":
            return  # (another run of the section failed: reported already)
        self._append_log(r, result)
        r.record.render_seconds = round((r.record.render_seconds or 0.0) + result.seconds, 3)
        listing = result.output
        problem = "no list" if listing is None or result.failure is not None else \
            work.take(r.chunk, listing, r.ws.job_dir)
        if problem is not None:
            self._chunk_failed(r, result, problem)
            return
        if not work.done:
            return
        self._join_units(r, work)

    def _join_units(self, r: _Running, work: UnitWork) -> None:
        sid, record, out = r.unit.section, r.record, self.t.out_dir
        try:
            videos = work.store(self.use.cache, record={"quality": self.t.settings.quality})
            movie = join_units(videos, r.ws.job_dir / "section.mp4")
        except (UnitsLost, FfmpegError, OSError) as exc:
            lost = JobResult(WorkerFailure.internal(type(exc).__name__, str(exc)), 0.0)
            failure = units.diagnose(r.unit, lost, r.ws, log=out / "logs" / f"{sid}.log",
                                     tex_log=out / "logs" / f"{sid}.tex.log",
                                     lesson_file=str(self.t.lesson_path))
            self._failed(record, failure, "failed while joining its steps")
            return
        record.units, record.units_cached = len(work.units), work.cached
        record.seconds = round(time.perf_counter() - work.started, 3)
        self._store(r, movie)
        say(self.console, f"  ✓ {sid} done in {record.seconds:.1f}s: rendered {work.rendered} of "
                          f"{len(work.units)} steps ({record.rendered_duration or 0:.2f}s of video)", "green")

    def _chunk_failed(self, r: _Running, result: JobResult, problem: str) -> None:
        """A run failed: the section fails (its other runs are cancelled)."""
        sid, out = r.unit.section, self.t.out_dir
        if result.failure is None:
            result = JobResult(WorkerFailure.internal("StepUnits", problem), result.seconds)
        (out / "sections" / f"{sid}.mp4").unlink(missing_ok=True)
        failure = units.diagnose(r.unit, result, r.ws, log=out / "logs" / f"{sid}.log",
                                 tex_log=out / "logs" / f"{sid}.tex.log", lesson_file=str(self.t.lesson_path))
        for other in self.running:
            if other.work is r.work and not other.future.done() and self.pool is not None:
                self.pool.cancel(other.future)
        self._failed(r.record, failure, f"failed after {result.seconds:.1f}s")

    def _append_log(self, r: _Running, result: JobResult) -> None:
        """A run's log, added to its section's."""
        log_path = self.t.out_dir / "logs" / f"{r.unit.section}.log"
        _, log = r.ws.collect(result, r.log_tmp)
        with contextlib.suppress(OSError), open(log_path, "ab") as whole:
            whole.write(log.read_bytes())
        with contextlib.suppress(OSError):
            log.unlink()
        r.record.log = str(log_path)

    def _finish_section(self, r: _Running, result: JobResult) -> None:
        """Store a finished render (cache, build folder, log) and report it."""
        sid, record, out = r.unit.section, r.record, self.t.out_dir
        log_path = out / "logs" / f"{sid}.log"
        result, log = r.ws.collect(result, r.log_tmp)
        with contextlib.suppress(OSError):
            place(log, log_path, move=True)
        record.log = str(log_path)
        record.render_seconds = round(result.seconds, 3)
        record.seconds = record.render_seconds
        try:
            movie = result.output
            if movie is not None and movie.is_file():
                self._store(r, movie)
                say(self.console, f"  ✓ {sid} done in {result.seconds:.1f}s: rendered "
                                  f"({record.rendered_duration or 0:.2f}s of video)", "green")
                return
            (out / "sections" / f"{sid}.mp4").unlink(missing_ok=True)
            failure = units.diagnose(r.unit, result, r.ws, log=log_path,
                                     tex_log=out / "logs" / f"{sid}.tex.log",
                                     lesson_file=str(self.t.lesson_path))
        finally:
            r.ws.remove()
        self._failed(record, failure, f"failed after {result.seconds:.1f}s")

    def _store(self, r: _Running, movie: Path) -> None:
        """The section's video (with its voice) into the cache and the build folder."""
        sid, record, cache = r.unit.section, r.record, self.use.cache
        key = self.use.keys.get(sid)
        out_video = self.t.out_dir / "sections" / f"{sid}.mp4"
        if cache is not None and key is not None:
            stored, info = units.store_video(
                cache, key.hash, sid, movie, soundtrack=self.t.soundtrack, work=r.ws.job_dir,
                record={"render_seconds": record.render_seconds, "class_name": record.class_name,
                        "planned_duration": record.planned_duration, "inputs": key.parts})
            place(stored, out_video)
        else:
            if self.t.soundtrack is not None:
                movie = self.t.soundtrack.add_to_section(sid, movie, r.ws.job_dir / "audio")
            info = probe(movie)
            place(movie, out_video, move=True)
        record.status = "ok"
        record.rendered_duration = info.duration
        record.frames = info.frames
        record.output = str(out_video)

    def clean_up(self) -> None:
        """Cancel what still runs (an interrupted batch) and remove the jobs' folders."""
        for r in self.running:
            if not r.future.done():
                isolated = self.workers.isolated
                owner = isolated.pool() if r.ws.worker_dir is not None and isolated is not None else self.pool
                if owner is not None:
                    owner.cancel(r.future)
            r.ws.remove()
            r.log_tmp.unlink(missing_ok=True)
        if self.own_pool is not None:
            self.own_pool.close()

    # ------------------------------------------------------------ the lesson

    def finish(self, started: float, extra: Mapping[str, object]) -> Outcome:
        t, man = self.t, self.man
        rendered = [Path(self.records[sid].output or "") for sid in self.chosen
                    if self.records[sid].status == "ok" and self.records[sid].output]
        if self.failed:
            code = self._not_assembled()
        else:
            code = self._assemble(rendered)
        if t.soundtrack is not None:
            man.narration = t.soundtrack.to_json()
        for name, value in extra.items():
            setattr(man, name, value)
        man_path = man.write(t.out_dir / MANIFEST_NAME)
        if code == EXIT_OK:
            self._say_written(rendered)
        say(self.console, f"manifest: {man_path} ({time.perf_counter() - started:.2f}s in all)")
        return Outcome(code, tuple(self.failed))

    def _not_assembled(self) -> int:
        self.man.status = "failed"
        (self.t.out_dir / LESSON_VIDEO).unlink(missing_ok=True)  # never an older lesson.mp4 looking current
        names = ", ".join(f.section_id for f in self.failed)
        n = len(self.chosen)
        say(self.console, f"{len(self.failed)} of {n} section{'s' if n != 1 else ''} failed: {names}; "
                          f"{LESSON_VIDEO} was not assembled", "red")
        return EXIT_RENDER_FAILED

    def _assemble(self, rendered: list[Path]) -> int:
        try:
            if self.partial:
                self._join_chosen(rendered)
            else:
                self._join_lesson(rendered)
        except (FfmpegError, OSError) as exc:
            say(self.console, f"error: could not assemble the lesson video: {exc}", "red")
            self.man.status = "failed"
            return EXIT_RENDER_FAILED
        return EXIT_OK

    def _join_lesson(self, rendered: list[Path]) -> None:
        """lesson.mp4 (with its subtitles), and its copy at -o."""
        t, man = self.t, self.man
        lesson_video = t.out_dir / LESSON_VIDEO
        man.duration, man.frames = self._lesson_video(rendered, lesson_video)
        man.output = str(lesson_video)
        if t.soundtrack is not None:
            subs = t.soundtrack.write_subtitles(t.out_dir / "lesson")
            man.subtitles = [str(p) for p in subs] if subs else []
            if t.burn_subtitles and subs:
                t.soundtrack.burn(lesson_video, subs[0])
        if t.output is not None:
            place(lesson_video, Path(t.output))
            man.copied_to = str(t.output)

    def _lesson_video(self, videos: list[Path], lesson_video: Path) -> tuple[float, int | None]:
        """lesson.mp4 from the section videos, from the cache when these sections were
        joined before. Returns its duration and frame count."""
        t, cache = self.t, self.use.cache
        hashes = [self.records[sid].hash for sid in self.chosen]
        if cache is None or any(h is None for h in hashes):
            info = assemble.concat(list(videos), lesson_video, fps=t.settings.fps, transition=t.transition)
            if t.soundtrack is not None:
                self._finish_in_work(lesson_video, "lesson", None)
            return info.duration, info.frames
        joined = assemble_lesson(cache, videos, [h for h in hashes if h], fps=t.settings.fps,
                                 soundtrack=t.soundtrack, transition=t.transition)
        self.man.lesson_key = joined.key
        place(joined.path, lesson_video)
        return joined.duration, joined.frames

    def _join_chosen(self, rendered: list[Path]) -> None:
        """Only some sections: lesson.mp4 means the whole lesson, so they are joined only
        into -o."""
        t, man = self.t, self.man
        man.status = "partial"
        if t.output is None:
            return
        result = assemble.concat(list(rendered), Path(t.output), fps=t.settings.fps,
                                 transition=t.transition)
        if t.soundtrack is not None:
            self._finish_in_work(Path(t.output), "partial", self.chosen)
        man.copied_to = str(t.output)
        man.duration, man.frames = result.duration, result.frames

    def _finish_in_work(self, video: Path, label: str, sections: list[str] | None) -> None:
        """The soundtrack's lesson track and subtitles into `video`, working in the build
        folder (no cache to work in)."""
        assert self.t.soundtrack is not None
        work = safe_dir(self.t.out_dir, "work") / f"{label}-{secrets.token_hex(4)}"
        try:
            self.t.soundtrack.finish_lesson(video, work, sections=sections)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _say_written(self, rendered: list[Path]) -> None:
        man = self.man
        if self.partial:
            for p in rendered:
                say(self.console, f"wrote {p}")
        if man.output:
            say(self.console, f"wrote {man.output} ({man.duration:.2f}s)", "bold green")
        if man.copied_to:
            say(self.console, f"wrote {man.copied_to}", "bold green")
