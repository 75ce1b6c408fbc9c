"""Coordinates on axes, number planes, number lines and plots: what range each has, and what
is wrong with a coordinate a lesson gives (`dot p at (2, 4) on ax`, `polygon t (0, 0) (2, 0)
(2, 3) on ax`, `arrow v from (0, 0) to (2, 2) on ax`, `label l "f(x)" on f`).

The checks report with these functions, and the lowering (lower/coords.py) reads the same
ranges, so what `check` accepts is what is drawn; a `Frame` is where one element's coordinates
land in the scene, as the lowering measures it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from . import model as m
from .diagnostics import Diagnostic
from .expression import ExpressionError, evaluate_in, parse_expression, plot_scope
from .kinds import KINDS, PLACE, POINTS, KindSpec, with_article
from .values import section_values, value_names

# A coordinate this close to its range's end (relative to the range) is on it: 0.1 + 0.2 is 0.3.
EDGE_TOLERANCE = 1e-9
AXIS_NAMES = ("x", "y")


def error(message: str, span: m.Span, hint: str | None = None, code: str = "bad-coordinate") -> Diagnostic:
    return Diagnostic("error", message, span, hint, code)


def number_text(value: float) -> str:
    return f"{value:g}"


def range_text(low: float, high: float) -> str:
    return f"{number_text(low)}..{number_text(high)}"


def systems_text() -> str:
    """'axes, a plane, a numberline or a plot': the kinds with coordinates, in words."""
    names = [with_article(k) for k, s in KINDS.items() if s.dimensions]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


# ---------------------------------------------------------------- ranges


def axis_range(system: m.Element, axis: int) -> tuple[float, float]:
    """The x (axis 0) or y (axis 1) range of axes, a plane or a number line: its option, or its
    kind's default (an empty or inverted range is reported by the option checks)."""
    value = system.option(AXIS_NAMES[axis])
    if isinstance(value, m.Range) and value.low < value.high:
        return float(value.low), float(value.high)
    return KINDS[system.kind].default_ranges[axis]


@dataclass(frozen=True)
class Curve:
    """A plot as a set of coordinates: its function, the x it is drawn over, and its axes."""

    plot: m.Element
    axes: m.Element
    function: m.Text
    values: Mapping[str, float] = field(default_factory=dict)  # the section's values it reads, at the start

    @property
    def x_range(self) -> tuple[float, float]:
        value = self.plot.option("x")
        if isinstance(value, m.Range) and value.low < value.high:
            return float(value.low), float(value.high)
        return axis_range(self.axes, 0)

    def y_at(self, x: float) -> float:
        """The curve's height at x (nan where the function has no value there)."""
        try:
            expression = parse_expression(self.function.value, plot_scope(frozenset(self.values)))
            return evaluate_in(expression, {**self.values, "x": x})
        except ExpressionError:
            return math.nan  # reported at the plot's own line


def curve(plot: m.Element, section: m.Section) -> Curve | None:
    """A plot's curve, or None when the plot has no usable axes or function (reported at the
    plot's own line)."""
    target = plot.target
    axes = section.element(target.name) if target is not None else None
    if axes is None or KINDS.get(axes.kind) is None or KINDS[axes.kind].dimensions != 2 or not plot.texts:
        return None
    start = section_values(section).start if value_names(section) else {}
    return Curve(plot, axes, plot.texts[0], start)


@dataclass(frozen=True)
class Frame:
    """Where one element's coordinates land in the scene: an affine map, measured on the real
    axes or number line (`x0`, `y0` land on `origin`; one unit of x moves by `per_x`)."""

    x0: float
    y0: float
    origin: tuple[float, float]
    per_x: tuple[float, float]
    per_y: tuple[float, float] = (0.0, 0.0)  # a number line has no y

    def at(self, x: float, y: float = 0.0) -> tuple[float, float]:
        dx, dy = x - self.x0, y - self.y0
        return (self.origin[0] + dx * self.per_x[0] + dy * self.per_y[0],
                self.origin[1] + dx * self.per_x[1] + dy * self.per_y[1])


# ---------------------------------------------------------------- diagnostics


def _in_range(value: float, low: float, high: float) -> bool:
    slack = EDGE_TOLERANCE * (high - low)
    return low - slack <= value <= high + slack


