"""Text -> the caller's tree (the builder's model), with syntax errors turned into
teaching diagnostics.

The grammar lives in `grammar/lecture.lark`; Lark compiles it, and `lalr.py` runs the
compiled automaton. Comments are collected on the side (the formatter and the Critic keep
them); indentation becomes INDENT/DEDENT tokens.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import Indenter
from lecture.grammar import GRAMMAR_DIR

from . import lalr
from .diagnostics import Diagnostic, DiagnosticError
from .source import Source
from .span import Span
from .user_cache import user_cache_dir

KEYWORDS = frozenset({
    "lesson", "section", "step", "wait", "say", "fade", "in", "out", "transform", "into",
    "move", "to", "from", "on", "at", "below", "above", "left", "right", "of", "next", "auto",
})


@dataclass(frozen=True)
class Comment:
    line: int
    column: int
    text: str  # without the leading '#', trailing spaces stripped
    whole_line: bool  # nothing but white space before it on its line


class _LessonIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 1  # mixing is rejected before parsing, so one tab is one level's unit

    file = "<lesson>"

    def handle_NL(self, token: Token) -> Iterator[Token]:
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        indent = len(indent_str)
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
            return
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
        if indent != self.indent_level[-1]:
            line = (token.end_line or token.line or 1)
            raise DiagnosticError([_indentation_error(self.file, line, indent, self.indent_level[-1])])


def _indentation_error(file: str, line: int, indent: int, expected: int) -> Diagnostic:
    return Diagnostic(
        "error",
        f"this line's indentation ({indent}) does not match any enclosing block (expected {expected})",
        Span(file, line, 1, line, indent + 1),
        hint="indent statements of one block by the same amount",
        code="indentation",
    )


_TERMINAL_WORDS = {
    "NAME": "a name", "STRING": "a string", "MATH": "a $math$ string",
    "BLOCK_STRING": 'a """block""" string', "NUMBER": "a number",
    "COORD": "a coordinate: a number or an expression of values, as in (2, 4) or (x0, f(x0))",
    "DURATION": "a duration such as 2s or 500ms", "COLOR": "a colour such as #ff8800",
    "SIZE": "a size such as 1280x720", "_NL": "the end of the line",
    "_INDENT": "an indented block", "_DEDENT": "the end of the block", "$END": "the end of the file",
    "COLON": "':'", "SEMICOLON": "';'", "COMMA": "','", "EQUAL": "'='", "LPAR": "'('",
    "RPAR": "')'", "DOT": "'.'", "__ANON_0": "'..'",
}


def _describe_expected(expected: set[str]) -> str:
    words = []
    for name in sorted(expected):
        if name.startswith("__") and name not in _TERMINAL_WORDS:
            continue
        word = _TERMINAL_WORDS.get(name)
        if word is None:
            word = f"'{name.lower()}'" if name.isupper() and name.isalpha() else name
        words.append(word)
    words = sorted(set(words))
    if not words:
        return ""
    if len(words) > 6:
        words = words[:6] + ["…"]
    return "expected " + ", ".join(words)


def _token_text(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type == "_INDENT":
        return "indentation"
    if token.type in ("_DEDENT", "$END"):
        return "end of block"
    return repr(str(token))


def _line_of(src: Source, line: int) -> str:
    """Line `line` (1-based) of the source, or "" (by its line index: a hint may look at
    many lines, and splitting a long lesson for each was quadratic)."""
    starts = src.lines.starts
    if not 0 < line <= len(starts):
        return ""
    end = starts[line] - 1 if line < len(starts) else len(src.text)
    return src.text[starts[line - 1]:end]


def _syntax_diagnostic(src: Source, exc: UnexpectedInput) -> Diagnostic:
    """The diagnostic for what Lark could not parse: one stage per kind of failure."""
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    if line < 1:  # lark reports -1 for an error at the very end
        line, column = max(len(src.lines.starts) - 1, 1), 1
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_character(src, line, column)
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(src, exc, line, column)
    if isinstance(exc, UnexpectedEOF):
        last = max(len(src.lines.starts) - 1, 1)
        return Diagnostic("error", "unexpected end of file",
                          Span(src.name, last, 1, last, len(_line_of(src, last)) + 1),
                          _describe_expected(set(exc.expected)) or None, "syntax")
    return Diagnostic("error", "syntax error", Span.point(src.name, line, column), None, "syntax")


def _unexpected_character(src: Source, line: int, column: int) -> Diagnostic:
    """A character no token starts with: an unterminated string, a tab, a quote…"""
    name = src.name
    source_line = _line_of(src, line)
    stripped = source_line.strip()
    first_word = stripped.split(" ", 1)[0] if stripped else ""
    ch = source_line[column - 1: column] if column - 1 < len(source_line) else ""
    if ch == '"':
        if source_line[max(column - 3, 0): column] == '"""':
            column -= 2  # the lexer took '""' as an empty string first
        rest = source_line[column - 1:]
        if rest.startswith('"""'):
            return Diagnostic("error", 'unterminated block string: no closing """',
                              Span(name, line, column, line, column + 3),
                              'close the block with """ on a later line', "unterminated-string")
        return Diagnostic("error", "unterminated string",
                          Span(name, line, column, line, len(source_line) + 1),
                          'close it with a " on the same line; for several lines use """…"""',
                          "unterminated-string")
    if ch == "$":
        return Diagnostic("error", "unterminated math string",
                          Span(name, line, column, line, len(source_line) + 1),
                          "close the formula with a second $ on the same line",
                          "unterminated-string")
    if ch == "\t":
        return Diagnostic("error", "a tab inside a line is not allowed here",
                          Span(name, line, column, line, column + 1), "use spaces", "syntax")
    shown = ch if ch.strip() else repr(ch)
    hint = None
    if ch == "'":
        hint = "strings use double quotes: \"like this\""
    elif ch.isdigit() and first_word in ("step", "wait"):
        hint = "durations need a unit: 2s, 1.5s or 500ms"
    elif ch.isdigit():
        hint = "a name cannot start with a digit"
    return Diagnostic("error", f"unexpected character {shown!r}" if ch.strip() else
                      f"unexpected character {shown}",
                      Span(name, line, column, line, column + 1), hint, "syntax")


