"""Where the strings of a custom-element snippet come from, so that TeX stays literal.

A string is *computed* when the code builds it at run time: `+`, `*` or `%` with a string,
`.join`, `.format` (unless every field formats a number), `.replace` with strings,
`.split`/`.strip`, `str()` of something that is not surely a number, an f-string with a
field that is not surely a number, a slice of a string literal, numpy given strings, or
reads it from a mobject (`get_tex_string()`). Computedness flows through names, containers, the
snippet's own functions (their parameters and return values) and the builtins that pass
their arguments on (list, sorted, zip, ...). Flow-insensitive: a name is computed when
any of its bindings is; solved as a fixed point over the whole snippet.

`values(expr)` tells the literal strings an expression may be, when the code shows them
(literals, f-strings of numbers, names and loop variables bound only to those, helper
parameters given only those); a number stands as "0", since digits never lengthen a TeX
command. `bad_join(left, right)` says why two pieces written one after the other would
form a TeX command that neither holds (`"\\in"` then `"put"`).
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable
from typing import TypeGuard

from .snippet_allowlist import Allowlist
from .snippet_scopes import (
    COMPREHENSIONS,
    Binder,
    Binding,
    Function,
    Scope,
    all_args,
    is_builtin_call,
    lookup,
)

FUNCTION_NAME = "build"
# Builtins whose result holds (parts of) their arguments: a computed string stays computed.
PASS_THROUGH = frozenset("dict enumerate filter frozenset iter list map max min next reversed set sorted "
                         "str sum tuple zip".split())
NUMERIC_BUILTINS = frozenset("abs bool complex divmod float int len pow round".split())
# Methods that build new strings from their receiver and arguments (pieces count too: a
# split string's words can be joined again out of sight).
STRING_BUILDERS = frozenset("join format replace split rsplit strip lstrip rstrip partition".split())
# Allowed attributes holding a mobject's own strings: what they give is not a literal here.
STRING_READERS = frozenset({"get_tex_string", "name"})
BOX_NUMBERS = frozenset("left right bottom top width height cx cy".split())
NUMERIC_FORMAT_TYPES = "bdoxXeEfFgGn"  # not `c` (a character by its code) nor `%`
MAX_VALUES = 64  # candidate strings followed before giving up
SAME_ELEMENTS = frozenset("list tuple set frozenset sorted reversed".split())

_OPEN_COMMAND = re.compile(r"(\\+)([A-Za-z]*)$")  # a run of backslashes, then letters, at the end


def bad_join(left: str, right: str) -> str | None:
    """Why `left` directly followed by `right` would build a TeX command neither holds."""
    if not right:
        return None
    end = _OPEN_COMMAND.search(left)
    if end and len(end.group(1)) % 2:  # an odd run of backslashes starts a command
        if not end.group(2):
            return "ends in a lone backslash"
        if _is_tex_letter(right[0]):
            return f"ends in the command `\\{end.group(2)}`, which the next piece would lengthen"
    if left.endswith("^") and right.startswith("^"):
        return "ends in `^` and the next piece starts with `^` (TeX's ^^ notation)"
    return None


def _is_tex_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def spec_text(spec: ast.AST | None) -> str:
    """The literal text of an f-string field's format spec."""
    if not isinstance(spec, ast.JoinedStr):
        return ""
    return "".join(v.value for v in spec.values if isinstance(v, ast.Constant) and isinstance(v.value, str))


def _numeric_spec(spec: str) -> bool:
    return bool(spec) and spec[-1] in NUMERIC_FORMAT_TYPES


def format_fields(text: str) -> list[tuple[str, str | None, str | None, str | None]] | None:
    """`str.format`'s reading of a format string; None when it is malformed."""
    try:
        return list(string.Formatter().parse(text))
    except ValueError:
        return None


def _function_bound(b: Binding) -> Function | None:
    """The snippet's function a binding names: a `def`, or a name given a lambda."""
    if b.kind == "function":
        return b.function
    if b.kind == "value" and isinstance(b.expr, ast.Lambda):
        return b.expr
    return None


def _union(a: list[str] | None, b: list[str] | None) -> list[str] | None:
    if a is None or b is None:
        return None
    out = list(dict.fromkeys([*a, *b]))
    return out if len(out) <= MAX_VALUES else None


