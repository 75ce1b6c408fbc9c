"""`lecture check` as a function a long-lived process calls again and again, fast.

    checker = WarmChecker()                                   # once per process
    result = checker.check(text, Path("lesson.lecture"))      # on every edit
    result.diagnostics    # what `lecture check lesson.lecture` prints, in its order
    result.note           # the summary line's note (narration timed by an estimate)
    result.views          # what each section shows at every step (boxes), when laid out

The diagnostics are `lecture check`'s (the CLI runs this same code, lecture/cli.py): the front
end's, the custom elements' locked code, the narration's timing, and the layout findings. What
makes it fast is runtime/warm_check.py's LayoutCheck: the views of a section whose inputs did not
change are not built again (kept in memory here, and in the user's cache for the next process),
so an unchanged lesson is checked without Manim, and an edit builds again only the sections it
touched. The first check in a process that must build something imports Manim (about a second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lecture.compiler import frontend, source
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.findings import SectionView, to_diagnostics
from lecture.runtime.check_store import CheckStore
from lecture.runtime.warm_check import LayoutCheck


@dataclass(frozen=True)
class CheckOptions:
    """`lecture check`'s options (its flags)."""

    strict: bool = False
    layout: bool = True
    narration: bool = True
    voice: str | None = None
    build_root: Path = Path("build")  # whose speech cache the narration uses, as render


@dataclass(frozen=True)
class CheckResult:
    diagnostics: tuple[Diagnostic, ...]  # in the order of the text
    source: str | None  # the text the spans point into (None: the file could not be read)
    note: str = ""  # for the summary line: how the narration was timed
    views: tuple[SectionView, ...] = ()  # the layout's views (empty without layout or on errors)


@dataclass
class WarmChecker:
    """Checks lessons as `lecture check` does, remembering what it built (module doc).
    `store=None` keeps nothing between processes. One check at a time (not thread-safe)."""

    options: CheckOptions = field(default_factory=CheckOptions)
    store: CheckStore | None = field(default_factory=CheckStore.default)
    layout: LayoutCheck = field(init=False)

    def __post_init__(self) -> None:
        self.layout = LayoutCheck(self.store)

    def check(self, text: str, path: Path) -> CheckResult:
        """The diagnostics of `text` as the lesson file at `path` (named as given)."""
        return self.check_source(source.from_text(text, str(path)), path)

    def check_file(self, path: Path) -> CheckResult:
        """The diagnostics of the lesson file at `path`, read now."""
        try:
            src = source.read(path)
        except DiagnosticError as exc:
            return CheckResult(tuple(exc.diagnostics), exc.source)
        return self.check_source(src, path)

    def check_source(self, src: source.Source, path: Path) -> CheckResult:
        opts = self.options
        try:
            loaded = frontend.load_source(src, base_dir=path.resolve().parent, strict=opts.strict)
        except DiagnosticError as exc:
            return CheckResult(tuple(exc.diagnostics), exc.source)
        diagnostics = list(loaded.diagnostics)
        note = ""
        views: tuple[SectionView, ...] = ()
        try:
            if any(el.kind == "custom" for s in loaded.lesson.sections for el in s.elements):
                # the locked code's gates: allowlist, trust on this machine, isolation
                from .custom_elements import check_locked_code

                diagnostics += check_locked_code(loaded.lesson, path)
            if opts.narration:
                # what render reports about the narration (overruns, dead air…): the same voice,
                # its speech cached per sentence in the build folder render uses
                from lecture.runtime.soundtrack import check_narration

                found, note = check_narration(loaded.lesson, voice=opts.voice, strict=opts.strict,
                                              build_root=opts.build_root)
                diagnostics += found
            if opts.layout:
                # The Critic's exact geometry: overlaps, off-frame, unreadable text… (no video)
                findings = self.layout.findings(loaded.lesson, path.resolve().parent)
                views = tuple(self.layout.last_views)
                diagnostics += to_diagnostics(findings, opts.strict)
        except DiagnosticError as exc:  # the lesson cannot be compiled (a formula TeX refuses…)
            diagnostics += exc.diagnostics
        diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
        return CheckResult(tuple(diagnostics), loaded.source.text, note, views)


__all__ = ["CheckOptions", "CheckResult", "WarmChecker"]
