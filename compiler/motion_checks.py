"""The checks of values and motion (`value x0 = 1`, `(x0, f(x0))`, `x=0..x0`, `radius=r`,
`change x0 to 3`, `move p along f`), over compiler.values' graph of each section:

- an expression of values that does not read (an unknown name, with the names there are);
- a value named as the expression language's own words (`pi`, `sin`, `x`);
- values that refer to each other in a cycle;
- `change` of something that is not a tracker value, twice in a step; an unknown `ease=`;
  options an action does not take;
- `move … along` a path that is no path; a range that cannot follow a value;
- `move p …` where p's place follows values (or p is kept beside an element that does): it would
  have no effect;
- a coordinate, bound or numeric option that leaves its range at any sampled moment of any
  step once its element is shown (the step and the values then are in the message);
- a value that nothing shows or reads.

compiler.checks runs `motion_diagnostics` on every lesson. The generic checks leave these to it:
they skip options `values.bound_option` claims and the range of moving coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from . import coordinates
from . import model as m
from .diagnostics import Diagnostic, did_you_mean
from .expression import CONSTANTS, FUNCTIONS, RESERVED, ExpressionError
from .groups import expanded
from .kinds import (
    EASINGS,
    FRACTION,
    KINDS,
    MOVING_RANGE_KINDS,
    OPTIONS,
    PATH_KINDS,
    POSITIVE,
    SHOWING_VERBS,
    VERB_OPTIONS,
    with_article,
)
from .span import Span
from .values import Sampled, SectionValues, Use, bound_option, section_values


def _error(message: str, span: Span, hint: str | None, code: str) -> Diagnostic:
    return Diagnostic("error", message, span, hint, code)


def lasts_the_step(action: m.Action) -> bool:
    """Whether an action moves things over its whole step, as the lowering plays it (motion_support's
    `lecture_full`): a `change` of values, a `move … along` a path, a `rotate … ease=`."""
    return action.verb == "change" or (action.verb == "move" and action.along is not None) \
        or (action.verb == "rotate" and action.option("ease") is not None)


def motion_diagnostics(lesson: m.Lesson) -> Iterator[Diagnostic]:
    for section in lesson.sections:
        if not _has_motion(section):
            continue
        graph = section_values(section)
        yield from _value_diagnostics(graph)
        yield from _use_diagnostics(graph)
        yield from _action_diagnostics(graph)
        yield from _range_diagnostics(graph)
        yield from _unused(graph)


def _has_motion(section: m.Section) -> bool:
    """Whether the section has anything for these checks (most have not: skip them fast)."""
    actions = (a for step in section.steps for a in step.actions)
    return any(el.kind == "value" for el in section.elements) \
        or any(a.verb == "change" or a.along is not None or a.options or _moving(a.to) for a in actions) \
        or any(_moving(el.placement) or any(bound_option(el.kind, o) for o in el.options)
               or (el.endpoints is not None and any(isinstance(e, m.MovingPoint)
                                                    for e in (el.endpoints.start, el.endpoints.end)))
               for el in section.elements)


def _moving(place: m.Placement | None) -> bool:
    return isinstance(place, m.AtCoordinate) and isinstance(place.at, m.MovingPoint)


# ---------------------------------------------------------------- expressions


def expression_span(span: Span, error: ExpressionError, *, quoted: bool = False) -> Span:
    """The part of an expression's span an error points at: `quoted`, the span holds the quotes
    too. The whole span when the text spans lines (its offsets are not columns)."""
    start = 1 if quoted else 0
    if not span.line or span.line != span.end_line:
        return span
    column, pos = span.column + start + error.offset, span.start_pos + start + error.offset
    width = max(error.length, 1)
    return Span(span.file, span.line, column, span.line, column + width, pos, pos + width)


def _expression_error(error: ExpressionError, span: Span, *, quoted: bool = False) -> Diagnostic:
    return _error(error.message, expression_span(span, error, quoted=quoted), error.hint, "bad-expression")


def _value_diagnostics(graph: SectionValues) -> Iterator[Diagnostic]:
    for el in graph.section.elements:
        if el.kind == "value" and el.id in RESERVED:
            what = "a function" if el.id in FUNCTIONS else "a constant" if el.id in CONSTANTS else \
                "a plot's variable"
            yield _error(f"'{el.id}' cannot name a value: it is {what} in expressions", el.id_span,
                         f"choose another name, such as {el.id}0", "reserved-name")
    for value in graph.values.values():
        if value.error is not None and value.text is not None:
            if "\\" in value.text.value:  # escapes: offsets in the text are not columns
                yield _error(value.error.message, value.text.span, value.error.hint, "bad-expression")
            else:
                yield _expression_error(value.error, value.text.span, quoted=True)
    for cycle in graph.cycles:
        yield _cycle(cycle, graph)


def _cycle(cycle: tuple[str, ...], graph: SectionValues) -> Diagnostic:
    first = graph.values[cycle[0]]
    span = first.text.span if first.text is not None else first.element.id_span
    if len(cycle) == 1:
        return _error(f"the value '{cycle[0]}' is computed from itself", span,
                      f"give it a start instead (value {cycle[0]} = 1) and change it in steps", "value-cycle")
    shown = " → ".join((*cycle, cycle[0]))
    return _error(f"these values are computed from each other in a cycle: {shown}", span,
                  f"give one of them a start instead of an expression (value {cycle[0]} = 1)", "value-cycle")


def _use_diagnostics(graph: SectionValues) -> Iterator[Diagnostic]:
    for use in graph.uses:
        if use.error is not None and use.where == "option" and not use.quoted and not use.bound:
            yield _not_a_number(use, graph)
        elif use.error is not None:
            yield _expression_error(use.error, use.span)
    for el in graph.section.elements:
        for opt in el.options:
            if isinstance(opt.value, m.ValueRange) and el.kind not in MOVING_RANGE_KINDS:
                yield _error(f"the {opt.key} range of {with_article(el.kind)} cannot follow a value",
                             opt.value_span if opt.value_span.line else opt.span,
                             f"write numbers: {opt.key}=0..4; ranges follow values on "
                             f"{', '.join(MOVING_RANGE_KINDS)} and `move … along`", "fixed-range")


def _not_a_number(use: Use, graph: SectionValues) -> Diagnostic:
    """`radius=big`: a word that names no value, where a number goes."""
    values = [v for v in graph.values if v in graph.scope.variables]
    hint = did_you_mean(use.text, values) or (
        f"{OPTIONS[use.key].doc}; values here: {', '.join(values)}" if values
        else f"{OPTIONS[use.key].doc}; or declare a value first: value {use.text} = 1")
    return _error(f"'{use.key}' needs a number, or the name of a value", use.span, hint, "bad-option")


# ---------------------------------------------------------------- actions


def _action_diagnostics(graph: SectionValues) -> Iterator[Diagnostic]:
    section = graph.section
    for number, step in enumerate(section.steps, start=1):
        changed: set[str] = set()
        for action in step.actions:
            yield from _option_checks(action)
            if action.verb == "change":
                yield from _change_checks(action, graph, number, changed)
            elif action.verb == "move" and action.along is not None:
                yield from _along_checks(action, section)
            if action.verb == "move":
                yield from _follower_moved(action, graph)


def _option_checks(action: m.Action) -> Iterator[Diagnostic]:
    allowed = VERB_OPTIONS.get(action.verb, ())
    for opt in action.options:
        if opt.key not in allowed:
            hint = f"`{action.verb}` takes {', '.join(f'{k}=' for k in allowed)}" if allowed else \
                f"options go on {', '.join(f'`{v}`' for v in VERB_OPTIONS)}"
            yield _error(f"`{action.verb}` takes no option '{opt.key}'", opt.span, hint, "unknown-option")
        elif opt.key == "ease":
            name = opt.value.name if isinstance(opt.value, m.Word) else str(opt.value)
            if name not in EASINGS:
                yield _error(f"unknown easing '{name}'", opt.value_span if opt.value_span.line else opt.span,
                             did_you_mean(name, EASINGS) or "easings: " + ", ".join(EASINGS), "unknown-ease")
        elif opt.key == "x" and action.along is None:
            yield _error("x= picks the piece of a plot a move goes along", opt.span,
                         "write `move p along f x=0..2`, or leave x= out", "unknown-option")


def _change_checks(action: m.Action, graph: SectionValues, number: int,
                   changed: set[str]) -> Iterator[Diagnostic]:
    for ref in action.targets:
        value = graph.values.get(ref.name)
        if value is not None and value.is_tracker:
            if ref.name in changed:
                yield _error(f"'{ref.name}' changes twice in step {number}", ref.span,
                             f"give both targets to one change: change {ref.name} to 1, 3", "change-twice")
            changed.add(ref.name)
        elif value is not None:
            reads = ", ".join(sorted(value.reads)) or "other values"
            yield _error(f"'{ref.name}' is computed from {reads}; it cannot be changed", ref.span,
                         f"change what it is computed from ({reads}), or give it a start: "
                         f"value {ref.name} = 1", "not-a-tracker")
        else:
            yield _not_a_value(ref, graph.section)


def _not_a_value(ref: m.Ref, section: m.Section) -> Diagnostic:
    el = section.element(ref.name)
    values = [e.id for e in section.elements if e.kind == "value"]
    if el is not None:
        return _error(f"'{ref.name}' is {with_article(el.kind)}, not a value", ref.span,
                      f"`change` slides a value (value x0 = 1); to move an element: move {ref.name} to C3",
                      "not-a-value")
    hint = did_you_mean(ref.name, values) or (
        f"values here: {', '.join(values)}" if values else "declare it first: value x0 = 1")
    return _error(f"no value named '{ref.name}' in section '{section.id}'", ref.span, hint, "undefined-id")


PLACE_USES = ("at", "from", "to")  # where an element's place is written (its point, its ends)


def _follower_moved(action: m.Action, graph: SectionValues) -> Iterator[Diagnostic]:
    """`move p along f` (or `to C3`) where p's place follows values, or p is kept beside an element
    whose place does: the values put it where it is at every frame, so the move has no effect."""
    for ref in action.targets:
        chain = _following(ref.name, graph, set())
        if chain is None:
            continue
        beside, values = chain
        names = sorted(graph.trackers_behind(values)) or sorted(values)
        follows = " and ".join(names)
        who = f"{ref.name} follows {beside}, which follows {follows}" if beside else \
            f"{ref.name} follows {follows}"
        yield _error(f"'{ref.name}' cannot be moved: the values put it where it is at every moment",
                     ref.span, f"{who}: change {follows} instead", "moves-follower")


def _following(name: str, graph: SectionValues, seen: set[str]) -> tuple[str, frozenset[str]] | None:
    """The values an element's place follows ('', values), or the element it is kept beside that
    follows values (that element, its values); None when its place is its own."""
    reads = frozenset(v for use in graph.uses_of(name) if use.step is None and use.where in PLACE_USES
                      for v in use.reads)
    if reads:
        return "", reads
    el = graph.section.element(name)
    if el is None or name in seen or not isinstance(el.placement, m.Relative) \
            or el.placement.relation == "around":
        return None
    seen.add(name)
    target = el.placement.target.name
    chain = _following(target, graph, seen)
    return (chain[0] or target, chain[1]) if chain is not None else None


def _along_checks(action: m.Action, section: m.Section) -> Iterator[Diagnostic]:
    along = action.along
    assert along is not None
    path = section.element(along.name)
    kinds = ", ".join(with_article(k) for k in PATH_KINDS[:-1]) + " or " + with_article(PATH_KINDS[-1])
    if path is None:
        names = [e.id for e in section.elements if e.kind in PATH_KINDS]
        yield _error(f"no element named '{along.name}' in section '{section.id}'", along.span,
                     did_you_mean(along.name, names) or f"a move goes along {kinds}", "undefined-id")
    elif path.kind not in PATH_KINDS:
        yield _error(f"'{along.name}' is {with_article(path.kind)}: a move cannot go along it", along.span,
                     f"a move goes along {kinds}", "bad-path")
    elif action.option("x") is not None and path.kind != "plot":
        opt = next(o for o in action.options if o.key == "x")
        yield _error(f"x= picks a piece of a plot; '{along.name}' is {with_article(path.kind)}", opt.span,
                     "leave x= out: the move goes once round or along the whole path", "bad-option")
    elif isinstance(action.option("x"), m.Range):
        yield from _fixed_piece(action, path, section)


def _fixed_piece(action: m.Action, plot: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    """`move p along f x=0..2`: the piece lies inside the plot."""
    opt = next(o for o in action.options if o.key == "x")
    piece, c = opt.value, coordinates.curve(plot, section)
    if c is None or not isinstance(piece, m.Range):
        return
    low, high = c.x_range
    for bound in (piece.low, piece.high):
        if not _inside(float(bound), low, high):
            yield _error(f"x = {bound:g} is outside the curve '{plot.id}'", opt.value_span or opt.span,
                         f"'{plot.id}' is drawn over x={coordinates.range_text(low, high)}; move along a "
                         "piece inside it", "out-of-range")
            return


# ---------------------------------------------------------------- ranges over the motion


@dataclass(frozen=True)
class _Limit:
    """Where a use's numbers must stay, in words for the message."""

    low: float
    high: float
    words: str  # "the x range of 'ax'"
    open_low: bool = False  # a positive number: more than low, not equal


