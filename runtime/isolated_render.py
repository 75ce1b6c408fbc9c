"""Sections that draw custom elements render in isolated workers.

Their scenes call code from the lesson's lock file, so they go to a pool of their own
whose workers run under bwrap (isolation.py): the lesson's folder, the generated module
and the shared formula cache readable, one scratch folder writable, no network, no home,
memory and CPU limits. Everything else of the lesson renders in the ordinary pool. What
such a worker produced (the video, its log) is copied out of the scratch folder with
`adopt_file`, never followed through a link. The pool is started on first use and lives
as long as the lesson's build.
"""

from __future__ import annotations

import functools
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .isolation import Isolation, Limits, adopt_file
from .pool import JobResult, RenderPool
from .tex import measure_cache_dir
from .worker_result import WorkerFailure, WorkerOutput

JOB_TIMEOUT = 600.0  # seconds for one isolated section render, when the user set none


@dataclass
class IsolatedRenders:
    sections: frozenset[str]  # the ids of the sections that run custom code
    make_scratch: Callable[[], Path]  # where the workers' only writable folder goes (first use)
    readable: tuple[Path, ...]  # the lesson's folder, the module's folder
    jobs: int = 1
    limits: Limits = field(default_factory=Limits)
    _pool: RenderPool | None = None

    @functools.cached_property
    def scratch(self) -> Path:
        """Made only when a section renders isolated: a cached rebuild touches no folder."""
        return self.make_scratch()

    def __contains__(self, section_id: object) -> bool:
        return section_id in self.sections

    def pool(self) -> RenderPool:
        if self._pool is None:
            cache = measure_cache_dir()
            readable = (*self.readable, cache) if cache.is_dir() else self.readable
            isolation = Isolation(self.scratch, readable, self.limits,
                                  {"LECTURE_CACHE_DIR": str(cache.parent)})
            self.scratch.mkdir(parents=True, exist_ok=True)
            self._pool = RenderPool(self.jobs, isolation=isolation)
        return self._pool

    def job_dir(self, section_id: str) -> Path:
        """A folder inside the scratch folder for one section's render."""
        d = self.scratch / f"{section_id}-{secrets.token_hex(4)}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def timeout(self, requested: float | None) -> float:
        return requested if requested is not None else JOB_TIMEOUT

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if "scratch" in self.__dict__:
            shutil.rmtree(self.scratch, ignore_errors=True)


OUTPUT_NAMES = {"movie": "section.mp4", "image": "still.png"}  # the copies' names in job_dir


def take_out(result: JobResult, worker_dir: Path, job_dir: Path, log: Path) -> tuple[JobResult, Path]:
    """Copy an isolated render's log and output (video or still) from its scratch folder
    into `job_dir`, never through a link (isolation.adopt_file). Returns the result naming
    the copies, and the copied log. Output that cannot be taken out fails the job."""
    scratch = worker_dir.resolve()
    local_log = job_dir / "render.log"
    try:
        adopt_file(log, scratch, local_log)
    except (OSError, ValueError) as exc:
        local_log.write_text(f"# lecture: the isolated render's log could not be read: {exc}\n",
                             encoding="utf-8")
    made = result.outcome
    if not isinstance(made, WorkerOutput):
        return result, local_log
    try:
        taken = adopt_file(made.path, scratch, job_dir / OUTPUT_NAMES[made.kind])
    except (OSError, ValueError) as exc:
        return replace(result, outcome=WorkerFailure.internal(
            "IsolationError", f"the isolated render's output could not be taken out: {exc}")), local_log
    return replace(result, outcome=replace(made, path=taken)), local_log


__all__ = ["IsolatedRenders", "take_out"]
