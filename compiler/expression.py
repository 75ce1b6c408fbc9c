"""The safe expression language of `plot`: parsed with its own small Lark grammar into a
tree, then printed as a numpy expression by the compiler. Lesson text is never evaluated."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lecture.grammar import GRAMMAR_DIR

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


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark((GRAMMAR_DIR / "expression.lark").read_text(encoding="utf-8"), parser="lalr",
                propagate_positions=True)


def parse_expression(text: str) -> Expression:
    """Parse a function of x; raise ExpressionError with the offending offset."""
    if not text.strip():
        raise ExpressionError("the function is empty", 0, 1, 'write a function of x, such as "x^2"')
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
    _validate(tree, text)
    return Expression(text, tree)


def _validate(node: Tree | Token, text: str) -> None:
    if isinstance(node, Token):
        return
    if node.data == "name":
        token = node.children[0]
        name = str(token)
        if name != VARIABLE and name not in CONSTANTS:
            hint = (f"'{name}' is a function: write {name}(x)" if name in FUNCTIONS
                    else "the variable is x; constants are pi and e")
            raise ExpressionError(f"unknown name '{name}'", token.start_pos or 0, len(name), hint)
    elif node.data == "call":
        token = node.children[0]
        name = str(token)
        if name not in FUNCTIONS:
            from .diagnostics import did_you_mean
            hint = did_you_mean(name, FUNCTIONS) or "functions: " + ", ".join(FUNCTIONS)
            raise ExpressionError(f"unknown function '{name}'", token.start_pos or 0, len(name), hint)
    for child in node.children:
        _validate(child, text)


_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def to_numpy(expr: Expression, variable: str = "x") -> str:
    """The expression as Python source over numpy (`np`) and one variable."""
    return _emit(expr.tree, variable)


def _emit(node: Tree | Token, var: str) -> str:
    if isinstance(node, Token):
        raise TypeError(f"unexpected token {node!r}")
    kind = node.data
    if kind == "number":
        return repr(float(str(node.children[0])))
    if kind == "name":
        name = str(node.children[0])
        return var if name == VARIABLE else CONSTANTS[name]
    if kind == "call":
        return f"{FUNCTIONS[str(node.children[0])]}({_emit(node.children[1], var)})"
    if kind == "neg":
        return f"(-{_emit(node.children[0], var)})"
    if kind in _BINARY:
        left, right = node.children
        return f"({_emit(left, var)} {_BINARY[kind]} {_emit(right, var)})"
    if len(node.children) == 1:  # a transparent rule such as unary "+"
        return _emit(node.children[0], var)
    raise TypeError(f"unexpected expression node {kind}")
