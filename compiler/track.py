"""A path an element moves along (issue 16: `move p along c`), as the points it passes through,
and the journey an element makes along it from where it is. Shared by the lowering (where the
move ends, for the layout: compiler/lower/motion.py) and the scene (the move itself:
runtime/motion_support.move_along), so that both put the element in the same place.

Where the journey starts and ends (a teacher expects the element to travel from where it is):
- a closed path (a circle, an ellipse, a polygon): from the path's point nearest the element,
  once round in the direction the path is drawn (a circle, an ellipse: counter-clockwise from
  its rightmost point; a polygon: through its points in the order written), back to that point;
- an open path (a plot's piece, a line, an arc): from where the element is on it to the end
  farther along the path (an element at one end travels the whole path to the other);
- an element farther than NEAR from the path first moves straight onto it — onto its nearest
  point (closed) or onto the end nearer it (open, then on to the other end) — over the first
  APPROACH of the step, eased smoothly; the rest of the step is the journey along the path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .values import smooth

CURVE_SAMPLES = 16  # points each cubic Bézier piece of a path is sampled at
NEAR = 0.05  # scene units (about 7 pixels at 1080p): an element this close to the path is on it
APPROACH = 0.2  # the share of the step an element off the path takes to reach it

Ease = Callable[[float], float]


@dataclass(frozen=True)
class Track:
    """A path as a polyline: its points (n x 2), the length along it to each, and whether it is
    closed (its last point is its first)."""

    points: np.ndarray
    lengths: np.ndarray
    closed: bool

    @classmethod
    def of_curves(cls, control: Sequence[Sequence[float]] | np.ndarray, closed: bool) -> Track:
        """From a path's cubic Bézier pieces, four control points each (a VMobject's points)."""
        pts = np.asarray(control, dtype=float).reshape(-1, np.shape(control)[-1])[:, :2]
        curves = pts[: len(pts) // 4 * 4].reshape(-1, 4, 2)
        if len(curves) == 0:
            return cls.of_points(pts if len(pts) else np.zeros((1, 2)), closed)
        t = np.linspace(0.0, 1.0, CURVE_SAMPLES, endpoint=False)[None, :, None]
        a, b, c, d = (curves[:, i][:, None, :] for i in range(4))
        u = 1 - t
        sampled = (u ** 3 * a + 3 * u ** 2 * t * b + 3 * u * t ** 2 * c + t ** 3 * d).reshape(-1, 2)
        return cls.of_points(np.vstack([sampled, curves[-1, 3]]), closed)

    @classmethod
    def of_points(cls, points: Sequence[Sequence[float]] | np.ndarray, closed: bool) -> Track:
        """From the points of a polyline (a closed one is joined back to its first point)."""
        pts = np.asarray(points, dtype=float).reshape(-1, np.shape(points)[-1])[:, :2]
        if closed and len(pts) > 1 and np.linalg.norm(pts[0] - pts[-1]) > 1e-9:
            pts = np.vstack([pts, pts[:1]])
        steps = np.linalg.norm(np.diff(pts, axis=0), axis=1) if len(pts) > 1 else np.zeros(0)
        return cls(pts, np.concatenate([[0.0], np.cumsum(steps)]), closed)

    @property
    def length(self) -> float:
        return float(self.lengths[-1])

    def at(self, share: float) -> np.ndarray:
        """The point `share` of the way along (a closed track goes on round: 1.25 is 0.25)."""
        if len(self.points) < 2 or self.length <= 0:
            return self.points[0].copy()
        share = share % 1.0 if self.closed and not 0.0 <= share <= 1.0 else min(max(share, 0.0), 1.0)
        along = share * self.length
        i = int(np.clip(np.searchsorted(self.lengths, along, side="right") - 1, 0, len(self.points) - 2))
        piece = self.lengths[i + 1] - self.lengths[i]
        f = (along - self.lengths[i]) / piece if piece > 0 else 0.0
        return self.points[i] + f * (self.points[i + 1] - self.points[i])

    def nearest(self, point: Sequence[float] | np.ndarray) -> tuple[float, float]:
        """How far along the track its point nearest `point` is (a share of its length), and how
        far that point is from `point`."""
        p = np.asarray(point, dtype=float)[:2]
        if len(self.points) < 2 or self.length <= 0:
            return 0.0, float(np.linalg.norm(p - self.points[0]))
        a, ab = self.points[:-1], np.diff(self.points, axis=0)
        squared = (ab * ab).sum(axis=1)
        t = np.clip(((p - a) * ab).sum(axis=1) / np.where(squared > 0, squared, 1.0), 0.0, 1.0)
        gaps = np.linalg.norm(a + t[:, None] * ab - p, axis=1)
        i = int(np.argmin(gaps))
        return float((self.lengths[i] + t[i] * np.sqrt(squared[i])) / self.length), float(gaps[i])


@dataclass(frozen=True)
class Journey:
    """An element's way along a track: from `origin` (straight onto the track first when it is
    off it), then from share `begin` to share `end` of the track."""

    track: Track
    origin: np.ndarray
    begin: float
    end: float
    approach: bool

    def at(self, alpha: float, ease: Ease) -> np.ndarray:
        """Where the element is `alpha` of the way through the step, the path eased by `ease`."""
        if self.approach:
            if alpha < APPROACH:
                return self.origin + (self.track.at(self.begin) - self.origin) * smooth(alpha / APPROACH)
            alpha = (alpha - APPROACH) / (1 - APPROACH)
        return self.track.at(self.begin + (self.end - self.begin) * ease(alpha))


def journey(track: Track, origin: Sequence[float] | np.ndarray) -> Journey:
    """The way an element at `origin` goes along a track (see the module's docstring)."""
    here = np.asarray(origin, dtype=float)[:2]
    share, gap = track.nearest(here)
    if track.closed:
        return Journey(track, here, share, share + 1.0, gap > NEAR)
    if gap <= NEAR:  # on the path: on to the end farther along it
        return Journey(track, here, share, 1.0 if share <= 0.5 else 0.0, False)
    first = 0.0 if np.linalg.norm(here - track.at(0.0)) <= np.linalg.norm(here - track.at(1.0)) else 1.0
    return Journey(track, here, first, 1.0 - first, True)
