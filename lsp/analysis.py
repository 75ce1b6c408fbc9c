"""One document, analysed as the user types: parsed, built and checked (the same front end as
`lecture check`), with what the other features look things up in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lecture.compiler import checks, frontend, source
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.model import Element, LectureLine, Lesson, Section
from lecture.compiler.parser import gc_paused

from .positions import Lines


@dataclass(frozen=True)
class Analysis:
    """A document's text, its model (None: it does not parse) and its diagnostics."""

    src: source.Source
    lesson: Lesson | None
    diagnostics: tuple[Diagnostic, ...]
    encoding: str = "utf-16"  # how the editor counts columns (positions.py)

    @property
    def lines(self) -> Lines:
        return Lines(self.src, self.encoding)

    @property
    def clean(self) -> bool:
        """No errors: the lesson can be compiled (the layout pass runs only then)."""
        return self.lesson is not None and not any(d.severity == "error" for d in self.diagnostics)


def analyse(text: str, path: Path, encoding: str = "utf-16") -> Analysis:
    """Syntax, shape and the semantic checks, all at once (a syntax error stops the rest)."""
    try:
        src = source.from_text(text, str(path))
        lesson, diagnostics = frontend.parse_source(src)
    except DiagnosticError as exc:
        return Analysis(source.from_text(text, str(path)), None, tuple(exc.diagnostics), encoding)
    with gc_paused():
        diagnostics += checks.check(lesson, base_dir=path.parent)
    diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
    return Analysis(src, lesson, tuple(diagnostics), encoding)


def section_at(lesson: Lesson, offset: int) -> Section | None:
    """The section whose text holds an offset (or that the offset follows: typing below it)."""
    found = None
    for section in lesson.sections:
        if section.span.start_pos <= offset:
            found = section
    return found


def declaration(section: Section, name: str) -> Element | LectureLine | None:
    """What declares an id in a section: an element or a lecture line."""
    return section.element(name) or section.line(name)
