"""`lecture trust FILE...`: read what a lesson repository would run or where it would send
your key, then trust it on this machine (like direnv's `allow`).

- `LESSON.lecture`: every entry of `LESSON.lecture.lock` is shown — the element, the model
  and date it names, the sha256 of its code, the code itself with line numbers — and
  checked against the static allowlist (refused code cannot be trusted). Trusted code
  still runs only isolated (runtime/isolation.py).
- `lecture.toml`: every value it sets, and what `base_url` / `api_key_env` would do.

The user is asked before anything is recorded (`--yes` answers for a script; without a
terminal and without `--yes` nothing is recorded). Trust is recorded by content in the
user's config folder (runtime/trust.py), never in the repository.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lecture.runtime.snippet_check import check_code
from lecture.runtime.trust import TrustStore

from .config import AgentError, describe_repository_config, trust_repository_config
from .lockfile import LockFile, LockFileError, lock_path

EXIT_OK, EXIT_REFUSED = 0, 2
Ask = Callable[[str], bool]


def _numbered(code: str) -> str:
    lines = code.rstrip("\n").split("\n")
    width = len(str(len(lines)))
    return "\n".join(f"  {i:>{width}} | {line}" for i, line in enumerate(lines, start=1))


def _lock_text(path: Path, lock: LockFile) -> tuple[str, dict[str, dict[str, str]], list[str]]:
    """What to show, the code digests to trust, and why some entries cannot be trusted."""
    shown: list[str] = []
    digests: dict[str, dict[str, str]] = {}
    refused: list[str] = []
    for entry in lock.entries.values():
        where = f"{entry.section}/{entry.element}"
        shown.append(f"custom element {where} — written by {entry.model or 'an unknown model'} "
                     f"on {entry.date or 'an unknown date'}; code sha256 {entry.code_sha256[:16]}")
        shown.append(_numbered(entry.code))
        problems = check_code(entry.code)
        if problems:
            refused.append(f"{where}: {problems[0].render()}")
            shown.append(f"  REFUSED by the static check: {problems[0].render()}")
        else:
            digests[entry.code_sha256] = {"lesson": str(path.resolve()), "element": where}
        shown.append("")
    return "\n".join(shown), digests, refused


def _ask_terminal(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def trust_lesson(path: Path, *, yes: bool, ask: Ask, say: Callable[[str], None]) -> int:
    try:
        lock = LockFile.load(lock_path(path))
    except LockFileError as exc:
        say(f"error: {exc}")
        return EXIT_REFUSED
    if not lock.entries:
        say(f"{path}: no custom code to trust ({lock.path.name} has no entries)")
        return EXIT_OK
    text, digests, refused = _lock_text(path, lock)
    say(text)
    if refused:
        say(f"error: {len(refused)} entr{'ies' if len(refused) != 1 else 'y'} of {lock.path.name} use "
            "more than Manim's drawing API; they cannot be trusted — regenerate them with "
            f"`lecture lock --update {path}`")
        return EXIT_REFUSED
    if not (yes or ask(f"Run this code (isolated) when rendering {path.name} on this machine?")):
        say("nothing trusted" + ("" if sys.stdin.isatty() else " (no terminal to ask: add --yes)"))
        return EXIT_REFUSED
    TrustStore.default().trust("code", digests)
    say(f"trusted {len(digests)} snippet{'s' if len(digests) != 1 else ''} of {lock.path.name}")
    return EXIT_OK


def trust_config(path: Path, *, yes: bool, ask: Ask, say: Callable[[str], None]) -> int:
    try:
        shown = describe_repository_config(path)
    except (AgentError, OSError) as exc:
        say(f"error: {exc}")
        return EXIT_REFUSED
    say(shown)
    if not (yes or ask(f"Use these settings from {path} on this machine?")):
        say("nothing trusted" + ("" if sys.stdin.isatty() else " (no terminal to ask: add --yes)"))
        return EXIT_REFUSED
    try:
        trust_repository_config(path, shown)
    except AgentError as exc:
        say(f"error: {exc}")
        return EXIT_REFUSED
    say(f"trusted {path}")
    return EXIT_OK


def run_trust(args: argparse.Namespace, *, ask: Ask = _ask_terminal, console: Any = None) -> int:
    def say(text: str) -> None:
        print(text)

    status = EXIT_OK
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            say(f"error: {path}: no such file")
            status = EXIT_REFUSED
            continue
        trust = trust_config if path.suffix == ".toml" else trust_lesson
        status = max(status, trust(path, yes=bool(getattr(args, "yes", False)), ask=ask, say=say))
    return status


__all__ = ["run_trust", "trust_config", "trust_lesson"]
