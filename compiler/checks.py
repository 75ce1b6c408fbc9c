"""Semantic checks over a whole lesson. Every problem is reported, not only the first.

Each check is a small function registered in CHECKS; each yields Diagnostics pointing at
the node's span with a hint where one helps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from itertools import islice
from pathlib import Path

from . import coordinates
from . import model as m
from .colors import COLORS
from .diagnostics import Diagnostic, did_you_mean
from .expression import ExpressionError, parse_expression, plot_scope
from .group_checks import group_diagnostics, not_all_shown
from .groups import GroupIndex, expanded
from .kinds import (
    AROUND,
    CHOICES,
    COUNT,
    EXPRESSION,
    FILE_PATH,
    FRACTION,
    HIDING_VERBS,
    KINDS,
    LATEX,
    NONE,
    OPTIONS,
    PLACE,
    POSITIVE,
    RANGE,
    RELATION,
    SETTINGS,
    SHOWING_VERBS,
    STRING,
    THEMES,
    VERBS,
    WORD,
    KindSpec,
    setting_choice,
    with_article,
)
from .kinds import COLOR as COLOR_TYPE
from .kinds import NUMBER as NUMBER_TYPE
from .layout import on_grid, parse_cell_name
from .motion_checks import motion_diagnostics
from .part_checks import part_diagnostics
from .shape_checks import shape_diagnostics
from .span import Span
from .step_order import step_conflicts
from .style_checks import style_diagnostics
from .tex_safety import tex_diagnostics
from .values import bound_option, value_names

Check = Callable[[m.Lesson, "Context"], Iterator[Diagnostic]]
CHECKS: list[Check] = []


def check_function(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


class Context:
    def __init__(self, base_dir: Path | None) -> None:
        self.base_dir = base_dir


def error(message: str, span: Span, hint: str | None = None, code: str = "") -> Diagnostic:
    return Diagnostic("error", message, span, hint, code)


def warning(message: str, span: Span, hint: str | None = None, code: str = "") -> Diagnostic:
    return Diagnostic("warning", message, span, hint, code)


def check(lesson: m.Lesson, base_dir: Path | None = None) -> list[Diagnostic]:
    ctx = Context(base_dir)
    found: list[Diagnostic] = []
    for fn in CHECKS:
        found.extend(fn(lesson, ctx))
    return found


a = with_article


def endpoint_cell(end: m.Ref, section: m.Section) -> m.Cell | None:
    """The cell an end of `from X to Y` names, on the grid or off it; an element id wins over
    a cell-like name (c2 may be an element)."""
    return None if section.element(end.name) is not None else parse_cell_name(end.name, end.span)


def names_a_grid_cell(element_id: str) -> bool:
    """Whether an id is written exactly as a cell of the grid (B2; b2 and B02 may name elements)."""
    cell = parse_cell_name(element_id)
    return cell is not None and cell.name == element_id and on_grid(cell)


# ------------------------------------------------------------------ header

@check_function
def header(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    if lesson.title.span.line and not lesson.title.value.strip():  # no header: the builder says so
        yield error("the lesson title is empty", lesson.title.span or lesson.span,
                    'give the lesson a title: lesson "The Pythagorean Theorem"', "empty-title")
    seen: dict[str, m.Setting] = {}
    for s in lesson.settings:
        if s.key in seen:
            yield error(f"'{s.key}' is set twice", s.span,
                        f"the first is at line {seen[s.key].span.line}; keep one", "duplicate-setting")
        seen[s.key] = s
        spec = SETTINGS.get(s.key)
        if spec is None:
            hint = did_you_mean(s.key, SETTINGS) or "settings: " + ", ".join(SETTINGS)
            yield error(f"unknown setting '{s.key}'", s.span, hint, "unknown-setting")
            continue
        kind, doc = spec
        value = s.value
        if s.key == "theme":
            name = value.name if isinstance(value, m.Word) else str(value)
            if name not in THEMES:
                yield error(f"unknown theme '{name}'", s.value_span,
                            did_you_mean(name, THEMES) or "themes: " + ", ".join(THEMES), "unknown-theme")
        elif s.key in CHOICES:
            name = value.name if isinstance(value, m.Word) else str(value)
            if name not in CHOICES[s.key]:
                yield error(f"'{s.key}' cannot be '{name}'", s.value_span,
                            did_you_mean(name, CHOICES[s.key]) or f"{s.key}: " + " or ".join(CHOICES[s.key]),
                            "bad-setting")
        elif kind == "size":
            if not (isinstance(value, str) and re.fullmatch(r"\d+x\d+", value)):
                yield error(f"'{s.key}' needs a size such as 1280x720", s.value_span, doc, "bad-setting")
            else:
                w, h = (int(v) for v in value.split("x"))
                if not (16 <= w <= 7680 and 16 <= h <= 4320) or w % 2 or h % 2:
                    yield error(f"resolution {value} is not usable", s.value_span,
                                "use even sizes between 16 and 7680x4320, e.g. 1280x720", "bad-setting")
        elif kind == POSITIVE:
            if not isinstance(value, int | float) or value <= 0:
                yield error(f"'{s.key}' needs a positive number", s.value_span, doc, "bad-setting")
            elif s.key == "fps" and (value != int(value) or value > 120):
                yield error("fps must be a whole number up to 120", s.value_span, doc, "bad-setting")
        elif kind == STRING:
            if not isinstance(value, str | m.Word):
                yield error(f"'{s.key}' needs text in quotes", s.value_span, doc, "bad-setting")
        elif kind == WORD:
            if not isinstance(value, m.Word | str):
                yield error(f"'{s.key}' needs a word", s.value_span, doc, "bad-setting")


# ------------------------------------------------------------------ ids

@check_function
def unique_ids(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    sections: dict[str, m.Section] = {}
    for section in lesson.sections:
        if section.id in sections:
            yield error(f"section '{section.id}' is defined twice", section.id_span,
                        f"the first is at line {sections[section.id].span.line}; rename one",
                        "duplicate-id")
        sections[section.id] = section
        seen: dict[str, Span] = {}
        nodes: list[m.LectureLine | m.Element] = [*section.lines, *section.elements]
        for node in nodes:
            span = node.id_span
            if node.id in seen:
                yield error(f"'{node.id}' is defined twice in section '{section.id}'", span,
                            f"the first is at line {seen[node.id].line}; ids name one thing each",
                            "duplicate-id")
            else:
                seen[node.id] = span
            if isinstance(node, m.Element) and names_a_grid_cell(node.id):
                yield error(f"'{node.id}' looks like a grid cell and cannot name an element", span,
                            "choose a word, such as tri or eq1", "cell-id")


# ------------------------------------------------------------------ elements

def _option_diagnostics(element: m.Element, spec: KindSpec) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for opt in element.options:
        if opt.key in seen:
            yield error(f"option '{opt.key}' is given twice", opt.span, "keep one", "duplicate-option")
        seen.add(opt.key)
        if opt.key not in spec.options:
            if opt.key in OPTIONS:
                allowed = ", ".join(spec.options) or "none"
                yield error(f"{a(element.kind)} has no option '{opt.key}'", opt.span,
                            f"options of {element.kind}: {allowed}", "unknown-option")
            else:
                hint = did_you_mean(opt.key, spec.options) or (
                    "options of " + element.kind + ": " + (", ".join(spec.options) or "none"))
                yield error(f"unknown option '{opt.key}'", opt.span, hint, "unknown-option")
            continue
        if bound_option(element.kind, opt):  # an expression of values: compiler.motion_checks
            continue
        yield from _option_value(opt, OPTIONS[opt.key].type)


def _option_value(opt: m.Option, kind: str) -> Iterator[Diagnostic]:
    value = opt.value
    where = opt.value_span if opt.value_span.line else opt.span
    if kind == COLOR_TYPE:
        if isinstance(value, m.Color):
            return
        name = value.name if isinstance(value, m.Word) else value if isinstance(value, str) else None
        if name is None or name.lower() not in COLORS:
            shown = name if name is not None else value
            hint = (did_you_mean(str(shown), COLORS) if name else None) or \
                "use a colour name (blue, red, yellow, light_gray…) or #rrggbb"
            yield error(f"unknown colour '{shown}'", where, hint, "unknown-color")
    elif kind in (POSITIVE, NUMBER_TYPE, FRACTION):
        if not isinstance(value, int | float):
            yield error(f"'{opt.key}' needs a number", where, OPTIONS[opt.key].doc, "bad-option")
        elif kind == POSITIVE and value <= 0:
            yield error(f"'{opt.key}' must be greater than 0", where, OPTIONS[opt.key].doc, "bad-option")
        elif kind == FRACTION and not 0 <= value <= 1:
            yield error(f"'{opt.key}' must be between 0 and 1", where, OPTIONS[opt.key].doc, "bad-option")
    elif kind == COUNT:
        if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer() \
                or value < 1:
            yield error(f"'{opt.key}' needs a whole number: 1, 2, 3…", where, OPTIONS[opt.key].doc,
                        "bad-option")
    elif kind == RANGE:
        if not isinstance(value, m.Range):
            yield error(f"'{opt.key}' needs a range such as -3..3", where, OPTIONS[opt.key].doc, "bad-option")
        elif value.low >= value.high:
            yield error(f"the range {value.low}..{value.high} is empty or inverted", where,
                        f"write the smaller number first: {value.high}..{value.low}"
                        if value.low > value.high else "give two different numbers", "bad-option")
    elif kind == WORD:
        if not isinstance(value, m.Word | str):
            yield error(f"'{opt.key}' needs a word", where, OPTIONS[opt.key].doc, "bad-option")
    elif kind == STRING:
        if not isinstance(value, str | m.Word):
            yield error(f"'{opt.key}' needs text in quotes", where, OPTIONS[opt.key].doc, "bad-option")


def _count_diagnostic(element: m.Element, what: str, have: int, bounds: tuple[int, int],
                      example: str) -> Iterator[Diagnostic]:
    low, high = bounds
    if low <= have <= high:
        return
    if high == 0:
        yield error(f"{a(element.kind)} takes no {what}s", element.span, f"for example: {example}",
                    "bad-args")
    elif have < low:
        need = f"{low}" if low == high else f"at least {low}"
        yield error(f"{a(element.kind)} needs {need} {what}{'s' if low > 1 else ''}", element.id_span,
                    f"for example: {example}", "bad-args")
    else:
        yield error(f"{a(element.kind)} takes at most {high} {what}{'s' if high > 1 else ''}",
                    element.span, f"for example: {example}", "bad-args")


def _cell_diagnostics(cell: m.Cell) -> Iterator[Diagnostic]:
    if cell.row == "?":
        return  # already reported by the builder
    if not on_grid(cell):
        yield error(f"cell {cell.name} is off the grid", cell.span,
                    "the grid has rows A-F (top to bottom) and columns 1-6 (left to right)",
                    "off-grid")


def _placement_diagnostics(element: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    p = element.placement
    if p is None:
        return
    if isinstance(p, m.At):
        yield from _cell_diagnostics(p.cell)
    elif isinstance(p, m.In):
        yield from _cell_diagnostics(p.first)
        yield from _cell_diagnostics(p.last)
        if p.first.row != "?" and p.last.row != "?" and (
                p.first.row > p.last.row or p.first.column > p.last.column):
            fixed = (f"{min(p.first.row, p.last.row)}{min(p.first.column, p.last.column)}.."
                     f"{max(p.first.row, p.last.row)}{max(p.first.column, p.last.column)}")
            yield error(f"the area {p.first.name}..{p.last.name} is inverted", p.span,
                        f"name the top-left cell first: in {fixed}", "inverted-area")
    elif isinstance(p, m.Relative):
        yield from _reference(p.target, section, element_only=True, what="placed relative to")
        if p.target.name == element.id:
            yield error(f"'{element.id}' is placed relative to itself", p.target.span,
                        "name another element", "relation-self")
    elif isinstance(p, m.AtCoordinate):
        system = section.element(p.on.name)
        if system is None:
            yield from _reference(p.on, section, element_only=True)
        else:
            yield from coordinates.place_diagnostics(p, system, section)


def _reference(ref: m.Ref, section: m.Section, *, element_only: bool = False,
               line_only: bool = False, what: str = "used") -> Iterator[Diagnostic]:
    if (not line_only and section.element(ref.name)) or (not element_only and section.line(ref.name)):
        return  # found: the list of known names is only for the hint
    names: Collection[str] = (  # views, not copies: a lesson can have thousands of wrong names
        section.lines_by_id.keys() if line_only else section.elements_by_id.keys() if element_only
        else [*section.elements_by_id, *section.lines_by_id])
    if line_only and section.element(ref.name):
        yield error(f"'{ref.name}' is an element, not a lecture line", ref.span,
                    "highlight takes a lecture line id (line l1 \"…\")", "not-a-line")
        return
    if element_only and section.line(ref.name):
        yield error(f"'{ref.name}' is a lecture line, not an element", ref.span,
                    "lecture lines live in the left panel; use `highlight` or `say` for them",
                    "not-an-element")
        return
    hint = did_you_mean(ref.name, names) or (
        f"define it in section '{section.id}' first, e.g. text {ref.name} \"…\"" if element_only
        else f"known here: {', '.join(islice(names, 12))}{', …' if len(names) > 12 else ''}" if names
        else None)
    kind = "lecture line" if line_only else "element"
    yield error(f"no {kind} named '{ref.name}' in section '{section.id}'", ref.span, hint,
                "undefined-id")


def _expression_diagnostics(text: m.Text, values: frozenset[str]) -> Iterator[Diagnostic]:
    try:
        parse_expression(text.value, plot_scope(values))
    except ExpressionError as exc:
        span = text.span
        if span.line and span.line == span.end_line and "\\" not in text.value:
            col = span.column + 1 + exc.offset
            span = m.Span(span.file, span.line, col, span.line, col + max(exc.length, 1),
                          span.start_pos + 1 + exc.offset, span.start_pos + 1 + exc.offset + exc.length)
        yield error(exc.message, span, exc.hint, "bad-expression")


@check_function
def elements(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    for section in lesson.sections:
        for el in section.elements:
            spec = KINDS.get(el.kind)
            if spec is None:
                hint = did_you_mean(el.kind, KINDS) or "kinds: " + ", ".join(KINDS)
                yield error(f"unknown element kind '{el.kind}'", el.kind_span, hint, "unknown-kind")
                continue
            if spec.ends:  # `on` one element, or `from` one `to` another (an angle)
                yield from _between_diagnostics(el, spec, section)
            else:
                yield from _argument_diagnostics(el, spec)
                yield from _target_diagnostics(el, spec, section)
            yield from _row_diagnostics(el, spec)
            if spec.placement == RELATION and not isinstance(el.placement, m.Relative) \
                    and el.drawn_on is None:
                yield error(f"{a(el.kind)} is placed relative to another element", el.id_span,
                            f"for example: {spec.example}", "needs-relation")
            if spec.placement == NONE and el.placement is not None:
                yield error(f"{a(el.kind)} takes its place from its {_target_words(spec)}",
                            el.placement.span, "remove the placement", "bad-placement")
            yield from _option_diagnostics(el, spec)
            if isinstance(el.placement, m.AtCoordinate) and not spec.coordinates \
                    and spec.placement != NONE:
                yield error(f"{a(el.kind)} is not placed at a coordinate", el.placement.span,
                            f"place it at a cell or in an area, or put a dot there: "
                            f"dot p at (2, 4) on {el.placement.on.name}", "bad-placement")
            else:
                yield from _placement_diagnostics(el, section)
            if el.endpoints is not None and not spec.ends:
                for end in el.endpoints.refs:
                    cell = endpoint_cell(end, section)
                    if cell is None:
                        yield from _reference(end, section, element_only=True)
                    else:
                        yield from _cell_diagnostics(cell)
            if el.texts:
                yield from _text_diagnostics(el.texts[0], spec, ctx, value_names(section))
            yield from shape_diagnostics(el, section)


def _target_words(spec: KindSpec) -> str:
    """What a kind is drawn on, in words: 'axes'; 'polygon or its lines'."""
    return (" or ".join(spec.on) or "target") + (" or its lines" if spec.ends else "")


def _argument_diagnostics(el: m.Element, spec: KindSpec) -> Iterator[Diagnostic]:
    """Its strings, points, `from … to …` and a value's `= …`."""
    yield from _count_diagnostic(el, "string", len(el.texts), spec.texts, spec.example)
    yield from _initial_diagnostics(el, spec)
    moving_points = [arg for arg in el.args if isinstance(arg, m.MovingPoint)]
    for moving in moving_points:
        yield error(f"the points of {a(el.kind)} are numbers: `{el.id}` cannot move by its points",
                    moving.span, "give moving ends with `from … to …` (`line l from (x0, 0) to (x0, f(x0)) "
                    "on ax`), or place it `at (x0, f(x0)) on ax`", "bad-args")
    points = len(el.points) + len(moving_points)
    if el.endpoints is not None and not spec.endpoints:
        yield error(f"{a(el.kind)} takes no `from … to …`", el.endpoints.span,
                    f"for example: {spec.example}", "bad-args")
    if spec.endpoints:  # two points, or `from … to …`
        if el.endpoints is None and points != 2:
            yield error(f"{a(el.kind)} needs two points or `from … to …`", el.id_span,
                        f"for example: {spec.example} — or: {el.kind} {el.id} (0,0) (2,1)",
                        "bad-args")
        if el.endpoints is not None and points:
            yield error(f"{a(el.kind)} takes either points or `from … to …`, not both",
                        el.points[0].span, None, "bad-args")
    elif spec.coordinates != PLACE:  # a dot given points: coordinates.usage_diagnostics says how
        yield from _count_diagnostic(el, "point", points, spec.points, spec.example)


