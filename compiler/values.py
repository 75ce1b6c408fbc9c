"""The values of a section (`value x0 = 1`, `value slope = "2 x0"`): what each is, where the
lesson uses them, what depends on what, and what each is worth at any moment of any step.

One frozen `SectionValues` per section, from `section_values(section)` (cached), read by
compiler.motion_checks (diagnostics) and the lowering (trackers and updaters). The API:

- `graph.values[id] -> Value`: a tracker (`value x0 = 1`: `.start`, `.is_tracker`) or a derived
  value (`value s = "2 x0"`: `.expression`, an `expression.Expression` over `graph.scope`);
  `.reads`: the values it reads, through the plots it calls too. `graph.trackers`,
  `graph.derived` (ids; derived in evaluation order, those in a cycle left out), `graph.cycles`.
- `graph.plots[id] -> PlotValues`: each plot's function over x and the values
  (`plot g "a x^2"`), `.reads` (empty: a fixed curve).
- `graph.uses`: every place an expression of values is written: a moving point's coordinates
  (`dot p at (x0, f(x0)) on ax`, `from (x0, 0) to …`), a range's bound (`x=0..x0`), a numeric
  option (`radius=r`, `radius="2 r"`, a tangent's `x=`). `graph.uses_of(element_id)`;
  `graph.moving` (ids of elements whose uses read a value).
- `graph.steps[i] -> StepValues` (one per step, `number` counted from 1 as `check` counts
  them, waits included): the trackers at its start and end, and its `changes` (`change x0 to
  1, 3`: `Segment`s, each an equal share of the step, eased by `ease=` from kinds.EASINGS).
- `graph.values_at(step_number, fraction)`: every value (trackers and derived) at that point
  of a step (0 its start, 1 its end); `graph.samples(step_number, n)`: `Sample`s at its start,
  end, segment turns and n evenly spaced moments; `graph.evaluate(expression, values)` and
  `graph.plot_function(plot_id, values)` compute an expression at such an assignment.
  `graph.sampled(n)`: every step's samples at once as numpy arrays, for `graph.evaluate_array`.
- `bound_option(kind, option)`: whether an option is read as values (not as a plain number);
  `ease_of(action)`, `EASE_FUNCTIONS`: the easing a `change` runs by, as Manim's rate functions.

/work/notes/values_api.md has the same summary with examples.

Nothing here runs lesson text: expressions are read by compiler.expression and walked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import model as m
from .expression import (
    PLOT,
    RESERVED,
    ArrayFunction,
    Expression,
    ExpressionError,
    PlotFunction,
    Scope,
    evaluate_array,
    evaluate_in,
    parse_expression,
    plot_scope,
    plots_called,
    value_scope,
    variables_of,
)
from .kinds import EASINGS, FRACTION, KINDS, NUMBER, OPTIONS, POSITIVE, RANGE
from .span import Span

DEFAULT_EASE = "smooth"
SAMPLES = 8  # evenly spaced moments inside a step, besides its start, end and turns
# Option types a value may stand for (`radius=r`); COUNT options (n, corner) stay whole numbers.
NUMERIC_TYPES = frozenset({NUMBER, POSITIVE, FRACTION})
# Options a kind takes as one number though OPTIONS types them otherwise: a tangent's `x=`.
SCALAR_OPTIONS: dict[str, frozenset[str]] = {k: frozenset(spec.point_options) for k, spec in KINDS.items()
                                             if spec.point_options}


# ---------------------------------------------------------------- easing


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def smooth(t: float) -> float:
    """Manim's `smooth` (inflection 10): the default easing."""
    error = _sigmoid(-5.0)
    return min(max((_sigmoid(10.0 * (t - 0.5)) - error) / (1 - 2 * error), 0.0), 1.0)


def there_and_back(t: float) -> float:
    return smooth(2 * t if t < 0.5 else 2 * (1 - t))


