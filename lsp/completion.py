"""Completion: what may be written where the cursor is, from the same tables as the checks
(kinds.py, colors.py, the grid in theme.py) and the ids of the cursor's section."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lecture.compiler.colors import COLORS
from lecture.compiler.highlight import grammar_keywords
from lecture.compiler.kinds import (
    CHOICES,
    COLOR,
    EASINGS,
    KINDS,
    OPTIONS,
    RANGE,
    SETTINGS,
    VERB_OPTIONS,
    VERBS,
)
from lecture.compiler.model import RELATIONS, Section
from lecture.compiler.theme import GRID_COLUMNS, GRID_ROWS
from lsprotocol import types as lsp

Kind = lsp.CompletionItemKind
SNIPPET = lsp.InsertTextFormat.Snippet

SECTION_SNIPPET = ('section ${1:id} "${2:Title}"\n  line ${3:l1} "${4:One short sentence.}"\n\n'
                   '  ${5:text} ${6:t} "${7:…}" at ${8:B2}\n\n  step ${9:2s}: say $3; create $6\n$0')
STEP_SNIPPET = "step ${1:2s}: ${2:create} ${3:x}$0"
STEP_BLOCK_SNIPPET = "step ${1:2s}:\n  say ${2:l1} \"${3:…}\"\n  ${4:create} ${5:x}$0"
# Words after which an id goes (`below tri`, `on ax`, `of a, b`, `transform a into b`)
_BEFORE_ID = frozenset({"on", "of", "into", "along", "around", "below", "above", "next", "from",
                        "to", "about", "between"}) | {r.split()[-1] for r in RELATIONS}
_BEFORE_CELL = frozenset({"at", "in", "from", "to", "about", ".."})
_WORD = re.compile(r"\.\.|[A-Za-z_][A-Za-z0-9_]*=?|[,;:]")


@dataclass(frozen=True)
class Scope:
    """What the cursor's section offers: its element ids (by kind) and lecture line ids."""

    elements: dict[str, str]
    lines: dict[str, str]

    @staticmethod
    def of(section: Section | None) -> Scope:
        if section is None:
            return Scope({}, {})
        return Scope({el.id: el.kind for el in section.elements},
                     {line.id: line.text.value for line in section.lines})


def _section_lines(all_lines: list[str], line: int) -> list[str] | None:
    """The lines of the section holding a line, read from the text (None: in the header)."""
    starts = [i for i, text in enumerate(all_lines) if text.startswith("section")]
    before = [i for i in starts if i <= line]
    if not before:
        return None
    after = [i for i in starts if i > line]
    return all_lines[before[-1]:after[0] if after else len(all_lines)]


_DECLARED = re.compile(r"\s+([A-Za-z_]\w*)\s+([A-Za-z_]\w*)(\s+\"[^\"]*)?")


def scope_from_text(section_lines: list[str]) -> Scope:
    """The ids a section declares, read from its lines: while the lesson is being typed it
    often does not parse, and completion must still offer them."""
    elements: dict[str, str] = {}
    lines: dict[str, str] = {}
    for text in section_lines:
        match = _DECLARED.match(text)
        if match is None:
            continue
        if match.group(1) == "line" and match.group(3):
            lines[match.group(2)] = match.group(3).strip().strip('"')
        elif match.group(1) in KINDS:
            elements[match.group(2)] = match.group(1)
    return Scope(elements, lines)


def cells() -> list[str]:
    return [f"{row}{column}" for row in GRID_ROWS for column in range(1, GRID_COLUMNS + 1)]


@cache
def code_languages() -> tuple[str, ...]:
    """What `language=` accepts: Manim's Code highlights with Pygments, so its lexers' names."""
    from pygments.lexers import get_all_lexers

    return tuple(sorted({alias for _, aliases, _, _ in get_all_lexers() for alias in aliases}))