def _initial_diagnostics(el: m.Element, spec: KindSpec) -> Iterator[Diagnostic]:
    """`value x0 = 1`: a value has exactly one `= …`; nothing else has one."""
    initials = [arg for arg in el.args if isinstance(arg, m.Initial)]
    example = next(s.example for s in KINDS.values() if s.initial)
    if not spec.initial:
        for extra in initials:
            yield error(f"{a(el.kind)} takes no `= …`", extra.span,
                        f"only a value has a start or an expression: {example}", "bad-args")
        return
    if not initials:
        yield error(f"the value '{el.id}' needs a start or an expression", el.id_span,
                    f'write `= 1` (a start that steps change) or `= "2 x0"` (it follows x0): {example}',
                    "bad-args")
    for extra in initials[1:]:
        yield error(f"the value '{el.id}' has two `= …`", extra.span, "keep one of them", "bad-args")


def _target_diagnostics(el: m.Element, spec: KindSpec, section: m.Section) -> Iterator[Diagnostic]:
    """`on X`: only kinds drawn on another element take it, and X must be of a kind they go on."""
    if spec.coordinates:
        yield from _coordinate_target(el, spec, section)
        return
    if el.target is not None and not spec.on:
        yield error(f"{a(el.kind)} is not drawn `on` another element", el.target.span,
                    f"for example: {spec.example}", "bad-args")
    if not spec.on:
        return
    if el.target is None:
        yield error(f"{a(el.kind)} needs the {_target_words(spec)} it is drawn on", el.id_span,
                    f"for example: {spec.example}", "bad-args")
        return
    target = section.element(el.target.name)
    if target is None:
        yield from _reference(el.target, section, element_only=True)
    elif target.kind not in spec.on:
        wanted = " or ".join(a(k) for k in spec.on)
        examples = "; ".join(KINDS[k].example for k in spec.on if k in KINDS)
        yield error(f"'{el.target.name}' is {a(target.kind)}, not {wanted}", el.target.span,
                    f"{el.kind}s are drawn on {wanted}: {examples}", "bad-target")