# The same curves as Manim's rate functions that kinds.EASINGS names, computed here so that
# the checks sample what the video will show without importing Manim.
EASE_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "smooth": smooth,
    "linear": lambda t: t,
    "in": lambda t: 1 - math.cos(t * math.pi / 2),
    "out": lambda t: math.sin(t * math.pi / 2),
    "there_and_back": there_and_back,
}
assert EASE_FUNCTIONS.keys() == EASINGS.keys(), "one easing table: kinds.EASINGS"


def ease_of(action: m.Action) -> str:
    """The easing an action asks for (`ease=linear`); the default when none or an unknown one
    (compiler.motion_checks reports that)."""
    given = action.option("ease")
    name = given.name if isinstance(given, m.Word) else given if isinstance(given, str) else None
    return name if name in EASE_FUNCTIONS else DEFAULT_EASE


# ---------------------------------------------------------------- the graph's parts


@dataclass(frozen=True)
class Value:
    """One `value` element: a tracker with a start, or a derived value (an expression)."""

    id: str
    element: m.Element
    start: float | None  # a tracker's start; None for a derived value
    text: m.Text | None = None  # a derived value's expression as written
    expression: Expression | None = None  # None: a tracker, or an expression that did not parse
    error: ExpressionError | None = None  # why the expression did not parse
    reads: frozenset[str] = frozenset()  # the values it reads, through the plots it calls too

    @property
    def is_tracker(self) -> bool:
        return self.start is not None


@dataclass(frozen=True)
class PlotValues:
    """A plot's function, read over x and the section's values (`plot g "a x^2" on ax`)."""

    id: str
    expression: Expression | None  # None: it did not parse (reported at the plot's line)
    reads: frozenset[str] = frozenset()
    axes: str | None = None  # the axes or plane it is drawn on


@dataclass(frozen=True)
class Use:
    """One place an expression of values is written. `element`: the element it belongs to, or
    the targets of the action (`move p to (x0, 1) on ax`, `move p along f x=0..x0`)."""

    element: str
    where: str  # "at", "from", "to", "option", "move to"
    key: str  # "x"/"y" for a coordinate; the option's key for an option or a range
    text: str
    span: Span  # the text's own span (quotes excluded when `quoted`)
    expression: Expression | None = None
    error: ExpressionError | None = None
    bound: str = ""  # "low"/"high": a range's bound
    quoted: bool = False  # written in quotes: an error's offset counts from after the quote
    system: str | None = None  # the axes, plane, number line or plot whose range holds it
    axis: int = 0  # 0: x, 1: y of that system
    number_type: str = ""  # an option's type (POSITIVE, FRACTION…): what numbers it may take
    step: int | None = None  # an action's use: the step it is in (counted from 1)
    reads: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Segment:
    """A tracker going from one number to the next over a share of its step (fractions)."""

    value: str
    start: float
    end: float
    begin: float  # fraction of the step where it starts
    finish: float
    ease: str

    def at(self, fraction: float) -> float:
        """Its value at a moment of the step (fraction 0..1 of the whole step), inside it."""
        span = self.finish - self.begin
        local = 0.0 if span <= 0 else min(max((fraction - self.begin) / span, 0.0), 1.0)
        return self.start + (self.end - self.start) * EASE_FUNCTIONS[self.ease](local)

    @property
    def settled(self) -> float:
        """Where it ends (its start again for there_and_back)."""
        return self.at(self.finish)


@dataclass(frozen=True)
class Change:
    """`change x0 to 1, 3 ease=linear`: one tracker's segments in a step."""

    value: str
    action: m.Action
    segments: tuple[Segment, ...]
    ease: str


@dataclass(frozen=True)
class StepValues:
    number: int  # counted from 1, waits included
    step: m.Step
    start: Mapping[str, float]  # every tracker at the step's start
    end: Mapping[str, float]
    changes: tuple[Change, ...] = ()

    def trackers_at(self, fraction: float) -> dict[str, float]:
        now = dict(self.start)
        for change in self.changes:
            now[change.value] = _change_at(change, fraction)
        return now

    @property
    def changed(self) -> frozenset[str]:
        """The trackers the step changes."""
        return frozenset(c.value for c in self.changes)

    @property
    def turns(self) -> tuple[float, ...]:
        """The moments a tracker may turn round: segment ends, and there_and_back midpoints."""
        found = {s.finish for c in self.changes for s in c.segments}
        found |= {(s.begin + s.finish) / 2 for c in self.changes for s in c.segments
                  if s.ease == "there_and_back"}
        return tuple(sorted(found))


