"""How small TeX sets the smallest part of a formula: its scripts.

TeX draws a formula in four styles: display and text at the formula's size, script (the
first level of superscripts and subscripts, a fraction's parts in text style) at 0.7 of it
and scriptscript (scripts of scripts, a root's index) at 0.5 — the 10/7/5 pt of Computer
Modern. Measuring a formula's text size on the formula as a whole misses a superscript
drawn at half its size, so the layout rules also ask how far down the styles a formula goes:

    smallest_script(r"\\tfrac{\\sigma^2}{n}")   # Script(factor=0.5, text="2")

The style rules are TeX's own (The TeXbook, chapter 17) for the commands a lesson may use
(compiler.tex_safety's allowlist): `^` and `_`, the fraction family (`\\frac` lowers the style
one step, `\\dfrac` keeps display, `\\tfrac` sets text first), `\\sqrt[index]`, `\\overset`,
`\\underset`, `\\stackrel`, the infix `\\over` family, the explicit style switches, `smallmatrix`,
and the text size switches inside `\\text{…}` (`\\tiny` is 5 pt of 10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DISPLAY, TEXT, SCRIPT, SCRIPTSCRIPT = 0, 1, 2, 3
SIZE = {DISPLAY: 1.0, TEXT: 1.0, SCRIPT: 0.7, SCRIPTSCRIPT: 0.5}

_STYLE_SWITCHES = {"\\displaystyle": DISPLAY, "\\textstyle": TEXT, "\\scriptstyle": SCRIPT,
                   "\\scriptscriptstyle": SCRIPTSCRIPT}
_TEXT_SIZES = {"\\tiny": 0.5, "\\scriptsize": 0.7, "\\footnotesize": 0.8, "\\small": 0.9,
               "\\normalsize": 1.0, "\\large": 1.2, "\\Large": 1.44, "\\LARGE": 1.728,
               "\\huge": 2.074, "\\Huge": 2.488}
_FRACTIONS = {"\\frac": None, "\\binom": None, "\\cfrac": None,  # None: one style below the current
              "\\dfrac": DISPLAY, "\\dbinom": DISPLAY, "\\tfrac": TEXT, "\\tbinom": TEXT}
_INFIX = frozenset({"\\over", "\\atop", "\\choose", "\\above", "\\brace", "\\brack"})
_OVER_UNDER = frozenset({"\\overset", "\\underset", "\\stackrel"})
# Commands that draw nothing themselves (their arguments, if any, are read as groups).
_SILENT = frozenset({"\\,", "\\;", "\\:", "\\!", "\\>", "\\ ", "\\quad", "\\qquad", "\\enspace",
                     "\\thinspace", "\\medspace", "\\thickspace", "\\negthinspace", "\\negmedspace",
                     "\\negthickspace", "\\limits", "\\nolimits", "\\displaylimits", "\\left",
                     "\\right", "\\middle", "\\\\", "\\color", "\\begin", "\\end", "\\hspace",
                     "\\kern", "\\mkern", "\\phantom", "\\hphantom", "\\vphantom", "\\tag", "\\notag",
                     "\\nonumber", "\\cr", "\\newline", "\\hfill", "\\hline"})
# Commands that take one argument drawn in the same style (accents, fonts, boxes).
_ONE_ARGUMENT = frozenset(
    "\\" + name for name in """hat widehat tilde widetilde bar overline underline vec overrightarrow
    overleftarrow overleftrightarrow underrightarrow underleftarrow underleftrightarrow dot ddot dddot
    ddddot acute grave breve check mathring overbrace underbrace boxed mathrm mathbf mathit mathsf
    mathtt mathcal mathbb mathfrak mathscr mathnormal boldsymbol pmb text textrm textbf textit textsf
    texttt textup textsl textsc textmd textnormal emph mbox hbox fbox operatorname substack""".split())
_DRAWS_NOTHING_ITSELF = frozenset(
    "\\" + name for name in """mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak mathscr
    mathnormal boldsymbol pmb text textrm textbf textit textsf texttt textup textsl textsc textmd
    textnormal emph mbox hbox operatorname substack""".split())
# Commands whose argument is a name or a length, not something drawn.
_NAME_ARGUMENT = frozenset({"\\color", "\\begin", "\\end", "\\hspace", "\\phantom", "\\hphantom",
                            "\\vphantom", "\\tag"})

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|%[^\n]*|\s+|.", re.S)


@dataclass(frozen=True)
class Script:
    """The smallest size TeX draws some of a formula at, as a fraction of the formula's own
    size, and the source text drawn at that size."""

    factor: float
    text: str


@dataclass(frozen=True)
class _Token:
    value: str
    start: int
    end: int


def _tokens(tex: str) -> list[_Token]:
    out = []
    for match in _TOKEN.finditer(tex):
        value = match.group(0)
        if value.isspace() or value.startswith("%"):
            continue
        out.append(_Token(value, match.start(), match.end()))
    return out


def _lower(style: int) -> int:
    """The style of a script, or of a fraction's parts, one step below `style`."""
    return {DISPLAY: TEXT, TEXT: SCRIPT, SCRIPT: SCRIPTSCRIPT, SCRIPTSCRIPT: SCRIPTSCRIPT}[style]


def _script_style(style: int) -> int:
    return SCRIPT if style <= TEXT else SCRIPTSCRIPT


