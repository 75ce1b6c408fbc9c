"""A tiny expression tree for the generated code.

Elements and actions lower to expression trees (calls, attributes, names, literals): an
element to the expression that builds its mobject, an action to its animations and
statements. Trees are printed as Python source (`render`, `render_wrapped`,
`render_statement`) and, for measuring, an element's is *built* in the compiler process by
calling the same functions with the same values — so what the layout measures is exactly
what the scene draws, without ever evaluating text. Lesson text only ever becomes a
`repr()` literal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Two kinds of numbers reach the generated code. Lengths and positions the layout computed
# (`Float`) are printed to 4 decimals: a ten-thousandth of a grid cell, far below a pixel, and
# short enough to read. Numbers the lesson gave that need more (`Exact`: axis and plot ranges,
# tick steps, step durations, font sizes) are printed so that they read back as written: a steep
# plot on x=0..0.00024 keeps its range, where 4 decimals made it 0..0.0002. (Opacities, stroke
# widths and scale factors are drawn the same to 4 decimals: `Float`.)
EXACT_DIGITS = 12  # significant digits of an Exact number: exact to 1e-12 relative


def num(value: float) -> str:
    """A computed length or position: rounded to 4 decimals, no `-0.0`."""
    return repr(rounded(value))


def rounded(value: float) -> float:
    v = round(float(value), 4)
    return 0.0 if v == 0 or math.isnan(v) else v


def exact_num(value: float) -> str:
    """A number from the lesson: the shortest literal within 1e-12 relative of it (0.5 stays
    0.5, 1.234e-05 stays 1.234e-05, 0.1 + 0.2 is printed 0.3), no `-0.0`."""
    return repr(exact(value))


def exact(value: float) -> float:
    v = float(f"{float(value):.{EXACT_DIGITS}g}")
    return 0.0 if v == 0 or math.isnan(v) else v


@dataclass(frozen=True)
class Name:
    """A name in the generated module's namespace (`DOWN`, `Text`, `np.pi`)."""

    name: str


@dataclass(frozen=True)
class Var:
    """A variable of the scene's construct(): another element (`ax`)."""

    name: str


@dataclass(frozen=True)
class Attr:
    """An attribute of an expression: `ax.animate`."""

    value: Any
    name: str


@dataclass(frozen=True)
class Raw:
    """Source that is printed but cannot be built in the compiler (a plot's lambda)."""

    code: str


@dataclass(frozen=True)
class Call:
    func: Any  # a dotted name (str), or an expression whose method is called (see method)
    args: tuple = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    method: str | None = None  # when set: func is the receiver expression, method its name

    def then(self, method: str, *args: Any, **kwargs: Any) -> Call:
        """A method call on this expression: `expr.method(args)`."""
        return Call(self, args, tuple(kwargs.items()), method)


def call(func: str, *args: Any, **kwargs: Any) -> Call:
    return Call(func, args, tuple(kwargs.items()))


def method(receiver: Any, name: str, *args: Any, **kwargs: Any) -> Call:
    """`receiver.name(args)` on any expression (`self.remove(tri)`, `ax.animate.scale(2)`)."""
    return Call(receiver, args, tuple(kwargs.items()), name)


SELF = Var("self")  # the scene, in construct()


def point(x: float, y: float) -> Call:
    """np.array([x, y, 0.0]) with rounded coordinates."""
    return Call("np.array", ([Float(x), Float(y), Float(0.0)],))


@dataclass(frozen=True)
class Float:
    """A length or position the layout computed, printed with `num` (4 decimals)."""

    value: float


@dataclass(frozen=True)
class Exact:
    """A number the lesson gave, printed with `exact_num` (it reads back as written)."""

    value: float


# ---------------------------------------------------------------- printing


