"""Asking the model: TeachQuiz's three stages and the aesthetics scores, resumably.

For every (topic, video) job and every kept question of the topic, each presented order
of its options (`bank.orders_for`) is asked in:

- stage 1, baseline: no video;
- stage 2, unlearning: told to forget the topic and answer only from the literal text of
  the question, declaring insufficient evidence otherwise;
- stage 3, the same unlearning instruction with the video as evidence: its frames as
  image parts, asked once without and (when the video has one) once with its transcript.

Stages 1 and 2 see no video, so their answers are stored under the video "-" and shared
by every video of the topic. Each answer is read strictly (answers.py); a malformed one
is asked again once, with the problem named, then counted wrong and listed. Every
finished call is stored before the next result is used (store.py), so a rerun asks only
what is missing. The aesthetics call (one per video) shows the same frames and
transcript, with the topic as context.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from lecture.agents.client import ModelCallError, ModelClient, image_part

from .answers import AnswerFormatError, QuizAnswer, parse_aes, parse_quiz_answer, schema
from .bank import Bank, Question, is_excluded, orders_for, to_original
from .store import AnswerKey, AnswerStore
from .video import Evidence

PROMPT_FILES = ("system.txt", "stage1_baseline.txt", "stage2_unlearn.txt", "stage3_video.txt",
                "stage3_question.txt", "format_json.txt", "format_line.txt", "retry.txt", "aes.txt")
SCHEMA_FILES = ("quiz_answer.schema.json", "aes.schema.json")
RUNNER_FORMAT = 1  # bump when the messages change in code rather than in the prompt files
JSON_MODES = ("json_schema", "json_object", "line")


@cache
def prompt(name: str) -> str:
    return resources.files("lecture.agents.evaluation").joinpath("prompts", name).read_text(
        encoding="utf-8").strip()


@lru_cache(maxsize=1)
def prompt_version() -> str:
    """`p<format>-<hash of the prompt and schema files>`: part of every stored answer's key."""
    digest = hashlib.sha256()
    for name in PROMPT_FILES:
        digest.update(name.encode() + b"\0" + prompt(name).encode() + b"\0")
    for name in SCHEMA_FILES:
        digest.update(name.encode() + b"\0" + resources.files("lecture.agents.evaluation")
                      .joinpath(name).read_bytes() + b"\0")
    return f"p{RUNNER_FORMAT}-{digest.hexdigest()[:10]}"


