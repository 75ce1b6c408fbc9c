"""Lesson text reaches the generated Python only as string literals: whatever a title, a
lecture line, a text element or a custom description holds, the module parses and holds
that exact string as a constant."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lecture.compiler.lower import compile_lesson
from lecture.compiler.model import (
    Action,
    At,
    Cell,
    Element,
    In,
    LectureLine,
    Lesson,
    Option,
    Ref,
    Section,
    Step,
    Text,
)
from lecture.compiler.span import Span
from lecture.runtime.measure import ManimMeasurer


def make_lesson(title: str, line: str, text: str, description: str, *, lesson_title: str = "L",
                file: str = "x.lecture", label: str = "x") -> Lesson:
    span = Span(file, 3, 1, 3, 10)
    section = Section(
        id="s",
        title=Text(title),
        lines=(LectureLine("l1", Text(line), span=span),),
        elements=(
            Element("text", "t", args=(Text(text),), placement=At(Cell("B", 2)), span=span),
            Element("custom", "cu", args=(Text(description),), placement=In(Cell("C", 1), Cell("F", 6)),
                    span=span),
            Element("axes", "ax", placement=In(Cell("A", 4), Cell("B", 6)),
                    options=(Option("x_label", label),), span=span),
        ),
        steps=(Step(1.0, (Action("say", (Ref("l1"),), text=Text(line)),
                          Action("write", (Ref("t"),)), Action("play", (Ref("cu"),)))),),
        span=span,
    )
    return Lesson(title=Text(lesson_title), sections=(section,), file=file)


def string_constants(code: str) -> set[str]:
    tree = ast.parse(code)
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


NASTY = [
    '"""',
    "'''",
    "'); import os #",
    '"); __import__("os").system("echo pwned") #',
    "back\\slash \\n \\x00 \\u1234",
    "line one\nline two\r\nline three\rfour",
    "\u2028 line separator \u2029 paragraph \x85 next line \x0b\x0c",
    "tab\tand\x00nul",
    "unicode: 90° ∑ √ π → 漢字 🙂 é ß",
    "<b>not markup</b> & <i>",
    "{var} {0} %s {{}}",
    "",
    "   ",
    "# not a comment",
    "x" * 500,
]


@pytest.mark.parametrize("s", NASTY)
def test_nasty_strings_become_exact_literals_with_real_measuring(s):
    module = compile_lesson(make_lesson(s, s, s, s, lesson_title=s, label=s), base_dir=Path("."),
                            measurer=ManimMeasurer())
    constants = string_constants(module.code)
    assert s in constants
    compile(module.code, "lesson_scenes.py", "exec")


@given(title=st.text(), line=st.text(), text=st.text(), description=st.text(), label=st.text())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_strings_become_exact_literals(title, line, text, description, label):
    lesson = make_lesson(title, line, text, description, lesson_title=title, label=label)
    module = compile_lesson(lesson, base_dir=Path("."), measurer=None)
    constants = string_constants(module.code)
    for s in (title, line, text, description):
        assert s in constants
    if label:  # an empty axis label is no label
        assert label in constants
    # the source map counts lines as Python does: no unescaped line separators anywhere
    assert module.code.splitlines() == module.code.split("\n")[:-1]


@given(name=st.text(min_size=1))
@settings(max_examples=50, deadline=None)
def test_odd_file_names_stay_inside_comments(name):
    module = compile_lesson(make_lesson("t", "l", "x", "d", file=name), base_dir=Path("."), measurer=None)
    tree = ast.parse(module.code)
    assert [n.name for n in tree.body if isinstance(n, ast.ClassDef)] == ["S01S"]
    assert module.code.splitlines() == module.code.split("\n")[:-1]  # no stray line breaks
