"""Shared helpers for the front-end tests: write a small lesson, collect its diagnostics."""

from __future__ import annotations

import textwrap

import pytest
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.frontend import load_text

HEADER = 'lesson "Test"\nsection s "S"\n'  # body lines start at line 3


def lesson(body: str, header: str = HEADER) -> str:
    """A lesson whose section `s` holds `body` (dedented, then indented by two spaces).
    The body's first line is line 3 of the lesson."""
    lines = textwrap.dedent(body).strip("\n").split("\n")
    return header + "".join(("  " + ln if ln.strip() else "") + "\n" for ln in lines)


def diagnose(text: str, **kwargs) -> list[Diagnostic]:
    """Every diagnostic of a lesson, whether or not it loads."""
    try:
        return list(load_text(text, "t.lecture", **kwargs).diagnostics)
    except DiagnosticError as exc:
        return list(exc.diagnostics)


@pytest.fixture
def write_lesson(tmp_path):
    """Write text (str) or bytes to a file in a temporary folder and return its path."""
    def write(content: str | bytes, name: str = "lesson.lecture"):
        path = tmp_path / name
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        return path
    return write


@pytest.fixture(autouse=True)
def private_user_config(tmp_path_factory, monkeypatch):
    """Every test gets its own user config folder: what a test trusts (runtime/trust.py)
    never reaches the real ~/.config/lecture, nor another test."""
    folder = tmp_path_factory.mktemp("user-config")
    monkeypatch.setenv("LECTURE_CONFIG_DIR", str(folder))
    return folder
