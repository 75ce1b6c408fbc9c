"""The checks of shapes and charts that need more than their KindSpec: an angle's corner and
lines, an arc's turn, a range of x inside its plot, a bar chart's rows and range.

compiler.checks runs `shape_diagnostics` on every element; its generic checks (counts,
`on`, option types) have run on the same element already, so a rule here only looks at what
they let through.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from . import model as m
from .diagnostics import Diagnostic, did_you_mean
from .kinds import KINDS, with_article
from .span import Span

MAX_RECTANGLES = 200  # Riemann rectangles: more are thinner than a pixel at 720p
MAX_BARS = 40
RIGHT_TOLERANCE = 0.5  # degrees a right-angle mark's corner may be off 90


def shape_diagnostics(el: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    rule = _RULES.get(el.kind)
    if rule is not None:
        yield from rule(el, section)


def bar_value(text: str) -> float | None:
    """A bar's value as written in its row ("3", "2.5", "-1"), or None when it is no number."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def plot_range(plot: m.Element, section: m.Section) -> tuple[float, float] | None:
    """The x range a plot is drawn over: its own `x=`, else its axes' (given or by default)."""
    own = plot.option("x")
    if isinstance(own, m.Range):
        return (float(own.low), float(own.high))
    axes = section.element(plot.target.name) if plot.target is not None else None
    if axes is None or axes.kind not in KINDS:
        return None
    given = axes.option("x")
    if isinstance(given, m.Range):
        return (float(given.low), float(given.high))
    defaults = KINDS[axes.kind].default_ranges
    return defaults[0] if defaults else None


def corner_degrees(points: tuple[m.Point, ...], corner: int) -> float:
    """The inner angle of a polygon at a corner (numbered from 1), in degrees."""
    pts = [(p.x, p.y) for p in points]
    n = len(pts)
    (x, y), (px, py), (nx, ny) = pts[corner - 1], pts[(corner - 2) % n], pts[corner % n]
    twice_area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, pts[1:] + pts[:1], strict=True))
    to_prev = math.degrees(math.atan2(py - y, px - x))
    to_next = math.degrees(math.atan2(ny - y, nx - x))
    # inside a counter-clockwise polygon, the inner angle turns counter-clockwise from next to previous
    return (to_prev - to_next) % 360 if twice_area > 0 else (to_next - to_prev) % 360


# ---------------------------------------------------------------- helpers


def _error(message: str, span: Span, hint: str | None, code: str) -> Diagnostic:
    return Diagnostic("error", message, span, hint, code)


def _option(el: m.Element, key: str) -> m.Option | None:
    return next((o for o in el.options if o.key == key), None)


def _value_span(opt: m.Option) -> Span:
    return opt.value_span if opt.value_span.line else opt.span


