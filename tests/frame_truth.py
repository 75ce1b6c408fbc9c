"""Frame truth: what the lesson model says is on screen at every step end, compared with
the frames the renderer wrote.

The model's side is the checker's own (lecture.runtime.geometry.lesson_views: the dry run
`lecture check` uses); the frame's side is the section video, decoded at the last frame of
every step. Three rules, each a way the two could disagree:

- shown: every element the model holds visible has drawn pixels inside its box;
- nothing else: in the drawing grid, a drawn pixel lies inside some visible element's box
  (plus a small margin for anti-aliasing and strokes);
- held: a `wait` shows the picture its previous step ended on (no fill drawn twice,
  nothing still moving): in every visible element's box, the median pixel is unchanged.

A step that moves things also has the model's moments inside it (StepView.moments); the first
two rules compare each with the frame at its time, once the step's other animations (a `create`
beside a `change`, at most MAX_ANIMATION_SECONDS) are done: before then the model shows them
finished and the video still drawing them, so such a moment is skipped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lecture.compiler import theme as T
from lecture.compiler.findings import SectionView, StepView
from lecture.compiler.layout import Box
from lecture.compiler.model import Section, Step
from lecture.compiler.motion_checks import lasts_the_step
from lecture.runtime.step_time import MAX_ANIMATION_SECONDS

BACKGROUND_TOLERANCE = 40  # a channel this far from the background colour counts as drawn
SHOWN_MIN_PIXELS = 2  # drawn pixels an element's box must hold
BOX_MARGIN = 0.12  # scene units added around every visible box (strokes, anti-aliasing)
STRAY_MAX_PIXELS = 12  # drawn pixels allowed outside every box (isolated anti-aliasing)
# A held frame against the step's end: the wait starts a new partial movie, so its frames
# are a fresh key frame and differ at text edges by codec noise alone (up to ~70 levels on
# a few pixels); a fill drawn twice moves the whole box. So: the median change in a box.
HOLD_MEDIAN_CHANGE = 24  # levels: codec noise on small saturated marks reaches ~12
MOMENT_FRAME_SLACK = 0.25  # frames a moment inside a step may lie from the frame it is compared with


@dataclass(frozen=True)
class Frames:
    """Decoded frames of one video: index -> H x W x 3 uint8."""

    width: int
    height: int
    images: dict[int, np.ndarray]


def decode_frames(video: Path, indices: Sequence[int], width: int, height: int) -> Frames:
    """The frames at these indices (0-based), decoded in one pass of ffmpeg."""
    wanted = sorted(set(indices))
    select = "+".join(f"eq(n\\,{i})" for i in wanted)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(video), "-vf", f"select={select}",
           "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True, timeout=300).stdout
    size = width * height * 3
    assert len(raw) == size * len(wanted), f"{video}: decoded {len(raw) // size} of {len(wanted)} frames"
    images = {i: np.frombuffer(raw[k * size:(k + 1) * size], np.uint8).reshape(height, width, 3)
              for k, i in enumerate(wanted)}
    return Frames(width, height, images)


def hex_rgb(color: str) -> np.ndarray:
    c = color.lstrip("#")
    return np.array([int(c[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.int16)


def drawn_mask(image: np.ndarray, background: str) -> np.ndarray:
    diff = np.abs(image.astype(np.int16) - hex_rgb(background))
    return diff.max(axis=2) > BACKGROUND_TOLERANCE


class PixelGrid:
    """Scene units -> pixel rows and columns of a W x H frame (the frame is 8 units tall)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.per_unit = height / T.FRAME_HEIGHT

    def window(self, box: Box, margin: float = 0.0) -> tuple[slice, slice]:
        x0 = int(np.floor(self.width / 2 + (box.left - margin) * self.per_unit))
        x1 = int(np.ceil(self.width / 2 + (box.right + margin) * self.per_unit))
        y0 = int(np.floor(self.height / 2 - (box.top + margin) * self.per_unit))
        y1 = int(np.ceil(self.height / 2 - (box.bottom - margin) * self.per_unit))
        clip = lambda v, hi: min(max(v, 0), hi)  # noqa: E731
        return (slice(clip(y0, self.height), clip(y1, self.height)),
                slice(clip(x0, self.width), clip(x1, self.width)))


GRID_REGION = Box.from_edges(T.GRID_LEFT, T.GRID_RIGHT, T.GRID_BOTTOM, T.GRID_TOP)


