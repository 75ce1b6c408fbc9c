"""What lesson math may ask of TeX: typesetting, and nothing else.

A formula is pasted into a LaTeX document, and TeX is a programming language that can
read and write files (`\\input`, `\\openout`, `\\write`), redefine itself (`\\def`,
`\\catcode`) and loop forever. A cloned lesson must not be able to do any of that, so a
formula may use only the commands and environments listed here — the math teachers write
(Greek letters, operators, relations, arrows, fractions, roots, matrices, fonts, spacing,
colours) — and is refused otherwise, before any TeX runs. The runtime confines TeX as well
(runtime/tex.py: no shell, no files outside a private folder, a time and memory limit);
this check is what gives the user a clear error at the formula's line.

`tex_problems(text)` is also what the Coder's static checker calls on string literals.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from . import model as m
from .diagnostics import Diagnostic
from .span import Span

MAX_FORMULA_LENGTH = 2000  # characters: far beyond any formula a slide can show
MAX_NESTING = 32  # braces, \left…\right and environments, one inside another

# ---------------------------------------------------------------- the allowlist

_GREEK = """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa
lambda mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega digamma
Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
varGamma varDelta varTheta varLambda varXi varPi varSigma varUpsilon varPhi varPsi varOmega
aleph beth gimel daleth"""

_OPERATORS = """pm mp times div cdot ast star circ bullet oplus ominus otimes oslash odot bigcirc
dagger ddagger cap cup uplus sqcap sqcup vee wedge land lor wr amalg setminus smallsetminus
triangleleft triangleright bigtriangleup bigtriangledown lhd rhd unlhd unrhd dotplus ltimes
rtimes leftthreetimes rightthreetimes curlywedge curlyvee boxplus boxminus boxtimes boxdot
circledast circledcirc circleddash intercal barwedge doublebarwedge centerdot divideontimes
Cap Cup cdotp ldotp colon"""

_RELATIONS = """le leq ge geq ne neq equiv approx approxeq sim simeq cong propto prec succ preceq
succeq ll gg lll ggg subset supset subseteq supseteq subsetneq supsetneq subseteqq supseteqq
subsetneqq supsetneqq Subset Supset sqsubset sqsupset sqsubseteq sqsupseteq in ni notin owns
mid nmid parallel nparallel perp vdash dashv Vdash vDash Vvdash nvdash nvDash nVdash nVDash
models smile frown bowtie asymp doteq doteqdot lesssim gtrsim lessapprox gtrapprox leqslant
geqslant eqslantless eqslantgtr lessgtr gtrless lesseqgtr gtreqless lesseqqgtr gtreqqless leqq
geqq nless ngtr nleq ngeq nleqslant ngeqslant nleqq ngeqq lneq gneq lneqq gneqq lnsim gnsim
lnapprox gnapprox nsim ncong because therefore triangleq varpropto thicksim thickapprox
backsim backsimeq trianglelefteq trianglerighteq ntrianglelefteq ntrianglerighteq
vartriangleleft vartriangleright ntriangleleft ntriangleright between pitchfork shortmid
shortparallel nshortmid nshortparallel risingdotseq fallingdotseq circeq eqcirc bumpeq Bumpeq
preccurlyeq succcurlyeq curlyeqprec curlyeqsucc precsim succsim precapprox succapprox
precneqq succneqq precnsim succnsim precnapprox succnapprox nprec nsucc npreceq nsucceq
nsubseteq nsupseteq nsubseteqq nsupseteqq varsubsetneq varsupsetneq sqsubsetneq"""

_ARROWS = """leftarrow rightarrow to gets leftrightarrow Leftarrow Rightarrow Leftrightarrow
longleftarrow longrightarrow longleftrightarrow Longleftarrow Longrightarrow
Longleftrightarrow iff implies impliedby mapsto longmapsto hookleftarrow hookrightarrow
uparrow downarrow updownarrow Uparrow Downarrow Updownarrow nearrow searrow swarrow nwarrow
leftharpoonup leftharpoondown rightharpoonup rightharpoondown rightleftharpoons
leftrightharpoons rightrightarrows leftleftarrows leftrightarrows rightleftarrows
twoheadrightarrow twoheadleftarrow rightarrowtail leftarrowtail looparrowright looparrowleft
curvearrowright curvearrowleft circlearrowright circlearrowleft Rsh Lsh upuparrows
downdownarrows upharpoonright upharpoonleft downharpoonright downharpoonleft restriction
multimap rightsquigarrow leftrightsquigarrow nleftarrow nrightarrow nLeftarrow nRightarrow
nleftrightarrow nLeftrightarrow dashrightarrow dashleftarrow Lleftarrow Rrightarrow
xrightarrow xleftarrow"""

_BIG_OPERATORS = """sum prod coprod int iint iiint iiiint idotsint oint bigcup bigcap bigvee
bigwedge bigoplus bigotimes bigodot biguplus bigsqcup limits nolimits displaylimits"""

_FUNCTIONS = """sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp
lim liminf limsup sup inf max min arg deg det dim gcd hom ker Pr injlim projlim varlimsup
varliminf varinjlim varprojlim operatorname bmod pmod mod pod"""

_DELIMITERS = """left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr
bigm Bigm biggm Biggm langle rangle lfloor rfloor lceil rceil lvert rvert lVert rVert vert
Vert backslash ulcorner urcorner llcorner lrcorner lbrace rbrace lbrack rbrack lgroup rgroup
lmoustache rmoustache uparrow downarrow"""

_DECORATIONS = """hat widehat tilde widetilde bar overline underline vec overrightarrow
overleftarrow overleftrightarrow underrightarrow underleftarrow underleftrightarrow dot ddot
dddot ddddot acute grave breve check mathring overbrace underbrace overset underset stackrel
boxed not phantom hphantom vphantom smash mathstrut strut substack sideset tag notag nonumber
intertext"""

_FRACTIONS = """frac dfrac tfrac cfrac binom dbinom tbinom genfrac sqrt root of over atop
choose brace brack above"""

_FONTS = """mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak mathscr mathnormal
boldsymbol pmb text textrm textbf textit textsf texttt textup textsl textsc textmd textnormal
emph mbox hbox fbox makebox framebox raisebox rule rm bf it sf tt cal displaystyle textstyle
scriptstyle scriptscriptstyle tiny scriptsize footnotesize small normalsize large Large LARGE
huge Huge color textcolor colorbox mathcolor"""

_SPACING = """quad qquad enspace enskip thinspace medspace thickspace negthinspace negmedspace
negthickspace hspace hfill hfil kern mkern mskip hskip space nobreakspace cr newline"""

_SYMBOLS = """infty partial nabla forall exists nexists emptyset varnothing neg lnot top bot
angle measuredangle sphericalangle triangle triangledown square blacksquare blacktriangle
blacktriangledown blacktriangleleft blacktriangleright diamond lozenge blacklozenge bigstar
clubsuit diamondsuit heartsuit spadesuit flat natural sharp ell hbar hslash imath jmath wp Re
Im mho prime backprime surd checkmark S P Finv Game complement eth circledS maltese yen
dots ldots cdots vdots ddots dotsc dotsb dotsm dotsi dotso hline cline multicolumn
textbackslash textasciitilde textasciicircum textbar textless textgreater textendash
textemdash textbullet textdegree textperiodcentered dag ddag copyright pounds i j o O l L ss
ae AE oe OE aa AA c v u H r k b d t"""

ALLOWED_COMMANDS: frozenset[str] = frozenset(
    "\\" + name for group in (_GREEK, _OPERATORS, _RELATIONS, _ARROWS, _BIG_OPERATORS,
                              _FUNCTIONS, _DELIMITERS, _DECORATIONS, _FRACTIONS, _FONTS,
                              _SPACING, _SYMBOLS)
    for name in group.split()
) | frozenset({"\\begin", "\\end"}) | frozenset(
    # Control symbols: spacing, escaped specials, the line break, text accents.
    "\\" + ch for ch in ",;:!> \t\n\\{}|%$#&_/-'\"`^~=.")

ALLOWED_ENVIRONMENTS: frozenset[str] = frozenset(
    "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases aligned alignedat "
    "gathered split array subarray".split())

# The families refused with their reason named (anything else unknown is refused too).
_FILES = frozenset("""input include includeonly InputIfFileExists IfFileExists openin openout
read readline write immediate newwrite newread closein closeout special directlua latelua
luaexec luadirect endinput usepackage RequirePackage documentclass LoadClass includegraphics
verbatiminput lstinputlisting jobname pdffilesize pdfmdfivesum pdffilemoddate pdffiledump
pdfliteral pdfobj pdfximage message typeout errmessage errhelp batchmode nonstopmode
scrollmode errorstopmode write18 ShellEscape font pdfprimitive primitive""".split())
_REDEFINES = frozenset("""def edef gdef xdef let futurelet newcommand renewcommand
providecommand DeclareRobustCommand DeclareMathOperator DeclareMathSymbol
DeclareMathAlphabet newenvironment renewenvironment catcode lccode uccode mathcode sfcode
delcode csname endcsname expandafter noexpand unexpanded afterassignment aftergroup string
detokenize scantokens uppercase lowercase meaning makeatletter makeatother everymath
everydisplay everypar everyhbox everyvbox everyjob everycr everyeof toks newtoks chardef
mathchardef countdef dimendef skipdef muskipdef toksdef global long outer protected setbox
newcount newdimen newskip newbox count dimen skip advance multiply divide numexpr dimexpr
relax loop repeat romannumeral number the showthe show if ifx ifnum ifdim ifcase ifcat ifodd
ifdefined ifcsname iftrue iffalse else fi or unless""".split())

_FILE_REASON = "it reads or writes files"
_REDEFINE_REASON = "it redefines or programs TeX"


@dataclass(frozen=True)
class TexProblem:
    """Something in a formula TeX must not be given: where (an offset and a length into
    the formula's text), what, and how to write it instead."""

    offset: int
    length: int
    message: str
    hint: str | None = None


def tex_problems(text: str) -> list[TexProblem]:
    """Every command, environment or construct of `text` (a formula's LaTeX source) that
    lesson math may not use; empty when the formula only typesets."""
    if len(text) > MAX_FORMULA_LENGTH:
        return [TexProblem(0, len(text), f"this formula is {len(text):,} characters long; "
                           f"formulas may have at most {MAX_FORMULA_LENGTH:,}",
                           "split it into several formulas")]
    problems: list[TexProblem] = []
    caret = text.find("^^")
    if caret >= 0:
        problems.append(TexProblem(caret, 2, "`^^` is not allowed in a formula: TeX's ^^ "
                                   "notation spells characters by their code, commands too",
                                   "write x^{2}, not x^^2"))
    depth = 0
    deepest_reported = False
    seen: set[str] = set()  # each command is reported once, where it first appears
    for token in _tokens(text):
        if token.name in ("{", "\\left", "\\begin"):
            depth += 1
            if depth > MAX_NESTING and not deepest_reported:
                deepest_reported = True
                problems.append(TexProblem(token.offset, token.length,
                                           f"this formula nests more than {MAX_NESTING} levels deep",
                                           "simplify the formula or split it"))
        elif token.name in ("}", "\\right", "\\end"):
            depth = max(depth - 1, 0)
        if token.name.startswith("\\") and (token.name not in seen or token.name in ("\\begin", "\\end")):
            seen.add(token.name)
            problems.extend(_command_problems(text, token))
    return sorted(problems, key=lambda p: p.offset)


# ---------------------------------------------------------------- scanning


@dataclass(frozen=True)
class _Token:
    name: str  # `\name`, a control symbol like `\,`, or a brace
    offset: int
    length: int


def _tokens(text: str) -> Iterator[_Token]:
    """Commands and braces, as TeX reads them with the usual category codes: a backslash
    then letters (a control word) or one other character (a control symbol). Comments
    are scanned too: what a `%` hides is still refused."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "{}":
            yield _Token(ch, i, 1)
            i += 1
        elif ch == "\\":
            j = i + 1
            while j < n and _is_letter(text[j]):
                j += 1
            if j == i + 1:  # a control symbol (or a lone backslash at the end)
                j = min(i + 2, n)
            yield _Token(text[i:j], i, j - i)
            i = j
        else:
            i += 1


def _is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _command_problems(text: str, token: _Token) -> list[TexProblem]:
    name = token.name
    if name == "\\":
        return [TexProblem(token.offset, 1, "a formula cannot end with a lone backslash",
                           "write \\backslash for the symbol")]
    if name in ("\\begin", "\\end"):
        return _environment_problems(text, token)
    if name in ALLOWED_COMMANDS:
        return []
    bare = name[1:]
    shown = name.replace("\n", "\\n").replace("\t", "\\t")
    if bare in _FILES:
        return [TexProblem(token.offset, token.length,
                           f"`{shown}` is not allowed in a formula: {_FILE_REASON}",
                           "formulas may only typeset math")]
    if bare in _REDEFINES:
        return [TexProblem(token.offset, token.length,
                           f"`{shown}` is not allowed in a formula: {_REDEFINE_REASON}",
                           "formulas may only typeset math; write the formula out in full")]
    return [TexProblem(token.offset, token.length,
                       f"`{shown}` is not a TeX command lesson formulas may use",
                       _closest(name, ALLOWED_COMMANDS)
                       or "formulas may use the usual math commands: \\frac, \\sqrt, \\alpha, …")]


def _environment_problems(text: str, token: _Token) -> list[TexProblem]:
    """`\\begin{name}` / `\\end{name}`: the name must be an allowed environment."""
    i = token.offset + token.length
    while i < len(text) and text[i] in " \t":
        i += 1
    close = text.find("}", i)
    if i >= len(text) or text[i] != "{" or close < 0:
        return [TexProblem(token.offset, token.length,
                           f"`{token.name}` needs an environment name in braces",
                           "for example \\begin{pmatrix} a & b \\end{pmatrix}")]
    env = text[i + 1:close].strip()
    if env in ALLOWED_ENVIRONMENTS:
        return []
    length = close + 1 - token.offset
    near = difflib.get_close_matches(env, sorted(ALLOWED_ENVIRONMENTS), n=1, cutoff=0.6)
    hint = f"did you mean `{near[0]}`?" if near else \
        "formulas may use: " + ", ".join(sorted(ALLOWED_ENVIRONMENTS))
    return [TexProblem(token.offset, length,
                       f"environment `{env}` is not one lesson formulas may use", hint)]


def _closest(name: str, choices: frozenset[str]) -> str | None:
    words = sorted(c for c in choices if len(c) > 2)  # control words, not symbols
    near = difflib.get_close_matches(name, words, n=1, cutoff=0.75)
    return f"did you mean `{near[0]}`?" if near else None


# ---------------------------------------------------------------- diagnostics


def tex_diagnostics(formula: m.Text) -> Iterator[Diagnostic]:
    """Each problem of a math element's formula as an error at its place in the lesson:
    the offending command itself when the string's text is the source's text (a `$…$`
    string on one line, or a "…" string without escapes), else the whole string."""
    value, span = formula.value, formula.span
    exact = span.line == span.end_line and span.end_column - span.column == len(value) + 2
    for p in tex_problems(value):
        where = span
        if exact:
            col = span.column + 1 + p.offset
            pos = span.start_pos + 1 + p.offset
            length = max(min(p.length, len(value) - p.offset), 1)
            where = Span(span.file, span.line, col, span.line, col + length, pos, pos + length)
        yield Diagnostic("error", p.message, where, p.hint, "unsafe-tex")


# ---------------------------------------------------------------- when TeX refuses a formula


def tex_error_hint(text: str) -> str:
    """The hint for a formula TeX refused (runtime/tex.py typesets exactly what was written):
    the imbalance TeX most likely tripped on, when there is one, else where to look."""
    names = [t.name for t in _tokens(text)]
    opened, closed = names.count("{"), names.count("}")
    if opened != closed:
        more, fewer = ("{", "}") if opened > closed else ("}", "{")
        return (f"this formula has {max(opened, closed)} `{more}` but {min(opened, closed)} `{fewer}`: "
                f"every `{{` needs its `}}` (write \\{{ or \\}} for a brace symbol)")
    if names.count("\\left") != names.count("\\right"):
        return "every \\left needs a \\right (write \\right. for an invisible one)"
    if names.count("\\begin") != names.count("\\end"):
        return "every \\begin{…} needs its \\end{…}"
    if text.rstrip().endswith(("^", "_")):
        return "a `^` or `_` needs something after it: x^{2}, a_{n}"
    return "check the formula's braces and commands"
