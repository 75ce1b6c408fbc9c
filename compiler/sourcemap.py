"""The source map: which lines of a generated Manim module came from which lesson node.

Like Jinja's debug support, it lets an error raised inside generated Python be reported
at the `.lecture` line and column that produced the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .span import Span


@dataclass(frozen=True)
class SourceMapEntry:
    first_line: int  # 1-based lines of the generated module, inclusive
    last_line: int
    node: str  # a readable path: "section intro / element tri", "section intro / step 2"
    span: Span  # the node's span in the lesson file
    section: str | None = None  # the section id the lines belong to


@dataclass(frozen=True)
class SourceMap:
    entries: tuple[SourceMapEntry, ...]

    def lookup(self, generated_line: int) -> SourceMapEntry | None:
        """The innermost (shortest) entry covering a generated line."""
        best = None
        for e in self.entries:
            if e.first_line <= generated_line <= e.last_line:
                if best is None or (e.last_line - e.first_line) < (best.last_line - best.first_line):
                    best = e
        return best

    def to_json(self) -> str:
        return json.dumps([
            {"lines": [e.first_line, e.last_line], "node": e.node, "section": e.section,
             "file": e.span.file, **e.span.to_json()}
            for e in self.entries], indent=1)

    @staticmethod
    def from_json(text: str) -> SourceMap:
        entries = []
        for item in json.loads(text):
            span = Span(item["file"], item["line"], item["column"], item["end_line"], item["end_column"])
            entries.append(SourceMapEntry(item["lines"][0], item["lines"][1], item["node"], span,
                                          item.get("section")))
        return SourceMap(tuple(entries))


@dataclass(frozen=True)
class CompiledScene:
    section_id: str
    class_name: str
    duration: float  # seconds the scene lasts (the sum of its steps)


@dataclass(frozen=True)
class CompiledModule:
    """A lesson lowered to one Manim module: one Scene class per section."""

    code: str
    scenes: tuple[CompiledScene, ...]
    source_map: SourceMap
