"""Parts of elements: which parts each kind has, whether one exists, and the terms of a formula.

A reference may point at a part of an element, written like indexing after its id (model.Part):
a formula's term by its TeX (`eq[$b^2$]`), a table cell, row or column (`t[2, 3]`, `t[row 2]`,
`t[column 3]`), a list item (`steps[2]`), a code line (`prog[line 4]`). Which kinds have which
parts is `KindSpec.parts` (compiler.kinds); this module answers the rest from the lesson alone,
for the checks (a part that does not exist is a diagnostic that lists the ones that do), the
lowering (the terms a formula isolates) and the runtime (where a term occurs in the TeX, for the
scene helper that finds its glyphs: runtime/part_support.py).

Terms are matched on TeX tokens, not characters: `b^2` is found in `a^2 + b^2` and in
`a^2+b^2`, but `a` is not found inside `\\alpha`, and a term must be whole groups (`{x}` but
not `{x`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from . import model as m
from .kinds import KINDS, PARTS

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.DOTALL)


@dataclass(frozen=True)
class TexToken:
    text: str
    start: int  # offsets into the formula's text
    end: int


def tex_tokens(tex: str) -> list[TexToken]:
    """The TeX tokens of a formula, white space left out (it never changes a formula)."""
    return [TexToken(t.group(), t.start(), t.end()) for t in _TOKEN.finditer(tex) if not t.group().isspace()]


def term_key(term: str) -> str:
    """A term written canonically: its tokens, with a space only where one is needed (after a
    command before a letter). `a^2+b^2` and `a^2 + b^2` have the same key."""
    out = ""
    for token in tex_tokens(term):
        if out and re.search(r"\\[A-Za-z]+\Z", out) and token.text[:1].isalpha():
            out += " "
        out += token.text
    return out


def _balanced(tokens: list[TexToken]) -> bool:
    depth = 0
    for token in tokens:
        depth += {"{": 1, "}": -1}.get(token.text, 0)
        if depth < 0:
            return False
    return depth == 0


def term_spans(tex: str, term: str) -> list[tuple[int, int]]:
    """Where a term occurs in a formula: (start, end) offsets of each occurrence, matched on
    whole tokens; none when the term is empty or not whole groups."""
    want = [t.text for t in tex_tokens(term)]
    if not want or not _balanced(tex_tokens(term)):
        return []
    have = tex_tokens(tex)
    spans = []
    i = 0
    while i + len(want) <= len(have):
        if [t.text for t in have[i:i + len(want)]] == want:
            spans.append((have[i].start, have[i + len(want) - 1].end))
            i += len(want)
        else:
            i += 1
    return spans


# Where a formula splits into terms when a rearrangement carries them (`transform eq into eq2`):
# its operators and relations outside any group.
_SEPARATORS = frozenset("+ - = < > , ; & \\\\ \\pm \\mp \\times \\cdot \\div \\le \\leq \\ge \\geq "
                        "\\ne \\neq \\approx \\equiv \\sim \\simeq \\propto \\to \\rightarrow "
                        "\\Rightarrow \\implies \\iff \\Leftrightarrow \\quad \\qquad".split())
_OPEN = frozenset({"{", "\\left", "\\begin"})
_CLOSE = frozenset({"}", "\\right", "\\end"})


def top_level_terms(tex: str) -> list[str]:
    """The terms of a formula between its top-level operators and relations, as written, in
    order and each once: `a^2 + b^2 = c^2` has a^2, b^2 and c^2; `\\frac{a}{b} = c` has
    \\frac{a}{b} and c."""
    terms: list[str] = []
    run: list[TexToken] = []
    depth = 0

    def flush() -> None:
        if run and _balanced(run):
            term = _uncoloured(tex[run[0].start:run[-1].end])
            if term not in terms:
                terms.append(term)
        run.clear()

    for token in tex_tokens(tex):
        if depth == 0 and token.text in _SEPARATORS:
            flush()
            continue
        depth += 1 if token.text in _OPEN else -1 if token.text in _CLOSE else 0
        run.append(token)
    flush()
    return terms


_COLOURING = frozenset({"\\textcolor", "\\mathcolor"})


def _uncoloured(term: str) -> str:
    """`\\textcolor{orange}{b^2}` is the term b^2 in a colour: the term is what it colours."""
    tokens = tex_tokens(term)
    if len(tokens) < 2 or tokens[0].text not in _COLOURING or tokens[1].text != "{":
        return term
    groups: list[tuple[int, int]] = []  # (first, last) token of each top group after the command
    depth, first = 0, 0
    for i, token in enumerate(tokens[1:], start=1):
        if token.text == "{":
            depth += 1
            if depth == 1:
                first = i
        elif token.text == "}":
            depth -= 1
            if depth == 0:
                groups.append((first, i))
        elif depth == 0:
            return term  # something outside the two groups
    if len(groups) != 2 or groups[1][1] != len(tokens) - 1 or groups[1][1] - groups[1][0] < 2:
        return term
    return term[tokens[groups[1][0] + 1].start:tokens[groups[1][1] - 1].end]


# ---------------------------------------------------------------- parts of an element


def table_size(el: m.Element) -> tuple[int, int]:
    """Rows and columns of a table, as it is drawn (short rows are padded)."""
    rows = [len(r) for r in el.rows] or [len(el.texts)]
    return len(rows), max(rows, default=0)


def list_items(el: m.Element) -> int:
    return len(el.texts) + sum(len(r) for r in el.rows)


def code_lines(el: m.Element) -> list[str]:
    """The lines of a code listing as it is drawn (a trailing line break draws no line)."""
    source = el.texts[0].value if el.texts else ""
    return source.removesuffix("\n").split("\n")


def formula(el: m.Element) -> str:
    return el.texts[0].value if el.texts else ""


def part_words(part: m.Part) -> str:
    """A part as written after its element's id: `[$b^2$]`, `[2, 3]`, `[row 2]`."""
    if part.kind == "term":
        return f"[${part.term}$]"
    if part.kind == "cell":
        return f"[{part.numbers[0]}, {part.numbers[1]}]"
    if part.kind == "item":
        return f"[{part.numbers[0]}]"
    return f"[{part.kind} {part.numbers[0]}]"


