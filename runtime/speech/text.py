"""Narration text before it is spoken: sentences, LaTeX warnings and spoken-form notation.

- `split_sentences(text)` -> [(start, end)] character spans of the sentences as written.
  A sentence ends at `.`, `!`, `?` or `…` (with closing quotes or brackets) followed by
  white space and something that is not a lower-case letter, unless the word before is a
  known abbreviation (e.g., i.e., Dr., vs., Fig.…); a blank line always ends one. A decimal
  point (3.14) never ends a sentence.
- `find_latex(text)` -> [Problem]: `\\frac`, `$…$`, `^{`, `_{` in narration; they would be
  read aloud character by character, so each is a warning with a hint.
- `normalise(text, language)` -> the words to speak. LaTeX is first turned into plain
  notation (`\\frac{1}{2}` -> `1/2`, `\\pi` -> `π`, `$` dropped), then the language's table
  turns numbers and notation into words. English has a full table (numbers up to
  999 trillion, decimals, fractions, ordinals, negatives, %, °, ², ³, ^n, = + − × ÷ π ≤ ≥
  and friends, Greek letters); other languages get only the LaTeX clean-up and white space,
  because their engine (espeak-ng) reads numbers in its own language.

Never raises: any string gives a string (possibly empty).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from .base import Problem, normalise_language

# ---------------------------------------------------------------- sentences

_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "prof", "fig", "figs", "no", "st", "approx",
    "cf", "eq", "eqs", "sec", "ch", "vol", "pp", "ca", "jr", "sr", "mt", "resp",
}
_END = re.compile(r"[.!?…]+[\"'”’)\]»]*(?=\s)")
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of `text`, white space trimmed; empty
    sentences are left out."""
    cuts: list[int] = []
    for m in _END.finditer(text):
        end = m.end()
        rest = text[end:].lstrip()
        if rest and rest[0].islower():
            continue
        word = re.search(r"([\w.]+)[.!?…]*[\"'”’)\]»]*$", text[:end])
        if word and m.group(0).startswith(".") and word.group(1).rstrip(".").lower() in _ABBREVIATIONS:
            continue
        cuts.append(end)
    cuts.extend(m.start() for m in _BLANK_LINE.finditer(text))
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in sorted(set(cuts)) + [len(text)]:
        if cut < start:
            continue
        s, e = start, cut
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
        start = cut
    return spans


# ---------------------------------------------------------------- LaTeX

_LATEX = re.compile(
    r"\\[A-Za-z]+"  # \frac, \pi, \sqrt
    r"|\\[{}\[\]()]"  # \{ \( \[
    r"|\$(?!\s)[^$\n]+?(?<!\s)\$(?!\d)"  # $x^2$ (not "$5 and $10")
    r"|[\^_]\{"  # ^{2}, _{n}
)
_MAX_LATEX_PROBLEMS = 5


def find_latex(text: str) -> list[Problem]:
    """Warnings for LaTeX in narration (at most a few per text), with character offsets."""
    problems: list[Problem] = []
    for m in _LATEX.finditer(text):
        shown = m.group(0) if len(m.group(0)) <= 30 else m.group(0)[:27] + "…"
        problems.append(Problem(
            message=f"narration contains LaTeX ({shown!r}); it is spoken as best it can be, "
                    "but it is meant to be read, not heard",
            hint="write the words a teacher would say, e.g. \"a squared plus b squared\" or "
                 "\"one half\"; keep the formula in a `math` element",
            code="narration-latex", start=m.start(), end=m.end()))
        if len(problems) >= _MAX_LATEX_PROBLEMS:
            break
    return problems


_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_LATEX_SYMBOLS = {
    "cdot": "×", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "le": "≤", "leq": "≤",
    "ge": "≥", "geq": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "infty": "∞", "circ": "°",
    "degree": "°", "angle": "∠", "triangle": "△", "to": "→", "rightarrow": "→", "sim": "∼",
    "ldots": "…", "cdots": "…", "dots": "…", "sum": "Σ", "int": "∫", "in": "∈",
    "percent": "%", "%": "%", "lt": "<", "gt": ">",
} | _GREEK
_LATEX_DROP = {"left", "right", "displaystyle", "text", "mathrm", "mathbf", "mathit", "operatorname",
               "quad", "qquad", "big", "Big", "bigg", "Bigg", "limits", "nolimits", "mathbb"}

