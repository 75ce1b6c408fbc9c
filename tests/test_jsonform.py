"""The JSON form of a lesson: lossless round trip, and the schema that describes it."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from lecture.compiler import model as m
from lecture.compiler.format import format_lesson
from lecture.compiler.frontend import parse_text
from lecture.compiler.jsonform import lesson_from_json, lesson_to_json, load_schema, validate_json
from lecture.compiler.kinds import KINDS, OPTIONS, SETTINGS, VERBS

try:
    from strategies import lessons
except ImportError:  # tests/ as a package
    from tests.strategies import lessons

PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

EXAMPLE = '''# A first lesson
lesson "The Pythagorean Theorem"
  audience: "ages 12-14"
  theme: chalkboard
  resolution: 1280x720

section intro "Right triangles" 20s
  line l1 "A right triangle has one 90° angle."   # trailing
  line l2 "Its longest side, c, is the hypotenuse."
  polygon tri (0,0) (3,0) (0,2) in B2..E5 color=blue
  math eq $a^2 + b^2 = c^2$ at F4 color=#ff8800
  line seg from A1 to C3
  axes ax x=-3..3 y=0..9 in A4..D6
  plot p "x^2" on ax
  label lc "c" right of tri
  table t in A1..B3:
    "x" "y"
    "1" "2"
  step 2s: say l1 "Here is a right triangle."; create tri
  # before step
  step 3s:
    say l2
    write eq
  step: transform eq into lc; move tri to auto; fade in ax; fade out ax
  wait 1s

section proof "A visual proof"
  custom rearrange in A1..F6:
    """Four copies of the triangle slide inside a square of side a+b;
       the uncovered area is first a^2 + b^2, then c^2."""
  step 8s: play rearrange
# the end
'''


def through_json_text(data: dict) -> dict:
    return json.loads(json.dumps(data, ensure_ascii=False))


@PROPERTY
@given(lessons())
def test_json_round_trip(lesson):
    """Lossless both ways, valid against the schema, and json -> model -> text -> model."""
    data = lesson_to_json(lesson)
    assert lesson_from_json(data) == lesson
    as_text = through_json_text(data)
    assert validate_json(as_text) == []
    model = lesson_from_json(as_text)
    assert model == lesson
    assert parse_text(format_lesson(model)) == model


def test_parsed_lesson_exports_with_positions():
    lesson = parse_text(EXAMPLE)
    data = lesson_to_json(lesson)
    assert validate_json(data) == []
    assert lesson_from_json(through_json_text(data)) == lesson
    intro = data["sections"][0]
    assert intro["at"]["line"] == 7
    assert intro["lines"][0] == {"id": "l1", "text": "A right triangle has one 90° angle.",
                                 "comments": {"after": " trailing"},
                                 "at": intro["lines"][0]["at"]}
    assert data["comments"] == {"before": [" A first lesson"]}
    assert data["trailing_comments"] == [" the end"]
    tri = intro["elements"][0]
    assert tri["args"][0]["type"] == "point" and tri["placement"]["type"] == "in"
    assert tri["options"][0]["value"] == {"type": "word", "name": "blue"}
    assert intro["steps"][-1] == {"type": "wait", "duration": 1.0, "at": intro["steps"][-1]["at"]}


def test_positions_are_ignored_on_import():
    lesson = parse_text(EXAMPLE)
    data = lesson_to_json(lesson)

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "at"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    bare = strip(data)
    assert validate_json(bare) == []
    assert lesson_from_json(bare) == lesson
    assert lesson_from_json(bare, file="x.json").file == "x.json"


def test_minimal_json():
    data = {"title": "T", "sections": [{"id": "s", "title": "S",
                                        "steps": [{"type": "wait", "duration": 1}]}]}
    assert validate_json(data) == []
    lesson = lesson_from_json(data)
    assert lesson == m.Lesson(m.Text("T"), (), (m.Section("s", m.Text("S"),
                                                          steps=(m.Step(1, (), is_wait=True),)),))
    assert format_lesson(lesson) == 'lesson "T"\n\nsection s "S"\n  wait 1s\n'


def test_schema_matches_the_language_tables():
    schema = load_schema()
    defs = schema["$defs"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert defs["element"]["properties"]["kind"]["enum"] == list(KINDS)
    assert defs["action"]["properties"]["verb"]["enum"] == list(VERBS)
    relative = next(p for p in defs["placement"]["oneOf"]
                    if p["properties"]["type"]["const"] == "relative")
    assert relative["properties"]["relation"]["enum"] == list(m.RELATIONS)
    assert defs["option"]["properties"]["key"]["enum"] == list(OPTIONS)
    assert defs["setting"]["properties"]["key"]["enum"] == list(SETTINGS)

    def strict(node, path="#"):
        if isinstance(node, dict):
            if node.get("type") == "object":
                assert node.get("additionalProperties") is False, path
            for k, v in node.items():
                strict(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                strict(v, f"{path}/{i}")

    strict(schema)


def _bad(mutate) -> list[str]:
    data = copy.deepcopy(lesson_to_json(parse_text(EXAMPLE)))
    mutate(data)
    return validate_json(data)


def test_schema_rejects_invalid_json():
    def element(d):
        return d["sections"][0]["elements"][0]

    def step(d, i=0):
        return d["sections"][0]["steps"][i]

    cases = {
        "unknown kind": lambda d: element(d).update(kind="polygn"),
        "missing title": lambda d: d.pop("title"),
        "missing element id": lambda d: element(d).pop("id"),
        "unknown field": lambda d: element(d).update(colour="red"),
        "unknown verb": lambda d: step(d)["actions"][1].update(verb="explode"),
        "unknown relation": lambda d: d["sections"][0]["elements"][5]["placement"].update(
            relation="beneath"),
        "bad cell": lambda d: element(d)["placement"].update(first="b2"),
        "bad id": lambda d: element(d).update(id="2tri"),
        "bad colour": lambda d: d["sections"][0]["elements"][1]["options"][0]["value"].update(
            hex="orange"),
        "unknown option": lambda d: element(d)["options"][0].update(key="colour"),
        "unknown setting": lambda d: d["settings"][0].update(key="audiences"),
        "transform without into": lambda d: step(d, 2)["actions"][0].pop("into"),
        "move without to": lambda d: step(d, 2)["actions"][1].pop("to"),
        "create with text": lambda d: step(d)["actions"][1].update(text="x"),
        "say with two lines": lambda d: step(d)["actions"][0].update(targets=["l1", "l2"]),
        "create without targets": lambda d: step(d)["actions"][1].pop("targets"),
        "step without actions": lambda d: step(d).update(actions=[]),
        "wait with actions": lambda d: step(d, 3).update(actions=[{"verb": "create",
                                                                   "targets": ["tri"]}]),
        "negative duration": lambda d: step(d).update(duration=-1),
        "boolean number": lambda d: element(d)["args"][0].update(x=True),
        "two-line comment": lambda d: d.update(trailing_comments=["a\nb"]),
        "comment ending in a space": lambda d: d.update(trailing_comments=["a "]),
        "carriage return": lambda d: d.update(title="a\rb"),
        "empty row": lambda d: d["sections"][0]["elements"][6].update(rows=[[]]),
        "bad arg type": lambda d: element(d)["args"].append({"type": "pointe", "x": 1, "y": 2}),
    }
    for name, mutate in cases.items():
        assert _bad(mutate), f"{name} was accepted"
    assert _bad(lambda d: None) == []