def _between_diagnostics(el: m.Element, spec: KindSpec, section: m.Section) -> Iterator[Diagnostic]:
    """A kind drawn `on` one element or `from` one `to` another of its `ends` kinds: an angle at
    a polygon's corner, or between two lines."""
    yield from _count_diagnostic(el, "string", len(el.texts), spec.texts, spec.example)
    yield from _count_diagnostic(el, "point", len(el.points), spec.points, spec.example)
    ends, line = el.endpoints, spec.ends[0].upper()
    forms = f"`on {' or '.join(spec.on).upper()}` or `from {line} to {line}`"
    if ends is None:
        if el.target is None:
            yield error(f"{a(el.kind)} needs {forms}", el.id_span, f"for example: {spec.example}", "bad-args")
        else:
            yield from _target_diagnostics(el, spec, section)
        return
    if el.target is not None:
        yield error(f"{a(el.kind)} takes {forms}, not both", el.target.span, f"for example: {spec.example}",
                    "bad-args")
    for end in (ends.start, ends.end):
        if not isinstance(end, m.Ref):
            yield error(f"{a(el.kind)} is drawn between two elements, not coordinates", end.span,
                        f"name two lines: {el.kind} {el.id} from l1 to l2", "bad-args")
            continue
        other = section.element(end.name)
        if other is None:
            yield from _reference(end, section, element_only=True)
        elif other.kind not in spec.ends:
            yield error(f"'{end.name}' is {a(other.kind)}, not {' or '.join(a(k) for k in spec.ends)}",
                        end.span, f"{a(el.kind)} between two lines: {el.kind} {el.id} from l1 to l2",
                        "bad-target")
    if isinstance(ends.start, m.Ref) and isinstance(ends.end, m.Ref) and ends.start.name == ends.end.name:
        yield error(f"{a(el.kind)} from '{ends.start.name}' to itself", ends.span,
                    "name two different lines", "bad-args")


