"""How long a step's animations run: the one rule the generated scene plays by
(scene_support.LectureScene.step) and the narration's dead-air finding reads (dead_air.py).

A step's animations start together at the step's start. Each runs at most
MAX_ANIMATION_SECONDS (a lecture-line highlight QUICK; a custom element's own animations the
whole step), never longer than the step; then the finished picture holds to the step's end.
Kept apart from scene_support so that reading the rule does not import Manim.
"""

from __future__ import annotations

QUICK = 0.5  # seconds a lecture-line highlight takes (at most the step's time)
# An animation takes at most this long; the rest of a longer step (one stretched to fit its
# narration, say) holds the finished picture, so nothing is still being drawn at the end.
MAX_ANIMATION_SECONDS = 2.5

__all__ = ["MAX_ANIMATION_SECONDS", "QUICK"]
