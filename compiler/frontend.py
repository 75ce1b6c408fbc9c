"""The front end in one call: file or text -> checked lesson model, or diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import builder, checks, source
from .diagnostics import Diagnostic, DiagnosticError, has_errors
from .model import Lesson
from .parser import gc_paused


@dataclass(frozen=True)
class Loaded:
    lesson: Lesson
    source: source.Source
    diagnostics: tuple[Diagnostic, ...]  # warnings (and errors, when not raised)


def parse_source(src: source.Source) -> tuple[Lesson, list[Diagnostic]]:
    """Syntax and shape only: returns the model and the builder's diagnostics."""
    return builder.build(src)


def load_source(src: source.Source, *, base_dir: Path | None = None, strict: bool = False) -> Loaded:
    """Parse, build and check. Raises DiagnosticError listing every error found."""
    try:
        lesson, diagnostics = parse_source(src)
    except DiagnosticError as exc:
        exc.source = src.text
        raise
    with gc_paused():  # the checks walk a model of up to millions of objects: see gc_paused
        diagnostics += checks.check(lesson, base_dir=base_dir)
    if strict:
        diagnostics = [d if d.severity == "error" else Diagnostic("error", d.message, d.span, d.hint, d.code)
                       for d in diagnostics]
    diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
    if has_errors(diagnostics):
        raise DiagnosticError(diagnostics, src.text)
    return Loaded(lesson, src, tuple(diagnostics))


def load_text(text: str, name: str = "<lesson>", *, base_dir: Path | None = None,
              strict: bool = False) -> Loaded:
    return load_source(source.from_text(text, name), base_dir=base_dir, strict=strict)


def load_file(path: str | Path, *, strict: bool = False) -> Loaded:
    src = source.read(path)
    return load_source(src, base_dir=Path(path).resolve().parent, strict=strict)


def parse_text(text: str, name: str = "<lesson>") -> Lesson:
    """Parse and build without the semantic checks (raises on syntax errors only)."""
    lesson, diagnostics = parse_source(source.from_text(text, name))
    if has_errors(diagnostics):
        raise DiagnosticError(diagnostics, text)
    return lesson