def _unexpected_token(src: Source, exc: UnexpectedToken, line: int, column: int) -> Diagnostic:
    """A token the grammar does not allow here: a missing block, stray indentation, a line
    that ends too early, or a word out of place."""
    token = exc.token
    expected = _accepted(exc)
    if expected == {"_INDENT"}:
        missing = _missing_block(src, token)
        if missing is not None:
            return missing
    if token.type == "_INDENT":
        tline = token.end_line or (token.line if token.line and token.line > 0 else line)
        width = len(str(token)) or 1
        return Diagnostic("error", "unexpected indentation",
                          Span(src.name, tline, 1, tline, width + 1),
                          "only a section's statements, a step's actions and an element's "
                          "rows are indented under the line above; line this one up with "
                          "its neighbours", "indentation")
    if token.type == "_NL" or token.type in ("_DEDENT", "$END"):
        return _early_end(src, token, expected, line)
    tline = token.line if token.line and token.line > 0 else line
    tcol = token.column if token.column and token.column > 0 else column
    source_line = _line_of(src, line)
    width = max(len(str(token)), 1)
    span = Span(src.name, tline, tcol, tline, tcol + width)
    hint = (_action_hint(source_line[: tcol - 1])
            or _unexpected_hint(str(token), token.type, expected, source_line.strip()))
    return Diagnostic("error", f"unexpected {_token_text(token)}", span,
                      hint or _describe_expected(expected) or None, "syntax")


def _missing_block(src: Source, token: Token) -> Diagnostic | None:
    """A line ended in ':' but no indented block follows: point at that ':'."""
    if not (token.line and token.line > 0):
        number = len(src.lines.starts)
    else:
        number = token.line if token.type in ("_NL", "_DEDENT") else token.line - 1
    while number > 1 and not strip_comment(_line_of(src, number)).strip():
        number -= 1
    code_part = strip_comment(_line_of(src, number))
    if not code_part.endswith(":"):
        return None
    return Diagnostic("error", "the ':' at the end of this line needs an indented block below it",
                      Span(src.name, number, len(code_part), number, len(code_part) + 1),
                      "indent the lines that belong to it (a step's actions, a table's rows), "
                      "or remove the ':'", "indentation")


def _early_end(src: Source, token: Token, expected: set[str], line: int) -> Diagnostic:
    """The line ended too early: point at its end."""
    tline = token.line if token.line and token.line > 0 else line
    end_line_text = _line_of(src, tline)
    code_part = strip_comment(end_line_text)
    tcol = len(code_part) + 1
    hint = _early_end_hint(code_part.strip(), expected) or _describe_expected(expected)
    if re.search(r"=\s*#", end_line_text):
        hint = "colours are written # and six hex digits, e.g. color=#ff8800"
    return Diagnostic("error", "this line ends too early",
                      Span(src.name, tline, max(tcol - 1, 1), tline, tcol), hint or None, "syntax")


