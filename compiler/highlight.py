"""Syntax highlighting of lessons for Pygments: `pygmentize -l lecture lesson.lecture`, and
Sphinx, MkDocs or any Markdown renderer that highlights through Pygments (```lecture).

Registered as the entry point `pygments.lexers: lecture` (pyproject.toml). Its words come from
the same tables as the parser and the reference: the grammar's keywords (grammar/lecture.lark),
the element kinds, actions, options and settings (kinds.py), the colour names (colors.py) and
the grid's cells (theme.py), so a new kind or action is highlighted without touching this file.

Token types, for styles and for tools that read them:

| what | token |
|---|---|
| `lesson`, `section`, `step`, `wait`, `line` (a lecture line) | Keyword.Declaration |
| element kinds (`circle`, `math`…) | Keyword.Type |
| actions (`create`, `fade in`, `say`…) | Keyword |
| other grammar words (`at`, `in`, `below`, `on`, `of`…) | Keyword.Pseudo |
| the id an element, line or section declares | Name.Variable / Name.Label / Name.Namespace |
| a reference to an id | Name |
| grid cells (`B2`) | Name.Constant |
| options (`color=`) and settings (`theme:`) | Name.Attribute |
| colour names, choices and easings (`blue`, `light`, `linear`) | Name.Builtin |
| durations (`2s`, `500ms`) | Number.Float |
| numbers, sizes (`1920x1080`) | Number |
| `#rrggbb` | Number.Hex |
| `"…"`, `\"\"\"…\"\"\"` | String.Double, String.Doc (escapes String.Escape) |
| `$…$` | String.Delimiter around LaTeX (Pygments' TeX lexer, math mode) |
| `# comment` | Comment.Single |
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from pygments.lexer import RegexLexer, bygroups, default, using, words
from pygments.lexers.markup import TexLexer
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from .colors import COLORS
from .kinds import CHOICES, EASINGS, KINDS, VERBS
from .theme import GRID_COLUMNS, GRID_ROWS

# Statement heads: a lesson's header, its sections, a section's steps and waits.
DECLARATIONS = ("lesson", "section", "step", "wait")
# Words a step's actions start with; `fade in` and `fade out` are two words.
ONE_WORD_VERBS = tuple(v for v in VERBS if " " not in v)
TWO_WORD_VERBS = tuple(v for v in VERBS if " " in v)
# Bare words that stand for a value: colour names, the header's choices, easings, booleans.
VALUE_WORDS = tuple(sorted({*COLORS, *(c for cs in CHOICES.values() for c in cs), *EASINGS, "true",
                            "false"}))

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
_END = r"(?![A-Za-z0-9_])"  # as the grammar's DURATION, SIZE and COLOR end
_CELL = rf"(?i:[{GRID_ROWS}][1-{GRID_COLUMNS}]){_END}"


@cache
def grammar_keywords() -> tuple[str, ...]:
    """Every word the grammar spells out in quotes (`"at"`, `"fade"`, `"row"`…)."""
    grammar = resources.files("lecture.grammar").joinpath("lecture.lark").read_text("utf-8")
    return tuple(sorted(set(re.findall(r'"([a-z]+)"', grammar))))


def _other_keywords() -> tuple[str, ...]:
    """The grammar's words that are neither statement heads nor verbs: placements (`at`, `in`,
    `below`, `left of`…), `on`, `of`, `from`, `to`, `into`, `along`, `about`, parts' `row`…"""
    taken = {*DECLARATIONS, *ONE_WORD_VERBS, "fade"}
    return tuple(k for k in grammar_keywords() if k not in taken)


def _line_start_rules() -> list:
    """Rules that only apply at the start of a line (after its indentation)."""
    ws = r"^([ \t]*)"
    return [
        (ws + r"(section)([ \t]+)(" + _NAME + ")", bygroups(Whitespace, Keyword.Declaration, Whitespace,
                                                             Name.Namespace)),
        (ws + r"(line)([ \t]+)(" + _NAME + r")(?=[ \t]*(?:\"|$|#))",
         bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Label)),
        (words(DECLARATIONS, prefix=ws, suffix=r"\b"), bygroups(Whitespace, Keyword.Declaration)),
        (ws + "(" + _NAME + r")([ \t]*)(:)(?!\s*$)", bygroups(Whitespace, Name.Attribute, Whitespace,
                                                             Punctuation)),
        (words(tuple(KINDS), prefix=ws, suffix=r"\b([ \t]+)(" + _NAME + ")"),
         bygroups(Whitespace, Keyword.Type, Whitespace, Name.Variable)),
    ]


