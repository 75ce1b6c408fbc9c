"""A corpus of realistic Planner mistakes: each a scripted model answer for one section and
the answer that repairs it (or None: the loop repairs it without a turn), with what the
feedback sent back must say. Used by tests/test_planner_corpus.py and bench/bench_planner.py.

The outline has one section, `demo`; GOOD is a clean answer for it (it passes the whole
checker: front end, narration timing, TeX, layout)."""

from __future__ import annotations

import json
from dataclasses import dataclass

OUTLINE = {
    "title": "Right Triangles",
    "audience": "ages 12-14",
    "subject": "geometry",
    "sections": [
        {"id": "demo", "title": "Right triangles", "goal": "Recognise a right triangle and its sides.",
         "seconds": 16, "lines": ["A right triangle has one 90° angle.", "Its sides obey a² + b² = c²."],
         "visuals": ["a right triangle", "the formula a^2 + b^2 = c^2"]},
    ],
}
OUTLINE_JSON = json.dumps(OUTLINE, ensure_ascii=False)

GOOD = '''section demo "Right triangles" 16s
  line l1 "A right triangle has one 90° angle."
  line l2 "Its sides obey a² + b² = c²."
  polygon tri (0, 0) (4, 0) (0, 3) in B1..E3 color=blue
  math eq $a^2 + b^2 = c^2$ in B4..C6
  step 6s: say l1 "Here is a right triangle, with one right angle."; create tri
  step 6s: say l2 "The squares of the two legs add up to the square of the long side."; write eq
  wait 1s
'''


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    answer: str  # the model's first answer
    repair: str | None = GOOD  # its second answer; None: repaired by the loop without a turn
    expect: str = ""  # what the feedback sent back must contain
    syntax: bool = False  # the compiler's parser rejects the answer
    grammar: bool | None = None  # the exported grammar (constrained decoding) rejects it; None: as syntax
    finish_reason: str = "stop"
    accepted: str = GOOD  # the section the loop accepts in the end

    @property
    def grammar_rejects(self) -> bool:
        return self.syntax if self.grammar is None else self.grammar