class _Walker:
    """Reads the formula once, keeping the smallest drawn size it meets."""

    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.tokens = _tokens(tex)
        self.pos = 0
        self.best = Script(1.0, "")
        self._fresh = False

    def _drawn(self, size: float, start: int, end: int) -> None:
        if size < self.best.factor - 1e-9:
            self.best = Script(size, self.tex[start:end])
            self._fresh = True  # not yet named by the argument it lies in

    def _peek(self) -> str | None:
        return self.tokens[self.pos].value if self.pos < len(self.tokens) else None

    def group(self, style: int, scale: float, closer: str | None) -> None:
        """Tokens up to `closer` (or the end), a group's worth; an infix `\\over` in it puts
        the whole group one style lower."""
        if self._has_infix(closer):
            style = _lower(style)
        while self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            if closer is not None and tok.value == closer:
                self.pos += 1
                return
            if tok.value in _STYLE_SWITCHES:
                style = _STYLE_SWITCHES[tok.value]
                self.pos += 1
            elif tok.value in _TEXT_SIZES:
                scale = _TEXT_SIZES[tok.value]
                self.pos += 1
            elif tok.value == "\\begin" and self._environment() == "smallmatrix":
                self.argument(style, scale)  # the environment's name
                style = SCRIPT
            else:
                self.atom(style, scale)

    def _has_infix(self, closer: str | None) -> bool:
        depth = 0
        for tok in self.tokens[self.pos:]:
            if tok.value in ("{", "[") and depth >= 0:
                depth += 1
            elif tok.value in ("}", "]"):
                if depth == 0 and tok.value == closer:
                    return False
                depth -= 1
            elif depth == 0 and tok.value in _INFIX:
                return True
        return False

    def _environment(self) -> str:
        if self.pos + 3 < len(self.tokens) and self.tokens[self.pos + 1].value == "{":
            name = []
            for tok in self.tokens[self.pos + 2:]:
                if tok.value == "}":
                    break
                name.append(tok.value)
            self.pos += 1
            return "".join(name)
        return ""

    def argument(self, style: int, scale: float) -> None:
        """One argument: a braced group, or a single token (a command with its own arguments)."""
        if self._peek() == "{":
            self.pos += 1
            self.group(style, scale, "}")
        elif self._peek() is not None:
            self.atom(style, scale)

    def atom(self, style: int, scale: float) -> None:
        tok = self.tokens[self.pos]
        self.pos += 1
        value = tok.value
        if value == "{":
            self.group(style, scale, "}")
        elif value in ("^", "_"):
            self._sized_argument(_script_style(style), scale)
        elif value in _FRACTIONS:
            inner = _FRACTIONS[value]
            part = _lower(style if inner is None else inner)
            self._sized_argument(part, scale)
            self._sized_argument(part, scale)
        elif value == "\\genfrac":
            for _ in range(3):
                self._skip_argument()
            digit = self._peek()
            self._skip_argument()
            chosen = int(digit) if digit is not None and digit in "0123" else style
            self._sized_argument(_lower(chosen), scale)
            self._sized_argument(_lower(chosen), scale)
        elif value == "\\sqrt":
            if self._peek() == "[":
                self.pos += 1
                start = self.tokens[self.pos].start if self.pos < len(self.tokens) else tok.end
                before = self.best
                self.group(SCRIPTSCRIPT, scale, "]")
                self._name_argument(before, start)
            self.argument(style, scale)
        elif value in _OVER_UNDER:
            self._sized_argument(_script_style(style), scale)
            self.argument(style, scale)
        elif value in _NAME_ARGUMENT:
            self._skip_argument()
        elif value in _ONE_ARGUMENT:
            if value not in _DRAWS_NOTHING_ITSELF:
                self._drawn(SIZE[style] * scale, tok.start, tok.end)
            self.argument(style, scale)
        elif value in ("\\left", "\\right", "\\middle"):
            if self._peek() is not None:
                nxt = self.tokens[self.pos]
                self.pos += 1
                self._drawn(SIZE[style] * scale, nxt.start, nxt.end)
        elif value not in _SILENT and value not in ("}", "]", "&") and value not in _INFIX:
            self._drawn(SIZE[style] * scale, tok.start, tok.end)

    def _sized_argument(self, style: int, scale: float) -> None:
        """An argument drawn in a smaller style. The smallest part is reported with the text of
        the innermost such argument it lies in (`x^{2n}` gives "2n", not just "2")."""
        start = self.tokens[self.pos].start if self.pos < len(self.tokens) else len(self.tex)
        before = self.best
        self.argument(style, scale)
        self._name_argument(before, start)

    def _name_argument(self, before: Script, start: int) -> None:
        if self.best is before or not self._fresh or self.pos == 0:
            return
        text = self.tex[start:self.tokens[self.pos - 1].end].strip()
        if text[:1] + text[-1:] in ("{}", "[]"):
            text = text[1:-1].strip()
        elif text.endswith("]"):  # a root's index: the group ends at the bracket
            text = text[:-1].strip()
        self.best = Script(self.best.factor, text or self.best.text)
        self._fresh = False

    def _skip_argument(self) -> None:
        if self._peek() == "{":
            depth = 0
            while self.pos < len(self.tokens):
                value = self.tokens[self.pos].value
                self.pos += 1
                depth += value == "{"
                depth -= value == "}"
                if depth == 0:
                    return
        elif self._peek() is not None:
            self.pos += 1


def smallest_script(tex: str, style: int = DISPLAY) -> Script:
    """The smallest size anything in the formula is drawn at (1.0: nothing is smaller than the
    formula), with the source it is found in. Manim's MathTex sets formulas in display style."""
    walker = _Walker(tex)
    walker.group(style, 1.0, None)
    return walker.best