def _inside(value: float, low: float, high: float) -> bool:
    slack = coordinates.EDGE_TOLERANCE * (high - low if math.isfinite(high - low) else 1.0)
    return low - slack <= value <= high + slack


def _limit(use: Use, section: m.Section) -> _Limit | None:
    if use.number_type == POSITIVE and use.system is None:
        return _Limit(0.0, math.inf, "greater than 0", open_low=True)
    if use.number_type == FRACTION:
        return _Limit(0.0, 1.0, "between 0 and 1")
    system = section.element(use.system) if use.system is not None else None
    spec = KINDS.get(system.kind) if system is not None else None
    if system is None or spec is None or not spec.dimensions:
        return None
    if system.kind == "plot":
        c = coordinates.curve(system, section)
        if c is None:
            return None
        low, high = c.x_range
        return _Limit(low, high, f"the x range of the curve '{system.id}' "
                                 f"({coordinates.range_text(low, high)})")
    if use.axis >= spec.dimensions:
        return None
    low, high = coordinates.axis_range(system, use.axis)
    axis = coordinates.AXIS_NAMES[use.axis]
    return _Limit(low, high, f"the {axis} range of '{system.id}' ({coordinates.range_text(low, high)})")


def _range_diagnostics(graph: SectionValues) -> Iterator[Diagnostic]:
    shown = _first_shown(graph.section)
    checked: list[tuple[Use, int]] = []
    for use in graph.uses:
        first = use.step if use.step is not None else shown.get(use.element)
        if use.expression is not None and first is not None:  # (never shown: never seen out of range)
            checked.append((use, first))
    if not checked:
        return
    sampled = graph.sampled()  # every step's samples at once: each use is computed in one go
    for use, first in checked:
        bad = _first_outside(use, _limit(use, graph.section), sampled, graph, first)
        if bad is not None:
            yield bad
    yield from _inverted(checked, sampled, graph)


