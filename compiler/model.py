"""The lesson model: typed, frozen nodes that every stage after parsing consumes.

Every node keeps its source span. Spans never take part in equality, so two lessons
that say the same thing compare equal however they were laid out; comments do take
part, because the formatter and the Critic must keep them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from .span import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Comments:
    """Comments that belong to a statement: whole lines above it, and one at its line's end."""

    before: tuple[str, ...] = ()
    after: str | None = None


NO_COMMENTS = Comments()

# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Text:
    """A string from the lesson (plain "...", math $...$ or block \"\"\"...\"\"\"), unescaped."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    span: Span = _span()


@dataclass(frozen=True)
class Scalar:
    """One number as a coordinate: a place on a number line, or an x on a plot (`at 3 on nl`)."""

    value: int | float
    span: Span = _span()


@dataclass(frozen=True)
class Expr:
    """An expression of the section's values where a number goes (`f(x0)` in `(x0, f(x0))`):
    compiler.values reads it with the plot language, never as Python."""

    text: str
    span: Span = _span()


@dataclass(frozen=True)
class MovingPoint:
    """A coordinate with an expression of values in it (`(x0, f(x0))`): it moves as they
    change. A point of numbers only is a `Point`."""

    x: float | Expr
    y: float | Expr
    span: Span = _span()


Coordinate = Point | Scalar | MovingPoint


PART_KINDS: tuple[str, ...] = ("term", "cell", "row", "column", "item", "line")


@dataclass(frozen=True)
class Part:
    """A piece of an element, written like indexing after its id: a formula's term by its TeX
    (`eq[$b^2$]`), a table cell (`t[2, 3]`: row, column), row (`t[row 2]`) or column
    (`t[column 3]`), a list item (`steps[2]`), a code line (`prog[line 4]`). Numbers count
    from 1; a table's first row (its header) is row 1. compiler.parts says which kinds have
    which parts and whether one exists."""

    kind: str  # one of PART_KINDS
    term: str = ""  # the TeX of a term, as written
    numbers: tuple[int, ...] = ()  # (row, column) of a cell; the one index of the others
    span: Span = _span()


@dataclass(frozen=True)
class Ref:
    """A name used as a reference: an element id, a lecture line id or a grid cell; an
    element's reference may point at a part of it (`t[2, 3]`)."""

    name: str
    span: Span = _span()
    part: Part | None = None


End = Ref | Point | Scalar | MovingPoint


@dataclass(frozen=True)
class Endpoints:
    """`from X to Y` on a line or arrow; each end is a grid cell, an element id, or a
    coordinate of the element the line is drawn `on` (`from (0, 0) to (2, 2) on ax`)."""

    start: End
    end: End
    span: Span = _span()

    @property
    def refs(self) -> tuple[Ref, ...]:
        """The ends that name a cell or an element (not coordinates)."""
        return tuple(e for e in (self.start, self.end) if isinstance(e, Ref))


@dataclass(frozen=True)
class Target:
    """`on ax`: the element this one belongs to (a plot on its axes)."""

    ref: Ref
    span: Span = _span()