def system_diagnostics(on: m.Ref, system: m.Element, *, needs: int = 0) -> Iterator[Diagnostic]:
    """`on X` where X must have coordinates (of `needs` numbers, when that matters)."""
    spec = KINDS.get(system.kind)
    if spec is None:
        return  # an unknown kind: reported at its own line
    if on.part is not None:
        yield error(f"coordinates are given on a whole element, not a part of '{on.name}'", on.span,
                    f"write `on {on.name}`", "bad-target")
        return
    if not spec.dimensions:
        yield error(f"'{on.name}' is {with_article(system.kind)}, which has no coordinates", on.span,
                    f"coordinates are given on {systems_text()}: dot p at (2, 4) on ax", "bad-target")
    elif needs and spec.dimensions != needs:
        yield error(f"'{on.name}' is {with_article(system.kind)}: its coordinates are one number each",
                    on.span, "points (x, y) are given on axes or a plane", "bad-target")


def coordinate_diagnostics(coord: m.Coordinate, on: m.Ref, system: m.Element,
                           section: m.Section) -> Iterator[Diagnostic]:
    """One coordinate on a system that has coordinates: its count of numbers, and its range."""
    spec = KINDS.get(system.kind)
    if spec is None or not spec.dimensions:
        return
    if isinstance(coord, m.MovingPoint):  # its range over the steps: compiler.motion_checks
        if spec.dimensions != 2:
            yield error(f"a place on {with_article(system.kind)} is one number, not a point", coord.span,
                        "place it on axes or a plane: dot p at (x0, 0) on ax", "coordinate-shape")
        return
    if spec.dimensions == 2:
        if isinstance(coord, m.Scalar):
            v = number_text(coord.value)
            yield error(f"a place on {with_article(system.kind)} is a point (x, y)", coord.span,
                        f"write both coordinates, e.g. ({v}, 0) on {on.name}", "coordinate-shape")
            return
        yield from _point_range(coord, on, system)
        return
    if isinstance(coord, m.Point):
        word = "its x" if system.kind == "plot" else "one number"
        yield error(f"a place on {with_article(system.kind)} is {word}, not a point", coord.span,
                    f"write: at {number_text(coord.x)} on {on.name}", "coordinate-shape")
        return
    if system.kind == "plot":
        yield from _curve_point(coord.value, coord.span, on, system, section)
        return
    low, high = axis_range(system, 0)
    if not _in_range(coord.value, low, high):
        yield error(f"{number_text(coord.value)} is outside the range of '{on.name}'", coord.span,
                    f"'{on.name}' goes from {number_text(low)} to {number_text(high)} "
                    f"(x={range_text(low, high)}); choose a number inside it or widen the range",
                    "out-of-range")


def _point_range(point: m.Point, on: m.Ref, system: m.Element) -> Iterator[Diagnostic]:
    for axis, value in enumerate((point.x, point.y)):
        low, high = axis_range(system, axis)
        if not _in_range(value, low, high):
            name, one = AXIS_NAMES[axis], ("an x", "a y")[axis]
            yield error(f"{name} = {number_text(value)} is outside the {name} range of '{on.name}'",
                        point.span,
                        f"'{on.name}' has {name}={range_text(low, high)}; choose {one} inside it or widen "
                        f"the range ({name}=…)", "out-of-range")
            return


def _curve_point(x: float, span: m.Span, on: m.Ref, plot: m.Element, section: m.Section,
                 at_end: str = "") -> Iterator[Diagnostic]:
    """x on a plot: inside the x it is drawn over, with a value there inside its axes.
    `at_end`: the element that sits at the curve's end (x is that end), for the hint."""
    c = curve(plot, section)
    if c is None:
        return
    low, high = c.x_range
    if not _in_range(x, low, high):
        yield error(f"x = {number_text(x)} is outside the curve '{on.name}'", span,
                    f"'{on.name}' is drawn over x={range_text(low, high)}; choose an x inside it",
                    "out-of-range")
        return
    y = c.y_at(x)
    where = f"ends at x = {number_text(x)}" if at_end else f"at x = {number_text(x)}"
    instead = f"give it a place on the curve ({at_end} at X on {on.name}), or " if at_end else \
        "choose another x, or "
    if not math.isfinite(y):
        yield error(f"the curve '{on.name}' has no value {where}", span,
                    f"'{c.function.value}' is not defined there: {instead}change the curve's x range",
                    "out-of-range")
        return
    y_low, y_high = axis_range(c.axes, 1)
    if not _in_range(y, y_low, y_high):
        yield error(f"the curve '{on.name}' {where}, where y = {y:.3g} is outside the y range of "
                    f"'{c.axes.id}'", span,
                    f"'{c.axes.id}' has y={range_text(y_low, y_high)}: {instead}widen the y range",
                    "out-of-range")


