"""The Critic: layout findings, and the anchor edits that remove them.

`lecture check` reports findings (`run_check_findings`); `lecture critique FILE` rewrites
anchors (`run_critique`):

1. the lesson is compiled and its scenes dry-run (lecture.runtime.geometry): what every
   step shows, from the real mobjects;
2. the geometric findings (every code of compiler/findings.py's GEOMETRIC_CODES: overlaps,
   off-frame, spilling out of an area, over the panel or the title band, ...) and text too
   small to read are searched away, section by section, with *anchor edits* only — a new
   `at` cell, a new `in` area (same size, shifted), another relation, or a smaller
   `scale=`; and, for an element too small to read or spilling out of its area, a larger
   area (`in B2..B2` -> `in B2..C4`, or an area around its `at` cell) or a larger scale.
   The search is greedy and deterministic: each round tries, for every element involved
   in a finding, its candidate anchors in order of cost (cells moved; ties broken by row,
   then column), predicts the result (the element re-laid-out by the compiler's own layout,
   its measured footprint moved and scaled to match, dependants following), and takes the
   edit that leaves fewest findings, then costs least, without creating a finding that
   was not there. Nothing else about the lesson is changed;
3. the edits are written as minimal text changes at the placements' spans (compiler.edits),
   the lesson is checked again for real, and what is left (too much for the frame) is
   reported with a suggestion.

With `--vlm`, a vision model is shown key frames with the anchor grid drawn over them and
may propose more anchor edits (agents.vision); only those the geometric check accepts are
applied.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lecture.compiler import frontend, source
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.edits import apply_edits, unified_diff
from lecture.compiler.findings import (
    Checker,
    Finding,
    SectionView,
    lesson_findings,
    to_diagnostics,
)
from lecture.compiler.model import Lesson
from lecture.compiler.style_checks import note_size_findings

from .anchor_edit import AnchorEdit
from .layout_search import MAX_PASSES, SEARCHED_CODES, SectionSearch, searched, text_edits, with_edit  # noqa: F401

# ---------------------------------------------------------------- checking a lesson


@dataclass
class Checked:
    lesson: Lesson
    compiled: Any
    views: list[SectionView]
    findings: list[Finding]


def check_lesson(lesson: Lesson, base_dir: Path, checker: Checker | None = None) -> Checked:
    from lecture.runtime.geometry import lesson_views

    compiled, views = lesson_views(lesson, base_dir=base_dir)
    found = lesson_findings(views, checker) + note_size_findings(views)  # (a style rule, measured)
    found.sort(key=lambda f: (f.span.line, f.span.column, f.code))
    return Checked(lesson, compiled, views, found)


def run_check_findings(loaded: frontend.Loaded, *, strict: bool = False,
                       base_dir: Path | None = None) -> list[Diagnostic]:
    """The layout findings of a checked lesson as diagnostics (warnings; errors when
    strict), for `lecture check`. Compiles the lesson and dry-runs its scenes (no video).
    Raises DiagnosticError when the lesson cannot be compiled (e.g. LaTeX rejects a formula)."""
    base = base_dir if base_dir is not None else Path(loaded.source.name).resolve().parent
    checked = check_lesson(loaded.lesson, base)
    return to_diagnostics(checked.findings, strict)


# ---------------------------------------------------------------- critique


@dataclass
class CritiqueResult:
    original: str  # the file's text as read
    text: str  # with the edits
    edits: list[AnchorEdit]
    before: list[Finding]
    after: list[Finding]
    log: list[str]

    @property
    def changed(self) -> bool:
        return self.text != self.original


def search_edits(lesson: Lesson, checked: Checked, base_dir: Path, checker: Checker,
                 *, deadline: float | None = None,
                 memo: dict[str, tuple[float, float]] | None = None) -> tuple[list[AnchorEdit], list[str]]:
    """Anchor edits for every section with searched findings. `memo` keeps measured sizes
    between calls of one critique (a fresh one otherwise)."""
    from lecture.compiler.lower import lesson_theme
    from lecture.compiler.theme import get_theme

    theme = get_theme(lesson_theme(lesson))
    edits: list[AnchorEdit] = []
    log: list[str] = []
    memo = {} if memo is None else memo
    for index, view in enumerate(checked.views):
        if not any(searched(f) for f in checked.findings if f.section == view.section.id):
            continue
        ctx = checked.compiled.contexts[index]
        base_boxes = {eid: low.box for eid, low in ctx.lowered.items()}
        search = SectionSearch(lesson, view.section, view, base_boxes, theme, base_dir, checker, memo)
        search.run(deadline)
        edits.extend(search.edits.values())
        log.extend(search.log)
    return edits, log


def critique_source(src: source.Source, *, base_dir: Path, vlm: Any = None,
                    time_limit: float = 120.0, say=None) -> CritiqueResult:
    """Find and fix the layout of a lesson; returns the new text (nothing is written).
    `vlm`: a callable (lesson, checked, base_dir) -> list[AnchorEdit] (the vision Critic)."""
    say = say or (lambda text: None)
    deadline = time.monotonic() + time_limit
    checker = Checker()
    loaded = frontend.load_source(src, base_dir=base_dir)
    lesson = loaded.lesson
    checked = check_lesson(lesson, base_dir, checker)
    before = checked.findings
    all_edits: list[AnchorEdit] = []
    log: list[str] = []
    text = src.original
    current_src = src
    memo: dict[str, tuple[float, float]] = {}  # measured sizes, shared by the passes
    for _ in range(MAX_PASSES):
        if not any(searched(f) for f in checked.findings):
            break
        edits, steps = search_edits(lesson, checked, base_dir, checker, deadline=deadline, memo=memo)
        if not edits:
            break
        text = apply_edits(current_src, text_edits(lesson, edits))
        new_src = source.from_text(text, src.name)
        lesson = frontend.load_source(new_src, base_dir=base_dir).lesson
        new_checked = check_lesson(lesson, base_dir, checker)
        if sum(map(searched, new_checked.findings)) >= sum(map(searched, checked.findings)):
            # the prediction did not hold up: keep what was there
            lesson = frontend.load_source(current_src, base_dir=base_dir).lesson
            text = current_src.original
            break
        all_edits.extend(edits)
        log.extend(steps)
        checked, current_src = new_checked, new_src
        if time.monotonic() > deadline:
            break
    if vlm is not None:
        for edit in vlm(lesson, checked, base_dir) or []:
            attempt = apply_edits(current_src, text_edits(lesson, [edit]))
            try:
                attempt_src = source.from_text(attempt, src.name)
                attempt_lesson = frontend.load_source(attempt_src, base_dir=base_dir).lesson
                attempt_checked = check_lesson(attempt_lesson, base_dir, checker)
            except DiagnosticError:
                say(f"vision edit ignored (the lesson no longer checks): {edit.describe()}")
                continue
            old_keys = {f.key for f in checked.findings}
            if {f.key for f in attempt_checked.findings} <= old_keys:
                text, current_src, lesson, checked = attempt, attempt_src, attempt_lesson, attempt_checked
                all_edits.append(edit)
                log.append(edit.describe() + " (vision)")
            else:
                say(f"vision edit ignored (the geometric check finds new problems): {edit.describe()}")
    return CritiqueResult(src.original, text, all_edits, before, checked.findings, log)


def cannot_fit(findings: Sequence[Finding], lesson: Lesson) -> list[Diagnostic]:
    """What critique could not fix, said plainly, with what to do about it."""
    out = []
    for f in findings:
        if not f.geometric:
            out.append(f.to_diagnostic())
            continue
        section = lesson.section(f.section)
        count = len(section.elements) if section is not None else 0
        hint = (f"there is not enough room in the frame for everything section '{f.section}' shows at once "
                f"({count} elements): split the section, fade out what is no longer needed, or shorten "
                "long text")
        out.append(Diagnostic("warning", f"cannot fit: {f.message}{f.where()}", f.span, hint,
                              "layout-cannot-fit"))
    return out




def run_critique(args: argparse.Namespace, *, out=None, err=None) -> int:
    """`lecture critique FILE [--dry-run] [--vlm]`. Exit 0: nothing left to fix; 1: some
    findings remain; 2: the lesson has errors, or the file changed on disk meanwhile."""
    from lecture.runtime.atomic import ConcurrentEditError, write_atomically

    out = out or sys.stdout
    err = err or sys.stderr
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}:1:1: error: cannot read the file: {exc.strerror}", file=err)
        return 2
    try:
        src = source.decode(data, str(path))
    except DiagnosticError as exc:
        print(exc, file=err)
        return 2
    base_dir = path.resolve().parent
    vlm = None
    usage = None
    if getattr(args, "vlm", False):
        from lecture.agents.config import config_from_args
        from lecture.agents.usage import UsageLog
        from lecture.agents.vision import VisionCritic

        usage = UsageLog()
        vlm = VisionCritic(config_from_args(args, start=path.parent), usage=usage,
                           say=lambda t: print(t, file=err))
    try:
        result = critique_source(src, base_dir=base_dir, vlm=vlm,
                                 time_limit=getattr(args, "time_limit", 120.0) or 120.0,
                                 say=lambda t: print(t, file=err))
    except DiagnosticError as exc:
        for d in exc.diagnostics:
            print(d.render(exc.source or src.text), file=err)
        return 2
    if usage is not None and usage.summary():
        print(usage.summary(), file=err)
    for line in result.log:
        print(f"edit: {line}", file=err)
    if result.changed:
        diff = unified_diff(result.original, result.text, str(path))
        if args.dry_run:
            out.write(diff)
        else:
            try:
                write_atomically(path, result.text.encode("utf-8"), expected=data)
            except ConcurrentEditError:
                print(f"{path}: error: the file changed on disk during the critique; nothing was "
                      "written — run `lecture critique` again", file=err)
                return 2
            out.write(diff)
            print(f"rewrote {len(result.edits)} anchor{'s' if len(result.edits) != 1 else ''} in {path}",
                  file=err)
    final = source.from_text(result.text, str(path))
    for d in cannot_fit(result.after, frontend.load_source(final, base_dir=base_dir).lesson):
        print(d.render(final.text), file=err)
    before, after = len(result.before), len(result.after)
    print(f"{path}: {before} finding{'s' if before != 1 else ''} before, {after} after", file=err)
    return 0 if not result.after else 1


__all__ = ["AnchorEdit", "CritiqueResult", "check_lesson", "critique_source",
           "run_check_findings", "run_critique"]