@dataclass(frozen=True)
class Members:
    """`of a, b, c`: the elements a group holds (compiler/groups.py)."""

    refs: tuple[Ref, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Initial:
    """`= 1` or `= "2 x0"` after a `value`'s id: its start, or the expression it follows."""

    value: int | float | Text
    span: Span = _span()


Arg = Text | Point | MovingPoint | Endpoints | Target | Members | Initial


@dataclass(frozen=True)
class Range:
    low: float
    high: float


@dataclass(frozen=True)
class ValueRange:
    """`x=0..x0`: a range with a bound that is a value's name (it follows the value)."""

    low: int | float | str
    high: int | float | str


@dataclass(frozen=True)
class Color:
    """`#rrggbb` written in an option."""

    hex: str


@dataclass(frozen=True)
class Word:
    """A bare word value: a colour name, a language, `true`."""

    name: str


OptionValue = int | float | str | Range | ValueRange | Color | Word


@dataclass(frozen=True)
class Option:
    key: str
    value: OptionValue
    span: Span = _span()
    value_span: Span = _span()


# ---------------------------------------------------------------- placements


@dataclass(frozen=True)
class Cell:
    """A cell of the anchor grid: row letter A-F (top to bottom), column 1-6 (left to right)."""

    row: str
    column: int
    span: Span = _span()

    @property
    def name(self) -> str:
        return f"{self.row}{self.column}"


@dataclass(frozen=True)
class At:
    cell: Cell
    span: Span = _span()


@dataclass(frozen=True)
class In:
    first: Cell
    last: Cell
    span: Span = _span()


RelationWord = Literal["below", "above", "left of", "right of", "next to", "around"]
# `around` only places a frame (kinds.AROUND), over its target rather than beside it.
RELATIONS: tuple[str, ...] = ("below", "above", "left of", "right of", "next to", "around")


@dataclass(frozen=True)
class Relative:
    relation: str  # one of RELATIONS
    target: Ref
    span: Span = _span()


@dataclass(frozen=True)
class Auto:
    span: Span = _span()


@dataclass(frozen=True)
class AtCoordinate:
    """`at (2, 4) on ax`, `at 3 on nl`, `at 1 on f`: a place in the coordinates of axes, a
    number plane, a number line, or a plot (its x); `below (2, 4) on ax`: beside that place."""

    at: Coordinate
    on: Ref
    relation: str | None = None  # one of COORDINATE_RELATIONS; None: `at`
    span: Span = _span()


COORDINATE_RELATIONS: tuple[str, ...] = ("below", "above", "left of", "right of")


Placement = At | In | Relative | Auto | AtCoordinate

# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Setting:
    """`key: value` under the lesson header."""

    key: str
    value: OptionValue
    comments: Comments = NO_COMMENTS
    span: Span = _span()
    value_span: Span = _span()


@dataclass(frozen=True)
class LectureLine:
    """`line l1 "text"`: a bullet sentence of the left panel."""

    id: str
    text: Text
    comments: Comments = NO_COMMENTS
    span: Span = _span()
    id_span: Span = _span()


@dataclass(frozen=True)
class Element:
    """A visual: `KIND ID args... [placement] [key=value...]`, optionally with rows."""

    kind: str
    id: str
    args: tuple[Arg, ...] = ()
    placement: Placement | None = None
    options: tuple[Option, ...] = ()
    rows: tuple[tuple[Text, ...], ...] = ()  # table rows / bullet items written as a block
    comments: Comments = NO_COMMENTS
    span: Span = _span()
    kind_span: Span = _span()
    id_span: Span = _span()

    def option(self, key: str, default: OptionValue | None = None) -> OptionValue | None:
        for opt in self.options:
            if opt.key == key:
                return opt.value
        return default

    @property
    def texts(self) -> tuple[Text, ...]:
        return tuple(a for a in self.args if isinstance(a, Text))

    @property
    def points(self) -> tuple[Point, ...]:
        return tuple(a for a in self.args if isinstance(a, Point))

    @property
    def endpoints(self) -> Endpoints | None:
        return next((a for a in self.args if isinstance(a, Endpoints)), None)

    @property
    def target(self) -> Ref | None:
        t = next((a for a in self.args if isinstance(a, Target)), None)
        return t.ref if t else None

    @property
    def members(self) -> tuple[Ref, ...]:
        """The elements a group holds (`of a, b, c`), as written."""
        return tuple(r for a in self.args if isinstance(a, Members) for r in a.refs)

    @property
    def initial(self) -> Initial | None:
        """A `value`'s `= 1` or `= "2 x0"`."""
        return next((a for a in self.args if isinstance(a, Initial)), None)

    @property
    def drawn_on(self) -> Ref | None:
        """The element this one is drawn on: a plot's axes, or the axes, plane, number line or
        plot whose coordinates place it (`at (2, 4) on ax`, points `on ax`)."""
        if isinstance(self.placement, AtCoordinate):
            return self.placement.on
        return self.target


@dataclass(frozen=True)
class Action:
    """One thing a step does: `create tri`, `fade out a, b`, `transform a into b`,
    `move eq to C4`, `highlight l1`, `say l1 "words"`."""

    verb: str  # canonical verb: create, write, fade in, fade out, transform, indicate,
    #            move, highlight, remove, play, say, color, scale, rotate
    targets: tuple[Ref, ...] = ()
    text: Text | None = None  # narration for `say`
    into: Ref | None = None  # `transform a into b`
    to: Placement | None = None  # `move a to C4`
    # `color a orange` (a Word or a Color), `scale a 1.5`, `rotate a 90` (degrees)
    value: OptionValue | None = None
    about: Ref | None = None  # `rotate a 90 about B3`: the cell or element it turns about
    values: tuple[int | float, ...] = ()  # `change x0 to 1, 3`: the values it goes to, in turn
    along: Ref | None = None  # `move ball along flight`: the path it moves along
    options: tuple[Option, ...] = ()  # `ease=linear`, `x=0..39`
    comments: Comments = NO_COMMENTS
    span: Span = _span()
    verb_span: Span = _span()

    def option(self, key: str, default: OptionValue | None = None) -> OptionValue | None:
        return next((o.value for o in self.options if o.key == key), default)


@dataclass(frozen=True)
class Step:
    """`step 2s: actions` (or the actions as an indented block). `wait 1s` is a step with
    no actions."""

    duration: float | None  # seconds; None: not declared (defaults to DEFAULT_STEP_SECONDS)
    actions: tuple[Action, ...] = ()
    is_wait: bool = False
    comments: Comments = NO_COMMENTS
    span: Span = _span()
    duration_span: Span = _span()

    @property
    def seconds(self) -> float:
        return self.duration if self.duration is not None else DEFAULT_STEP_SECONDS

    @property
    def narration(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.verb == "say")


DEFAULT_STEP_SECONDS = 1.0


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    duration: float | None = None  # declared target duration, seconds
    lines: tuple[LectureLine, ...] = ()
    elements: tuple[Element, ...] = ()
    steps: tuple[Step, ...] = ()
    comments: Comments = NO_COMMENTS
    span: Span = _span()
    id_span: Span = _span()

    def element(self, element_id: str) -> Element | None:
        return self.elements_by_id.get(element_id)

    def line(self, line_id: str) -> LectureLine | None:
        return self.lines_by_id.get(line_id)

    # Indexed once: scanning the section for every reference made one with thousands of
    # elements quadratic. The first node of each id, as `element` and `line` always gave.
    @cached_property
    def elements_by_id(self) -> dict[str, Element]:
        return _first_by_id(self.elements)

    @cached_property
    def lines_by_id(self) -> dict[str, LectureLine]:
        return _first_by_id(self.lines)


def _first_by_id(nodes: tuple) -> dict:
    index: dict = {}
    for node in nodes:
        index.setdefault(node.id, node)
    return index


@dataclass(frozen=True)
class Lesson:
    title: Text
    settings: tuple[Setting, ...] = ()
    sections: tuple[Section, ...] = ()
    comments: Comments = NO_COMMENTS  # comments above the `lesson` line
    trailing_comments: tuple[str, ...] = ()  # comments after the last statement
    file: str = field(default="<lesson>", compare=False)
    span: Span = _span()

    def setting(self, key: str, default: OptionValue | None = None) -> OptionValue | None:
        for s in self.settings:
            if s.key == key:
                return s.value
        return default

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)
