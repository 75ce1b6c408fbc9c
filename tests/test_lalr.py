"""The parser's own loop (compiler/lalr.py) against Lark running the same grammar: on the
examples and on a few hundred broken copies of them, the loop accepts exactly what Lark
accepts, and builds the same tree, node by node, with the positions Lark's
`propagate_positions` gives (so every span the builder makes is the one it made when Lark
built the tree)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lecture.compiler import lalr, parser
from lecture.compiler.diagnostics import DiagnosticError

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.lecture"))
PIECES = ['"', '"""', "$", ":", ";", ",", "\n", "  ", "#", "#ff8800", "..", "=", "(", ")", "step", "1s",
          "say", "x", "section", "lesson", "fade", "in", "'", "\n\n", "    ", " ", "9", "move", "to", "at",
          "below", "left of", "auto", "wait", "2ms", "1280x720", "-3", "\\", "# note\n"]


def reference_parser() -> Lark:
    """Lark as the front end used it before the loop: a tree with positions."""
    return Lark(parser._grammar_text(), parser="lalr", lexer="contextual", postlex=parser._LessonIndenter(),
                propagate_positions=True, maybe_placeholders=True)


def broken_copies(count: int) -> list[str]:
    rnd = random.Random(12)
    texts = []
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        for _ in range(count):
            copy = text
            for _ in range(rnd.randint(1, 3)):
                at = rnd.randrange(len(copy) + 1)
                if rnd.random() < 0.6:
                    copy = copy[:at] + rnd.choice(PIECES) + copy[at:]
                else:
                    copy = copy[:at] + copy[at + rnd.randint(1, 8):]
            texts.append(copy)
    return texts


def from_lark(node: Any) -> Any:
    """A Lark tree as (rule, (start, end), children), a token as (text, (start, end))."""
    if node is None:
        return None
    if isinstance(node, Token):
        return (str(node), ((node.start_pos, node.line, node.column),
                            (node.end_pos, node.end_line, node.end_column)))
    assert isinstance(node, Tree)
    meta = node.meta
    where = (None, None) if meta.empty else (
        (meta.start_pos, meta.line, meta.column), (meta.end_pos, meta.end_line, meta.end_column))
    return (node.data, where, [from_lark(child) for child in node.children])


def from_loop(text: str) -> Any:
    """The same shape, built by the loop."""
    tables = parser._tables()

    def child(value: Any) -> Any:
        if isinstance(value, lalr.Lexeme):
            return (value.text, (value.start, value.end))
        return value

    def function(name: str) -> lalr.Function:
        return lambda children, start, end: (name, (start, end), [child(c) for c in children])

    names = {rule.name for rule in tables.rules if not rule.inline}
    return lalr.run(tables, text, {name: function(name) for name in names})


def outcome(build: Callable[[str], Any], text: str) -> tuple[str, Any]:
    try:
        return "tree", build(text)
    except (lalr.NotInLanguage, UnexpectedInput):
        return "syntax error", None
    except (lalr.BadIndent, DiagnosticError):
        return "indentation error", None


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_loop_builds_larks_tree_for_each_example(path):
    text = path.read_text(encoding="utf-8")
    expected = from_lark(reference_parser().parse(text))
    assert from_loop(text) == expected


def test_the_loop_accepts_what_lark_accepts_and_builds_the_same_tree():
    lark = reference_parser()
    kinds = set()
    for text in broken_copies(60):
        text = text if text.endswith("\n") else text + "\n"  # as the source reader leaves it
        expected = outcome(lambda t: from_lark(lark.parse(t)), text)
        assert outcome(from_loop, text) == expected, text
        kinds.add(expected[0])
    assert kinds == {"tree", "syntax error", "indentation error"}  # each case was met