def _change_at(change: Change, fraction: float) -> float:
    current = change.segments[0].start
    for seg in change.segments:
        if fraction < seg.begin:
            break
        current = seg.at(fraction)
    return current


@dataclass(frozen=True)
class Sampled:
    """Every step's samples (as `SectionValues.samples` gives them) at once, as arrays: sample i
    is in step `step[i]` at `fraction[i]` of it, every value's number there is `values[name][i]`."""

    step: np.ndarray
    fraction: np.ndarray
    values: Mapping[str, np.ndarray]

    def at(self, index: int) -> dict[str, float]:
        return {name: float(v[index]) for name, v in self.values.items()}


@dataclass(frozen=True)
class Sample:
    """Every value at one moment of a step."""

    step: int
    fraction: float  # of the step, 0..1
    seconds: float  # since the step started
    values: Mapping[str, float]


# ---------------------------------------------------------------- the graph


@dataclass(frozen=True)
class SectionValues:
    section: m.Section
    scope: Scope  # where a value's expression is read: the values and the plots
    values: Mapping[str, Value]
    plots: Mapping[str, PlotValues]
    uses: tuple[Use, ...]
    cycles: tuple[tuple[str, ...], ...]  # each cycle's values, in the order they refer
    derived: tuple[str, ...]  # derived values in evaluation order (cycles and their dependants left out)
    steps: tuple[StepValues, ...] = ()
    _uses_by_element: Mapping[str, tuple[Use, ...]] = field(default_factory=dict, repr=False)

    @property
    def trackers(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.values.values() if v.is_tracker)

    @property
    def moving(self) -> frozenset[str]:
        """Elements that follow a value: one of their uses reads one."""
        return frozenset(u.element for u in self.uses if u.reads and u.step is None)

    def uses_of(self, element_id: str) -> tuple[Use, ...]:
        return self._uses_by_element.get(element_id, ())

    def trackers_behind(self, names: frozenset[str]) -> frozenset[str]:
        """The trackers that values depend on, through the derived values they read."""
        found: set[str] = set()
        pending, seen = list(names), set(names)
        while pending:
            value = self.values.get(pending.pop())
            if value is None:
                continue
            if value.is_tracker:
                found.add(value.id)
            for name in value.reads - seen:
                seen.add(name)
                pending.append(name)
        return frozenset(found)

    @property
    def start(self) -> dict[str, float]:
        """Every value before the first step."""
        return self.complete({v.id: v.start for v in self.values.values() if v.start is not None})

    def complete(self, trackers: Mapping[str, float]) -> dict[str, float]:
        """The trackers' values with every derived value computed from them (nan for those in
        or after a cycle, or whose expression did not parse)."""
        env = {name: trackers.get(name, math.nan) for name in self.trackers}
        for name in self.values:
            env.setdefault(name, math.nan)
        for name in self.derived:
            expression = self.values[name].expression
            env[name] = self.evaluate(expression, env) if expression is not None else math.nan
        return env

    def evaluate(self, expression: Expression, values: Mapping[str, float]) -> float:
        """An expression of values (and plot calls) at an assignment of every value."""
        functions = {plot: self.plot_function(plot, values) for plot in plots_called(expression)}
        return evaluate_in(expression, values, functions)

    def plot_function(self, plot_id: str, values: Mapping[str, float]) -> PlotFunction:
        """A plot as a function of x, its values as in `values` (nan where it has none)."""
        plot = self.plots.get(plot_id)
        expression = plot.expression if plot is not None else None
        if expression is None:
            return lambda x: math.nan
        env = dict(values)
        return lambda x: evaluate_in(expression, {**env, "x": x})

    def sampled(self, n: int = SAMPLES) -> Sampled:
        """The samples of every step (start, end, turns, n between), every value as an array."""
        rows = [(s.number, t, s.trackers_at(t)) for s in self.steps for t in _moments(s, n)]
        trackers = {name: np.array([r[2][name] for r in rows], dtype=np.float64) for name in self.trackers}
        return Sampled(np.array([r[0] for r in rows], dtype=np.int64),
                       np.array([r[1] for r in rows], dtype=np.float64), self.complete_arrays(trackers))

    def complete_arrays(self, trackers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`complete` over arrays of the trackers' values (one number per sample)."""
        length = len(next(iter(trackers.values()))) if trackers else 0
        env = {name: np.full(length, np.nan) for name in self.values}
        env.update({name: np.asarray(v, dtype=np.float64) for name, v in trackers.items() if name in env})
        for name in self.derived:
            expression = self.values[name].expression
            if expression is not None:
                env[name] = self.evaluate_array(expression, env)
        return env

    def evaluate_array(self, expression: Expression, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """`evaluate` at many assignments at once (each value an array, all of one length)."""
        functions = {plot: self._plot_array(plot, values) for plot in plots_called(expression)}
        return evaluate_array(expression, values, functions)

    def _plot_array(self, plot_id: str, values: Mapping[str, np.ndarray]) -> ArrayFunction:
        plot = self.plots.get(plot_id)
        expression = plot.expression if plot is not None else None
        if expression is None:
            return lambda x: np.full(np.shape(x), np.nan)
        env = dict(values)
        return lambda x: evaluate_array(expression, {**env, "x": x})

    def step(self, number: int) -> StepValues:
        return self.steps[number - 1]

    def values_at(self, step_number: int, fraction: float) -> dict[str, float]:
        return self.complete(self.step(step_number).trackers_at(fraction))

    def samples(self, step_number: int, n: int = SAMPLES) -> tuple[Sample, ...]:
        """Every value at the step's start and end, at its turns, and at n evenly spaced moments
        between (a step that changes nothing: its start only)."""
        step = self.step(step_number)
        return tuple(Sample(step_number, t, t * step.step.seconds, self.complete(step.trackers_at(t)))
                     for t in _moments(step, n))


def _moments(step: StepValues, n: int) -> tuple[float, ...]:
    """Where a step is sampled: its start, end and turns and n evenly spaced moments between; a
    step that changes nothing, its start only."""
    if not step.changes:
        return (0.0,)
    return tuple(sorted({0.0, 1.0, *step.turns, *((i + 1) / (n + 1) for i in range(n))}))


# ---------------------------------------------------------------- building it

_CACHE: dict[int, tuple[m.Section, SectionValues]] = {}
_CACHE_SIZE = 64


def section_values(section: m.Section) -> SectionValues:
    """The section's values, built once per section object."""
    hit = _CACHE.get(id(section))
    if hit is not None and hit[0] is section:
        return hit[1]
    graph = _build(section)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(section)] = (section, graph)
    return graph


def value_names(section: m.Section) -> frozenset[str]:
    """The names of the section's values that expressions may use (not the reserved ones)."""
    return frozenset(el.id for el in section.elements if el.kind == "value") - RESERVED


def _build(section: m.Section) -> SectionValues:
    names = value_names(section)
    plot_ids = frozenset(el.id for el in section.elements if el.kind == "plot")
    scope = value_scope(names, plot_ids)
    plots = _plots(section, names)
    values = _values(section, scope, plots)
    cycles = _cycles(values)
    derived = _evaluation_order(values, cycles)
    uses = tuple(_uses(section, scope, plots))
    by_element: dict[str, tuple[Use, ...]] = {}
    for use in uses:
        by_element[use.element] = (*by_element.get(use.element, ()), use)
    graph = SectionValues(section, scope, MappingProxyType(values), MappingProxyType(plots), uses, cycles,
                          derived, (), MappingProxyType(by_element))
    return SectionValues(graph.section, scope, graph.values, graph.plots, uses, cycles, derived,
                         _timeline(section, graph), graph._uses_by_element)


def _parse(text: str, scope: Scope) -> tuple[Expression | None, ExpressionError | None]:
    try:
        return parse_expression(text, scope), None
    except ExpressionError as exc:
        return None, exc


def _plots(section: m.Section, names: frozenset[str]) -> dict[str, PlotValues]:
    scope = plot_scope(names) if names else PLOT
    found: dict[str, PlotValues] = {}
    for el in section.elements:
        if el.kind == "plot" and el.id not in found:
            expression, _ = _parse(el.texts[0].value, scope) if el.texts else (None, None)
            reads = variables_of(expression) - {"x"} if expression is not None else frozenset()
            found[el.id] = PlotValues(el.id, expression, reads, el.target.name if el.target else None)
    return found


def _reads(expression: Expression | None, plots: Mapping[str, PlotValues]) -> frozenset[str]:
    """The values an expression reads, itself or through the plots it calls."""
    if expression is None:
        return frozenset()
    through = (plots[p].reads for p in plots_called(expression) if p in plots)
    return variables_of(expression).union(*through)


def _values(section: m.Section, scope: Scope, plots: Mapping[str, PlotValues]) -> dict[str, Value]:
    found: dict[str, Value] = {}
    for el in section.elements:
        if el.kind != "value" or el.id in found:
            continue
        given = el.initial.value if el.initial is not None else 0.0  # none: the builder says so
        if not isinstance(given, m.Text):
            found[el.id] = Value(el.id, el, float(given))
            continue
        expression, error = _parse(given.value, scope)
        found[el.id] = Value(el.id, el, None, given, expression, error, _reads(expression, plots))
    return found


def _cycles(values: Mapping[str, Value]) -> tuple[tuple[str, ...], ...]:
    """The cycles among derived values (a value that reads itself is one), each once, as the
    values refer to each other from the first declared."""
    edges = {v.id: [r for r in sorted(v.reads) if r in values and not values[r].is_tracker]
             for v in values.values() if not v.is_tracker}
    found: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for start in edges:  # declaration order
        if start in seen:
            continue
        cycle = _cycle_from(start, edges)
        if cycle and not seen.intersection(cycle):
            found.append(cycle)
            seen.update(cycle)
    return tuple(found)


def _cycle_from(start: str, edges: Mapping[str, list[str]]) -> tuple[str, ...]:
    """A cycle through `start`, by a depth-first search of what it reads (none: ())."""
    stack: list[tuple[str, Iterator[str]]] = [(start, iter(edges.get(start, ())))]
    path, visited = [start], {start}
    while stack:
        node, following = stack[-1]
        nxt = next(following, None)
        if nxt is None:
            stack.pop()
            path.pop()
        elif nxt == start:
            return tuple(path)
        elif nxt not in visited:
            visited.add(nxt)
            path.append(nxt)
            stack.append((nxt, iter(edges.get(nxt, ()))))
    return ()


def _evaluation_order(values: Mapping[str, Value], cycles: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """Derived values, each after the values it reads; those in a cycle, or reading one, are left
    out (they have no value)."""
    blocked = {name for cycle in cycles for name in cycle}
    order: list[str] = []
    done: set[str] = set()
    pending = [v.id for v in values.values() if not v.is_tracker and v.id not in blocked]
    while pending:
        ready = [n for n in pending if all(r in done or r not in values or values[r].is_tracker
                                           for r in values[n].reads)]
        if not ready:  # the rest read a value in a cycle
            break
        order.extend(ready)
        done.update(ready)
        pending = [n for n in pending if n not in done]
    return tuple(order)


# ---------------------------------------------------------------- uses


@dataclass(frozen=True)
class _Reader:
    """Reads the texts of one element or action into Uses."""

    scope: Scope
    plots: Mapping[str, PlotValues]
    element: str
    step: int | None = None

    def use(self, where: str, key: str, text: str, span: Span, *, system: str | None, axis: int = 0,
            bound: str = "", quoted: bool = False, number_type: str = "") -> Use:
        expression, error = _parse(text, self.scope)
        return Use(self.element, where, key, text, span, expression, error, bound, quoted, system, axis,
                   number_type, self.step, _reads(expression, self.plots))

    def point(self, where: str, point: m.MovingPoint, system: str | None) -> Iterator[Use]:
        for axis, (key, coordinate) in enumerate((("x", point.x), ("y", point.y))):
            if isinstance(coordinate, m.Expr):
                yield self.use(where, key, coordinate.text, coordinate.span, system=system, axis=axis)

    def on_moving_plot(self, at: m.Scalar, plot_id: str) -> Iterator[Use]:
        """`dot q at 2 on g`, g a plot that reads values: the height g(2) moves with them."""
        plot = self.plots.get(plot_id)
        if plot is not None and plot.reads and plot.axes is not None:
            text = f"{plot_id}({_number_text(at.value)})"
            yield self.use("at", "y", text, at.span, system=plot.axes, axis=1)

    def option(self, kind: str, opt: m.Option, system: str | None) -> Iterator[Use]:
        """An option whose value is read as values: `radius=r`, `x=0..x0`, a tangent's `x=`."""
        spec = OPTIONS.get(opt.key)
        value, span = opt.value, (opt.value_span if opt.value_span.line else opt.span)
        if spec is None or isinstance(value, bool):
            return
        if opt.key in SCALAR_OPTIONS.get(kind, ()) or spec.type in NUMERIC_TYPES:
            text = _option_text(value, scalar=opt.key in SCALAR_OPTIONS.get(kind, ()))
            if text is not None:
                yield self.use("option", opt.key, text, _unquoted(span, value), quoted=isinstance(value, str),
                               system=system if opt.key in SCALAR_OPTIONS.get(kind, ()) else None,
                               number_type=spec.type)
        elif spec.type == RANGE and isinstance(value, m.ValueRange):
            for bound, end in (("low", value.low), ("high", value.high)):
                yield self.use("option", opt.key, _number_text(end), _bound_span(span, value, bound),
                               bound=bound, system=system)


def _option_text(value: m.OptionValue, *, scalar: bool) -> str | None:
    """The expression an option's value is: a value's name, a string, or (a tangent's x) a number."""
    if isinstance(value, m.Word):
        return value.name
    if isinstance(value, str):
        return value
    if scalar and isinstance(value, int | float):
        return _number_text(value)
    return None


def _number_text(value: int | float | str) -> str:
    """A number as an expression: as short as it reads back the same."""
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return "0"  # (a number the builder refused)
    short = f"{value:g}"
    return short if "e" not in short and float(short) == value else repr(float(value))


def _unquoted(span: Span, value: object) -> Span:
    """A quoted string's span without its quotes (one line), so offsets count in the text."""
    if not isinstance(value, str) or span.line != span.end_line or span.end_column - span.column < 2:
        return span
    return Span(span.file, span.line, span.column + 1, span.line, span.end_column - 1,
                span.start_pos + 1, span.end_pos - 1)


def _bound_span(span: Span, value: m.ValueRange, bound: str) -> Span:
    """The span of one bound of `low..high`, measured from the range's ends (one line)."""
    if span.line != span.end_line or not span.line:
        return span
    if bound == "low":
        width = len(str(value.low))
        return Span(span.file, span.line, span.column, span.line, span.column + width,
                    span.start_pos, span.start_pos + width)
    width = len(str(value.high))
    return Span(span.file, span.line, span.end_column - width, span.line, span.end_column,
                span.end_pos - width, span.end_pos)


def bound_option(kind: str, opt: m.Option) -> bool:
    """Whether an option is read as values here (and checked by compiler.motion_checks, not by
    the option type checks): a numeric option given a word or a string (`radius=r`,
    `radius="2 r"`), a range with a value's name as a bound (`x=0..x0`), a tangent's `x=`."""
    spec = OPTIONS.get(opt.key)
    if spec is None:
        return False
    if opt.key in SCALAR_OPTIONS.get(kind, ()):
        return True
    if spec.type in NUMERIC_TYPES:
        return isinstance(opt.value, m.Word | str)
    return spec.type == RANGE and isinstance(opt.value, m.ValueRange)


def _uses(section: m.Section, scope: Scope, plots: Mapping[str, PlotValues]) -> Iterator[Use]:
    for el in section.elements:
        reader = _Reader(scope, plots, el.id)
        yield from _element_uses(el, reader)
    for number, step in enumerate(section.steps, start=1):
        for action in step.actions:
            if action.verb == "move":
                yield from _move_uses(action, scope, plots, number)


def _element_uses(el: m.Element, reader: _Reader) -> Iterator[Use]:
    if isinstance(el.placement, m.AtCoordinate) and isinstance(el.placement.at, m.MovingPoint):
        yield from reader.point("at", el.placement.at, el.placement.on.name)
    if isinstance(el.placement, m.AtCoordinate) and isinstance(el.placement.at, m.Scalar):
        yield from reader.on_moving_plot(el.placement.at, el.placement.on.name)
    on = el.target.name if el.target is not None else None
    # (a polygon's points cannot move: compiler.checks says so)
    ends = el.endpoints
    if ends is not None:
        for where, end in (("from", ends.start), ("to", ends.end)):
            if isinstance(end, m.MovingPoint):
                yield from reader.point(where, end, on)
    # An `x=` lies in the range of what the element is drawn on: a plot's axes (`plot f … x=0..x0`),
    # the plot of an area, a Riemann sum or a tangent.
    for opt in el.options:
        yield from reader.option(el.kind, opt, on)


def _move_uses(action: m.Action, scope: Scope, plots: Mapping[str, PlotValues], step: int) -> Iterator[Use]:
    name = ", ".join(t.name for t in action.targets)
    reader = _Reader(scope, plots, name, step)
    if isinstance(action.to, m.AtCoordinate) and isinstance(action.to.at, m.MovingPoint):
        yield from reader.point("move to", action.to.at, action.to.on.name)
    along = action.along.name if action.along is not None else None
    for opt in action.options:
        if isinstance(opt.value, m.ValueRange):
            yield from reader.option("move", opt, along)


# ---------------------------------------------------------------- the timeline


def _timeline(section: m.Section, graph: SectionValues) -> tuple[StepValues, ...]:
    now = {name: v.start for name, v in graph.values.items() if v.start is not None}
    steps: list[StepValues] = []
    for number, step in enumerate(section.steps, start=1):
        changes = tuple(_changes(step, graph, now))
        end = dict(now)
        for change in changes:
            end[change.value] = change.segments[-1].settled
        steps.append(StepValues(number, step, MappingProxyType(dict(now)), MappingProxyType(end), changes))
        now = end
    return tuple(steps)


def _changes(step: m.Step, graph: SectionValues, now: Mapping[str, float]) -> Iterator[Change]:
    """The step's `change`s of trackers, the first of each tracker (a second is reported)."""
    seen: set[str] = set()
    for action in step.actions:
        if action.verb != "change" or not action.values:
            continue
        for ref in action.targets:
            value = graph.values.get(ref.name)
            if value is None or not value.is_tracker or ref.name in seen:
                continue
            seen.add(ref.name)
            yield _change(ref.name, action, now[ref.name])


def _change(name: str, action: m.Action, start: float) -> Change:
    """Equal shares of the step, one per target, each eased from where the last one left off."""
    ease, share = ease_of(action), 1.0 / len(action.values)
    segments: list[Segment] = []
    current = start
    for index, target in enumerate(action.values):
        segment = Segment(name, current, float(target), index * share, (index + 1) * share, ease)
        segments.append(segment)
        current = segment.settled
    return Change(name, action, tuple(segments), ease)