def fill(template: str, **values: str) -> str:
    """str.format for templates that also hold literal JSON braces: only {name} of the
    given names is replaced."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


@dataclass(frozen=True)
class Settings:
    permutations: int = 4
    seed: int = 0
    debias: bool = True
    exclude: str | None = "default"  # "default", "none" or a file; None: default when debiasing
    transcript_variants: bool = True  # stage 3 asked with and without the transcript
    aes: bool = True
    quiz: bool = True
    concurrency: int = 4
    image_detail: str = "auto"
    temperature: float | None = 0.0
    max_tokens: int | None = None


@dataclass
class Job:
    """One video to measure on one topic."""

    topic: str
    evidence: Evidence | None  # None: the video is missing (the topic is reported, not asked)
    name: str = ""  # how the report names the video
    findings: dict | None = None  # Lecture's own layout findings (see layout_findings.py)


@dataclass(frozen=True)
class Task:
    kind: str  # "quiz" | "aes"
    key: AnswerKey
    topic: str
    question: Question | None = None
    order: str = "ABCD"
    evidence: Evidence | None = None


@dataclass
class RunStats:
    asked: int = 0  # tasks answered by this run (not taken from the store)
    reused: int = 0  # tasks already in the store
    failed: list[str] = field(default_factory=list)  # server failures (not stored; a rerun asks again)
    interrupted: bool = False
    seconds: float = 0.0


def kept_questions(bank: Bank, topic: str, settings: Settings, exclude_keys: set[str]) -> list[Question]:
    return [q for q in bank.questions.get(topic, ()) if not is_excluded(q, exclude_keys)]


def plan_tasks(jobs: Iterable[Job], bank: Bank, settings: Settings, exclude_keys: set[str],
               model: str) -> list[Task]:
    """Every call the jobs need, each key once, in a stable order."""
    version = prompt_version()
    tasks: dict[str, Task] = {}
    for job in jobs:
        ev = job.evidence
        if ev is None:
            continue
        if settings.quiz:
            for q in kept_questions(bank, job.topic, settings, exclude_keys):
                orders = orders_for(q.id, debias=settings.debias, n=settings.permutations, seed=settings.seed)
                for order in orders:
                    variants = [("1", False, "-"), ("2", False, "-"), ("3", False, ev.key)]
                    if settings.transcript_variants and ev.has_transcript:
                        variants.append(("3", True, ev.key))
                    for stage, transcript, video in variants:
                        key = AnswerKey(model, version, video, q.id, order, stage, transcript)
                        tasks.setdefault(key.text(), Task("quiz", key, job.topic, q, order,
                                                          ev if stage == "3" else None))
        if settings.aes:
            key = AnswerKey(model, version, ev.key, "aes", "-", "aes", ev.has_transcript)
            tasks.setdefault(key.text(), Task("aes", key, job.topic, evidence=ev))
    return list(tasks.values())


def options_text(question: Question, order: str) -> str:
    return "\n".join(f"{letter}. {text}" for letter, text in question.presented(order).items())


def evidence_description(ev: Evidence, with_transcript: bool) -> str:
    what = ("frames taken at the end of each of its steps" if ev.kind == "build"
            else "frames taken at its scene changes")
    text = f"{len(ev.frames)} {what}, in order"
    if with_transcript:
        text += ", followed by the transcript of its narration"
    return text


def evidence_parts(ev: Evidence, with_transcript: bool, detail: str) -> list[dict]:
    parts: list[dict] = []
    total = len(ev.frames)
    for i, frame in enumerate(ev.frames, start=1):
        stamp = f"{int(frame.time) // 60}:{int(frame.time) % 60:02d}"
        parts.append({"type": "text", "text": f"Frame {i} of {total} ({stamp}, {frame.label}):"})
        parts.append(image_part(frame.data_url(), detail))
    if with_transcript and ev.transcript:
        parts.append({"type": "text", "text": "Transcript of the narration:\n" + ev.transcript})
    return parts


class Evaluator:
    """Runs tasks against one model; thread-safe; every answer goes to the store."""

    def __init__(self, client: ModelClient, store: AnswerStore, settings: Settings, *,
                 on_record: Callable[[Task, dict], None] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.on_record = on_record
        self.progress = progress
        self._mode_lock = threading.Lock()
        self._mode = "json_schema"
        self._send_temperature = settings.temperature is not None

    # ------------------------------------------------------------------ the calls

    @property
    def mode(self) -> str:
        with self._mode_lock:
            return self._mode

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.settings.temperature is not None and self._send_temperature:
            params["temperature"] = self.settings.temperature
        if self.settings.max_tokens is not None:
            params["max_tokens"] = self.settings.max_tokens
        return params

    def _call(self, messages: list[dict], schema_name: str, schema_file: str):
        """One chat call in the server's best JSON mode; (reply, mode used). A 400/422 that
        names the response format drops to the next mode (json_object, then none: the
        `ANSWER = X` line), remembered for later calls; one that names the temperature
        drops the temperature."""
        while True:
            mode = self.mode
            if mode == "json_schema":
                fmt: dict | None = {"type": "json_schema",
                                    "json_schema": {"name": schema_name, "schema": schema(schema_file),
                                                    "strict": False}}
            elif mode == "json_object":
                fmt = {"type": "json_object"}
            else:
                fmt = None
            try:
                return self.client.chat(messages, response_format=fmt, **self._params()), mode
            except ModelCallError as exc:
                text = str(exc).lower()
                if exc.status in (400, 422) and "temperature" in text and self._send_temperature:
                    self._send_temperature = False  # a model that accepts only its default
                    continue
                if (fmt is not None and exc.status in (400, 422)
                        and any(w in text for w in ("response_format", "response format", "json", "schema"))):
                    with self._mode_lock:
                        if self._mode == mode:
                            self._mode = JSON_MODES[JSON_MODES.index(mode) + 1]
                    continue
                raise

    def quiz_messages(self, task: Task, mode: str) -> list[dict]:
        q = task.question
        assert q is not None
        fmt = prompt("format_line.txt") if mode == "line" else prompt("format_json.txt")
        values = {"topic": task.topic, "question": q.text, "options": options_text(q, task.order)}
        system = {"role": "system", "content": prompt("system.txt")}
        if task.key.stage == "1":
            text = fill(prompt("stage1_baseline.txt"), **values)
            return [system, {"role": "user", "content": text + "\n\n" + fmt}]
        if task.key.stage == "2":
            text = fill(prompt("stage2_unlearn.txt"), **values)
            return [system, {"role": "user", "content": text + "\n\n" + fmt}]
        ev = task.evidence
        assert ev is not None
        with_transcript = task.key.transcript
        intro = fill(prompt("stage3_video.txt"), topic=task.topic,
                     evidence_description=evidence_description(ev, with_transcript))
        parts = [{"type": "text", "text": intro},
                 *evidence_parts(ev, with_transcript, self.settings.image_detail),
                 {"type": "text", "text": fill(prompt("stage3_question.txt"), **values) + "\n\n" + fmt}]
        return [system, {"role": "user", "content": parts}]

    def aes_messages(self, task: Task) -> list[dict]:
        ev = task.evidence
        assert ev is not None
        intro = fill(prompt("aes.txt"), topic=task.topic,
                     evidence_description=evidence_description(ev, task.key.transcript))
        parts = [{"type": "text", "text": intro},
                 *evidence_parts(ev, task.key.transcript, self.settings.image_detail),
                 {"type": "text", "text": "Now give the five scores as the JSON object described above."}]
        return [{"role": "user", "content": parts}]

    def ask(self, task: Task) -> dict:
        """Ask one task (retrying a malformed answer once) and store the outcome."""
        replies: list[str] = []
        prompt_tokens = completion_tokens = requests = 0
        seconds = 0.0
        problem: str | None = None
        parsed: Any = None
        mode = self.mode
        messages = self.aes_messages(task) if task.kind == "aes" else self.quiz_messages(task, mode)
        schema_file = "aes.schema.json" if task.kind == "aes" else "quiz_answer.schema.json"
        for attempt in range(2):
            name = "aes_scores" if task.kind == "aes" else "quiz_answer"
            reply, used = self._call(messages, name, schema_file)
            if attempt == 0 and used == "line" and mode != "line" and task.kind == "quiz":
                # the server refused the JSON format we wrote the prompt for: ask again in its mode
                mode = used
                messages = self.quiz_messages(task, mode)
                reply, used = self._call(messages, "quiz_answer", schema_file)
                requests += 1
            mode = used
            requests += 1
            replies.append(reply.text)
            prompt_tokens += reply.prompt_tokens
            completion_tokens += reply.completion_tokens
            seconds += reply.seconds
            try:
                parsed = parse_aes(reply.text) if task.kind == "aes" else parse_quiz_answer(reply.text, mode)
                problem = None
                break
            except AnswerFormatError as exc:
                problem = str(exc)
                fmt = ("Reply with only the JSON object of the five dimensions." if task.kind == "aes"
                       else prompt("format_line.txt") if mode == "line" else prompt("format_json.txt"))
                messages = [*messages, {"role": "assistant", "content": reply.text},
                            {"role": "user",
                             "content": fill(prompt("retry.txt"), problem=problem, format=fmt)}]
        outcome: dict[str, Any] = {
            "kind": task.kind, "topic": task.topic, "status": "ok" if problem is None else "malformed",
            "problem": problem, "replies": replies, "mode": mode, "requests": requests,
            "images": len(task.evidence.frames) * requests if task.evidence else 0,
            "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "seconds": round(seconds, 3),
        }
        if task.kind == "quiz":
            q = task.question
            assert q is not None
            answer: QuizAnswer | None = parsed
            letter = answer.letter if answer else None
            original = to_original(task.order, letter) if letter else None
            outcome.update({"evidence": answer.evidence if answer else None, "answer": letter,
                            "original": original, "correct": original == q.answer})
        else:
            scores = parsed
            outcome.update({"scores": scores,
                            "total": sum(v["score"] for v in scores.values()) if scores else None})
        return self.store.add(task.key, outcome)

    # ------------------------------------------------------------------ many tasks

    def run(self, tasks: list[Task]) -> RunStats:
        """Ask every task not yet stored, `concurrency` at a time. KeyboardInterrupt (or
        any exception from on_record) stops the run: stored answers stay, calls in flight
        finish and are stored, nothing else is asked."""
        stats = RunStats()
        start = time.monotonic()
        todo = [t for t in tasks if t.key not in self.store]
        stats.reused = len(tasks) - len(todo)
        done = 0
        if self.progress:
            self.progress(0, len(todo))
        pool = ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency), thread_name_prefix="eval")
        pending: dict[Future, Task] = {}
        queue = list(reversed(todo))
        try:
            while queue or pending:
                while queue and len(pending) < max(1, self.settings.concurrency):
                    task = queue.pop()
                    pending[pool.submit(self.ask, task)] = task
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in finished:
                    task = pending.pop(future)
                    try:
                        record = future.result()
                    except ModelCallError as exc:
                        stats.failed.append(f"{task.key.question} stage {task.key.stage} "
                                            f"[{task.key.permutation}]: {exc}")
                        continue
                    stats.asked += 1
                    done += 1
                    if self.progress:
                        self.progress(done, len(todo))
                    if self.on_record:
                        self.on_record(task, record)
        except BaseException:
            stats.interrupted = True
            queue.clear()
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            stats.seconds = time.monotonic() - start
            raise
        pool.shutdown(wait=True)
        stats.seconds = time.monotonic() - start
        return stats