def _whole(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()


def _number(el: m.Element, key: str, default: float) -> float:
    value = el.option(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _range_text(low: float, high: float) -> str:
    return f"{low:g}..{high:g}"


# ---------------------------------------------------------------- angles


def _angle(el: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    corner = _option(el, "corner")
    if el.target is None:
        if corner is not None:
            yield _error(f"corner= belongs to {with_article(el.kind)} on a polygon", corner.span,
                         f"at a polygon's corner: {el.kind} {el.id} on tri corner=1; between two lines: "
                         f"{el.kind} {el.id} from l1 to l2 (no corner)", "bad-option")
        yield from _parallel(el, section)
        return
    polygon = section.element(el.target.name)
    if polygon is None or polygon.kind != "polygon":
        return  # the checks of `on` say so
    n = len(polygon.points)
    order = f"corners are numbered 1 to {n} in the order the points of '{polygon.id}' are written"
    if corner is None:
        yield _error(f"which corner of '{polygon.id}'? {with_article(el.kind)} on a polygon needs corner=N",
                     el.id_span, f"{order}: {el.kind} {el.id} on {polygon.id} corner=1", "missing-corner")
        return
    if not _whole(corner.value):
        return  # the option's type check says so
    number = int(corner.value)  # type: ignore[arg-type]
    if not 1 <= number <= n:
        yield _error(f"'{polygon.id}' has {n} corners: there is no corner {number}", _value_span(corner),
                     order, "no-such-corner")
        return
    if el.kind == "rightangle" and polygon.target is None:  # its points are drawn as written
        degrees = corner_degrees(polygon.points, number)
        if abs(degrees - 90) > RIGHT_TOLERANCE:
            yield Diagnostic("warning", f"corner {number} of '{polygon.id}' measures {degrees:.0f}°, not 90°",
                             _value_span(corner),
                             "a right-angle mark says the angle is exactly 90°: mark this corner with "
                             "`angle` (label=\"…\" names it), or check the polygon's points",
                             "not-right-angle")


def _parallel(el: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    """Two lines given by their points that never meet."""
    ends = el.endpoints
    if ends is None or not isinstance(ends.start, m.Ref) or not isinstance(ends.end, m.Ref):
        return
    first, second = section.element(ends.start.name), section.element(ends.end.name)
    if first is None or second is None or len(first.points) != 2 or len(second.points) != 2:
        return
    (a, b), (c, d) = first.points, second.points
    u, v = (b.x - a.x, b.y - a.y), (d.x - c.x, d.y - c.y)
    if abs(u[0] * v[1] - u[1] * v[0]) <= 1e-9 * max(math.hypot(*u) * math.hypot(*v), 1e-300):
        yield _error(f"'{first.id}' and '{second.id}' are parallel: they make no angle", ends.span,
                     "mark the angle between two lines that meet (or would meet if made longer)",
                     "parallel-lines")


# ---------------------------------------------------------------- arcs


def _arc(el: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    start, end = _number(el, "start", 0.0), _number(el, "end", 90.0)
    where = _option(el, "end") or _option(el, "start")
    span = where.span if where is not None else el.id_span
    if start == end:
        yield _error(f"the arc starts and ends at {start:g}°: it draws nothing", span,
                     "give start= and end= different directions, e.g. start=0 end=90", "empty-arc")
    elif abs(end - start) > 360:
        yield _error(f"the arc turns {abs(end - start):g}°, more than a full circle", span,
                     "keep end - start within 360 (a whole circle: start=0 end=360)", "bad-option")


# ---------------------------------------------------------------- areas and Riemann rectangles


def _over_plot(el: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    plot = section.element(el.target.name) if el.target is not None else None
    if plot is None or plot.kind != "plot":
        return  # the checks of `on` say so
    yield from _inside_plot(el, plot, section)
    if el.kind == "area":
        yield from _area_bound(el, plot, section)
    n = _option(el, "n")
    if n is not None and _whole(n.value) and int(n.value) > MAX_RECTANGLES:  # type: ignore[arg-type]
        yield _error(f"n={n.value} rectangles are thinner than the video can show apart", _value_span(n),
                     f"use at most n={MAX_RECTANGLES}", "bad-option")


def _inside_plot(el: m.Element, plot: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    x = _option(el, "x")
    domain = plot_range(plot, section)
    if x is None or not isinstance(x.value, m.Range) or domain is None:
        return
    low, high = float(x.value.low), float(x.value.high)
    if low < domain[0] - 1e-9 or high > domain[1] + 1e-9:
        on = f" on '{plot.target.name}'" if plot.target is not None else ""
        yield _error(f"x={_range_text(low, high)} reaches outside the plot '{plot.id}', drawn over "
                     f"x={_range_text(*domain)}", _value_span(x),
                     f"keep the range inside {_range_text(*domain)}, where '{plot.id}' is drawn{on}",
                     "range-outside")


def _area_bound(el: m.Element, plot: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    """`between=g`: another plot on the same axes."""
    to = _option(el, "between")
    if to is None or not isinstance(to.value, m.Word | str):
        return
    name = to.value.name if isinstance(to.value, m.Word) else to.value
    other = section.element(name)
    example = f"area {el.id} on {plot.id} between=g, where g is another plot on the same axes"
    if other is None:
        plots = [e.id for e in section.elements if e.kind == "plot" and e.id != plot.id]
        yield _error(f"no plot named '{name}' in section '{section.id}'", _value_span(to),
                     did_you_mean(name, plots) or example, "undefined-id")
    elif other.kind != "plot":
        yield _error(f"'{name}' is {with_article(other.kind)}, not a plot", _value_span(to), example,
                     "bad-target")
    elif other.id == plot.id:
        yield _error(f"an area from '{name}' to itself is empty", _value_span(to), example, "bad-target")
    elif other.target is None or plot.target is None or other.target.name != plot.target.name:
        yield _error(f"'{name}' and '{plot.id}' are not drawn on the same axes", _value_span(to),
                     example, "bad-target")
    elif _option(el, "x") is not None:
        yield from _inside_plot(el, other, section)
    else:  # over the x both plots are drawn over
        mine, theirs = plot_range(plot, section), plot_range(other, section)
        if mine is not None and theirs is not None and (theirs[0] >= mine[1] or theirs[1] <= mine[0]):
            yield _error(f"'{plot.id}' (x={_range_text(*mine)}) and '{name}' (x={_range_text(*theirs)}) "
                         "share no x: there is nothing between them", _value_span(to),
                         "draw the two plots over x ranges that overlap", "range-outside")


# ---------------------------------------------------------------- bar charts


def _bars(el: m.Element, section: m.Section) -> Iterator[Diagnostic]:
    values: list[tuple[float, m.Text]] = []
    for row in el.rows:
        if len(row) != 2:
            strings = f"{len(row)} string{'s' if len(row) != 1 else ''}"
            yield _error(f"a bar chart's row is a name and a value; this one has {strings}", row[0].span,
                         'write one bar a row: "Mon" "3"', "bad-row")
            continue
        value = bar_value(row[1].value)
        if value is None:
            yield _error(f"the value of bar \"{row[0].value}\" is not a number: \"{row[1].value}\"",
                         row[1].span, 'a bar\'s value is a number in quotes: "Mon" "3"', "bad-value")
        else:
            values.append((value, row[1]))
    if len(el.rows) > MAX_BARS:
        yield _error(f"{len(el.rows)} bars are too many to read", el.id_span,
                     f"show at most {MAX_BARS}, or group them", "bad-row")
    y = _option(el, "y")
    if y is None or not isinstance(y.value, m.Range) or y.value.low >= y.value.high:
        return
    low, high = float(y.value.low), float(y.value.high)
    if not low <= 0 <= high:
        yield _error(f"the bars grow from 0, outside the y range {_range_text(low, high)}", _value_span(y),
                     f"include 0: y={_range_text(min(low, 0), max(high, 0))}", "bad-option")
        return
    for value, text in values:
        if not low - 1e-9 <= value <= high + 1e-9:
            yield _error(f"the bar's value {value:g} is outside the chart's y range {_range_text(low, high)}",
                         text.span, f"widen the range: y={_range_text(min(low, value), max(high, value))}",
                         "range-outside")


_RULES: dict[str, Callable[[m.Element, m.Section], Iterator[Diagnostic]]] = {
    "angle": _angle,
    "rightangle": _angle,
    "arc": _arc,
    "area": _over_plot,
    "riemann": _over_plot,
    "bars": _bars,
}
