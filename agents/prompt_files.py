"""Prompts live as text files in the package (agents/prompts/*.txt): reading them and
filling their {{name}} markers, for every agent."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path


def package_text(*parts: str) -> str:
    """A text file of the lecture.agents package (beside this module in a source checkout)."""
    try:
        return resources.files("lecture.agents").joinpath(*parts).read_text("utf-8")
    except (FileNotFoundError, OSError):
        return Path(__file__).parent.joinpath(*parts).read_text("utf-8")


def prompt(name: str) -> str:
    return package_text("prompts", f"{name}.txt")


def fill(template: str, **values: object) -> str:
    """Replace each {{name}} marker; braces elsewhere (JSON in a prompt) are left alone. A
    marker with no value is an error, so a renamed marker cannot slip through."""
    def sub(match: re.Match) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"prompt marker {{{{{key}}}}} has no value")
        return str(values[key])
    return re.sub(r"\{\{(\w+)\}\}", sub, template)
