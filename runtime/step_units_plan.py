"""Steps as render units, in the parent: a section's scene split into units, their cache keys,
and the jobs that render them (step_units.py renders them in a worker).

A unit is one step of a section, or a short step together with the step before it (a step
under MIN_UNIT_SECONDS: a unit's job costs the scene's construction, so tiny ones are not
worth their own). Its code is the generated module's statements from just after the previous
unit's last `self.step(...)` to its own last one (the first unit's holds the section's
preamble: title, panel, elements), read with `ast` (comments and line numbers left out, so an
edit above moves nothing).

A unit's cache key joins:

- `static`: what the section's hash holds that the picture depends on, except the section's
  own nodes (the lesson settings of the picture, theme, quality, versions, Lecture's code,
  images, custom code: SectionKey.unit_base), the scene class's settings, and the unit's code;
- `state`: the fingerprint of the scene's state the unit starts from, which only the worker
  knows (step_units.state_fingerprint).

The parent knows `static`; the cache lists the states it holds a unit's video for
(Cache.unit_states), and a worker skips a unit whose starting state is one of them.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import digest

UNITS_FILE = "units.json"  # what a worker answers: its units (step_units.py)
MIN_UNIT_SECONDS = 1.0  # a step shorter than this is rendered with the step before it
UNIT_FORMAT = 1  # bump when a unit's meaning changes


@dataclass(frozen=True)
class UnitSpec:
    index: int
    first_step: int  # the index (from 0) of its first step
    stop_step: int  # one past its last step
    seconds: float  # its steps' declared seconds (0 when not written as a number)
    static: str  # its key's part known before rendering (module doc)


@dataclass(frozen=True)
class SectionUnits:
    """A section's scene as units."""

    units: tuple[UnitSpec, ...]

    @property
    def bounds(self) -> list[int]:
        """Each unit's first step, then the number of steps (step_units.UnitRange.bounds)."""
        return [u.first_step for u in self.units] + [self.units[-1].stop_step]

    def __len__(self) -> int:
        return len(self.units)


def _is_step(node: ast.stmt) -> bool:
    """`self.step(...)`, as a statement."""
    call = node.value if isinstance(node, ast.Expr) else None
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "step"
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "self")


def _seconds(node: ast.stmt) -> float:
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    args = node.value.args
    value = args[0].value if args and isinstance(args[0], ast.Constant) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _scene_class(code: str, class_name: str) -> ast.ClassDef | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    return next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None)


def _is_length(node: ast.stmt) -> bool:
    """`lesson_seconds = ...` (the sum of the steps, which any step's length changes)."""
    return isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "lesson_seconds"
                                                for t in node.targets)


def _dump(nodes: list[ast.stmt]) -> str:
    return "\n".join(ast.dump(n, include_attributes=False) for n in nodes)


def _groups(steps: list[int], body: list[ast.stmt]) -> list[list[int]]:
    """The steps' statement indices, grouped into units: a short step joins the one before it
    (the first step, the one after it)."""
    groups: list[list[int]] = []
    for i in steps:
        if groups and _seconds(body[i]) < MIN_UNIT_SECONDS:
            groups[-1].append(i)
        elif groups and len(groups) == 1 and _seconds(body[groups[0][-1]]) < MIN_UNIT_SECONDS \
                and len(groups[0]) == 1:
            groups[0].append(i)
        else:
            groups.append([i])
    return groups


