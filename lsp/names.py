"""Ids in their section: where each is declared and used, for go to definition, find
references, rename and highlighting.

A section's text is read with the lesson lexer (compiler/highlight.py), so a name is found
wherever the language puts one (targets, placements, ends, members, `on`, ranges, points);
strings are skipped, except those that are expressions of the section's values and plots
(`value slope = "2 x0"`, `plot f "a x^2"`, `radius="r / 2"`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lecture.compiler.highlight import LectureLexer
from lecture.compiler.kinds import EXPRESSION, KINDS, OPTIONS, WORD
from lecture.compiler.model import Lesson, Section, Text
from pygments.token import Name

from .analysis import Analysis, section_at

_ID_TOKENS = (Name, Name.Variable, Name.Label)
# Word options whose value is never an id (`language=python`, `ease=linear`); `between=g` is.
_NOT_IDS = frozenset(k for k, spec in OPTIONS.items() if spec.type == WORD) - {"between"}
_OPTION_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*\Z")


@dataclass(frozen=True)
class NameAt:
    """An id under the cursor: its section, the name and where it is written."""

    section: Section
    name: str
    start: int
    end: int


def _section_end(lesson: Lesson, section: Section) -> int:
    later = [s.span.start_pos for s in lesson.sections if s.span.start_pos > section.span.start_pos]
    return min(later, default=10 ** 9)


def _name_tokens(text: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    """(offset, name) of every name token in text[start:end]."""
    chunk = text[start:end]
    for index, token, value in LectureLexer().get_tokens_unprocessed(chunk):
        if token in _ID_TOKENS and not _after_word_option(chunk, index):
            yield start + index, value


def _after_word_option(chunk: str, index: int) -> bool:
    line_start = chunk.rfind("\n", 0, index) + 1
    match = _OPTION_KEY.search(chunk, line_start, index)
    return match is not None and match.group(1) in _NOT_IDS


def _expression_texts(section: Section) -> Iterator[tuple[int, int]]:
    """The spans of the strings in a section that are expressions of its values and plots."""
    for el in section.elements:
        spec = KINDS.get(el.kind)
        initial = el.initial
        if initial is not None and isinstance(initial.value, Text):
            yield initial.value.span.start_pos, initial.value.span.end_pos
        if spec is not None and spec.text_is == EXPRESSION:
            yield from ((t.span.start_pos, t.span.end_pos) for t in el.texts)
        yield from ((o.value_span.start_pos, o.value_span.end_pos) for o in el.options
                    if isinstance(o.value, str))


def occurrences(analysis: Analysis, section: Section, name: str) -> list[tuple[int, int]]:
    """Every place the id is written in its section (its declaration included), in order."""
    assert analysis.lesson is not None
    text = analysis.src.text
    end = _section_end(analysis.lesson, section)
    found = [(pos, pos + len(value)) for pos, value in _name_tokens(text, section.span.start_pos, end)
             if value == name]
    word = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
    for start, stop in _expression_texts(section):
        found += [(start + m.start(), start + m.end()) for m in word.finditer(text[start:stop])]
    return sorted(set(found))


def name_at(analysis: Analysis, offset: int) -> NameAt | None:
    """The id (of an element or a lecture line of its section) written at an offset."""
    if analysis.lesson is None:
        return None
    section = section_at(analysis.lesson, offset)
    if section is None:
        return None
    text = analysis.src.text
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    name = text[start:end]
    if not name or (section.element(name) is None and section.line(name) is None):
        return None
    if (start, end) not in occurrences(analysis, section, name):
        return None  # the same letters inside a string, a keyword, an option's name…
    return NameAt(section, name, start, end)
