"""The static check of custom-element code: an allowlist, read with `ast`, never run.

Custom elements are drawn by snippets the Coder (a model) writes, `def build(box): ...
return mobject, [animations]`, stored in NAME.lecture.lock. A shared lesson repository
can hold any code there, so `lecture lock` checks each answer and the render checks every
lock entry again. `check_code(code)` returns one CodeProblem (line, column, a reason the
model can act on) per refusal; [] means the code may run (in the sandbox, with limits).

What is allowed (everything else is refused, with the reason):
- Structure: imports, an optional docstring and exactly one `def build(box):` at the top
  level. Helpers are functions or lambdas inside it, without decorators or default
  arguments. No classes (a class body runs at definition, and anything useful in one
  needs dunder methods and `super()`), no `global`/`nonlocal`, `with`, generators,
  async, `match`, bare `except:`.
- Imports: `from manim import *` or allowed names, `import numpy [as np]`, `import
  numpy.linalg`/`numpy.random` `as ...`, `import math`, `from numpy|numpy.linalg|
  numpy.random|math import NAME`. Aliases are tracked; a module is usable only as
  `alias.member`, never as a value.
- Names, resolved with Python's scoping (each function, lambda and comprehension has its
  own scope; parameters and assignments are local to it): a local of an enclosing
  function, else an import, else one of a few builtins (BUILTINS), else an allowed name
  of `from manim import *` (snippet_allowlist.json, derived from the installed Manim).
  A local may shadow anything, since the only globals reachable are allowed ones.
- Attributes: `module.member` paths exactly as listed; on any other value, only the
  public names of the allowed Manim classes, ndarray and a few list/dict/str methods,
  never private or dunder names nor doors to files, renderers or global state.
  Assignments may not change Manim's or numpy's classes, constants and modules.
- Strings: every string literal (and each literal part of an f-string) is checked with
  the lesson math rules (compiler/tex_safety: no `\\input`, `\\def`, `^^`, ...), and may
  not name a dunder or a file-reading keyword (`background_image`, ...). TeX may not be
  assembled at run time (snippet_strings): a string built by `+`, `%`, `.join`, `.format`,
  `.replace`, `.split`, `str()`, a slice of a literal, numpy on strings, or an f-string
  with a field that is not a number, is "computed"; a computed string may be passed only
  to Text, MarkupText and Paragraph (Pango, not TeX), to str/list helpers, or to the
  snippet's own functions (whose parameters become computed too). The arguments of the
  TeX classes (Tex, MathTex, ..., which join their strings) and of Brace.get_text/get_tex
  must be literals, f-strings of numbers, or local names and helper parameters bound only
  to those; two pieces may not meet in the middle of a command (`"\\in" + "put"`), and a
  TeX class may only be called, never passed around. `tex_environment` is one of a few.
- Size: at most MAX_CODE_CHARS characters.

What this check cannot see (strings read back from Manim objects and re-joined through
an unknown callable) is covered by the run-time confinement of TeX and of the sandbox.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from dataclasses import dataclass

from lecture.compiler.tex_safety import ALLOWED_ENVIRONMENTS, tex_problems

from .atomic import write_atomically
from .snippet_allowlist import ALLOWLIST_FILE, Allowlist, generate, load_allowlist, to_text
from .snippet_scopes import CONTAINER_FILLERS, Binder, Comprehension, Scope, all_args, lookup
from .snippet_strings import (
    FUNCTION_NAME,
    STRING_BUILDERS,
    StringFlow,
    bad_join,
    format_fields,
    spec_text,
)

BUILTINS = frozenset("""abs all any bool complex dict divmod enumerate filter float frozenset int
isinstance iter len list map max min next pow range reversed round set slice sorted str sum tuple
zip""".split())
EXCEPTIONS = frozenset("""ArithmeticError AssertionError Exception IndexError KeyError LookupError
OverflowError RuntimeError StopIteration TypeError ValueError ZeroDivisionError""".split())
# Builtins that call a function they are given on the other arguments.
CALLING_BUILTINS = frozenset("filter map max min sorted".split())
ATTRIBUTE_FUNCTIONS = frozenset("getattr setattr delattr hasattr vars dir".split())
# Methods passing several strings to one TeX class (manim/mobject/svg/brace.py):
# name -> (separator, index of the first string argument).
JOIN_METHODS = {"get_text": ("", 0), "get_tex": (" ", 0), "change_label": ("", 0),
                "change_brace_label": ("", 1)}
# Classes whose `text` argument, when a list, is joined by their label constructor.
LABEL_CLASSES = frozenset({"BraceLabel", "BraceText"})
ALLOWED_IMPORTS = ("manim", "numpy", "numpy.linalg", "numpy.random", "math")
MAX_CODE_CHARS = 50_000  # a custom element's code is a few dozen lines; this bounds the check's time
# What `tex_environment=` may name: the lesson math environments and Manim's usual ones
# (the name is pasted into \begin{...}).
TEX_ENVIRONMENTS = ALLOWED_ENVIRONMENTS | frozenset(
    "align align* center flushleft flushright equation equation* gather gather* multline multline*".split())

_DUNDER = re.compile(r"__\w+__")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z%]")


@dataclass(frozen=True)
class CodeProblem:
    line: int
    column: int
    message: str

    def render(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def check_code(code: str) -> list[CodeProblem]:
    """Why this code may not be run ([] when it may): see the module's docstring."""
    if len(code) > MAX_CODE_CHARS:
        return [CodeProblem(0, 0, f"the code is {len(code):,} characters long; custom code may have at most "
                                  f"{MAX_CODE_CHARS:,}: keep the element simple")]
    try:
        tree = ast.parse(code, "<custom>")
    except SyntaxError as exc:
        return [CodeProblem(exc.lineno or 0, exc.offset or 0, f"syntax error: {exc.msg}")]
    except (RecursionError, MemoryError):
        return [CodeProblem(0, 0, "the code is nested too deeply to be read; write it flatter")]
    except ValueError as exc:
        return [CodeProblem(0, 0, f"the code cannot be read: {exc}")]
    checker = _Checker(tree, load_allowlist())
    try:
        checker.run()
    except RecursionError:
        return [CodeProblem(0, 0, "the code is nested too deeply to be checked; write it flatter")]
    problems = sorted(set(checker.problems), key=lambda p: (p.line, p.column, p.message))
    return problems


