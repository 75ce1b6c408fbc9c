"""Who renders a build's jobs: the local worker pool (the default) or a Ray cluster.

`lecture render --executor local|ray [--address HOST:PORT]` chooses; the build asks its
executor for a pool once per run (build.py `_PoolHolder`). Both pools take the same jobs
(pool.py RenderPool, ray_pool.py RayPool). Sections drawing custom code always render in the
local isolated pool, whatever the executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .pool import RenderPool
from .ray_pool import RayPool, connect

ExecutorKind = Literal["local", "ray"]
EXECUTORS: tuple[ExecutorKind, ...] = ("local", "ray")


@dataclass(frozen=True)
class Executor:
    kind: ExecutorKind = "local"
    address: str | None = None  # the Ray cluster's (None: RAY_ADDRESS, else a Ray started here)

    @property
    def remote(self) -> bool:
        return self.kind == "ray"

    def check(self) -> None:
        """Fail early, before any work: Ray missing or the cluster unreachable raise
        ClusterError (ray_pool.py). A no-op for the local pool."""
        if self.remote:
            connect(self.address)  # (the pool joins this connection later)

    def start(self, jobs: int) -> RenderPool:
        """A pool of `jobs` local workers, or the cluster's (as many jobs as it has CPUs)."""
        if self.remote:
            return RayPool.connect(self.address)
        return RenderPool(jobs)


LOCAL = Executor()

__all__ = ["EXECUTORS", "LOCAL", "Executor", "ExecutorKind"]
