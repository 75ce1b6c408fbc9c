"""The layers, enforced: cli -> agents -> runtime -> compiler -> grammar, no cycles inside a
package, no private names used across packages.

The contracts live in pyproject.toml (`[tool.importlinter]`). The package is installed
through a setuptools package-dir mapping (lecture.agents -> agents/, ...), which
import-linter's graph builder cannot follow, so these tests copy the sources into one real
`lecture/` tree (tests/package_copy.py) and run `lint-imports` on that copy. Imports
inside functions count too.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from package_copy import PYPROJECT, copy_package, package_dirs

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the contracts of pyproject.toml, on the copy at `tree`."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(PYPROJECT)],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_package(tmp_path_factory.mktemp("layers"))


def test_the_copy_is_the_installed_package(tree: Path) -> None:
    """Every module of the package is in the copy, under its installed name."""
    import lecture.compiler.lower.registry as registry
    import lecture.runtime.speech.base as base

    for module in (registry, base):
        name = module.__name__.split(".")
        assert tree.joinpath(*name).with_suffix(".py").read_bytes() == Path(module.__file__).read_bytes()
    assert not list(tree.rglob("__pycache__"))


def test_import_contracts_are_kept(tree: Path) -> None:
    result = lint_imports(tree)
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"lint-imports found broken import contracts:\n{report}"
    contracts = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    for contract in contracts:
        assert f"{contract['name']} KEPT" in report
    assert "0 broken" in report


def test_an_upward_import_inside_a_function_breaks_the_layers(tmp_path: Path) -> None:
    """The check is real: a function-local import from compiler up into runtime is caught."""
    tree = copy_package(tmp_path)
    planted = tree / "lecture" / "compiler" / "layout.py"
    planted.write_text(planted.read_text(encoding="utf-8")
                       + "\n\ndef _planted():\n    from lecture.runtime import atomic  # noqa\n",
                       encoding="utf-8")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "lecture.compiler.layout -> lecture.runtime.atomic" in result.stdout


# ---------------------------------------------------------------- private names


def _modules() -> Iterator[tuple[str, Path]]:
    for name, folder in package_dirs().items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("").parts
            if "__pycache__" not in rel:
                yield ".".join((name, *rel)).removesuffix(".__init__"), path


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[:len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_names_across_packages(modules: Iterable[tuple[str, Path]]) -> list[str]:
    """`from lecture.X import _name` (or `mod._name` on a module imported from lecture.X)
    in a module of another package; `modules` are (module name, file) pairs."""
    found: list[str] = []
    for module, path in modules:
        own = _package_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        foreign_aliases: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(module, path.name == "__init__.py", node)
                if source.partition(".")[0] != "lecture" or _package_of(source) == own:
                    continue
                for alias in node.names:
                    if _private(alias.name):
                        found.append(f"{path}:{node.lineno}: {source}.{alias.name}")
                    else:
                        foreign_aliases.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("lecture.") and _package_of(alias.name) != own and alias.asname:
                        foreign_aliases.add(alias.asname)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in foreign_aliases and _private(node.attr):
                found.append(f"{path}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def _package_of(module: str) -> str:
    """lecture.agents, lecture.runtime, lecture.compiler, lecture.grammar, or `lecture` for the
    top modules (cli, terminal, __main__)."""
    packages = [name for name in package_dirs() if name != "lecture"]
    return next((p for p in packages if module == p or module.startswith(p + ".")), "lecture")


def test_no_private_names_are_used_across_packages() -> None:
    found = private_names_across_packages(_modules())
    assert not found, "private names used outside their package:\n" + "\n".join(found)


def test_the_private_name_check_is_real(tmp_path: Path) -> None:
    """It reports a private name imported (absolutely or relatively) or reached through a
    module from another package, and not one used inside its own package."""
    planted = tmp_path / "planted.py"
    planted.write_text("from lecture.compiler.lower.registry import SectionContext, _cache_dir\n"
                       "from ..compiler import layout as L\n"
                       "from . import cache\n"
                       "from lecture.compiler.lower import ir\n"
                       "def f():\n    return L._edge, cache._own, ir.render\n", encoding="utf-8")
    found = private_names_across_packages([("lecture.runtime.planted", planted)])
    assert found == [f"{planted}:1: lecture.compiler.lower.registry._cache_dir", f"{planted}:6: L._edge"]
