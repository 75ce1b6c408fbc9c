"""Running untrusted code (custom elements' snippets) isolated by the operating system.

A lesson repository's lock file holds Python code. Even once the user has trusted it
(runtime/trust.py) and it has passed the static allowlist (runtime/snippet_check.py), it
runs only in a process that Debian's bubblewrap (`bwrap`) has put in fresh namespaces:

- no network (a new network namespace with nothing in it), no other processes in view
  (a new PID namespace), no abstract sockets, no capabilities;
- the whole file system read-only; the home folders, /tmp, /run and /var/run replaced by
  empty in-memory folders (so no session or Docker socket can be reached); only the
  given `scratch` folder is writable; folders it must read (the Python installation, the
  lesson's folder, the generated module) are bound back read-only, even under a home;
- a clean environment: no API keys, HOME inside the scratch folder;
- resource limits set before bwrap starts and inherited by everything inside: address
  space (memory), CPU seconds, file size, no core dumps; the caller adds a wall-clock
  timeout and kills the process group.

Without a working `bwrap`, `unavailable_reason()` says why and callers refuse to run the
code at all, with that message; nothing here ever falls back to running unisolated.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .safe_fs import copy_stream_atomic

BWRAP = "bwrap"
INSTALL_HINT = "install bubblewrap (Debian: apt-get install bubblewrap)"
# Variables passed into the isolated process: none can hold a secret.
PASSED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
              "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED",
              "PYTHONUNBUFFERED", "COLUMNS", "SOURCE_DATE_EPOCH", "LECTURE_CUSTOM_SECONDS")
HIDDEN = ("/home", "/root", "/tmp", "/run", "/var/run", "/var/tmp", "/mnt", "/media")


class IsolationUnavailable(RuntimeError):
    """bwrap is missing or cannot create namespaces here; the message says what to do."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096  # address space of every process inside
    cpu_seconds: int = 3600  # a backstop; the caller's wall-clock timeout is the real limit
    file_mb: int = 1024  # the largest file it may write (videos included)

    def apply(self) -> None:
        """Set the limits in this process (called between fork and exec)."""
        mb = 1024 * 1024
        for which, value in ((resource.RLIMIT_AS, self.memory_mb * mb),
                             (resource.RLIMIT_CPU, self.cpu_seconds),
                             (resource.RLIMIT_FSIZE, self.file_mb * mb),
                             (resource.RLIMIT_CORE, 0)):
            _, hard = resource.getrlimit(which)
            soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (soft, hard))


@dataclass(frozen=True)
class Isolation:
    """How to run one command isolated: `scratch` is the only writable folder."""

    scratch: Path
    readable: tuple[Path, ...] = ()  # folders it must read even when they lie under a home
    limits: Limits = field(default_factory=Limits)
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables (no secrets)

    def command(self, argv: Iterable[str]) -> list[str]:
        """`argv` wrapped in bwrap with this isolation's mounts and namespaces."""
        scratch = self.scratch.resolve()
        args = [BWRAP, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        hidden = [h for h in HIDDEN if Path(h).is_dir() and not Path(h).is_symlink()]
        for stand_in in hidden:
            args += ["--tmpfs", stand_in]
        for folder in _distinct([*_python_folders(), *self.readable]):
            if folder.exists():
                args += ["--ro-bind", str(folder), str(folder)]
        args += ["--bind", str(scratch), str(scratch)]
        for stand_in in hidden:  # the empty stand-ins are read-only too (after the binds inside them)
            args += ["--remount-ro", stand_in]
        args += ["--chdir", str(scratch), "--clearenv"]
        for key, value in self.environment().items():
            args += ["--setenv", key, value]
        return [*args, "--", *argv]

    def environment(self) -> dict[str, str]:
        scratch = self.scratch.resolve()
        env = {k: v for k, v in os.environ.items() if k in PASSED_ENV or k.startswith("LC_")}
        env.update({"HOME": str(scratch / "home"), "TMPDIR": str(scratch / "tmp"),
                    "XDG_CACHE_HOME": str(scratch / "cache"), "TEXMFVAR": str(scratch / "texmf-var"),
                    "MPLCONFIGDIR": str(scratch / "cache"), "PYTHONDONTWRITEBYTECODE": "1"})
        env.update(self.env)
        return env

    def prepare(self) -> None:
        """Create the scratch folder and the folders its environment points into."""
        for sub in ("home", "tmp", "cache", "texmf-var"):
            (self.scratch / sub).mkdir(parents=True, exist_ok=True)

    def preexec(self) -> Callable[[], None]:
        return self.limits.apply

    def popen(self, argv: Iterable[str], **kwargs: object) -> subprocess.Popen:
        """Start `argv` isolated (raises IsolationUnavailable when it cannot be)."""
        reason = unavailable_reason()
        if reason:
            raise IsolationUnavailable(reason)
        self.prepare()
        return subprocess.Popen(self.command(argv), preexec_fn=self.preexec(),  # type: ignore[call-overload]
                                **kwargs)


def _python_folders() -> list[Path]:
    """What a Python process with Lecture and Manim needs to read: the interpreter's
    installation, the virtual environment, and Lecture's own source (an editable install
    lives outside site-packages)."""
    here = Path(__file__).resolve().parent.parent  # the folder holding runtime/, compiler/ …
    return [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), here]


def _distinct(folders: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        resolved = Path(folder).resolve()
        if resolved not in out and resolved != Path("/"):
            out.append(resolved)
    return out


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """None when isolated processes can be started here; otherwise why not (with the fix)."""
    if shutil.which(BWRAP) is None:
        return f"custom code runs only isolated, and `{BWRAP}` is not installed: {INSTALL_HINT}"
    probe = [BWRAP, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev",
             "--proc", "/proc", "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"custom code runs only isolated, and `{BWRAP}` could not start: {exc}"
    if done.returncode != 0:
        why = (done.stderr or "").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return (f"custom code runs only isolated, and `{BWRAP}` cannot create namespaces here "
                f"({why[0]}); allow unprivileged user namespaces, or run where they are allowed")
    return None




# ---------------------------------------------------------------- taking files out


def adopt_file(path: str | os.PathLike[str], scratch: Path, dest: Path) -> Path:
    """Copy a file an isolated process made (inside `scratch`) to `dest`, which it cannot
    reach. Every component is opened without following links (openat with O_NOFOLLOW from
    the scratch folder), so a link planted there, even while we read, never leads outside;
    anything but a regular file inside `scratch` raises ValueError."""
    root = Path(scratch).resolve()
    target = Path(os.path.abspath(path))
    if not target.is_relative_to(root):
        raise ValueError(f"{path} is not inside the isolated scratch folder")
    parts = target.relative_to(root).parts
    if not parts:
        raise ValueError(f"{path} is not a file")
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(root, flags | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open(parts[-1], flags, dir_fd=fd)
    finally:
        os.close(fd)
    try:
        if not stat.S_ISREG(os.fstat(leaf).st_mode):
            raise ValueError(f"{path} is not a regular file")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.dup(leaf), "rb") as src:
            copy_stream_atomic(src, dest)
    finally:
        os.close(leaf)
    return dest


__all__ = ["Isolation", "IsolationUnavailable", "Limits", "adopt_file", "unavailable_reason"]
