"""One tight loop that lexes, indents and parses a lesson with the tables Lark compiled
from `grammar/lecture.lark`, and builds its result bottom-up with the caller's functions.

Lark's own loop made a 2 MB lesson take 4 s: a Token object per token, a generator per
stage (lexer, indenter, parser), a Tree per rule with its positions propagated, and then
a Transformer walking the tree again. This loop runs the same automaton (Lark's
contextual lexers, one per parser state, and its LALR table) over plain values instead,
so the language is Lark's by construction. It does not explain errors: on any text Lark
would reject it raises `NotInLanguage`, and the caller lets Lark parse the text again to
report the error exactly as before (only bad lessons pay for that).

A rule's function gets its children as Lark shapes them (anonymous tokens left out,
`[optional]` parts as None, `_inlined` rules spliced in) and the rule's extent, the start
of its first token and the end of its last, as Lark's `propagate_positions` computes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple

from lark import Lark
from lark.lexer import PatternStr, UnlessCallback
from lark.parsers.lalr_analysis import Shift

Pos = tuple[int, int, int]  # character offset, line, column: where a token starts or ends
Function = Callable[[list[Any], Pos | None, Pos | None], Any]
Hook = Callable[[str, Pos, int], None]  # a token's text, its start, where its line starts
Feed = Callable[[str, Any, Pos | None, Pos | None], Any]


class Lexeme(NamedTuple):
    """A token a rule keeps (a name, a string, a number…): its text, start and end."""

    text: str
    start: Pos
    end: Pos


_lexeme = partial(tuple.__new__, Lexeme)  # Lexeme((text, start, end)) without a Python-level call


class NotInLanguage(Exception):
    """The text is not a lesson: Lark, parsing it again, says where and why."""


class BadIndent(Exception):
    """A line's indentation matches no enclosing block (Lark's indenter would raise too)."""

    def __init__(self, line: int, indent: int, expected: int) -> None:
        super().__init__(line, indent, expected)
        self.line, self.indent, self.expected = line, indent, expected


class _StateLexer(NamedTuple):
    """What Lark's lexer for one parser state matches: its patterns, the types it skips or
    counts lines in, and the keywords a NAME-like match turns into."""

    patterns: tuple[Any, ...]  # compiled alternations, tried in order
    ignore: frozenset[str]
    newline: frozenset[str]
    keywords: Mapping[str, Mapping[str, str]]  # type -> the keywords it matches whole -> their type


@dataclass(frozen=True)
class _Rule:
    name: str  # the function to call: the rule's alias or name
    origin: str  # the nonterminal it reduces to (the goto)
    size: int
    include: tuple[tuple[int, bool, int], ...]  # (child index, splice it, Nones before it)
    trailing_nones: int
    inline: bool  # an `_rule` (or a generated `__rule`): its children go to its parent
    expand_single: bool  # a `?rule` with one child is that child


@dataclass(frozen=True)
class Tables:
    """Lark's compiled automaton for one grammar, in the form the loop reads."""

    actions: dict[int, dict[str, tuple[bool, int]]]  # state -> lookahead -> (shift?, state or rule)
    rules: tuple[_Rule, ...]
    lexers: _Lexers
    start: int
    end: int
    kept: frozenset[str]  # token types some rule keeps as a child (the others become None)
    newline_type: str
    indent_type: str
    dedent_type: str


def compile_tables(lark: Lark, newline_type: str, indent_type: str, dedent_type: str) -> Tables:
    """Read the automaton out of a Lark parser made with parser="lalr", lexer="contextual",
    maybe_placeholders=True and an Indenter as postlex (which must count an indentation
    as its number of characters)."""
    frontend = lark.parser
    table = frontend.parser.parser.parse_table
    contextual = frontend.lexer.lexer
    rules: dict[Any, int] = {}
    actions: dict[int, dict[str, tuple[bool, int]]] = {}
    for state, row in table.states.items():
        actions[state] = {}
        for lookahead, (action, arg) in row.items():
            if action is Shift:
                actions[state][lookahead] = (True, arg)
            else:
                actions[state][lookahead] = (False, rules.setdefault(arg, len(rules)))
    kept = frozenset(sym.name for rule in rules for sym in rule.expansion
                     if sym.is_term and not sym.filter_out)
    return Tables(actions, tuple(_compile_rule(rule) for rule in rules),
                  _Lexers(contextual.lexers),
                  table.start_states["start"], table.end_states["start"], kept,
                  newline_type, indent_type, dedent_type)


