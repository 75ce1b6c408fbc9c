"""A moving area (runtime/motion_support.plot_area, redrawn on every frame of a step) is the very
polygon Manim's Axes.get_area makes — points, fill and stroke — for ranges inside a plot, at its
ends and between two of its samples, though it finds the plot's points between the two x in one
call instead of one per point."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from lecture.runtime.motion_support import plot_area
from manim import Axes


@pytest.mark.parametrize(("low", "high"), [(0.0, 3.3), (1.234, 9.99), (0.0, 10.0), (2.0, 2.004)])
def test_a_moving_area_is_the_axes_own_area(low: float, high: float) -> None:
    axes = Axes(x_range=[0, 10, 1], y_range=[0, 5, 1])
    plot = axes.plot(lambda x: 0.5 + 0.3 * x + 0.1 * np.sin(3 * x), x_range=[0, 10, 0.05])
    style: dict[str, Any] = {"color": "#ff8800", "opacity": 0.4, "stroke_width": 0}
    mine = plot_area(axes, plot, low, high, **style)
    manims = axes.get_area(plot, x_range=(low, high), **style)
    assert mine.points.shape == manims.points.shape
    assert np.array_equal(mine.points, manims.points)
    assert np.array_equal(mine.fill_rgbas, manims.fill_rgbas)
    assert np.array_equal(mine.stroke_rgbas, manims.stroke_rgbas)
    assert mine.stroke_width == manims.stroke_width
