"""The safe expression language of `plot`: parsed with its own small Lark grammar into a
tree, then printed as a numpy expression by the compiler. Lesson text is never evaluated.

A plot's function is an expression of x (`parse_expression`). The same language writes the
expressions of a section's values (`value slope = "2 x0"`, `(x0, f(x0))`): parsed over a
`Scope` that names the variables (the values, and x in a plot) and the plots that may be
called (`f(x0)`); `to_python` prints such an expression with each variable and plot call
written as the caller says (`v['x0']`, `fn_f(...)`), `evaluate_in` computes it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lecture.grammar import GRAMMAR_DIR

from .diagnostics import did_you_mean

T = TypeVar("T")

FUNCTIONS = {"sin": "np.sin", "cos": "np.cos", "tan": "np.tan", "exp": "np.exp", "log": "np.log",
             "sqrt": "np.sqrt", "abs": "np.abs"}
CONSTANTS = {"pi": "np.pi", "e": "np.e"}
VARIABLE = "x"
# Names a value may not take: the expression language's own words, and a plot's variable.
RESERVED = frozenset({*FUNCTIONS, *CONSTANTS, VARIABLE})


@dataclass(frozen=True)
class Scope:
    """The names an expression may use: its variables and the plots it may call (each a
    function of one number). Built-in functions and constants cannot be shadowed: a name in
    FUNCTIONS or CONSTANTS always means them."""

    variables: frozenset[str] = frozenset({VARIABLE})
    plots: frozenset[str] = frozenset()
    noun: str = "function"  # what messages call it: "the function is empty"

    @property
    def is_plain(self) -> bool:
        """A plot's function of x and nothing else: the messages say so, as they always did."""
        return self.variables == {VARIABLE} and not self.plots


PLOT = Scope()


def value_scope(values: frozenset[str] | set[str], plots: frozenset[str] | set[str] = frozenset()) -> Scope:
    """Where a value's expression is written (`"2 x0"`, `(x0, f(x0))`): the section's values and
    calls of its plots; no x."""
    return Scope(frozenset(values) - RESERVED, frozenset(plots) - frozenset(FUNCTIONS), "expression")


def plot_scope(values: frozenset[str] | set[str]) -> Scope:
    """A plot's function: x and the section's values (`"a x^2"` with `value a = 1`)."""
    return Scope(frozenset({VARIABLE}) | (frozenset(values) - RESERVED))


