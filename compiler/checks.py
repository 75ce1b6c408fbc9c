"""Semantic checks over a whole lesson (filled in below)."""
from __future__ import annotations
from pathlib import Path
from .diagnostics import Diagnostic
from .model import Lesson


def check(lesson: Lesson, base_dir: Path | None = None) -> list[Diagnostic]:
    return []
