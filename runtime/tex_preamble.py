"""What a formula's TeX document loads besides Manim's template: `amsmath` and `amssymb`
(Manim's template has them; a template without them still gets them) and `xcolor`, with the
lesson's colour names defined as the lesson draws them, so that `\\textcolor{orange}{b^2}` in a
formula is the orange of `color=orange` (compiler.colors), and `\\mathcolor` keeps a term's
spacing (the runtime finds a formula's terms by colouring them: runtime/part_support.py)."""

from __future__ import annotations

from functools import cache

from lecture.compiler.colors import COLORS

PACKAGES = ("amsmath", "amssymb", "xcolor")


@cache
def lesson_preamble() -> str:
    lines = [f"\\usepackage{{{p}}}" for p in PACKAGES]
    lines += [f"\\definecolor{{{name}}}{{HTML}}{{{hex_[1:].upper()}}}" for name, hex_ in COLORS.items()]
    return "\n".join(lines) + "\n"


def with_lesson_preamble(document: str) -> str:
    """A TeX document with the packages it lacks and the lesson's colours, before its body."""
    marker = "\\begin{document}"
    if marker not in document or "\\definecolor{orange}{HTML}" in document:
        return document
    missing = [ln for ln in lesson_preamble().splitlines()
               if not (ln.startswith("\\usepackage") and ln in document)]
    head, body = document.split(marker, 1)
    return head + "\n".join(missing) + "\n" + marker + body