def _inverted(checked: list[tuple[Use, int]], sampled: Sampled, graph: SectionValues) -> Iterator[Diagnostic]:
    """A range whose bound follows a value (`x=0..x0`) must not become empty or inverted."""
    lows = {(u.element, u.key, u.step): u for u, _ in checked if u.bound == "low"}
    for high, first in checked:
        low = lows.get((high.element, high.key, high.step))
        if high.bound == "high" and low is not None:
            bad = _inverted_range(low, high, first, sampled, graph)
            if bad is not None:
                yield bad


def _inverted_range(low: Use, high: Use, first: int, sampled: Sampled,
                    graph: SectionValues) -> Diagnostic | None:
    assert low.expression is not None and high.expression is not None
    lo = graph.evaluate_array(low.expression, sampled.values)
    hi = graph.evaluate_array(high.expression, sampled.values)
    when = sampled.step == first if high.step is not None else sampled.step >= first
    bad = when & np.isfinite(lo) & np.isfinite(hi) & (hi <= lo)
    if not bad.any():
        return None
    number = int(sampled.step[int(np.argmax(bad))])
    index = int(np.argmax(np.where(bad & (sampled.step == number), lo - hi, -np.inf)))  # its worst moment
    values, line = sampled.at(index), graph.step(number).step.span.line
    at = ", ".join(f"{name} = {values[name]:.4g}" for name in sorted(low.reads | high.reads))
    span = Span(low.span.file, low.span.line, low.span.column, high.span.end_line, high.span.end_column,
                low.span.start_pos, high.span.end_pos)
    now = f"{low.text}..{high.text} is {lo[index]:.4g}..{hi[index]:.4g} when {at}"
    return _error(f"the {high.key} range of '{high.element}' is empty or inverted in step {number} "
                  f"(line {line}): {now}", span, "keep the low bound below the high one at every moment",
                  "value-out-of-range")


