"""The answer store: one JSON line per finished question (or aesthetics) call.

Each line holds the key fields — model, prompt version, video (evidence key, "-" for the
stages that see no video, so those answers are shared by every video of a topic),
question id, permutation (the presented order, e.g. "CADB"), stage, transcript on/off —
and the outcome. A line is appended (and flushed to disk) as soon as its answer is read,
so a crash or Ctrl-C loses at most the calls in flight; a rerun skips every stored key
and makes no call twice. A torn last line (a crash mid-write) is ignored. Calls that
failed at the server (after the client's retries) are not stored: a rerun asks again.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from lecture.runtime.safe_fs import UnsafePathError, read_regular

STORE_VERSION = 1
_APPEND_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) \
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class AnswerKey:
    model: str
    prompt_version: str
    video: str  # evidence key, or "-" when the stage shows no video
    question: str  # question id, or "aes"
    permutation: str  # presented order ("ABCD" ...), or "-"
    stage: str  # "1" | "2" | "3" | "aes"
    transcript: bool

    def text(self) -> str:
        return json.dumps([self.model, self.prompt_version, self.video, self.question, self.permutation,
                           self.stage, self.transcript], ensure_ascii=False)

    def fields(self) -> dict:
        return {"model": self.model, "prompt_version": self.prompt_version, "video": self.video,
                "question": self.question, "permutation": self.permutation, "stage": self.stage,
                "transcript": self.transcript}


class AnswerStore:
    """answers.jsonl, loaded at start, appended to by any thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._records: dict[str, dict] = {}
        self.torn_lines = 0
        _check_regular(self.path)
        data = read_regular(self.path)
        if data is not None:
            for line in data.decode("utf-8", errors="replace").splitlines():
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    key = record["key"]
                except (ValueError, KeyError, TypeError):
                    self.torn_lines += 1
                    continue
                self._records.setdefault(key, record)  # the first answer stands

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def get(self, key: AnswerKey) -> dict | None:
        with self._lock:
            return self._records.get(key.text())

    def __contains__(self, key: AnswerKey) -> bool:
        return self.get(key) is not None

    def add(self, key: AnswerKey, outcome: dict) -> dict:
        record = {"key": key.text(), **key.fields(), **outcome, "v": STORE_VERSION}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            if key.text() in self._records:
                return self._records[key.text()]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # never through a link (one planted in an output folder that came with a repository)
            fd = os.open(self.path, _APPEND_FLAGS, 0o666)
            with os.fdopen(fd, "r+b") as handle:
                size = os.fstat(fd).st_size
                # a torn line left by a crash: start on a fresh line
                if size > 0 and os.pread(fd, 1, size - 1) != b"\n":
                    handle.write(b"\n")
                handle.write(line.encode("utf-8"))
                handle.flush()
                os.fsync(fd)
            self._records[key.text()] = record
        return record


def _check_regular(path: Path) -> None:
    """A store file that is there must be a regular file: a link or anything else raises
    UnsafePathError (its answers would be read from, and appended to, someone else's file)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise UnsafePathError(path, "a symbolic link" if stat.S_ISLNK(mode) else "not a file",
                              "eval keeps its answers in a file of its own there — delete it")
