"""The canonical formatter: a lesson model printed back as `.lecture` text.

`format_lesson` prints from the model, never from the source text, so its output depends
only on what the lesson says (and its comments). The guarantees, tested with generated
lessons in tests/test_format.py:

* `parse_text(format_lesson(x)) == x` for every lesson `x` that the parser can produce;
* `format_lesson` is idempotent: formatting formatted text changes nothing;
* every comment is kept, next to the statement it belongs to.

Canonical layout:

    # comments above the header
    lesson "Title"
      key: value

    section id "Title" 20s
      line l1 "A lecture line."

      kind id args placement options
      table t in A1..B3:
        "x" "y"

      step 2s: say l1 "Narration."; create tri
      step 3s:
        say l2
        write eq
      wait 1s

Two-space indentation; one blank line before each section; inside a section the lecture
lines, the elements and the steps, each group separated by one blank line. A step is
written inline when it fits in 100 columns and none of its actions carries a comment,
otherwise as a block with one action per line. A comment at a statement's line end is
written two spaces after the statement.

The output uses LF line ends, no byte order mark, and ends with one newline.

Strings are written as "..." (escaping \\, " and line breaks as \\n); a `math` element's
formula as $...$ when it has no $ and no line break; an element's multi-line text (code,
a custom description) as a \"\"\"block\"\"\" when the block reads back exactly, else as
an escaped "..." string.

Two characters cannot be written in a lesson at all: a carriage return (every line end
is normalised to LF when a lesson is read, and "..." has no escape for it) and NUL (a
file holding one is rejected as binary). The parser never produces them; a model that
holds them (built by hand or imported from JSON) is refused with a ValueError, as is
any other model that has no text form (a negative duration, a `say` with two targets,
a `line` element that would read back as a lecture line...).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from . import model as m
from .builder import NUMBER_RE, decode_block, parse_duration, parse_number
from .kinds import RESTYLE_VERBS
from .layout import is_canonical

INDENT = "  "
MAX_WIDTH = 100

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
SIZE_RE = re.compile(r"\d+x\d+\Z")
_BLOCK_TOKEN_RE = re.compile(r'"""(.|\n)*?"""')


class FormatError(ValueError):
    """The model has no text form (it was not produced by the parser)."""


# ------------------------------------------------------------------ literals

def _check_chars(value: str, what: str) -> None:
    if "\r" in value or "\x00" in value:
        raise FormatError(f"{what} {value!r} holds a carriage return or NUL, which a lesson "
                          "file cannot hold")


def quote(value: str) -> str:
    """A plain "..." string literal whose value is `value`."""
    _check_chars(value, "string")
    body = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def math_literal(value: str) -> str | None:
    """$value$, or None when the value cannot be written between dollars."""
    if "$" in value or "\n" in value:
        return None
    _check_chars(value, "string")
    return f"${value}$"


def _indentation_ok(lines: list[str]) -> bool:
    """The parser rejects lines whose indentation mixes tabs and spaces, even inside a
    block string (it checks the raw lines before parsing)."""
    for line in lines:
        body = line.lstrip(" \t")
        if not body or body.startswith("#"):
            continue
        if "\t" in line[: len(line) - len(body)]:
            return False
    return True


def block_literal(value: str, column: int, indent: str) -> str | None:
    """A \"\"\"block\"\"\" literal for `value`, or None when no block reads back exactly.

    `column` is the 0-based column where the literal starts (continuation lines are
    aligned just after the opening quotes); `indent` is the indentation of the line
    holding the literal (the closing quotes of an opened block go one level deeper)."""
    if "\n" not in value:
        return None
    _check_chars(value, "string")
    candidates = []
    # 1. """first line
    #       more lines"""
    pad = " " * (column + 3)
    lines = value.split("\n")
    rest = [pad + ln if ln else "" for ln in lines[1:]]
    candidates.append((lines[0] + "\n" + "\n".join(rest), rest))
    # 2. """
    #      all lines
    #      """
    pad = indent + INDENT
    body_lines = [pad + ln if ln else "" for ln in lines]
    candidates.append(("\n" + "\n".join(body_lines) + "\n" + pad, body_lines + [pad]))
    for body, continuation in candidates:
        literal = f'"""{body}"""'
        token = _BLOCK_TOKEN_RE.match(literal)
        if token is None or token.end() != len(literal):
            continue
        if decode_block(body) != value or not _indentation_ok(continuation):
            continue
        return literal
    return None


