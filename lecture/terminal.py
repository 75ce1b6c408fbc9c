"""The one way Lecture makes a rich console: never re-wrapping lines (a diagnostic's
`file:line:col` line and its caret underline must stay whole in any terminal or log) and
never colouring numbers and paths on its own."""

from __future__ import annotations

from rich.console import Console


def make_console(*, stderr: bool = True) -> Console:
    return Console(stderr=stderr, soft_wrap=True, highlight=False)
