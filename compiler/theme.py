"""Themes: the colours and sizes of a lesson's look, and the geometry of the teaching layout.

The geometry is Code2Video's teaching layout and is the same in every theme: a title band
along the top, a left panel of lecture lines, and a right-hand 6 x 6 grid of anchor cells.
Both the compiler (layout, measuring) and the generated scenes (title band, panel) read it
from here, so the two always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------- the frame and its regions

FRAME_WIDTH = 14.22
FRAME_HEIGHT = 8.0

# The anchor grid: rows A-F top to bottom, columns 1-6 left to right, cells 1 unit square.
GRID_ROWS = "ABCDEF"
GRID_COLUMNS = 6
CELL = 1.0
GRID_LEFT = 0.0  # x of the left edge of column 1
GRID_TOP = 2.7  # y of the top edge of row A
GRID_RIGHT = GRID_LEFT + GRID_COLUMNS * CELL  # 6.0
GRID_BOTTOM = GRID_TOP - len(GRID_ROWS) * CELL  # -3.3

# The title band: from its rule up to the top of the frame.
TITLE_RULE_Y = 2.95
TITLE_CENTER_Y = 3.47
TITLE_MAX_WIDTH = 13.2
TITLE_MAX_HEIGHT = 0.75

# The left panel of lecture lines.
PANEL_LEFT = -6.75
PANEL_RIGHT = -0.45
PANEL_TOP = GRID_TOP
PANEL_BOTTOM = GRID_BOTTOM
PANEL_DIVIDER_X = -0.22


def cell_center(row: str, column: int) -> tuple[float, float]:
    """The centre of a grid cell: A1 = (0.5, 2.2), F6 = (5.5, -2.8)."""
    r = GRID_ROWS.index(row)
    return (GRID_LEFT + CELL * (column - 0.5), GRID_TOP - CELL * (r + 0.5))


# ---------------------------------------------------------------- themes


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    text: str  # body text, lecture lines
    title: str  # the title band's text
    accent: str  # the highlighted lecture line
    rule: str  # the title rule and panel divider
    shape: str  # default stroke of shapes, lines, axes
    muted: str  # placeholders, secondary strokes
    code_style: str  # Pygments style for code listings
    font: str = "sans-serif"  # Pango font family of all text (math is LaTeX)
    title_font_size: float = 40
    line_font_size: float = 26
    text_font_size: float = 30
    heading_font_size: float = 44
    math_font_size: float = 40
    label_font_size: float = 26
    code_font_size: float = 20


THEMES: dict[str, Theme] = {
    "chalkboard": Theme(
        name="chalkboard",
        background="#1d2b26",
        text="#f2f0e6",
        title="#ffffff",
        accent="#f7d96f",
        rule="#6f837b",
        shape="#58c4dd",
        muted="#9fb3ab",
        code_style="monokai",
    ),
    "light": Theme(
        name="light",
        background="#fbfaf6",
        text="#222222",
        title="#111111",
        accent="#c0392b",
        rule="#9a9a9a",
        shape="#236b8e",
        muted="#666666",
        code_style="friendly",
    ),
}

DEFAULT_THEME = "chalkboard"
DEFAULT_FONT = "sans-serif"  # a generic family: fontconfig picks the installed sans font


def get_theme(name: str | None) -> Theme:
    """The theme of that name; the default theme for None or an unknown name."""
    return THEMES.get(name or DEFAULT_THEME, THEMES[DEFAULT_THEME])
