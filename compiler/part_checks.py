"""The checks of parts, restyling and frames (compiler.checks runs them with the others).

- a part that does not exist (`t[9, 1]` of a 3-row table, `eq[$d^2$]`), or of a kind that has
  none, at the part, with a hint listing what exists (compiler.parts);
- a part where only a whole element makes sense: showing, hiding, moving, transforming,
  scaling or rotating a part, a plot `on` a part;
- the value of a restyle: `color` needs a colour, `scale` a factor above 0; `rotate … about`
  a cell or an element; recolouring an element that draws in colours of its own;
- `around`: only a frame goes around something, and a frame only goes around;
- colour names inside a formula (`\\textcolor{orange}{b^2}`): the lesson's colour names.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import model as m
from .colors import COLORS
from .diagnostics import Diagnostic, did_you_mean
from .kinds import AROUND, HIDING_VERBS, KINDS, SHOWING_VERBS, with_article
from .layout import on_grid, parse_cell_name
from .parts import part_problem, parts_available, section_refs, tex_tokens

# Verbs that act on a whole element only: a part is shown, hidden and moved with its element.
WHOLE_ONLY = SHOWING_VERBS | HIDING_VERBS | {"move", "transform", "scale", "rotate"}
COLOR_COMMANDS = frozenset({"\\textcolor", "\\color", "\\colorbox", "\\mathcolor"})


def error(message: str, span: m.Span, hint: str | None, code: str) -> Diagnostic:
    return Diagnostic("error", message, span, hint, code)


def part_diagnostics(lesson: m.Lesson) -> Iterator[Diagnostic]:
    for section in lesson.sections:
        for ref in section_refs(section):
            yield from _part_exists(ref, section)
        for el in section.elements:
            yield from _around(el)
            yield from _formula_colors(el)
            target = el.target
            if target is not None and target.part is not None:
                yield error(f"{with_article(el.kind)} is drawn on a whole element", target.part.span,
                            f"write `on {target.name}`", "part-not-here")
        for step in section.steps:
            for act in step.actions:
                yield from _action(act, section)


def _part_exists(ref: m.Ref, section: m.Section) -> Iterator[Diagnostic]:
    part = ref.part
    el = section.element(ref.name)
    if part is None or el is None:  # an unknown name is reported where it is used
        return
    problem = part_problem(el, part)
    if problem is not None:
        yield error(problem, part.span or ref.span, parts_available(el), "unknown-part")


def _action(act: m.Action, section: m.Section) -> Iterator[Diagnostic]:
    if act.verb in WHOLE_ONLY:
        for ref in (*act.targets, *((act.into,) if act.into is not None else ())):
            if ref.part is not None:
                yield error(f"`{act.verb}` acts on a whole element, not on a part of it", ref.part.span,
                            f"write `{act.verb} {ref.name}`; parts can be indicated, highlighted, "
                            f"coloured, framed and pointed at", "part-not-here")
    if isinstance(act.to, m.Relative) and act.to.relation == "around":
        yield error("`move` places an element beside another, not around it", act.to.span,
                    "only a frame goes around: frame f around X", "bad-placement")
    if act.verb == "color":
        yield from _color_value(act, section)
    elif act.verb == "scale":
        value = act.value
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            yield error("`scale` needs a factor greater than 0", act.span,
                        "for example: scale eq 1.5 (1.5 times as large) or scale eq 0.5", "bad-action")
    elif act.verb == "rotate" and act.about is not None:
        yield from _about(act.about, section)


def _color_value(act: m.Action, section: m.Section) -> Iterator[Diagnostic]:
    value = act.value
    if isinstance(value, m.Word) and value.name.lower() not in COLORS:
        yield error(f"unknown colour '{value.name}'", _last(act.span, len(value.name)),
                    did_you_mean(value.name, COLORS) or "use a colour name (orange, yellow, light_gray…) "
                    "or #rrggbb", "unknown-color")
    for ref in act.targets:
        el = section.element(ref.name)
        spec = KINDS.get(el.kind) if el is not None else None
        if spec is not None and spec.own_colors and ref.part is None:
            example = f"color {ref.name}[line 1] yellow" if spec.parts else "colour another element"
            yield error(f"{el.kind} '{ref.name}' draws in colours of its own", ref.span,  # type: ignore[union-attr]
                        f"colour a part of it instead: {example}", "bad-action")


def _last(span: m.Span, length: int) -> m.Span:
    """The last `length` characters of a one-line span (a restyle's value ends its action)."""
    if not span.line or span.line != span.end_line or span.end_column - span.column < length:
        return span
    return m.Span(span.file, span.line, span.end_column - length, span.line, span.end_column,
                  span.end_pos - length, span.end_pos)


def _about(ref: m.Ref, section: m.Section) -> Iterator[Diagnostic]:
    if section.element(ref.name) is not None:
        return
    cell = parse_cell_name(ref.name, ref.span)
    if cell is None:
        yield error(f"no element or cell named '{ref.name}' in section '{section.id}'", ref.span,
                    did_you_mean(ref.name, section.elements_by_id) or
                    "turn about a cell (rotate sq 90 about C3) or an element", "undefined-id")
    elif not on_grid(cell):
        yield error(f"cell {cell.name} is off the grid", ref.span,
                    "the grid has rows A-F (top to bottom) and columns 1-6 (left to right)", "off-grid")


def _around(el: m.Element) -> Iterator[Diagnostic]:
    spec = KINDS.get(el.kind)
    if spec is None:
        return
    p = el.placement
    goes_around = isinstance(p, m.Relative) and p.relation == "around"
    if spec.placement == AROUND and not goes_around:
        yield error(f"{with_article(el.kind)} goes around another element or a part of it",
                    p.span if p is not None else el.id_span, f"for example: {spec.example}", "needs-around")
    elif goes_around and spec.placement != AROUND:
        framers = [k for k, s in KINDS.items() if s.placement == AROUND]
        yield error(f"only {' or '.join(with_article(k) for k in framers)} goes `around` an element",
                    p.span,  # type: ignore[union-attr]
                    "place it beside instead (below, above, left of, right of, next to), or draw "
                    f"{KINDS[framers[0]].example}", "bad-placement")


def _formula_colors(el: m.Element) -> Iterator[Diagnostic]:
    """`\\textcolor{orange}{…}` in a formula: the colour must be one of the lesson's."""
    if el.kind != "math" or not el.texts:
        return
    text = el.texts[0]
    tokens = tex_tokens(text.value)
    for i, token in enumerate(tokens):
        if token.text not in COLOR_COMMANDS or i + 1 >= len(tokens) or tokens[i + 1].text != "{":
            continue  # `\color[HTML]{ff8800}`: a colour model names its own colour
        close = next((j for j in range(i + 2, len(tokens)) if tokens[j].text == "}"), None)
        if close is None:
            continue  # TeX's own check reports the missing brace
        name = text.value[tokens[i + 1].end:tokens[close].start].strip()
        if name not in COLORS:
            yield error(f"unknown colour '{name}' in the formula", _inside(text, tokens[i + 1].end, name),
                        did_you_mean(name, COLORS) or f"use a colour of the lesson: {_some_colors()}",
                        "unknown-color")


def _some_colors() -> str:
    return ", ".join(c for c in ("orange", "yellow", "blue", "green", "red", "teal") if c in COLORS)


def _inside(text: m.Text, offset: int, name: str) -> m.Span:
    """The span of `name` at `offset` in a one-line $…$ text (the whole text otherwise)."""
    span = text.span
    if not span.line or span.line != span.end_line or span.end_pos - span.start_pos != len(text.value) + 2:
        return span
    column = span.column + 1 + offset
    return m.Span(span.file, span.line, column, span.line, column + max(len(name), 1),
                  span.start_pos + 1 + offset, span.start_pos + 1 + offset + len(name))
