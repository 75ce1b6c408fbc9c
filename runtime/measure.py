"""The compiler's measurer: real Manim mobjects built in this process, as the generated
module builds them, so that the layout the compiler writes is the layout that renders.

    module = compile_lesson(lesson, base_dir=..., measurer=ManimMeasurer())

Building needs what only the runtime has: the namespace of the generated module (manim,
numpy, the scene helpers of `scene_support`), a Manim media folder of this process's own,
and the confined TeX runner with its verified SVG cache (runtime/tex.py).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lecture.compiler.lower import ir
from lecture.compiler.lower.registry import HELPERS

from .cache import pid_alive
from .part_support import area_of
from .safe_fs import safe_dir
from .tex import install_svg_cache, measure_cache_dir


@functools.cache
def private_media_dir() -> Path:
    """This process's own Manim media folder. Manim rewrites and deletes files in its TeX
    and text folders as it works, so processes (two renders, render and watch) must not
    share one; formulas and texts are still typeset once for all, by the confined TeX
    runner and through the verified SVG cache in `measure_cache_dir()` (see runtime/tex.py)."""
    shared = measure_cache_dir()
    work = safe_dir(shared, "processes")  # made where missing, never through a link
    for old in work.iterdir():  # folders of processes that have ended
        with contextlib.suppress(ValueError, OSError):
            pid = int(old.name)
            if pid != os.getpid() and not pid_alive(pid):
                shutil.rmtree(old, ignore_errors=True)
    media = safe_dir(work, str(os.getpid()))
    install_svg_cache(shared)
    return media


@functools.cache
def namespace() -> dict[str, Any]:
    """What the generated module sees: `from manim import *`, numpy, the scene helpers."""
    import manim
    import numpy as np

    from . import scene_support

    ns: dict[str, Any] = {k: getattr(manim, k) for k in dir(manim) if not k.startswith("_")}
    ns["np"] = np
    for name in HELPERS:
        ns[name] = getattr(scene_support, name)
    return ns


@contextmanager
def measuring() -> Iterator[None]:
    """Manim configured for building mobjects outside a render: its caches in this
    process's private media folder (not the current directory), its log quiet."""
    from manim import logger, tempconfig

    media = private_media_dir()
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with tempconfig({"media_dir": str(media), "disable_caching": True}):
            yield
    finally:
        logger.setLevel(level)


class ManimMeasurer:
    """`compiler.lower.Measurer`: builds an element's expression into a real mobject."""

    def size(self, expr: ir.Call) -> tuple[float, float]:
        with measuring():
            mob = ir.build(expr, namespace())
        return float(mob.width), float(mob.height)

    def points(self, expr: ir.Call) -> list[tuple[float, float]]:
        import numpy as np

        with measuring():
            rows = np.atleast_2d(np.asarray(ir.build(expr, namespace()), dtype=float))
        return [(float(r[0]), float(r[1])) for r in rows]

    def box(self, expr: ir.Call) -> tuple[float, float, float, float]:
        with measuring():
            mob = area_of(ir.build(expr, namespace()))
            (cx, cy, _), w, h = mob.get_center(), mob.width, mob.height
        return float(cx), float(cy), float(w), float(h)