class ExpressionError(Exception):
    def __init__(self, message: str, offset: int, length: int = 1, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset  # 0-based offset into the expression text
        self.length = length
        self.hint = hint


@dataclass(frozen=True)
class Expression:
    text: str
    tree: Tree | Token


MAX_CHARACTERS = 100_000  # a real function is a line long; this bounds the time to read one
MAX_LEVELS = 32  # parentheses, calls, signs and powers inside one another
MAX_OPERATIONS = 1_000  # the numpy code is compiled by Python, which recurses once per operation


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark((GRAMMAR_DIR / "expression.lark").read_text(encoding="utf-8"), parser="lalr",
                propagate_positions=True)


def parse_expression(text: str, scope: Scope = PLOT) -> Expression:
    """Parse a function of x (or an expression over `scope`); raise ExpressionError with the
    offending offset."""
    if not text.strip():
        example = 'a function of x, such as "x^2"' if scope.noun == "function" else \
            f'an expression of values, such as "2 {min(scope.variables, default="x0")}"'
        raise ExpressionError(f"the {scope.noun} is empty", 0, 1, f"write {example}")
    if len(text) > MAX_CHARACTERS:
        raise ExpressionError(f"the {scope.noun} is too long ({len(text)} characters; at most "
                              f"{MAX_CHARACTERS})", 0, 1, _SIMPLER)
    _check_size(text)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        pos = getattr(exc, "pos_in_stream", None)
        if pos is None:
            pos = len(text)
        token = getattr(exc, "token", None)
        if token is not None and getattr(token, "type", "") == "$END":
            raise ExpressionError(f"the {scope.noun} ends too early", max(len(text) - 1, 0), 1,
                                  "check for a missing number or closing parenthesis") from None
        ch = text[pos] if pos < len(text) else ""
        hint = "use ^ for powers" if "**" in text[max(pos - 1, 0):pos + 2] else None
        raise ExpressionError(f"unexpected {ch!r} in the {scope.noun}" if ch else "unexpected end",
                              pos, 1, hint) from None
    _validate(tree, scope)
    return Expression(text, tree)


_SIMPLER = "a plot's function should fit on a line; split a long formula into several plots"


def _check_size(text: str) -> None:
    """Measure nesting and length on the tokens, before any tree is built: thousands of
    parentheses, signs (`-----x`) or powers (`x^x^x^…`) would make deep trees, and the
    generated Python would not compile."""
    shape = _Shape()
    deepest, deepest_at = 0, -1
    try:
        for token in _parser().lex(text):
            shape.feed(token.type)
            if shape.levels > deepest:
                deepest = shape.levels
                if deepest == MAX_LEVELS + 1:
                    deepest_at = token.start_pos or 0
    except UnexpectedInput:
        pass  # the parser reports it, with its position
    if deepest > MAX_LEVELS:
        raise ExpressionError(f"expression nested too deep ({deepest} levels; at most {MAX_LEVELS})",
                              deepest_at, 1, "write it more simply: parentheses, functions, signs "
                              f"and powers nest at most {MAX_LEVELS} deep")
    if shape.operations > MAX_OPERATIONS:
        raise ExpressionError(f"the function is too long ({shape.operations} operations; at most "
                              f"{MAX_OPERATIONS})", 0, 1, _SIMPLER)


class _Shape:
    """Levels and operations of an expression, token by token, as the grammar nests them.
    A level is a parenthesis or call, or the operand of a sign or a `^`, not yet ended;
    `x+x+x` is flat however long it is."""

    def __init__(self) -> None:
        self.scopes: list[bool] = []  # open levels, innermost last: True for a parenthesis
        self.operations = 0
        self._operand_next = True  # the next token starts an operand (so + and - are signs)
        self._after_name = False  # NAME "(" is a call, not an implicit product

    @property
    def levels(self) -> int:
        return len(self.scopes)

    def feed(self, kind: str) -> None:
        if kind in ("PLUS", "MINUS") and self._operand_next:
            self.scopes.append(False)
        elif kind == "LPAR":
            if not self._operand_next and not self._after_name:  # 2(x+1), (x)(x): a product
                self._operation()
            self.scopes.append(True)
        elif kind == "RPAR":
            self._close_operators()
            if self.scopes:
                self.scopes.pop()
        elif kind == "CIRCUMFLEX":
            self.operations += 1
            self.scopes.append(False)
        elif kind in ("PLUS", "MINUS", "STAR", "SLASH"):
            self._operation()
        elif not self._operand_next:  # 2x, 3 sin(x): an implicit product
            self._operation()
        self._operand_next = kind not in ("NAME", "NUMBER", "RPAR")
        self._after_name = kind == "NAME"

    def _operation(self) -> None:
        self._close_operators()
        self.operations += 1

    def _close_operators(self) -> None:
        """An operand ended: so did the signs and powers whose operand it was."""
        while self.scopes and not self.scopes[-1]:
            self.scopes.pop()


def _subtrees(root: Tree | Token) -> Iterator[Tree]:
    """Every subtree, parents first, without recursion (a long sum is a deep tree)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Tree):
            yield node
            stack.extend(reversed(node.children))


def _validate(root: Tree | Token, scope: Scope = PLOT) -> None:
    for node in _subtrees(root):
        if node.data in ("name", "call"):
            token = node.children[0]
            assert isinstance(token, Token)  # the rule's first child is a terminal
            problem = _name_problem(str(token), scope) if node.data == "name" else \
                _call_problem(str(token), scope)
            if problem is not None:
                message, hint = problem
                raise ExpressionError(message, token.start_pos or 0, len(token), hint)
        elif node.data == "number":
            token = node.children[0]
            assert isinstance(token, Token)  # the rule's first child is a terminal
            if not math.isfinite(float(str(token))):
                raise ExpressionError(f"the number {token} is too large", token.start_pos or 0,
                                      len(token), "write a number below 1e308")


def _name_problem(name: str, scope: Scope) -> tuple[str, str] | None:
    """What is wrong with a bare name (message, hint), or None when the scope has it."""
    if name in CONSTANTS or name in scope.variables:
        return None
    if scope.is_plain:
        return f"unknown name '{name}'", (f"'{name}' is a function: write {name}(x)" if name in FUNCTIONS
                                          else "the variable is x; constants are pi and e")
    argument = "x" if VARIABLE in scope.variables else min(scope.variables, default="x0")
    if name in FUNCTIONS or name in scope.plots:
        what = "a function" if name in FUNCTIONS else "a plot"
        return f"'{name}' is {what}, not a value", f"call it: {name}({argument})"
    if name == VARIABLE:
        plot = min(scope.plots, default="f")
        return "x is a plot's variable, not a value", \
            f"write a value's name ({argument}), or call a plot at it: {plot}({argument})"
    return f"unknown name '{name}'", did_you_mean(name, scope.variables) or _names_text(scope)


def _call_problem(name: str, scope: Scope) -> tuple[str, str] | None:
    """What is wrong with a call `name(...)`, or None when it calls a function or a plot."""
    if name in FUNCTIONS or name in scope.plots:
        return None
    if name in scope.variables and not scope.is_plain:
        return f"'{name}' is a value, not a function", f"write {name}*(…) for a product"
    callable_names = [*FUNCTIONS, *sorted(scope.plots)]
    return f"unknown function '{name}'", did_you_mean(name, callable_names) or _calls_text(scope)


def _names_text(scope: Scope) -> str:
    """The names an expression may use, in words (for a hint)."""
    values = sorted(scope.variables - {VARIABLE})
    parts = ["the variable is x"] if VARIABLE in scope.variables else []
    parts.append("values here: " + ", ".join(values) if values else "this section has no values")
    if scope.plots:
        parts.append("plots (called as f(…)): " + ", ".join(sorted(scope.plots)))
    return "; ".join(parts) + "; constants are pi and e"


def _calls_text(scope: Scope) -> str:
    text = "functions: " + ", ".join(FUNCTIONS)
    return text + ("; plots: " + ", ".join(sorted(scope.plots)) if scope.plots else "")


# Python operator precedence, loosest first: an operand is parenthesised only when it binds
# more loosely than its place needs, so that a long flat sum stays flat (Python allows at
# most 200 nested parentheses).
_BINARY = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "div": ("/", 2), "pow": ("**", 4)}
_NEG, _ATOM = 3, 5


def to_numpy(expr: Expression, variable: str = "x") -> str:
    """The expression as Python source over numpy (`np`) and one variable."""
    return to_python(expr, {VARIABLE: variable})


def to_python(expr: Expression, variables: Mapping[str, str], calls: Mapping[str, str] | None = None) -> str:
    """The expression as Python source over numpy (`np`), each variable printed as
    `variables[name]` (`x0` -> `v['x0']`) and each plot call `f(...)` as `calls['f'](...)`
    (`fn_f(...)`). A printed variable that is not a simple atom is parenthesised. Raises
    KeyError for a name the mappings lack (the caller's scope must cover the expression's)."""
    printer = _Printer(variables, calls or {})
    code, precedence = _post_order(expr.tree, printer.node)
    return code if precedence == _ATOM else f"({code})"


_SIMPLE_ATOM = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(\[[^\[\]]*\]|\(\))*")


@dataclass(frozen=True)
class _Printer:
    variables: Mapping[str, str]
    calls: Mapping[str, str]

    def node(self, node: Tree, args: list[tuple[str, int]]) -> tuple[str, int]:
        if node.data == "name":
            name = str(node.children[0])
            if name in CONSTANTS:
                return CONSTANTS[name], _ATOM
            code = self.variables[name]
            return (code if _SIMPLE_ATOM.fullmatch(code) else f"({code})"), _ATOM
        if node.data == "call":
            name = str(node.children[0])
            function = FUNCTIONS[name] if name in FUNCTIONS else self.calls[name]
            return f"{function}({args[0][0]})", _ATOM
        return _emit_node(node, args)


def _post_order(root: Tree | Token, combine: Callable[[Tree, list[T]], T]) -> T:
    """Fold an expression tree bottom-up with an explicit stack (deep nesting cannot exhaust
    Python's recursion): `combine(node, its operands' results)` for every node."""
    done: list[T] = []
    stack: list[tuple[Tree | Token, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, Token):
            raise TypeError(f"unexpected token {node!r}")
        operands = [c for c in node.children if isinstance(c, Tree)]
        if not children_done and operands:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(operands))
            continue
        args = done[len(done) - len(operands):] if operands else []
        del done[len(done) - len(operands):]
        done.append(combine(node, args))
    return done[0]


def _emit_node(node: Tree, args: list[tuple[str, int]]) -> tuple[str, int]:
    """The code of a number or an operation, and its precedence (names and calls: _Printer)."""
    kind = node.data
    if kind == "number":
        return repr(float(str(node.children[0]))), _ATOM
    if kind == "neg":
        return "-" + _operand(args[0], _NEG), _NEG
    if kind in _BINARY:
        symbol, level = _BINARY[kind]
        left, right = args
        if kind == "pow":  # right-associative; its base binds tighter than a sign
            return f"{_operand(left, _ATOM)} ** {_operand(right, _NEG)}", level
        return f"{_operand(left, level)} {symbol} {_operand(right, level + 1)}", level
    if len(args) == 1:  # a transparent rule such as unary "+"
        return args[0]
    raise TypeError(f"unexpected expression node {kind}")


def _operand(emitted: tuple[str, int], needed: int) -> str:
    code, precedence = emitted
    return code if precedence >= needed else f"({code})"



def evaluate(expr: Expression, x: float) -> float:
    """The function's value at x, computed as the generated numpy code computes it (nan where
    it has none: log(-1), 0/0; inf past the largest float). Walks the tree: nothing is run."""
    return evaluate_in(expr, {VARIABLE: x})


PlotFunction = Callable[[float], float]


def evaluate_in(expr: Expression, values: Mapping[str, float],
                plots: Mapping[str, PlotFunction] | None = None) -> float:
    """The expression's value with each variable's value from `values` and each plot call
    `f(...)` computed by `plots['f']`, as the generated numpy code computes it (see
    `evaluate`). Raises KeyError for a name the mappings lack."""
    env = _Environment({name: np.float64(v) for name, v in values.items()}, plots or {})
    with np.errstate(all="ignore"):
        return float(_post_order(expr.tree, env.value_of))


_CONSTANT_VALUES = {"pi": np.pi, "e": np.e}
_OPERATIONS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}


@dataclass(frozen=True)
class _Environment:
    values: Mapping[str, np.float64]
    plots: Mapping[str, PlotFunction]

    def value_of(self, node: Tree, args: list[np.float64]) -> np.float64:
        """One node's value (as `_Printer` prints it, with numpy's float64 arithmetic)."""
        kind = node.data
        if kind == "name":
            name = str(node.children[0])
            return np.float64(_CONSTANT_VALUES[name]) if name in CONSTANTS else self.values[name]
        if kind == "call":
            name = str(node.children[0])
            if name in FUNCTIONS:
                return np.float64(getattr(np, name)(args[0]))  # FUNCTIONS: np.<name>
            return np.float64(self.plots[name](float(args[0])))
        return _operation_value(node, args)


def _operation_value(node: Tree, args: list, box: Callable[[Any], Any] = np.float64) -> Any:
    """The value of a number or an operation on its operands' values, each result made by `box`
    (np.float64 for one value; np.asarray for arrays of values, `evaluate_array`)."""
    kind = node.data
    if kind == "number":
        return box(float(str(node.children[0])))
    if kind == "neg":
        return box(np.negative(args[0]))
    if kind in _OPERATIONS:
        return box(_OPERATIONS[kind](args[0], args[1]))
    if len(args) == 1:  # a transparent rule such as unary "+"
        return args[0]
    raise TypeError(f"unexpected expression node {kind}")


ArrayFunction = Callable[[np.ndarray], np.ndarray]


def evaluate_array(expr: Expression, values: Mapping[str, np.ndarray],
                   plots: Mapping[str, ArrayFunction] | None = None) -> np.ndarray:
    """`evaluate_in` at many assignments at once: each variable's values are an array (all of
    one length), each plot a function of an array of x; the result is an array of that length
    (float64 arithmetic, element by element, as `evaluate_in` computes each)."""
    env = _Arrays({name: np.asarray(v, dtype=np.float64) for name, v in values.items()}, plots or {})
    with np.errstate(all="ignore"):
        result = _post_order(expr.tree, env.value_of)
    length = max((v.shape for v in env.values.values()), default=())
    return np.broadcast_to(np.asarray(result, dtype=np.float64), length).copy()


@dataclass(frozen=True)
class _Arrays:
    values: Mapping[str, np.ndarray]
    plots: Mapping[str, ArrayFunction]

    def value_of(self, node: Tree, args: list[np.ndarray]) -> np.ndarray:
        kind = node.data
        if kind == "name":
            name = str(node.children[0])
            return np.asarray(_CONSTANT_VALUES[name]) if name in CONSTANTS else self.values[name]
        if kind == "call":
            name = str(node.children[0])
            function = getattr(np, name) if name in FUNCTIONS else self.plots[name]
            return np.asarray(function(args[0]), dtype=np.float64)
        return _operation_value(node, args, np.asarray)


def variables_of(expr: Expression) -> frozenset[str]:
    """The variables an expression reads (its names but the constants)."""
    return frozenset(n for n in _names(expr, "name") if n not in CONSTANTS)


def plots_called(expr: Expression) -> frozenset[str]:
    """The plots an expression calls (its calls but the built-in functions)."""
    return frozenset(n for n in _names(expr, "call") if n not in FUNCTIONS)


def _names(expr: Expression, rule: str) -> Iterator[str]:
    for node in _subtrees(expr.tree):
        if node.data == rule:
            yield str(node.children[0])