def _coordinate_target(el: m.Element, spec: KindSpec, section: m.Section) -> Iterator[Diagnostic]:
    """Kinds that may be given in coordinates: `at (2, 4) on ax`, points `on ax`, `on f`."""
    yield from coordinates.usage_diagnostics(el, spec, section)
    if el.target is None:
        return
    system = section.element(el.target.name)
    if system is None:
        yield from _reference(el.target, section, element_only=True)
    else:
        yield from coordinates.target_diagnostics(el, spec, system, section)


def _coordinate_system(el: m.Element | None, section: m.Section) -> str | None:
    """The id of the axes, plane, number line or plot whose coordinates place an element."""
    on = el.drawn_on if el is not None else None
    system = section.element(on.name) if on is not None else None
    spec = KINDS.get(system.kind) if system is not None else None
    return on.name if on is not None and spec is not None and spec.dimensions else None


def _row_diagnostics(el: m.Element, spec: KindSpec) -> Iterator[Diagnostic]:
    """Indented rows, and the content a kind cannot do without."""
    if el.rows and not spec.rows:
        yield error(f"{a(el.kind)} takes no indented rows", el.rows[0][0].span,
                    f"for example: {spec.example}", "bad-args")
    if spec.rows == "items" and any(len(r) != 1 for r in el.rows):
        bad = next(r for r in el.rows if len(r) != 1)
        yield error(f"each row of a {el.kind} is one string", bad[1].span,
                    "put each item on its own line", "bad-args")
    has_strings = bool(el.texts) and spec.texts[1] > 0  # strings it does not take are no content
    if spec.empty_error and not el.rows and not has_strings:
        yield error(spec.empty_error, el.id_span, spec.empty_hint or f"for example: {spec.example}",
                    "bad-args")
    if spec.rows == "table" and el.rows and len({len(r) for r in el.rows}) > 1:
        counts = [len(r) for r in el.rows]
        bad = next(r for r in el.rows if len(r) != counts[0])
        yield error(f"this row has {len(bad)} cell{'s' if len(bad) != 1 else ''}, the first row has "
                    f"{counts[0]}",
                    bad[0].span, "give every row the same number of strings", "ragged-table")