def step_end_frames(durations: Sequence[float], fps: float) -> list[int]:
    """The last frame of every step: a scene's frame count after step k is the rounded sum
    of the durations so far (LectureScene.step)."""
    out, total = [], 0.0
    for seconds in durations:
        total += seconds
        out.append(max(round(total * fps) - 1, 0))
    return out


def moment_frames(durations: Sequence[float], fps: float, steps: Sequence[StepView],
                  model: Sequence[Step]) -> dict[tuple[int, float], int]:
    """The frame of every moment inside a step that frame truth compares: (step index, fraction)
    -> frame. A step's frames show its time evenly up to its finished last frame
    (LectureScene.step)."""
    out: dict[tuple[int, float], int] = {}
    total = 0.0
    for seconds, view, step in zip(durations, steps, model, strict=True):
        first = round(total * fps)
        total += seconds
        count = round(total * fps) - first
        for moment in view.moments:
            fraction = moment.fraction if moment.fraction is not None else 1.0
            frame = fraction * (count - 1)
            # (a moment half-way between two frames is half a frame's travel from either: skipped)
            if count > 1 and abs(frame - round(frame)) <= MOMENT_FRAME_SLACK \
                    and _moment_comparable(step, fraction * seconds):
                out[(view.index, fraction)] = first + round(frame)
    return out


def _moment_comparable(step: Step, seconds: float) -> bool:
    """Whether the model's picture `seconds` into a step is the video's: the step's other
    animations are done by then (or it has none: only motions and lecture-line highlights)."""
    if seconds >= MAX_ANIMATION_SECONDS:
        return True
    return all(lasts_the_step(a) or a.verb == "rotate" or a.verb == "say" for a in step.actions)


def _drawn_problems(where: str, image: np.ndarray, step_view: StepView, background: str,
                    grid: PixelGrid) -> list[str]:
    """The first two rules: every visible element drawn, nothing drawn outside them."""
    problems: list[str] = []
    drawn = drawn_mask(image, background)
    covered = np.zeros_like(drawn)
    for fp in step_view.visible:
        rows, cols = grid.window(fp.bbox, BOX_MARGIN)
        covered[rows, cols] = True
        if int(drawn[rows, cols].sum()) < SHOWN_MIN_PIXELS:
            problems.append(f"{where}: '{fp.element}' should be visible but its box is empty")
    rows, cols = grid.window(GRID_REGION)
    stray = drawn[rows, cols] & ~covered[rows, cols]
    if int(stray.sum()) > STRAY_MAX_PIXELS:
        ys, xs = np.nonzero(stray)
        problems.append(f"{where}: {int(stray.sum())} pixels drawn where the model shows nothing "
                        f"(around x={int(xs.mean()) + cols.start}, y={int(ys.mean()) + rows.start})")
    return problems


def section_problems(view: SectionView, video: Path, durations: Sequence[float], fps: float,
                     width: int, height: int) -> list[str]:
    """Every disagreement between the model's step ends (and moments inside steps) and the
    video's frames."""
    section: Section = view.section
    indices = step_end_frames(durations, fps)
    moments = moment_frames(durations, fps, view.steps, section.steps)
    frames = decode_frames(video, [*indices, *moments.values()], width, height)
    grid = PixelGrid(width, height)
    problems: list[str] = []
    previous: np.ndarray | None = None
    for step_view, step, index in zip(view.steps, section.steps, indices, strict=True):
        for moment in step_view.moments:
            at = moments.get((step_view.index, moment.fraction if moment.fraction is not None else 1.0))
            if at is not None:
                where = f"{section.id} step {step_view.index} at {moment.fraction:.2f} (line " \
                    f"{step.span.line}, frame {at})"
                problems += _drawn_problems(where, frames.images[at], moment, view.background, grid)
        image = frames.images[index]
        where = f"{section.id} step {step_view.index} (line {step.span.line}, frame {index})"
        problems += _drawn_problems(where, image, step_view, view.background, grid)
        if step.is_wait and previous is not None:
            change = np.abs(image.astype(np.int16) - previous.astype(np.int16)).max(axis=2)
            for fp in step_view.visible:
                rows, cols = grid.window(fp.bbox)
                moved = float(np.median(change[rows, cols])) if change[rows, cols].size else 0.0
                if moved > HOLD_MEDIAN_CHANGE:
                    problems.append(f"{where}: the wait changes '{fp.element}' (median {moved:.0f} levels)")
        previous = image
    return problems
