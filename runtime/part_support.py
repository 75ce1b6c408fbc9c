"""Parts of elements in a scene (compiler/parts.py says what they are in a lesson).

The generated module points at a part with `part_of(t, 'cell', 2, 3)`: a `PartView`, a group
of the element's own mobjects (a term's glyphs, a cell's text, a code line) that animations
act on in place. A view is never added to the scene by itself (LectureScene skips it), so its
mobjects stay drawn once, as members of their element. `PartView.area()` is what a frame or a
highlight goes around: the part's glyphs, or for a table the whole cell between its rules and
for a code line the listing's full width — recomputed each time, so it follows the element.

A formula's terms are found without Manim's `substrings_to_isolate`, which marks them with
raw SVG specials the confined TeX runner turns off (runtime/tex.py): `Formula` typesets the
formula once as written and once with each term coloured in a marker colour by `\\mathcolor`
(which keeps TeX's spacing, so the glyphs come out the same, in the same order); the glyphs
the marker colours are the term's. The formula's submobjects become one `MathTexPart` per
run of a term or of what lies between terms, keyed by their TeX, so that
`TransformMatchingTex` carries the terms across a rearrangement.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from lecture.compiler.parts import term_key, term_spans, top_level_terms
from manim import ManimColor, Mobject, TransformMatchingTex, VGroup, VMobject, logger
from manim.mobject.geometry.polygram import Rectangle
from manim.mobject.text.tex_mobject import MathTex, MathTexPart

from .tex import TexTimeout

FRAME_BUFF = 0.1  # between a frame and what it goes around (compiler/lower/parts.py uses it too)
MARK_OPACITY = 0.3  # of a highlight over a part
_MARKER = (3, 7)  # the red and green of a term's marker colour; its blue numbers the term


class PartView(VGroup):
    """A part of an element: its mobjects, seen together (never added to a scene itself)."""

    def __init__(self, owner: Any, members: Sequence[Any], area: Callable[[], Any] | None = None) -> None:
        super().__init__(*members)
        self.owner = owner
        self._area = area

    def area(self) -> Any:
        """What a frame or highlight goes around, where the part is now."""
        return self._area() if self._area is not None else self


def part_of(element: Any, kind: str, *where: Any) -> PartView:
    """A part of an element: ('term', tex) of a formula; ('cell', row, column), ('row', n),
    ('column', n) of a table; ('item', n) of a bullet list; ('line', n) of a code listing
    (numbers from 1)."""
    if kind == "term":
        return PartView(element, element.term(where[0]).submobjects)
    if kind in ("cell", "row", "column"):
        return _table_part(element, kind, where)
    if kind == "item":
        return PartView(element, [element[where[0] - 1]])
    if kind == "line":
        lines = element.code_lines
        line = lines[where[0] - 1]
        return PartView(element, [line], lambda: _code_line_area(lines, line))
    raise ValueError(f"no part kind {kind!r}")


def _box(left: float, right: float, bottom: float, top: float) -> Rectangle:
    r = Rectangle(width=max(right - left, 1e-3), height=max(top - bottom, 1e-3), stroke_width=0)
    return r.move_to(np.array([(left + right) / 2, (bottom + top) / 2, 0.0]))


def _table_part(table: Any, kind: str, where: Sequence[int]) -> PartView:
    rows, cols = len(table.mob_table), len(table.mob_table[0])
    r0, r1 = (where[0], where[0]) if kind in ("cell", "row") else (1, rows)
    c = where[1] if kind == "cell" else where[0]
    c0, c1 = (c, c) if kind in ("cell", "column") else (1, cols)
    members = [table.mob_table[r - 1][k - 1] for r in range(r0, r1 + 1) for k in range(c0, c1 + 1)]

    def area() -> Rectangle:
        xs, ys = _rules(table)
        return _box(xs[c0 - 1], xs[c1], ys[r1], ys[r0 - 1])

    return PartView(table, members, area)


def _rules(table: Any) -> tuple[list[float], list[float]]:
    """The x of a table's vertical rules (left to right) and the y of its horizontal ones (top to
    bottom), outer rules included (scene_support.table_of draws them)."""
    xs = sorted(float(line.get_center()[0]) for line in table.get_vertical_lines())
    ys = sorted((float(line.get_center()[1]) for line in table.get_horizontal_lines()), reverse=True)
    return xs, ys


def _code_line_area(lines: Any, line: Any) -> Rectangle:
    pad = 0.04
    return _box(lines.get_left()[0] - pad, lines.get_right()[0] + pad, line.get_bottom()[1] - pad,
                line.get_top()[1] + pad)


# ---------------------------------------------------------------- formulas


class Formula(MathTex):
    """A formula whose terms can be pointed at (`term`) and carried by TransformMatchingTex.
    `terms` must be found (a ValueError otherwise); with `carry`, the terms between its
    top-level operators are picked out too, where they can be."""

    def __init__(self, tex: str, *, terms: Sequence[str] = (), carry: bool = False, **kwargs: Any) -> None:
        with _quiet():  # Manim logs an error for the SVG groups the confined TeX runner leaves out
            super().__init__(tex, **kwargs)
        self.source = tex
        self.base_color = ManimColor(kwargs.get("color") or "#ffffff").to_hex().upper()[:7]
        self.terms: dict[str, list[VMobject]] = {}
        glyphs = _glyphs(self)
        wanted = [t for t in terms if term_key(t)]
        extra = [t for t in top_level_terms(tex) if term_key(t) not in {term_key(w) for w in wanted}] \
            if carry else []
        for group, required in ((wanted, True), (extra, False)):
            for batch in _batches(tex, group):
                self._find(tex, batch, glyphs, kwargs, required)
        for term in wanted:
            if not self.terms.get(term_key(term)):
                raise ValueError(f"the term {term!r} cannot be picked out of the formula {tex!r}")
        self._split_into_parts(glyphs)

    def term(self, tex: str) -> VGroup:
        """The glyphs of a term (every place it occurs)."""
        key = term_key(tex)
        if key not in self.terms:
            raise ValueError(f"{tex!r} is not a picked-out term of {self.source!r}")
        return VGroup(*self.terms[key])

    def _find(self, tex: str, batch: list[str], glyphs: list[VMobject], kwargs: dict, required: bool) -> None:
        marked = _marked(tex, batch)
        try:
            with _quiet():
                probe = _glyphs(MathTex(marked, **kwargs))
        except TexTimeout:
            # a slow machine is not a formula whose terms cannot be picked out: skipping the
            # terms here drew a different picture from the one `check` measured
            raise
        except Exception:
            if required:
                raise ValueError(f"the term {batch[0]!r} cannot be picked out of the formula {tex!r}: "
                                 "where it is a command's argument, put it in braces (\\frac{a}{b}, not "
                                 "\\frac ab)") from None
            return
        if len(probe) != len(glyphs):
            if required:
                raise ValueError(f"the term {batch[0]!r} changes how the formula {tex!r} is typeset")
            return
        colours = [_hex(g) for g in probe]
        for n, term in enumerate(batch):
            mark = _marker_hex(n)
            found = [g for g, c in zip(glyphs, colours, strict=True) if c == mark]
            if found:
                self.terms[term_key(term)] = found

    def _split_into_parts(self, glyphs: list[VMobject]) -> None:
        """One MathTexPart per run of glyphs of one term (longer terms first where terms
        overlap) or of the glyphs between terms, keyed by its TeX."""
        owner: dict[int, str] = {}
        for key in sorted(self.terms, key=len, reverse=True):
            for g in self.terms[key]:
                owner.setdefault(id(g), key)
        runs: list[tuple[str | None, list[VMobject]]] = []
        for g in glyphs:
            label = owner.get(id(g))
            if runs and runs[-1][0] == label:
                runs[-1][1].append(g)
            else:
                runs.append((label, [g]))
        between = _between_terms(self.source, list(self.terms))
        rest_runs = [r for r in runs if r[0] is None]
        keys = between if len(between) == len(rest_runs) else [f"\0{i}" for i in range(len(rest_runs))]
        named = iter(keys)
        parts: list[VMobject] = []
        for label, members in runs:
            part = MathTexPart()
            part.tex_string = label if label is not None else next(named)
            part.add(*members)
            parts.append(part)
        self.submobjects = parts


def _glyphs(tex: Mobject) -> list[VMobject]:
    """A typeset formula's glyphs, in the order TeX set them."""
    return [g for g in tex.family_members_with_points() if isinstance(g, VMobject)]


