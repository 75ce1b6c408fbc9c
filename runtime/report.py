"""What a build tells its user: plain lines on the console, diagnostics, exit statuses.

Lines are printed as they are (no rich markup: a lesson's text may hold brackets); without
a console they go to stdout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lecture.compiler.diagnostics import Diagnostic

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK = 0
EXIT_RENDER_FAILED = 1  # some sections failed to render
EXIT_LESSON_ERROR = 2  # the lesson has errors, or cannot be rendered at all


def say(console: Console | None, text: str, style: str | None = None) -> None:
    if console is None:
        print(text)
    else:
        console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def say_diagnostics(console: Console | None, diagnostics: Iterable[Diagnostic],
                    source: str | None) -> None:
    for d in diagnostics:
        say(console, d.render(source), "red" if d.severity == "error" else "yellow")


def spinner(console: Console | None, text: str) -> contextlib.AbstractContextManager:
    """A live spinner on a terminal (long renders show they are alive); nothing elsewhere."""
    if console is not None and getattr(console, "is_terminal", False):
        return console.status(text)
    return contextlib.nullcontext()