def _action_rules() -> list:
    """A verb starts an action: at the start of a line in a step's block, or after `:` or `;`."""
    before = r"(?:^|(?<=[:;]))([ \t]*)"
    return [
        (before + r"(fade)([ \t]+)(in|out)\b", bygroups(Whitespace, Keyword, Whitespace, Keyword)),
        (words(ONE_WORD_VERBS, prefix=before, suffix=r"\b"), bygroups(Whitespace, Keyword)),
    ]


class LectureLexer(RegexLexer):
    """Lessons in the Lecture language (`.lecture`)."""

    name = "Lecture"
    aliases = ["lecture"]
    filenames = ["*.lecture"]
    mimetypes = ["text/x-lecture"]
    flags = re.MULTILINE

    tokens = {
        "root": [
            *_line_start_rules(),
            *_action_rules(),
            (r'"""', String.Doc, "block"),
            (r'"', String.Double, "string"),
            (r"(\$)([^$\n]*)(\$)", bygroups(String.Delimiter, using(TexLexer, state="math"),
                                            String.Delimiter)),
            (r"#[0-9a-fA-F]{6}" + _END, Number.Hex),
            (r"#[^\n]*", Comment.Single),
            (r"\d+(?:\.\d+)?(?:ms|s|min)" + _END, Number.Float),
            (r"\d+x\d+" + _END, Number),
            (_NUMBER, Number),
            ("(" + _NAME + r")([ \t]*)(=)", bygroups(Name.Attribute, Whitespace, Operator)),
            (_CELL, Name.Constant),
            (r"\b(fade)([ \t]+)(in|out)\b", bygroups(Keyword, Whitespace, Keyword)),
            (words(VALUE_WORDS, prefix=r"(?<==)", suffix=r"\b"), Name.Builtin),  # `ease=in`
            (words(_other_keywords(), prefix=r"\b", suffix=r"\b"), Keyword.Pseudo),
            (words(VALUE_WORDS, prefix=r"\b", suffix=r"\b"), Name.Builtin),
            (_NAME, Name),
            (r"\.\.", Operator),
            (r"[-+*/^=]", Operator),
            (r"[()\[\],;:]", Punctuation),
            (r"[ \t\f]+", Whitespace),
            (r"\r?\n", Whitespace),
        ],
        "string": [
            (r"\\.", String.Escape),
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            default("#pop"),  # left open at the line's end: the parser reports it
        ],
        "block": [
            (r'"""', String.Doc, "#pop"),
            (r'[^"]+', String.Doc),
            (r'"', String.Doc),
        ],
    }



# ---------------------------------------------------------------- the TextMate grammar
# VS Code (and editors that read TextMate grammars) highlight with editors/vscode/syntaxes/
# lecture.tmLanguage.json, written by `python -m lecture.compiler.highlight --textmate` from
# the same words; tests/test_vscode_grammar.py keeps the file current.

_TM_NAME = "[A-Za-z_][A-Za-z0-9_]*"
_TM_END = "(?![A-Za-z0-9_])"


def _alternatives(items: tuple[str, ...] | list[str]) -> str:
    ordered = sorted(items, key=lambda w: (-len(w), w))  # the longest first: `rightangle` before `right`
    return "|".join(re.escape(w).replace("\\ ", "\\s+") for w in ordered)


