"""A render job shipped to a machine that shares no file system with ours, and its answer back.

A local worker (pool.py) reads the generated module from the path in its job and writes its
output under the job's `media_dir`. A cluster worker (ray_pool.py) has neither path, so:

- `pack(job)`, here: the job, the module's text and the lesson files the module names (the
  images an `image` element shows: absolute paths inside the lesson's folder), in one value;
- `render_shipped(parcel)`, on the worker: the module and the files written into a temporary
  folder of its own (the module's paths to them rewritten), `render.run_job` run there with its
  output and log redirected to that folder, then the produced files' bytes (the movie, the
  still, or a step-units list and the unit videos and stills it names; a TeX log a failure
  names) and the answer, relative to that folder, returned; the folder is removed;
- `land(shipped, job, log_path)`, here: each file written atomically at the same place under
  the job's `media_dir`, the log appended to the job's log, and the answer made to name our
  paths (a failure's frames name our module, so it is reported at the lesson line as today).

The worker checks it runs the same Lecture (version and the fingerprint of the sources that
decide what a frame looks like, cache.code_fingerprint): a different one answers a clear
failure instead of a video that would not match the cache's keys. Only trusted work travels
(sections drawing custom code render in the local isolated pool, never here).
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .cache import code_fingerprint, versions
from .safe_fs import read_regular, write_bytes_atomic
from .worker_result import TraceFrame, WorkerFailure, WorkerOutput, answer_from_json

MAX_ASSET_BYTES = 256 * 1024 * 1024  # all of a job's lesson files together
MAX_SHIPPED_LOG = 8 * 1024 * 1024  # of a job's render log, its end is kept


class ShippingError(Exception):
    """A job that cannot travel (a file it needs is unreadable or too large)."""


@dataclass(frozen=True)
class Identity:
    """What a worker must match: Lecture's version and the fingerprint of its drawing code."""

    version: str
    code: str

    @classmethod
    def here(cls) -> Identity:
        return cls(str(versions()["lecture"]), code_fingerprint())

    def describe(self) -> str:
        return f"lecture {self.version} (code {self.code})"


# ---------------------------------------------------------------- here: the job out


def referenced_files(code: str, folder: Path) -> list[Path]:
    """The regular files inside `folder` that the module names by absolute path (string
    constants: an image element's file), each once, in the order found."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    root = folder.resolve()
    found: dict[str, Path] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/") \
                and len(node.value) < 4096 and "\n" not in node.value:
            path = Path(node.value)
            with contextlib.suppress(OSError, ValueError):
                if path.resolve().is_relative_to(root) and path.is_file() and not path.is_symlink():
                    found.setdefault(node.value, path)
    return list(found.values())


def pack(job: Mapping) -> dict:
    """The job as one value a cluster worker can render from (see the module doc)."""
    module = Path(job["module"])
    data = read_regular(module)
    if data is None:
        raise ShippingError(f"the generated module {module} cannot be read")
    code = data.decode("utf-8")
    assets: dict[str, bytes] = {}
    total = 0
    cwd = Path(job.get("cwd") or module.parent)
    for path in referenced_files(code, cwd):
        content = read_regular(path, MAX_ASSET_BYTES + 1)
        if content is None:
            raise ShippingError(f"{path} cannot be read")
        total += len(content)
        if total > MAX_ASSET_BYTES:
            raise ShippingError(f"the lesson's files are over {MAX_ASSET_BYTES >> 20} MiB together")
        assets[str(path)] = content
    identity = Identity.here()
    return {"job": dict(job), "code": code, "module_name": module.name, "assets": assets,
            "identity": [identity.version, identity.code]}


# ---------------------------------------------------------------- there: the render


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """This process's fds 1 and 2 (Manim's, LaTeX's, everything's output) into `log`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for x in (fd, *saved):
            os.close(x)


def _mismatch(parcel: Mapping) -> WorkerFailure | None:
    version, code = parcel.get("identity") or ("?", "?")
    theirs, ours = Identity(str(version), str(code)), Identity.here()
    if theirs == ours:
        return None
    return WorkerFailure.internal(
        "VersionMismatch", f"the cluster worker on {socket.gethostname()} runs {ours.describe()}, the "
                           f"command {theirs.describe()}: install the same Lecture on every node")


def render_shipped(parcel: Mapping) -> dict:
    """Render a packed job in a temporary folder of this machine (see the module doc)."""
    failure = _mismatch(parcel)
    if failure is not None:
        return {"answer": failure.to_json(), "root": "", "module": "", "files": {}, "log": b"",
                "host": socket.gethostname(), "pid": os.getpid()}
    root = Path(tempfile.mkdtemp(prefix="lecture-ray-")).resolve()
    cwd = os.getcwd()
    try:
        lesson = root / "lesson"
        code = parcel["code"]
        for n, (original, content) in enumerate(sorted(parcel["assets"].items())):
            local = lesson / str(n) / Path(original).name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
            # the literal as the compiler wrote it (repr), on the same line: the source map holds
            code = code.replace(repr(original), repr(str(local)))
        module = root / "module" / parcel["module_name"]
        module.parent.mkdir(parents=True)
        module.write_text(code, encoding="utf-8")
        media = root / "media"
        job = {**parcel["job"], "module": str(module), "media_dir": str(media), "cwd": str(lesson),
               "module_name": f"lesson_scenes_ray_{os.getpid()}_{root.name.replace('-', '_')}"}
        lesson.mkdir(exist_ok=True)
        log = root / "render.log"
        from . import render

        os.chdir(lesson)
        with _output_to(log):
            outcome = render.run_job(job)
        return {"answer": outcome.to_json(), "root": str(media), "module": str(module),
                "files": _produced(outcome, media, root), "log": _tail(log),
                "host": socket.gethostname(), "pid": os.getpid()}
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)


