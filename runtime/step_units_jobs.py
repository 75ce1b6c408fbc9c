"""One section rendered as step units (step_units_plan.py) by several jobs: what they answer,
the units stored in the cache, and the section's video joined from its units without
re-encoding. `lecture render` (batch_render.py) and `lecture watch` (watch_jobs.py) both use it.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cache import Cache
from .ffmpeg import VIDEO_TIMEOUT, FfmpegError, run
from .safe_fs import place
from .step_units_plan import Chunk, SectionUnits, UnitOutcome, read_outcomes, share_out, unit_job, unit_key


class UnitsLost(Exception):
    """A unit the worker skipped as cached is no longer in the cache (cleaned meanwhile)."""


@dataclass
class UnitWork:
    """A section's units, the starting states the cache holds each one for, and what the jobs
    made of them so far."""

    section: str
    units: SectionUnits
    known: dict[int, list[str]] = field(default_factory=dict)
    outcomes: dict[int, UnitOutcome] = field(default_factory=dict)
    pending: set[Chunk] = field(default_factory=set)
    started: float = field(default_factory=time.perf_counter)
    rendered_now: int = 0  # units rendered by these jobs and stored already (store_unit)
    skips: dict[Chunk, frozenset[int]] = field(default_factory=dict)  # a run's units another renders
    # (watch hands the runs' answers to two threads)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def of(cls, section: str, units: SectionUnits, cache: Cache | None) -> UnitWork:
        held = cache.unit_states({u.static for u in units.units}) if cache is not None else {}
        return cls(section, units, {u.index: held[u.static] for u in units.units if u.static in held})

    @property
    def cold(self) -> bool:
        """Nothing of the section is cached."""
        return not self.known

    def plan(self, jobs: int, runs: list[Chunk] | None = None) -> list[Chunk]:
        """The runs of units to render as jobs: `runs` (a batch's share_out), else when nothing
        is cached the section shared out alone, else one run per worker (most units are
        advanced through, found in the cache)."""
        if runs is None and self.cold:
            runs = share_out({self.section: self.units}, jobs)[self.section]
        elif runs is None:
            n, parts = len(self.units), max(min(jobs, len(self.units)), 1)
            runs = [Chunk(n * k // parts, n * (k + 1) // parts) for k in range(parts)]
        self.pending = set(runs)
        return runs

    def job(self, chunk: Chunk, *, stills: bool = False, still_of: int | None = None) -> dict:
        return unit_job(self.units, chunk, self.known, stills=stills, still_of=still_of,
                        skip=self.skips.get(chunk, frozenset()))

    def take(self, chunk: Chunk, listing: Path, root: Path) -> str | None:
        """A chunk's answer (its units' list, found under `root`, the job's folder): None when
        it is whole, else what is wrong with it."""
        outcomes = read_outcomes(listing)
        if outcomes is None:
            return "the render of its steps wrote no readable list of them"
        by_index = {o.index: o for o in outcomes}
        for u in range(chunk.first, chunk.stop):
            if u in self.skips.get(chunk, frozenset()):
                continue  # (another run renders it)
            got = by_index.get(u)
            if got is None:
                return f"step unit {u + 1} was not rendered"
            for name in (got.video, got.still):
                if name is not None and not _inside(Path(name), root):
                    return f"step unit {u + 1} was written outside its job's folder"
            self.outcomes[u] = got
        self.pending.discard(chunk)
        return None

    @property
    def done(self) -> bool:
        return not self.pending

    # ------------------------------------------------------------ the section

    def store_unit(self, cache: Cache, index: int, *, record: dict | None = None) -> str | None:
        """A rendered unit into the cache now (then it counts as cached); its key."""
        spec, got = self.units.units[index], self.outcomes[index]
        if got.state is None:
            return None
        key = unit_key(spec.static, got.state)
        if not got.cached and got.video is not None:
            still = Path(got.still) if got.still is not None else None
            cache.put_unit(key, Path(got.video), {"frames": got.frames, "section": self.section,
                                                  "step": spec.first_step + 1, **(record or {})}, still)
            got.cached, got.video = True, None
            self.rendered_now += 1
        return key

    def start_seconds(self, index: int) -> float:
        """Where a unit starts in the section's video."""
        return sum(u.seconds for u in self.units.units[:index])

    def store(self, cache: Cache | None, *, record: dict | None = None) -> list[Path]:
        """Each rendered unit into the cache (under its static key and starting state); the
        section's unit videos in order (the cache's, or the jobs' without a cache). Raises
        UnitsLost when a unit skipped as cached is gone from the cache."""
        videos: list[Path] = []
        lost: list[int] = []
        for spec in self.units.units:
            got = self.outcomes[spec.index]
            key = unit_key(spec.static, got.state) if got.state is not None else None
            if got.cached:
                if cache is None or key is None or cache.unit_record(key) is None:
                    lost.append(spec.index)
                    continue
                videos.append(cache.unit_path(key, ".mp4"))
            elif got.video is not None:
                video = Path(got.video)
                if cache is not None and key is not None:
                    still = Path(got.still) if got.still is not None else None
                    video = cache.put_unit(key, video, {"frames": got.frames, "section": self.section,
                                                        "step": spec.first_step + 1, **(record or {})}, still)
                videos.append(video)
        if lost:
            raise UnitsLost(", ".join(str(u + 1) for u in lost))
        return videos

    @property
    def rendered(self) -> int:
        waiting = sum(1 for o in self.outcomes.values() if not o.cached and o.video is not None)
        return self.rendered_now + waiting

    @property
    def cached(self) -> int:
        return sum(1 for o in self.outcomes.values() if o.cached) - self.rendered_now

    def edited(self) -> int | None:
        """The first unit the cache holds for no starting state (its code changed)."""
        return next((u.index for u in self.units.units if u.index not in self.known), None)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return False
    return True


def join_units(videos: list[Path], out: Path) -> Path:
    """The section's video from its units' (ffmpeg's concat demuxer, the streams copied: every
    unit was encoded by Manim with the same settings, each play a segment of its own, as in a
    whole-section render)."""
    if not videos:
        raise FfmpegError("nothing to join: the section has no frames")
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(videos) == 1:
        return place(videos[0], out)
    listing = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.concat.txt")

    def quote(p: Path) -> str:
        return "'" + str(p.resolve()).replace("'", "'\\''") + "'"

    listing.write_text("ffconcat version 1.0\n" + "".join(f"file {quote(v)}\n" for v in videos),
                       encoding="utf-8")
    try:
        run(["ffmpeg", "-y", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "concat", "-safe", "0",
             "-i", str(listing), "-map", "0:v", "-c", "copy", "-movflags", "+faststart", str(out)],
            f"join the step units of {out.stem}", VIDEO_TIMEOUT)
    finally:
        with contextlib.suppress(OSError):
            listing.unlink()
    return out


__all__ = ["UnitWork", "UnitsLost", "join_units"]