# ---------------------------------------------------------------- the checker

_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.Return, ast.Delete, ast.Assign, ast.AugAssign, ast.AnnAssign,
    ast.For, ast.While, ast.If, ast.Raise, ast.Try, ast.Assert, ast.Import, ast.ImportFrom, ast.Expr,
    ast.Pass, ast.Break, ast.Continue, ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.Lambda,
    ast.IfExp, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.Compare, ast.Call, ast.FormattedValue, ast.JoinedStr, ast.Constant, ast.Attribute,
    ast.Subscript, ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice, ast.comprehension,
    ast.arguments, ast.arg, ast.keyword, ast.alias, ast.ExceptHandler, ast.expr_context, ast.operator,
    ast.unaryop, ast.cmpop, ast.boolop,
)
_REFUSED_NODES = {
    "ClassDef": "class definitions are not allowed; write helper functions inside build",
    "AsyncFunctionDef": "async code is not allowed", "Await": "async code is not allowed",
    "AsyncFor": "async code is not allowed", "AsyncWith": "async code is not allowed",
    "With": "`with` statements are not allowed",
    "Global": "`global` is not allowed", "Nonlocal": "`nonlocal` is not allowed",
    "Yield": "generators (`yield`) are not allowed; build and return a list",
    "YieldFrom": "generators (`yield`) are not allowed; build and return a list",
    "Match": "`match` statements are not allowed; use if/elif",
    "TryStar": "`except*` is not allowed",
}


