"""The box a custom element draws in: what the Coder's `build(box)` receives, both in the
sandbox that checks the code and in the rendered scene. Only numpy, so checking code never
needs more than the code itself imports."""

from __future__ import annotations

import numpy as np


class CustomBox:
    """The anchor box a custom element draws in, in scene units (y up).

    Attributes: left, right, bottom, top, width, height, cx, cy (floats), center (a numpy
    point [cx, cy, 0]). `point(fx, fy)` is the point at fractions of the box (0,0 the
    lower-left corner, 1,1 the upper-right). `fit(mobject, margin=0.1)` scales a mobject
    down (never up) to fit inside the box less a margin and centres it there; it returns
    the mobject."""

    __slots__ = ("left", "bottom", "right", "top")

    def __init__(self, left: float, bottom: float, right: float, top: float) -> None:
        self.left, self.bottom, self.right, self.top = float(left), float(bottom), float(right), float(top)

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def cx(self) -> float:
        return (self.left + self.right) / 2

    @property
    def cy(self) -> float:
        return (self.bottom + self.top) / 2

    @property
    def center(self) -> np.ndarray:
        return np.array([self.cx, self.cy, 0.0])

    def point(self, fx: float, fy: float) -> np.ndarray:
        return np.array([self.left + fx * self.width, self.bottom + fy * self.height, 0.0])

    def fit(self, mobject, margin: float = 0.1):
        w, h = float(mobject.width), float(mobject.height)
        room_w, room_h = max(self.width - 2 * margin, 0.01), max(self.height - 2 * margin, 0.01)
        factors = [room_w / w] if w > 1e-9 else []
        factors += [room_h / h] if h > 1e-9 else []
        if factors and min(factors) < 1.0:
            mobject.scale(min(factors))
        mobject.move_to(self.center)
        return mobject

    def edges(self) -> tuple[float, float, float, float]:
        return (self.left, self.bottom, self.right, self.top)

    def __repr__(self) -> str:
        return (f"CustomBox(left={self.left:g}, bottom={self.bottom:g}, right={self.right:g}, "
                f"top={self.top:g})")