def duration(seconds: float) -> str:
    """A duration literal that reads back as exactly `seconds`."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
            or not math.isfinite(seconds) or seconds < 0:
        raise FormatError(f"duration {seconds!r} cannot be written")
    seconds = float(seconds)
    if 0 < seconds < 1:
        ms = round(seconds * 1000)
        text = f"{ms}ms"
        if parse_duration(text) == seconds:
            return text
    text = _fixed(seconds) + "s"
    if parse_duration(text) != seconds:  # pragma: no cover - _fixed is exact
        raise FormatError(f"duration {seconds!r} cannot be written exactly")
    return text


def _fixed(value: float) -> str:
    """Shortest round-tripping decimal of a non-negative float, without an exponent."""
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def number(value: int | float) -> str:
    """A NUMBER literal that reads back as `value` (an int stays an int)."""
    if isinstance(value, bool):
        raise FormatError(f"{value!r} is not a number of the language")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, float) or not math.isfinite(value):
        raise FormatError(f"number {value!r} cannot be written")
    text = repr(value)
    # repr never needs a leading '.', and 'e' exponents are part of NUMBER; it always has a
    # '.' or an 'e', so it reads back as a float.
    parsed = parse_number(text)
    if parsed != value or not isinstance(parsed, float):  # pragma: no cover - defensive
        raise FormatError(f"number {value!r} cannot be written exactly")
    return text


def name(value: str, what: str = "name") -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise FormatError(f"{what} {value!r} is not a name (letters, digits and _)")
    return value


def value_literal(value: m.OptionValue, key: str = "") -> str:
    """An option or setting value."""
    if isinstance(value, m.Word):
        return name(value.name, "word")
    if isinstance(value, m.Color):
        if not re.fullmatch(r"#[0-9a-f]{6}", value.hex):
            raise FormatError(f"colour {value.hex!r} is not #rrggbb in lower case")
        return value.hex
    if isinstance(value, m.Range):
        return f"{number(value.low)}..{number(value.high)}"
    if isinstance(value, m.ValueRange):
        return f"{_bound(value.low)}..{_bound(value.high)}"
    if isinstance(value, str):
        if key == "resolution" and SIZE_RE.match(value):
            return value  # a size such as 1280x720 reads back as the same string
        return quote(value)
    if isinstance(value, int | float):
        return number(value)
    raise FormatError(f"value {value!r} has no text form")


def _bound(value: int | float | str) -> str:
    """A range's bound: a number or a value's name (`0..x0`)."""
    return name(value, "value") if isinstance(value, str) else number(value)


# What one coordinate of a point may hold (grammar/lecture.lark COORD)
_COORD_RE = re.compile(r"(?:[\w.+\-*/^]|[ \t]+(?![ \t(])|\((?:[^()\n]|\((?:[^()\n]|\([^()\n]*\))*\))*\))+")


def _coordinate_part(value: float | m.Expr) -> str:
    if not isinstance(value, m.Expr):
        return number(value)
    text = value.text.strip()
    if not text or not _COORD_RE.fullmatch(text) or NUMBER_RE.fullmatch(text):
        raise FormatError(f"expression {value.text!r} cannot be written in a point")
    return text


def cell(c: m.Cell) -> str:
    if not is_canonical(c):
        raise FormatError(f"cell {c!r} has no text form")
    return c.name


def coordinate(c: m.Coordinate) -> str:
    """`(2, 4)` or `3`."""
    if isinstance(c, m.Point):
        return f"({number(c.x)}, {number(c.y)})"
    if isinstance(c, m.Scalar):
        return number(c.value)
    if isinstance(c, m.MovingPoint):
        return f"({_coordinate_part(c.x)}, {_coordinate_part(c.y)})"
    raise FormatError(f"coordinate {c!r} has no text form")


def end(e: m.End) -> str:
    """An end of `from X to Y`: a name or a coordinate."""
    return ref(e) if isinstance(e, m.Ref) else coordinate(e)


def ref(r: m.Ref) -> str:
    """A reference: `eq`, or a part of it: `eq[$b^2$]`, `t[2, 3]`, `t[row 2]`, `prog[line 4]`."""
    return name(r.name) if r.part is None else name(r.name) + part(r.part)


def part(p: m.Part) -> str:
    if p.kind == "term":
        return f"[{math_literal(p.term) or quote(p.term)}]"
    wanted = 2 if p.kind == "cell" else 1
    if p.kind not in m.PART_KINDS or len(p.numbers) != wanted or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in p.numbers):
        raise FormatError(f"part {p!r} has no text form")
    if p.kind == "cell":
        return f"[{p.numbers[0]}, {p.numbers[1]}]"
    if p.kind == "item":
        return f"[{p.numbers[0]}]"
    return f"[{p.kind} {p.numbers[0]}]"


def placement(p: m.Placement) -> str:
    if isinstance(p, m.AtCoordinate):
        if p.relation is not None and p.relation not in m.COORDINATE_RELATIONS:
            raise FormatError(f"unknown relation {p.relation!r} to a coordinate")
        return f"{p.relation or 'at'} {coordinate(p.at)} on {name(p.on.name)}"
    if isinstance(p, m.At):
        return f"at {cell(p.cell)}"
    if isinstance(p, m.In):
        return f"in {cell(p.first)}..{cell(p.last)}"
    if isinstance(p, m.Relative):
        if p.relation not in m.RELATIONS:
            raise FormatError(f"unknown relation {p.relation!r}")
        return f"{p.relation} {ref(p.target)}"
    if isinstance(p, m.Auto):
        return "auto"
    raise FormatError(f"placement {p!r} has no text form")


# ------------------------------------------------------------------ statements

class _Printer:
    def __init__(self) -> None:
        self.out: list[str] = []

    def comments_before(self, comments: m.Comments, indent: str) -> None:
        for text in comments.before:
            self.out.append(indent + _comment(text))

    def line(self, text: str, comments: m.Comments = m.NO_COMMENTS) -> None:
        if comments.after is not None:
            text += "  " + _comment(comments.after)
        self.out.append(text)

    def blank(self) -> None:
        if self.out and self.out[-1] != "":
            self.out.append("")


def _comment(text: str) -> str:
    if not isinstance(text, str) or "\n" in text or "\r" in text or "\x00" in text:
        raise FormatError(f"comment {text!r} cannot be written on one line")
    if text != text.rstrip():
        raise FormatError(f"comment {text!r} ends with white space, which is not kept")
    return "#" + text


def _column(text: str) -> int:
    """The 0-based column just after `text` (which may span lines)."""
    return len(text.rsplit("\n", 1)[-1])


def _element_text(element: m.Element, text: m.Text, column: int, indent: str) -> str:
    value = text.value
    if element.kind == "math":
        literal = math_literal(value)
        if literal is not None:
            return literal
    if "\n" in value:
        literal = block_literal(value, column, indent)
        if literal is not None:
            return literal
    return quote(value)


def _arg(element: m.Element, arg: m.Arg, column: int, indent: str) -> str:
    if isinstance(arg, m.Text):
        return _element_text(element, arg, column, indent)
    if isinstance(arg, m.Point | m.MovingPoint):
        return coordinate(arg)
    if isinstance(arg, m.Initial):
        if isinstance(arg.value, m.Text):
            return f"= {quote(arg.value.value)}"
        return f"= {number(arg.value)}"
    if isinstance(arg, m.Endpoints):
        return f"from {end(arg.start)} to {end(arg.end)}"
    if isinstance(arg, m.Target):
        return f"on {ref(arg.ref)}"
    if isinstance(arg, m.Members):
        if not arg.refs:
            raise FormatError(f"element '{element.id}' has an empty `of` list")
        return "of " + ", ".join(ref(r) for r in arg.refs)
    raise FormatError(f"argument {arg!r} has no text form")


def _element(p: _Printer, element: m.Element, indent: str) -> None:
    if element.kind == "line" and any(isinstance(a, m.Text) for a in element.args) and not any(
            isinstance(a, m.Point | m.Endpoints) for a in element.args):
        raise FormatError(f"line element '{element.id}' has a string and no points: it would "
                          "read back as a lecture line")
    p.comments_before(element.comments, indent)
    head = f"{indent}{name(element.kind, 'kind')} {name(element.id, 'id')}"
    for arg in element.args:
        head += " " + _arg(element, arg, _column(head) + 1, indent)
    if element.placement is not None:
        head += " " + placement(element.placement)
    for opt in element.options:
        head += f" {name(opt.key, 'option')}={value_literal(opt.value, opt.key)}"
    if not element.rows:
        p.line(head, element.comments)
        return
    p.line(head + ":", element.comments)
    row_indent = indent + INDENT
    for row in element.rows:
        if not row:
            raise FormatError(f"element '{element.id}' has an empty row")
        text = row_indent
        for i, item in enumerate(row):
            if i:
                text += " "
            text += _element_text(element, item, _column(text), row_indent)
        p.out.append(text)


def _action(action: m.Action) -> str:
    verb = action.verb
    targets = [ref(t) for t in action.targets]
    extra_into = action.into is not None and verb != "transform"
    extra_to = action.to is not None and verb != "move"
    extra_text = action.text is not None and verb != "say"
    extra_value = (action.value is not None) != (verb in RESTYLE_VERBS)
    extra_about = action.about is not None and verb != "rotate"
    extra_motion = (bool(action.values) != (verb == "change") or (action.along is not None and verb != "move")
                    or (bool(action.options) and verb not in ("change", "move", "rotate")))
    if extra_into or extra_to or extra_text or extra_value or extra_about or extra_motion:
        raise FormatError(f"action {verb!r} cannot carry that text, `into`, `to`, value, `about`, "
                          "values, `along` or options")
    if verb == "say":
        if len(targets) > 1:
            raise FormatError("`say` takes at most one lecture line")
        parts = ["say", *targets]
        if action.text is not None:
            parts.append(quote(action.text.value))
        return " ".join(parts)
    if not targets:
        raise FormatError(f"action {verb!r} needs at least one target")
    refs = ", ".join(targets)
    if verb in ("fade in", "fade out"):
        return f"{verb} {refs}"
    if verb == "transform":
        if len(targets) != 1 or action.into is None:
            raise FormatError("`transform` takes one element and `into` another")
        return f"transform {refs} into {ref(action.into)}"
    if verb == "change":
        return f"change {refs} to {', '.join(number(v) for v in action.values)}{_options(action)}"
    if verb == "move" and action.along is not None:
        if action.to is not None:
            raise FormatError("`move` goes `to` a place or `along` a path, not both")
        return f"move {refs} along {ref(action.along)}{_options(action)}"
    if action.options and verb != "rotate":
        raise FormatError(f"`{verb}` takes no options")
    if verb == "move":
        if action.to is None:
            raise FormatError("`move` needs a placement")
        to = action.to
        if isinstance(to, m.At):  # `move eq to C4`, `move eq to A1..C3`, `move eq to below tri`
            where = cell(to.cell)
        elif isinstance(to, m.In):
            where = f"{cell(to.first)}..{cell(to.last)}"
        elif isinstance(to, m.AtCoordinate) and to.relation is None:  # `move p to (3, 9) on ax`
            where = f"{coordinate(to.at)} on {name(to.on.name)}"
        else:
            where = placement(to)
        return f"move {refs} to {where}"
    if verb in RESTYLE_VERBS:
        return _restyle(verb, refs, action)
    if verb in ("say", "fade", "transform", "move") or not NAME_RE.match(verb):
        raise FormatError(f"verb {verb!r} has no text form")
    return f"{verb} {refs}"


def _restyle(verb: str, refs: str, action: m.Action) -> str:
    """`color eq[$b^2$] orange`, `scale eq 1.5`, `rotate sq 90 about C3`."""
    value = action.value
    if verb == "color":
        if not isinstance(value, m.Word | m.Color):
            raise FormatError(f"`color` needs a colour, not {value!r}")
        return f"color {refs} {value_literal(value)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatError(f"`{verb}` needs a number, not {value!r}")
    about = f" about {ref(action.about)}" if action.about is not None else ""
    return f"{verb} {refs} {number(value)}{about}{_options(action)}"


def _options(action: m.Action) -> str:
    """` ease=linear x=0..2`: an action's options, as written."""
    return "".join(f" {name(o.key, 'option')}={value_literal(o.value, o.key)}" for o in action.options)