def formula(tex: str, *, terms: Sequence[str] = (), carry: bool = False, **kwargs: Any) -> Formula:
    """A math element whose terms the lesson points at or carries (see Formula)."""
    return Formula(tex, terms=terms, carry=carry, **kwargs)


def carry_terms(source: Formula, target: Formula) -> TransformMatchingTex:
    """`transform eq into eq2` between formulas: each term moves to its place in the new one,
    and a term the lesson recoloured (`color eq[$b^2$] orange`) keeps its colour there unless
    the new formula gives it a colour of its own."""
    for key, glyphs in source.terms.items():
        theirs = target.terms.get(key)
        if not theirs or not glyphs:
            continue
        recoloured = _hex(glyphs[0]) != source.base_color
        plain = all(_hex(g) == target.base_color for g in theirs)
        if recoloured and plain:
            for g in theirs:
                g.set_color(glyphs[0].get_fill_color())
    return TransformMatchingTex(source, target)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _marker_hex(n: int) -> str:
    return "#{:02X}{:02X}{:02X}".format(*_MARKER, 11 + n)


def _hex(glyph: VMobject) -> str:
    return glyph.get_fill_color().to_hex().upper()[:7]


def _batches(tex: str, terms: list[str]) -> list[list[str]]:
    """Terms in batches whose places in the formula do not overlap (each batch is one typesetting)."""
    batches: list[tuple[list[str], list[tuple[int, int]]]] = []
    for term in terms:
        spans = term_spans(tex, term)
        if not spans:
            continue
        for names, taken in batches:
            if not any(a < d and c < b for a, b in spans for c, d in taken):
                names.append(term)
                taken.extend(spans)
                break
        else:
            batches.append(([term], list(spans)))
    return [names for names, _ in batches]