def _item(label: str, kind: lsp.CompletionItemKind, detail: str = "", doc: str = "",
          insert: str | None = None, snippet: bool = False, sort: str = "") -> lsp.CompletionItem:
    return lsp.CompletionItem(
        label=label, kind=kind, detail=detail or None,
        documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=doc) if doc else None,
        insert_text=insert, insert_text_format=SNIPPET if snippet else None, sort_text=sort or None)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def kind_items() -> list[lsp.CompletionItem]:
    """Each kind, inserted as its reference example with the id and the rest as placeholders."""
    items = []
    for spec in KINDS.values():
        words = spec.example.split(" ", 2)
        rest = f" ${{2:{_escape(words[2])}}}" if len(words) > 2 else ""
        insert = f"{spec.name} ${{1:{words[1] if len(words) > 1 else 'id'}}}{rest}$0"
        items.append(_item(spec.name, Kind.Class, spec.doc, f"```lecture\n{spec.example}\n```",
                           insert, snippet=True))
    return items


def statement_items(top_level: bool) -> list[lsp.CompletionItem]:
    if top_level:
        return [_item("section", Kind.Snippet, "a section: lines, elements, steps", insert=SECTION_SNIPPET,
                      snippet=True),
                _item("lesson", Kind.Keyword, "the header", insert='lesson "${1:Title}"\n  ', snippet=True)]
    return [*kind_items(),
            _item("line", Kind.Keyword, "a lecture line of the left panel",
                  insert='line ${1:l1} "${2:One short sentence.}"', snippet=True),
            _item("step", Kind.Snippet, "a step: its actions on one line", insert=STEP_SNIPPET, snippet=True),
            _item("step:", Kind.Snippet, "a step: its actions as a block", insert=STEP_BLOCK_SNIPPET,
                  snippet=True),
            _item("wait", Kind.Keyword, "a pause", insert="wait ${1:1s}", snippet=True)]


def verb_items() -> list[lsp.CompletionItem]:
    return [_item(verb, Kind.Function, doc, f"```lecture\n{example}\n```")
            for verb, (doc, example) in VERBS.items()]


def id_items(scope: Scope, *, lines: bool = False, elements: bool = True) -> list[lsp.CompletionItem]:
    items = [_item(name, Kind.Variable, kind) for name, kind in scope.elements.items()] if elements else []
    if lines:
        items += [_item(name, Kind.Text, text) for name, text in scope.lines.items()]
    return items


def cell_items() -> list[lsp.CompletionItem]:
    return [_item(cell, Kind.Constant, "grid cell", sort=f"~{cell}") for cell in cells()]


def option_items(keys: tuple[str, ...]) -> list[lsp.CompletionItem]:
    return [_item(f"{key}=", Kind.Property, OPTIONS[key].type, OPTIONS[key].doc, insert=f"{key}=")
            for key in keys if key in OPTIONS]


def value_items(key: str, scope: Scope) -> list[lsp.CompletionItem]:
    """The values an option takes (`color=` a colour, `ease=` an easing, `language=` a language)."""
    spec = OPTIONS.get(key)
    if spec is None:
        return []
    if spec.type == COLOR:
        return [_item(name, Kind.Color, value) for name, value in COLORS.items()
                if not name.startswith("logo_")]
    if key == "ease":
        return [_item(name, Kind.EnumMember, doc) for name, (doc, _) in EASINGS.items()]
    if key == "language":
        return [_item(name, Kind.EnumMember, "language") for name in code_languages()]
    if key == "between":
        return [_item(name, Kind.Variable, kind) for name, kind in scope.elements.items() if kind == "plot"]
    if spec.type == RANGE:
        return [_item("low..high", Kind.Snippet, spec.doc, insert="${1:0}..${2:1}", snippet=True)]
    return []


def _placement_items() -> list[lsp.CompletionItem]:
    words = ("at", "in", *RELATIONS, "auto", "on")
    return [_item(word, Kind.Keyword, "placement") for word in words if word.split()[0] in grammar_keywords()]


