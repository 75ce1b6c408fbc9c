"""A persistent pool of Manim worker processes.

Each worker is a child Python process (`python -P -m lecture.runtime.pool`) that imports
Manim once, then renders jobs one after another: it reads one JSON job a line on its
stdin and answers one JSON result a line on a private copy of its stdout. While a job runs,
the worker's own stdout and stderr (file descriptors 1 and 2, so LaTeX's and everything
else's output too) go to the job's log file.

In the parent, one manager thread per worker takes jobs from a shared priority queue
(lowest priority value first, then first come first served), sends them, and waits for the
answer. A worker that dies mid-job (os._exit, a segfault, the OOM killer) is noticed by
the end of its stdout: that job gets a "crash" failure naming the exit status, and a fresh
worker is started in its place; the other workers never notice. A job that runs past its
timeout has its worker killed the same way ("timeout"). `cancel` drops a job that has not
started and kills the worker of one that has (its future gets a "cancelled" result).

    with RenderPool(jobs=4) as pool:
        fut = pool.submit({"module": ..., "scene": "S01Intro", ...}, log_path=..., priority=0)
        result = fut.result()   # JobResult

Workers ignore SIGINT: on Ctrl-C the parent decides (it closes the pool, which ends them).
A worker whose parent disappears sees its stdin close and exits; on Linux it is also killed
with the parent (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .isolation import Isolation, IsolationUnavailable
from .worker_result import WorkerFailure, WorkerOutput, answer_from_json

DEFAULT_TASKS_PER_WORKER = 100  # a worker is replaced after this many jobs (memory)


RENDER_HASH_SEED = "0"  # every render process hashes alike (see _Worker._spawn)


def default_jobs() -> int:
    """The default number of workers: the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class JobResult:
    outcome: WorkerOutput | WorkerFailure  # the file the job made, or why it made none
    seconds: float  # wall time from sending the job to its answer
    returncode: int | None = None  # the worker's exit status when it died
    worker_pid: int | None = None

    @property
    def ok(self) -> bool:
        return isinstance(self.outcome, WorkerOutput)

    @property
    def output(self) -> Path | None:
        """The movie (or, for a still job, the PNG) the job made."""
        return self.outcome.path if isinstance(self.outcome, WorkerOutput) else None

    @property
    def failure(self) -> WorkerFailure | None:
        return self.outcome if isinstance(self.outcome, WorkerFailure) else None

    @property
    def cancelled(self) -> bool:
        return isinstance(self.outcome, WorkerFailure) and self.outcome.kind == "cancelled"


@dataclass(order=True)
class _Queued:
    priority: Any
    seq: int
    job: dict = field(compare=False)
    log_path: str = field(compare=False)
    timeout: float | None = field(compare=False)
    future: Future = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


def _signal_name(returncode: int | None) -> str:
    if returncode is None or returncode >= 0:
        return f"status {returncode}"
    try:
        return f"status {returncode} ({signal.Signals(-returncode).name})"
    except ValueError:
        return f"status {returncode}"