def _compile_rule(rule: Any) -> _Rule:
    """Lark's child filter for one rule (parse_tree_builder.maybe_create_child_filter)."""
    expansion = rule.expansion
    empty = rule.options.empty_indices
    if empty:
        ones = "".join(str(int(b)) for b in empty).split("0")
        nones_at = [len(run) for run in ones]
    else:
        nones_at = [0] * (len(expansion) + 1)
    include = []
    nones = 0
    for i, sym in enumerate(expansion):
        nones += nones_at[i]
        if rule.options.keep_all_tokens or not (sym.is_term and sym.filter_out):
            include.append((i, not sym.is_term and sym.name.startswith("_"), nones))
            nones = 0
    nones += nones_at[len(expansion)]
    name = rule.alias or rule.options.template_source or rule.origin.name
    return _Rule(str(name), str(rule.origin.name), len(expansion), tuple(include), nones,
                 name.startswith("_"), bool(rule.options.expand1 and not rule.alias))


class _Lexers(dict[int, _StateLexer]):
    """The lexer of each parser state, made when the state is first reached: compiling all
    of them would cost every `lecture check` of a small lesson some milliseconds."""

    def __init__(self, lark_lexers: Mapping[int, Any]) -> None:
        super().__init__()
        self._lark_lexers = lark_lexers

    def __missing__(self, state: int) -> _StateLexer:
        lexer = self[state] = _state_lexer(self._lark_lexers[state])
        return lexer


def _state_lexer(lexer: Any) -> _StateLexer:
    scanner = lexer.scanner  # builds the patterns and `lexer.callback`
    keywords: dict[str, dict[str, str]] = {}
    for type_, callback in lexer.callback.items():
        # Lark retypes a NAME that is a whole keyword of this state ("in" -> IN); keywords
        # are plain strings, so a full match is equality.
        if not isinstance(callback, UnlessCallback):
            raise TypeError(f"unsupported lexer callback on {type_}: the loop knows only keywords")
        words = callback.scanner.terminals
        if not all(isinstance(t.pattern, PatternStr) and not t.pattern.flags for t in words):
            raise TypeError(f"unsupported keywords of {type_}: the loop knows only plain strings")
        keywords[type_] = {t.pattern.value: t.name for t in words}
    return _StateLexer(tuple(scanner._mres), lexer.ignore_types, lexer.newline_types, keywords)


def _shaper(rule: _Rule, function: Function | None) -> Function:
    """The reduce step of one rule: its children shaped as Lark shapes them, then the
    rule's function (or, for an inlined rule, the children themselves)."""
    include, trailing = rule.include, rule.trailing_nones
    simple = trailing == 0 and all(not splice and not nones for _, splice, nones in include)
    indices = tuple(i for i, _, _ in include)
    whole = simple and indices == tuple(range(rule.size))
    if whole and function is not None and not rule.inline and not rule.expand_single:
        return function  # the children are the values as they are (most rules with no keywords)
    if whole:
        def shape(values: list[Any]) -> list[Any]:
            return values
    elif simple and len(indices) == 1:
        only = indices[0]

        def shape(values: list[Any]) -> list[Any]:
            return [values[only]]
    elif simple and indices:
        pick = itemgetter(*indices)

        def shape(values: list[Any]) -> list[Any]:
            return list(pick(values))
    else:
        def shape(values: list[Any]) -> list[Any]:
            out: list[Any] = []
            for i, splice, nones in include:
                if nones:
                    out += [None] * nones
                if splice:
                    if out:
                        out += values[i]
                    else:  # a left-recursive list grows in place
                        out = values[i]
                else:
                    out.append(values[i])
            if trailing:
                out += [None] * trailing
            return out

    if rule.inline:
        return lambda values, start, end: shape(values)
    single = rule.expand_single and len(include) == 1 and not include[0][1] and not trailing
    if function is None and single:  # `?rule: x` passes x on
        return lambda values, start, end: values[include[0][0]]
    if function is None:
        raise TypeError(f"no function for the rule {rule.name!r}")
    if rule.expand_single:
        def reduce_single(values: list[Any], start: Pos | None, end: Pos | None) -> Any:
            children = shape(values)
            return children[0] if len(children) == 1 else function(children, start, end)
        return reduce_single
    return lambda values, start, end: function(shape(values), start, end)