def _text_diagnostics(text: m.Text, spec: KindSpec, ctx: Context,
                      values: frozenset[str] = frozenset()) -> Iterator[Diagnostic]:
    """Inside the string, for kinds whose string is more than text (a plot's function may read
    the section's `values`)."""
    if spec.text_is == EXPRESSION:
        yield from _expression_diagnostics(text, values)
    elif spec.text_is == FILE_PATH:
        yield from _image_diagnostics(text, ctx)
    elif spec.text_is == LATEX:
        yield from tex_diagnostics(text)
        if "\n" in text.value or "\t" in text.value:
            yield warning("this formula contains a line break", text.span,
                          "in \"…\" strings \\n is a line break (\\nabla, \\neq…): write LaTeX "
                          "between $…$, where backslashes stay as written", "math-escape")


def _image_diagnostics(path_text: m.Text, ctx: Context) -> Iterator[Diagnostic]:
    if ctx.base_dir is None:
        return
    path = (ctx.base_dir / path_text.value)
    if not path_text.value.strip():
        yield error("the image path is empty", path_text.span, None, "missing-image")
    elif not path.is_file():
        near = None
        parent = path.parent
        if parent.is_dir():
            near = did_you_mean(path.name, [p.name for p in parent.iterdir()])
        yield error(f"image file '{path_text.value}' does not exist", path_text.span,
                    near or "paths are relative to the lesson file's folder", "missing-image")


