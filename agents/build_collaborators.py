"""The agents' part of a build: custom elements' locked code, and auto-fix.

`build_collaborators()` is what the command line hands `lecture render` and `lecture watch`
(see lecture.runtime.collaborators): a source of custom code (`LockedCustomCode`) and a
repairer (autofix.AutoFixer).

A section's cache key includes the code of its custom elements as the lock file holds it
(read as JSON: a cached rebuild imports neither Manim, nor the compiler, nor a model
client). Before compiling, `resolve` gives the compiler each custom element's function,
vetted (runtime.locked_code.vet, inside custom_elements.resolve_custom_nodes): from the lock
file, or written by the Coder when a model is configured; without either, a diagnostic at
the element's line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Lesson, Section
from lecture.runtime.collaborators import Collaborators, CustomCodeSource

from .config import AgentError, ClientConfig, resolve_config
from .lockfile import LockFile, LockFileError, lock_path
from .usage import UsageLog

if TYPE_CHECKING:
    from rich.console import Console

    from .autofix import AutoFixer
    from .custom_elements import CustomCode


class LockedCustomCode:
    """One lesson's custom code, from its lock file (runtime.collaborators.CustomCodeSource)."""

    def __init__(self, lesson: Lesson, lesson_path: Path, usage: UsageLog | None = None) -> None:
        self.lesson = lesson
        self.lesson_path = Path(lesson_path)
        self.has_custom = any(e.kind == "custom" for s in lesson.sections for e in s.elements)
        self.diagnostics: list[Diagnostic] = []
        self._code: CustomCode | None = None
        self._usage = usage  # a UsageLog to add to (`lecture new --render` passes the Planner's)
        self._lock: LockFile | None = None

    def _lock_file(self) -> LockFile:
        if self._lock is None:
            try:
                self._lock = LockFile.load(lock_path(self.lesson_path))
            except LockFileError:
                self._lock = LockFile(lock_path(self.lesson_path))  # `resolve` reports it
        return self._lock

    def section_parts(self, section: Section) -> dict:
        ids = [e.id for e in section.elements if e.kind == "custom"]
        if not ids:
            return {}
        lock = self._lock_file()
        codes = sorted(hashlib.sha256(lock.entries[k].code.encode()).hexdigest()
                       for eid in ids for k in lock.keys_for(section.id, eid))
        return {"custom": codes}

    def resolve(self, console: Console | None, sections: Sequence[str] | None = None,
                ) -> dict[tuple[str, str], tuple[str, str]] | None:
        """(section, element) -> (function name, module source) for the compiler; None when
        some custom element has no code (see `diagnostics`)."""
        if not self.has_custom:
            return {}
        # imported late: the compiler's measuring, needed only when something is compiled
        from .custom_elements import resolve_custom_nodes

        code = resolve_custom_nodes(self.lesson, self.lesson_path, client_config=self.config,
                                    usage=self.usage, console=console)
        self._code = code
        self.diagnostics = list(code.diagnostics)
        if not code.ok:
            return None
        functions = {}
        for sid, eid in code.nodes:
            if sections is not None and sid not in sections:
                continue
            source = code.emit(sid, eid)
            if source:
                functions[(sid, eid)] = (code.function_name(sid, eid), source)
        return functions

    @property
    def code(self) -> CustomCode | None:
        return self._code

    @property
    def usage(self) -> UsageLog:
        if self._usage is None:
            self._usage = UsageLog()
        return self._usage

    @property
    def config(self) -> ClientConfig | None:
        """The model settings found from the lesson's folder (None: none usable)."""
        try:
            return resolve_config(start=self.lesson_path.parent)
        except AgentError:
            return None

    def reload(self) -> None:
        """Read the lock file again (auto-fix may have written new code into it)."""
        self._lock = None

    def to_json(self) -> list:
        return self._code.to_json() if self._code is not None else []

    def usage_json(self) -> dict | None:
        return self._usage.to_json() if self._usage is not None else None


def make_repairer(lesson: Lesson, lesson_path: Path, source: CustomCodeSource,
                  console: Console | None) -> AutoFixer:
    """The auto-fixer of one build (runtime.collaborators.RepairerFactory): it repairs
    custom code with the same model settings and usage log as the source's."""
    from .autofix import AutoFixer  # imported late: only a failed section needs it

    locked = source if isinstance(source, LockedCustomCode) else LockedCustomCode(lesson, lesson_path)
    return AutoFixer(lesson, lesson_path, custom=locked.code, client_config=locked.config,
                     usage=locked.usage, console=console)


def build_collaborators(usage: UsageLog | None = None) -> Collaborators:
    """What the agents give a build: custom code from the lock file (or the Coder), and
    auto-fix. `usage`: a UsageLog to add the build's model calls to."""

    def custom_code(lesson: Lesson, lesson_path: Path) -> LockedCustomCode:
        return LockedCustomCode(lesson, lesson_path, usage=usage)

    return Collaborators(custom_code=custom_code, repairer=make_repairer)
