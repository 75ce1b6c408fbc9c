"""What a render worker answers, typed: the file it made, or why it failed.

A worker (pool.py) renders one job and answers one line of JSON across the process
boundary: `WorkerOutput.to_json()` ({"ok": true, "movie"|"image": path}) or
`WorkerFailure.to_json()` ({"ok": false, "kind": ..., "type": ..., "message": ...,
"frames": [...], ...}). `answer_from_json` reads such a line back. A worker may run a
lesson's custom code, so its answer is untrusted: anything malformed becomes an
"internal" failure, never an exception in the parent.

Failure kinds: "exception" (the scene raised; `frames` locate it), "timeout", "crash"
(the worker died), "internal" (Lecture's own plumbing), "cancelled".
"""

from __future__ import annotations

import traceback as tb
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

OutputKind = Literal["movie", "image", "units"]  # units: the list a unit render wrote (step_units.py)
OUTPUT_KINDS: tuple[OutputKind, ...] = ("movie", "image", "units")
_MAX_CAUSES = 20  # a cause chain longer than this is cut (it came from untrusted JSON)


def _text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class TraceFrame:
    """One frame of a traceback."""

    file: str
    line: int
    function: str | None = None
    code: str | None = None

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "function": self.function, "code": self.code}

    @classmethod
    def from_json(cls, data: object) -> TraceFrame | None:
        """The frame, or None when `data` is not one (no file, or no line number)."""
        if not isinstance(data, Mapping):
            return None
        file, line = data.get("file"), data.get("line")
        if not isinstance(file, str) or not file or isinstance(line, bool):
            return None
        try:
            number = int(line)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return cls(file, number, _optional_text(data.get("function")), _optional_text(data.get("code")))


@dataclass(frozen=True)
class WorkerFailure:
    """Why a job made no file."""

    kind: str  # exception | timeout | crash | internal | cancelled
    type: str  # the exception's class name (or WorkerCrash, TimeoutExpired, ...)
    message: str
    frames: tuple[TraceFrame, ...] = ()  # outermost first
    cause: WorkerFailure | None = None  # the exception this one was raised from or while handling
    module: str | None = None  # the generated module the job ran
    traceback: str | None = None  # as Python prints it

    @classmethod
    def from_exception(cls, exc: BaseException, module: str | None = None, depth: int = 0) -> WorkerFailure:
        """An exception and its chain's frames, innermost last."""
        frames = [TraceFrame(item.filename, item.lineno or 0, item.name, item.line)
                  for item in tb.extract_tb(exc.__traceback__)]
        # A SyntaxError in the generated module has its position on the exception itself.
        if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
            frames.append(TraceFrame(exc.filename, exc.lineno, "<module>", (exc.text or "").strip()))
        cause = exc.__cause__ or exc.__context__
        return cls("exception", type(exc).__name__, str(exc), tuple(frames),
                   cls.from_exception(cause, module, depth + 1)
                   if cause is not None and cause is not exc and depth < _MAX_CAUSES else None,
                   module, "".join(tb.format_exception(exc)))

    @classmethod
    def crash(cls, message: str) -> WorkerFailure:
        return cls("crash", "WorkerCrash", message)

    @classmethod
    def timeout(cls, seconds: float) -> WorkerFailure:
        return cls("timeout", "TimeoutExpired",
                   f"the render took longer than {seconds:.0f} s and was stopped")

    @classmethod
    def cancelled(cls, message: str = "the job was cancelled") -> WorkerFailure:
        return cls("cancelled", "Cancelled", message)

    @classmethod
    def internal(cls, type_: str, message: str) -> WorkerFailure:
        return cls("internal", type_, message)

    def with_path_renamed(self, old: str, new: str) -> WorkerFailure:
        """The same failure naming `new` where it named `old` (a log moved elsewhere)."""
        return replace(self, message=self.message.replace(old, new),
                       traceback=self.traceback.replace(old, new) if self.traceback else self.traceback)

    def to_json(self) -> dict:
        return {"ok": False, "kind": self.kind, "type": self.type, "message": self.message,
                "frames": [f.to_json() for f in self.frames],
                "cause": self.cause.to_json() if self.cause is not None else None,
                "module": self.module, "traceback": self.traceback}

    @classmethod
    def from_json(cls, data: Mapping, depth: int = 0) -> WorkerFailure:
        """A failure from its JSON (lenient: missing or mistyped fields get defaults)."""
        raw_frames = data.get("frames")
        frames = tuple(f for f in (TraceFrame.from_json(item) for item in
                                   (raw_frames if isinstance(raw_frames, list) else ()))
                       if f is not None)
        cause = data.get("cause")
        return cls(_text(data.get("kind"), "exception"), _text(data.get("type"), "Exception"),
                   _text(data.get("message")), frames,
                   cls.from_json(cause, depth + 1) if isinstance(cause, Mapping) and depth < _MAX_CAUSES
                   else None,
                   _optional_text(data.get("module")), _optional_text(data.get("traceback")))


@dataclass(frozen=True)
class WorkerOutput:
    """The file a job made: its movie (an .mp4), its still (a .png) or its units' list (a .json)."""

    kind: OutputKind
    path: Path

    def to_json(self) -> dict:
        return {"ok": True, self.kind: str(self.path)}


def answer_from_json(data: object) -> WorkerOutput | WorkerFailure:
    """A worker's answer, read back; a malformed one is an internal failure."""
    if not isinstance(data, Mapping):
        return WorkerFailure.internal("ProtocolError", f"the worker's answer is not an object: {data!r:.200}")
    if data.get("ok") is not True:
        return WorkerFailure.from_json(data)
    for kind in OUTPUT_KINDS:
        path = data.get(kind)
        if isinstance(path, str) and path:
            return WorkerOutput(kind, Path(path))
    return WorkerFailure.internal("ProtocolError", "the worker answered ok without naming a file")


__all__ = ["OUTPUT_KINDS", "OutputKind", "TraceFrame", "WorkerFailure", "WorkerOutput", "answer_from_json"]