def _accepted(exc: UnexpectedToken) -> set[str]:
    """The terminals the parser accepts where it failed. Lark's `expected` comes from the
    contextual lexer when a word does not lex in that state, and then lists only `_NL`."""
    state: Any = getattr(exc, "state", None)
    try:
        accepted = {t for t in state.parse_conf.states[state.position] if t.isupper()}
    except (AttributeError, KeyError, IndexError, TypeError):
        accepted = set()
    return accepted or set(exc.expected)


_COMMENT_START = re.compile(r"#(?![0-9a-fA-F]{6})")  # a '#' that does not start a colour


def strip_comment(line: str) -> str:
    # Good enough for pointing at a line's end: drop a trailing comment outside strings.
    if not _COMMENT_START.search(line):  # only colours (most lines with a '#'): nothing to drop
        return line.rstrip()
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            in_string = not in_string
        elif ch == "#" and not in_string and not re.match(r"#[0-9a-fA-F]{6}", line[i:]):
            return line[:i].rstrip()
    return line.rstrip()


def _early_end_hint(code: str, expected: set[str]) -> str | None:
    words = code.split()
    if not words:
        return None
    head = words[0]
    if head == "section" and len(words) <= 2:
        return 'a section needs an id and a title: section intro "Right triangles"'
    if head == "section":
        return "a section's statements go on the following lines, indented"
    if head == "lesson":
        return 'the lesson needs a title: lesson "The Pythagorean Theorem"'
    if head == "step" and "COLON" in expected:
        return "write a ':' after the step's duration: step 2s: create tri"
    if head == "step":
        return "say what the step does after the ':', e.g. step 2s: create tri"
    if head == "wait":
        return "wait needs a duration: wait 1s"
    if "NAME" in expected and len(words) == 1:
        return f"'{head}' needs an id after it, e.g. {head} my_id …"
    return None


_ACTION_WORDS = ("say", "create", "write", "fade", "transform", "indicate", "move", "highlight",
                 "remove", "play")


def _action_hint(before: str) -> str | None:
    """`step 1s: sey "hello"`: the action's first word is a misspelt verb."""
    if not before.lstrip().startswith("step") and ":" in before:
        return None
    words = re.split(r"[:;]", before)[-1].split()
    if not words or words[0] in _ACTION_WORDS or words[0] in KEYWORDS:
        return None
    if not (before.lstrip().startswith("step") or len(words) <= 2):
        return None
    from .diagnostics import did_you_mean

    guess = did_you_mean(words[0], _ACTION_WORDS)
    return f"'{words[0]}' is not an action: {guess}" if guess else None


def _unexpected_hint(text: str, ttype: str, expected: set[str], line: str) -> str | None:
    head = line.split(" ", 1)[0] if line else ""
    keywords = [e.lower() for e in expected if e.isalpha() and e.isupper() and e.lower() in KEYWORDS]
    if ttype == "NAME" and keywords:
        from .diagnostics import did_you_mean

        guess = did_you_mean(text, keywords)
        if guess:
            return guess
    if head and head not in KEYWORDS and head not in ("line",):
        from .diagnostics import did_you_mean

        guess = did_you_mean(head, ["step", "wait", "section", "lesson"])
        if guess:
            return f"'{head}' is not a statement: {guess}"
    if text in KEYWORDS and "NAME" in expected:
        return f"'{text}' is a keyword of the language and cannot be used as a name"
    if ttype == "NAME" and "DURATION" in expected and head in ("step", "wait"):
        return "durations are written 2s, 1.5s or 500ms"
    if ttype == "NUMBER" and head in ("step", "wait", "section"):
        return "durations need a unit: 2s, 1.5s or 500ms"
    if ttype == "NAME" and "COLON" in expected and head == "step":
        return "write a ':' after the step's duration: step 2s: create tri"
    if ttype == "NAME" and "EQUAL" in expected:
        return f"options are written key=value, e.g. color=blue; is '{text}' a misplaced word?"
    if ttype == "NAME" and head == "lesson" and "TEXT" not in expected and "STRING" in expected:
        return 'the lesson title is a string: lesson "The Pythagorean Theorem"'
    if ttype == "NAME" and head == "section":
        return 'a section is written: section ID "Title" [duration]'
    return None