_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_SUP_BRACE = re.compile(r"\^\{([^{}]*)\}")
_SUB_BRACE = re.compile(r"_\{([^{}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


def _latex_to_notation(text: str) -> str:
    if "\\" not in text and "$" not in text and "{" not in text:
        return text
    for _ in range(4):  # nested \frac{\frac{…}}: a few rounds, innermost first
        new = _FRAC.sub(lambda m: _frac_text(m.group(1), m.group(2)), text)
        new = _SQRT.sub(lambda m: f"√{_group(m.group(1))}", new)
        if new == text:
            break
        text = new
    text = _SUP_BRACE.sub(lambda m: f"^({m.group(1)})", text)
    text = _SUB_BRACE.sub(lambda m: f" sub {m.group(1)} ", text)

    def command(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _LATEX_SYMBOLS:
            return f" {_LATEX_SYMBOLS[name]} "
        if name in _LATEX_DROP or not name.isalpha():
            return " "
        return f" {name} " if name.isalpha() else " "

    text = _COMMAND.sub(command, text)
    text = re.sub(r"\$(?!\d)", " ", text)  # math delimiters; "$5" stays money
    return text.replace("{", " ").replace("}", " ")


def _frac_text(num: str, den: str) -> str:
    num, den = num.strip(), den.strip()
    if re.fullmatch(r"\d+", num) and re.fullmatch(r"\d+", den):
        return f" {num}/{den} "
    return f" {_group(num)} over {_group(den)} "


def _group(expr: str) -> str:
    """Parenthesise a compound LaTeX argument (`a+b`), not a single token (`x`, `12`)."""
    expr = expr.strip()
    return expr if re.fullmatch(r"[\w.\\]*", expr) else f"({expr})"


# ---------------------------------------------------------------- English numbers

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]
_MAX_WORDS_DIGITS = 15  # up to 999 trillion; longer digit strings are read digit by digit


def _below_thousand(n: int) -> str:
    words = []
    if n >= 100:
        words.append(f"{_ONES[n // 100]} hundred")
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(_ONES[n])
    return " ".join(words)


def number_words(n: int) -> str:
    """0 -> zero, 21 -> twenty-one, 1_000_000 -> one million, -5 -> minus five."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 1000:
        return _below_thousand(n)
    if n >= 10**_MAX_WORDS_DIGITS:
        return digits_words(str(n))
    words = []
    for value, name in _SCALES:
        if n >= value:
            words.append(f"{_below_thousand(n // value)} {name}")
            n %= value
    if n:
        words.append(_below_thousand(n))
    return " ".join(words)


def digits_words(digits: str) -> str:
    return " ".join(_ONES[int(d)] for d in digits if d.isdecimal())


def _integer_words(digits: str) -> str:
    digits = "".join(d for d in digits if d.isdecimal())
    if len(digits) > 1 and digits.startswith("0") or len(digits) > _MAX_WORDS_DIGITS:
        return digits_words(digits)
    return number_words(int(digits))


_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                      "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def ordinal_words(n: int) -> str:
    """1 -> first, 22 -> twenty-second, 100 -> one hundredth."""
    words = number_words(n)
    head, sep, last = max(words.rpartition(" "), words.rpartition("-"), key=lambda p: len(p[0]))
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def fraction_words(num: str, den: str) -> str:
    """1/2 -> one half, 3/4 -> three quarters, 2/3 -> two thirds, 7/25 -> seven over twenty-five."""
    n_words = _integer_words(num)
    if len(den) > 3 or den.startswith("0") or len(num) > 6:
        return f"{n_words} over {_integer_words(den)}"
    d = int(den)
    if d < 2 or d > 20:
        return f"{n_words} over {_integer_words(den)}"
    plural = int(num) != 1
    if d == 2:
        name = "halves" if plural else "half"
    elif d == 4:
        name = "quarters" if plural else "quarter"
    else:
        name = ordinal_words(d) + ("s" if plural else "")
    return f"{n_words} {name}"


# ---------------------------------------------------------------- English table

ENGLISH_SYMBOLS: dict[str, str] = {
    "=": " equals ", "≠": " is not equal to ", "≈": " is approximately ", "≡": " is identical to ",
    "+": " plus ", "−": " minus ", "±": " plus or minus ", "∓": " minus or plus ", "×": " times ",
    "·": " times ", "÷": " divided by ", "≤": " is less than or equal to ",
    "≥": " is greater than or equal to ", "<": " is less than ", ">": " is greater than ",
    "√": " the square root of ", "∛": " the cube root of ", "∞": " infinity ", "∠": " angle ",
    "△": " triangle ", "∆": " delta ", "→": " goes to ", "∈": " in ", "∑": " the sum of ",
    "Σ": " sigma ", "∫": " the integral of ", "∼": " is similar to ", "%": " percent ",
    "‰": " per mille ", "°": " degrees ", "&": " and ", "π": " pi ",
}
ENGLISH_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
    "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "gamma", "Δ": "delta", "Θ": "theta", "Λ": "lambda", "Π": "pi", "Φ": "phi", "Ψ": "psi",
    "Ω": "omega",
}
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_VULGAR = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5",
           "⅗": "3/5", "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8",
           "⅞": "7/8"}

_NUM = r"\d+(?:\.\d+)?"


def _power_words(exponent: str) -> str:
    e = exponent.strip().strip("()").strip()
    if e == "2":
        return " squared "
    if e == "3":
        return " cubed "
    return f" to the power of {e} "


def _decimal_words(m: re.Match[str]) -> str:
    whole, frac = m.group(1), m.group(2)
    head = _integer_words(whole) if whole else ""
    return f" {head} point {digits_words(frac)} ".replace("  ", " ")


def _english(text: str) -> str:
    for char, plain in _VULGAR.items():
        text = text.replace(char, f" {plain} ")
    # Negative numbers: "-5", "= −3", "(-2"
    text = re.sub(r"(^|[\s(=<>≤≥,:;\[])[-−–](?=\.?\d)", r"\1 minus ", text)
    # Subtraction written with a spaced hyphen or dash between numbers or single letters:
    # "a - b", "7 – 2" (a dash between words is prose: "the result – surprisingly – is")
    text = re.sub(r"(?:(?<=[\d)])|(?<=\b[A-Za-z]))\s+[-–]\s+(?=[\d(]|[A-Za-z]\b)", " minus ", text)
    # Ranges: 12-14
    text = re.sub(r"(?<=\d)[-–](?=\d)", " to ", text)
    # Powers: x², 10⁻³, x^2, x^(n+1)
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: _power_words(m.group(0).translate(_SUPERSCRIPT)), text)
    text = re.sub(r"\^\s*(\([^()]*\)|-?[\w.]+)", lambda m: _power_words(m.group(1)), text)
    text = text.replace("^", " to the power of ")
    # 1,000,000 -> 1000000 (a comma between digit groups, not "1, 2, 3")
    text = re.sub(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?![,\d])", lambda m: m.group(0).replace(",", ""), text)
    # Money, percent and temperatures before the bare symbols
    text = re.sub(r"\$\s?(" + _NUM + r")", lambda m: f" {m.group(1)} "
                  + ("dollar" if m.group(1) == "1" else "dollars") + " ", text)
    text = re.sub(r"(" + _NUM + r")\s?°\s?([CF])\b",
                  lambda m: f" {m.group(1)} {'degree' if m.group(1) == '1' else 'degrees'} "
                            f"{'Celsius' if m.group(2) == 'C' else 'Fahrenheit'} ", text)
    # "a 90° angle" -> "a ninety degree angle"; "turn 90°" -> "turn ninety degrees"
    text = re.sub(r"(" + _NUM + r")\s?°(?=(\s+(?:angle|turn|rotation|arc|sector|bend|slope)\b)?)",
                  lambda m: f" {m.group(1)} "
                  + ("degree" if m.group(1) == "1" or m.group(2) else "degrees") + " ", text)
    # Ordinals: 1st, 22nd, 3rd, 4th
    text = re.sub(r"(?<![\w.])(\d{1,12})(st|nd|rd|th)\b", lambda m: f" {ordinal_words(int(m.group(1)))} ",
                  text)
    # Fractions 1/2 (not dates 1/2/3, not 1.5/2)
    text = re.sub(r"(?<![\d/.])(\d+)\s*/\s*(\d+)(?![\d/]|\.\d)",
                  lambda m: f" {fraction_words(m.group(1), m.group(2))} ", text)
    # Multiplication written with * or an x between numbers: 3 * 4, 3x4
    text = re.sub(r"(?<=[\w)])\s*\*\s*(?=[\w(])", " times ", text)
    text = re.sub(r"(?<=\d)\s*[x]\s*(?=\d)", " times ", text)
    # Decimals and integers
    text = re.sub(r"(\d*)\.(\d+)", lambda m: _decimal_words(m) if m.group(1) or _lone_point(text, m)
                  else m.group(0), text)
    text = re.sub(r"\d+", lambda m: f" {_integer_words(m.group(0))} ", text)
    for symbol, words in ENGLISH_SYMBOLS.items():
        text = text.replace(symbol, words)
    for letter, name in ENGLISH_GREEK.items():
        text = text.replace(letter, f" {name} ")
    return text


def _lone_point(text: str, m: re.Match[str]) -> bool:
    """`.5` is a number when the point is not glued to a word before it."""
    return m.start() == 0 or not text[m.start() - 1].isalnum()


# ---------------------------------------------------------------- public

LANGUAGE_TABLES: dict[str, Callable[[str], str]] = {"en": _english}
"""Per-language spoken-form rules, keyed by primary language subtag; others pass through."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


def normalise(text: str, language: str = "en") -> str:
    """The words to speak for `text` (one sentence or more) in `language`."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text.replace("\t", " ").replace("\n", " "))
    text = _strip_surrogates(text)
    text = _latex_to_notation(text)
    rule = LANGUAGE_TABLES.get(normalise_language(language).split("-")[0])
    if rule is not None:
        text = rule(text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def _strip_surrogates(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8") if any(
        "\ud800" <= c <= "\udfff" for c in text) else text


def speakable(text: str) -> bool:
    """True when `text` has something to say (a letter or a digit)."""
    return any(c.isalnum() for c in text)