def _tail(log: Path) -> bytes:
    with contextlib.suppress(OSError):
        data = log.read_bytes()
        return data[-MAX_SHIPPED_LOG:]
    return b""


def _inside(path: Path, root: Path) -> str | None:
    """`path` relative to `root` when it is a regular file there (never through a link)."""
    with contextlib.suppress(OSError, ValueError):
        if path.is_file() and not path.is_symlink():
            return str(path.resolve().relative_to(root))
    return None


def _produced(outcome: WorkerOutput | WorkerFailure, media: Path, root: Path) -> dict[str, bytes]:
    """The files the answer names, by their path relative to `media`."""
    paths: list[Path] = []
    if isinstance(outcome, WorkerOutput):
        paths.append(outcome.path)
        if outcome.kind == "units":
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                for item in json.loads(outcome.path.read_text(encoding="utf-8"))["units"]:
                    paths += [Path(p) for p in (item.get("video"), item.get("still")) if isinstance(p, str)]
    else:  # a TeX log the message names (kept at the lesson line's report)
        paths += [Path(word) for word in outcome.message.split() if word.endswith(".log")]
    files: dict[str, bytes] = {}
    for path in paths:
        rel = _inside(path, media.resolve())
        if rel is not None:
            files[rel] = path.read_bytes()
    return files


# ---------------------------------------------------------------- here: the answer back


def _renamed(failure: WorkerFailure, old: str, new: str, old_module: str, new_module: str) -> WorkerFailure:
    """The failure naming our paths where it named the worker's (its frames: our module)."""
    def frame(f: TraceFrame) -> TraceFrame:
        return replace(f, file=new_module) if f.file == old_module else f

    renamed = failure
    for before, after in ((old_module, new_module), (old, new)):
        if before:  # ("": a failure before any folder was made)
            renamed = renamed.with_path_renamed(before, after)
    cause = failure.cause
    return replace(renamed, frames=tuple(frame(f) for f in failure.frames),
                   module=new_module if failure.module == old_module else failure.module,
                   cause=_renamed(cause, old, new, old_module, new_module) if cause is not None else None)


def land(shipped: Mapping, job: Mapping, log_path: str | Path) -> WorkerOutput | WorkerFailure:
    """A worker's answer (render_shipped's) as ours: its files written atomically under the
    job's media_dir, its log added to `log_path`, its paths ours."""
    media = Path(job["media_dir"])
    with contextlib.suppress(OSError), open(log_path, "ab") as f:
        f.write(bytes(shipped.get("log") or b""))
        f.write(f"\n# lecture: rendered on {shipped.get('host')} (pid {shipped.get('pid')})\n".encode())
    files = shipped.get("files") or {}
    for rel, data in files.items():
        target = (media / rel).resolve()
        if not target.is_relative_to(media.resolve()):
            return WorkerFailure.internal("ProtocolError",
                                          f"the worker named a file outside its folder: {rel}")
        write_bytes_atomic(target, bytes(data))
    old = str(shipped.get("root") or "")
    answer = answer_from_json(shipped.get("answer"))
    if isinstance(answer, WorkerFailure):
        return _renamed(answer, old, str(media), str(shipped.get("module") or ""), str(job["module"]))
    local = _relocated(answer.path, old, media)
    if local is None:
        return WorkerFailure.internal("ProtocolError",
                                      f"the worker's answer names {answer.path}, not a file it sent")
    if answer.kind == "units":
        _relocate_listing(local, old, media)
    return WorkerOutput(answer.kind, local)


def _relocated(path: Path, old: str, media: Path) -> Path | None:
    with contextlib.suppress(ValueError):
        return media / Path(path).relative_to(old)
    return None


def _relocate_listing(listing: Path, old: str, media: Path) -> None:
    """A step-units list (step_units.py) naming our copies of its videos and stills."""
    try:
        data = json.loads(listing.read_text(encoding="utf-8"))
        for item in data["units"]:
            for name in ("video", "still"):
                if isinstance(item.get(name), str):
                    moved = _relocated(Path(item[name]), old, media)
                    item[name] = str(moved) if moved is not None else None
    except (OSError, ValueError, KeyError, TypeError):
        return  # (read_outcomes reports an unreadable list)
    write_bytes_atomic(listing, json.dumps(data).encode("utf-8"))


__all__ = ["MAX_ASSET_BYTES", "Identity", "ShippingError", "land", "pack", "referenced_files",
           "render_shipped"]
