"""The package type-checks: `mypy -p lecture` with the settings of pyproject.toml
(`[tool.mypy]`) finds nothing.

mypy cannot follow the setuptools package-dir mapping (lecture.agents -> agents/, ...), so
it runs on a copy of the sources laid out as the installed package (tests/package_copy.py,
the same copy the layer check uses).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from package_copy import PYPROJECT, copy_package


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for this module: the first run fills it (manim and numpy take most of
    the time), later runs on a changed copy recheck only what changed."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(tree: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """`mypy -p lecture` with the settings of pyproject.toml, on the copy at `tree`. The copy
    is the working folder, so `lecture` is found there and not through the editable install."""
    command = [sys.executable, "-m", "mypy", "--config-file", str(PYPROJECT), "--cache-dir", str(cache),
               "--no-color-output", "--no-error-summary", "-p", "lecture"]
    return subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=300)


def test_the_package_type_checks(tmp_path: Path, cache: Path) -> None:
    result = mypy(copy_package(tmp_path), cache)
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"mypy found type errors ([tool.mypy] in pyproject.toml):\n{report}"
    assert report.strip() == ""


def test_the_type_check_is_real(tmp_path: Path, cache: Path) -> None:
    """The settings of pyproject.toml are the ones used: an error inside a function without
    annotations is reported only because of `check_untyped_defs`, and the module is named
    under its installed name."""
    tree = copy_package(tmp_path)
    planted = tree / "lecture" / "compiler" / "layout.py"
    planted.write_text(planted.read_text(encoding="utf-8")
                       + "\n\ndef _planted():\n    return len(3)\n", encoding="utf-8")
    result = mypy(tree, cache)
    assert result.returncode == 1
    assert 'lecture/compiler/layout.py:' in result.stdout
    assert '"len" has incompatible type "int"' in result.stdout