class _Worker:
    """One child process and the thread that feeds it."""

    def __init__(self, pool: RenderPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.current: _Queued | None = None
        self.kill_reason: str | None = None  # "cancelled" | "timeout" | "closing"
        self.tasks = 0
        self.starting = False  # spawned, still importing Manim
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"lecture-worker-{index}",
                                       daemon=True)

    # -- the child

    def _spawn(self) -> None:
        cmd = [self.pool.python, "-P", "-m", "lecture.runtime.pool"]
        isolation = self.pool.isolation
        env = dict(os.environ) if isolation is None else isolation.environment()
        env.update(self.pool.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env["COLUMNS"] = env.get("LECTURE_LOG_COLUMNS", "160")
        # Manim iterates sets of strings (TransformMatchingTex pairs parts through one): with
        # Python's per-process hash seed, the same job drew differently from run to run, which
        # a cache keyed by the job's inputs must not allow.
        env["PYTHONHASHSEED"] = RENDER_HASH_SEED
        streams: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE,
                                   "stderr": subprocess.DEVNULL, "text": True, "encoding": "utf-8",
                                   "bufsize": 1}
        if isolation is None:
            self.proc = subprocess.Popen(cmd, env=env, cwd=self.pool.cwd, **streams)
        else:  # untrusted code: bwrap's namespaces and limits (see isolation.py)
            self.proc = replace(isolation, env=env).popen(cmd, **streams)
        self.tasks = 0
        self.pool._spawned += 1

    def _ready(self) -> bool:
        """Wait for the child's hello (it has imported Manim)."""
        assert self.proc and self.proc.stdout
        try:
            line = self.proc.stdout.readline()
            return bool(line) and json.loads(line).get("ready") is True
        except (OSError, ValueError, AttributeError):
            return False

    def kill(self, reason: str) -> None:
        with self.lock:
            self.kill_reason = reason
            proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()

    def _stop_child(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                assert proc.stdin
                proc.stdin.write('{"op": "exit"}\n')
                proc.stdin.flush()
                proc.wait(timeout=3)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                with contextlib.suppress(OSError):
                    proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]
        self.proc = None

    # -- the manager thread

    def _run(self) -> None:
        pool = self.pool
        try:
            while not pool._closing:
                if self.proc is None or self.proc.poll() is not None or self.tasks >= pool.tasks_per_worker:
                    self._stop_child()
                    if pool._closing:
                        break
                    try:
                        self._spawn()
                    except (OSError, IsolationUnavailable) as exc:
                        if not self._fail_next(f"the Manim worker could not start: {exc}"):
                            break
                        continue
                    self.starting = True
                    ready = self._ready()
                    self.starting = False
                    if pool._closing:
                        break
                    if not ready:
                        # could not even start (a broken environment): fail the next job
                        rc = self.proc.wait() if self.proc else None
                        if not self._fail_next(f"the Manim worker could not start ({_signal_name(rc)})", rc):
                            break
                        self._stop_child()
                        time.sleep(0.5)
                        continue
                item = pool._take()
                if item is None:
                    break
                self._do(item)
        finally:
            self._stop_child()

    def _fail_next(self, message: str, returncode: int | None = None) -> bool:
        """Answer the next job with a crash that says why no worker runs (False: none left)."""
        item = self.pool._take()
        if item is None:
            return False
        self._finish(item, JobResult(WorkerFailure.crash(message), 0.0, returncode, None))
        return True

    def _do(self, item: _Queued) -> None:
        assert self.proc and self.proc.stdin and self.proc.stdout
        with self.lock:
            self.current = item
            self.kill_reason = None
        if item.cancelled:  # (set before `current` was looked at by cancel())
            with self.lock:
                self.current = None
            self._finish(item, JobResult(WorkerFailure.cancelled(), 0.0))
            return
        timer = None
        if item.timeout is not None:
            timer = threading.Timer(item.timeout, self.kill, args=("timeout",))
            timer.daemon = True
            timer.start()
        started = time.perf_counter()
        line = ""
        try:
            self.proc.stdin.write(json.dumps({"job": item.job, "log": item.log_path}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (OSError, ValueError):
            line = ""
        finally:
            if timer is not None:
                timer.cancel()
        seconds = time.perf_counter() - started
        self.tasks += 1
        pid = self.proc.pid
        with self.lock:
            self.current = None
            reason = self.kill_reason
        if item.cancelled:
            reason = "cancelled"
        if line and reason is None:
            self._finish(item, JobResult(_read_answer(line), seconds, None, pid))
            return
        # The worker is gone (or is being killed): reap it; the loop starts a new one.
        proc = self.proc
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        rc = proc.returncode
        self._finish(item, JobResult(_lost(item, reason, rc), seconds, rc, pid))

    def _finish(self, item: _Queued, result: JobResult) -> None:
        if not item.future.done():
            item.future.set_result(result)


def _read_answer(line: str) -> WorkerOutput | WorkerFailure:
    try:
        return answer_from_json(json.loads(line))
    except ValueError:
        return WorkerFailure.internal("ProtocolError", f"unreadable answer from the worker: {line[:200]!r}")


def _lost(item: _Queued, reason: str | None, returncode: int | None) -> WorkerFailure:
    """The failure of a job whose worker was killed (`reason`) or died (reason None)."""
    if reason == "cancelled":
        return WorkerFailure.cancelled()
    if reason == "timeout" and item.timeout is not None:
        _append(item.log_path, f"\n# lecture: the render was stopped after {item.timeout:.0f} s\n")
        return WorkerFailure.timeout(item.timeout)
    if reason == "closing":
        return WorkerFailure.cancelled("the pool was closed")
    _append(item.log_path, f"\n# lecture: the worker process ended with {_signal_name(returncode)}\n")
    return WorkerFailure.crash(f"the Manim process ended with {_signal_name(returncode)} "
                               "without producing a video")


def _append(path: str, text: str) -> None:
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
        f.write(text)


class RenderPool:
    """`jobs` persistent Manim workers fed from one priority queue (see the module doc)."""

    def __init__(self, jobs: int | None = None, *, python: str | None = None,
                 env: dict[str, str] | None = None, cwd: str | Path | None = None,
                 tasks_per_worker: int = DEFAULT_TASKS_PER_WORKER,
                 isolation: Isolation | None = None) -> None:
        self.jobs = max(1, int(jobs or default_jobs()))
        self.isolation = isolation  # None: trusted work; else every worker runs isolated
        self.python = python or sys.executable
        self.env = dict(env or {})
        self.cwd = str(cwd) if cwd else None
        self.tasks_per_worker = tasks_per_worker
        self._queue: list[_Queued] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._closing = False
        self._spawned = 0  # worker processes started, replacements included
        self._workers = [_Worker(self, i) for i in range(self.jobs)]
        for w in self._workers:
            w.thread.start()

    # -- public API

    def submit(self, job: dict, *, log_path: str | Path, priority: Any = 0,
               timeout: float | None = None) -> Future:
        """Queue a job (see render.run_job for its fields); the future's result is a
        JobResult. Lower `priority` values run first (any comparable values)."""
        fut: Future = Future()
        item = _Queued(priority, next(self._seq), dict(job), str(log_path), timeout, fut)
        fut._lecture_item = item  # type: ignore[attr-defined]
        with self._cond:
            if self._closing:
                raise RuntimeError("the render pool is closed")
            heapq.heappush(self._queue, item)
            self._cond.notify()
        return fut

    def cancel(self, fut: Future) -> bool:
        """Cancel a job: drop it if it has not started, else kill its worker (a new one is
        started). Returns False when the job had already finished."""
        item: _Queued | None = getattr(fut, "_lecture_item", None)
        if item is None or fut.done():
            return False
        item.cancelled = True
        with self._cond:
            if item in self._queue:
                self._queue.remove(item)
                heapq.heapify(self._queue)
                fut.set_result(JobResult(WorkerFailure.cancelled(), 0.0))
                return True
        for w in self._workers:
            with w.lock:
                running = w.current is item
            if running:
                w.kill("cancelled")
                return True
        return True  # between the queue and a worker: the worker sees `cancelled`

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.proc.pid for w in self._workers if w.proc is not None and w.proc.poll() is None]

    @property
    def spawned(self) -> int:
        return self._spawned

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self, *, wait: bool = True) -> None:
        """Stop: pending jobs are cancelled, running ones killed, every worker ended."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            queued, self._queue = self._queue, []
            self._cond.notify_all()
        for item in queued:
            if not item.future.done():
                item.future.set_result(JobResult(WorkerFailure.cancelled("the pool was closed"), 0.0))
        for w in self._workers:
            with w.lock:
                busy = w.current is not None
            if busy or w.starting:  # (a starting one would make us wait for its imports)
                w.kill("closing")
        if wait:
            for w in self._workers:
                w.thread.join(timeout=15)
            for w in self._workers:  # whatever is still alive now is killed outright
                proc = w.proc
                if proc is not None and proc.poll() is None:
                    with contextlib.suppress(OSError):
                        proc.kill()

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- for the workers' threads

    def _take(self) -> _Queued | None:
        with self._cond:
            while True:
                if self._closing:
                    return None
                while self._queue:
                    item = heapq.heappop(self._queue)
                    if not item.cancelled and not item.future.done():
                        return item
                self._cond.wait()


# ---------------------------------------------------------------- the child process


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def _child_main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    # The protocol gets private copies of fds 0 and 1; fds 1 and 2 then point at
    # /dev/null between jobs and at the job's log during one.
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)

    from lecture.runtime import render

    try:
        import manim  # noqa: F401  (the point of a persistent worker)
        from lecture.runtime import scene_support  # noqa: F401
    except Exception:  # noqa: BLE001  (a job will report it properly)
        pass
    proto_out.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    count = 0
    for line in proto_in:
        if not line.strip():
            continue
        msg = json.loads(line)
        if msg.get("op") == "exit":
            break
        job, log_path = msg["job"], msg["log"]
        count += 1
        job.setdefault("module_name", f"lesson_scenes_{os.getpid()}_{count}")
        if job.get("cwd"):
            try:
                os.chdir(job["cwd"])
            except OSError:
                pass
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        try:
            outcome = render.run_job(job)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        proto_out.write(json.dumps(outcome.to_json()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
