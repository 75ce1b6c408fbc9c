"""Deterministic repairs of a Planner answer, before it is checked: the mistakes models make
that have one meaning, fixed without a repair turn. Every repair keeps the answer's lines
(one line in, one line out), so the diagnostics of what is left still point at the model's
own line numbers.

- a `math` element whose formula is a quoted string: `math eq "$x^2$"` or `math eq "\\neg p"`
  (where `\\n` would be a line break) -> `math eq $x^2$`, `math eq $\\neg p$`;
- inside `$...$`: compiler/tex_repair.py's repairs (`\\degree` -> `^\\circ`, braces balanced,
  inline-math delimiters dropped, `°` -> `^\\circ`).
"""

from __future__ import annotations

import re

from lecture.compiler.tex_repair import repair_tex

# `math ID "..."` at the start of a statement: the quoted formula (no escaped quote inside)
_QUOTED_MATH = re.compile(r'^(\s*math\s+[A-Za-z_]\w*\s+)"((?:[^"\\\n]|\\[^\n])*)"')
_DOLLARS = re.compile(r"\$([^$\n]*)\$")


def _unquote_math(line: str) -> tuple[str, str | None]:
    match = _QUOTED_MATH.match(line)
    if match is None:
        return line, None
    body = match.group(2).strip()
    if body.startswith("$") and body.endswith("$") and len(body) >= 2:
        body = body[1:-1]
    if "$" in body:
        return line, None
    # written as in a Python string ("\\frac"): one backslash is meant
    body = re.sub(r"\\\\(?=[A-Za-z{}])", r"\\", body)
    return f"{match.group(1)}${body}${line[match.end():]}", f"formula written as a quoted string: ${body}$"


def _repair_formulas(line: str) -> tuple[str, list[str]]:
    """A `math` line with each $formula$ repaired."""
    notes: list[str] = []

    def sub(match: re.Match[str]) -> str:
        fixed = repair_tex(match.group(1))
        if fixed != match.group(1):
            notes.append(f"formula ${match.group(1)}$ repaired as ${fixed}$")
        return f"${fixed}$"
    return _DOLLARS.sub(sub, line), notes


def repair_answer(answer: str) -> tuple[str, list[str]]:
    """The answer with its one-meaning mistakes fixed, and a note for each repair."""
    lines = answer.split("\n")
    notes: list[str] = []
    for i, line in enumerate(lines):
        line, note = _unquote_math(line)
        if note:
            notes.append(f"line {i + 1}: {note}")
        if line.lstrip().startswith("math"):
            line, fixed = _repair_formulas(line)
            notes += [f"line {i + 1}: {n}" for n in fixed]
        lines[i] = line
    return "\n".join(lines), notes