def usage_diagnostics(el: m.Element, spec: KindSpec, section: m.Section) -> Iterator[Diagnostic]:
    """How a kind that may be given in coordinates uses them: a dot is placed `at` one, a
    polygon's points are coordinates, a label may sit at a curve's end (`on f`)."""
    example = _example(el, spec)
    if isinstance(el.placement, m.AtCoordinate) and el.target is not None:
        yield error(f"'{el.id}' is already placed on '{el.placement.on.name}'", el.target.span,
                    f"remove `on {el.target.name}`", "bad-args")
    if spec.coordinates == PLACE:
        if el.points:
            yield error(f"{with_article(el.kind)} takes no points", el.points[0].span,
                        f"place it at a coordinate: {example}", "bad-args")
        elif el.target is not None and not isinstance(el.placement, m.AtCoordinate) \
                and not _at_curve_end(el, spec, section):
            yield error(f"say where on '{el.target.name}' {with_article(el.kind)} goes", el.target.span,
                        f"for example: {example}", "bad-args")
    elif spec.coordinates == POINTS:
        if isinstance(el.placement, m.AtCoordinate):
            yield error(f"{with_article(el.kind)} is not placed at a coordinate: its points are coordinates",
                        el.placement.span, f"for example: {example}", "bad-placement")
        ends = el.endpoints
        loose = [e for e in (ends.start, ends.end) if not isinstance(e, m.Ref)] if ends else []
        if loose and el.target is None:
            yield error("a coordinate needs the axes it is on", loose[0].span,
                        f"add `on AXES`: {example}", "bad-args")


def _example(el: m.Element, spec: KindSpec) -> str:
    on = el.drawn_on.name if el.drawn_on is not None else "ax"
    x, y = (el.points[0].x, el.points[0].y) if el.points else (2, 4)
    if spec.coordinates == POINTS:
        if el.kind == "polygon":
            return f"polygon {el.id} (0, 0) (2, 0) (2, 3) on {on}"
        return f"{el.kind} {el.id} from (0, 0) to (2, 2) on {on}"
    text = f' "{el.texts[0].value}"' if el.texts and spec.texts[1] and el.kind != "math" else ""
    return f"{el.kind} {el.id}{text} at ({number_text(x)}, {number_text(y)}) on {on}"


def _at_curve_end(el: m.Element, spec: KindSpec, section: m.Section) -> bool:
    """`label l "f(x)" on f`: text `on` a plot sits at the curve's end."""
    target = section.element(el.target.name) if el.target is not None else None
    return spec.textual and target is not None and target.kind == "plot"


def place_diagnostics(place: m.AtCoordinate, system: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    """`at (2, 4) on ax` (of an element or a `move`), where `ax` exists."""
    bad = list(system_diagnostics(place.on, system))
    if bad:
        yield from bad
        return
    yield from coordinate_diagnostics(place.at, place.on, system, section)


def target_diagnostics(el: m.Element, spec: KindSpec, system: m.Element,
                       section: m.Section) -> Iterator[Diagnostic]:
    """`on X` of a kind that may be given in coordinates, where X exists: the points of a
    polygon, line or arrow on it, or the end of the curve a label sits at."""
    on = el.target
    assert on is not None
    if isinstance(el.placement, m.AtCoordinate):
        return  # two `on`s: usage_diagnostics says so
    if on.part is not None:
        yield from system_diagnostics(on, system)
        return
    if spec.coordinates == PLACE:
        c = curve(system, section) if _at_curve_end(el, spec, section) else None
        if c is not None:
            yield from _curve_point(c.x_range[1], on.span, on, system, section,
                                    at_end=f"{el.kind} {el.id}")
        return  # anything else is "say where", from usage_diagnostics
    needs = 2 if el.kind == "polygon" or el.points else 0
    bad = list(system_diagnostics(on, system, needs=needs))
    if bad:
        yield from bad
        return
    coords: list[m.Coordinate] = list(el.points)
    if el.endpoints is not None:
        coords += [e for e in (el.endpoints.start, el.endpoints.end) if not isinstance(e, m.Ref)]
    for coord in coords:
        yield from coordinate_diagnostics(coord, on, system, section)