def _first_shown(section: m.Section) -> dict[str, int]:
    """The step each element is first shown in (counted from 1)."""
    found: dict[str, int] = {}
    for number, step in enumerate(section.steps, start=1):
        for action in step.actions:
            shows = action.verb in SHOWING_VERBS
            names = [r.name for r in expanded(action, section).targets] if shows else []
            if action.verb == "transform" and action.into is not None:
                names.append(action.into.name)
            for name in names:
                found.setdefault(name, number)
    return found


def _first_outside(use: Use, limit: _Limit | None, sampled: Sampled, graph: SectionValues,
                   first: int) -> Diagnostic | None:
    """The first step, from step `first` on (only that step for an action's use), at a sampled
    moment of which the use has no value or leaves its limit; reported at its worst moment."""
    assert use.expression is not None
    values = graph.evaluate_array(use.expression, sampled.values)
    when = sampled.step == first if use.step is not None else sampled.step >= first
    miss = np.where(when, _misses(values, limit), 0.0)
    if not (miss > 0).any():
        return None
    number = int(sampled.step[int(np.argmax(miss > 0))])
    worst = int(np.argmax(np.where(sampled.step == number, miss, 0.0)))
    return _outside(use, limit, float(values[worst]), sampled.at(worst), number, graph)


def _misses(values: np.ndarray, limit: _Limit | None) -> np.ndarray:
    """How far each value is outside its limit (0: inside; inf: no value)."""
    finite = np.isfinite(values)
    if limit is None:
        return np.where(finite, 0.0, np.inf)
    width = limit.high - limit.low
    slack = coordinates.EDGE_TOLERANCE * (width if math.isfinite(width) else 1.0)
    outside = np.maximum((limit.low - slack) - values, values - (limit.high + slack))
    if limit.open_low:  # a positive number: its low end is out
        outside = np.where(values <= limit.low, np.maximum(outside, limit.low - values) + 1e-300, outside)
    return np.where(finite, np.maximum(outside, 0.0), np.inf)