def split_section(code: str, class_name: str, unit_base: str) -> SectionUnits | None:
    """The units of one scene class of a generated module; None when its steps are not all
    plain statements of `construct` (then the section renders whole)."""
    klass = _scene_class(code, class_name)
    if klass is None:
        return None
    construct = next((n for n in klass.body if isinstance(n, ast.FunctionDef) and n.name == "construct"),
                     None)
    if construct is None:
        return None
    body = construct.body
    steps = [i for i, node in enumerate(body) if _is_step(node)]
    nested = sum(1 for node in ast.walk(construct) if isinstance(node, ast.stmt) and _is_step(node))
    if not steps or nested != len(steps):
        return None
    # The class's settings (its theme), but not its length
    settings = [n for n in klass.body if not isinstance(n, ast.FunctionDef) and not _is_length(n)]
    scene = _dump(settings)
    units: list[UnitSpec] = []
    start = 0  # the first statement of the unit
    position = {stmt: n for n, stmt in enumerate(steps)}
    groups = _groups(steps, body)
    for index, group in enumerate(groups):
        last = group[-1] if index < len(groups) - 1 else len(body) - 1  # (the last takes what follows)
        code_dump = _dump(body[start:last + 1])
        static = digest({"base": unit_base, "scene": scene, "code": code_dump, "v": UNIT_FORMAT})
        units.append(UnitSpec(index, position[group[0]], position[group[-1]] + 1,
                              sum(_seconds(body[i]) for i in group), static))
        start = last + 1
    return SectionUnits(tuple(units))


def unit_key(static: str, state: str) -> str:
    """The name a unit's video is cached under: its static part, then its starting state."""
    return f"{static}-{state}"


# ---------------------------------------------------------------- jobs


@dataclass(frozen=True)
class UnitRange:
    """What one job renders: `bounds[u]` is the index of unit u's first step (the last bound
    is the number of steps); units `first` to `stop - 1` are this job's. `known[u]`: the
    starting states the cache holds unit u's video for (it is not rendered again from one of
    them). `stills`: a PNG of each rendered unit's last frame too; `still_of`: only the still
    of that unit (its last frame drawn once), nothing written; `skip`: units of the range
    another job renders (advanced through, not reported)."""

    bounds: tuple[int, ...]
    first: int
    stop: int
    known: Mapping[int, frozenset[str]] = field(default_factory=dict)
    stills: bool = False
    still_of: int | None = None
    skip: frozenset[int] = frozenset()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnitRange:
        known = {int(k): frozenset(str(s) for s in v) for k, v in dict(data.get("known") or {}).items()}
        still_of = data.get("still_of")
        return cls(tuple(int(b) for b in data["bounds"]), int(data["first"]), int(data["stop"]), known,
                   bool(data.get("stills")), int(still_of) if still_of is not None else None,
                   frozenset(int(u) for u in data.get("skip") or ()))

    def unit_of(self, step: int) -> int:
        """The unit a step belongs to (a step past the last bound: the last unit)."""
        for u in range(len(self.bounds) - 1):
            if step < self.bounds[u + 1]:
                return u
        return max(len(self.bounds) - 2, 0)


@dataclass
class UnitOutcome:
    index: int
    state: str | None  # the fingerprint of the state it starts from (None: could not be taken)
    video: str | None = None  # the unit's video, when rendered
    still: str | None = None
    frames: int = 0
    cached: bool = False  # advanced through: the cache holds it

    def to_json(self) -> dict:
        return {"index": self.index, "state": self.state, "video": self.video, "still": self.still,
                "frames": self.frames, "cached": self.cached}


def read_outcomes(path: Path, *, limit: int = 1 << 20) -> list[UnitOutcome] | None:
    """A units list a worker wrote, checked for shape (None: not one)."""
    try:
        data = json.loads(path.read_bytes()[:limit].decode("utf-8"))
        out = []
        for item in data["units"]:
            state, video, still = item.get("state"), item.get("video"), item.get("still")
            if not all(v is None or isinstance(v, str) for v in (state, video, still)):
                return None
            out.append(UnitOutcome(int(item["index"]), state, video, still, int(item.get("frames") or 0),
                                   bool(item.get("cached"))))
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return None





@dataclass(frozen=True)
class Chunk:
    """Consecutive units of one section that one job renders."""

    first: int
    stop: int


