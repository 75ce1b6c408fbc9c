"""`lecture eval bench --executor ray`: each topic's questions asked by a Ray task.

The driver (this process) plans the tasks and extracts the frames as for a local run, then
starts one Ray task per topic with what that topic still lacks in the answer store: its
tasks (their evidence with them: no shared file system), the model's settings and the run's.
A task asks them (`Settings.concurrency` at a time, as a local run does) and streams each
outcome back as soon as it is read (a Ray streaming generator); the driver stores it in the
one answer store (store.py) before using it, so an interrupted run keeps every answer that
came back, and a rerun asks nothing twice. Server failures come back as failures (not
stored: a rerun asks them again), as locally.

The model's settings travel to the cluster with the tasks, the API key included (the
cluster's workers make the calls); Ray's object store is the cluster's own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

from lecture.agents.client import ModelCallError, ModelClient
from lecture.agents.config import ModelConfig
from lecture.runtime.ray_pool import MAX_RETRIES, Connection, connect

from .runner import Evaluator, RunStats, Settings, Task
from .store import AnswerKey

TOPIC_CPUS = 1  # what one topic's task reserves (its calls wait on the server; its threads are few)


@dataclass(frozen=True)
class _Failed:
    key: str
    message: str


class _Relay:
    """An answer store that keeps nothing: the worker hands each outcome to the driver,
    which stores it (the one store is the driver's)."""

    def __init__(self) -> None:
        self.outcome: dict[str, dict] = {}
        self._lock = threading.Lock()

    def __contains__(self, key: AnswerKey) -> bool:
        return False

    def add(self, key: AnswerKey, outcome: dict) -> dict:
        with self._lock:
            self.outcome[key.text()] = outcome
        return {"key": key.text(), **key.fields(), **outcome}


def ask_topic(config: ModelConfig, settings: Settings,
              tasks: list[Task]) -> Iterator[tuple[str, dict] | _Failed]:
    """On a cluster worker: ask a topic's tasks; yield (key, outcome) for each answer read, a
    _Failed for each server failure, as they finish."""
    relay = _Relay()
    evaluator = Evaluator(ModelClient(config), relay, settings)  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=max(1, settings.concurrency), thread_name_prefix="eval") as pool:
        pending: dict[Future, Task] = {pool.submit(evaluator.ask, t): t for t in tasks}
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                try:
                    future.result()
                except ModelCallError as exc:
                    yield _Failed(task.key.text(), f"{task.key.question} stage {task.key.stage} "
                                                   f"[{task.key.permutation}]: {exc}")
                    continue
                yield task.key.text(), relay.outcome[task.key.text()]


def run_on_cluster(evaluator: Evaluator, tasks: list[Task], address: str | None = None,
                   connection: Connection | None = None) -> RunStats:
    """Evaluator.run's work, one Ray task per topic (see the module doc). KeyboardInterrupt
    cancels the cluster's tasks; the answers stored stay."""
    stats = RunStats()
    start = time.monotonic()
    todo = [t for t in tasks if t.key not in evaluator.store]
    stats.reused = len(tasks) - len(todo)
    by_topic: dict[str, list[Task]] = {}
    for task in todo:
        by_topic.setdefault(task.topic, []).append(task)
    if evaluator.progress:
        evaluator.progress(0, len(todo))
    conn = connection or connect(address)
    try:
        if todo:
            _ask_all(evaluator, todo, by_topic, conn.ray, stats)
    finally:
        conn.close()
        stats.seconds = time.monotonic() - start
    return stats


def _ask_all(evaluator: Evaluator, todo: list[Task], by_topic: dict[str, list[Task]], ray: Any,
             stats: RunStats) -> None:
    """One streaming task per topic; every answer stored by this process as it comes."""
    store = evaluator.store
    client = evaluator.client
    config = replace(client.config, files=(), model=client.model)  # (the model asked for once, here)
    remote = ray.remote(num_cpus=TOPIC_CPUS, max_retries=MAX_RETRIES, num_returns="streaming")(ask_topic)
    keys = {t.key.text(): t for t in todo}
    generators = {topic: remote.remote(config, evaluator.settings, topic_tasks)
                  for topic, topic_tasks in by_topic.items()}
    done = 0
    lock = threading.Lock()

    def drain(topic: str) -> None:
        try:
            for ref in generators[topic]:
                take(ray.get(ref))
        except ray.exceptions.RayError as exc:  # (its answers so far are stored: a rerun asks the rest)
            lines = [line for line in str(exc).splitlines() if line.strip()]
            with lock:
                stats.failed.append(f"{topic}: the cluster task failed: {lines[-1] if lines else exc}")

    def take(item: tuple[str, dict] | _Failed) -> None:
        nonlocal done
        if isinstance(item, _Failed):
            with lock:
                stats.failed.append(item.message)
            return
        key, outcome = item
        task = keys[key]
        record = store.add(task.key, outcome)
        with lock:
            stats.asked += 1
            done += 1
            if evaluator.progress:
                evaluator.progress(done, len(todo))
        if evaluator.on_record:
            evaluator.on_record(task, record)

    pool = ThreadPoolExecutor(max_workers=min(len(generators), 64), thread_name_prefix="eval-ray")
    try:
        for future in [pool.submit(drain, topic) for topic in generators]:
            future.result()
    except BaseException:
        stats.interrupted = True
        for generator in generators.values():
            with contextlib.suppress(Exception):  # (finished already, or Ray gone)
                ray.cancel(generator, force=True)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


__all__ = ["TOPIC_CPUS", "ask_topic", "run_on_cluster"]
