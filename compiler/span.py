"""Source positions: where in a `.lecture` file a node came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A region of a lesson file. Lines and columns are 1-based; the end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start_pos: int = 0  # character offsets into the (normalised) text, for exact rewrites
    end_pos: int = 0

    @staticmethod
    def point(file: str, line: int, column: int, pos: int = 0) -> Span:
        return Span(file, line, column, line, column + 1, pos, pos + 1)

    def to_json(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


NO_SPAN = Span("<generated>", 0, 0, 0, 0)
