"""`NAME.lecture.lock`: the Coder's accepted code for each `custom` element of a lesson.

A JSON file beside the lesson, meant to be committed: later renders take the code from it
without a model, offline and reproducibly. Written with sorted keys and an indent so that
it diffs well, atomically (runtime.atomic.write_atomically), and never over a change
someone else made since it was read (ConcurrentEditError).

    {
      "entries": {
        "<content key>": {
          "box": [0.1, -3.2, 5.9, 2.6],          # left, bottom, right, top
          "code": "from manim import *\\n\\ndef build(box):\\n ...",
          "code_sha256": "9f86d0…",              # sha256 of "code": trust is keyed by it
          "date": "2025-01-31T12:00:00Z",
          "description": "Four copies of the triangle slide inside a square.",
          "element": "proof",
          "model": "qwen2.5-coder:14b",
          "placement": "in A1..F6",
          "section": "proof",
          "theme": "chalkboard",
          "tokens": {"completion": 812, "prompt": 2304, "total": 3116},
          "tries": 2
        }
      },
      "format": 1,
      "generator": "lecture coder"
    }

The content key is the sha256 of a canonical JSON of the node (kind, id, description,
placement) plus its anchor box (rounded to 1/1000 unit) and the theme's name: change any
of them and the entry no longer matches, so the code is written again (with a model) or
the render says what to do (without one).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lecture.runtime.atomic import ConcurrentEditError, write_atomically
from lecture.runtime.trust import content_hash

FORMAT = 1
GENERATOR = "lecture coder"
SUFFIX = ".lock"


class LockFileError(Exception):
    """The lock file cannot be read (not JSON, wrong shape); the message names it."""


def lock_path(lesson_path: str | os.PathLike[str]) -> Path:
    """`lessons/pythagoras.lecture` -> `lessons/pythagoras.lecture.lock`."""
    p = Path(lesson_path)
    return p.with_name(p.name + SUFFIX)


def rounded_box(box: tuple[float, float, float, float]) -> list[float]:
    return [round(float(v), 3) + 0.0 for v in box]  # + 0.0: no "-0.0"


def content_key(*, kind: str, element_id: str, description: str, placement: str,
                box: tuple[float, float, float, float], theme: str) -> str:
    """The sha256 (hex) of the node's canonical JSON."""
    canonical = json.dumps({"kind": kind, "id": element_id, "description": description,
                            "placement": placement, "box": rounded_box(box), "theme": theme},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class LockEntry:
    section: str
    element: str
    description: str
    placement: str
    box: list[float]
    theme: str
    code: str
    model: str
    date: str
    tries: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    recorded_sha256: str = ""  # the code_sha256 the file holds ("" in entries written before it)

    @property
    def code_sha256(self) -> str:
        """The sha256 of the code: what trust is recorded under, written beside the code so
        that a reviewer sees in the diff when code changed."""
        return content_hash(self.code)

    def to_json(self) -> dict:
        left, bottom, right, top = self.box
        return {"section": self.section, "element": self.element, "description": self.description,
                "placement": self.placement, "box": rounded_box((left, bottom, right, top)),
                "theme": self.theme,
                "code": self.code, "code_sha256": self.code_sha256, "model": self.model,
                "date": self.date, "tries": self.tries,
                "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens,
                           "total": self.prompt_tokens + self.completion_tokens}}

    @staticmethod
    def from_json(data: dict) -> LockEntry:
        tokens = data.get("tokens") or {}
        return LockEntry(str(data.get("section", "")), str(data.get("element", "")),
                         str(data.get("description", "")), str(data.get("placement", "")),
                         [float(v) for v in data.get("box", [0, 0, 0, 0])], str(data.get("theme", "")),
                         str(data["code"]), str(data.get("model", "")), str(data.get("date", "")),
                         int(data.get("tries", 0)), int(tokens.get("prompt", 0)),
                         int(tokens.get("completion", 0)), str(data.get("code_sha256", "")))


@dataclass
class LockFile:
    path: Path
    entries: dict[str, LockEntry] = field(default_factory=dict)
    original: bytes | None = None  # the bytes read (None: there was no file)
    extra: dict[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept

    @staticmethod
    def load(path: str | os.PathLike[str]) -> LockFile:
        """The lock file at `path` (empty when there is none). Raises LockFileError when it
        exists but cannot be used."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return LockFile(path)
        except OSError as exc:
            raise LockFileError(f"{path}: cannot read the lock file: {exc}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LockFileError(f"{path}: the lock file is not valid JSON ({exc}); fix it, or delete it "
                                "and run `lecture lock --update`") from None
        if not isinstance(data, dict) or not isinstance(data.get("entries", {}), dict):
            raise LockFileError(f"{path}: the lock file has no \"entries\" object")
        if int(data.get("format", FORMAT)) > FORMAT:
            raise LockFileError(f"{path}: lock file format {data.get('format')} is newer than this "
                                f"version of Lecture understands ({FORMAT})")
        entries = {}
        for key, value in data.get("entries", {}).items():
            try:
                entries[str(key)] = LockEntry.from_json(value)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise LockFileError(f"{path}: entry {key[:12]}… is malformed ({exc!r})") from None
        extra = {k: v for k, v in data.items() if k not in ("entries", "format", "generator")}
        return LockFile(path, entries, raw, extra)

    def get(self, key: str) -> LockEntry | None:
        return self.entries.get(key)

    def set(self, key: str, entry: LockEntry) -> None:
        self.entries[key] = entry

    def keys_for(self, section: str, element: str) -> list[str]:
        return [k for k, e in self.entries.items() if e.section == section and e.element == element]

    def text(self) -> str:
        data = {**self.extra, "format": FORMAT, "generator": GENERATOR,
                "entries": {k: e.to_json() for k, e in self.entries.items()}}
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @property
    def changed(self) -> bool:
        new = self.text().encode("utf-8")
        return new != self.original

    def save(self) -> bool:
        """Write the file when its text changed (True when written). Raises
        ConcurrentEditError when the file changed on disk since it was read (or appeared,
        when there was none)."""
        new = self.text().encode("utf-8")
        if new == self.original or (self.original is None and not self.entries):
            return False
        if self.original is None and self.path.exists():
            raise ConcurrentEditError(self.path)
        write_atomically(self.path, new, expected=self.original)
        self.original = new
        return True


__all__ = ["ConcurrentEditError", "LockEntry", "LockFile", "LockFileError", "content_key", "lock_path",
           "utc_now"]
