"""The layout findings of `lecture check`, remembered: a section whose inputs have not changed is
not built again.

    layout = LayoutCheck()                       # keep one in a long-lived process (watch, lsp)
    found = layout.findings(lesson, base_dir)    # == agents.critic.check_lesson(...).findings
    views = layout.last_views                    # what every section showed (boxes for an editor)

A section's views (runtime/geometry.py: its scenes dry-run, every element measured at the end
of every step) depend only on the section's nodes (spans and comments aside), the lesson's
title and settings, the images it shows and the environment (Lecture's code and version,
Manim's, TeX's: check_store.environment). That is the key they are kept under:

- in memory (`LayoutCheck`), with the findings computed from them for the section as it
  was; an unchanged section costs a key and a comparison, a section moved by an edit above
  it only its findings again (the rules read the lines from the lesson as it is now);
- in the user's CheckStore (check_store.py), as JSON (view_codec.py), so that the next
  `lecture check` of an unchanged lesson imports no Manim at all.

A section that is in neither is built as `check` has always built it: the lesson compiled
(with a CachedMeasurer, so that only new elements are measured with Manim), then only the
missing sections' scenes run. The findings are the Critic's rules on those views, in the order
`agents.critic.check_lesson` gives them: tests/test_warm_check.py compares the two.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecture.compiler.findings import Checker, Finding, SectionView
from lecture.compiler.model import Lesson, Section
from lecture.compiler.style_checks import note_size_findings

from .cache import canonical, file_hash, section_files
from .check_store import CheckStore, key_of
from .view_codec import BadViews, decode, encode, with_section

MEMORY_SECTIONS = 128  # sections kept in memory (views and findings), least recently used dropped
MEMORY_SIZES = 100_000  # measured sizes kept in memory (then forgotten: they are in the store)


def views_key(lesson: Lesson, section: Section, index: int, base_dir: Path) -> str:
    """The key of a section's views: what they depend on (see the module doc)."""
    return key_of({
        "views": 1,
        "lesson": {"title": canonical(lesson.title), "settings": canonical(lesson.settings)},
        "section": canonical(section),
        "index": index,
        "files": [file_hash(p) for p in section_files(section, base_dir)],
    })


@dataclass(frozen=True)
class SectionFindings:
    """A section's findings as check_lesson makes them: the layout rules' and the style rule's
    on notes that change size (compiler.style_checks), for the section as it was then."""

    section: Section
    rules: tuple[Finding, ...]
    notes: tuple[Finding, ...]


@dataclass
class _Known:
    view: SectionView
    findings: SectionFindings | None = None


@dataclass
class CheckStats:
    """What the last check reused and what it built (for tests and bench/bench_check.py)."""

    from_memory: int = 0
    from_store: int = 0
    built: int = 0  # sections whose scenes were run
    measured: int = 0  # mobjects measured with Manim while compiling


@dataclass
class LayoutCheck:
    """The layout findings of lessons, remembering what was built (module doc). `store=None`:
    memory only. Not thread-safe: one check at a time."""

    store: CheckStore | None = field(default_factory=CheckStore.default)
    sizes: dict[str, Any] = field(default_factory=dict)  # CachedMeasurer's memo
    last_views: list[SectionView] = field(default_factory=list)
    stats: CheckStats = field(default_factory=CheckStats)
    _known: OrderedDict[str, _Known] = field(default_factory=OrderedDict)

    def findings(self, lesson: Lesson, base_dir: Path) -> list[Finding]:
        """The Critic's findings of the lesson (agents.critic.check_lesson's, in its order).
        Raises DiagnosticError when the lesson cannot be compiled."""
        keys = [views_key(lesson, s, i, base_dir) for i, s in enumerate(lesson.sections)]
        self.stats = CheckStats()
        known = self._views(lesson, base_dir, keys)
        self.last_views = [k.view for k in known]
        checker = Checker()
        parts = [self._findings(k, checker) for k in known]
        found = sorted((f for p in parts for f in p.rules), key=_order)
        found += [f for p in parts for f in p.notes]
        found.sort(key=_order)
        return found

    def _views(self, lesson: Lesson, base_dir: Path, keys: Sequence[str]) -> list[_Known]:
        out: dict[int, _Known] = {}
        for i, (section, key) in enumerate(zip(lesson.sections, keys, strict=True)):
            hit = self._recall(key, section)
            if hit is not None:
                out[i] = hit
        missing = [i for i in range(len(keys)) if i not in out]
        if missing:
            for i, view in zip(missing, self._build(lesson, base_dir, missing), strict=True):
                out[i] = self._remember(keys[i], _Known(view))
                if self.store is not None:
                    self.store.put("views", keys[i], encode(view))
        return [out[i] for i in range(len(keys))]

    def _recall(self, key: str, section: Section) -> _Known | None:
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            self.stats.from_memory += 1
            if known.view.section != section:  # moved, or another spelling of the same nodes
                known.view = with_section(known.view, section)
            return known
        if self.store is None:
            return None
        data = self.store.get("views", key)
        if data is None:
            return None
        try:
            view = decode(data, section)
        except BadViews:
            return None
        self.stats.from_store += 1
        return self._remember(key, _Known(view))

    def _remember(self, key: str, known: _Known) -> _Known:
        self._known[key] = known
        while len(self._known) > MEMORY_SECTIONS:
            self._known.popitem(last=False)
        return known

    def _build(self, lesson: Lesson, base_dir: Path, indices: list[int]) -> list[SectionView]:
        """The views of these sections, built as `check` always built them."""
        from .geometry import compile_for_views, run_views  # (Manim: only when something is missing)
        from .measure import CachedMeasurer
        from .tex import parsed_texts_shared

        if len(self.sizes) > MEMORY_SIZES:
            self.sizes.clear()
        measurer = CachedMeasurer(self.store, self.sizes)
        with parsed_texts_shared():  # (a text parsed once per process: the same mobject, faster)
            compiled = compile_for_views(lesson, base_dir=base_dir, measurer=measurer)
            views = run_views(compiled, sections=indices)
        self.stats.built += len(indices)
        self.stats.measured += measurer.built
        return views

    @staticmethod
    def _findings(known: _Known, checker: Checker) -> SectionFindings:
        view = known.view
        if known.findings is None or known.findings.section != view.section:
            known.findings = SectionFindings(view.section, tuple(checker.section(view)),
                                             tuple(note_size_findings([view])))
        return known.findings


def _order(f: Finding) -> tuple[int, int, str]:
    return (f.span.line, f.span.column, f.code)


__all__ = ["CheckStats", "LayoutCheck", "SectionFindings", "views_key"]
