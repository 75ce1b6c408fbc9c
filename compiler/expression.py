"""The safe expression language of `plot`: parsed with its own small Lark grammar into a
tree, then printed as a numpy expression by the compiler. Lesson text is never evaluated."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

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


def parse_expression(text: str) -> Expression:
    """Parse a function of x; raise ExpressionError with the offending offset."""
    if not text.strip():
        raise ExpressionError("the function is empty", 0, 1, 'write a function of x, such as "x^2"')
    if len(text) > MAX_CHARACTERS:
        raise ExpressionError(f"the function is too long ({len(text)} characters; at most "
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
            raise ExpressionError("the function ends too early", max(len(text) - 1, 0), 1,
                                  "check for a missing number or closing parenthesis") from None
        ch = text[pos] if pos < len(text) else ""
        hint = "use ^ for powers" if "**" in text[max(pos - 1, 0):pos + 2] else None
        raise ExpressionError(f"unexpected {ch!r} in the function" if ch else "unexpected end",
                              pos, 1, hint) from None
    _validate(tree)
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


def _validate(root: Tree | Token) -> None:
    for node in _subtrees(root):
        if node.data == "name":
            token = node.children[0]
            assert isinstance(token, Token)  # the rule's first child is a terminal
            name = str(token)
            if name != VARIABLE and name not in CONSTANTS:
                hint = (f"'{name}' is a function: write {name}(x)" if name in FUNCTIONS
                        else "the variable is x; constants are pi and e")
                raise ExpressionError(f"unknown name '{name}'", token.start_pos or 0, len(name), hint)
        elif node.data == "call":
            token = node.children[0]
            assert isinstance(token, Token)  # the rule's first child is a terminal
            name = str(token)
            if name not in FUNCTIONS:
                hint = did_you_mean(name, FUNCTIONS) or "functions: " + ", ".join(FUNCTIONS)
                raise ExpressionError(f"unknown function '{name}'", token.start_pos or 0, len(name), hint)
        elif node.data == "number":
            token = node.children[0]
            assert isinstance(token, Token)  # the rule's first child is a terminal
            if not math.isfinite(float(str(token))):
                raise ExpressionError(f"the number {token} is too large", token.start_pos or 0,
                                      len(token), "write a number below 1e308")


# Python operator precedence, loosest first: an operand is parenthesised only when it binds
# more loosely than its place needs, so that a long flat sum stays flat (Python allows at
# most 200 nested parentheses).
_BINARY = {"add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "div": ("/", 2), "pow": ("**", 4)}
_NEG, _ATOM = 3, 5


def to_numpy(expr: Expression, variable: str = "x") -> str:
    """The expression as Python source over numpy (`np`) and one variable."""
    code, precedence = _emit(expr.tree, variable)
    return code if precedence == _ATOM else f"({code})"


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


def _emit(root: Tree | Token, var: str) -> tuple[str, int]:
    """Each node's code and its precedence."""
    return _post_order(root, lambda node, args: _emit_node(node, args, var))


def _emit_node(node: Tree, args: list[tuple[str, int]], var: str) -> tuple[str, int]:
    kind = node.data
    if kind == "number":
        return repr(float(str(node.children[0]))), _ATOM
    if kind == "name":
        name = str(node.children[0])
        return (var if name == VARIABLE else CONSTANTS[name]), _ATOM
    if kind == "call":
        return f"{FUNCTIONS[str(node.children[0])]}({args[0][0]})", _ATOM
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
    point = np.float64(x)
    with np.errstate(all="ignore"):
        return float(_post_order(expr.tree, lambda node, args: _value_of(node, args, point)))


_CONSTANT_VALUES = {"pi": np.pi, "e": np.e}
_OPERATIONS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}


def _value_of(node: Tree, args: list[np.float64], x: np.float64) -> np.float64:
    """One node's value (as `_emit_node` prints it, with numpy's float64 arithmetic)."""
    kind = node.data
    if kind == "number":
        return np.float64(float(str(node.children[0])))
    if kind == "name":
        name = str(node.children[0])
        return x if name == VARIABLE else np.float64(_CONSTANT_VALUES[name])
    if kind == "call":
        return np.float64(getattr(np, str(node.children[0]))(args[0]))  # FUNCTIONS: np.<name>
    if kind == "neg":
        return np.float64(-args[0])
    if kind in _OPERATIONS:
        return np.float64(_OPERATIONS[kind](args[0], args[1]))
    if len(args) == 1:  # a transparent rule such as unary "+"
        return args[0]
    raise TypeError(f"unexpected expression node {kind}")
