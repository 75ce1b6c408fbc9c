"""What each element kind, action and option accepts: the one table that the builder, the
checks, the formatter, the JSON Schema, the README reference and the lowering agree on."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Lesson, Word

# Option value types
NUMBER = "number"
POSITIVE = "positive number"
FRACTION = "number from 0 to 1"
COLOR = "colour"
RANGE = "range"
WORD = "word"
STRING = "string"
COUNT = "whole number"  # 1, 2, 3…


@dataclass(frozen=True)
class OptionSpec:
    type: str
    doc: str


# How a `change`, a `move … along` or a `rotate` runs through its step (`ease=linear`):
# name -> (what it looks like, Manim's rate function)
EASINGS: dict[str, tuple[str, str]] = {
    "smooth": ("starts and ends gently (the default)", "smooth"),
    "linear": ("at one steady speed", "linear"),
    "in": ("starts slowly, ends fast", "rate_functions.ease_in_sine"),
    "out": ("starts fast, ends slowly", "rate_functions.ease_out_sine"),
    "there_and_back": ("goes to the value and comes back", "there_and_back"),
}

OPTIONS: dict[str, OptionSpec] = {
    "color": OptionSpec(COLOR, "stroke or text colour: a name (blue, light_gray…) or #rrggbb"),
    "fill": OptionSpec(COLOR, "fill colour of a shape"),
    "opacity": OptionSpec(FRACTION, "fill opacity of a shape, 0 to 1"),
    "scale": OptionSpec(POSITIVE, "extra scale factor applied after layout (1 = as laid out)"),
    "font_size": OptionSpec(POSITIVE, "text size in points (Manim's font_size; default 32)"),
    "stroke": OptionSpec(POSITIVE, "stroke width of lines and outlines (default 4)"),
    "radius": OptionSpec(POSITIVE, "radius in grid cells"),
    "width": OptionSpec(POSITIVE, "width in grid cells"),
    "height": OptionSpec(POSITIVE, "height in grid cells"),
    "side": OptionSpec(POSITIVE, "side length in grid cells"),
    "x": OptionSpec(RANGE, "x range, low..high"),
    "y": OptionSpec(RANGE, "y range, low..high"),
    "step": OptionSpec(POSITIVE, "distance between tick marks"),
    "x_step": OptionSpec(POSITIVE, "distance between tick marks on the x axis (instead of step)"),
    "y_step": OptionSpec(POSITIVE, "distance between tick marks on the y axis (instead of step)"),
    "language": OptionSpec(WORD, "programming language of a code listing (python, c, js…)"),
    "x_label": OptionSpec(STRING, "label of the x axis"),
    "y_label": OptionSpec(STRING, "label of the y axis"),
    "start": OptionSpec(NUMBER, "where an arc starts: degrees counter-clockwise from pointing right "
                                "(default 0)"),
    "end": OptionSpec(NUMBER, "where an arc ends, in degrees (default 90; below start: clockwise)"),
    "corner": OptionSpec(COUNT, "a polygon's corner: 1, 2, 3… in the order its points are written"),
    "label": OptionSpec(STRING, 'a short label: beside an angle\'s mark ("θ", "60°"), before a value\'s '
                                'number ("slope =")'),
    "decimals": OptionSpec(NUMBER, "digits after the decimal point of a value's number (default 2)"),
    "unit": OptionSpec(STRING, 'written after a value\'s number: "m/s", "°"'),
    "length": OptionSpec(POSITIVE, "length of a tangent line, in grid cells (default 3)"),
    "ease": OptionSpec(WORD, "how a `change`, `move … along` or `rotate` runs: " + ", ".join(EASINGS)),
    "between": OptionSpec(WORD, "another plot: the area between the two (default: between the plot and "
                                "the x axis)"),
    "n": OptionSpec(COUNT, "how many rectangles (default 4)"),
}

SHAPE_STYLE = ("color", "fill", "opacity", "stroke", "scale")
TEXT_STYLE = ("color", "font_size", "scale")


# Roles: how the layout rules measure an element (compiler.findings, runtime.geometry) and
# which overlaps they accept.
SHAPE = "shape"  # a closed outline: its filled area counts (two triangles may share an edge)
LINE = "line"  # a stroke, at least findings.LINE_WIDTH wide
TEXT = "text"  # text: its bounding box; the readability rules (size, contrast) apply
BOX = "box"  # anything else: its bounding box
ROLES = (SHAPE, LINE, TEXT, BOX)

# What a kind's string is, where the checks look inside it (PLAIN: only text).
PLAIN = ""
LATEX = "latex"  # a formula: the TeX allowlist applies
EXPRESSION = "expression"  # a function of x (compiler.expression)
FILE_PATH = "file path"  # a file relative to the lesson's folder

# Placement rules
ANY = "any"  # at a cell, in an area, beside another element, or automatic
RELATION = "relation"  # only beside another element (`below tri`)
NONE = "none"  # no placement: it takes its place from the element it is drawn `on`
AROUND = "around"  # only `around` another element or a part of it (a frame)

# How an element may be given in the coordinates of axes, a plane, a number line or a plot
PLACE = "place"  # placed at a coordinate: `dot p at (2, 4) on ax`, `label top "max" at 3 on nl`
POINTS = "points"  # its points are coordinates: `polygon tri (0, 0) (2, 0) (2, 3) on ax`


@dataclass(frozen=True)
class KindSpec:
    """Everything about one element kind but its lowering: the shape of its statement, where it
    may go, and how the checks, the layout rules and the Critic treat it."""

    name: str
    doc: str
    example: str
    role: str = BOX
    texts: tuple[int, int] = (0, 0)  # how many strings (min, max)
    text_doc: str = ""
    text_is: str = PLAIN
    points: tuple[int, int] = (0, 0)
    endpoints: bool = False  # accepts `from X to Y` (or exactly two points instead)
    on: tuple[str, ...] = ()  # the kinds of element it is drawn `on` (a plot on axes); (): no `on`
    # The kinds that `from X to Y` names instead of `on` (an angle between two lines, or `on` a
    # polygon's corner); (): `from … to …` joins cells, elements or points
    ends: tuple[str, ...] = ()
    rows: str = ""  # "" no rows; "items": one string per row; "table": strings per row;
    #                 "pairs": a name and a value per row (a bar chart)
    empty_error: str = ""  # the error when it has neither rows nor strings ("": it may be empty)
    empty_hint: str = ""  # its hint ("": the example)
    options: tuple[str, ...] = ()
    placement: str = ANY
    plays: bool = False  # `play` runs its own animation
    own_colors: bool = False  # draws in colours of its own: the contrast rule leaves it alone
    mark: bool = False  # a point-like mark (a dot): it keeps its size wherever it is moved
    parts: tuple[str, ...] = ()  # the parts a reference may point at (PARTS): `t[2, 3]`, `eq[$b^2$]`
    members: bool = False  # holds other elements (`of a, b, c`): a group, measured as its members
    follows: bool = False  # `of X`: the one element it follows (a trace draws X's path)
    initial: bool = False  # `= 1` or `= "2 x0"` after its id: a value's start, or its expression
    path: bool = False  # `move p along IT` follows its outline
    moving_range: bool = False  # its `x=` range may follow a value (`area a on f x=0..x0`)
    point_options: tuple[str, ...] = ()  # options that are one number here, not a range (a tangent's x=)
    coordinates: str = ""  # PLACE or POINTS: it may be given in another element's coordinates
    dimensions: int = 0  # numbers in a coordinate on it: 2 (x, y) on axes; 1 on a number line or a plot (x)
    default_ranges: tuple[tuple[float, float], ...] = ()  # its x (and y) range when not given
    article: str | None = None  # before its name in messages; None: "a" or "an" by its first letter

    @property
    def needs_target(self) -> bool:
        return bool(self.on)

    @property
    def attached(self) -> bool:
        """Drawn on or beside another element: overlapping that element is intended."""
        return bool(self.on) or self.placement in (RELATION, AROUND)

    @property
    def textual(self) -> bool:
        return self.role == TEXT

    @property
    def scalable(self) -> bool:
        return "scale" in self.options


def with_article(kind: str) -> str:
    """'a circle', 'an arrow', 'axes' (a plural needs no article)."""
    spec = KINDS.get(kind)
    article = spec.article if spec is not None and spec.article is not None else \
        ("an" if kind[:1] in "aeiou" else "a")
    return f"{article} {kind}" if article else kind


KINDS: dict[str, KindSpec] = {k.name: k for k in [
    KindSpec("title", "a large heading inside the visual area", 'title t "Why triangles?" at A3',
             role=TEXT, texts=(1, 1), text_doc="the heading", options=TEXT_STYLE),
    KindSpec("text", "a sentence or short paragraph", 'text note "Area = base × height ÷ 2" at F3',
             role=TEXT, texts=(1, 1), text_doc="the text", options=TEXT_STYLE, coordinates=PLACE),
    KindSpec("bullets", "a bulleted list; items as strings, or one per indented row",
             'bullets facts "one right angle" "three sides" in A1..C6',
             role=TEXT, texts=(0, 50), text_doc="the items", rows="items",
             empty_error="a bullets list needs items", options=TEXT_STYLE, parts=("item",)),
    KindSpec("math", "a LaTeX formula; write it between $…$", "math eq $a^2 + b^2 = c^2$ at F4",
             role=TEXT, texts=(1, 1), text_doc="the LaTeX source", text_is=LATEX, options=TEXT_STYLE,
             coordinates=PLACE, parts=("term",)),
    KindSpec("code", 'a code listing; multi-line code goes in a """block""" string',
             'code fib "def fib(n): ..." in A1..D6 language=python',
             role=TEXT, texts=(1, 1), text_doc="the code", options=("language", "font_size", "scale"),
             own_colors=True, parts=("line",)),  # highlighted on a background of its own
    KindSpec("image", "a picture from a file, relative to the lesson file",
             'image photo "figures/triangle.png" in A1..C3',
             texts=(1, 1), text_doc="the image's path", text_is=FILE_PATH, options=("scale",),
             own_colors=True),
    KindSpec("circle", "a circle", "circle c at C3 radius=1 color=red", role=SHAPE,
             options=SHAPE_STYLE + ("radius",), path=True),
    KindSpec("rectangle", "a rectangle", "rectangle box at D3 width=3 height=1", role=SHAPE,
             options=SHAPE_STYLE + ("width", "height")),
    KindSpec("square", "a square", "square sq at C4 side=2 fill=blue opacity=0.5", role=SHAPE,
             options=SHAPE_STYLE + ("side",)),
    KindSpec("polygon", "a polygon through three or more points (scaled into its place; with "
                        "`on ax`, the points are the axes' coordinates)",
             "polygon tri (0, 0) (4, 0) (0, 3) in B2..E5", role=SHAPE, points=(3, 100), options=SHAPE_STYLE,
             coordinates=POINTS, path=True),
    KindSpec("line", "a straight line: two points, or from a cell or element to another; "
                     "`from (0, 0) to (2, 2) on ax` in the axes' coordinates",
             "line base from E2 to E5", role=LINE, points=(0, 2), endpoints=True,
             options=("color", "stroke"), coordinates=POINTS, path=True),
    KindSpec("arrow", "an arrow: two points, or from a cell or element to another; "
                      "`from (0, 0) to (2, 2) on ax` in the axes' coordinates",
             "arrow hint from note to tri color=yellow", role=LINE, points=(0, 2), endpoints=True,
             options=("color", "stroke"), coordinates=POINTS, path=True),
    KindSpec("dot", "a small filled dot, at a cell or at a coordinate (`at (2, 4) on ax`, `at 3 on nl`)",
             "dot p at C3 color=yellow", role=SHAPE,
             options=("color", "radius", "scale"), mark=True, coordinates=PLACE),
    KindSpec("axes", "coordinate axes; add curves with `plot`, points with `at (x, y) on AXES`",
             "axes ax in A1..D6 x=-3..3 y=0..9",
             options=("x", "y", "step", "x_step", "y_step", "color", "x_label", "y_label", "scale"),
             article="", dimensions=2, default_ranges=((-4.0, 4.0), (-3.0, 3.0))),
    KindSpec("plane", "a number plane: axes over a grid of squares; curves and points go `on` it as on axes",
             "plane grid in A1..F6 x=-4..4 y=-3..3",
             options=("x", "y", "step", "x_step", "y_step", "color", "x_label", "y_label", "scale"),
             dimensions=2, default_ranges=((-4.0, 4.0), (-3.0, 3.0))),
    KindSpec("plot", "the graph of a function of x on axes or a plane",
             'plot parabola "x^2" on ax color=yellow', role=LINE, texts=(1, 1),
             text_doc="the function of x (numbers, x, + - * / ^, sin cos tan exp log sqrt abs, pi, e)",
             text_is=EXPRESSION, on=("axes", "plane"), options=("color", "stroke", "x"), placement=NONE,
             dimensions=1, path=True, moving_range=True),
    KindSpec("numberline", "a number line; marks go on it with `at 3 on NL`",
             "numberline nl in D1..D6 x=-5..5 step=1",
             options=("x", "step", "color", "scale"), dimensions=1, default_ranges=((-5.0, 5.0),)),
    KindSpec("table", "a table; one indented row of strings per table row",
             'table squares in A1..C4:\n    "n" "n²"\n    "3" "9"', role=TEXT, rows="table",
             empty_error="a table needs rows",
             empty_hint='end the line with ":" and write one indented row per line: "x" "y"',
             options=("color", "font_size", "scale"), parts=("cell", "row", "column")),
    KindSpec("brace", "a curly brace beside another element, with an optional label",
             'brace base_brace "base" below tri', texts=(0, 1), text_doc="the label",
             options=("color",), placement=RELATION),
    KindSpec("frame", "a box around an element or a part of it (`around t[2, 3]`); it follows it "
                      "when it moves", "frame f around eq[$b^2$] color=yellow", role=LINE,
             options=("color", "stroke"), placement=AROUND),
    KindSpec("label", "a short label beside another element, above a coordinate (`at (2, 4) on ax`), "
                      "or at the end of a curve (`on f`)", 'label lc "c" right of tri',
             role=TEXT, texts=(1, 1), text_doc="the label", options=TEXT_STYLE, placement=RELATION,
             coordinates=PLACE),
    KindSpec("ellipse", "an ellipse", "ellipse e at C3 width=3 height=1.5", role=SHAPE,
             options=SHAPE_STYLE + ("width", "height"), path=True),
    KindSpec("arc", "a piece of a circle's outline, from one direction to another (degrees, "
                    "counter-clockwise from pointing right)", "arc a at C3 radius=1 start=0 end=120",
             role=LINE, options=("color", "stroke", "radius", "start", "end", "scale"), path=True),
    KindSpec("angle", "the mark of an angle with an optional label: at a polygon's corner (`on POLYGON "
                      "corner=N`, the inner angle) or between two lines (`from LINE to LINE`)",
             'angle th on tri corner=2 label="θ"', role=LINE, on=("polygon",), endpoints=True,
             ends=("line", "arrow"), options=("color", "stroke", "radius", "corner", "label", "font_size"),
             placement=NONE),
    KindSpec("rightangle", "the square mark of a right angle, at a polygon's corner or between two lines",
             "rightangle r on tri corner=1", role=LINE, on=("polygon",), endpoints=True,
             ends=("line", "arrow"), options=("color", "stroke", "side", "corner"), placement=NONE),
    KindSpec("bars", "a bar chart: one indented row per bar, its name and its value; `transform` "
                     "into another chart grows the bars to its values",
             'bars sales in A1..C6 y=0..10:\n    "Mon" "3"\n    "Tue" "7"', rows="pairs",
             empty_error="a bar chart needs rows",
             empty_hint='end the line with ":" and write one indented row per bar: "Mon" "3"',
             options=("y", "step", "color", "opacity", "font_size", "scale"), article=""),
    KindSpec("area", "the area under a plot over a range of x, or between two plots (`between=OTHER`)",
             "area a on parabola x=0..2 fill=blue opacity=0.4", role=SHAPE, on=("plot",),
             options=("x", "between", "fill", "opacity"), placement=NONE, moving_range=True),
    KindSpec("riemann", "n Riemann rectangles under a plot over a range of x; `transform` into one with "
                        "a larger n refines them", "riemann r on parabola x=0..2 n=4", role=SHAPE,
             on=("plot",), options=("x", "n", "fill", "opacity", "color", "stroke"), placement=NONE,
             moving_range=True),
    KindSpec("group", "elements that move, fade and fit into a place as one: `of` its members; placed, "
                      "it scales them together (as they sit) into its place", "group g of tri, lc in D1..F6",
             options=("scale",), members=True),
    KindSpec("value", "a named value that steps change (`change x0 to 3`), or an expression of values "
                      "(`= \"2 x0\"`); points, bounds and numeric options written with it follow it; "
                      "shown, it is a live number",
             'value x0 = 1 at F2 label="x =" decimals=1', role=TEXT, initial=True,
             options=("label", "decimals", "unit", "color", "font_size", "scale")),
    KindSpec("tangent", "the tangent line to a plot at `x=` (a number or a value: it slides along the "
                        "plot as the value changes)", "tangent tl on f x=x0 length=3", role=LINE,
             on=("plot",), options=("x", "length", "color", "stroke"), placement=NONE,
             point_options=("x",)),
    KindSpec("trace", "the path an element travels, drawn behind it from when the trace is created",
             "trace tr of p color=yellow", role=LINE, follows=True, options=("color", "stroke"),
             placement=NONE),
    KindSpec("custom", "anything else, described in words; an LLM writes its Manim code",
             'custom proof "Four copies of the triangle slide inside a square." in A1..F6',
             texts=(0, 1), text_doc="what to show, in words", rows="items",
             empty_error="a custom element needs a description in words", options=(), plays=True,
             own_colors=True),  # the Coder's code chooses them
]}

# Actions: canonical verb -> (what it does, example, which targets it takes)
VERBS: dict[str, tuple[str, str]] = {
    "create": ("draw elements (shapes are traced, text is written)", "create tri, eq"),
    "write": ("write text or a formula stroke by stroke", "write eq"),
    "fade in": ("fade elements in", "fade in photo"),
    "fade out": ("fade elements out (they are gone afterwards)", "fade out tri, eq"),
    "transform": ("morph one element into another (the second takes its place)",
                  "transform eq into eq2"),
    "indicate": ("briefly highlight shown elements or parts of them", "indicate eq[$b^2$], t[2, 3]"),
    "move": ("move elements to another anchor, or along a path from where the element is: once round a "
             "circle, ellipse or polygon, to the far end of a plot (`x=0..2` for a piece), arc or line "
             "(`ease=`)", "move eq to C4; move p along f"),
    "change": ("slide values to new values over the step, in turn when there are several (`ease=`)",
               "change x0 to 3; change x0 to 1, 3 ease=linear"),
    "highlight": ("highlight a lecture line in the left panel; on a part of an element, a marker behind "
                  "it that stays until another part of that element is highlighted",
                  "highlight l2; highlight prog[line 3]"),
    "remove": ("take elements away at once", "remove tri"),
    "play": ("run a custom element's own animation", "play proof"),
    "color": ("recolour shown elements or parts of them (a colour name or #rrggbb)",
              "color eq[$b^2$] orange"),
    "scale": ("scale shown elements by a factor, about their centres", "scale eq 1.5"),
    "rotate": ("turn shown elements by degrees (counter-clockwise), about their centres or `about` a "
               "cell or element (`ease=`)", "rotate sq 90 about C3"),
    "say": ("narration for the step; `say l1` speaks line l1 and highlights it",
            'say l1 "Here is a right triangle."'),
}

# The options an action takes (`change x0 to 3 ease=linear`; `x=` only along a plot)
VERB_OPTIONS: dict[str, tuple[str, ...]] = {"change": ("ease",), "move": ("ease", "x"), "rotate": ("ease",)}

# What `move X along Y` may follow, and the kinds whose `x=` range may follow a value
PATH_KINDS: tuple[str, ...] = tuple(k for k, spec in KINDS.items() if spec.path)
MOVING_RANGE_KINDS: tuple[str, ...] = tuple(k for k, spec in KINDS.items() if spec.moving_range)

# Verbs that bring an element on screen, and those that take it off.
SHOWING_VERBS = frozenset({"create", "write", "fade in", "play"})
HIDING_VERBS = frozenset({"fade out", "remove"})
# Verbs that change how a shown element looks, each with its value (`color eq orange`).
RESTYLE_VERBS = frozenset({"color", "scale", "rotate"})

# Parts of elements, written like indexing after the id: part kind -> (what it is, example).
# KindSpec.parts says which kinds have which; compiler.parts checks that one exists.
PARTS: dict[str, tuple[str, str]] = {
    "term": ("a term of a formula, by its TeX as written (spaces do not matter; every place it "
             "occurs)", "eq[$b^2$]"),
    "cell": ("a table cell: row, then column, counted from 1 (the header row is row 1); "
             "`t[2][3]` is the same cell", "t[2, 3]"),
    "row": ("a table row", "t[row 2]"),
    "column": ("a table column", "t[column 3]"),
    "item": ("an item of a bullets list", "steps[2]"),
    "line": ("a line of a code listing", "prog[line 4]"),
}

# Header settings
SETTINGS: dict[str, tuple[str, str]] = {
    "audience": (STRING, 'who the lesson is for: audience: "ages 12-14"'),
    "subject": (STRING, 'the subject: subject: "geometry"'),
    "theme": (WORD, "the look: chalkboard (dark, default) or light"),
    "resolution": ("size", "video size: resolution: 1920x1080 (default 1280x720)"),
    "fps": (POSITIVE, "frames per second: fps: 30"),
    "voice": (WORD, "narration voice: piper (default, offline), espeak (other languages), "
                    "openai (an OpenAI-compatible speech server; openai:alloy names the voice — quote "
                    "specs with a colon: voice: \"openai:alloy\"), none (silent)"),
    "language": (WORD, "language of the narration: language: en"),
    "rate": (POSITIVE, "speaking rate, 1 = normal: rate: 1.1"),
    "lines": (WORD, "when the left panel's lines appear: progressive (default: each with the first step "
                    "that says or highlights it, or a later line) or all (from the section's start)"),
    "transition": (WORD, "how one section joins the next: cut (default) or crossfade (a 0.5 s fade "
                         "that changes no timing)"),
}

THEMES = ("chalkboard", "light")
LINE_MODES = ("progressive", "all")
TRANSITIONS = ("cut", "crossfade")

# The settings that take one of a few words; the first is the default.
CHOICES: dict[str, tuple[str, ...]] = {"theme": THEMES, "lines": LINE_MODES, "transition": TRANSITIONS}


def setting_choice(lesson: Lesson, key: str) -> str:
    """The word a choice setting is set to, or its default when unset (or not one of its
    choices: `check` reports that)."""
    value = lesson.setting(key)
    word = value.name if isinstance(value, Word) else value if isinstance(value, str) else None
    return word if word in CHOICES[key] else CHOICES[key][0]