def _marked(tex: str, batch: list[str]) -> str:
    """The formula with every place of each term of the batch in its marker colour."""
    inserts: list[tuple[int, int, int]] = []  # (start, end, term number)
    for n, term in enumerate(batch):
        inserts += [(a, b, n) for a, b in term_spans(tex, term)]
    out, last = "", 0
    for a, b, n in sorted(inserts):
        r, g, blue = _MARKER + (11 + n,)
        # after ^ or _ the colour command needs braces to be one script
        script = tex[:a].rstrip()[-1:] in ("^", "_")
        head, tail = ("{", "}") if script else ("", "")
        out += tex[last:a] + f"{head}\\mathcolor[RGB]{{{r},{g},{blue}}}{{" + tex[a:b] + "}" + tail
        last = b
    return out + tex[last:]


def _between_terms(tex: str, keys: list[str]) -> list[str]:
    """The TeX between the places of the formula's picked-out terms, in order (non-empty only)."""
    spans: list[tuple[int, int]] = []
    for key in sorted(keys, key=len, reverse=True):
        for a, b in term_spans(tex, key):
            if not any(a < d and c < b for c, d in spans):
                spans.append((a, b))
    pieces, last = [], 0
    for a, b in sorted(spans):
        pieces.append(tex[last:a])
        last = b
    pieces.append(tex[last:])
    return [key for key in (term_key(_COLOUR_AND_BRACES.sub("", p)) for p in pieces) if key]


# What draws nothing between terms: colour commands with their colour, and braces.
_COLOUR_AND_BRACES = re.compile(r"\\(?:textcolor|mathcolor|color)\s*(?:\[[^\]]*\])?\s*\{[^{}]*\}|[{}]")


# ---------------------------------------------------------------- frames and highlights


def area_of(target: Any) -> Any:
    return target.area() if isinstance(target, PartView) else target


def _fit(rect: Rectangle, area: Any, buff: float) -> Rectangle:
    """Resize and move a rectangle to go around `area`, `buff` away."""
    w, h = max(float(area.width) + 2 * buff, 1e-3), max(float(area.height) + 2 * buff, 1e-3)
    if abs(rect.width - w) > 1e-4:
        rect.stretch_to_fit_width(w)
    if abs(rect.height - h) > 1e-4:
        rect.stretch_to_fit_height(h)
    return rect.move_to(area.get_center())


def frame_around(target: Any, *, color: str, stroke_width: float = 4.0,
                 buff: float = FRAME_BUFF) -> Rectangle:
    """A rectangle around an element or a part of it, that follows it when it moves or grows."""
    area = area_of(target)
    rect = Rectangle(width=1.0, height=1.0, color=color, stroke_width=stroke_width)
    _fit(rect, area, buff)
    rect.add_updater(lambda r: _fit(r, area_of(target), buff))
    return rect


def marker_over(view: PartView, color: str) -> Rectangle:
    """A translucent marker over a part (a highlight), following it and fading with it."""
    rect = Rectangle(width=1.0, height=1.0, stroke_width=0, fill_color=color, fill_opacity=MARK_OPACITY)
    _fit(rect, view.area(), 0.04)

    def follow(r: Any) -> None:
        _fit(r, view.area(), 0.04)
        shown = [m.get_fill_opacity() for m in view.family_members_with_points()]
        r.set_fill(opacity=MARK_OPACITY * (max(shown) if shown else 1.0))

    rect.add_updater(follow)
    return rect