class StringFlow:
    """The analysis of one snippet (see the module's docstring); `solve()` first."""

    def __init__(self, binder: Binder, allow: Allowlist) -> None:
        self.binder = binder
        self.allow = allow
        self.bindings: list[Binding] = []
        self.not_numeric: set[int] = set()  # ids of bindings
        self.computed: set[int] = set()  # ids of bindings
        self.computed_returns: set[ast.AST] = set()  # functions that may return a computed string
        self.computed_params: set[tuple[Function, str]] = set()
        self.sites: dict[Function, list[tuple[ast.Call, Scope]]] = {}  # direct calls of local functions
        self.escaped: set[Function] = set()  # local functions also used as values
        self._memo: dict[tuple, list[str] | None] = {}  # values()
        # Within one round of a fixed point: results, and what is being worked out (a name
        # defined through itself reads the last round's answer).
        self._round: dict[tuple, bool] = {}
        self._literal_names: dict[tuple[int, str], bool] = {}
        self._name_of: dict[int, tuple[int, str]] = {}  # binding -> (its scope, its name)
        self._computed_names: set[tuple[int, str]] = set()
        self._functions: dict[tuple[int, str], set[Function]] = {}
        self._busy: set[tuple] = set()

    # ------------------------------------------------------------ solving

    def solve(self) -> None:
        """Run once the binder has walked the module."""
        self.bindings = [b for s in self.binder.scopes.values() for bs in s.bindings.values() for b in bs]
        self._name_of = {id(b): (id(s), name) for s in self.binder.scopes.values()
                         for name, bs in s.bindings.items() for b in bs}
        for call, scope in self.binder.calls:
            for fn in self.local_functions(call.func, scope):
                self.sites.setdefault(fn, []).append((call, scope))
        for name, scope in self.binder.loads:
            if id(name) not in self.binder.callees:
                self.escaped |= self.local_functions(name, scope)
        self.escaped |= {fn for fn in self.binder.returns if isinstance(fn, ast.Lambda)
                         and fn not in self.sites}
        self._solve_numeric()
        self._solve_computed()

    def _solve_numeric(self) -> None:
        """Optimistic, then narrowed: a loop (`i = i + 1`) stays numeric if its start is.
        Each round works out every binding once (depth first, remembered), so a chain of
        names settles in a round or two."""
        changed = True
        while changed:
            changed = False
            self._new_round()
            for b in self.bindings:
                if id(b) not in self.not_numeric and not self._binding_numeric(b):
                    self.not_numeric.add(id(b))
                    changed = True
        self._new_round()

    def _solve_computed(self) -> None:
        """Pessimistic, then widened: only what a computed string reaches is computed."""
        changed = True
        while changed:
            before = (len(self.computed), len(self.computed_returns), len(self.computed_params))
            self._new_round()
            for b in self.bindings:
                self._binding_computed(b)
            for fn in self.binder.returns:
                self.returns_computed(fn)
            for call, scope in self.binder.calls:
                self._handed_over(call, scope)
            changed = before != (len(self.computed), len(self.computed_returns), len(self.computed_params))
        self._new_round()

    def _new_round(self) -> None:
        self._round.clear()
        self._busy.clear()
        self._memo.clear()  # values() read the numbers of the round before

    def _remembered(self, key: tuple, when_busy: Callable[[], bool], work: Callable[[], bool]) -> bool:
        """`work()`, once a round; while it runs, a question that needs itself gets
        `when_busy()` (the answer of the round before)."""
        if key in self._round:
            return self._round[key]
        if key in self._busy:
            return when_busy()
        self._busy.add(key)
        try:
            result = bool(work())
        finally:
            self._busy.discard(key)
        self._round[key] = result
        return result

    def _handed_over(self, call: ast.Call, scope: Scope) -> None:
        """A function of the snippet handed to another with computed strings
        (`map(f, strings)`): its parameters may receive them."""
        args = [*call.args, *(k.value for k in call.keywords)]
        functions = {fn for a in args for fn in self.local_functions(a, scope)}
        if functions and any(self.is_computed(a, scope) for a in args):
            self.computed_params |= {(fn, a.arg) for fn in functions for a in all_args(fn.args)}

    def returns_computed(self, fn: ast.AST) -> bool:
        """The snippet's function (or lambda) `fn` may return a computed string."""
        def work() -> bool:
            returned = self.binder.returns.get(fn, [])
            return fn in self.computed_returns or any(self.is_computed(e, s) for e, s in returned)

        result = self._remembered(("returns", id(fn)), lambda: fn in self.computed_returns, work)
        if result:
            self.computed_returns.add(fn)
        return result

    def local_functions(self, expr: ast.AST, scope: Scope) -> set[Function]:
        """The snippet's own functions `expr` may be (a lambda, or a name bound to a def or
        a lambda)."""
        if isinstance(expr, ast.Lambda):
            return {expr}
        if not isinstance(expr, ast.Name):
            return set()
        found = lookup(expr.id, scope)
        if found is None:
            return set()
        key = (id(found[0]), expr.id)
        if key not in self._functions:
            self._functions[key] = {fn for fn in map(_function_bound, found[1]) if fn is not None}
        return self._functions[key]

    # ------------------------------------------------------------ computed strings

    def _binding_computed(self, b: Binding) -> bool:
        result = self._remembered(("computed", id(b)), lambda: id(b) in self.computed,
                                  lambda: self._works_out(b))
        if result:
            self.computed.add(id(b))
            self._computed_names.add(self._name_of.get(id(b), (0, "")))
        return result

    def _works_out(self, b: Binding) -> bool:
        if id(b) in self.computed:
            return True
        if b.kind == "param" and b.function is not None:
            return (b.function, b.name) in self.computed_params or any(
                self._passes_computed(call, b.function, b.name, scope)
                for call, scope in self.sites.get(b.function, []))
        if b.kind == "function" and b.function is not None:
            return self.returns_computed(b.function)
        if b.kind in ("value", "element", "member") and b.expr is not None and b.scope is not None:
            return self.is_computed(b.expr, b.scope)
        return False

    def _passes_computed(self, call: ast.Call, fn: Function, name: str, scope: Scope) -> bool:
        arg = self._argument(call, fn, name)
        if arg is not None:
            return self.is_computed(arg, scope)
        return any(self.is_computed(a, scope) for a in (*call.args, *(k.value for k in call.keywords)))

    def is_computed(self, node: ast.AST, scope: Scope) -> bool:  # noqa: C901 - one case per node type
        if isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.JoinedStr):
            return not self.numeric_fields(node, scope)
        if isinstance(node, ast.Name):
            found = lookup(node.id, scope)
            if found is None:
                return False
            key = (id(found[0]), node.id)
            return self._remembered(("name computed", *key), lambda: key in self._computed_names,
                                    lambda: any(self._binding_computed(b) for b in found[1]))
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, (ast.Add, ast.Mult, ast.Mod)) \
                    and (self.stringish(node.left, scope) or self.stringish(node.right, scope)):
                return True
            return self.is_computed(node.left, scope) or self.is_computed(node.right, scope)
        if isinstance(node, ast.Call):
            return self._call_computed(node, scope)
        if isinstance(node, ast.Subscript):
            return self.is_computed(node.value, scope) or self.string_literal(node.value, scope)
        if isinstance(node, ast.Lambda):
            return self.returns_computed(node)
        if isinstance(node, ast.Attribute) and node.attr in STRING_READERS:
            return True
        if isinstance(node, COMPREHENSIONS):
            inner = self.binder.scopes.get(node, scope)
            parts = [getattr(node, p) for p in ("elt", "key", "value") if hasattr(node, p)]
            return any(self.is_computed(part, inner) for part in parts)
        if isinstance(node, ast.Dict):
            return any(self.is_computed(x, scope) for x in (*node.keys, *node.values) if x is not None)
        return any(self.is_computed(child, scope) for child in ast.iter_child_nodes(node)
                   if isinstance(child, ast.expr))

    def _call_computed(self, node: ast.Call, scope: Scope) -> bool:
        func = node.func
        args = [*node.args, *(k.value for k in node.keywords)]
        local = self.local_functions(func, scope)
        if local:
            return any(self.returns_computed(fn) for fn in local)
        if isinstance(func, ast.Name) and lookup(func.id, scope) is None:
            if func.id == "str":
                return not all(self.numeric(a, scope) for a in node.args)
            return func.id in PASS_THROUGH and any(self.is_computed(a, scope) for a in args)
        if isinstance(func, ast.Attribute):
            if func.attr == "format":
                return not self.format_is_numeric(func.value, node, scope)
            if func.attr in STRING_READERS:
                return True
            if func.attr in STRING_BUILDERS and (func.attr != "replace" or any(
                    self.stringish(a, scope) for a in node.args)):
                return True
            if self.numpy_text(node, scope):
                return True
            return self.is_computed(func.value, scope)
        return self.is_computed(func, scope)

    def numpy_text(self, node: ast.AST, scope: Scope) -> bool:
        """A numpy call given strings: numpy adds, sums and slices string arrays too."""
        if not self._numpy_call(node, scope):
            return False
        args = [*node.args, *(k.value for k in node.keywords if k.arg != "dtype")]
        return any(self._holds_text(a, scope) for a in args)

    def _holds_text(self, node: ast.AST, scope: Scope) -> bool:
        if isinstance(node, ast.Starred):
            node = node.value
        if self.is_computed(node, scope):
            return True
        return any(v != "0" for d in range(3) for v in (self.values(node, scope, d) or []))

    def stringish(self, node: ast.AST, scope: Scope) -> bool:
        """May be a string (so `+`, `*` and `%` concatenate or format, not add)."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        return isinstance(node, ast.JoinedStr) or self.is_computed(node, scope) \
            or self.string_literal(node, scope)

    def string_literal(self, node: ast.AST, scope: Scope) -> bool:
        """A string literal, or a name bound to one (slicing it builds a new string)."""
        if isinstance(node, ast.JoinedStr):
            return True
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.Name):
            found = lookup(node.id, scope)
            if found is None:
                return False
            key = (id(found[0]), node.id)
            if key not in self._literal_names:
                self._literal_names[key] = any(
                    b.kind == "value" and isinstance(b.expr, (ast.Constant, ast.JoinedStr))
                    and self.string_literal(b.expr, scope) for b in found[1])
            return self._literal_names[key]
        return False

    def format_is_numeric(self, receiver: ast.AST, call: ast.Call, scope: Scope) -> bool:
        """`"{:.2f}".format(x)`: every field formats a number."""
        if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
            return False
        fields = format_fields(receiver.value)
        if fields is None:
            return False
        specs = [spec or "" for _, name, spec, conv in fields if name is not None and conv is None]
        if len(specs) != sum(1 for f in fields if f[1] is not None) or any("{" in spec for spec in specs):
            return False  # a conversion (`!r`), or a spec given at run time
        if all(_numeric_spec(spec) for spec in specs):
            return True
        return all(spec == "" or _numeric_spec(spec) for spec in specs) \
            and all(self.numeric(a, scope) for a in (*call.args, *(k.value for k in call.keywords)))

    # ------------------------------------------------------------ numbers

    def numeric_fields(self, node: ast.JoinedStr, scope: Scope) -> bool:
        return all(self.numeric_field(v, scope) for v in node.values if isinstance(v, ast.FormattedValue))

    def numeric_field(self, field_: ast.FormattedValue, scope: Scope) -> bool:
        """The field's text is a number: a numeric format type, or no format and a number.
        A format written at run time (`{x:{spec}}`) could be `c`, a character by its code."""
        spec = field_.format_spec
        written_later = isinstance(spec, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue)
                                                                for v in spec.values)
        if field_.conversion not in (-1, None) or written_later:
            return False
        text = spec_text(spec)
        return _numeric_spec(text) if text else self.numeric(field_.value, scope)

    def _numeric_binding(self, b: Binding) -> bool:
        return id(b) not in self.not_numeric and self._remembered(
            ("numeric", id(b)), lambda: True, lambda: self._binding_numeric(b))

    def _binding_numeric(self, b: Binding) -> bool:
        if b.kind == "numeric":
            return True
        if b.kind == "import":
            return self._numeric_path(b.path)
        if b.kind == "param":
            fn = b.function
            sites = self.sites.get(fn, []) if fn is not None else []
            if fn is None or fn in self.escaped or not sites:
                return False
            return all((arg := self._argument(call, fn, b.name)) is not None and self.numeric(arg, scope)
                       for call, scope in sites)
        if b.scope is None or b.expr is None:
            return False
        if b.kind in ("value", "member"):
            return self.numeric(b.expr, b.scope)
        if b.kind == "element":
            values = self.values(b.expr, b.scope, b.depth)
            return values is not None and all(v == "0" for v in values)
        return False

    def _numeric_path(self, path: str) -> bool:
        return path.startswith(("math.", "numpy.")) or (path.isupper() and path in self.allow.manim_names)

    def _numpy_call(self, node: ast.AST, scope: Scope) -> TypeGuard[ast.Call]:
        return isinstance(node, ast.Call) and (self.module_path(node.func, scope) or "").startswith("numpy.")

    def numeric(self, node: ast.AST, scope: Scope) -> bool:  # noqa: C901 - one case per node type
        """Surely a number (or a fixed Manim constant): its text cannot carry TeX."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (int, float, complex)) or node.value is None
        if isinstance(node, ast.UnaryOp):
            return self.numeric(node.operand, scope)
        if isinstance(node, ast.BinOp):
            return self.numeric(node.left, scope) and self.numeric(node.right, scope)
        if isinstance(node, ast.IfExp):
            return self.numeric(node.body, scope) and self.numeric(node.orelse, scope)
        if isinstance(node, ast.Name):
            found = lookup(node.id, scope)
            if found is None:
                return node.id.isupper() and node.id in self.allow.manim_names
            return self._remembered(("name numeric", id(found[0]), node.id), lambda: True,
                                    lambda: all(self._numeric_binding(b) for b in found[1]))
        if isinstance(node, ast.Attribute):
            path = self.module_path(node, scope)
            if path is not None:
                return self._numeric_path(path)
            return isinstance(node.value, ast.Name) and node.attr in BOX_NUMBERS \
                and self.is_box(node.value, scope)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and lookup(func.id, scope) is None:
                if func.id in ("int", "float", "len", "bool"):
                    return True
                return func.id in NUMERIC_BUILTINS | {"min", "max", "sum"} \
                    and all(self.numeric(a, scope) for a in node.args)
            path = self.module_path(func, scope) or ""
            return path.startswith("math.") or (path.startswith("numpy.")
                                                and all(self.numeric(a, scope) for a in node.args))
        return False

    def is_box(self, name: ast.Name, scope: Scope) -> bool:
        """The parameter of `build` itself, never rebound: a CustomBox."""
        found = lookup(name.id, scope)
        if found is None or len(found[1]) != 1 or found[1][0].kind != "param":
            return False
        fn = found[1][0].function
        return isinstance(fn, ast.FunctionDef) and fn.name == FUNCTION_NAME and found[0].parent is not None \
            and found[0].parent.kind == "module"

    # ------------------------------------------------------------ modules

    def module_alias(self, name: str, scope: Scope) -> str | None:
        """The module path `name` stands for here, if it is a module alias."""
        found = lookup(name, scope)
        if found is None:
            return self.allow.star_modules.get(name) if scope.root().star else None
        if found[1] and all(b.kind == "module" for b in found[1]):
            return found[1][-1].path
        return None

    def module_path(self, node: ast.AST, scope: Scope) -> str | None:
        """`np.linalg.norm` -> "numpy.linalg.norm" where `np` is numpy's alias; a name
        imported with `from math import sqrt` -> "math.sqrt"."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        alias = self.module_alias(node.id, scope)
        if alias is not None:
            return ".".join([alias, *reversed(parts)])
        found = lookup(node.id, scope)
        if found is not None and not parts and len(found[1]) == 1 and found[1][0].kind == "import":
            return found[1][0].path
        return None

    # ------------------------------------------------------------ literal values

    def _argument(self, call: ast.Call, fn: Function, name: str) -> ast.AST | None:
        """What this call passes for parameter `name` of `fn` (None when it cannot tell)."""
        args = fn.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return None
        if name in positional and positional.index(name) < len(call.args):
            return call.args[positional.index(name)]
        return next((k.value for k in call.keywords if k.arg == name), None)

    def values(self, node: ast.AST, scope: Scope, depth: int = 0) -> list[str] | None:
        """The strings `node` (or, with depth d, its elements' elements ... d times) may be,
        when the code shows them; None when it does not."""
        key = (id(node), id(scope), depth)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a name defined through itself cannot be told
        result = self._values(node, scope, depth) if depth <= 6 else None
        self._memo[key] = result
        return result

    def _values(self, node: ast.AST, scope: Scope, depth: int) -> list[str] | None:  # noqa: C901
        if isinstance(node, ast.IfExp):
            return _union(self.values(node.body, scope, depth), self.values(node.orelse, scope, depth))
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):  # a slice of a string is any piece of it
                return self.values(node.value, scope, depth) if depth else None
            return self.values(node.value, scope, depth + 1)
        if isinstance(node, ast.Name):
            return self._name_values(node, scope, depth)
        if depth == 0:
            return self._string_values(node, scope)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            out: list[str] | None = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    out = _union(out, self.values(elt.value, scope, depth))
                else:
                    out = _union(out, self.values(elt, scope, depth - 1))
            return out
        if isinstance(node, ast.Dict):
            out = []
            for part in (*node.keys, *node.values):
                out = _union(out, self.values(part, scope, depth - 1) if part is not None else None)
            return out
        if isinstance(node, (ast.Constant, ast.JoinedStr)):
            texts = self._string_values(node, scope)
            return None if texts is None else _union([], [ch for t in texts for ch in t] or [""])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _union(self.values(node.left, scope, depth), self.values(node.right, scope, depth))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return self.values(node.elt, self.binder.scopes.get(node, scope), depth - 1)
        if isinstance(node, ast.Call):
            return self._call_values(node, scope, depth)
        return None

    def _call_values(self, node: ast.Call, scope: Scope, depth: int) -> list[str] | None:
        """Elements (depth >= 1) of what a call builds from its arguments: range, numpy,
        list(x), zip, enumerate, and a dict's items(), keys() and values()."""
        func = node.func
        if is_builtin_call(node, "range", scope) or (self._numpy_call(node, scope)
                                                     and not self.numpy_text(node, scope)):
            return ["0"]
        builtin = func.id if isinstance(func, ast.Name) and lookup(func.id, scope) is None else ""
        if builtin in SAME_ELEMENTS and len(node.args) == 1:
            return self.values(node.args[0], scope, depth)
        if builtin in ("zip", "enumerate") and node.args and not node.keywords:
            if depth < 2:
                return None  # the tuples themselves are not strings
            out: list[str] | None = ["0"] if builtin == "enumerate" else []
            for arg in node.args:
                out = _union(out, self.values(arg, scope, depth - 1))
            return out
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not node.args:
            if func.attr == "items":  # (key, value) pairs
                return self.values(func.value, scope, depth - 1) if depth >= 2 else None
            return self.values(func.value, scope, depth)
        return None

    def _string_values(self, node: ast.AST, scope: Scope) -> list[str] | None:
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else ["0"]
        if isinstance(node, ast.JoinedStr):
            if not self.numeric_fields(node, scope):
                return None
            return ["".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "0"
                            for v in node.values)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            lefts, rights = self.values(node.left, scope), self.values(node.right, scope)
            if lefts is None or rights is None or len(lefts) * len(rights) > MAX_VALUES:
                return None
            return list(dict.fromkeys(a + b for a in lefts for b in rights))
        if is_builtin_call(node, "str", scope) and all(self.numeric(a, scope) for a in node.args):
            return ["0"]
        func = node.func if isinstance(node, ast.Call) else None
        receiver = func.value if isinstance(func, ast.Attribute) and func.attr == "format" else None
        if isinstance(node, ast.Call) and isinstance(receiver, ast.Constant) \
                and isinstance(receiver.value, str) and self.format_is_numeric(receiver, node, scope):
            fields = format_fields(receiver.value)
            return ["".join(text + ("0" if name is not None else "") for text, name, _, _ in fields or [])]
        return ["0"] if self.numeric(node, scope) else None

    def _name_values(self, node: ast.Name, scope: Scope, depth: int) -> list[str] | None:
        found = lookup(node.id, scope)
        if found is None:
            return ["0"] if self.numeric(node, scope) else None
        key = ("name", id(found[0]), node.id, depth)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a name defined through itself cannot be told
        out: list[str] | None = []
        for b in found[1]:
            out = _union(out, self._binding_values(b, depth))
            if out is None:
                break
        self._memo[key] = out
        return out

    def _binding_values(self, b: Binding, depth: int) -> list[str] | None:
        if b.kind == "numeric":
            return ["0"]
        if b.kind == "param":
            fn = b.function
            sites = self.sites.get(fn, []) if fn is not None else []
            if fn is None or fn in self.escaped or not sites:
                return None
            out: list[str] | None = []
            for call, scope in sites:
                arg = self._argument(call, fn, b.name)
                out = _union(out, None if arg is None else self.values(arg, scope, depth))
            return out
        if b.kind == "import":
            return ["0"] if self._binding_numeric(b) else None
        if b.expr is None or b.scope is None:
            return None
        if b.kind == "value":
            return self.values(b.expr, b.scope, depth)
        if b.kind == "element":
            return self.values(b.expr, b.scope, depth + b.depth)
        if b.kind == "member":
            return self.values(b.expr, b.scope, depth - 1) if depth else []
        return None