def _tm_statements() -> list[dict]:
    ws = "^(\\s*)"
    return [
        {"match": f"{ws}(section)\\s+({_TM_NAME})",
         "captures": {"2": {"name": "keyword.control.section.lecture"},
                      "3": {"name": "entity.name.section.lecture"}}},
        {"match": f"{ws}(line)\\s+({_TM_NAME})(?=\\s*(?:\"|$|#))",
         "captures": {"2": {"name": "keyword.control.line.lecture"},
                      "3": {"name": "variable.other.constant.line.lecture"}}},
        {"match": f"{ws}({_alternatives(DECLARATIONS)})\\b",
         "captures": {"2": {"name": "keyword.control.lecture"}}},
        {"match": f"{ws}({_alternatives(tuple(KINDS))})\\s+({_TM_NAME})",
         "captures": {"2": {"name": "storage.type.kind.lecture"},
                      "3": {"name": "variable.other.definition.lecture"}}},
        {"match": f"{ws}({_TM_NAME})\\s*(:)(?!\\s*$)",
         "captures": {"2": {"name": "variable.parameter.setting.lecture"},
                      "3": {"name": "punctuation.separator.lecture"}}},
        {"match": f"(?:^\\s*|(?<=[:;])\\s*)({_alternatives(tuple(VERBS))}){_TM_END}",
         "captures": {"1": {"name": "keyword.other.action.lecture"}}},
    ]


def _tm_strings() -> list[dict]:
    return [
        {"name": "string.quoted.triple.lecture", "begin": '"""', "end": '"""'},
        {"name": "string.quoted.double.lecture", "begin": '"', "end": '"|$',
         "patterns": [{"name": "constant.character.escape.lecture", "match": "\\\\."}]},
        {"name": "string.other.math.lecture", "begin": "\\$", "end": "\\$|$",
         "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.lecture"}},
         "endCaptures": {"0": {"name": "punctuation.definition.string.end.lecture"}},
         "contentName": "meta.embedded.math.latex",
         "patterns": [{"name": "support.function.latex", "match": "\\\\[A-Za-z]+"},
                      {"include": "text.tex.latex"}]},
    ]


def _tm_words() -> list[dict]:
    return [
        {"name": "constant.other.color.rgb-value.lecture", "match": f"#[0-9a-fA-F]{{6}}{_TM_END}"},
        {"name": "comment.line.number-sign.lecture", "match": "#.*$"},
        {"name": "constant.numeric.duration.lecture", "match": f"\\b\\d+(?:\\.\\d+)?(?:ms|s|min){_TM_END}"},
        {"name": "constant.numeric.size.lecture", "match": f"\\b\\d+x\\d+{_TM_END}"},
        {"name": "constant.numeric.lecture", "match": _NUMBER},
        {"match": f"({_TM_NAME})\\s*(=)", "captures": {"1": {"name": "entity.other.attribute-name.lecture"},
                                                     "2": {"name": "keyword.operator.lecture"}}},
        {"name": "constant.language.value.lecture",
         "match": f"(?<==)({_alternatives(VALUE_WORDS)}){_TM_END}"},
        {"name": "constant.other.cell.lecture",
         "match": f"\\b[{GRID_ROWS}{GRID_ROWS.lower()}][1-{GRID_COLUMNS}]{_TM_END}"},
        {"name": "keyword.other.lecture", "match": f"\\b({_alternatives(_other_keywords())}){_TM_END}"},
        {"name": "constant.language.value.lecture", "match": f"\\b({_alternatives(VALUE_WORDS)}){_TM_END}"},
        {"name": "variable.other.lecture", "match": _TM_NAME},
        {"name": "keyword.operator.lecture", "match": "\\.\\.|[-+*/^=]"},
    ]


def textmate_grammar() -> dict:
    """The TextMate grammar of lessons, for VS Code."""
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "Lecture",
        "scopeName": "source.lecture",
        "fileTypes": ["lecture"],
        "comment": "Generated by `python -m lecture.compiler.highlight --textmate` from compiler/kinds.py; "
                   "do not edit.",
        "patterns": [*_tm_statements(), *_tm_strings(), *_tm_words()],
    }


if __name__ == "__main__":
    import json
    import sys

    if sys.argv[1:] != ["--textmate"]:
        sys.exit("usage: python -m lecture.compiler.highlight --textmate")
    sys.stdout.write(json.dumps(textmate_grammar(), indent=2, ensure_ascii=False) + "\n")
