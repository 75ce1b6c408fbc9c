"""Render jobs on a Ray cluster, behind the local pool's interface (`--executor ray`).

`RayPool` takes the jobs `RenderPool` takes (`submit(job, log_path=, priority=, timeout=)`
-> a future of a JobResult; `cancel`, `close`, `jobs`), so `lecture render` and its batch
(batch_render.py) drive it unchanged. Each job becomes one Ray task needing one CPU
(`num_cpus=1`): it is packed here with its module and the lesson files it names
(ray_shipping.pack), rendered in a temporary folder of whichever node runs it, and its files
come back as bytes, written atomically at the paths the job named (ray_shipping.land): no
shared file system is assumed. A task whose worker process or node is lost is run again by
Ray (`max_retries`); a job that still fails is an ordinary failed job (its section reported
at its lesson line, the others go on). Ray has no queue priorities: jobs start in the order
they are submitted, which is the lesson's order.

Ray is an optional extra (`pip install 'lecture[cluster]'`) and is imported only by
`connect`, never by an ordinary build. Without an address (nor RAY_ADDRESS) `connect`
starts a Ray on this machine, as `ray.init()` does. Ray's own output is kept off the
terminal (no worker logs forwarded, its logger at errors); each job's output goes to its
section's log as a local render's does. `cancel` and `close` (Ctrl-C) cancel the cluster's
tasks (`ray.cancel(force=True)`: their worker processes are killed).

Only trusted work goes to the cluster: sections drawing custom code render in the local
isolated pool (isolated_render.py), as always.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .pool import RENDER_HASH_SEED, JobResult, RenderPool
from .ray_shipping import ShippingError, land, pack, render_shipped
from .worker_result import WorkerFailure

INSTALL_HINT = "pip install 'lecture[cluster]'"
RAY_MISSING = f"--executor ray needs Ray, which is not installed here: {INSTALL_HINT}"
MAX_RETRIES = 3  # runs of a task whose worker process or node was lost
_POLL = 0.2  # seconds between looks at the tasks in flight


_joined = False  # this process's Ray was started or joined by connect()


class ClusterError(RuntimeError):
    """Ray is missing, or the cluster cannot be reached (its message is the whole story)."""


def import_ray() -> Any:
    """The `ray` module, or ClusterError naming the extra to install. (Imported by name: Ray
    is optional, and its types are not checked with ours.)"""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise ClusterError(RAY_MISSING) from None


@dataclass
class Connection:
    """A Ray this process is connected to; `owned`: started or joined by us (we shut it down)."""

    ray: Any
    address: str | None
    owned: bool

    def close(self) -> None:
        global _joined
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()
            _joined = False


def connect(address: str | None = None) -> Connection:
    """Join the cluster at `address` (else RAY_ADDRESS; else start a Ray on this machine, as
    `ray.init()` does), quietly. Raises ClusterError."""
    global _joined
    ray = import_ray()
    if ray.is_initialized():  # (by an earlier connect of ours, e.g. the command's early check)
        return Connection(ray, address, owned=_joined)
    address = address or os.environ.get("RAY_ADDRESS") or None
    _answers(address)
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR,
                 include_dashboard=False if address is None else None, configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise ClusterError(f"could not connect to {where}: {str(exc).strip().splitlines()[0]}") from None
    _joined = True
    return Connection(ray, address, owned=True)


def _answers(address: str | None, seconds: float = 5.0) -> None:
    """ClusterError unless something listens at a HOST:PORT address (Ray itself would wait
    for minutes); other forms (`auto`, `ray://…`, none) are left to Ray."""
    if not address or "://" in address or address.count(":") != 1:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except (OSError, ValueError) as exc:
        why = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        raise ClusterError(f"no Ray cluster answers at {address} ({why}): start one "
                           "with `ray start --head`, or give its address with --address") from None


@dataclass
class _Task:
    job: dict
    log_path: str
    future: Future
    ref: Any = None
    started: float = field(default_factory=time.perf_counter)
    reason: str | None = None  # "cancelled" | "timeout" | "closing", when we stopped it
    timer: threading.Timer | None = None


class RayPool(RenderPool):
    """Jobs as Ray tasks (see the module doc). It has RenderPool's public interface and
    overrides all of it: no local worker process is ever started."""

    def __init__(self, connection: Connection, *, max_retries: int = MAX_RETRIES) -> None:
        # (RenderPool.__init__ is not called: it would start local workers)
        self.connection = connection
        ray = connection.ray
        self._ray = ray
        self.jobs = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.isolation = None
        # the hash seed every render process uses (pool.py): a node draws what a local worker draws
        same_hashing = {"env_vars": {"PYTHONHASHSEED": RENDER_HASH_SEED}}
        remote = ray.remote(num_cpus=1, max_retries=max_retries, runtime_env=same_hashing)
        self._remote = remote(render_shipped)
        self._tasks: dict[Any, _Task] = {}  # by object ref
        self._cond = threading.Condition()
        self._closing = False
        self._submitted = 0
        self._thread = threading.Thread(target=self._collect, name="lecture-ray", daemon=True)
        self._thread.start()

    @classmethod
    def connect(cls, address: str | None = None) -> RayPool:
        return cls(connect(address))

    # -- the interface

    def submit(self, job: dict, *, log_path: str | Path, priority: Any = 0,
               timeout: float | None = None) -> Future:
        """Start the job on the cluster; the future's result is a JobResult. (`priority`:
        Ray starts tasks in the order they come; `timeout` counts from now, the time the task
        waits for a free CPU included: Ray says nothing when a task starts.)"""
        fut: Future = Future()
        task = _Task(dict(job), str(log_path), fut)
        fut._lecture_item = task  # type: ignore[attr-defined]
        try:
            parcel = pack(task.job)
        except (ShippingError, OSError, UnicodeDecodeError) as exc:
            fut.set_result(JobResult(WorkerFailure.internal("ShippingError", str(exc)), 0.0))
            return fut
        with self._cond:
            if self._closing:
                raise RuntimeError("the render pool is closed")
            task.ref = self._remote.remote(parcel)
            self._tasks[task.ref] = task
            self._submitted += 1
            self._cond.notify()
        if timeout is not None:
            task.timer = threading.Timer(timeout, self._stop, args=(task, "timeout"))
            task.timer.daemon = True
            task.timer.start()
        return fut

    def cancel(self, fut: Future) -> bool:
        """Cancel a job (its task is cancelled, its worker process killed if it runs).
        Returns False when the job had already finished."""
        task: _Task | None = getattr(fut, "_lecture_item", None)
        if task is None or fut.done():
            return False
        self._stop(task, "cancelled")
        self._settle(task, JobResult(WorkerFailure.cancelled(), time.perf_counter() - task.started))
        return True

    @property
    def pids(self) -> list[int]:
        return []  # (no local worker processes)

    @property
    def spawned(self) -> int:
        return 0

    def pending(self) -> int:
        with self._cond:
            return len(self._tasks)

    def close(self, *, wait: bool = True) -> None:
        """Cancel every task still in flight, stop collecting, and leave the Ray we started."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            tasks = list(self._tasks.values())
            self._cond.notify_all()
        for task in tasks:
            self._stop(task, "closing")
            self._settle(task, JobResult(WorkerFailure.cancelled("the pool was closed"), 0.0))
        if wait:
            self._thread.join(timeout=10)
        self.connection.close()

    # -- here

    def _stop(self, task: _Task, reason: str) -> None:
        if task.reason is None:
            task.reason = reason
        with contextlib.suppress(Exception):  # (already finished, or Ray already gone)
            self._ray.cancel(task.ref, force=True)

    def _settle(self, task: _Task, result: JobResult) -> None:
        if task.timer is not None:
            task.timer.cancel()
        with self._cond:
            self._tasks.pop(task.ref, None)
            task.ref = None  # (the object store may free its answer: the batch keeps the future)
        if not task.future.done():
            task.future.set_result(result)

    def _collect(self) -> None:
        """The tasks' answers, as they come: landed here and handed to their futures."""
        while True:
            with self._cond:
                while not self._tasks and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                refs = list(self._tasks)
            try:
                ready, _ = self._ray.wait(refs, num_returns=1, timeout=_POLL)
            except Exception:  # noqa: BLE001 - Ray shut down under us: close() settles the rest
                time.sleep(_POLL)
                continue
            for ref in ready:
                with self._cond:
                    task = self._tasks.get(ref)
                if task is not None:
                    self._settle(task, self._answer(task, ref))

    def _answer(self, task: _Task, ref: Any) -> JobResult:
        seconds = time.perf_counter() - task.started
        ray = self._ray
        try:
            shipped = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            return JobResult(self._stopped(task), seconds)
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                ray.exceptions.ObjectLostError, ray.exceptions.OwnerDiedError) as exc:
            if task.reason is not None:
                return JobResult(self._stopped(task), seconds)
            return JobResult(WorkerFailure.crash(
                f"the cluster lost the worker rendering it {MAX_RETRIES + 1} times "
                f"({type(exc).__name__})"), seconds)
        except ray.exceptions.RayError as exc:
            if task.reason is not None:
                return JobResult(self._stopped(task), seconds)
            return JobResult(_task_error(exc), seconds)
        if task.future.done():  # cancelled meanwhile: its folder may be gone, nothing is kept
            return JobResult(self._stopped(task), seconds)
        try:
            outcome = land(shipped, task.job, task.log_path)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            outcome = WorkerFailure.internal("ProtocolError",
                                             f"the cluster's answer could not be kept: {exc}")
        pid = shipped.get("pid") if isinstance(shipped, dict) else None
        return JobResult(outcome, seconds, None, pid if isinstance(pid, int) else None)

    def _stopped(self, task: _Task) -> WorkerFailure:
        if task.reason == "timeout" and task.timer is not None:
            seconds = task.timer.interval
            _append(task.log_path, f"\n# lecture: the render was stopped after {seconds:.0f} s\n")
            return WorkerFailure.timeout(seconds)
        if task.reason == "closing":
            return WorkerFailure.cancelled("the pool was closed")
        return WorkerFailure.cancelled()


def _task_error(exc: BaseException) -> WorkerFailure:
    """A task that raised on the worker (Lecture's plumbing there, never the scene: a scene's
    exception is in the answer): said plainly, a missing `lecture` with what to install."""
    text = str(exc)
    if "No module named 'lecture'" in text or "No module named \"lecture\"" in text:
        return WorkerFailure.internal("ClusterSetup", "a cluster worker has no Lecture installed: "
                                                      f"{INSTALL_HINT} on every node, the same version")
    last = [line for line in text.strip().splitlines() if line.strip()]
    return WorkerFailure.internal(type(exc).__name__,
                                  f"the cluster task failed: {last[-1] if last else text}")


def _append(path: str, text: str) -> None:
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
        f.write(text)


__all__ = ["INSTALL_HINT", "MAX_RETRIES", "RAY_MISSING", "ClusterError", "Connection", "RayPool", "connect",
           "import_ray"]
