"""The style guide's rules (docs/style.md, between its `style-rules` markers): one text that the
guide shows teachers and the Planner's prompt gives the model."""

from __future__ import annotations

from importlib import resources

START, END = "<!-- style-rules:start -->", "<!-- style-rules:end -->"


def style_guide() -> str:
    return resources.files("lecture.docs").joinpath("style.md").read_text(encoding="utf-8")


def style_rules(guide: str | None = None) -> str:
    """The rules, as the guide writes them (a Markdown list; *Checked* marks what `check` finds)."""
    text = style_guide() if guide is None else guide
    return text[text.index(START) + len(START):text.index(END)].strip()
