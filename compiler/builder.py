"""Lesson text -> lesson model (frozen dataclasses with spans and comments), built as the
parser reduces each rule.

The builder decodes literals and shapes statements. What can be told from one statement
alone (a cell name that is not a cell, a lecture line with a placement) is reported here;
everything that needs the whole lesson is in `checks`.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import textwrap
from typing import Any

from . import model as m
from .diagnostics import Diagnostic
from .lalr import Function, Lexeme, Pos
from .layout import parse_cell_name
from .parser import Comment, gc_paused, parse, strip_comment
from .source import Source
from .span import Span

# The escapes of a "string": \" \\ and \n. Any other backslash stays, so LaTeX such as \frac survives.
_ESCAPE = re.compile(r'\\(["\\n])')
NUMBER_RE = re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?")  # the grammar's NUMBER


def decode_string(raw: str) -> str:
    """The value of a string literal as written in a lesson (with its quotes)."""
    if raw.startswith('"""'):
        return decode_block(raw[3:-3])
    if raw.startswith("$"):
        return raw[1:-1]
    body = raw[1:-1]
    if "\\" not in body:
        return body
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), body)


def decode_block(body: str) -> str:
    """A \"\"\"block\"\"\": raw text, its first line break dropped, common indentation removed,
    and a closing line of only white space removed."""
    if body.startswith("\n"):
        body = body[1:]
        body = textwrap.dedent(body)
    else:
        first, sep, rest = body.partition("\n")
        body = first + sep + textwrap.dedent(rest) if sep else first
    if "\n" in body and not body.rsplit("\n", 1)[1].strip():
        body = body.rsplit("\n", 1)[0]
    return body


def parse_duration(raw: str) -> float:
    if raw.endswith("ms"):
        return float(raw[:-2]) / 1000.0
    if raw.endswith("min"):
        return float(raw[:-3]) * 60.0
    return float(raw[:-1])


def parse_number(raw: str) -> int | float:
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return float(raw)


_ARG_TYPES = (m.Text, m.Point, m.MovingPoint, m.Endpoints, m.Target, m.Members, m.Initial)  # model.Arg