def _check_indentation_chars(src: Source) -> None:
    """Reject mixed tabs and spaces before parsing: their width is ambiguous."""
    if "\t" not in src.text:  # spaces only: nothing to mix
        return
    first_kind: tuple[str, int] | None = None
    for number, line in enumerate(src.text.split("\n"), start=1):
        body = line.lstrip(" \t")
        if not body or body.startswith("#"):
            continue
        indent = line[: len(line) - len(body)]
        if not indent:
            continue
        kinds = set(indent)
        if len(kinds) > 1:
            col = indent.index("\t" if indent[0] == " " else " ") + 1
            raise DiagnosticError([Diagnostic(
                "error", "this line's indentation mixes tabs and spaces",
                Span(src.name, number, col, number, len(indent) + 1),
                "indent with spaces only (most editors can convert tabs to spaces)", "tabs")])
        kind = "\t" if "\t" in kinds else " "
        if first_kind is None:
            first_kind = (kind, number)
        elif first_kind[0] != kind:
            what = "tabs" if kind == "\t" else "spaces"
            other = "spaces" if kind == "\t" else "tabs"
            raise DiagnosticError([Diagnostic(
                "error", f"this line is indented with {what}, but line {first_kind[1]} uses {other}",
                Span(src.name, number, 1, number, len(indent) + 1),
                "indent with spaces only (most editors can convert tabs to spaces)", "tabs")])


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while building or checking a model. A model is millions
    of small acyclic objects, and each full collection (the checks' own allocations set
    them off too) walks all of them again: a 2 MB lesson took twice as long to build, and
    its checks 2.5 times as long, with it running. Reference counting frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_COMMENT_IN_NEWLINE = re.compile(r"#[^\n]*")


def parse(src: Source, functions: Mapping[str, lalr.Function]) -> tuple[Any, list[Comment]]:
    """Parse normalised lesson text, building it bottom-up with `functions` (a rule's name ->
    its function of the rule's children and extent; see lalr.py). Returns the start rule's
    value and the comments. Raises DiagnosticError on any syntax error."""
    if not src.text.strip():
        raise DiagnosticError([Diagnostic(
            "error", "the lesson is empty", Span.point(src.name, 1, 1),
            'start with a header: lesson "Title", then a section', "empty")], src.text)
    _check_indentation_chars(src)
    comments: list[Comment] = []
    text = src.text
    lines = src.lines  # offsets -> (line, column) in O(log n): counting from the start was quadratic

    def on_comment(value: str, start: lalr.Pos, line_start: int) -> None:
        whole = not text[line_start:start[0]].strip()
        comments.append(Comment(start[1], start[2], value[1:].rstrip(), whole))

    def on_newline(value: str, start: lalr.Pos, line_start: int) -> None:
        if "#" not in value:
            return
        for m in _COMMENT_IN_NEWLINE.finditer(value):
            line, col = lines.line_column(start[0] + m.start())
            comments.append(Comment(line, col, m.group()[1:].rstrip(), True))

    try:
        with gc_paused():
            result = lalr.run(_tables(), text, functions, {"COMMENT": on_comment, "_NL": on_newline})
    except lalr.BadIndent as exc:
        raise DiagnosticError([_indentation_error(src.name, exc.line, exc.indent, exc.expected)],
                              src.text) from None
    except lalr.NotInLanguage:
        raise DiagnosticError([_syntax_diagnostic(src, _lark_error(src))], src.text) from None
    comments.sort(key=lambda c: (c.line, c.column))
    # The same comment can be seen twice (ignored COMMENT and inside _NL): keep one.
    unique: list[Comment] = []
    for c in comments:
        if not unique or (unique[-1].line, unique[-1].column) != (c.line, c.column):
            unique.append(c)
    return result, unique


def _lark_error(src: Source) -> UnexpectedInput:
    """The error Lark reports for a text the fast loop rejected: the same automaton, run
    by Lark, stops at the same token and explains it (expected tokens, parser state)."""
    try:
        with _PARSE_LOCK:  # the indenter is shared state
            parser = _parser()
            indenter = parser.options.postlex
            assert isinstance(indenter, _LessonIndenter)
            indenter.file = src.name
            parser.parse(src.text)
    except UnexpectedInput as exc:
        return exc
    except DiagnosticError as exc:  # an indentation error before the syntax error
        exc.source = src.text
        raise
    raise AssertionError("Lark accepts a lesson that the parser's loop rejected")


def _grammar_text() -> str:
    return (GRAMMAR_DIR / "lecture.lark").read_text(encoding="utf-8")


_PARSE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _tables() -> lalr.Tables:
    indenter = _LessonIndenter
    return lalr.compile_tables(_parser(), indenter.NL_type, indenter.INDENT_type, indenter.DEDENT_type)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        _grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=_LessonIndenter(),
        maybe_placeholders=True,
        cache=_grammar_cache_file(),  # building the LALR tables costs ~0.2 s at every start
    )


def _grammar_cache_file() -> str | bool:
    """Lark's table cache, in the user's cache folder, named by the grammar's hash (so an
    edited grammar is never read from a stale cache)."""
    import hashlib

    import lark

    root = user_cache_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    digest = hashlib.sha256((_grammar_text() + lark.__version__).encode()).hexdigest()[:16]
    return str(root / f"grammar-{digest}.lark-cache")
