"""The compiler's measurer: real Manim mobjects built in this process, as the generated
module builds them, so that the layout the compiler writes is the layout that renders.

    module = compile_lesson(lesson, base_dir=..., measurer=ManimMeasurer())

Building needs what only the runtime has: the namespace of the generated module (manim,
numpy, the scene helpers of `scene_support`), a Manim media folder of this process's own,
and the confined TeX runner with its verified SVG cache (runtime/tex.py).

`CachedMeasurer` measures each expression once: a warm process (the watch, the language
server) and the next `lecture check` of the lesson read what was measured before, and build
with Manim (importing it) only what is new.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lecture.compiler.lower import ir
from lecture.compiler.lower.registry import HELPERS

from .cache import file_hash, pid_alive
from .check_store import CheckStore, key_of
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
        from .part_support import area_of  # (it imports Manim: not before something is built)

        with measuring():
            mob = area_of(ir.build(expr, namespace()))
            (cx, cy, _), w, h = mob.get_center(), mob.width, mob.height
        return float(cx), float(cy), float(w), float(h)


class CachedMeasurer:
    """`compiler.lower.Measurer` that builds each mobject once: what it measured is kept in
    `memo` (a warm process keeps it between checks) and in the user's CheckStore (between
    processes), keyed by the expression as the generated module writes it, the bytes of the
    images it shows and the environment (runtime/check_store.py). Manim is imported only when
    something is missing from both. `built` counts the mobjects built with Manim."""

    def __init__(self, store: CheckStore | None, memo: dict[str, Any] | None = None) -> None:
        self.store = store
        self.memo: dict[str, Any] = {} if memo is None else memo
        self.built = 0
        self._manim: ManimMeasurer | None = None

    def size(self, expr: ir.Call) -> tuple[float, float]:
        w, h = self._value("size", expr, 2)
        return w, h

    def points(self, expr: ir.Call) -> list[tuple[float, float]]:
        return [(x, y) for x, y in self._value("points", expr, None)]

    def box(self, expr: ir.Call) -> tuple[float, float, float, float]:
        cx, cy, w, h = self._value("box", expr, 4)
        return cx, cy, w, h

    def _value(self, what: str, expr: ir.Call, length: int | None) -> Any:
        key = key_of({"measure": what, "expr": ir.render(expr), "files": _files_shown(expr)})
        value = self.memo.get(key)
        if value is None and self.store is not None:
            value = self.store.get("sizes", key, lambda v: _sound(v, what, length))
        if value is None:
            value = self._measure(what, expr)
            if self.store is not None:
                self.store.put("sizes", key, value)
        self.memo[key] = value
        return value

    def _measure(self, what: str, expr: ir.Call) -> Any:
        """Built with Manim (what raises is raised: the lowering reports it)."""
        if self._manim is None:
            self._manim = ManimMeasurer()
        self.built += 1
        if what == "points":
            return [[x, y] for x, y in self._manim.points(expr)]
        return list(self._manim.size(expr) if what == "size" else self._manim.box(expr))


def _files_shown(expr: Any) -> list[str]:
    """The digests of the files an expression reads (an ImageMobject's picture)."""
    out: list[str] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Call):
            if node.func == "ImageMobject" and node.args and isinstance(node.args[0], str):
                out.append(file_hash(Path(node.args[0])))
            stack.extend([node.func, *node.args, *(v for _, v in node.kwargs)])
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, ir.Attr):
            stack.append(node.value)
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _sound(value: Any, what: str, length: int | None) -> bool:
    """A stored measurement of the shape `what` gives: numbers (sizes not negative)."""
    if what == "points":
        return isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and all(_number(c) for c in p) for p in value)
    if not (isinstance(value, list) and len(value) == length and all(_number(c) for c in value)):
        return False
    return min(value[-2:]) >= 0
