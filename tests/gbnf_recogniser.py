"""A small GBNF recogniser for the tests: GBNF text (as llama.cpp reads it) -> one Python
regular expression, by inlining every rule into `root` (the lesson grammar has no recursive
rule once its blocks have fixed indentation, so it is regular). Written apart from
compiler/grammar_export.py, from the GBNF text alone, so that a test of it checks the text
a server would receive."""

from __future__ import annotations

import re

_TOKEN = re.compile(r'''
    (?P<space>\s+|\#[^\n]*)
  | (?P<name>[A-Za-z][A-Za-z0-9-]*)
  | (?P<define>::=)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<cls>\[(?:[^\]\\]|\\.)*\])
  | (?P<op>[()|*+?])
''', re.X)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "]": "]", "[": "[", "^": "^", "-": "-"}


def _unescape(body: str) -> list[str]:
    """The characters of a GBNF string or class body, each escape resolved (one item each)."""
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            kind = body[i + 1]
            if kind in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[kind]
                out.append(chr(int(body[i + 2:i + 2 + width], 16)))
                i += 2 + width
                continue
            out.append("\\" + _ESCAPES[kind] if kind in "]^-[" else _ESCAPES[kind])
            i += 2
            continue
        out.append(c)
        i += 1
    return out


def _class_regex(text: str) -> str:
    body = text[1:-1]
    negated = body.startswith("^")
    chars = _unescape(body[1:] if negated else body)
    parts = []
    for c in chars:
        if c.startswith("\\"):  # an escaped ] ^ - [: literal
            parts.append(re.escape(c[1:]))
        elif c == "-":
            parts.append("-")
        else:
            parts.append(re.escape(c))
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def parse_gbnf(text: str) -> dict[str, list[tuple[str, str]]]:
    """rule name -> its tokens (kind, text)."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup != "space"]
    rules: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for i, (kind, value) in enumerate(tokens):
        if kind == "name" and i + 1 < len(tokens) and tokens[i + 1][0] == "define":
            current = rules.setdefault(value, [])
            continue
        if kind == "define":
            continue
        assert current is not None, f"text before the first rule: {value!r}"
        current.append((kind, value))
    return rules


def gbnf_regex(text: str, root: str = "root") -> re.Pattern[str]:
    rules = parse_gbnf(text)
    memo: dict[str, str] = {}

    def rule(name: str, stack: tuple[str, ...]) -> str:
        if name in stack:
            raise ValueError(f"recursive rule {name}")
        if name not in memo:
            out = []
            for kind, value in rules[name]:
                if kind == "name":
                    out.append(f"(?:{rule(value, stack + (name,))})")
                elif kind == "string":
                    out.append("".join(re.escape(c.lstrip("\\") if len(c) == 2 and c[0] == "\\" else c)
                                       for c in _unescape(value[1:-1])))
                elif kind == "cls":
                    out.append(_class_regex(value))
                elif value == "(":
                    out.append("(?:")
                else:
                    out.append(value)
            memo[name] = "".join(out)
        return memo[name]

    return re.compile(rule(root, ()), re.S)


def accepts(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.fullmatch(text) is not None
