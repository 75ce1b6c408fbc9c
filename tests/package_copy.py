"""The sources laid out as the installed package, for tools that read a package from disk.

The package is installed through a setuptools package-dir mapping (lecture.agents ->
agents/, lecture.runtime -> runtime/, ...), which static tools (import-linter, mypy) cannot
follow. `copy_package` copies the Python files into one real `lecture/` tree so that those
tools see the package under its installed names.
"""

from __future__ import annotations

import functools
import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


@functools.cache
def package_dirs() -> dict[str, Path]:
    """Each installed package (`lecture`, `lecture.agents`, ...) and its source folder, from
    the package-dir mapping in pyproject.toml."""
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in mapping.items()}


def _only_python(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__"
            or (not n.endswith(".py") and not (Path(folder) / n).is_dir())}


def copy_package(dest: Path) -> Path:
    """The sources laid out as the installed package: dest/lecture/agents/..., Python files
    only. Returns dest (the folder to put on PYTHONPATH)."""
    for name, folder in sorted(package_dirs().items()):  # `lecture` first, then its children
        target = dest.joinpath(*name.split("."))
        shutil.copytree(folder, target, ignore=_only_python, dirs_exist_ok=True)
    return dest
