"""Deterministic repairs of a formula's LaTeX, and its readable last-resort form.

`repair_tex` fixes what models and people most often get wrong and what has exactly one
meaning: commands that do not exist in LaTeX but have a known substitute (`\\degree` ->
`^\\circ`), Unicode symbols TeX's math mode refuses (`°`, `×`, `≤`), inline-math
delimiters inside a formula that is already math (`\\(x\\)`, `$`), `\\left`/`\\right` that
do not pair, and braces that do not balance (a missing `}` is added at the end, a `}` with
no `{` is dropped). It returns the text unchanged when none applies.

`readable_tex` is the formula for reading when LaTeX refuses it even after repair: commands
by their symbols (`\\alpha` -> α, `\\frac{a}{b}` -> (a)/(b), `^2` -> ²), braces and spacing
commands removed — shown as ordinary text at the normal text size, never raw LaTeX.
"""

from __future__ import annotations

import re

# Commands that are not LaTeX (or need a package lessons do not load), and what they mean.
SUBSTITUTES: dict[str, str] = {
    r"\degree": r"^\circ",
    r"\degrees": r"^\circ",
    r"\celsius": r"^\circ\mathrm{C}",
    r"\textdegree": r"^\circ",
    r"\R": r"\mathbb{R}",
    r"\N": r"\mathbb{N}",
    r"\Z": r"\mathbb{Z}",
    r"\Q": r"\mathbb{Q}",
    r"\half": r"\frac{1}{2}",
    r"\bold": r"\mathbf",
    r"\arcsec": r"\operatorname{arcsec}",
    r"\sgn": r"\operatorname{sgn}",
}
UNICODE: dict[str, str] = {
    "°": r"^\circ", "×": r"\times ", "÷": r"\div ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\neq ",
    "≈": r"\approx ", "±": r"\pm ", "π": r"\pi ", "θ": r"\theta ", "α": r"\alpha ", "β": r"\beta ",
    "Δ": r"\Delta ", "∞": r"\infty ", "√": r"\sqrt ", "²": "^2", "³": "^3", "−": "-", "·": r"\cdot ",
    "→": r"\to ", "∑": r"\sum ", "∫": r"\int ",
}
_COMMAND = re.compile(r"\\[A-Za-z]+")


def _substitute(tex: str) -> str:
    def sub(match: re.Match[str]) -> str:
        return SUBSTITUTES.get(match.group(0), match.group(0))
    tex = _COMMAND.sub(sub, tex)
    for char, replacement in UNICODE.items():
        tex = tex.replace(char, replacement)
    return tex


def _strip_delimiters(tex: str) -> str:
    r"""`\(x\)`, `\[x\]`, `$x$` inside a formula: the formula is math already."""
    tex = re.sub(r"\\[()\[\]]", "", tex)
    return tex.replace("$", "")


def _pair_left_right(tex: str) -> str:
    lefts, rights = len(re.findall(r"\\left(?![A-Za-z])", tex)), len(re.findall(r"\\right(?![A-Za-z])", tex))
    if lefts != rights:
        tex = re.sub(r"\\(left|right)(?![A-Za-z])\s*", "", tex)
    return tex


def balance_braces(tex: str) -> str:
    """Drop each `}` that closes nothing; close each `{` left open at the end."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\" and i + 1 < len(tex):  # \{ \} \\ are not braces of the grouping
            out.append(tex[i:i + 2])
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                i += 1
                continue
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out) + "}" * depth


def repair_tex(tex: str) -> str:
    """The formula with the deterministic repairs of the module docstring applied."""
    fixed = _substitute(_strip_delimiters(tex))
    fixed = balance_braces(_pair_left_right(fixed))
    return re.sub(r"[ \t]{2,}", " ", fixed).strip() if fixed != tex else tex


# ------------------------------------------------------------------ readable form

SYMBOLS: dict[str, str] = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "theta": "θ",
    "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Omega": "Ω", "times": "×", "cdot": "·", "div": "÷", "pm": "±", "le": "≤", "leq": "≤",
    "ge": "≥", "geq": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "infty": "∞", "to": "→",
    "rightarrow": "→", "Rightarrow": "⇒", "implies": "⇒", "leftarrow": "←", "sum": "Σ", "prod": "Π",
    "int": "∫", "partial": "∂", "nabla": "∇", "circ": "°", "degree": "°", "in": "∈", "neg": "¬",
    "land": "∧", "lor": "∨", "forall": "∀", "exists": "∃", "cup": "∪", "cap": "∩", "sqrt": "√",
    "ldots": "…", "cdots": "⋯", "dots": "…", "sin": "sin", "cos": "cos", "tan": "tan", "log": "log",
    "ln": "ln", "exp": "exp", "lim": "lim", "max": "max", "min": "min",
}
_SUPERSCRIPTS = str.maketrans("0123456789+-n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ")
_SUBSCRIPTS = str.maketrans("0123456789+-", "₀₁₂₃₄₅₆₇₈₉₊₋")


def _scripts(text: str) -> str:
    def sup(match: re.Match[str]) -> str:
        body = match.group(1) if match.group(1) is not None else match.group(2)
        return body.translate(_SUPERSCRIPTS) if all(c in "0123456789+-n" for c in body) else f"^({body})"

    def sub(match: re.Match[str]) -> str:
        body = match.group(1) if match.group(1) is not None else match.group(2)
        return body.translate(_SUBSCRIPTS) if all(c in "0123456789+-" for c in body) else f"_{body}"
    text = re.sub(r"\^\{([^{}]*)\}|\^(\w)", sup, text)
    return re.sub(r"_\{([^{}]*)\}|_(\w)", sub, text)


def _operand(text: str) -> str:
    """A fraction's part: bare when it is one word or number, else in parentheses."""
    return text.strip() if re.fullmatch(r"\s*[\w.²³¹⁰⁴-⁹₀-₉√]+\s*", text) else f"({text.strip()})"


def readable_tex(tex: str) -> str:
    """A formula as text for reading (see the module docstring); never empty."""
    text = balance_braces(_strip_delimiters(tex))
    text = re.sub(r"\\(?:text|mathrm|mathbf|mathit|operatorname|textcolor\{[^{}]*\})\s*\{([^{}]*)\}",
                  r"\1", text)
    text = re.sub(r"\\(left|right|big|Big|displaystyle)(?![A-Za-z])", "", text)
    for _ in range(3):  # nested roots and fractions, from the inside out
        text = _scripts(text)
        text = re.sub(r"\\sqrt\s*\{([^{}]*)\}", lambda m: "√" + _operand(m.group(1)), text)
        text = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}",
                      lambda m: f"{_operand(m.group(1))}/{_operand(m.group(2))}", text)
    text = re.sub(r"\\[,;:! ]|~", " ", text)
    # an unknown command with an argument (\mathscr{x}, \vec{v}): its argument
    text = re.sub(r"\\([A-Za-z]+)\s*\{([^{}]*)\}",
                  lambda m: SYMBOLS[m.group(1)] + m.group(2) if m.group(1) in SYMBOLS else m.group(2), text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: SYMBOLS.get(m.group(1), m.group(1)), text)
    text = _scripts(text)
    text = re.sub(r"\\\\", " ", text).replace("\\", "")
    text = text.replace("{", "").replace("}", "")
    text = re.sub(r"\s+", " ", text).strip()
    return text or tex.strip() or "?"
