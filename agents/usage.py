"""Token and time accounting of every model call, per agent.

`ModelClient` records each call it makes (after its retries) here: the prompt and
completion tokens from the response's `usage` field, and the wall time. The build
manifest stores `UsageLog.to_json()`; the CLI prints `UsageLog.summary()`, one line per
agent:

    planner: 3 calls, 1,234 prompt + 567 completion tokens, 4.2 s
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CallRecord:
    agent: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float  # wall time of the call, retries and their waits included
    attempts: int = 1  # HTTP requests made (1 + retries)
    usage_reported: bool = True  # False when the server sent no usage (tokens counted as 0)
    ok: bool = True  # False: the call failed after its retries (no tokens)


@dataclass
class AgentUsage:
    calls: int = 0
    failed_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    calls_without_usage: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, record: CallRecord) -> None:
        self.calls += 1
        self.failed_calls += 0 if record.ok else 1
        self.retries += max(record.attempts - 1, 0)
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        self.seconds += record.seconds
        self.calls_without_usage += 0 if (record.usage_reported or not record.ok) else 1

    def line(self, agent: str) -> str:
        calls = f"{self.calls:,} call{'s' if self.calls != 1 else ''}"
        text = (f"{agent}: {calls}, {self.prompt_tokens:,} prompt + {self.completion_tokens:,} "
                f"completion tokens, {self.seconds:.1f} s")
        extras = []
        if self.failed_calls:
            extras.append(f"{self.failed_calls} failed")
        if self.retries:
            extras.append(f"{self.retries} retr{'ies' if self.retries != 1 else 'y'}")
        if self.calls_without_usage:
            extras.append(f"{self.calls_without_usage} without token counts")
        return text + (f" ({', '.join(extras)})" if extras else "")

    def to_json(self) -> dict:
        return {"calls": self.calls, "failed_calls": self.failed_calls, "retries": self.retries,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens, "seconds": round(self.seconds, 3),
                "calls_without_usage": self.calls_without_usage}


class UsageLog:
    """Every call of every agent; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    def record(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    def per_agent(self) -> dict[str, AgentUsage]:
        totals: dict[str, AgentUsage] = {}
        for record in self.records:
            totals.setdefault(record.agent, AgentUsage()).add(record)
        return totals

    def total(self) -> AgentUsage:
        total = AgentUsage()
        for record in self.records:
            total.add(record)
        return total

    def summary_lines(self) -> list[str]:
        return [usage.line(agent) for agent, usage in self.per_agent().items()]

    def summary(self) -> str:
        """One line per agent that made calls ('' when none did)."""
        return "\n".join(self.summary_lines())

    def to_json(self) -> dict:
        """For the build manifest: totals per agent, the grand total, and every call."""
        return {
            "agents": {agent: usage.to_json() for agent, usage in self.per_agent().items()},
            "total": self.total().to_json(),
            "calls": [{**asdict(r), "seconds": round(r.seconds, 3)} for r in self.records],
        }
