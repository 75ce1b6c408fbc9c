"""Scopes of a custom-element snippet: every binding of every name, with Python's rules.

Each function, lambda and comprehension is a scope; parameters, assignments, loop
targets, imports and `def`s bind in the scope they stand in (a walrus binds in the
enclosing function). `lookup(name, scope)` finds the innermost scope binding a name, as
Python resolves it; a name bound nowhere is a global of the module (a builtin or a name
of `from manim import *`). Classes are refused by the checker, so there are no class
scopes to skip. Used by snippet_check and snippet_strings; runs no code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TypeGuard

from .snippet_allowlist import Allowlist

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
Comprehension = ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
Function = ast.FunctionDef | ast.Lambda  # the checker refuses `async def`
# Methods that put their argument into a local container.
CONTAINER_FILLERS = frozenset("append extend insert add update setdefault".split())


@dataclass(eq=False)
class Binding:
    """One way a name gets a value. `kind`:
    value    the name is `expr`;
    element  the name is an element of an element ... (`depth` times) of `expr`;
    member   `expr` was put into the container the name holds (`x.append(expr)`, `x[k] = expr`);
    numeric  surely a number (the index of `enumerate`);
    param    a parameter (`function`, `name`); function: a `def` (`function`);
    module   an import of a module (`path`); import: an imported member or manim name (`path`);
    other    anything else (an exception, a refused import, a deleted name)."""

    kind: str
    expr: ast.AST | None = None
    scope: Scope | None = None  # where `expr` is evaluated
    depth: int = 0
    path: str = ""
    function: Function | None = None
    name: str = ""


@dataclass(eq=False)
class Scope:
    node: ast.AST
    parent: Scope | None
    kind: str  # module, function or comprehension
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    star: bool = False  # `from manim import *` (module scope)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def function_scope(self) -> Scope:
        scope = self
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        return scope

    def root(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


def lookup(name: str, scope: Scope | None) -> tuple[Scope, list[Binding]] | None:
    """The innermost scope binding `name`, and its bindings; None for a global."""
    while scope is not None:
        if name in scope.bindings:
            return scope, scope.bindings[name]
        scope = scope.parent
    return None


def is_builtin_call(node: ast.AST, name: str, scope: Scope) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name \
        and lookup(name, scope) is None


def all_args(args: ast.arguments) -> list[ast.arg]:
    return [*args.posonlyargs, *args.args, *([args.vararg] if args.vararg else []), *args.kwonlyargs,
            *([args.kwarg] if args.kwarg else [])]


class Binder:
    """Walks a module once and records: the scope of each function, lambda and
    comprehension; every binding; each function's returned expressions; every call and
    every name read (with its scope), for the string analysis."""

    def __init__(self, allow: Allowlist) -> None:
        self.allow = allow
        self.scopes: dict[ast.AST, Scope] = {}
        self.returns: dict[ast.AST, list[tuple[ast.AST, Scope]]] = {}
        self.calls: list[tuple[ast.Call, Scope]] = []
        self.loads: list[tuple[ast.Name, Scope]] = []
        self.callees: set[int] = set()  # ids of the Name nodes called directly
        self._members: list[tuple[Scope, str, ast.AST, Scope]] = []

    def module(self, tree: ast.Module) -> Scope:
        scope = Scope(tree, None, "module")
        self.scopes[tree] = scope
        for stmt in tree.body:
            self.visit(stmt, scope)
        for where, name, expr, eval_scope in self._members:
            found = lookup(name, where)
            if found is not None and not any(b.kind in ("module", "import") for b in found[1]):
                found[0].bind(name, Binding("member", expr, eval_scope))
        return scope

    def visit(self, node: ast.AST, scope: Scope) -> None:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is not None:
            method(node, scope)
        else:
            for child in ast.iter_child_nodes(node):
                self.visit(child, scope)

    # ------------------------------------------------------------ functions

    def _function(self, node: Function, scope: Scope) -> None:
        args = node.args
        for expr in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            self.visit(expr, scope)
        if isinstance(node, ast.FunctionDef):
            for expr in (*node.decorator_list, *(a.annotation for a in all_args(args) if a.annotation),
                         *([node.returns] if node.returns else [])):
                self.visit(expr, scope)
        inner = Scope(node, scope, "function")
        self.scopes[node] = inner
        self.returns.setdefault(node, [])
        for arg in all_args(args):
            inner.bind(arg.arg, Binding("param", function=node, name=arg.arg))
        if isinstance(node, ast.Lambda):
            self.returns[node].append((node.body, inner))
            self.visit(node.body, inner)
        else:
            for stmt in node.body:
                self.visit(stmt, inner)

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        scope.bind(node.name, Binding("function", function=node))
        self._function(node, scope)

    def visit_Lambda(self, node: ast.Lambda, scope: Scope) -> None:
        self._function(node, scope)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, scope: Scope) -> None:
        scope.bind(node.name, Binding("other"))  # refused by the checker

    def visit_ClassDef(self, node: ast.ClassDef, scope: Scope) -> None:
        scope.bind(node.name, Binding("other"))  # refused by the checker

    def visit_Return(self, node: ast.Return, scope: Scope) -> None:
        if node.value is not None:
            self.returns.setdefault(scope.function_scope().node, []).append((node.value, scope))
            self.visit(node.value, scope)

    def _comprehension(self, node: Comprehension, scope: Scope) -> None:
        inner = Scope(node, scope, "comprehension")
        self.scopes[node] = inner
        for i, gen in enumerate(node.generators):
            where = scope if i == 0 else inner  # the first iterable is read outside
            self.visit(gen.iter, where)
            self._target(gen.target, gen.iter, inner, where, depth=1)
            for cond in gen.ifs:
                self.visit(cond, inner)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part), inner)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    # ------------------------------------------------------------ bindings

    def visit_Assign(self, node: ast.Assign, scope: Scope) -> None:
        self.visit(node.value, scope)
        for target in node.targets:
            self._target(target, node.value, scope, scope)

    def visit_AnnAssign(self, node: ast.AnnAssign, scope: Scope) -> None:
        self.visit(node.annotation, scope)
        if node.value is not None:
            self.visit(node.value, scope)
            self._target(node.target, node.value, scope, scope)
        elif isinstance(node.target, ast.Name):
            scope.bind(node.target.id, Binding("other"))
        else:
            self.visit(node.target, scope)

    def visit_AugAssign(self, node: ast.AugAssign, scope: Scope) -> None:
        self.visit(node.value, scope)
        self.visit(node.target, scope)
        if isinstance(node.target, ast.Name):
            read = ast.copy_location(ast.Name(node.target.id, ast.Load()), node.target)
            combined = ast.copy_location(ast.BinOp(read, node.op, node.value), node)
            scope.bind(node.target.id, Binding("value", combined, scope))
        elif isinstance(node.target, ast.Subscript) and isinstance(node.target.value, ast.Name):
            self._members.append((scope, node.target.value.id, node.value, scope))

    def visit_NamedExpr(self, node: ast.NamedExpr, scope: Scope) -> None:
        self.visit(node.value, scope)
        scope.function_scope().bind(node.target.id, Binding("value", node.value, scope))

    def visit_For(self, node: ast.For, scope: Scope) -> None:
        self.visit(node.iter, scope)
        self._target(node.target, node.iter, scope, scope, depth=1)
        for stmt in (*node.body, *node.orelse):
            self.visit(stmt, scope)

    def visit_ExceptHandler(self, node: ast.ExceptHandler, scope: Scope) -> None:
        if node.type is not None:
            self.visit(node.type, scope)
        if node.name:
            scope.bind(node.name, Binding("other"))
        for stmt in node.body:
            self.visit(stmt, scope)

    def visit_Delete(self, node: ast.Delete, scope: Scope) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                scope.bind(target.id, Binding("other"))
            else:
                self.visit(target, scope)

    def visit_Import(self, node: ast.Import, scope: Scope) -> None:
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            path = alias.name if alias.asname else name
            kind = "module" if alias.name in self.allow.modules else "other"
            scope.bind(name, Binding(kind, path=path))

    def visit_ImportFrom(self, node: ast.ImportFrom, scope: Scope) -> None:
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                scope.star = scope.star or (module == "manim" and not node.level)
                continue
            name = alias.asname or alias.name
            if node.level:
                scope.bind(name, Binding("other"))
            elif module == "manim" and alias.name in self.allow.star_modules:
                scope.bind(name, Binding("module", path=self.allow.star_modules[alias.name]))
            elif module == "manim":
                scope.bind(name, Binding("import", path=alias.name))
            elif f"{module}.{alias.name}" in self.allow.modules:
                scope.bind(name, Binding("module", path=f"{module}.{alias.name}"))
            else:
                scope.bind(name, Binding("import", path=f"{module}.{alias.name}"))

    def _target(self, target: ast.AST, value: ast.AST, scope: Scope, eval_scope: Scope,
                depth: int = 0) -> None:
        if isinstance(target, ast.Name):
            kind = "element" if depth else "value"
            scope.bind(target.id, Binding(kind, value, eval_scope, depth))
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if depth == 1 and is_builtin_call(value, "enumerate", eval_scope) and len(elts) == 2 \
                    and value.args and isinstance(elts[0], ast.Name):
                scope.bind(elts[0].id, Binding("numeric"))
                self._target(elts[1], value.args[0], scope, eval_scope, 1)
                return
            if depth == 1 and is_builtin_call(value, "zip", eval_scope) \
                    and len(value.args) == len(elts) and not value.keywords \
                    and not any(isinstance(e, ast.Starred) for e in (*value.args, *elts)):
                for elt, arg in zip(elts, value.args, strict=True):
                    self._target(elt, arg, scope, eval_scope, 1)
                return
            # `a, b = x, y`: each name gets its own value (None: the values are not spelled out)
            exact = value.elts if depth == 0 and isinstance(value, (ast.Tuple, ast.List)) \
                and len(value.elts) == len(elts) \
                and not any(isinstance(e, ast.Starred) for e in (*value.elts, *elts)) else None
            for i, elt in enumerate(elts):
                if exact is not None:
                    self._target(elt, exact[i], scope, eval_scope)
                elif isinstance(elt, ast.Starred):  # a list of the elements: like the sequence
                    self._target(elt.value, value, scope, eval_scope, depth)
                else:
                    self._target(elt, value, scope, eval_scope, depth + 1)
        elif isinstance(target, ast.Starred):
            self._target(target.value, value, scope, eval_scope, depth)
        elif isinstance(target, ast.Subscript):
            self.visit(target, scope)
            if isinstance(target.value, ast.Name) and depth == 0:
                self._members.append((scope, target.value.id, value, eval_scope))
                self._members.append((scope, target.value.id, target.slice, scope))
        else:
            self.visit(target, scope)

    # ------------------------------------------------------------ uses

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        self.calls.append((node, scope))
        func = node.func
        if isinstance(func, ast.Name):
            self.callees.add(id(func))
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.attr in CONTAINER_FILLERS:
            for arg in (*node.args, *(k.value for k in node.keywords)):
                self._members.append((scope, func.value.id, arg, scope))
        for child in ast.iter_child_nodes(node):
            self.visit(child, scope)

    def visit_Name(self, node: ast.Name, scope: Scope) -> None:
        if isinstance(node.ctx, ast.Load):
            self.loads.append((node, scope))
