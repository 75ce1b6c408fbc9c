"""Lark parse tree -> lesson model (frozen dataclasses with spans and comments).

The builder decodes literals and shapes statements. What can be told from one statement
alone (a cell name that is not a cell, a lecture line with a placement) is reported here;
everything that needs the whole lesson is in `checks`.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import textwrap
from functools import cached_property
from typing import Any

from lark import Token, Transformer, Tree, v_args

from . import model as m
from .diagnostics import Diagnostic
from .parser import Comment, gc_paused, strip_comment
from .source import LineIndex
from .span import Span

CELL_RE = re.compile(r"^([A-Za-z])(\d+)$")


def decode_string(raw: str) -> str:
    """The value of a string literal as written in a lesson (with its quotes)."""
    if raw.startswith('"""'):
        return decode_block(raw[3:-3])
    if raw.startswith("$"):
        return raw[1:-1]
    body = raw[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in '"\\':
                out.append(nxt)
                i += 2
                continue
            if nxt == "n":
                out.append("\n")
                i += 2
                continue
            # Any other backslash stays as written, so LaTeX such as \frac survives.
        out.append(ch)
        i += 1
    return "".join(out)


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


class _Builder(Transformer):
    """Bottom-up construction. Statement nodes are built without comments; `attach_comments`
    adds them afterwards, by line."""

    def __init__(self, file: str, text: str = "") -> None:
        super().__init__(visit_tokens=False)
        self.file = file
        self.source_text = text
        self.diagnostics: list[Diagnostic] = []
        self._value_span: Span = m.NO_SPAN
        # Lark makes a new `v_args` wrapper (functools.update_wrapper) at every attribute
        # look-up, once per node: binding each callback once makes long lessons ~30% faster.
        for name, attr in vars(_Builder).items():
            if hasattr(attr, "visit_wrapper"):
                setattr(self, name, getattr(self, name))

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex.of(self.source_text)

    # -------------------------------------------------------------- helpers
    def span(self, item: Any) -> Span:
        if isinstance(item, Token):
            end_line = item.end_line or item.line or 0
            end_col = item.end_column or (item.column or 0) + len(item)
            return Span(self.file, item.line or 0, item.column or 0, end_line, end_col,
                        item.start_pos or 0, item.end_pos or 0)
        meta = item.meta if isinstance(item, Tree) else item
        if getattr(meta, "empty", True):
            return m.NO_SPAN
        end = self._content_end(meta.start_pos, meta.end_pos)
        if end == meta.end_pos:
            return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column,
                        meta.start_pos, meta.end_pos)
        end_line, end_column = self.lines.line_column(end)
        return Span(self.file, meta.line, meta.column, end_line, end_column, meta.start_pos, end)

    def _content_end(self, start: int, end: int) -> int:
        """A statement's tree ends with its newline token, which also holds the blank and
        comment lines after it: its span stops at its last character of code instead."""
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

    def cell(self, token: Token) -> m.Cell:
        span = self.span(token)
        match = CELL_RE.match(str(token))
        if not match:
            self.error(f"'{token}' is not a cell of the anchor grid", span,
                       f"cells are a row A-F and a column 1-6, such as B2; to place beside "
                       f"an element write `next to {token}`", "bad-cell")
            return m.Cell("?", 0, span)
        return m.Cell(match.group(1).upper(), int(match.group(2)), span)

    # -------------------------------------------------------------- values
    @v_args(meta=True)
    def text(self, meta, children):
        token = children[0]
        return m.Text(decode_string(str(token)), self.span(token))

    @v_args(meta=True)
    def point(self, meta, children):
        return m.Point(parse_number(str(children[0])), parse_number(str(children[1])), self.span(meta))

    @v_args(meta=True)
    def ref(self, meta, children):
        return m.Ref(str(children[0]), self.span(children[0]))

    def refs(self, children):
        return list(children)

    @v_args(meta=True)
    def endpoints(self, meta, children):
        return m.Endpoints(children[0], children[1], self.span(meta))

    @v_args(meta=True)
    def target(self, meta, children):
        return m.Target(children[0], self.span(meta))

    # A value is the last child of its option or setting, so the span of the value just
    # built is the one those two take as their value_span.
    def _value(self, children, value):
        first, last = self.span(children[0]), self.span(children[-1])
        self._value_span = Span(self.file, first.line, first.column, last.end_line, last.end_column,
                                first.start_pos, last.end_pos)
        return value

    def number(self, children):
        return self._value(children, parse_number(str(children[0])))

    def word(self, children):
        return self._value(children, m.Word(str(children[0])))

    def color(self, children):
        return self._value(children, m.Color(str(children[0]).lower()))

    def size(self, children):
        return self._value(children, str(children[0]))

    def range(self, children):
        return self._value(children, m.Range(parse_number(str(children[0])),
                                             parse_number(str(children[1]))))

    @v_args(meta=True)
    def option(self, meta, children):
        key, value = children
        value_span = value.span if isinstance(value, m.Text) else self._value_span
        if isinstance(value, m.Text):
            value = value.value
        return m.Option(str(key), value, self.span(meta), value_span)

    # -------------------------------------------------------------- placements
    @v_args(meta=True)
    def at(self, meta, children):
        return m.At(self.cell(children[0]), self.span(meta))

    @v_args(meta=True)
    def within(self, meta, children):
        return m.In(self.cell(children[0]), self.cell(children[1]), self.span(meta))

    def _relative(self, relation: str, meta, children):
        return m.Relative(relation, children[0], self.span(meta))

    @v_args(meta=True)
    def below(self, meta, children):
        return self._relative("below", meta, children)

    @v_args(meta=True)
    def above(self, meta, children):
        return self._relative("above", meta, children)

    @v_args(meta=True)
    def left_of(self, meta, children):
        return self._relative("left of", meta, children)

    @v_args(meta=True)
    def right_of(self, meta, children):
        return self._relative("right of", meta, children)

    @v_args(meta=True)
    def next_to(self, meta, children):
        return self._relative("next to", meta, children)

    @v_args(meta=True)
    def auto(self, meta, children):
        return m.Auto(self.span(meta))

    # -------------------------------------------------------------- actions
    @v_args(meta=True)
    def say(self, meta, children):
        name, text = children
        targets = (m.Ref(str(name), self.span(name)),) if name is not None else ()
        return m.Action("say", targets, text=text, span=self.span(meta), verb_span=self.span(meta))

    def _verb_span(self, meta, words: int) -> Span:
        span = self.span(meta)
        return span

    @v_args(meta=True)
    def fade_in(self, meta, children):
        return m.Action("fade in", tuple(children[0]), span=self.span(meta), verb_span=self.span(meta))

    @v_args(meta=True)
    def fade_out(self, meta, children):
        return m.Action("fade out", tuple(children[0]), span=self.span(meta), verb_span=self.span(meta))

    @v_args(meta=True)
    def morph(self, meta, children):
        return m.Action("transform", (children[0],), into=children[1], span=self.span(meta),
                        verb_span=self.span(meta))

    @v_args(meta=True)
    def move(self, meta, children):
        return m.Action("move", tuple(children[0]), to=children[1], span=self.span(meta),
                        verb_span=self.span(meta))

    @v_args(meta=True)
    def verb(self, meta, children):
        name, targets = children
        return m.Action(str(name), tuple(targets), span=self.span(meta), verb_span=self.span(name))

    def actions(self, children):
        return list(children)

    # -------------------------------------------------------------- statements
    @v_args(meta=True)
    def step_inline(self, meta, children):
        duration, actions = children
        return m.Step(parse_duration(str(duration)) if duration is not None else None,
                      tuple(actions), span=self.span(meta),
                      duration_span=self.span(duration) if duration is not None else m.NO_SPAN)

    @v_args(meta=True)
    def step_block(self, meta, children):
        duration, *groups = children
        actions = tuple(a for group in groups for a in group)
        return m.Step(parse_duration(str(duration)) if duration is not None else None,
                      actions, span=self.span(meta),
                      duration_span=self.span(duration) if duration is not None else m.NO_SPAN)

    @v_args(meta=True)
    def wait(self, meta, children):
        duration = children[0]
        return m.Step(parse_duration(str(duration)), (), is_wait=True, span=self.span(meta),
                      duration_span=self.span(duration))

    def row(self, children):
        return tuple(children)

    @v_args(meta=True)
    def element(self, meta, children):
        kind, ident, *rest = children
        rows = tuple(c for c in rest if isinstance(c, tuple))
        options = tuple(c for c in rest if isinstance(c, m.Option))
        placements = [c for c in rest if isinstance(c, m.At | m.In | m.Relative | m.Auto)]
        placement = placements[0] if placements else None
        for extra in placements[1:]:
            self.error("an element has one placement", extra.span,
                       "keep one of them; it is already placed by the first", "two-placements")
        args = tuple(c for c in rest if isinstance(c, m.Text | m.Point | m.Endpoints | m.Target))
        span = self.span(meta)
        kind_s = str(kind)
        if kind_s == "line" and self._is_lecture_line(args, rows):
            text = next(a for a in args if isinstance(a, m.Text))
            extra = [a for a in args if a is not text]
            if len(extra) or placement is not None or options or rows:
                where = (extra[0].span if extra else placement.span if placement is not None
                         else options[0].span if options else span)
                self.error("a lecture line takes only an id and its sentence", where,
                           'lecture lines sit in the left panel: line l1 "One sentence." — for a '
                           "drawn line give two points or `from A1 to C3`", "line-extra")
            return m.LectureLine(str(ident), text, span=span, id_span=self.span(ident))
        return m.Element(kind_s, str(ident), args, placement, options, rows, span=span,
                         kind_span=self.span(kind), id_span=self.span(ident))

    @staticmethod
    def _is_lecture_line(args: tuple, rows: tuple) -> bool:
        has_geometry = any(isinstance(a, m.Point | m.Endpoints) for a in args)
        return not has_geometry and any(isinstance(a, m.Text) for a in args)

    @v_args(meta=True)
    def setting(self, meta, children):
        key, value = children
        value_span = value.span if isinstance(value, m.Text) else self._value_span
        if isinstance(value, m.Text):
            value = value.value
        return m.Setting(str(key), value, span=self.span(meta), value_span=value_span)

    @v_args(meta=True)
    def section(self, meta, children):
        ident, title, duration, *statements = children
        lines = tuple(s for s in statements if isinstance(s, m.LectureLine))
        elements = tuple(s for s in statements if isinstance(s, m.Element))
        steps = tuple(s for s in statements if isinstance(s, m.Step))
        return m.Section(str(ident), title,
                         parse_duration(str(duration)) if duration is not None else None,
                         lines, elements, steps, span=self.span(meta), id_span=self.span(ident))

    @v_args(meta=True)
    def lesson(self, meta, children):
        title, *settings = children
        return ("lesson", title, tuple(s for s in settings if s is not None), self.span(meta))

    def start(self, children):
        header, *sections = children
        return header, [s for s in sections if s is not None]