class _Builder:
    """Bottom-up construction: the parser calls the method named after each grammar rule (or
    its alias) with the rule's children and its extent, the start of its first token and the
    end of its last (see lalr.py). Statement nodes are built without comments;
    `attach_comments` adds them afterwards, by line."""

    def __init__(self, src: Source) -> None:
        self.file = src.name
        self.source_text = src.text
        self.lines = src.lines  # offsets -> (line, column), for spans that end before their token
        self.diagnostics: list[Diagnostic] = []
        self._value_span: Span = m.NO_SPAN

    def functions(self) -> dict[str, Function]:
        """The rule functions, by rule name, for the parser."""
        return {name: getattr(self, name) for name in _RULES}

    # -------------------------------------------------------------- helpers
    def span(self, start: Pos | None, end: Pos | None) -> Span:
        """A rule's span: from its first token to its last character of code."""
        if start is None or end is None:
            return m.NO_SPAN
        start_pos, line, column = start
        end_pos, end_line, end_column = end
        content_end = self._content_end(start_pos, end_pos)
        if content_end == end_pos:
            return Span(self.file, line, column, end_line, end_column, start_pos, end_pos)
        end_line, end_column = self.lines.line_column(content_end)
        return Span(self.file, line, column, end_line, end_column, start_pos, content_end)

    def token_span(self, token: Lexeme) -> Span:
        (start_pos, line, column), (end_pos, end_line, end_column) = token.start, token.end
        return Span(self.file, line, column, end_line, end_column, start_pos, end_pos)

    def _content_end(self, start: int, end: int) -> int:
        """A statement ends with its newline token, which also holds the blank and comment
        lines after it: its span stops at its last character of code instead."""
        text = self.source_text
        if not text or end > len(text):
            return end
        while end > start:
            newline = text.rfind("\n", start, end)
            line_start = newline + 1 if newline >= 0 else start
            line = text[line_start:end]
            code = strip_comment(line) if "#" in line else line.rstrip(" \t\f")
            if code.strip():
                return line_start + len(code)
            if line_start <= start:
                return end
            end = line_start - 1  # drop this blank or comment line and its line break
        return end

    def error(self, message: str, span: Span, hint: str | None = None, code: str = "") -> None:
        self.diagnostics.append(Diagnostic("error", message, span, hint, code))

    def cell(self, token: Lexeme) -> m.Cell:
        span = self.token_span(token)
        cell = parse_cell_name(token.text, span)
        if cell is None:
            self.error(f"'{token.text}' is not a cell of the anchor grid", span,
                       f"cells are a row A-F and a column 1-6, such as B2; to place beside "
                       f"an element write `next to {token.text}`", "bad-cell")
            return m.Cell("?", 0, span)
        return cell

    # -------------------------------------------------------------- values
    def text(self, children: list, start: Pos | None, end: Pos | None) -> m.Text:
        token = children[0]
        return m.Text(decode_string(token.text), self.token_span(token))

    def point(self, children: list, start: Pos | None, end: Pos | None) -> m.Point | m.MovingPoint:
        x, y = (self._coordinate(token) for token in children)
        span = self.span(start, end)
        if isinstance(x, m.Expr) or isinstance(y, m.Expr):
            return m.MovingPoint(x, y, span)
        return m.Point(x, y, span)

    def _coordinate(self, token: Lexeme) -> int | float | m.Expr:
        """One coordinate of a point: a number, or an expression of values (its span without
        the spaces around it)."""
        text = token.text
        body = text.strip()
        if NUMBER_RE.fullmatch(body):
            return parse_number(body)
        span = self.token_span(token)
        lead = len(text) - len(text.lstrip())
        start = span.start_pos + lead
        line, column = self.lines.line_column(start)
        end_line, end_column = self.lines.line_column(start + len(body))
        return m.Expr(body, Span(self.file, line, column, end_line, end_column, start, start + len(body)))

    def initial(self, children: list, start: Pos | None, end: Pos | None) -> m.Initial:
        value = children[0]
        span = self.span(start, end)
        if isinstance(value, m.Text):
            return m.Initial(value, span)
        return m.Initial(parse_number(value.text), span)

    def scalar(self, children: list, start: Pos | None, end: Pos | None) -> m.Scalar:
        return m.Scalar(parse_number(children[0].text), self.token_span(children[0]))

    def ref(self, children: list, start: Pos | None, end: Pos | None) -> m.Ref:
        name, part = children
        if part is None:
            return m.Ref(name.text, self.token_span(name))
        return m.Ref(name.text, self.span(start, end), part)

    # -------------------------------------------------------------- parts (`t[2, 3]`)
    def _index(self, token: Lexeme) -> int:
        """A part's number: a whole number from 1 (anything else is reported, and read as 1)."""
        value = parse_number(token.text)
        if isinstance(value, int) and value >= 1:
            return value
        self.error(f"'{token.text}' is not a part number", self.token_span(token),
                   "parts are counted from 1: t[2, 3] is row 2, column 3; steps[1] the first item",
                   "bad-part")
        return 1

    def term_part(self, children: list, start: Pos | None, end: Pos | None) -> m.Part:
        text = children[0]
        if not text.value.strip():
            self.error("a term needs its TeX", text.span, "write the term as it is in the formula: eq[$b^2$]",
                       "bad-part")
        return m.Part("term", term=text.value, span=self.span(start, end))

    def item_part(self, children: list, start: Pos | None, end: Pos | None) -> m.Part:
        return m.Part("item", numbers=(self._index(children[0]),), span=self.span(start, end))

    def cell_part(self, children: list, start: Pos | None, end: Pos | None) -> m.Part:
        return m.Part("cell", numbers=(self._index(children[0]), self._index(children[1])),
                      span=self.span(start, end))

    def row_part(self, children: list, start: Pos | None, end: Pos | None) -> m.Part:
        return m.Part("row", numbers=(self._index(children[0]),), span=self.span(start, end))

    def column_part(self, children: list, start: Pos | None, end: Pos | None) -> m.Part:
        return m.Part("column", numbers=(self._index(children[0]),), span=self.span(start, end))

    def line_part(self, children: list, start: Pos | None, end: Pos | None) -> m.Part:
        return m.Part("line", numbers=(self._index(children[0]),), span=self.span(start, end))

    def refs(self, children: list, start: Pos | None, end: Pos | None) -> list:
        return children

    def endpoints(self, children: list, start: Pos | None, end: Pos | None) -> m.Endpoints:
        return m.Endpoints(children[0], children[1], self.span(start, end))

    def target(self, children: list, start: Pos | None, end: Pos | None) -> m.Target:
        return m.Target(children[0], self.span(start, end))

    def members(self, children: list, start: Pos | None, end: Pos | None) -> m.Members:
        return m.Members(tuple(children[0]), self.span(start, end))

    # A value is the last child of its option or setting, so the span of the value just
    # built is the one those two take as their value_span.
    def _value(self, children: list, value: Any) -> Any:
        first, last = children[0], children[-1]
        (start_pos, line, column), (end_pos, end_line, end_column) = first.start, last.end
        self._value_span = Span(self.file, line, column, end_line, end_column, start_pos, end_pos)
        return value

    def number(self, children: list, start: Pos | None, end: Pos | None) -> Any:
        return self._value(children, parse_number(children[0].text))

    def word(self, children: list, start: Pos | None, end: Pos | None) -> Any:
        return self._value(children, m.Word(children[0].text))

    def color(self, children: list, start: Pos | None, end: Pos | None) -> Any:
        return self._value(children, m.Color(children[0].text.lower()))

    def size(self, children: list, start: Pos | None, end: Pos | None) -> Any:
        return self._value(children, children[0].text)

    def range(self, children: list, start: Pos | None, end: Pos | None) -> Any:
        low, high = (self._bound(token) for token in children)
        if isinstance(low, str) or isinstance(high, str):
            return self._value(children, m.ValueRange(low, high))
        return self._value(children, m.Range(low, high))

    @staticmethod
    def _bound(token: Lexeme) -> int | float | str:
        """A range's bound: a number, or the name of a value (`x=0..x0`)."""
        return parse_number(token.text) if NUMBER_RE.fullmatch(token.text) else token.text

    def option(self, children: list, start: Pos | None, end: Pos | None) -> m.Option:
        key, value = children
        value_span = value.span if isinstance(value, m.Text) else self._value_span
        if isinstance(value, m.Text):
            value = value.value
        return m.Option(key.text, value, self.span(start, end), value_span)

    # -------------------------------------------------------------- placements
    def at(self, children: list, start: Pos | None, end: Pos | None) -> m.At:
        return m.At(self.cell(children[0]), self.span(start, end))

    def within(self, children: list, start: Pos | None, end: Pos | None) -> m.In:
        return m.In(self.cell(children[0]), self.cell(children[1]), self.span(start, end))

    def below(self, children: list, start: Pos | None, end: Pos | None) -> m.Relative:
        return m.Relative("below", children[0], self.span(start, end))

    def above(self, children: list, start: Pos | None, end: Pos | None) -> m.Relative:
        return m.Relative("above", children[0], self.span(start, end))

    def left_of(self, children: list, start: Pos | None, end: Pos | None) -> m.Relative:
        return m.Relative("left of", children[0], self.span(start, end))

    def right_of(self, children: list, start: Pos | None, end: Pos | None) -> m.Relative:
        return m.Relative("right of", children[0], self.span(start, end))

    def next_to(self, children: list, start: Pos | None, end: Pos | None) -> m.Relative:
        return m.Relative("next to", children[0], self.span(start, end))

    def around(self, children: list, start: Pos | None, end: Pos | None) -> m.Relative:
        return m.Relative("around", children[0], self.span(start, end))

    def auto(self, children: list, start: Pos | None, end: Pos | None) -> m.Auto:
        return m.Auto(self.span(start, end))

    def at_coordinate(self, children: list, start: Pos | None, end: Pos | None) -> m.AtCoordinate:
        return m.AtCoordinate(children[0], children[1], None, self.span(start, end))

    def below_coordinate(self, children: list, start: Pos | None, end: Pos | None) -> m.AtCoordinate:
        return m.AtCoordinate(children[0], children[1], "below", self.span(start, end))

    def above_coordinate(self, children: list, start: Pos | None, end: Pos | None) -> m.AtCoordinate:
        return m.AtCoordinate(children[0], children[1], "above", self.span(start, end))

    def left_of_coordinate(self, children: list, start: Pos | None, end: Pos | None) -> m.AtCoordinate:
        return m.AtCoordinate(children[0], children[1], "left of", self.span(start, end))

    def right_of_coordinate(self, children: list, start: Pos | None, end: Pos | None) -> m.AtCoordinate:
        return m.AtCoordinate(children[0], children[1], "right of", self.span(start, end))

    # -------------------------------------------------------------- actions
    def say(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        name, text = children
        targets = (m.Ref(name.text, self.token_span(name)),) if name is not None else ()
        span = self.span(start, end)
        return m.Action("say", targets, text=text, span=span, verb_span=span)

    def fade_in(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        span = self.span(start, end)
        return m.Action("fade in", tuple(children[0]), span=span, verb_span=span)

    def fade_out(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        span = self.span(start, end)
        return m.Action("fade out", tuple(children[0]), span=span, verb_span=span)

    def morph(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        span = self.span(start, end)
        return m.Action("transform", (children[0],), into=children[1], span=span, verb_span=span)

    def move(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        span = self.span(start, end)
        return m.Action("move", tuple(children[0]), to=children[1], span=span, verb_span=span)

    def recolor(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        targets, paint = children
        return self._restyle("color", targets, start, end, value=paint)

    def rescale(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        return self._restyle("scale", children[0], start, end, value=parse_number(children[1].text))

    def rotate(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        targets, degrees, about, *options = children
        return self._restyle("rotate", targets, start, end, value=parse_number(degrees.text), about=about,
                             options=tuple(options))

    def _restyle(self, verb: str, targets: list, start: Pos | None, end: Pos | None, *,
                 value: m.OptionValue, about: m.Ref | None = None,
                 options: tuple[m.Option, ...] = ()) -> m.Action:
        span = self.span(start, end)
        return m.Action(verb, tuple(targets), value=value, about=about, options=options, span=span,
                        verb_span=span)

    def numbers(self, children: list, start: Pos | None, end: Pos | None) -> tuple[int | float, ...]:
        return tuple(parse_number(token.text) for token in children)

    def change(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        targets, values, *options = children
        span = self.span(start, end)
        return m.Action("change", tuple(targets), values=values, options=tuple(options), span=span,
                        verb_span=span)

    def move_along(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        targets, path, *options = children
        span = self.span(start, end)
        return m.Action("move", tuple(targets), along=path, options=tuple(options), span=span,
                        verb_span=span)

    def verb(self, children: list, start: Pos | None, end: Pos | None) -> m.Action:
        name, targets = children
        return m.Action(name.text, tuple(targets), span=self.span(start, end),
                        verb_span=self.token_span(name))

    def actions(self, children: list, start: Pos | None, end: Pos | None) -> list:
        return children

    # -------------------------------------------------------------- statements
    def _step(self, duration: Lexeme | None, actions: tuple, start: Pos | None,
              end: Pos | None) -> m.Step:
        return m.Step(parse_duration(duration.text) if duration is not None else None,
                      actions, span=self.span(start, end),
                      duration_span=self.token_span(duration) if duration is not None else m.NO_SPAN)

    def step_inline(self, children: list, start: Pos | None, end: Pos | None) -> m.Step:
        duration, actions = children
        return self._step(duration, tuple(actions), start, end)

    def step_block(self, children: list, start: Pos | None, end: Pos | None) -> m.Step:
        duration, *groups = children
        return self._step(duration, tuple(a for group in groups for a in group), start, end)

    def wait(self, children: list, start: Pos | None, end: Pos | None) -> m.Step:
        duration = children[0]
        return m.Step(parse_duration(duration.text), (), is_wait=True, span=self.span(start, end),
                      duration_span=self.token_span(duration))

    def row(self, children: list, start: Pos | None, end: Pos | None) -> tuple:
        return tuple(children)

    def element(self, children: list, start: Pos | None, end: Pos | None) -> m.Element | m.LectureLine:
        kind, ident, *rest = children
        rows = tuple(c for c in rest if isinstance(c, tuple))
        options = tuple(c for c in rest if isinstance(c, m.Option))
        placements = [c for c in rest if isinstance(c, m.At | m.In | m.Relative | m.Auto | m.AtCoordinate)]
        placement = placements[0] if placements else None
        for extra in placements[1:]:
            self.error("an element has one placement", extra.span,
                       "keep one of them; it is already placed by the first", "two-placements")
        args = tuple(c for c in rest if isinstance(c, _ARG_TYPES))
        span = self.span(start, end)
        if kind.text == "line" and self._is_lecture_line(args, rows):
            text = next(a for a in args if isinstance(a, m.Text))
            others = [a for a in args if a is not text]
            if len(others) or placement is not None or options or rows:
                where = (others[0].span if others else placement.span if placement is not None
                         else options[0].span if options else span)
                self.error("a lecture line takes only an id and its sentence", where,
                           'lecture lines sit in the left panel: line l1 "One sentence." — for a '
                           "drawn line give two points or `from A1 to C3`", "line-extra")
            return m.LectureLine(ident.text, text, span=span, id_span=self.token_span(ident))
        return m.Element(kind.text, ident.text, args, placement, options, rows, span=span,
                         kind_span=self.token_span(kind), id_span=self.token_span(ident))

    @staticmethod
    def _is_lecture_line(args: tuple, rows: tuple) -> bool:
        has_geometry = any(isinstance(a, m.Point | m.MovingPoint | m.Endpoints) for a in args)
        return not has_geometry and any(isinstance(a, m.Text) for a in args)

    def setting(self, children: list, start: Pos | None, end: Pos | None) -> m.Setting:
        key, value = children
        value_span = value.span if isinstance(value, m.Text) else self._value_span
        if isinstance(value, m.Text):
            value = value.value
        return m.Setting(key.text, value, span=self.span(start, end), value_span=value_span)

    def section(self, children: list, start: Pos | None, end: Pos | None) -> m.Section:
        ident, title, duration, *statements = children
        lines = tuple(s for s in statements if isinstance(s, m.LectureLine))
        elements = tuple(s for s in statements if isinstance(s, m.Element))
        steps = tuple(s for s in statements if isinstance(s, m.Step))
        return m.Section(ident.text, title,
                         parse_duration(duration.text) if duration is not None else None,
                         lines, elements, steps, span=self.span(start, end),
                         id_span=self.token_span(ident))

    def lesson(self, children: list, start: Pos | None, end: Pos | None) -> tuple:
        title, *settings = children
        return ("lesson", title, tuple(s for s in settings if s is not None), self.span(start, end))

    def start(self, children: list, start: Pos | None, end: Pos | None) -> tuple:
        header, *sections = children
        return header, [s for s in sections if s is not None]


# Every rule (or alias) of grammar/lecture.lark that builds a value; `?rules` with one
# child pass it on, and the `__generated` lists of `x*` and `x+` are spliced into their rule.
_RULES = ("text", "point", "scalar", "ref", "refs", "term_part", "item_part", "cell_part", "row_part",
          "column_part", "line_part", "endpoints", "target", "members", "initial", "numbers", "change",
          "move_along", "number", "word", "color", "size",
          "range", "option", "at", "within", "below", "above", "left_of", "right_of", "next_to",
          "around", "auto", "at_coordinate", "below_coordinate", "above_coordinate",
          "left_of_coordinate", "right_of_coordinate", "say", "fade_in", "fade_out", "morph", "move",
          "recolor",
          "rescale", "rotate", "verb", "actions", "step_inline", "step_block", "wait", "row", "element",
          "setting", "section", "lesson", "start")


# ------------------------------------------------------------------ comments

def _statements(lesson: m.Lesson) -> list[tuple[int, int, Any]]:
    """Every node that can carry comments, with (line, depth), in document order."""
    out: list[tuple[int, int, Any]] = [(lesson.span.line, 0, lesson)]
    out += [(s.span.line, 1, s) for s in lesson.settings]
    for section in lesson.sections:
        out.append((section.span.line, 0, section))
        nodes: tuple[m.LectureLine | m.Element | m.Step, ...] = (
            *section.lines, *section.elements, *section.steps)
        out += [(node.span.line, 1, node) for node in nodes]
        for step in section.steps:
            if step.actions and step.actions[0].span.line != step.span.line:
                out += [(a.span.line, 2, a) for a in step.actions]
    out.sort(key=lambda t: (t[0], t[1]))
    return out


def attach_comments(lesson: m.Lesson, comments: list[Comment]) -> m.Lesson:
    """Give each statement the whole-line comments above it and the comment at its line's
    end; comments after the last statement become the lesson's trailing comments."""
    statements = _statements(lesson)
    before: dict[int, list[str]] = {}
    after: dict[int, str] = {}
    trailing: list[str] = []
    lines = [line for line, _, _ in statements]
    for c in comments:  # `lines` is sorted: binary search keeps long lessons linear
        if c.whole_line:
            idx = bisect.bisect_right(lines, c.line)
            if idx == len(lines):
                trailing.append(c.text)
            else:
                before.setdefault(id(statements[idx][2]), []).append(c.text)
        else:
            end = bisect.bisect_right(lines, c.line)
            if end == 0:
                trailing.append(c.text)
                continue
            idx = bisect.bisect_left(lines, lines[end - 1])
            key = id(statements[idx][2])
            after[key] = (after[key] + " #" + c.text) if key in after else c.text

    def with_comments(original: Any, node: Any = None) -> Any:
        node = original if node is None else node
        key = id(original)
        if key not in before and key not in after:
            return node
        return dataclasses.replace(node, comments=m.Comments(tuple(before.get(key, ())), after.get(key)))

    sections = []
    for section in lesson.sections:
        steps = tuple(
            with_comments(step, _replaced(step, actions=tuple(with_comments(a) for a in step.actions)))
            for step in section.steps)
        sections.append(with_comments(section, _replaced(
            section,
            lines=tuple(with_comments(n) for n in section.lines),
            elements=tuple(with_comments(n) for n in section.elements),
            steps=steps)))
    settings = tuple(with_comments(s) for s in lesson.settings)
    return with_comments(lesson, _replaced(
        lesson, settings=settings, sections=tuple(sections), trailing_comments=tuple(trailing)))


def _replaced(node: Any, **fields: tuple) -> Any:
    """`node` with these tuple fields, or `node` itself where each holds the same nodes
    already (most statements have no comments, and copying each one costs)."""
    for name, new in fields.items():
        old = getattr(node, name)
        if len(old) != len(new) or any(a is not b for a, b in zip(old, new, strict=True)):
            return dataclasses.replace(node, **fields)
    return node


def build(src: Source) -> tuple[m.Lesson, list[Diagnostic]]:
    """Parse a lesson's text and build its model (raises DiagnosticError on a syntax error);
    the diagnostics are what the builder found wrong in single statements."""
    builder = _Builder(src)
    with gc_paused():
        (header, sections), comments = parse(src, builder.functions())
        if header is None:
            title, settings, span = m.Text(""), (), Span.point(src.name, 1, 1)
            builder.error("the lesson has no header", span,
                          'start the file with: lesson "Title of the lesson"', "no-header")
        else:
            _, title, settings, span = header
        lesson = m.Lesson(title, settings, tuple(sections), file=src.name, span=span)
        return attach_comments(lesson, comments), builder.diagnostics