def _step(p: _Printer, step: m.Step, indent: str) -> None:
    p.comments_before(step.comments, indent)
    if step.is_wait:
        if step.actions or step.duration is None:
            raise FormatError("a wait has a duration and no actions")
        p.line(f"{indent}wait {duration(step.duration)}", step.comments)
        return
    if not step.actions:
        raise FormatError("a step needs at least one action")
    head = f"{indent}step" + (f" {duration(step.duration)}" if step.duration is not None else "")
    actions = [_action(a) for a in step.actions]
    inline = f"{head}: " + "; ".join(actions)
    commented = any(a.comments != m.NO_COMMENTS for a in step.actions)
    if not commented and len(inline) <= MAX_WIDTH:
        p.line(inline, step.comments)
        return
    p.line(head + ":", step.comments)
    inner = indent + INDENT
    for action, text in zip(step.actions, actions, strict=True):
        p.comments_before(action.comments, inner)
        p.line(inner + text, action.comments)


def _section(p: _Printer, section: m.Section) -> None:
    if not (section.lines or section.elements or section.steps):
        raise FormatError(f"section '{section.id}' is empty; a section needs a statement")
    p.blank()
    p.comments_before(section.comments, "")
    head = f"section {name(section.id, 'section id')} {quote(section.title.value)}"
    if section.duration is not None:
        head += " " + duration(section.duration)
    p.line(head, section.comments)
    indent = INDENT
    groups = [g for g in (section.lines, section.elements, section.steps) if g]
    for i, group in enumerate(groups):
        if i:
            p.blank()
        for node in group:
            if isinstance(node, m.LectureLine):
                p.comments_before(node.comments, indent)
                p.line(f"{indent}line {name(node.id, 'id')} {quote(node.text.value)}",
                       node.comments)
            elif isinstance(node, m.Element):
                _element(p, node, indent)
            else:
                _step(p, node, indent)


def format_lesson(lesson: m.Lesson) -> str:
    """The canonical text of a lesson (LF line ends, ending with a newline)."""
    p = _Printer()
    p.comments_before(lesson.comments, "")
    p.line(f"lesson {quote(lesson.title.value)}", lesson.comments)
    for setting in lesson.settings:
        p.comments_before(setting.comments, INDENT)
        p.line(f"{INDENT}{name(setting.key, 'setting')}: "
               f"{value_literal(setting.value, setting.key)}", setting.comments)
    for section in lesson.sections:
        _section(p, section)
    for text in lesson.trailing_comments:
        p.out.append(_comment(text))
    return "\n".join(p.out) + "\n"


def format_text(text: str, name: str = "<lesson>") -> str:
    """Parse lesson text (any line ends, with or without a BOM) and return its canonical
    form. Raises DiagnosticError on syntax errors."""
    from .frontend import parse_text

    return format_lesson(parse_text(text, name))
