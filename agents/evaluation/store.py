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
import threading
from dataclasses import dataclass
from pathlib import Path

STORE_VERSION = 1


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
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
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
            with open(self.path, "a", encoding="utf-8") as handle:
                # a torn line left by a crash: start on a fresh line
                if handle.tell() > 0 and not self._ends_with_newline():
                    handle.write("\n")
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self._records[key.text()] = record
        return record

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
