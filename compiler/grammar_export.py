"""The lesson grammar in the forms model servers accept for grammar-guided decoding,
generated from grammar/lecture.lark (`lecture grammar --format gbnf|lark`).

- `gbnf`: llama.cpp's GBNF (its `grammar` request field; vLLM's `guided_grammar` with the
  xgrammar backend reads the same EBNF);
- `lark`: a self-contained Lark grammar (vLLM's `guided_grammar` with a Lark backend).

Both are character-level: the Lark grammar's rules are kept as written (EBNF), its
terminals' regular expressions are translated (sre_parse trees; lookaheads are dropped,
lazy repeats become greedy), `%ignore`d blanks become an optional `ws` after each token,
and the indenter's blocks become fixed indentation: each line of a block one level (two
spaces) deeper, as `lecture fmt` writes it. So the exported grammar accepts every
formatted lesson (tested on the examples), and may accept a few texts the compiler refuses
(two names run together, a keyword as a name): the checker still reads every answer.

`root="section"` gives the grammar of one section, the unit the Planner asks for.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from re import _constants as sre_c
from re import _parser as sre_parse
from typing import Any

from lark import Token, Tree
from lark.grammar import NonTerminal, Terminal
from lark.load_grammar import GrammarBuilder

FORMATS = ("gbnf", "lark")
ROOTS = ("lesson", "section")
INDENT = "  "
MAX_CHAR = 0x10FFFF


# ------------------------------------------------------------------ the IR


@dataclass(frozen=True)
class Lit:
    text: str


@dataclass(frozen=True)
class Cls:
    ranges: tuple[tuple[int, int], ...]
    negated: bool = False


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Seq:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Alt:
    options: tuple[Any, ...]


@dataclass(frozen=True)
class Rep:
    item: Any
    min: int  # 0 or 1
    max: int | None  # 1 or None (unbounded)


Rules = dict[str, Any]


# ------------------------------------------------------------------ regex -> IR

_CATEGORIES: dict[Any, tuple[tuple[tuple[int, int], ...], bool]] = {
    sre_c.CATEGORY_DIGIT: (((48, 57),), False),
    sre_c.CATEGORY_NOT_DIGIT: (((48, 57),), True),
    sre_c.CATEGORY_SPACE: (((9, 13), (32, 32)), False),
    sre_c.CATEGORY_NOT_SPACE: (((9, 13), (32, 32)), True),
    sre_c.CATEGORY_WORD: (((48, 57), (65, 90), (95, 95), (97, 122)), False),
    sre_c.CATEGORY_NOT_WORD: (((48, 57), (65, 90), (95, 95), (97, 122)), True),
}


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, start = [], 0
    for lo, hi in sorted(ranges):
        if lo > start:
            out.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= MAX_CHAR:
        out.append((start, MAX_CHAR))
    return out


def _char_class(items: list[tuple[Any, Any]]) -> Cls:
    negated, ranges = False, []
    for op, arg in items:
        if op is sre_c.NEGATE:
            negated = True
        elif op is sre_c.LITERAL:
            ranges.append((arg, arg))
        elif op is sre_c.RANGE:
            ranges.append(arg)
        elif op is sre_c.CATEGORY:
            cat, neg = _CATEGORIES[arg]
            ranges += _complement(list(cat)) if neg else list(cat)
        else:
            raise ValueError(f"regex class item {op} is not exported")
    return Cls(tuple(sorted(set(ranges))), negated)


def _regex(pattern: Any) -> Any:
    items: list[Any] = []
    for op, arg in pattern:
        if op is sre_c.LITERAL:
            items.append(Lit(chr(arg)))
        elif op is sre_c.NOT_LITERAL:
            items.append(Cls(((arg, arg),), True))
        elif op is sre_c.ANY:
            items.append(Cls(((10, 10),), True))
        elif op is sre_c.IN:
            items.append(_char_class(arg))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            low, high, sub = arg
            body = _regex(sub)
            items += [body] * low
            if high is sre_c.MAXREPEAT:
                items.append(Rep(body, 0, None))
            else:
                items += [Rep(body, 0, 1)] * (high - low)
        elif op is sre_c.SUBPATTERN:
            items.append(_regex(arg[-1]))
        elif op is sre_c.BRANCH:
            items.append(Alt(tuple(_regex(alt) for alt in arg[1])))
        elif op in (sre_c.ASSERT_NOT, sre_c.ASSERT, sre_c.AT):
            continue  # lookarounds: the exported grammar may accept a little more
        else:
            raise ValueError(f"regex operator {op} is not exported")
    merged: list[Any] = []
    for item in items:  # "m" "s" -> "ms"
        if isinstance(item, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(merged[-1].text + item.text)
        else:
            merged.append(item)
    return merged[0] if len(merged) == 1 else Seq(tuple(merged))


# ------------------------------------------------------------------ Lark EBNF -> IR


def _rule_name(name: str, depth: int | None) -> str:
    base = name.strip("_").lower().replace("_", "-") or "x"
    return base if depth is None else f"{base}-{depth}"


class _Builder:
    def __init__(self, text: str) -> None:
        builder = GrammarBuilder()
        builder.load_grammar(text, "<lecture>")
        grammar = builder.build()
        self.trees = {name: tree for name, _params, tree, _options in grammar.rule_defs}
        self.terms = {name: tree for name, (tree, _priority) in grammar.term_defs if tree is not None}
        self.rules: Rules = {}
        self.blocky = {name for name in self.trees if self._has_block(name, set())}

    def _has_block(self, name: str, seen: set[str]) -> bool:
        if name in seen:
            return False
        seen.add(name)
        tree = self.trees[name]
        if any(isinstance(t, Terminal) and t.name == "_INDENT" for t in tree.scan_values(lambda v: True)):
            return True
        rules = tree.scan_values(lambda v: isinstance(v, NonTerminal) and v.name in self.trees)
        return any(self._has_block(v.name, seen) for v in rules)

    def rule(self, name: str, depth: int) -> str:
        """The IR rule of a Lark rule whose lines start at `depth` (its name)."""
        key = _rule_name(name, depth if name in self.blocky else None)
        if key not in self.rules:
            self.rules[key] = Lit("")  # (a placeholder against recursion)
            self.rules[key] = self._expansions(self.trees[name], depth)
        return key

    def terminal(self, name: str) -> Any:
        if name == "_NL":
            return Ref("nl")
        key = _rule_name(name, None)
        if key not in self.rules:
            literal: Any = self.terms[name].children[0].children[0].children[0].children[0]  # (the REGEXP)
            self.rules[key] = _regex(sre_parse.parse(literal.value[1:literal.value.rindex("/")]))
        return Seq((Ref(key), Ref("ws")))

    def _expansions(self, tree: Tree, depth: int) -> Any:
        options = tuple(self._expansion(child, depth) for child in tree.children)
        return options[0] if len(options) == 1 else Alt(options)

    def _expansion(self, tree: Tree, depth: int) -> Any:
        if tree.data == "alias":
            tree = tree.children[0]
        items: list[Any] = []
        children = list(tree.children)
        i = 0
        while i < len(children):
            child = children[i]
            if self._is(child, "_INDENT"):  # a block: each repeated item is a line one level deeper
                block = children[i + 1]
                inner = self._item(block.children[0], depth + 1)
                line = Seq((Lit(INDENT * (depth + 1)), inner))
                items.append(Rep(line, 1, None))
                i += 3  # _INDENT, item+, _DEDENT
                continue
            items.append(self._item(child, depth))
            i += 1
        return items[0] if len(items) == 1 else Seq(tuple(items))

    @staticmethod
    def _is(node: Any, terminal: str) -> bool:
        return isinstance(node, Tree) and node.data == "value" and isinstance(node.children[0], Terminal) \
            and node.children[0].name == terminal

    def _item(self, node: Any, depth: int) -> Any:
        if node.data == "value":
            value = node.children[0]
            if isinstance(value, Terminal):
                return self.terminal(value.name)
            if isinstance(value, NonTerminal):
                return Ref(self.rule(value.name, depth))
            return self._item(value, depth)
        if node.data == "literal":
            token: Token = node.children[0]
            return Seq((Lit(token.value[1:-1].replace('\\"', '"')), Ref("ws")))
        if node.data == "maybe":
            return Rep(self._expansions(node.children[0], depth), 0, 1)
        if node.data == "expr":
            body, op = self._item(node.children[0], depth), node.children[1]
            return Rep(body, *{"?": (0, 1), "*": (0, None), "+": (1, None)}[op.value])
        if node.data == "expansions":
            return self._expansions(node, depth)
        if node.data in ("expansion", "alias"):
            return self._expansion(node, depth)
        raise ValueError(f"grammar node {node.data} is not exported")


@functools.lru_cache(maxsize=4)
def grammar_rules(root: str = "lesson") -> tuple[tuple[str, Any], ...]:
    """The IR of the lesson grammar: (name, body) pairs, `root` first."""
    if root not in ROOTS:
        raise ValueError(f"root must be one of {', '.join(ROOTS)}")
    text = resources.files("lecture.grammar").joinpath("lecture.lark").read_text("utf-8")
    builder = _Builder(text)
    top = builder.rule("start" if root == "lesson" else "section", 0)
    comment = Seq((Lit("#"), Rep(Cls(((10, 10),), True), 0, None)))
    blank = Seq((Rep(Cls(((9, 9), (32, 32))), 0, None), Rep(comment, 0, 1), Lit("\n")))
    tail = Rep(Seq((Rep(Cls(((9, 9), (32, 32))), 0, None), Rep(comment, 0, 1))), 0, 1)
    rules: Rules = {"root": Seq((Rep(Ref("blank"), 0, None), Ref(top), tail))}
    rules.update(builder.rules)
    rules["blank"] = blank
    rules["nl"] = Seq((Rep(comment, 0, 1), Rep(Lit("\r"), 0, 1), Lit("\n"), Rep(Ref("blank"), 0, None)))
    rules["ws"] = Rep(Cls(((9, 9), (12, 12), (32, 32))), 0, None)
    return tuple(rules.items())


# ------------------------------------------------------------------ IR -> text


def _gbnf_char(code: int, in_class: bool) -> str:
    char = chr(code)
    escapes = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
    if char in escapes:
        return escapes[char]
    if in_class and char in "]^-[":
        return "\\" + char
    if not in_class and char == '"':
        return '\\"'
    if code < 32 or code == 127:
        return f"\\x{code:02X}"
    if code > 0xFFFF:
        return f"\\U{code:08X}"
    return char


def _class_text(cls: Cls, char: Any) -> str:
    parts = [char(lo, True) if lo == hi else f"{char(lo, True)}-{char(hi, True)}" for lo, hi in cls.ranges]
    return "[" + ("^" if cls.negated else "") + "".join(parts) + "]"


def _gbnf(node: Any, names: dict[str, str]) -> str:
    if isinstance(node, Lit):
        return '"' + "".join(_gbnf_char(ord(c), False) for c in node.text) + '"'
    if isinstance(node, Cls):
        return _class_text(node, _gbnf_char)
    if isinstance(node, Ref):
        return names[node.name]
    if isinstance(node, Seq):
        return " ".join(_grouped(item, names, _gbnf) for item in node.items if item != Lit(""))
    if isinstance(node, Alt):
        return " | ".join(_gbnf(option, names) for option in node.options)
    if isinstance(node, Rep):
        op = {(0, 1): "?", (0, None): "*", (1, None): "+"}[(node.min, node.max)]
        return _grouped(node.item, names, _gbnf, always=True) + op
    raise TypeError(node)


def _grouped(node: Any, names: dict[str, str], emit: Any, always: bool = False) -> str:
    text = emit(node, names)
    if isinstance(node, Alt) or (always and isinstance(node, Seq | Rep)):
        return f"({text})"
    return text


def _lark_char(code: int, in_class: bool) -> str:
    char = chr(code)
    if char in "\\]^-[/":
        return "\\" + char
    if code < 32 or code == 127 or code > 0xFFFF:
        return f"\\U{code:08x}" if code > 0xFFFF else f"\\x{code:02x}"
    return char


def _lark(node: Any, names: dict[str, str]) -> str:
    if isinstance(node, Lit):
        return '""' if not node.text else ('"' + node.text.replace("\\", "\\\\").replace('"', '\\"')
                                             .replace("\n", "\\n").replace("\r", "\\r")
                                             .replace("\t", "\\t") + '"')
    if isinstance(node, Cls):
        return "/" + _class_text(node, _lark_char) + "/"
    if isinstance(node, Ref):
        return names[node.name]
    if isinstance(node, Seq):
        return " ".join(_grouped(item, names, _lark) for item in node.items if item != Lit(""))
    if isinstance(node, Alt):
        return " | ".join(_lark(option, names) for option in node.options)
    if isinstance(node, Rep):
        op = {(0, 1): "?", (0, None): "*", (1, None): "+"}[(node.min, node.max)]
        return _grouped(node.item, names, _lark, always=True) + op
    raise TypeError(node)


def export_grammar(fmt: str = "gbnf", *, root: str = "lesson") -> str:
    """The lesson grammar (or one section's, root="section") as GBNF or Lark text."""
    rules = grammar_rules(root)
    header = (f"# The Lecture lesson language ({'one section' if root == 'section' else 'a lesson'}), "
              f"generated from grammar/lecture.lark by `lecture grammar --format {fmt}"
              f"{' --root section' if root == 'section' else ''}`.\n")
    if fmt == "gbnf":
        names = {name: name for name, _ in rules}
        return header + "".join(f"{name} ::= {_gbnf(body, names)}\n" for name, body in rules)
    if fmt == "lark":
        names = {name: re.sub(r"\W", "_", name) for name, _ in rules}
        names["root"] = "start"
        lines = [f"{names[name]}: {_lark(body, names)}" for name, body in rules]
        return header.replace("#", "//", 1) + "\n".join(lines) + "\n"
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")
