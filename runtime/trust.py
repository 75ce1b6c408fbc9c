"""What the user of this machine has trusted: custom code and repository model settings.

A lesson repository is untrusted input. Code from it (custom elements' lock entries) and
settings that would send the user's key somewhere (`base_url`, `api_key_env` in a
committed `lecture.toml`) take effect only once the user has trusted them here, like
direnv's `allow`. The record lives outside every repository, in the user's config folder
(`$LECTURE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/lecture`, else `~/.config/lecture`), as
`trusted.json`:

    {"format": 1,
     "code":   {"<sha256 of the code>": {"lesson": "/abs/path.lecture", "element": "proof",
                                          "date": "2026-11-30T08:00:00Z"}},
     "config": {"<sha256 of the file's bytes>": {"path": "/abs/lecture.toml", "date": "…"}}}

Trust is by content: an edited snippet or an edited `lecture.toml` is a different hash and
is untrusted again. The file is written atomically under an exclusive lock, so two
commands trusting at once both keep their entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .atomic import write_atomically

FORMAT = 1
FILE_NAME = "trusted.json"
KINDS = ("code", "config")


def user_config_dir() -> Path:
    """The user's Lecture config folder (never inside a lesson repository)."""
    env = os.environ.get("LECTURE_CONFIG_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "lecture"


def content_hash(data: str | bytes) -> str:
    """The sha256 (hex) that trust is recorded under."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TrustStore:
    """The trust record at `folder / trusted.json` (read on every question: it is small,
    and another command may have trusted something meanwhile)."""

    folder: Path

    @staticmethod
    def default() -> TrustStore:
        return TrustStore(user_config_dir())

    @property
    def path(self) -> Path:
        return self.folder / FILE_NAME

    def _read(self) -> dict[str, dict[str, dict[str, str]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {k: {} for k in KINDS}
        if not isinstance(data, dict):
            return {k: {} for k in KINDS}
        return {k: dict(data.get(k) or {}) if isinstance(data.get(k), dict) else {} for k in KINDS}

    def is_trusted(self, kind: str, digest: str) -> bool:
        return digest in self._read()[kind]

    def code_trusted(self, code: str) -> bool:
        return self.is_trusted("code", content_hash(code))

    def config_trusted(self, data: bytes) -> bool:
        return self.is_trusted("config", content_hash(data))

    def trust(self, kind: str, digests: dict[str, dict[str, str]]) -> None:
        """Record these digests (digest -> what it was) as trusted."""
        if kind not in KINDS:
            raise ValueError(f"unknown trust kind {kind!r}")
        with self._locked():
            data = self._read()
            for digest, origin in digests.items():
                data[kind][digest] = {**origin, "date": _now()}
            text = json.dumps({"format": FORMAT, **data}, indent=1, sort_keys=True) + "\n"
            write_atomically(self.path, text.encode("utf-8"))

    def trust_code(self, code: str, **origin: str) -> None:
        self.trust("code", {content_hash(code): origin})

    def trust_config(self, path: Path, data: bytes) -> None:
        self.trust("config", {content_hash(data): {"path": str(Path(path).resolve())}})

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".trusted.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["TrustStore", "content_hash", "user_config_dir"]
