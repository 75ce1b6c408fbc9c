"""The Coder's part of a build: custom elements' locked code.

A section's cache key includes the code of its custom elements as the lock file holds it
(read as JSON: a cached rebuild imports neither Manim nor a model client). Before
compiling, `resolve` gives the compiler each custom element's function: from the lock
file, or written by the Coder when a model is configured; without either, a diagnostic at
the element's line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Lesson, Section


class CustomParts:
    def __init__(self, lesson: Lesson, lesson_path: Path, usage: Any = None) -> None:
        self.lesson = lesson
        self.lesson_path = Path(lesson_path)
        self.has_custom = any(e.kind == "custom" for s in lesson.sections for e in s.elements)
        self.diagnostics: list[Diagnostic] = []
        self._code: Any = None
        self._usage: Any = usage  # a UsageLog to add to (`lecture new --render` passes the Planner's)
        self._lock: Any = None

    def _lock_file(self) -> Any:
        if self._lock is None:
            from lecture.agents.lockfile import LockFile, LockFileError, lock_path

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

    def resolve(self, console: Any, sections: list[str] | None = None,
                ) -> dict[tuple[str, str], tuple[str, str]] | None:
        """(section, element) -> (function name, module source) for the compiler; None when
        some custom element has no code (see `diagnostics`)."""
        if not self.has_custom:
            return {}
        from lecture.agents.custom_nodes import resolve_custom_nodes

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
    def code(self) -> Any:
        return self._code

    @property
    def usage(self) -> Any:
        if self._usage is None:
            from lecture.agents.usage import UsageLog

            self._usage = UsageLog()
        return self._usage

    @property
    def config(self) -> Any:
        from lecture.agents.config import AgentError, resolve_config

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