def _outside(use: Use, limit: _Limit | None, value: float, values: Mapping[str, float], number: int,
             graph: SectionValues) -> Diagnostic:
    step = graph.step(number).step
    when = f"in step {number} (line {step.span.line})" if step.span.line else f"in step {number}"
    reason = _reason(use, value, values, graph)
    what = f"'{use.element}'" if use.where != "option" or use.system is not None else \
        f"'{use.key}' of '{use.element}'"
    if not math.isfinite(value):
        return _error(f"{what} has no value {when}: {reason}", use.span,
                      f"'{use.text}' is not defined there; keep the values where it is", "value-out-of-range")
    assert limit is not None
    if use.system is None:
        return _error(f"{what} is not {limit.words} {when}: {reason}", use.span,
                      f"'{use.key}' must be {limit.words} at every moment; change the values less",
                      "value-out-of-range")
    return _error(f"{what} leaves {limit.words} {when}: {reason}", use.span,
                  "keep the values inside it (change them less), or widen the range", "value-out-of-range")


def _reason(use: Use, value: float, values: Mapping[str, float], graph: SectionValues) -> str:
    """'x0 reaches 5', or 'f(x0) reaches 25 when x0 = 5'."""
    shown = "no number" if not math.isfinite(value) else f"{value:.4g}"
    if use.text.strip() in graph.values and math.isfinite(value):
        return f"{use.text.strip()} reaches {shown}"
    at = ", ".join(f"{name} = {values.get(name, math.nan):.4g}" for name in sorted(use.reads))
    return f"{use.text.strip()} is {shown}" + (f" when {at}" if at else "")


# ---------------------------------------------------------------- unused values


def _unused(graph: SectionValues) -> Iterator[Diagnostic]:
    read = {name for use in graph.uses for name in use.reads}
    read |= {name for v in graph.values.values() for name in v.reads}
    read |= {name for p in graph.plots.values() for name in p.reads}
    shown = _first_shown(graph.section)
    for value in graph.values.values():
        if value.id not in read and value.id not in shown:
            yield Diagnostic("warning", f"the value '{value.id}' is never shown or used",
                             value.element.id_span,
                             f"show it (step 1s: create {value.id}) or use it in a coordinate, a range or an "
                             f"option: dot p at ({value.id}, 0) on ax", "unused-value")