@check_function
def parts(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    """Parts (`t[2, 3]`), restyling and frames: compiler.part_checks."""
    yield from part_diagnostics(lesson)


@check_function
def groups(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    """Groups' members and places: compiler.group_checks (their timeline is below)."""
    yield from group_diagnostics(lesson)


@check_function
def motion(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    """Values and motion: expressions of values, cycles, `change`, paths, ranges over the steps:
    compiler.motion_checks."""
    yield from motion_diagnostics(lesson)


@check_function
def style(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    """The style guide's mechanical rules (mixed label styles, ids in the narration):
    compiler.style_checks."""
    yield from style_diagnostics(lesson)


# ------------------------------------------------------------------ relations

@check_function
def relation_cycles(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    for section in lesson.sections:
        edges: dict[str, str] = {}
        spans: dict[str, Span] = {}
        for el in section.elements:
            # Placed relative to itself is reported once, as relation-self.
            if isinstance(el.placement, m.Relative) and el.placement.target.name != el.id:
                edges[el.id] = el.placement.target.name
                spans[el.id] = el.placement.span
        reported: set[str] = set()
        walked: set[str] = set()  # where earlier walks went: going on from there finds nothing new
        for start in edges:
            if start in walked:
                continue
            path = [start]
            on_path = {start}
            node = start
            while node in edges:
                node = edges[node]
                if node in walked:
                    break
                if node in on_path:
                    cycle = path[path.index(node):]
                    if not reported.intersection(cycle):
                        reported.update(cycle)
                        shown = " → ".join(cycle + [node])
                        first = min(cycle, key=lambda n: (spans[n].line, spans[n].column))
                        yield error(f"these placements form a cycle: {shown}", spans[first],
                                    "anchor one of them to the grid, e.g. `at C3`", "relation-cycle")
                    break
                path.append(node)
                on_path.add(node)
            walked.update(path)


# ------------------------------------------------------------------ timeline

@check_function
def timeline(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    for section in lesson.sections:
        visible: set[str] = set()
        gone: dict[str, Span] = {}
        shown_ever: set[str] = set()
        index = GroupIndex.of(section)
        total = 0.0
        for step in section.steps:
            if step.duration is not None and step.duration <= 0:
                yield error("a step must last longer than 0 s", step.duration_span or step.span,
                            "write a duration such as 1s or 500ms", "bad-duration")
            total += step.seconds
            for action in step.actions:
                yield from _action(action, section, visible, gone, shown_ever, index)
                _follow_groups(index, action, visible, gone, shown_ever)
            yield from step_conflicts(step, section)  # two actions on one element (step_order)
        if section.duration is not None:
            if section.duration <= 0:
                yield error("a section's duration must be positive", section.span, None, "bad-duration")
            elif total > section.duration + 1e-9:
                yield warning(f"the steps of section '{section.id}' last {total:g} s, more than the "
                              f"declared {section.duration:g} s", section.span,
                              "shorten some steps or raise the section's duration", "section-too-long")
        if not section.steps:
            yield warning(f"section '{section.id}' has no steps, so it shows nothing", section.id_span,
                          "add a step, e.g. step 2s: create …", "no-steps")
        for el in section.elements:
            spec = KINDS.get(el.kind)
            # a value need not be shown: it may only drive what follows it
            if el.id not in shown_ever and spec is not None and not spec.initial:
                yield warning(f"'{el.id}' is never shown", el.id_span,
                              f"add a step that shows it: step 1s: create {el.id}", "never-shown")


@check_function
def lines_reached(lesson: m.Lesson, ctx: Context) -> Iterator[Diagnostic]:
    """With `lines: progressive` a lecture line appears with the first step that says or
    highlights it or a later line; a line after the last one reached never appears."""
    if setting_choice(lesson, "lines") != "progressive":
        return
    for section in lesson.sections:
        order = [ln.id for ln in section.lines]
        reached = [order.index(ref.name) for step in section.steps for act in step.actions
                   if act.verb in ("say", "highlight") for ref in act.targets if ref.name in order]
        last = max(reached, default=-1)
        for ln in section.lines[last + 1:]:
            yield warning(f"lecture line '{ln.id}' never appears: no step says or highlights it "
                          "(or a line after it)", ln.id_span,
                          f'say it (`say {ln.id} "…"`) or highlight it in a step, or set `lines: all` '
                          "in the lesson's header", "line-never-shown")


def _follow_groups(index: GroupIndex, action: m.Action, visible: set[str], gone: dict[str, Span],
                   shown_ever: set[str]) -> None:
    """A group is on screen when all its members are, and gone when one of them goes."""
    if not index.leaves:
        return
    shown = index.shown(visible)
    for group in index.leaves:
        if group in shown:
            visible.add(group)
            shown_ever.add(group)
            gone.pop(group, None)
        elif group in visible:
            visible.discard(group)
            gone[group] = action.span


def _action(action: m.Action, section: m.Section, visible: set[str], gone: dict[str, Span],
            shown_ever: set[str], index: GroupIndex) -> Iterator[Diagnostic]:
    verb = action.verb
    if verb not in VERBS:
        hint = did_you_mean(verb, VERBS) or "actions: " + ", ".join(VERBS)
        if verb in ("fadein", "fade_in"):
            hint = "did you mean 'fade in'?"
        if verb in ("fadeout", "fade_out"):
            hint = "did you mean 'fade out'?"
        yield error(f"unknown action '{verb}'", action.verb_span, hint, "unknown-action")
        return
    if verb == "change":  # it changes values, not elements on screen: compiler.motion_checks
        return
    if verb in ("highlight", "say"):
        for ref in action.targets:
            if ref.part is None:  # a part (`highlight prog[line 3]`) is an element's: checked below
                yield from _reference(ref, section, line_only=True)
    action = expanded(action, section)  # a group shown, hidden or recoloured: each of its members
    targets = [ref for ref in action.targets if verb not in ("highlight", "say") or ref.part is not None]
    for ref in targets:
        bad = list(_reference(ref, section, element_only=True))
        if bad:
            yield from bad
            continue
        name = ref.name
        if verb in SHOWING_VERBS:
            if name in visible:
                yield error(f"'{name}' is already on screen", ref.span,
                            "it was shown by an earlier step; use `indicate` to draw attention to it",
                            "already-shown")
            el = section.element(name)
            spec = KINDS.get(el.kind) if el is not None else None
            if verb == "play" and el is not None and (spec is None or not spec.plays):
                players = " or ".join(f"{a(k)} element's" for k, s in KINDS.items() if s.plays)
                yield error(f"'{name}' is {a(el.kind)}; `play` runs {players} animation",
                            ref.span, f"use `create {name}`", "bad-action")
            if el is not None and spec is not None and spec.on and el.target is not None \
                    and el.target.name not in visible:
                drawn_on = section.element(el.target.name)
                words = drawn_on.kind if drawn_on is not None else _target_words(spec)
                yield error(f"the {el.kind} '{name}' is shown before its {words} '{el.target.name}'",
                            ref.span,
                            f"create {el.target.name} in this or an earlier step", "before-exists")
            on = _coordinate_system(el, section) if spec is not None and spec.coordinates else None
            if el is not None and on is not None and on not in visible:
                yield error(f"the {el.kind} '{name}' is shown before '{on}', whose coordinates place it",
                            ref.span, f"create {on} in this or an earlier step", "before-exists")
            if el is not None and spec is not None and spec.placement == AROUND \
                    and isinstance(el.placement, m.Relative) and el.placement.target.name not in visible:
                framed = el.placement.target.name  # (a frame: compiler/part_checks.py)
                yield error(f"the {el.kind} '{name}' is shown before '{framed}', which it goes around",
                            ref.span, f"show {framed} in this or an earlier step", "before-exists")
            visible.add(name)
            shown_ever.add(name)
            gone.pop(name, None)
            _follow_groups(index, action, visible, gone, shown_ever)  # (`create g, f`: f framing g)
            continue
        if name not in visible:
            if name in index.leaves:  # a group: which of its members is off screen
                yield from not_all_shown(ref, index, visible, gone)
            elif name in gone:
                yield error(f"'{name}' acts after it was removed (line {gone[name].line})", ref.span,
                            f"show it again first, e.g. fade in {name}", "after-removed")
            else:
                yield error(f"'{name}' is used before it is shown", ref.span,
                            f"show it in an earlier step: create {name}", "before-exists")
            continue
        if verb in HIDING_VERBS:
            visible.discard(name)
            gone[name] = action.span
    if verb == "transform" and action.into is not None:
        bad = list(_reference(action.into, section, element_only=True))
        if bad:
            yield from bad
            return
        if action.into.name in visible:
            yield error(f"'{action.into.name}' is already on screen", action.into.span,
                        "transform into an element that is not shown yet", "already-shown")
        for ref in targets:
            visible.discard(ref.name)
            gone[ref.name] = action.span
        visible.add(action.into.name)
        shown_ever.add(action.into.name)
        gone.pop(action.into.name, None)
    if verb == "move" and action.to is not None:
        fake = m.Element("text", "", placement=action.to)
        yield from _placement_diagnostics(fake, section)
