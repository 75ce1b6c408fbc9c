"""A section's values as code, for the lowerings that follow them (lower/motion.py) and the plots
that read them (`plot g "a x^2"`, lower/elements.py).

A value is its element's variable asked for its value now (`x0.value()`: runtime
motion_support.LiveValue); a plot called in an expression is the plot's own function
(`f.underlying_function(…)`); the expression around them is printed by compiler.expression from
its parsed tree, so lesson text never becomes code."""

from __future__ import annotations

import math

from ..expression import Expression, plots_called, to_python, variables_of
from ..values import SectionValues, section_values
from .registry import SectionContext

VARIABLE = "x"  # a plot's variable


def graph(ctx: SectionContext) -> SectionValues:
    """The section's values (compiler/values.py: built once per section)."""
    return section_values(ctx.section)


def value_code(ctx: SectionContext, name: str) -> str:
    return f"{ctx.var(name)}.value()"


def expression_code(ctx: SectionContext, expression: Expression, *, variable: str | None = None) -> str:
    """Python for an expression of the section's values (and of x, printed as `variable`)."""
    g = graph(ctx)
    variables = {name: value_code(ctx, name) for name in g.values if name in ctx.variables}
    if variable is not None:
        variables[VARIABLE] = variable
    calls = {plot: f"{ctx.var(plot)}.underlying_function" for plot in g.plots if plot in ctx.variables}
    return to_python(expression, variables, calls)


def expression_deps(expression: Expression) -> tuple[str, ...]:
    """The elements an expression's code uses: the values it reads and the plots it calls."""
    return tuple(sorted((variables_of(expression) - {VARIABLE}) | plots_called(expression)))


def plot_function_code(ctx: SectionContext, plot_id: str) -> str | None:
    """The function of a plot that reads values (`lambda x: a.value() * x ** 2`), or None for a
    fixed curve (printed as before, from its text alone)."""
    plot = graph(ctx).plots.get(plot_id)
    if plot is None or not plot.reads or plot.expression is None:
        return None
    return f"lambda x: {expression_code(ctx, plot.expression, variable=VARIABLE)}"


def finite(value: float, default: float = 0.0) -> float:
    """A value as a number to lay out with (an expression with no value there: the default; the
    checks report it)."""
    return value if math.isfinite(value) else default
