"""The Pygments lexer (compiler/highlight.py): every example tokenises cleanly, each part of
the language gets its token type, the words come from kinds.py, and `pygmentize -l lecture`
finds the lexer through its entry point."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from lecture.compiler.highlight import LectureLexer, grammar_keywords
from lecture.compiler.kinds import KINDS, OPTIONS, VERBS
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, String, _TokenType

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.lecture"))


def tokens(text: str) -> list[tuple[_TokenType, str]]:
    return [(t, v) for t, v in LectureLexer().get_tokens(text) if v.strip()]


def token_of(text: str, value: str) -> _TokenType:
    """The type of the first token whose text is `value`."""
    return next(t for t, v in tokens(text) if v == value)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_tokenises_without_errors(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = list(LectureLexer().get_tokens(text))
    assert [v for t, v in found if t in Error] == []
    assert "".join(v for _, v in found) == text  # nothing dropped or added


SAMPLE = '''# a comment
lesson "Title"
  theme: light
  resolution: 1920x1080

section intro "Right triangles" 20s
  line l1 "A \\"quoted\\" line."
  math eq $\\frac{a}{b} = c^2$ at B2 color=#ff8800
  polygon tri (0, 0) (4, 0) (0, 3) in B2..E5 fill=blue
  code prog """
    x = 1
    """ in A1..C3 language=python
  label lc "c" right of tri  # beside

  step 2s: say l1 "Here."; create tri
  step 500ms:
    fade in lc
    move lc to c4 ease=linear
  wait 1min
'''


def test_each_part_of_the_language_gets_its_token_type() -> None:
    assert token_of(SAMPLE, "# a comment") is Comment.Single
    assert token_of(SAMPLE, "# beside") is Comment.Single
    for word in ("lesson", "section", "step", "wait"):
        assert token_of(SAMPLE, word) is Keyword.Declaration
    assert token_of(SAMPLE, "line") is Keyword.Declaration  # a lecture line, not a drawn line
    assert token_of(SAMPLE, "l1") is Name.Label
    assert token_of(SAMPLE, "intro") is Name.Namespace
    for kind in ("math", "polygon", "code", "label"):
        assert token_of(SAMPLE, kind) is Keyword.Type
    for element_id in ("eq", "tri", "prog", "lc"):
        assert token_of(SAMPLE, element_id) is Name.Variable  # where it is declared
    assert [t for t, v in tokens(SAMPLE) if v == "tri"][1:] == [Name, Name]  # where it is used
    for verb in ("say", "create", "fade", "move"):
        assert token_of(SAMPLE, verb) is Keyword
    for word in ("at", "in", "right", "of", "to"):
        assert token_of(SAMPLE, word) is Keyword.Pseudo
    for cell in ("B2", "E5", "c4"):
        assert token_of(SAMPLE, cell) is Name.Constant
    for duration in ("20s", "2s", "500ms", "1min"):
        assert token_of(SAMPLE, duration) is Number.Float
    assert token_of(SAMPLE, "1920x1080") is Number
    assert token_of(SAMPLE, "#ff8800") is Number.Hex
    for key in ("color", "fill", "language", "ease", "theme"):
        assert token_of(SAMPLE, key) is Name.Attribute
    for word in ("blue", "light", "linear"):
        assert token_of(SAMPLE, word) is Name.Builtin
    assert token_of(SAMPLE, '\\"') is String.Escape
    assert token_of(SAMPLE, '"""') is String.Doc
    assert token_of(SAMPLE, "Title") is String.Double


def test_math_is_latex_between_delimiters() -> None:
    found = tokens("  math eq $\\frac{a}{b} = c^2$ at B2\n")
    start = found.index((String.Delimiter, "$"))
    inside = found[start + 1:found.index((String.Delimiter, "$"), start + 1)]
    assert (Name.Variable, "\\frac") in inside  # a TeX command, from Pygments' TeX lexer
    assert all(t not in String.Double for t, _ in inside)


def test_every_kind_and_action_is_a_keyword() -> None:
    """The words come from kinds.py: a kind added there is highlighted without a change here."""
    for kind in KINDS:
        assert tokens(f"  {kind} x1 at B2\n")[0] == (Keyword.Type, kind)
    for verb in VERBS:
        first = tokens(f"  step 1s: {verb} a\n")[3:3 + len(verb.split())]
        assert first == [(Keyword, w) for w in verb.split()]
    for key in OPTIONS:
        assert tokens(f"  circle c {key}=1\n")[2] == (Name.Attribute, key)
    assert {"at", "below", "around", "along", "into"} <= set(grammar_keywords())


def test_pygments_finds_the_lexer_by_name_and_file_name() -> None:
    assert isinstance(get_lexer_by_name("lecture"), LectureLexer)
    assert isinstance(get_lexer_for_filename("lesson.lecture"), LectureLexer)


def test_pygmentize_highlights_an_example() -> None:
    pygmentize = Path(sys.executable).with_name("pygmentize")
    result = subprocess.run([str(pygmentize), "-l", "lecture", "-f", "html",
                             str(ROOT / "examples" / "pythagoras.lecture")],
                            capture_output=True, text=True, timeout=60, check=True)
    assert '<span class="kt">polygon</span>' in result.stdout  # Keyword.Type
    assert '<span class="nc">B2</span>' not in result.stdout
    assert '<span class="no">B2</span>' in result.stdout  # Name.Constant
    assert 'class="err"' not in result.stdout


def test_the_readme_lesson_snippets_are_marked_and_highlight_cleanly() -> None:
    """The README's lessons are ```lecture blocks (Pygments-based renderers highlight them) and
    each tokenises without errors."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```lecture\n(.*?)^```$", readme, re.M | re.S)
    assert len(blocks) >= 8
    assert any(b.startswith("# The Pythagorean theorem") for b in blocks)  # the reference's first lesson
    for block in blocks:
        assert [v for t, v in LectureLexer().get_tokens(block) if t in Error] == []