def parts_available(el: m.Element) -> str:
    """What parts an element has, in words, for a hint."""
    spec = KINDS.get(el.kind)
    kinds = spec.parts if spec is not None else ()
    if not kinds:
        return f"{el.kind} elements have no parts; point at the whole element: {el.id}"
    if el.kind == "math":
        terms = top_level_terms(formula(el))
        shown = ", ".join(f"{el.id}[${t}$]" for t in terms[:6]) or f"{el.id}[$x$]"
        return f"its terms include {shown} (any whole group of its TeX is a term)"
    if el.kind == "table":
        rows, cols = table_size(el)
        return (f"it has {rows} row{'s' if rows != 1 else ''} and {cols} column{'s' if cols != 1 else ''}: "
                f"{el.id}[1, 1] to {el.id}[{rows}, {cols}], {el.id}[row 1], {el.id}[column 1]")
    if el.kind == "bullets":
        n = list_items(el)
        return f"it has {n} item{'s' if n != 1 else ''}: {el.id}[1] to {el.id}[{n}]"
    n = len(code_lines(el))
    return f"it has {n} line{'s' if n != 1 else ''}: {el.id}[line 1] to {el.id}[line {n}]"


def part_problem(el: m.Element, part: m.Part) -> str | None:
    """Why a part of this element does not exist (None: it does); the hint is parts_available."""
    spec = KINDS.get(el.kind)
    if spec is None:
        return None  # an unknown kind is reported by itself
    if part.kind not in spec.parts:
        if not spec.parts:
            return f"{el.kind} '{el.id}' has no parts"
        return f"{el.kind} '{el.id}' has no {part.kind}s; {PARTS[part.kind][0]} belongs to " \
               f"{_owner_words(part.kind)}"
    if part.kind == "term":
        return None if term_spans(formula(el), part.term) else \
            f"'{part.term}' is not a term of '{el.id}' (${formula(el)}$)"
    return _index_problem(el, part)


def _owner_words(part_kind: str) -> str:
    owners = [k for k, s in KINDS.items() if part_kind in s.parts]
    return " or ".join(f"a {k}" for k in owners) or "no kind"


def _index_problem(el: m.Element, part: m.Part) -> str | None:
    if el.kind == "table":
        rows, cols = table_size(el)
        if part.kind in ("cell", "row") and part.numbers[0] > rows:
            return f"table '{el.id}' has {rows} row{'s' if rows != 1 else ''}, not {part.numbers[0]}"
        column = part.numbers[1] if part.kind == "cell" else part.numbers[0] if part.kind == "column" else 0
        if column > cols:
            return f"table '{el.id}' has {cols} column{'s' if cols != 1 else ''}, not {column}"
        return None
    if el.kind == "bullets":
        n = list_items(el)
        return f"list '{el.id}' has {n} item{'s' if n != 1 else ''}, not {part.numbers[0]}" \
            if part.numbers[0] > n else None
    lines = code_lines(el)
    if part.numbers[0] > len(lines):
        return f"code '{el.id}' has {len(lines)} line{'s' if len(lines) != 1 else ''}, not {part.numbers[0]}"
    if not lines[part.numbers[0] - 1].strip():
        return f"line {part.numbers[0]} of code '{el.id}' is empty"
    return None


def referenced_terms(section: m.Section, element_id: str) -> list[str]:
    """The terms of a formula that the section points at, in order of first mention."""
    out: list[str] = []
    for ref in section_refs(section):
        if ref.name == element_id and ref.part is not None and ref.part.kind == "term" \
                and ref.part.term not in out:
            out.append(ref.part.term)
    return out


def section_refs(section: m.Section) -> Iterator[m.Ref]:
    """Every reference of a section that may name an element: in actions, `from … to …`,
    `on`, relations, `about`."""
    for el in section.elements:
        for arg in el.args:
            if isinstance(arg, m.Endpoints):
                yield from (e for e in (arg.start, arg.end) if isinstance(e, m.Ref))
            elif isinstance(arg, m.Target):
                yield arg.ref
        if isinstance(el.placement, m.Relative):
            yield el.placement.target
    for step in section.steps:
        for act in step.actions:
            yield from act.targets
            yield from (r for r in (act.into, act.about) if r is not None)
            if isinstance(act.to, m.Relative):
                yield act.to.target
