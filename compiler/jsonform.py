"""The JSON form of a lesson: the model as plain data, for agents and tools.

`lesson_to_json(lesson)` gives a dict (json.dumps-able); `lesson_from_json(data)` builds
the model back. The round trip is lossless: `lesson_from_json(lesson_to_json(x)) == x`
(model equality: spans are not compared, comments are). The shape is described by
`lesson.schema.json` (JSON Schema draft 2020-12, next to this module); `validate_json`
checks data against it. The schema file leaves out the language's name lists (element
kinds, verbs, options, settings, relations): each place marked `{"x-lecture-names": "kinds"}`
gets its `enum` from the tables in kinds.py and model.py when the schema is loaded, so that
a new kind or verb needs no edit here (`lecture schema` prints the filled schema).

Shape, in short (see the schema for every field):

* strings of the lesson (titles, texts, rows, narration) are JSON strings; ids and
  references are JSON strings; a grid cell is a string such as "B2"; a reference to a part
  of an element is {"name", "part": {"kind", "term"}} for a formula's term or
  {"name", "part": {"kind", "index"}} for the others (`t[2, 3]`: index [2, 3]);
* restyle actions carry their "value" (`color`: a word or colour value; `scale`, `rotate`:
  a number) and `rotate … about X` its "about"; `change x0 to 1, 3` its "values", `move p along f`
  its "along", and an action's `ease=…` its "options" (as an element's);
* element arguments: a string (a text), or {"type": "point", "x", "y"} (a coordinate that is a string
  is an expression of values: a moving point), {"type": "initial", "value"} (a value's `= 1` or
  `= "2 x0"`),
  {"type": "endpoints", "from", "to"}, {"type": "target", "on"}, {"type": "members", "of"} (a
  group's members: a list of references); an end of `from X to Y` is
  a name or a coordinate: a point, or {"type": "number", "value"} (on a number line or a plot);
* placements: {"type": "at", "cell"}, {"type": "in", "first", "last"},
  {"type": "relative", "relation", "target"}, {"type": "auto"},
  {"type": "coordinate", "coordinate", "on", "relation"?} (`at (2, 4) on ax`, `above 3 on nl`);
* option and setting values: a number, a string, {"type": "word", "name"},
  {"type": "color", "hex"}, {"type": "range", "low", "high"} (a bound may be a value's name);
* steps: {"type": "step", "duration" (seconds or null), "actions"} or
  {"type": "wait", "duration"};
* comments: {"before": [...], "after": "..."}, texts without the leading '#';
  omitted when a statement has none.

Every node that came from a file carries "at": {"line", "column", "end_line",
"end_column"} so that an agent can point at the source; "at" is optional and ignored on
import.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from . import model as m
from .kinds import KINDS, OPTIONS, SETTINGS, VERBS
from .layout import parse_cell_name

SCHEMA_FILE = "lesson.schema.json"


class JsonFormError(ValueError):
    """The data is not a lesson in JSON form."""


# ------------------------------------------------------------------ export

def _at(span: m.Span) -> dict[str, int] | None:
    if not span.line:
        return None
    return span.to_json()


def _node(data: dict[str, Any], span: m.Span, comments: m.Comments | None = None) -> dict[str, Any]:
    if comments is not None and comments != m.NO_COMMENTS:
        c: dict[str, Any] = {}
        if comments.before:
            c["before"] = list(comments.before)
        if comments.after is not None:
            c["after"] = comments.after
        data["comments"] = c
    at = _at(span)
    if at is not None:
        data["at"] = at
    return data


def _value_to_json(value: m.OptionValue) -> Any:
    if isinstance(value, m.Word):
        return {"type": "word", "name": value.name}
    if isinstance(value, m.Color):
        return {"type": "color", "hex": value.hex}
    if isinstance(value, m.Range | m.ValueRange):  # a bound may be a value's name (`0..x0`)
        return {"type": "range", "low": value.low, "high": value.high}
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise JsonFormError(f"value {value!r} has no JSON form")
    return value


def _coordinate_to_json(c: m.Coordinate) -> dict[str, Any]:
    if isinstance(c, m.Point):
        return _node({"type": "point", "x": c.x, "y": c.y}, c.span)
    if isinstance(c, m.MovingPoint):  # an expression of values is a string
        return _node({"type": "point", "x": _moving(c.x), "y": _moving(c.y)}, c.span)
    return _node({"type": "number", "value": c.value}, c.span)


def _moving(value: float | m.Expr) -> float | str:
    return value.text if isinstance(value, m.Expr) else value


def _end_to_json(e: m.End) -> Any:
    return _ref_to_json(e) if isinstance(e, m.Ref) else _coordinate_to_json(e)


def _ref_to_json(r: m.Ref) -> Any:
    """A reference: its name, or {"name", "part"} for a part of an element (`t[2, 3]`)."""
    if r.part is None:
        return r.name
    p = r.part
    part: dict[str, Any] = {"kind": p.kind}
    if p.kind == "term":
        part["term"] = p.term
    else:
        part["index"] = list(p.numbers)
    return {"name": r.name, "part": _node(part, p.span)}


def _placement_to_json(p: m.Placement) -> dict[str, Any]:
    if isinstance(p, m.AtCoordinate):
        data = {"type": "coordinate", "coordinate": _coordinate_to_json(p.at), "on": p.on.name}
        if p.relation is not None:
            data["relation"] = p.relation
        return _node(data, p.span)
    if isinstance(p, m.At):
        return _node({"type": "at", "cell": p.cell.name}, p.span)
    if isinstance(p, m.In):
        return _node({"type": "in", "first": p.first.name, "last": p.last.name}, p.span)
    if isinstance(p, m.Relative):
        return _node({"type": "relative", "relation": p.relation, "target": _ref_to_json(p.target)}, p.span)
    if isinstance(p, m.Auto):
        return _node({"type": "auto"}, p.span)
    raise JsonFormError(f"placement {p!r} has no JSON form")


def _arg_to_json(a: m.Arg) -> Any:
    if isinstance(a, m.Text):
        return a.value
    if isinstance(a, m.Point | m.MovingPoint):
        return _coordinate_to_json(a)
    if isinstance(a, m.Initial):
        value = a.value.value if isinstance(a.value, m.Text) else a.value
        return _node({"type": "initial", "value": value}, a.span)
    if isinstance(a, m.Endpoints):
        return _node({"type": "endpoints", "from": _end_to_json(a.start), "to": _end_to_json(a.end)}, a.span)
    if isinstance(a, m.Target):
        return _node({"type": "target", "on": _ref_to_json(a.ref)}, a.span)
    if isinstance(a, m.Members):
        return _node({"type": "members", "of": [_ref_to_json(r) for r in a.refs]}, a.span)
    raise JsonFormError(f"argument {a!r} has no JSON form")


def _element_to_json(e: m.Element) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": e.kind, "id": e.id}
    if e.args:
        data["args"] = [_arg_to_json(a) for a in e.args]
    if e.placement is not None:
        data["placement"] = _placement_to_json(e.placement)
    if e.options:
        data["options"] = [_node({"key": o.key, "value": _value_to_json(o.value)}, o.span)
                           for o in e.options]
    if e.rows:
        data["rows"] = [[t.value for t in row] for row in e.rows]
    return _node(data, e.span, e.comments)


def _action_to_json(a: m.Action) -> dict[str, Any]:
    data: dict[str, Any] = {"verb": a.verb}
    if a.targets:
        data["targets"] = [_ref_to_json(t) for t in a.targets]
    if a.text is not None:
        data["text"] = a.text.value
    if a.into is not None:
        data["into"] = _ref_to_json(a.into)
    if a.to is not None:
        data["to"] = _placement_to_json(a.to)
    if a.value is not None:
        data["value"] = _value_to_json(a.value)
    if a.about is not None:
        data["about"] = _ref_to_json(a.about)
    if a.values:
        data["values"] = list(a.values)
    if a.along is not None:
        data["along"] = _ref_to_json(a.along)
    if a.options:
        data["options"] = [_node({"key": o.key, "value": _value_to_json(o.value)}, o.span)
                           for o in a.options]
    return _node(data, a.span, a.comments)


def _step_to_json(s: m.Step) -> dict[str, Any]:
    if s.is_wait:
        data: dict[str, Any] = {"type": "wait", "duration": s.duration}
        if s.actions:  # not writable in a lesson; kept so that the round trip is exact
            data["actions"] = [_action_to_json(a) for a in s.actions]
    else:
        data = {"type": "step", "duration": s.duration,
                "actions": [_action_to_json(a) for a in s.actions]}
    return _node(data, s.span, s.comments)


def _section_to_json(s: m.Section) -> dict[str, Any]:
    data: dict[str, Any] = {"id": s.id, "title": s.title.value}
    if s.duration is not None:
        data["duration"] = s.duration
    data["lines"] = [_node({"id": ln.id, "text": ln.text.value}, ln.span, ln.comments)
                     for ln in s.lines]
    data["elements"] = [_element_to_json(e) for e in s.elements]
    data["steps"] = [_step_to_json(st) for st in s.steps]
    return _node(data, s.span, s.comments)


def lesson_to_json(lesson: m.Lesson) -> dict[str, Any]:
    """The JSON form of a lesson (a dict of plain JSON values)."""
    data: dict[str, Any] = {
        "title": lesson.title.value,
        "settings": [_node({"key": s.key, "value": _value_to_json(s.value)}, s.span, s.comments)
                     for s in lesson.settings],
        "sections": [_section_to_json(s) for s in lesson.sections],
    }
    if lesson.trailing_comments:
        data["trailing_comments"] = list(lesson.trailing_comments)
    return _node(data, lesson.span, lesson.comments)


# ------------------------------------------------------------------ import

def _get(data: Any, key: str, where: str, default: Any = ...) -> Any:
    if not isinstance(data, dict):
        raise JsonFormError(f"{where}: expected an object")
    if key not in data:
        if default is ...:
            raise JsonFormError(f"{where}: missing '{key}'")
        return default
    return data[key]


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise JsonFormError(f"{where}: expected a string")
    return value


def _num(value: Any, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JsonFormError(f"{where}: expected a number")
    return value


def _comments(data: dict, where: str) -> m.Comments:
    c = _get(data, "comments", where, None)
    if c is None:
        return m.NO_COMMENTS
    before = tuple(_str(t, f"{where}.comments.before") for t in _get(c, "before", where, []))
    after = _get(c, "after", where, None)
    if after is not None:
        after = _str(after, f"{where}.comments.after")
    return m.Comments(before, after)


def _cell(value: Any, where: str) -> m.Cell:
    name = _str(value, where)
    cell = parse_cell_name(name)
    if cell is None or not name.startswith(cell.row):  # the schema's cells are upper case
        raise JsonFormError(f"{where}: {value!r} is not a cell such as B2")
    return cell


def _ref(value: Any, where: str) -> m.Ref:
    if not isinstance(value, dict):
        return m.Ref(_str(value, where))
    data = _get(value, "part", where)
    kind = _str(_get(data, "kind", f"{where}.part"), f"{where}.part.kind")
    if kind == "term":
        part = m.Part(kind, term=_str(_get(data, "term", f"{where}.part"), f"{where}.part.term"))
    else:
        index = _get(data, "index", f"{where}.part")
        if not isinstance(index, list) or not all(type(n) is int for n in index):
            raise JsonFormError(f"{where}.part.index: expected a list of whole numbers")
        part = m.Part(kind, numbers=tuple(index))
    return m.Ref(_str(_get(value, "name", where), f"{where}.name"), part=part)


def _value_from_json(value: Any, where: str) -> m.OptionValue:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        kind = _get(value, "type", where)
        if kind == "word":
            return m.Word(_str(_get(value, "name", where), where))
        if kind == "color":
            return m.Color(_str(_get(value, "hex", where), where))
        if kind == "range":
            low, high = (_bound(_get(value, key, where), where) for key in ("low", "high"))
            if isinstance(low, str) or isinstance(high, str):
                return m.ValueRange(low, high)
            return m.Range(low, high)
        raise JsonFormError(f"{where}: unknown value type {kind!r}")
    return _num(value, where)


def _bound(value: Any, where: str) -> int | float | str:
    """A range's bound: a number, or a value's name."""
    return _str(value, where) if isinstance(value, str) else _num(value, where)


def _point_from_json(data: Any, where: str) -> m.Point | m.MovingPoint:
    """A point: numbers, or strings for expressions of values (a moving point)."""
    x, y = (_bound(_get(data, key, where), f"{where}.{key}") for key in ("x", "y"))
    if isinstance(x, str) or isinstance(y, str):
        return m.MovingPoint(m.Expr(x) if isinstance(x, str) else x, m.Expr(y) if isinstance(y, str) else y)
    return m.Point(x, y)


def _options_from_json(data: Any, where: str) -> tuple[m.Option, ...]:
    return tuple(m.Option(_str(_get(o, "key", f"{where}.options[{i}]"), where),
                          _value_from_json(_get(o, "value", f"{where}.options[{i}]"), where))
                 for i, o in enumerate(_get(data, "options", where, [])))


def _placement_from_json(data: Any, where: str) -> m.Placement:
    kind = _get(data, "type", where)
    if kind == "at":
        return m.At(_cell(_get(data, "cell", where), where))
    if kind == "in":
        return m.In(_cell(_get(data, "first", where), where), _cell(_get(data, "last", where), where))
    if kind == "relative":
        return m.Relative(_str(_get(data, "relation", where), where),
                          _ref(_get(data, "target", where), where))
    if kind == "auto":
        return m.Auto()
    if kind == "coordinate":
        relation = _get(data, "relation", where, None)
        return m.AtCoordinate(_coordinate_from_json(_get(data, "coordinate", where), f"{where}.coordinate"),
                              _ref(_get(data, "on", where), where),
                              _str(relation, where) if relation is not None else None)
    raise JsonFormError(f"{where}: unknown placement type {kind!r}")


def _coordinate_from_json(data: Any, where: str) -> m.Coordinate:
    kind = _get(data, "type", where)
    if kind == "point":
        return _point_from_json(data, where)
    if kind == "number":
        return m.Scalar(_num(_get(data, "value", where), where))
    raise JsonFormError(f"{where}: unknown coordinate type {kind!r}")


def _end_from_json(data: Any, where: str) -> m.End:
    if isinstance(data, str) or (isinstance(data, dict) and "name" in data):
        return _ref(data, where)
    return _coordinate_from_json(data, where)


def _arg_from_json(data: Any, where: str) -> m.Arg:
    if isinstance(data, str):
        return m.Text(data)
    kind = _get(data, "type", where)
    if kind == "point":
        return _point_from_json(data, where)
    if kind == "initial":
        value = _get(data, "value", where)
        return m.Initial(m.Text(value) if isinstance(value, str) else _num(value, where))
    if kind == "endpoints":
        return m.Endpoints(_end_from_json(_get(data, "from", where), f"{where}.from"),
                           _end_from_json(_get(data, "to", where), f"{where}.to"))
    if kind == "target":
        return m.Target(_ref(_get(data, "on", where), where))
    if kind == "members":
        refs = _get(data, "of", where)
        if not isinstance(refs, list) or not refs:
            raise JsonFormError(f"{where}.of: expected a list of one or more references")
        return m.Members(tuple(_ref(r, f"{where}.of[{i}]") for i, r in enumerate(refs)))
    raise JsonFormError(f"{where}: unknown argument type {kind!r}")


def _element_from_json(data: Any, where: str) -> m.Element:
    placement = _get(data, "placement", where, None)
    return m.Element(
        kind=_str(_get(data, "kind", where), where),
        id=_str(_get(data, "id", where), where),
        args=tuple(_arg_from_json(a, f"{where}.args[{i}]")
                   for i, a in enumerate(_get(data, "args", where, []))),
        placement=_placement_from_json(placement, f"{where}.placement") if placement is not None else None,
        options=_options_from_json(data, where),
        rows=tuple(tuple(m.Text(_str(t, f"{where}.rows")) for t in row)
                   for row in _get(data, "rows", where, [])),
        comments=_comments(data, where),
    )


def _action_from_json(data: Any, where: str) -> m.Action:
    text = _get(data, "text", where, None)
    into = _get(data, "into", where, None)
    to = _get(data, "to", where, None)
    value = _get(data, "value", where, None)
    about = _get(data, "about", where, None)
    along = _get(data, "along", where, None)
    return m.Action(
        verb=_str(_get(data, "verb", where), where),
        targets=tuple(_ref(t, where) for t in _get(data, "targets", where, [])),
        text=m.Text(_str(text, where)) if text is not None else None,
        into=_ref(into, where) if into is not None else None,
        to=_placement_from_json(to, f"{where}.to") if to is not None else None,
        value=_value_from_json(value, f"{where}.value") if value is not None else None,
        about=_ref(about, f"{where}.about") if about is not None else None,
        values=tuple(_num(v, f"{where}.values") for v in _get(data, "values", where, [])),
        along=_ref(along, f"{where}.along") if along is not None else None,
        options=_options_from_json(data, where),
        comments=_comments(data, where),
    )


def _step_from_json(data: Any, where: str) -> m.Step:
    kind = _get(data, "type", where, "step")
    if kind not in ("step", "wait"):
        raise JsonFormError(f"{where}: unknown step type {kind!r}")
    duration = _get(data, "duration", where, None)
    if duration is not None:
        duration = _num(duration, where)
    return m.Step(
        duration=duration,
        actions=tuple(_action_from_json(a, f"{where}.actions[{i}]")
                      for i, a in enumerate(_get(data, "actions", where, []))),
        is_wait=kind == "wait",
        comments=_comments(data, where),
    )


def _section_from_json(data: Any, where: str) -> m.Section:
    duration = _get(data, "duration", where, None)
    return m.Section(
        id=_str(_get(data, "id", where), where),
        title=m.Text(_str(_get(data, "title", where), where)),
        duration=_num(duration, where) if duration is not None else None,
        lines=tuple(
            m.LectureLine(_str(_get(ln, "id", f"{where}.lines[{i}]"), where),
                          m.Text(_str(_get(ln, "text", f"{where}.lines[{i}]"), where)),
                          comments=_comments(ln, f"{where}.lines[{i}]"))
            for i, ln in enumerate(_get(data, "lines", where, []))),
        elements=tuple(_element_from_json(e, f"{where}.elements[{i}]")
                       for i, e in enumerate(_get(data, "elements", where, []))),
        steps=tuple(_step_from_json(s, f"{where}.steps[{i}]")
                    for i, s in enumerate(_get(data, "steps", where, []))),
        comments=_comments(data, where),
    )


def lesson_from_json(data: dict, file: str = "<json>") -> m.Lesson:
    """The lesson model of a JSON form. Checks the shape only loosely (raising
    JsonFormError); call `validate_json` first for a full report against the schema."""
    return m.Lesson(
        title=m.Text(_str(_get(data, "title", "lesson"), "lesson.title")),
        settings=tuple(
            m.Setting(_str(_get(s, "key", f"settings[{i}]"), f"settings[{i}].key"),
                      _value_from_json(_get(s, "value", f"settings[{i}]"), f"settings[{i}].value"),
                      comments=_comments(s, f"settings[{i}]"))
            for i, s in enumerate(_get(data, "settings", "lesson", []))),
        sections=tuple(_section_from_json(s, f"sections[{i}]")
                       for i, s in enumerate(_get(data, "sections", "lesson", []))),
        comments=_comments(data, "lesson"),
        trailing_comments=tuple(_str(t, "trailing_comments")
                                for t in _get(data, "trailing_comments", "lesson", [])),
        file=file,
    )


# ------------------------------------------------------------------ schema

@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


NAMES_MARK = "x-lecture-names"  # {"x-lecture-names": "kinds"} in the schema file: an enum of kinds


def name_lists() -> dict[str, list[str]]:
    """The name lists the schema file refers to, from the language's tables as they are now."""
    return {"kinds": list(KINDS), "verbs": list(VERBS), "options": list(OPTIONS),
            "settings": list(SETTINGS), "relations": list(m.RELATIONS),
            "coordinate_relations": list(m.COORDINATE_RELATIONS)}


def _with_names(node: Any, names: dict[str, list[str]]) -> Any:
    """The schema with every name-list mark replaced by its `enum`."""
    if isinstance(node, dict):
        if NAMES_MARK in node:
            return {"enum": list(names[node[NAMES_MARK]])}
        return {k: _with_names(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_names(v, names) for v in node]
    return node


def load_schema() -> dict:
    """The JSON Schema (draft 2020-12) of the JSON form, its name lists filled from the
    language's tables (a fresh copy each call)."""
    return _with_names(json.loads(_schema_text()), name_lists())


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_json(data: Any) -> list[str]:
    """Every way `data` differs from the schema, as messages with a JSON path ('' if none)."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    out = []
    for error in errors:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        out.append(f"{path or '(root)'}: {error.message}")
    return out