# ------------------------------------------------------------------ comments

def _statements(lesson: m.Lesson) -> list[tuple[int, int, Any]]:
    """Every node that can carry comments, with (line, depth), in document order."""
    out: list[tuple[int, int, Any]] = [(lesson.span.line, 0, lesson)]
    out += [(s.span.line, 1, s) for s in lesson.settings]
    for section in lesson.sections:
        out.append((section.span.line, 0, section))
        for node in (*section.lines, *section.elements, *section.steps):
            out.append((node.span.line, 1, node))
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
            with_comments(step, dataclasses.replace(
                step, actions=tuple(with_comments(a) for a in step.actions)))
            for step in section.steps)
        sections.append(with_comments(section, dataclasses.replace(
            section,
            lines=tuple(with_comments(n) for n in section.lines),
            elements=tuple(with_comments(n) for n in section.elements),
            steps=steps)))
    settings = tuple(with_comments(s) for s in lesson.settings)
    return with_comments(lesson, dataclasses.replace(
        lesson, settings=settings, sections=tuple(sections), trailing_comments=tuple(trailing)))


def build(tree: Tree, comments: list[Comment], file: str,
          text: str = "") -> tuple[m.Lesson, list[Diagnostic]]:
    builder = _Builder(file, text)
    with gc_paused():
        header, sections = builder.transform(tree)
        if header is None:
            title, settings, span = m.Text(""), (), Span.point(file, 1, 1)
            builder.error("the lesson has no header", span,
                          'start the file with: lesson "Title of the lesson"', "no-header")
        else:
            _, title, settings, span = header
        lesson = m.Lesson(title, settings, tuple(sections), file=file, span=span)
        return attach_comments(lesson, comments), builder.diagnostics