def run(tables: Tables, text: str, functions: Mapping[str, Function],
        hooks: Mapping[str, Hook] | None = None) -> Any:
    """Lex, indent and parse `text` (LF line ends), calling `functions[rule name]` for each
    rule as it is reduced and `hooks[type]` for each token of that type (kept or skipped).
    Returns the start rule's value. Raises NotInLanguage or BadIndent."""
    hooks = hooks or {}
    feed, states = _automaton(tables, functions)
    lexers, kept = tables.lexers, tables.kept
    newline_type, indent_type, dedent_type = tables.newline_type, tables.indent_type, tables.dedent_type
    pos, line, line_start, size = 0, 1, 0, len(text)
    levels = [0]
    previous: tuple[Pos, Pos] | None = None  # the last token not skipped: the end tokens borrow its place
    while pos < size:
        patterns, ignore, newline, keywords = lexers[states[-1]]  # Lark's contextual lexer
        for pattern in patterns:
            match = pattern.match(text, pos)
            if match:
                break
        else:
            raise NotInLanguage(pos)
        value, type_ = match.group(), match.lastgroup
        start = (pos, line, pos - line_start + 1)
        if type_ in newline:
            count = value.count("\n")
            if count:
                line += count
                line_start = pos + value.rindex("\n") + 1
        pos += len(value)
        end = (pos, line, pos - line_start + 1)
        if type_ in hooks:
            hooks[type_](value, start, start[0] - start[2] + 1)
        if type_ in ignore:
            continue
        if type_ in keywords:
            type_ = keywords[type_].get(value, type_)
        feed(type_, _lexeme((value, start, end)) if type_ in kept else None, start, end)
        previous = start, end
        if type_ == newline_type:  # Lark's Indenter.handle_NL
            indent = len(value) - value.rfind("\n") - 1
            if indent > levels[-1]:
                levels.append(indent)
                feed(indent_type, None, start, end)
                continue
            while indent < levels[-1]:
                levels.pop()
                feed(dedent_type, None, start, end)
            if indent != levels[-1]:
                raise BadIndent(end[1], indent, levels[-1])
    if previous is None:  # nothing but skipped text (the tokens' places matter for errors only)
        previous = ((0, 1, 1), (0, 1, 1))
    for _ in levels[1:]:
        feed(dedent_type, None, *previous)
    result = feed("$END", None, *previous)
    if states[-1] != tables.end:
        raise NotInLanguage("$END")
    return result


def _automaton(tables: Tables, functions: Mapping[str, Function]) -> tuple[Feed, list[int]]:
    """Lark's LALR parser: `feed` takes one token (type, value, start, end) and returns the
    start rule's value once the end token completes it; the state stack tells the lexer
    which tokens may come next."""
    rules = [(rule.size, rule.origin, _shaper(rule, functions.get(rule.name)), _passes_on(rule, functions))
             for rule in tables.rules]
    actions, end_state = tables.actions, tables.end
    states = [tables.start]
    values: list[Any] = []
    starts: list[Pos | None] = []
    ends: list[Pos | None] = []

    def feed(type_: str, value: Any, start: Pos | None, end: Pos | None) -> Any:
        """Reduce while the table says so, then shift the token."""
        while True:
            try:
                shift, arg = actions[states[-1]][type_]
            except KeyError:
                raise NotInLanguage(type_) from None
            if shift:
                states.append(arg)
                values.append(value)
                starts.append(start)
                ends.append(end)
                return None
            size, origin, reduce, passes_on = rules[arg]
            if size == 1:  # the commonest case, in place: the extent is the child's
                if not passes_on:
                    values[-1] = reduce([values[-1]], starts[-1], ends[-1])
                states[-1] = actions[states[-2]][origin][1]
            else:
                if size:
                    children = values[-size:]
                    first, last = starts[-size], ends[-1]
                    if first is None or last is None:  # an empty child takes no space
                        first, last = _extent(starts[-size:], ends[-size:])
                    del states[-size:], values[-size:], starts[-size:], ends[-size:]
                else:
                    children, first, last = [], None, None
                values.append(reduce(children, first, last))
                states.append(actions[states[-1]][origin][1])
                starts.append(first)
                ends.append(last)
            if states[-1] == end_state and type_ == "$END":
                return values[-1]

    return feed, states


def _passes_on(rule: _Rule, functions: Mapping[str, Function]) -> bool:
    """A `?rule: x` with no function of its own: its value is x's."""
    return (rule.expand_single and rule.name not in functions and rule.size == 1 and not rule.trailing_nones
            and rule.include == ((0, False, 0),))


def _extent(starts: list[Pos | None], ends: list[Pos | None]) -> tuple[Pos | None, Pos | None]:
    first = next((s for s in starts if s is not None), None)
    last = next((e for e in reversed(ends) if e is not None), None)
    return first, last