class _Checker:
    def __init__(self, tree: ast.Module, allow: Allowlist) -> None:
        self.tree = tree
        self.allow = allow
        self.problems: list[CodeProblem] = []
        self.binder = Binder(allow)
        self.flow = StringFlow(self.binder, allow)
        self.docstrings: set[int] = set()
        self.chain_roots: set[int] = set()  # Names checked as the root of a module path
        self.parents: dict[int, ast.AST] = {}
        self.strict_args: set[int] = set()  # TeX arguments already refused as not literal
        self.kinds: dict[tuple[int, str], frozenset[str]] = {}

    def bad(self, node: ast.AST | None, message: str) -> None:
        line = getattr(node, "lineno", 0) if node is not None else 0
        col = getattr(node, "col_offset", -1) + 1 if node is not None else 0
        self.problems.append(CodeProblem(line, col, message))

    def run(self) -> None:
        self._structure()
        module_scope = self.binder.module(self.tree)
        self.flow.solve()
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
            body = node.body if isinstance(node, (ast.Module, ast.FunctionDef)) else None
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                self.docstrings.add(id(body[0].value))  # never TeX: not checked as such
        self.visit(self.tree, module_scope)

    # ------------------------------------------------------------ structure

    def _structure(self) -> None:
        functions: list[ast.FunctionDef] = []
        for i, node in enumerate(self.tree.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                continue
            if isinstance(node, ast.FunctionDef):
                functions.append(node)
                continue
            self.bad(node, f"only imports and one function `def {FUNCTION_NAME}(box):` may stand at the top "
                           f"level; put this {type(node).__name__.lower()} statement inside {FUNCTION_NAME}")
        if not functions:
            self.bad(None, f"the code must define one top-level function `def {FUNCTION_NAME}(box):` "
                           "returning (mobject, animations)")
        builds = [f for f in functions if f.name == FUNCTION_NAME]
        for fn in functions:
            if fn.name != FUNCTION_NAME:
                self.bad(fn, f"the top-level function must be called `{FUNCTION_NAME}`, not `{fn.name}`; "
                             f"define helpers inside {FUNCTION_NAME}")
            elif fn is not builds[-1]:
                self.bad(fn, f"`{FUNCTION_NAME}` is defined twice")
            args = fn.args
            if fn.name == FUNCTION_NAME and (len(args.posonlyargs) + len(args.args) != 1 or args.vararg
                                             or args.kwarg or args.kwonlyargs or args.defaults):
                self.bad(fn, f"the signature must be exactly `def {FUNCTION_NAME}(box):`")

    # ------------------------------------------------------------ walking

    def visit(self, node: ast.AST, scope: Scope) -> None:
        name = type(node).__name__
        if name in _REFUSED_NODES:
            self.bad(node, _REFUSED_NODES[name])
            return
        if not isinstance(node, _ALLOWED_NODES):
            self.bad(node, f"this Python construct ({name}) is not allowed in custom code")
            return
        method = getattr(self, "visit_" + name, None)
        if method is not None:
            method(node, scope)
        else:
            self.children(node, scope)

    def children(self, node: ast.AST, scope: Scope) -> None:
        for child in ast.iter_child_nodes(node):
            self.visit(child, scope)

    def visit_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        self._dunder_name(node, node.name)
        if node.decorator_list:
            self.bad(node.decorator_list[0], "decorators are not allowed")
        self._arguments(node, node.args, scope)
        if node.returns is not None:
            self.visit(node.returns, scope)
        inner = self.binder.scopes[node]
        for stmt in node.body:
            self.visit(stmt, inner)

    def visit_Lambda(self, node: ast.Lambda, scope: Scope) -> None:
        self._arguments(node, node.args, scope)
        self.visit(node.body, self.binder.scopes[node])

    def _arguments(self, fn: ast.AST, args: ast.arguments, scope: Scope) -> None:
        if args.defaults or any(d is not None for d in args.kw_defaults):
            what = "lambda" if isinstance(fn, ast.Lambda) else "function"
            self.bad(fn, f"default argument values are not allowed (in this {what}); pass every value "
                         "explicitly, or make a helper that takes it")
        for arg in all_args(args):
            self._dunder_name(arg, arg.arg)
            if arg.annotation is not None:
                self.visit(arg.annotation, scope)

    def _comprehension(self, node: Comprehension, scope: Scope) -> None:
        inner = self.binder.scopes[node]
        for i, gen in enumerate(node.generators):
            if gen.is_async:
                self.bad(gen.iter, "async code is not allowed")
            self.visit(gen.iter, scope if i == 0 else inner)
            self.visit(gen.target, inner)
            for cond in gen.ifs:
                self.visit(cond, inner)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part), inner)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_ExceptHandler(self, node: ast.ExceptHandler, scope: Scope) -> None:
        if node.type is None:
            self.bad(node, "a bare `except:` is not allowed; name the exception (`except ValueError:`)")
        if node.name:
            self._dunder_name(node, node.name)
        self.children(node, scope)

    def visit_Delete(self, node: ast.Delete, scope: Scope) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                self.bad(target, "deleting attributes is not allowed")
        self.children(node, scope)

    # ------------------------------------------------------------ imports

    def visit_Import(self, node: ast.Import, scope: Scope) -> None:
        for alias in node.names:
            if alias.name not in self.allow.modules or alias.name.startswith("manim"):
                self.bad(node, f"`import {alias.name}` is not allowed; only `from manim import *` (or "
                               "names), `import numpy as np` and `import math` may be imported")
            elif alias.asname is None and "." in alias.name:
                self.bad(node, f"write `import {alias.name} as {alias.name.rsplit('.', 1)[1]}` "
                               f"(or use `{alias.name}` through `import numpy as np`)")
            self._dunder_name(node, alias.asname or "")

    def visit_ImportFrom(self, node: ast.ImportFrom, scope: Scope) -> None:
        module = node.module or ""
        if node.level or (module != "manim" and module not in self.allow.modules) \
                or module.startswith("manim."):
            self.bad(node, f"`from {'.' * node.level}{module} import ...` is not allowed; only manim, numpy "
                           "(and numpy.linalg, numpy.random) and math may be imported")
            return
        for alias in node.names:
            self._dunder_name(node, alias.asname or "")
            if alias.name == "*":
                if module != "manim":
                    self.bad(node, f"`from {module} import *` is not allowed; import the names you use")
                elif scope.kind != "module":
                    self.bad(node, "`from manim import *` must stand at the top of the code")
            elif module == "manim":
                if alias.name not in self.allow.manim_names and alias.name not in self.allow.star_modules:
                    self.bad(node, self._manim_refusal(alias.name))
            elif f"{module}.{alias.name}" not in self.allow.modules \
                    and alias.name not in self.allow.modules[module]:
                self.bad(node, f"`{module}.{alias.name}` is not in the allowed API of {module}"
                               + self._module_hint(module))

    # ------------------------------------------------------------ names

    def visit_Name(self, node: ast.Name, scope: Scope) -> None:
        self._dunder_name(node, node.id)
        if not isinstance(node.ctx, ast.Load) or _DUNDER.fullmatch(node.id):
            return
        found = lookup(node.id, scope)
        if found is not None:
            kinds = self._kinds(found[0], node.id)
            if kinds == {"import"} and found[1][0].path in self.allow.tex_classes:
                self._joiner_called(node, node.id)
            if "module" in kinds and kinds != {"module"}:
                self.bad(node, f"`{node.id}` is both a module and a variable here; give the variable "
                               "another name")
            elif "module" in kinds and id(node) not in self.chain_roots:
                self.bad(node, self._module_as_value(node.id))
            return
        if self.flow.module_alias(node.id, scope) is not None:
            if id(node) not in self.chain_roots:
                self.bad(node, self._module_as_value(node.id))
            return
        if node.id in BUILTINS or node.id in EXCEPTIONS:
            return
        if scope.root().star and node.id in self.allow.manim_names:
            if node.id in self.allow.tex_classes:
                self._joiner_called(node, node.id)
            return
        self.bad(node, self._name_refusal(node.id))

    def _kinds(self, scope: Scope, name: str) -> frozenset[str]:
        key = (id(scope), name)
        if key not in self.kinds:
            self.kinds[key] = frozenset(b.kind for b in scope.bindings[name])
        return self.kinds[key]

    def _joiner_called(self, node: ast.AST, name: str) -> None:
        """A TeX class (or Brace.get_text...) joins the strings it is given; it is checked
        where it is called, so it may only be called, or handed to Manim as the constructor
        of single labels."""
        parent = self.parents.get(id(node))
        if isinstance(parent, ast.Call) and parent.func is node:
            return
        if isinstance(parent, ast.keyword) and parent.arg in ("label_constructor", "element_to_mobject"):
            return
        self.bad(node, f"`{name}` may only be called (`{name}(...)`), not passed around or renamed, so that "
                       "the TeX it is given can be checked; use a list comprehension instead of map")

    def _name_refusal(self, name: str) -> str:
        if name in self.allow.manim_refused:
            return self._manim_refusal(name)
        if name in self.allow.manim_names:
            return f"`{name}` is not defined: add `from manim import *` at the top"
        if name in ATTRIBUTE_FUNCTIONS:
            return f"`{name}` is not allowed: write attributes directly (`obj.name`)"
        if hasattr(builtins, name):
            return (f"`{name}` is not allowed: custom code may not reach files, the interpreter or the "
                    "network; the builtins it may use are " + ", ".join(sorted(BUILTINS)))
        if name in ("self", "scene"):
            return f"`{name}` is not defined: build(box) only builds and returns, it never touches the scene"
        if name in sys.stdlib_module_names or name in ("np", "numpy", "manim"):
            return (f"`{name}` is not allowed: only `from manim import *`, `import numpy as np` and "
                    "`import math` may be used")
        return (f"`{name}` is not defined here, or not in the allowed API (Manim's mobjects, animations, "
                "constants and helpers, numpy, math and a few builtins)")

    def _manim_refusal(self, name: str) -> str:
        return (f"`{name}` is not allowed in custom code: from manim only mobjects, animations, constants, "
                "colours, rate functions and pure helpers may be used (nothing that reads files, runs "
                "programs or changes Manim's configuration)")

    def _module_as_value(self, name: str) -> str:
        return f"`{name}` is a module: use its functions (`{name}.sqrt(2)`), not the module itself"

    def _module_hint(self, module: str) -> str:
        if module.startswith("numpy"):
            return ": numpy's maths only (array construction, ufuncs like np.sin, linspace, linalg.norm, " \
                   "random.default_rng, ...), nothing that reads, writes or reaches numpy's internals"
        if module == "math":
            return ": math's functions and constants"
        return ""

    def _dunder_name(self, node: ast.AST, name: str) -> None:
        if _DUNDER.fullmatch(name or ""):
            self.bad(node, f"`{name}` is not allowed: no dunder names")

    # ------------------------------------------------------------ attributes

    def visit_Attribute(self, node: ast.Attribute, scope: Scope) -> None:
        chain: list[ast.Attribute] = []
        root: ast.AST = node
        while isinstance(root, ast.Attribute):
            chain.append(root)
            root = root.value
        chain.reverse()  # innermost first
        alias = self.flow.module_alias(root.id, scope) if isinstance(root, ast.Name) else None
        if alias is None:
            self.visit(root, scope)
            for attr in chain:
                self._value_attribute(attr, root, scope)
            return
        self.chain_roots.add(id(root))
        self.visit(root, scope)
        path = alias
        rest = chain
        for i, attr in enumerate(chain):
            if f"{path}.{attr.attr}" in self.allow.modules:
                path = f"{path}.{attr.attr}"
                continue
            if attr.attr in self.allow.modules.get(path, frozenset()) and not attr.attr.startswith("_"):
                rest = chain[i + 1:]
                if not rest and not isinstance(node.ctx, ast.Load):
                    self.bad(attr, f"`{_dotted(attr)}` may not be changed: custom code may not alter numpy, "
                                   "math or Manim")
                break
            self.bad(attr, f"`{_dotted(attr)}` is not in the allowed API of {path}" + self._module_hint(path))
            return
        else:
            self.bad(node, self._module_as_value(_dotted(node)))
            return
        for attr in rest:
            self._value_attribute(attr, root, scope)

    def _value_attribute(self, attr: ast.Attribute, root: ast.AST, scope: Scope) -> None:
        name = attr.attr
        if name.startswith("_"):
            what = "dunder" if _DUNDER.fullmatch(name) else "private"
            self.bad(attr, f"`{name}` is not allowed: no {what} attributes")
            return
        if name == "format":
            if not (isinstance(attr.value, ast.Constant) and isinstance(attr.value.value, str)):
                self.bad(attr, "`.format` is allowed only on a string literal; use an f-string")
            return
        if name not in self.allow.value_attributes:
            self.bad(attr, f"attribute `.{name}` is not in the allowed API of Manim/numpy "
                           "(public methods and attributes of mobjects, animations, arrays and the box)")
            return
        if name in JOIN_METHODS:
            self._joiner_called(attr, "." + name)
        if not isinstance(attr.ctx, ast.Load) and self._global_root(root, scope):
            self.bad(attr, f"`{_dotted(attr)}` may not be changed: custom code may not alter Manim's or "
                           "numpy's classes, constants or functions; change a copy")

    def _global_root(self, root: ast.AST, scope: Scope) -> bool:
        if not isinstance(root, ast.Name):
            return False
        found = lookup(root.id, scope)
        return found is None or all(b.kind in ("import", "module") for b in found[1])

    def visit_Subscript(self, node: ast.Subscript, scope: Scope) -> None:
        if not isinstance(node.ctx, ast.Load):
            root: ast.AST = node
            while isinstance(root, (ast.Subscript, ast.Attribute)):
                root = root.value
            if self._global_root(root, scope):
                self.bad(node, "custom code may not change Manim's or numpy's constants; change a copy "
                               "(`p = UP.copy()`)")
        self.children(node, scope)

    def visit_Assign(self, node: ast.Assign, scope: Scope) -> None:
        self._computed_stores(node.targets, node.value, scope)
        self.children(node, scope)

    def visit_AugAssign(self, node: ast.AugAssign, scope: Scope) -> None:
        self._computed_stores([node.target], node.value, scope)
        self.children(node, scope)

    def visit_AnnAssign(self, node: ast.AnnAssign, scope: Scope) -> None:
        if node.value is not None:
            self._computed_stores([node.target], node.value, scope)
        self.children(node, scope)

    def _computed_stores(self, targets: list[ast.expr], value: ast.expr, scope: Scope) -> None:
        """A computed string may go into a local name or a local container (which then
        counts as computed), never into an attribute or an object reached through one."""
        if not self.flow.is_computed(value, scope):
            return
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store):
                    self.bad(sub, self._computed_message(f"stored in `.{sub.attr}`"))
                elif isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store) \
                        and not isinstance(sub.value, ast.Name):
                    self.bad(sub, self._computed_message("stored into this object"))

    # ------------------------------------------------------------ calls

    def visit_Call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_FUNCTIONS and lookup(func.id, scope) is None:
            name = node.args[1] if len(node.args) > 1 else None
            shown = f"{func.id}(..., {name.value!r})" if isinstance(name, ast.Constant) else func.id
            self.bad(node, f"`{shown}` is not allowed: write attributes directly (`obj.name`), and only the "
                           "allowed API of Manim, numpy and math may be used")
            for arg in (*node.args, *node.keywords):
                self.visit(arg, scope)
            return
        for kw in node.keywords:  # `mob.set(file_name=...)` sets any attribute: keywords count
            if kw.arg in self.allow.denied_keywords:
                self.bad(kw, f"the keyword `{kw.arg}` is not allowed: it makes Manim read a file")
            elif kw.arg == "tex_environment" and not (isinstance(kw.value, ast.Constant) and (
                    kw.value.value is None or kw.value.value in TEX_ENVIRONMENTS)):
                self.bad(kw, "`tex_environment` must be one of " + ", ".join(
                    repr(e) for e in sorted(TEX_ENVIRONMENTS)) + " (written literally)")
            elif kw.arg is not None:
                self._dunder_name(kw, kw.arg)
        if isinstance(func, ast.Attribute) and func.attr == "format":
            self._format_call(func, node)
        self._tex_joins(node, scope)
        self._computed_arguments(node, scope)
        self.children(node, scope)

    def _format_call(self, func: ast.Attribute, node: ast.Call) -> None:
        if not (isinstance(func.value, ast.Constant) and isinstance(func.value.value, str)):
            return  # refused as an attribute
        fields = format_fields(func.value.value)
        if fields is None:
            self.bad(node, "this format string is malformed")
            return
        for literal, name, _spec, conv in fields:
            if name is None:
                continue
            if any(c in name for c in ".[") or conv in ("r", "a"):
                self.bad(node, "format fields may only be plain `{}` or `{:.2f}`; use an f-string")
            reason = bad_join(literal, "a")
            if reason:
                self.bad(node, f"the format string piece {literal[-20:]!r} {reason}; TeX commands may not be "
                               "assembled from pieces: write the whole TeX literally")

    def _callee_names(self, func: ast.AST, scope: Scope, depth: int = 0) -> set[str]:
        """The Manim names a callee may be (following local aliases); "?" when unknown."""
        if depth > 8:
            return {"?"}
        if isinstance(func, ast.Name):
            found = lookup(func.id, scope)
            if found is None:
                return {func.id}
            out: set[str] = set()
            for b in found[1]:
                if b.kind == "import":
                    out.add(b.path)
                elif b.kind == "value" and b.expr is not None and b.scope is not None:
                    out |= self._callee_names(b.expr, b.scope, depth + 1)
                elif b.kind == "function":
                    out.add("<local>")
                else:
                    out.add("?")
            return out
        if isinstance(func, ast.Attribute):
            return {"." + func.attr}
        if isinstance(func, ast.Lambda):
            return {"<local>"}
        return {"?"}

    def _tex_joins(self, node: ast.Call, scope: Scope) -> None:
        """TeX classes join their string arguments into one formula: each must be written
        out, and no two may meet in the middle of a command."""
        callees = self._callee_names(node.func, scope)
        if callees == {"<local>"} or callees <= self.allow.pango_classes:
            return
        tex = sorted(c for c in callees if c in self.allow.tex_classes)
        joins = sorted(c for c in callees if c.lstrip(".") in JOIN_METHODS and c.startswith("."))
        pieces: list[ast.AST] = list(node.args)
        sep = ""
        strict = bool(tex or joins)
        if tex:
            sep = min((self.allow.tex_classes[c] for c in tex), key=len)
            for kw in node.keywords:
                if kw.arg is None:
                    self.bad(kw, f"`**` arguments are not allowed in a call of {tex[0]}; write the keywords "
                                 "out")
                elif kw.arg == "arg_separator":
                    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        sep = kw.value.value
                    else:
                        self.bad(kw, "`arg_separator` must be a string literal")
        elif joins:
            sep, first = JOIN_METHODS[joins[0].lstrip(".")]
            pieces = pieces[first:]
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant) \
                and isinstance(func.value.value, str) and len(node.args) == 1 \
                and isinstance(node.args[0], (ast.List, ast.Tuple)):
            pieces, sep = list(node.args[0].elts), func.value.value
        label = callees & LABEL_CLASSES
        if label:  # a list `text` goes to the label constructor as its arguments
            text = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "text"), None)
            if text is not None and self.flow.values(text, scope) is None:
                pieces, strict = [ast.copy_location(ast.Starred(text, ast.Load()), text)], True
        name = (tex + [j.lstrip(".") for j in joins] + sorted(label) + ["this call"])[0]
        slots: list[list[str] | None] = []
        for piece in pieces:
            if isinstance(piece, ast.Starred):
                values = self.flow.values(piece.value, scope, 1)
                if values is None and strict:
                    self.strict_args.add(id(piece))
                    self.bad(piece, f"`*` arguments of {name} must be a list of string literals written in "
                                    "the code, so that the TeX can be checked")
                slots += [values, values]  # its items meet each other too
            else:
                values = self.flow.values(piece, scope)
                if values is None and strict:
                    self.strict_args.add(id(piece))
                    self.bad(piece, f"the TeX given to {name} must be written literally: a string literal, "
                                    "an f-string of numbers (f\"{x:.2f}\"), or a name bound only to those; "
                                    "this argument is computed when the code runs")
                elif strict and not isinstance(piece, ast.Constant):
                    self._resolved_tex(piece, name, values or [])
                slots.append(values)
        for left, right in zip(slots, slots[1:], strict=False):
            if left is None or right is None:
                continue
            for a in left:
                for b in right:
                    reason = bad_join(a + sep, b)
                    if reason:
                        self.bad(node, f"in {name}, the piece {a[-20:]!r} {reason} ({b[:20]!r}); TeX "
                                       "commands may not be assembled from pieces: end the piece with a "
                                       "space or {} (r\"\\alpha{}\")")
                        return

    def _resolved_tex(self, piece: ast.AST, name: str, values: list[str]) -> None:
        """A name or helper parameter standing for literals: what it may be is TeX too."""
        for value in values:
            for p in tex_problems(value):
                self.bad(piece, f"the TeX given to {name} may be {_shown(value)}: {p.message}")
                return

    def _computed_arguments(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        if self.flow.local_functions(func, scope):
            return  # their parameters become computed instead
        if isinstance(func, ast.Name) and lookup(func.id, scope) is None:
            if func.id in self.allow.pango_classes:
                return
            if func.id in BUILTINS:
                if func.id in CALLING_BUILTINS and self._any_computed(node, scope):
                    for arg in (*node.args, *(k.value for k in node.keywords)):
                        if not (self.flow.is_computed(arg, scope) or self.flow.local_functions(arg, scope)
                                or (isinstance(arg, ast.Name) and arg.id in BUILTINS)):
                            self.bad(arg, self._computed_message(f"handed by `{func.id}` to this function"))
                            return
                return
        if isinstance(func, ast.Name):
            found = lookup(func.id, scope)
            if found is not None and all(b.kind == "import" and b.path in self.allow.pango_classes
                                         for b in found[1]):
                return
        if isinstance(func, ast.Attribute):
            if func.attr in STRING_BUILDERS | {"split", "strip", "startswith", "endswith", "count", "index"}:
                return
            if func.attr in CONTAINER_FILLERS and isinstance(func.value, ast.Name) \
                    and not self._global_root(func.value, scope):
                return  # the container becomes computed
        shown = _dotted(func) if isinstance(func, (ast.Name, ast.Attribute)) else "this function"
        for given in (*node.args, *node.keywords):
            value = given.value if isinstance(given, (ast.keyword, ast.Starred)) else given
            if id(given) not in self.strict_args and self.flow.is_computed(value, scope):
                self.bad(given, self._computed_message(f"passed to `{shown}`"))

    def _any_computed(self, node: ast.Call, scope: Scope) -> bool:
        return any(self.flow.is_computed(a, scope) for a in (*node.args, *(k.value for k in node.keywords)))

    def _computed_message(self, where: str) -> str:
        return (f"a string computed at run time (by +, %, join, format, replace, str() or an f-string with "
                f"text fields) may not be {where}: TeX must be written literally, e.g. "
                "MathTex(r\"x^2 + y^2\") or MathTex(f\"{value:.2f}\"); only Text, MarkupText and Paragraph "
                "take computed strings")

    # ------------------------------------------------------------ strings

    def visit_Constant(self, node: ast.Constant, scope: Scope) -> None:
        value = node.value
        if isinstance(value, bytes):
            self.bad(node, "bytes literals are not allowed")
            return
        if not isinstance(value, str) or id(node) in self.docstrings:
            return
        if _DUNDER.search(value):
            self.bad(node, "strings naming dunder attributes are not allowed")
        if value in self.allow.denied_keywords:
            self.bad(node, f"the string {value!r} is not allowed: it names an option that makes Manim read a "
                           "file")
        for p in tex_problems(value):
            hint = f" ({p.hint})" if p.hint else ""
            self.bad(node, f"in the string {_shown(value)}: {p.message}{hint}")

    def visit_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> None:
        values = node.values
        for i, part in enumerate(values[:-1]):
            nxt = values[i + 1]
            if isinstance(part, ast.Constant) and isinstance(part.value, str) \
                    and isinstance(nxt, ast.FormattedValue):
                spec = spec_text(nxt.format_spec)
                reason = bad_join(part.value, "0" if spec.endswith("d") else "a")
                if reason:
                    self.bad(node, f"the f-string piece {part.value[-20:]!r} {reason}: TeX commands may not "
                                   "be assembled from pieces; write the command whole and put the value "
                                   "after a space or inside braces")
        self.children(node, scope)

    def visit_BinOp(self, node: ast.BinOp, scope: Scope) -> None:
        if isinstance(node.op, ast.Add):
            lefts = self.flow.values(_rightmost(node.left), scope)
            for left in lefts or []:
                if bad_join(left, "a") is None and bad_join(left, "^") is None:
                    continue
                rights = self.flow.values(_leftmost(node.right), scope) or ["a", "^"]
                reasons = [r for r in (bad_join(left, b) for b in rights) if r]
                if reasons:
                    self.bad(node, f"the string piece {left[-20:]!r} {reasons[0]}: TeX commands may not be "
                                   "assembled from pieces; write the whole TeX as one literal")
                    break
        elif isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str):
            text = node.left.value
            for match in _PERCENT.finditer(text):
                reason = bad_join(text[:match.start()], "a")
                if reason:
                    self.bad(node, f"the %-format piece before {match.group()!r} {reason}: TeX commands may "
                                   "not be assembled from pieces; write the whole TeX literally")
                    break
        self.children(node, scope)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _rightmost(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.right
    return node


def _leftmost(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.left
    return node


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return "(...)"


# ---------------------------------------------------------------- generating the data file


def main(argv: list[str]) -> int:
    if argv != ["--generate"]:
        print("usage: python -m lecture.runtime.snippet_check --generate  (rewrites "
              f"{ALLOWLIST_FILE.name} from the installed Manim and numpy)", file=sys.stderr)
        return 2
    write_atomically(ALLOWLIST_FILE, to_text(generate()))
    print(f"wrote {ALLOWLIST_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
