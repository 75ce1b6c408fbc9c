"""What `lecture check` finds beyond the front end, run after a pause in typing: the layout
findings (the scenes built without video, every element measured) and the narration's timing.

This is the one place the language server calls that check path. It can take seconds (building
a section imports Manim and runs its scene), so the server runs it on a worker thread, one run at
a time, only for a lesson with no errors, and drops a result whose text has changed since. The
layout is runtime/warm_check.py's LayoutCheck, kept for the server's life: a pause builds again
only the sections the edits touched, and a lesson checked before (by `lecture check` too) none."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.findings import to_diagnostics
from lecture.compiler.layout import Box
from lecture.compiler.model import Lesson

if TYPE_CHECKING:
    from lecture.runtime.warm_check import LayoutCheck


@dataclass(frozen=True)
class SlowResult:
    diagnostics: tuple[Diagnostic, ...]
    # (section id, element id) -> its box in scene units, where it is first shown
    boxes: dict[tuple[str, str], Box] = field(default_factory=dict)
    # (section id, step number counting waits from 1) -> what the step's end shows, in the
    # scene's order (the last drawn on top): for a click on the preview
    shown: dict[tuple[str, int], tuple[tuple[str, Box], ...]] = field(default_factory=dict)


_layout: LayoutCheck | None = None  # made at the first pause in typing, then kept warm


def layout_findings(lesson: Lesson, path: Path) -> SlowResult:
    """The Critic's measured findings, and where each element ends up."""
    global _layout
    # Imported here, at the first pause in typing: building a section imports Manim (seconds), and
    # the server must answer its first requests at once. The warm checker builds only the sections
    # an edit touched (runtime/warm_check.py), and none of an unchanged lesson checked before.
    from lecture.runtime.warm_check import LayoutCheck

    if _layout is None:
        _layout = LayoutCheck()
    try:
        findings = _layout.findings(lesson, path.resolve().parent)
    except DiagnosticError as exc:  # the lesson cannot be compiled (a formula TeX refuses…)
        return SlowResult(tuple(exc.diagnostics))
    boxes: dict[tuple[str, str], Box] = {}
    shown: dict[tuple[str, int], tuple[tuple[str, Box], ...]] = {}
    for view in _layout.last_views:
        for step in view.steps:
            shown[(view.section.id, step.index)] = tuple((f.element, f.bbox) for f in step.visible)
            for footprint in step.visible:
                boxes.setdefault((view.section.id, footprint.element), footprint.bbox)
    return SlowResult(tuple(to_diagnostics(findings)), boxes, shown)


def narration_timing(lesson: Lesson, build_root: Path) -> tuple[Diagnostic, ...]:
    """Steps shorter than their narration, dead air…: what `lecture check` says, with the
    lesson's own voice and render's speech cache."""
    from lecture.runtime.soundtrack import check_narration  # the voices load with it (seconds)

    try:
        found, _ = check_narration(lesson, voice=None, strict=False, build_root=build_root)
    except DiagnosticError as exc:
        return tuple(exc.diagnostics)
    return tuple(found)


def locked_code(lesson: Lesson, path: Path) -> tuple[Diagnostic, ...]:
    """What `lecture check` says about custom elements' code: missing from the .lock, not trusted
    on this machine, refused by the allowlist…"""
    if not any(el.kind == "custom" for s in lesson.sections for el in s.elements):
        return ()
    from lecture.agents.custom_elements import check_locked_code

    return tuple(check_locked_code(lesson, path))


def slow_checks(lesson: Lesson, path: Path, *, layout: bool, narration: bool, build_root: Path) -> SlowResult:
    """What `lecture check` adds to the front end's diagnostics, for a lesson without errors."""
    result = layout_findings(lesson, path) if layout else SlowResult(())
    timing = narration_timing(lesson, build_root) if narration else ()
    return SlowResult(locked_code(lesson, path) + result.diagnostics + timing, result.boxes, result.shown)