def setting_items(prefix: str) -> list[lsp.CompletionItem]:
    match = re.match(r"\s*([A-Za-z_]\w*)\s*:\s*\w*$", prefix)
    if match:
        return [_item(c, Kind.EnumMember, match.group(1)) for c in CHOICES.get(match.group(1), ())]
    return [_item(key, Kind.Property, kind, doc, insert=f"{key}: ") for key, (kind, doc) in SETTINGS.items()]


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\$[^$]*\$')
_COMMENT = re.compile(r"#(?![0-9a-fA-F]{6}(?![A-Za-z0-9_]))")  # not a colour #rrggbb


def _inside_text(prefix: str) -> bool:
    """Whether the cursor is inside a string or a formula (nothing to complete there)."""
    rest = _QUOTED.sub("", prefix)
    return '"' in rest or "$" in rest or _COMMENT.search(rest) is not None


def _ends_word(text: str) -> bool:
    """Whether the last word before the cursor is finished (a new one starts at the cursor)."""
    return text[-1:].isspace() or text.endswith(("=", ",", ".."))


def _in_step_block(all_lines: list[str], line: int) -> bool:
    """Whether a line is inside a `step …:` block (more indented than a step line ending in `:`)."""
    indent = len(all_lines[line]) - len(all_lines[line].lstrip())
    for number in range(line - 1, -1, -1):
        text = all_lines[number]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        own = len(text) - len(text.lstrip())
        if own >= indent:
            continue
        return bool(re.match(r"\s*step\b[^#]*:\s*(#.*)?$", text))
    return False


def _action_items(segment: str, scope: Scope) -> list[lsp.CompletionItem]:
    """In an action: a verb first, then what that verb takes."""
    words = _WORD.findall(segment)
    complete = words if _ends_word(segment) else words[:-1]
    if not complete:
        return verb_items()
    verb = complete[0]
    if verb == "fade" and len(complete) == 1:
        return [_item(w, Kind.Keyword) for w in ("in", "out")]
    last = complete[-1]
    if last.endswith("="):
        return value_items(last[:-1], scope)
    if verb in ("say", "highlight") and len(complete) == 1:
        return id_items(scope, lines=True, elements=verb == "highlight")
    if last in ("to", "about"):
        return [*cell_items(), *id_items(scope), *[_item(r, Kind.Keyword) for r in RELATIONS]]
    options = option_items(VERB_OPTIONS.get(verb, ()))
    return [*id_items(scope), *options]


def _element_items(words: list[str], scope: Scope) -> list[lsp.CompletionItem]:
    """On an element's line, after its kind and id."""
    spec = KINDS.get(words[0])
    last = words[-1]
    if last.endswith("="):
        return value_items(last[:-1], scope)
    if last in _BEFORE_CELL and last not in _BEFORE_ID:
        return cell_items()
    if last in _BEFORE_ID:
        return [*(cell_items() if last in _BEFORE_CELL else []), *id_items(scope)]
    return [*option_items(spec.options if spec else ()), *_placement_items()]


def complete(section: Section | None, all_lines: list[str], line: int,
             prefix: str) -> list[lsp.CompletionItem]:
    """The completions at the end of `prefix` (the cursor's line up to the cursor). The ids in
    scope come from the section's model when the lesson parses, else from its text."""
    if prefix.lstrip().startswith("#") or _inside_text(prefix):
        return []
    if not prefix[:1].isspace() and " " not in prefix:
        return statement_items(top_level=True)
    section_lines = _section_lines(all_lines, line)
    if section_lines is None:
        return setting_items(prefix)
    scope = Scope.of(section) if section is not None else scope_from_text(section_lines)
    step = re.match(r"\s*step\b[^:]*:(.*)$", prefix)
    if step or _in_step_block(all_lines, line):
        segment = re.split(r"[;]", step.group(1) if step else prefix)[-1]
        return _action_items(segment.lstrip(), scope)
    words = _WORD.findall(prefix)
    complete_words = words if _ends_word(prefix) else words[:-1]
    if len(complete_words) < 2:
        return statement_items(top_level=False) if not complete_words else []
    if complete_words[0] == "line":
        return []
    return _element_items(complete_words, scope)