# What a job costs, in seconds of drawn video at preview quality: advancing through a second of
# steps without drawing them (their animations and updaters still run on every frame), and
# starting (importing the module, building the scene). Advancing costs about what drawing does in
# the examples with motion (a readout's text is set again on every frame): cold, silent, low,
# 2 cores, derivative took 54.7 s (83.7 CPU-s) with sections split at 0.35 and 33.5 s (54.5) whole;
# chemistry_gas_pressure 91.4 s (142) and 86.2 s (115). At 1.0 a split never lightens a worker, so
# a cold render keeps whole sections (its steps are still units: cached and joined one by one).
ADVANCE_COST = 1.0
START_COST = 1.5


def _seconds_of(units: SectionUnits, first: int, stop: int) -> float:
    return sum(u.seconds for u in units.units[first:stop])


def chunk_cost(units: SectionUnits, chunk: Chunk) -> float:
    """What rendering a run of units costs (see ADVANCE_COST)."""
    return _seconds_of(units, chunk.first, chunk.stop) + ADVANCE_COST * _seconds_of(units, 0, chunk.first) \
        + START_COST


def _loads(costs: list[float], jobs: int) -> tuple[float, ...]:
    """The workers' loads, largest first, when the runs are handed out longest first (the
    pool's queue hands each to the first free worker)."""
    loads = [0.0] * max(jobs, 1)
    for cost in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += cost
    return tuple(round(x, 6) for x in sorted(loads, reverse=True))


def _halves(units: SectionUnits, chunk: Chunk) -> tuple[Chunk, Chunk] | None:
    """A run split at the unit boundary nearest its middle (None: a single unit)."""
    if chunk.stop - chunk.first < 2:
        return None
    half = _seconds_of(units, chunk.first, chunk.stop) / 2
    cut = min(range(chunk.first + 1, chunk.stop),
              key=lambda k: abs(_seconds_of(units, chunk.first, k) - half))
    return Chunk(chunk.first, cut), Chunk(cut, chunk.stop)


def share_out(sections: Mapping[str, SectionUnits], jobs: int) -> dict[str, list[Chunk]]:
    """The runs of units each section is rendered in by `jobs` workers: whole sections, split
    (the costliest run first, in halves) while that lightens the most loaded workers (the
    longest load first, then the next…) — a split costs the second half's advance through the
    first."""
    pieces = [(sid, Chunk(0, len(units))) for sid, units in sections.items()]

    def span(candidate: list[tuple[str, Chunk]]) -> tuple[float, ...]:
        return _loads([chunk_cost(sections[sid], c) for sid, c in candidate], jobs)

    best = span(pieces)
    for _ in range(4 * sum(len(u) for u in sections.values())):
        order = sorted(range(len(pieces)), key=lambda i: -chunk_cost(sections[pieces[i][0]], pieces[i][1]))
        for i in order:
            sid, chunk = pieces[i]
            halves = _halves(sections[sid], chunk)
            if halves is None:
                continue
            candidate = pieces[:i] + [(sid, halves[0]), (sid, halves[1])] + pieces[i + 1:]
            if span(candidate) < best:
                pieces, best = candidate, span(candidate)
                break
        else:
            break
    out: dict[str, list[Chunk]] = {sid: [] for sid in sections}
    for sid, chunk in pieces:
        out[sid].append(chunk)
    return {sid: sorted(chunks, key=lambda c: c.first) for sid, chunks in out.items()}


def unit_job(units: SectionUnits, chunk: Chunk, known: dict[int, list[str]], *, stills: bool = False,
             still_of: int | None = None, skip: frozenset[int] = frozenset()) -> dict:
    """The `units` field of a worker's job (step_units.UnitRange)."""
    return {"bounds": units.bounds, "first": chunk.first, "stop": chunk.stop,
            "known": {str(u): states for u, states in known.items() if chunk.first <= u < chunk.stop},
            "stills": stills, "still_of": still_of, "skip": sorted(skip)}


__all__ = ["MIN_UNIT_SECONDS", "UNITS_FILE", "Chunk", "SectionUnits", "UnitOutcome", "UnitRange", "UnitSpec",
           "chunk_cost", "read_outcomes", "share_out", "split_section", "unit_job", "unit_key"]
