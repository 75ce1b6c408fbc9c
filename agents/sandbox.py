"""Checking a Coder snippet before it is used: a static check, then a run under limits.

1. `check_code(code)` reads the code with `ast` and never runs it: an allowlist of names,
   attribute paths, imports and constructs (runtime/snippet_check.py, re-exported here),
   each refusal a CodeProblem with its line and a reason the model can act on.

2. `run_code(code, box)` runs it in a separate Python process (`python -m
   lecture.agents.sandbox --child RESULT`), so nothing it does touches the compiler's
   process. The child limits its own address space (RLIMIT_AS, default 2 GB), file
   sizes (RLIMIT_FSIZE) and CPU time before importing Manim, gets an environment
   without API keys and a private temporary folder as its working and media folder,
   then: executes the module with restricted builtins (an `__import__` that admits only
   the modules above), calls `build(box)` under a wall-clock alarm (default 20 s), checks
   that it returned `(Mobject, [Animation, ...])`, measures the bounding box of every
   point drawn, and dry-runs each animation in order on a stand-in scene that starts
   without the element, as `play ID` does (setup, begin, interpolate, finish, clean-up:
   what `Scene.play` does, without drawing frames), measuring again after each. The
   parent kills the whole process group if the child overruns. Every
   violation comes back as a precise message for the model: the line of the exception,
   how far past which edge of the box the drawing reaches, the time or memory limit hit.

`CustomBox` is the `box` that `build(box)` receives, here and in the rendered scene: it
depends on numpy only, so the generated module can import it from this module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from lecture.runtime.custom_box import CustomBox
from lecture.runtime.isolation import Isolation, IsolationUnavailable, Limits
from lecture.runtime.snippet_check import (  # noqa: F401 - the static check, re-exported for the Coder
    ALLOWED_IMPORTS,
    BUILTINS,
    EXCEPTIONS,
    FUNCTION_NAME,
    CodeProblem,
    check_code,
)

DEFAULT_TIMEOUT = 20.0  # seconds for build(box) and the dry run of its animations
DEFAULT_MEMORY_MB = 2048  # address space of the child process
STARTUP_ALLOWANCE = 40.0  # seconds for the child to start and import Manim, on top
BOX_TOLERANCE = 0.15  # scene units a drawing may reach past its box
MAX_FILE_BYTES = 256 * 1024 * 1024  # RLIMIT_FSIZE: TeX and text SVGs are small

# ---------------------------------------------------------------- the box


# CustomBox lives with the runtime, because rendered scenes build custom elements with it
# too; the sandbox must hand `build` exactly the same object.


# ---------------------------------------------------------------- static check

# The static check is an allowlist in the runtime, because the render checks every lock
# entry again with it (the runtime may not import agents).
# ---------------------------------------------------------------- running


@dataclass
class RunResult:
    ok: bool
    errors: list[str] = field(default_factory=list)  # precise, for the model
    bbox: tuple[float, float, float, float] | None = None  # left, bottom, right, top of the drawing
    mobject_type: str | None = None
    animations: list[str] = field(default_factory=list)  # their class names, in order
    traceback: str = ""  # of an exception in the code (lines of the snippet only)
    seconds: float = 0.0
    timed_out: bool = False

    def feedback(self) -> str:
        text = "\n".join(f"- {e}" for e in self.errors)
        if self.traceback:
            text += "\n\nTraceback (the code's own lines):\n" + self.traceback
        return text


def _child_env() -> dict[str, str]:
    """The parent's environment without secrets, with single-threaded numerics."""
    env = {k: v for k, v in os.environ.items()
           if not any(s in k.upper() for s in ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"))
           and not k.upper().startswith(("OPENAI_", "LECTURE_", "AWS_", "AZURE_", "GOOGLE_"))}
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def run_code(code: str, box: CustomBox | tuple[float, float, float, float], *,
             timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB,
             tolerance: float = BOX_TOLERANCE, startup_allowance: float = STARTUP_ALLOWANCE,
             label: str = "custom") -> RunResult:
    """Run `build(box)` in a child process under limits; see the module's docstring. The
    code should have passed `check_code` first (it is not checked again here)."""
    edges = box.edges() if isinstance(box, CustomBox) else tuple(float(v) for v in box)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lecture-sandbox-") as tmp:
        result_path = Path(tmp) / "result.json"
        job = {"code": code, "box": list(edges), "timeout": timeout, "memory_mb": memory_mb,
               "tolerance": tolerance, "label": label, "cpu_seconds": int(timeout + startup_allowance) + 1}
        # The OS isolates the run (no network, read-only files but `tmp`, no home; see
        # runtime/isolation.py); the child also sets its own tighter limits.
        isolation = Isolation(Path(tmp), limits=Limits(memory_mb=memory_mb + 512,
                                                       cpu_seconds=int(timeout + startup_allowance) + 5),
                              env={k: v for k, v in _child_env().items() if k.startswith(("OPENBLAS", "OMP",
                                                                                          "MKL", "PYTHON"))})
        try:
            child = [sys.executable, "-m", "lecture.agents.sandbox", "--child", str(result_path)]
            proc = isolation.popen(child, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
        except IsolationUnavailable as exc:
            return RunResult(False, [str(exc)], seconds=time.monotonic() - start)
        try:
            _, err = proc.communicate(json.dumps(job).encode(), timeout=timeout + startup_allowance)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return RunResult(False, [f"build(box) ran longer than {timeout:g} s and was stopped (an endless "
                                     "loop, or far too much work); keep it simple and finite"],
                             seconds=time.monotonic() - start, timed_out=True)
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        _kill_group(proc)  # TeX or anything else it started
        seconds = time.monotonic() - start
        try:
            data = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = "\n".join(err.decode("utf-8", "replace").strip().splitlines()[-8:])
            rc = proc.returncode
            if rc is not None and rc < 0 and -rc in (signal.SIGKILL, signal.SIGXCPU):
                why = f"it was killed after using too much CPU time or memory (signal {-rc})"
            elif "MemoryError" in tail:
                why = f"it ran out of memory (limit {memory_mb} MB)"
            else:
                why = f"the process ended with status {rc}" + (f":\n{tail}" if tail else "")
            return RunResult(False, [f"running build(box) failed: {why}"], seconds=seconds)
    res = RunResult(bool(data.get("ok")), list(data.get("errors") or []),
                    tuple(data["bbox"]) if data.get("bbox") else None, data.get("mobject_type"),
                    list(data.get("animations") or []), data.get("traceback") or "", seconds,
                    bool(data.get("timed_out")))
    return res


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def check_and_run(code: str, box: CustomBox | tuple[float, float, float, float], **kwargs) -> RunResult:
    """The static check, then (when it passes) the run."""
    problems = check_code(code)
    if problems:
        return RunResult(False, [p.render() for p in problems])
    return run_code(code, box, **kwargs)


# ---------------------------------------------------------------- the child


class _TimeLimit(BaseException):
    """Raised by the alarm; a BaseException so that `except Exception` in the code cannot
    swallow it."""


def _set_limits(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    limit = int(memory_mb) * 1024 * 1024
    for which, value in ((resource.RLIMIT_AS, limit), (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_FSIZE, MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0)):
        try:
            soft, hard = resource.getrlimit(which)
            new = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (new, hard))
        except (ValueError, OSError):
            pass


def _restricted_builtins() -> dict:
    import builtins

    allowed_roots = {m.split(".")[0] for m in ALLOWED_IMPORTS}
    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        if level or name.split(".")[0] not in allowed_roots:
            raise ImportError(f"importing {name!r} is not allowed in custom code")
        return real_import(name, globals, locals, fromlist, level)

    # the same allowlist as the static check: a name it refuses is not even there
    safe = {k: getattr(builtins, k) for k in (*BUILTINS, *EXCEPTIONS, "None", "True", "False")
            if hasattr(builtins, k)}
    safe["__import__"] = guarded_import
    return safe


class _StageScene:
    """What an animation sees of a scene during the dry run: the mobjects on screen."""

    def __init__(self) -> None:
        self.mobjects: list = []

    def add(self, *mobjects) -> _StageScene:
        for m in mobjects:
            if m in self.mobjects:
                self.mobjects.remove(m)
            self.mobjects.append(m)
        return self

    def remove(self, *mobjects) -> _StageScene:
        for m in mobjects:
            if m in self.mobjects:
                self.mobjects.remove(m)
            for top in self.mobjects:
                if m in top.submobjects:
                    top.remove(m)
        return self

    def replace(self, old, new) -> None:
        if old in self.mobjects:
            self.mobjects[self.mobjects.index(old)] = new
        else:
            self.add(new)

    def get_mobject_family_members(self) -> list:
        out = []
        for m in self.mobjects:
            out.extend(m.get_family())
        return out


def _bounds(mobjects) -> tuple[float, float, float, float] | None:
    chunks = []
    for top in mobjects:
        for m in top.get_family():
            pts = getattr(m, "points", None)
            if pts is not None and len(pts):
                chunks.append(np.asarray(pts)[:, :2])
    if not chunks:
        return None
    allp = np.vstack(chunks)
    if not np.all(np.isfinite(allp)):
        return (float("nan"),) * 4
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def outside_message(bbox: tuple[float, float, float, float], box: tuple[float, float, float, float],
                    tolerance: float, when: str = "the drawing") -> str | None:
    """Where a drawing sticks out of its box, or None when it stays inside."""
    left, bottom, right, top = bbox
    bl, bb, br, bt = box
    if any(v != v for v in bbox):
        return f"{when} has points that are not finite numbers (NaN or infinity)"
    out = []
    if left < bl - tolerance:
        out.append(f"left edge at x = {left:.2f} (box left = {bl:.2f}, {bl - left:.2f} too far)")
    if right > br + tolerance:
        out.append(f"right edge at x = {right:.2f} (box right = {br:.2f}, {right - br:.2f} too far)")
    if bottom < bb - tolerance:
        out.append(f"bottom edge at y = {bottom:.2f} (box bottom = {bb:.2f}, {bb - bottom:.2f} too far)")
    if top > bt + tolerance:
        out.append(f"top edge at y = {top:.2f} (box top = {bt:.2f}, {top - bt:.2f} too far)")
    if not out:
        return None
    return (f"{when} is outside its box (left={bl:.2f}, bottom={bb:.2f}, right={br:.2f}, top={bt:.2f}, "
            f"tolerance {tolerance:g}): " + "; ".join(out)
            + ". Build it inside the box: size it from box.width / box.height, or call box.fit(group) "
              "at the end, and keep every animation's end state inside too")


def _short_traceback(exc: BaseException, label: str) -> tuple[str, str]:
    """(one line naming the error and the code's line, the code's own traceback frames)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == label]
    where = f" at line {frames[-1].lineno}" if frames else ""
    head = f"{type(exc).__name__}{where}: {str(exc).strip()[:600]}"
    lines = "".join(traceback.format_list(frames)) + f"{type(exc).__name__}: {str(exc).strip()[:600]}"
    return head, lines


@dataclass(frozen=True)
class _Manim:
    """The parts of Manim the child uses: imported only once its limits are set."""

    animation: type
    mobject: type
    tempconfig: Callable[[dict], Any]
    prepare_animation: Callable[[Any], Any]


def _import_manim() -> _Manim | str:
    """Manim, quiet; or why it cannot be imported (for the parent)."""
    try:
        import logging

        import manim
        from manim import Animation, Mobject, tempconfig
        from manim.animation.animation import prepare_animation

        manim.logger.setLevel(logging.CRITICAL)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        return f"the sandbox could not import Manim: {type(exc).__name__}: {exc}"
    return _Manim(Animation, Mobject, tempconfig, prepare_animation)


class _Rejected(Exception):
    """A stage found the code's answer unusable: these messages go back to the model."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _alarm(signum: int, frame: object) -> None:  # noqa: ARG001
    raise _TimeLimit()


def _checked_result(result: object, manim: _Manim) -> tuple[Any, list[Any]]:
    """`build(box)`'s answer as (mobject, animations), `m.animate...` builders made
    Animations; _Rejected with every problem when it is not that."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise _Rejected([f"{FUNCTION_NAME}(box) must return a pair (mobject, animations), "
                         f"not {type(result).__name__}"
                         + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")])
    mob, anims = result
    errors = []
    if not isinstance(mob, manim.mobject):
        errors.append(f"the first item returned must be a Mobject (e.g. a VGroup), not "
                      f"{type(mob).__name__}")
    if not isinstance(anims, (list, tuple)):
        errors.append(f"the second item returned must be a list of Animations, not "
                      f"{type(anims).__name__}")
        anims = []
    prepared = []
    for i, a in enumerate(anims, start=1):
        try:
            a = manim.prepare_animation(a)  # `m.animate.shift(...)` builders become Animations
        except Exception:  # noqa: BLE001 - not an animation at all
            pass
        if not isinstance(a, manim.animation):
            errors.append(f"animation {i} is not an Animation but {type(a).__name__!r} (write "
                          "e.g. Create(part), FadeIn(part), part.animate.shift(RIGHT))")
        prepared.append(a)
    if errors:
        raise _Rejected(errors)
    return mob, prepared


@dataclass
class _ChildRun:
    """One job in the child: what it was asked, the stage it is in (named when that stage
    overruns or raises), and the answer it writes back."""

    job: dict
    out: dict = field(default_factory=lambda: {"ok": False, "errors": []})
    stage: str = "running the module"

    @property
    def label(self) -> str:
        return f"<{self.job.get('label', 'custom')}>"

    @property
    def box(self) -> tuple[float, float, float, float]:
        left, bottom, right, top = self.job["box"]
        return (left, bottom, right, top)

    def run(self, manim: _Manim) -> None:
        """Every stage under the wall-clock alarm; whatever stops it becomes the answer."""
        signal.signal(signal.SIGALRM, _alarm)
        media = Path.cwd() / "media"
        try:
            with manim.tempconfig({"media_dir": str(media), "disable_caching": True,
                                   "verbosity": "CRITICAL", "progress_bar": "none"}):
                signal.setitimer(signal.ITIMER_REAL, float(self.job["timeout"]))
                try:
                    self._stages(manim)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except _Rejected as rejected:
            self.out["errors"] = rejected.errors
        except _TimeLimit:
            self.out["errors"] = [f"{self.stage} took longer than {self.job['timeout']:g} s and was stopped "
                                  "(an endless loop, or far too much work); keep it simple and finite"]
            self.out["timed_out"] = True
        except MemoryError:
            self.out["errors"] = [f"{self.stage} ran out of memory (limit {self.job['memory_mb']} MB)"]
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the model
            head, frames = _short_traceback(exc, self.label)
            self.out["errors"] = [f"{self.stage} raised {head}"]
            self.out["traceback"] = frames

    def _stages(self, manim: _Manim) -> None:
        mob, anims = _checked_result(self._call_build(), manim)
        self.out["mobject_type"] = type(mob).__name__
        self.out["animations"] = [type(a).__name__ for a in anims]
        bbox = _bounds([mob])
        if bbox is None:
            raise _Rejected(["the mobject draws nothing (it has no points): build shapes, text "
                             "or formulas inside it"])
        self.out["bbox"] = list(bbox)
        # Only the first place the drawing leaves its box is reported.
        found = [outside_message(bbox, self.box, float(self.job["tolerance"])), *self._dry_run(mob, anims)]
        problems = [msg for msg in found if msg][:1]
        if problems:
            raise _Rejected(problems)
        self.out["ok"] = True

    def _call_build(self) -> object:
        """Run the module with restricted builtins, then its `build(box)`."""
        namespace: dict = {"__builtins__": _restricted_builtins(), "__name__": "custom_code"}
        exec(compile(self.job["code"], self.label, "exec"), namespace)  # noqa: S102 - checked by check_code
        build = namespace.get(FUNCTION_NAME)
        if not callable(build):
            raise _Rejected([f"the code defines no function `{FUNCTION_NAME}`"])
        self.stage = f"calling {FUNCTION_NAME}(box)"
        result = build(CustomBox(*self.box))
        self.stage = "checking the result"
        return result

    def _dry_run(self, mob: Any, anims: list[Any]) -> list[str | None]:
        """Play the animations on a stand-in scene; where the drawing is outside its box
        after each of them, then after all of them."""
        # `play ID` shows the element through its animations: they start from a
        # scene without it; afterwards the scene holds the mobject as well.
        tolerance = float(self.job["tolerance"])
        stage_scene = _StageScene()
        found: list[str | None] = []
        for i, a in enumerate(anims, start=1):
            self.stage = f"dry-running animation {i} ({type(a).__name__})"
            if not a.is_introducer() and a.mobject is not None \
                    and a.mobject not in stage_scene.get_mobject_family_members():
                stage_scene.add(a.mobject)  # what Scene.play does with what it animates
            a._setup_scene(stage_scene)
            a.begin()
            for alpha in (0.25, 0.5, 0.75, 1.0):
                a.interpolate(alpha)
            a.finish()
            a.clean_up_from_scene(stage_scene)
            after = _bounds(stage_scene.mobjects)
            if after is not None:
                found.append(outside_message(after, self.box, tolerance,
                                             f"after animation {i} ({type(a).__name__}) the drawing"))
        if anims:
            final = _bounds([*stage_scene.mobjects, mob])
            if final is not None:
                found.append(outside_message(final, self.box, tolerance, "after the animations the drawing"))
        return found


def _child(result_path: str) -> int:
    job = json.loads(sys.stdin.read())
    _set_limits(job["memory_mb"], job["cpu_seconds"])
    run = _ChildRun(job)
    manim = _import_manim()
    if isinstance(manim, str):
        run.out["errors"] = [manim]
    else:
        run.run(manim)
    Path(result_path).write_text(json.dumps(run.out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(_child(sys.argv[2]))
    print("usage: python -m lecture.agents.sandbox --child RESULT.json  (reads a job on stdin)",
          file=sys.stderr)
    sys.exit(2)
