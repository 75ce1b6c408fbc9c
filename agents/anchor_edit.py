"""An anchor edit: the one change the Critic makes to a lesson, a new placement or scale for
one element. Both the geometric search (critic) and the vision model (vision) propose
them; it lives here, below both, so neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass

from lecture.compiler.format import placement as placement_text
from lecture.compiler.model import Element, Placement


@dataclass(frozen=True)
class AnchorEdit:
    """A new anchor for one element: a placement, a scale option, or both."""

    section: str
    element: str
    placement: Placement | None = None
    scale: float | None = None  # the new value of the element's scale= option
    cost: float = 0.0
    source: str = "geometry"  # or "vision"

    def describe(self, old: Element | None = None) -> str:
        parts: list[str] = []
        if self.placement is not None:
            had = old.placement if old is not None else None
            before = placement_text(had) if had is not None else "auto (no placement)"
            parts.append(f"{before} -> {placement_text(self.placement)}")
        if self.scale is not None:
            was = old.option("scale", 1) if old is not None else 1
            parts.append(f"scale {was} -> {self.scale:g}")
        return f"{self.section}/{self.element}: " + ", ".join(parts)
