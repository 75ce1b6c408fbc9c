"""Render units: one section's scene rendered by a worker, as a video or a still.

What `lecture render` (batch_render.py) and `lecture watch` (watch.py) both do with a unit:
the job a worker gets, where it works (a section drawing custom elements works inside the
isolated pool's scratch folder, whose output is taken out without following links), the
finished video stored in the cache with its voice, and a failure turned into a diagnostic
at the lesson node (with the TeX log kept, the job's folder being about to go).
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from lecture.compiler.sourcemap import SourceMap
from lecture.compiler.span import Span

from . import failures
from .cache import Cache, place
from .ffmpeg import ProbeResult, probe
from .isolated_render import IsolatedRenders, take_out
from .isolation import adopt_file
from .pool import JobResult, RenderPool
from .render import RenderSettings
from .soundtrack import Soundtrack
from .worker_result import WorkerFailure


@dataclass(frozen=True)
class Unit:
    """One section's scene of a generated module."""

    section: str
    scene: str  # its Scene class
    module: Path  # the generated module the worker imports
    source_map: SourceMap  # of that module: a failure is reported at the lesson node
    span: Span | None = None  # the section's (a failure no frame locates is reported there)

    def job(self, settings: RenderSettings, media_dir: Path, cwd: Path, *, still: bool = False) -> dict:
        """The job a worker renders (see render.run_job)."""
        return {"module": str(self.module), "scene": self.scene, "section": self.section,
                "width": settings.width, "height": settings.height, "fps": settings.fps,
                "media_dir": str(media_dir), "still": still, "cwd": str(cwd)}


@dataclass(frozen=True)
class Workspace:
    """Where one job works. `job_dir` is ours; an isolated job writes only inside
    `worker_dir`, a folder of the isolated pool's scratch (untrusted: what it made is
    copied out of it, never followed through a link)."""

    job_dir: Path
    worker_dir: Path | None = None

    @property
    def media_dir(self) -> Path:
        return (self.worker_dir if self.worker_dir is not None else self.job_dir) / "media"

    def pool(self, ordinary: RenderPool | None, isolated: IsolatedRenders | None) -> RenderPool:
        if self.worker_dir is not None and isolated is not None:
            return isolated.pool()
        assert ordinary is not None, "a section without custom code needs the ordinary pool"
        return ordinary

    def collect(self, result: JobResult, log: Path) -> tuple[JobResult, Path]:
        """The job's result and log as ours: an isolated job's taken out of its scratch
        into `job_dir` (isolated_render.take_out); anything else as it is."""
        if self.worker_dir is None:
            return result, log
        return take_out(result, self.worker_dir, self.job_dir, log)

    def remove(self) -> None:
        shutil.rmtree(self.job_dir, ignore_errors=True)
        if self.worker_dir is not None:
            shutil.rmtree(self.worker_dir, ignore_errors=True)


def workspace(job_dir: Path, isolated: IsolatedRenders | None, section: str, label: str) -> Workspace:
    """The job's folders: `job_dir`, and for a section of `isolated` a scratch folder of its own."""
    if isolated is not None and section in isolated:
        return Workspace(job_dir, isolated.job_dir(label).resolve())
    return Workspace(job_dir)


def store_video(cache: Cache, key: str, section: str, movie: Path, *, soundtrack: Soundtrack | None,
                work: Path, record: dict) -> tuple[Path, ProbeResult]:
    """A rendered section's video, with its voice (before it is cached: a cached rebuild
    speaks and mixes nothing), stored in the cache under `key` with its record (`record`
    adds to what is probed). Returns the cached video and what was probed."""
    if soundtrack is not None:
        movie = soundtrack.add_to_section(section, movie, work / "audio")
    info = probe(movie)
    stored = cache.put_video(key, movie, {
        "section": section, "duration": info.duration, "frames": info.frames,
        "width": info.width, "height": info.height, "fps": info.fps, **record,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return stored, info


def diagnose(unit: Unit, result: JobResult, ws: Workspace, *, log: Path, tex_log: Path,
             lesson_file: str) -> failures.RenderFailure:
    """A failed job as a diagnostic at the lesson node its traceback points into; a TeX
    log it names is kept at `tex_log` first (the job's folder is about to be removed)."""
    failure = result.failure or WorkerFailure.internal(
        "MissingOutput", f"the render of section '{unit.section}' made no file")
    failure = keep_tex_logs(failure, ws.worker_dir or ws.job_dir, tex_log,
                            isolated=ws.worker_dir is not None)
    return failures.diagnose(unit.section, failure, source_map=unit.source_map,
                             module_path=unit.module, log_path=log, section_span=unit.span,
                             lesson_file=lesson_file)


def keep_tex_logs(failure: WorkerFailure, job_dir: Path, dest: Path, *,
                  isolated: bool = False) -> WorkerFailure:
    """A failure whose message names a TeX log inside the job's folder (about to be
    removed): the log is copied to `dest` and the failure made to name that instead
    (from an isolated job's folder, without following links)."""
    root = str(Path(job_dir).resolve())
    found = re.search(r"(\S+\.log)\b", failure.message)
    if not found or not found.group(1).startswith(root):
        return failure
    try:
        if isolated:
            adopt_file(found.group(1), Path(job_dir).resolve(), dest)
        else:
            place(Path(found.group(1)), dest)
    except (OSError, ValueError):
        return failure
    return failure.with_path_renamed(found.group(1), str(dest))