def _swap(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


CASES: tuple[Case, ...] = (
    # ---- YAML
    Case("yaml-colon-after-line-id", "yaml", _swap('line l1 "A right', 'line l1: "A right'),
         expect="answer:2:", syntax=True),
    Case("yaml-option-colon", "yaml", _swap("color=blue", "color: blue"), expect="answer:4:", syntax=True),
    Case("yaml-mapping", "yaml", _swap("  math eq $a^2 + b^2 = c^2$ in B4..C6\n",
                                       "  math:\n    id: eq\n    tex: a^2 + b^2 = c^2\n"),
         expect="answer:5:", syntax=True),
    Case("yaml-list-steps", "yaml", _swap("  step 6s: say l1", "  - step 6s: say l1"), expect="answer:6:",
         syntax=True),
    # ---- Python
    Case("python-call-element", "python", _swap("  polygon tri (0, 0) (4, 0) (0, 3) in B1..E3 color=blue",
                                                "  polygon(tri, points=[(0, 0), (4, 0), (0, 3)], at=B1)"),
         expect="answer:4:", syntax=True),
    Case("python-call-action", "python", _swap("create tri", "create(tri)"), expect="answer:6:", syntax=True),
    Case("python-keyword-placement", "python", _swap("in B4..C6", "at=B4"),
         expect="answer:5:31: error: unexpected '='",
         syntax=True, grammar=False),  # (the exported grammar does not tell keywords from names)
    Case("python-comment", "python", _swap("  wait 1s", "  // the end\n  wait 1s"), expect="answer:8:",
         syntax=True),
    Case("python-true", "python", _swap("color=blue", "color=blue fill=True"), expect="fill"),
    # ---- Markdown
    Case("markdown-fences-and-chatter", "markdown",
         "Sure! Here is the section:\n\n```lecture\n" + GOOD + "```\n\nLet me know if you want changes.",
         repair=None, grammar=True),
    Case("markdown-heading", "markdown", "## Section 1: Right triangles\n\n" + GOOD, repair=None),
    Case("markdown-bold", "markdown", _swap('say l1 "Here is', 'say l1 "**Here** is').replace(
        "  line l2", "  **line** l2"), expect="answer:3:", syntax=True),
    Case("markdown-bullets", "markdown", _swap('  line l1 "A', '  - line l1 "A'), expect="answer:2:",
         syntax=True),
    # ---- formulas
    Case("quoted-math-with-dollars", "formula", _swap("$a^2 + b^2 = c^2$", '"$a^2 + b^2 = c^2$"'),
         repair=None),
    Case("unknown-macro-degree", "formula", _swap("$a^2 + b^2 = c^2$", r"$90\degree = a^2 + b^2 - c^2$"),
         repair=None, accepted=_swap("$a^2 + b^2 = c^2$", r"$90^\circ = a^2 + b^2 - c^2$")),
    Case("unknown-macro", "formula", _swap("$a^2 + b^2 = c^2$", r"$\abs{a}^2 + b^2 = c^2$"),
         expect="not a TeX command"),
    Case("backslash-escape-in-string", "formula", _swap("$a^2 + b^2 = c^2$", r'"\neg (a^2 + b^2 = c^2)"'),
         repair=None, accepted=_swap("$a^2 + b^2 = c^2$", r"$\neg (a^2 + b^2 = c^2)$")),
    Case("unbalanced-braces", "formula", _swap("$a^2 + b^2 = c^2$", r"$\frac{a^2 + b^2}{c^2 = 1$"),
         repair=None, accepted=_swap("$a^2 + b^2 = c^2$", r"$\frac{a^2 + b^2}{c^2 = 1}$")),
    Case("latex-in-narration", "formula",
         _swap("add up to the square", r"add up: \(a^2 + b^2\) is the square"),
         expect="narration contains LaTeX"),
    # ---- sections and ids
    Case("two-sections-at-once", "sections",
         GOOD + '\nsection more "More" 10s\n  line l1 "More."\n  step 4s: say l1 "More to come."\n',
         repair=None, grammar=True),
    Case("other-section-first", "sections",
         'section intro "Intro" 10s\n  line l1 "Hi."\n  step 4s: say l1 "Hello there."\n\n' + GOOD,
         repair=None, grammar=True),
    Case("wrong-section-id", "sections", _swap("section demo", "section triangles"),
         expect="section 'demo' was asked for"),
    Case("undefined-element", "ids", _swap("write eq", "write eqq"), expect="no element named 'eqq'"),
    Case("undefined-line", "ids", _swap("say l2", "say l3"), expect="l3"),
    Case("duplicate-id", "ids", _swap("  math eq $a^2", "  text eq \"c\" at A1\n  math eq $a^2"),
         expect="eq"),
    # ---- layout and timing
    Case("overlapping-placements", "layout", _swap("in B4..C6", "at C2"), expect="overlaps"),
    Case("off-grid-cell", "layout", _swap("in B4..C6", "in B4..C9"), expect="answer:5:"),
    Case("step-too-short", "timing", _swap("step 6s: say l2", "step 1s: say l2"), expect="narration"),
    # ---- invented words
    Case("invented-kind", "invented", _swap("polygon tri", "triangle tri"),
         expect="hint: write polygon with three points"),
    Case("invented-option", "invented", _swap("color=blue", "color=blue glow=3"),
         expect="unknown option 'glow'"),
    Case("invented-action", "invented", _swap("create tri", "appear tri"),
         expect="hint: write create (shapes) or write"),
    Case("invented-colour", "invented", _swap("color=blue", "color=skyblue"), expect="skyblue"),
    Case("duration-without-unit", "invented", _swap("step 6s: say l1", "step 6: say l1"), expect="answer:6:",
         syntax=True),
    # ---- truncation
    Case("truncated-answer", "truncated", GOOD[: len(GOOD) // 2], finish_reason="length",
         expect="cut off", grammar=True),
)
