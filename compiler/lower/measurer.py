"""How the lowering learns the real size of what it places: through a `Measurer`.

Layout is resolved on real Manim mobjects, but building them needs a configured Manim (a
media folder of this process's own, the confined TeX runner, the scene helpers the
generated module imports) — the runtime's business. So the compiler states only what it
needs, and the runtime provides it (`lecture.runtime.measure.ManimMeasurer`). A lowering
without a measurer estimates sizes (tests of the code's shape only)."""

from __future__ import annotations

from typing import Protocol

from . import ir


class Measurer(Protocol):
    def size(self, expr: ir.Call) -> tuple[float, float]:
        """The width and height of the mobject the expression builds, in scene units, built
        as the generated module would build it. Raises whatever building raises (a LaTeX
        error, a missing image…); the lowering turns that into a diagnostic."""
        ...

    def points(self, expr: ir.Call) -> list[tuple[float, float]]:
        """The scene points (x, y) of the array the expression builds: one point (3 numbers)
        or one a row, such as `Axes(...).move_to(...).c2p([[0, 0], [1, 0]])` — where the
        coordinates of axes or a number line land, built as the generated module builds them."""
        ...

    def box(self, expr: ir.Call) -> tuple[float, float, float, float]:
        """The centre (x, y), width and height of what the expression builds: for a part of an
        element (`part_of(…)`, lower/part_refs.py), what a frame or highlight goes around."""
        ...