def render(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return repr(value)  # always a valid literal, whatever the text
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):  # a lesson's value passed as is (a font size): as written
        return exact_num(value)
    if isinstance(value, Float):
        return num(value.value)
    if isinstance(value, Exact):
        return exact_num(value.value)
    if isinstance(value, (Name, Var)):
        return value.name
    if isinstance(value, Attr):
        return f"{render(value.value)}.{value.name}"
    if isinstance(value, Raw):
        return value.code
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(render(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Call):
        return f"{_head(value)}({_arguments(value)})"
    raise TypeError(f"cannot print {value!r}")


def _head(c: Call) -> str:
    """What comes before a call's parentheses: `Circle`, `self.step`, `ax.animate.move_to`."""
    return f"{render(c.func)}.{c.method}" if c.method else c.func


def _parts(c: Call) -> list[str]:
    return [render(a) for a in c.args] + [f"{k}={render(v)}" for k, v in c.kwargs]


def _arguments(c: Call) -> str:
    return ", ".join(_parts(c))


def render_wrapped(value: Any, indent: str = "    ", limit: int = 100, prefix: int = 0) -> str:
    """Like `render`, but a call that does not fit on one line (with `prefix` characters
    before it) gets one argument a line; a method chain keeps its methods on the last line."""
    one = render(value)
    if prefix + len(one) <= limit or not isinstance(value, Call):
        return one
    chain: list[Call] = []
    base: Any = value
    while isinstance(base, Call) and base.method:
        chain.append(base)
        base = base.func
    if not isinstance(base, Call) or not (base.args or base.kwargs):
        return one
    tail = "".join(f".{c.method}({_arguments(c)})" for c in reversed(chain))
    inner = "".join(f"\n{indent}{p}," for p in _parts(base))
    return f"{_head(base)}({inner}\n){tail}"


def render_statement(value: Any, indent: str = "    ", limit: int = 100, prefix: int = 0) -> str:
    """A call as a statement: on one line when it fits (with `prefix` characters before it),
    else one argument a line — but a call whose only argument is a call keeps that on its
    own line and wraps it instead: `ax.add(ax.get_axis_labels(⏎    a,⏎    b,⏎))`."""
    one = render(value)
    if prefix + len(one) <= limit or not isinstance(value, Call) or not (value.args or value.kwargs):
        return one
    head = _head(value)
    if len(value.args) == 1 and not value.kwargs and isinstance(value.args[0], Call):
        return f"{head}({render_statement(value.args[0], indent, limit, prefix + len(head) + 1)})"
    inner = "".join(f"\n{indent}{p}," for p in _parts(value))
    return f"{head}({inner}\n)"


# ---------------------------------------------------------------- building


class NotBuildable(Exception):
    pass


def build(value: Any, namespace: dict[str, Any], variables: dict[str, Any] | None = None) -> Any:
    """Build the value an expression stands for, in the compiler process."""
    if isinstance(value, float):
        return exact(value)  # (as `render` prints it)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, Float):
        return rounded(value.value)
    if isinstance(value, Exact):
        return exact(value.value)
    if isinstance(value, Name):
        obj: Any = None
        head, *rest = value.name.split(".")
        if head not in namespace:
            raise NotBuildable(value.name)
        obj = namespace[head]
        for part in rest:
            obj = getattr(obj, part)
        return obj
    if isinstance(value, Var):
        if variables is None or value.name not in variables:
            raise NotBuildable(value.name)
        return variables[value.name]
    if isinstance(value, Attr):
        return getattr(build(value.value, namespace, variables), value.name)
    if isinstance(value, Raw):
        raise NotBuildable(value.code)
    if isinstance(value, list):
        return [build(v, namespace, variables) for v in value]
    if isinstance(value, tuple):
        return tuple(build(v, namespace, variables) for v in value)
    if isinstance(value, dict):
        return {build(k, namespace, variables): build(v, namespace, variables) for k, v in value.items()}
    if isinstance(value, Call):
        args = [build(a, namespace, variables) for a in value.args]
        kwargs = {k: build(v, namespace, variables) for k, v in value.kwargs}
        if value.method:
            receiver = build(value.func, namespace, variables)
            return getattr(receiver, value.method)(*args, **kwargs)
        return build(Name(value.func), namespace, variables)(*args, **kwargs)
    raise TypeError(f"cannot build {value!r}")
