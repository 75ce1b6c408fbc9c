"""Preview ↔ source: which element a click on the preview's picture lands on (so the editor can
reveal its line), and which step the cursor is in (so the preview can show that step).

A click is given as the section, the step (its number, counting waits from 1, as the generated
code and the layout check count them; None: the section's end) and where in the picture, as
fractions of its width and height from the top-left corner."""

from __future__ import annotations

from lecture.compiler.layout import Box
from lecture.compiler.model import Lesson, Section
from lecture.compiler.theme import FRAME_HEIGHT, FRAME_WIDTH

from .slow_checks import SlowResult


def scene_point(fx: float, fy: float) -> tuple[float, float]:
    """A point of the picture (fractions from the top-left) in scene units (origin at the centre,
    y up)."""
    return (fx - 0.5) * FRAME_WIDTH, (0.5 - fy) * FRAME_HEIGHT


def _contains(box: Box, x: float, y: float) -> bool:
    return box.left <= x <= box.right and box.bottom <= y <= box.top


def element_at(measured: SlowResult, section: str, step: int | None, fx: float, fy: float) -> str | None:
    """The element under a point of the picture at a step's end: the smallest box holding it (a
    label over its axes is what was meant), the one drawn last among equals."""
    steps = sorted(n for s, n in measured.shown if s == section)
    if not steps:
        return None
    number = step if step in steps else steps[-1]
    x, y = scene_point(fx, fy)
    hits = [(box.w * box.h, -order, element)
            for order, (element, box) in enumerate(measured.shown[(section, number)]) if _contains(box, x, y)]
    return min(hits)[2] if hits else None


def step_at(lesson: Lesson, line: int) -> tuple[Section, int | None] | None:
    """The section holding a 1-based line and the number of the step the line is in (None:
    outside its steps)."""
    chosen = None
    for section in lesson.sections:
        if section.span.line <= line:
            chosen = section
    if chosen is None:
        return None
    for number, step in enumerate(chosen.steps, start=1):
        if step.span.line <= line <= step.span.end_line:
            return chosen, number
    return chosen, None
