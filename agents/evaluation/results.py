"""Scores from the stored answers: per topic and overall, with bootstrap intervals.

A question's score in a stage is the mean, over its presented orders, of 1 for a correct
answer and 0 otherwise (insufficient evidence, a wrong letter, a malformed answer, or an
answer still missing). A topic's stage score is the mean over its kept questions, in
percent; the TeachQuiz gain is stage 3 - stage 2; "unlearning held" means stage 2 <=
stage 1. Overall numbers are means over topics (videos); their 95% intervals are
percentile bootstraps over topics (over questions when there is one topic), seeded, so
the same answers always give the same report.

Everything here is computed from the store alone: a resumed run reports exactly what an
uninterrupted one does.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from statistics import mean

from .answers import AES_DIMENSIONS
from .bank import (
    LETTERS,
    Bank,
    Question,
    answer_letter_distribution,
    longest_option_baseline,
    orders_for,
    slug,
)
from .runner import Job, Settings, Task, kept_questions, prompt_version
from .store import AnswerKey, AnswerStore
from .video import Evidence

STAGES = ("1", "2", "3", "3t")  # 3t: stage 3 with the transcript
STAGE_NAMES = {"1": "Stage 1: baseline", "2": "Stage 2: unlearned", "3": "Stage 3: video (frames)",
               "3t": "Stage 3: video + transcript", "aes": "Aesthetics"}
BOOTSTRAP_SAMPLES = 2000


@dataclass
class TopicResult:
    topic: str
    video: str
    kind: str | None  # "build" | "video" | None (missing)
    frames: int = 0
    transcript: bool = False
    duration: float = 0.0
    questions: int = 0  # kept
    excluded: int = 0
    orders: int = 0  # presented orders per question
    scores: dict[str, float | None] = field(default_factory=dict)
    per_question: dict[str, dict[str, float]] = field(default_factory=dict)
    malformed: list[dict] = field(default_factory=list)
    missing: int = 0
    aes: dict | None = None
    findings: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def gain(self) -> float | None:
        return _diff(self.scores.get("3"), self.scores.get("2"))

    @property
    def gain_transcript(self) -> float | None:
        return _diff(self.scores.get("3t"), self.scores.get("2"))

    @property
    def unlearning_held(self) -> bool | None:
        s1, s2 = self.scores.get("1"), self.scores.get("2")
        return None if s1 is None or s2 is None else s2 <= s1 + 1e-9


@dataclass
class Results:
    model: str
    prompt_version: str
    settings: Settings
    exclude_source: str
    excluded_total: int  # questions of the evaluated topics left out
    topics: list[TopicResult]
    summary: dict[str, dict]  # name -> {"value", "ci"}
    letters: dict[str, dict[str, int]]  # stage -> letter/none/malformed -> count
    correct_letters: dict[str, int]  # correct letter as presented, over asked questions x orders
    bank_letters: dict[str, int]  # correct letter in the bank as published (asked questions)
    longest_baseline: float | None  # asked questions
    longest_baseline_bank: float
    usage: dict[str, dict]  # stage -> requests, images, prompt/completion tokens, seconds
    aes_summary: dict[str, dict]  # dimension or "total" -> {"value", "ci"}
    missing: int = 0
    malformed: int = 0
    missing_videos: list[str] = field(default_factory=list)
    prices: tuple[float, float] | None = None  # USD per million prompt / completion tokens


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def bootstrap_ci(values: list[float], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean (None for fewer than two values)."""
    if len(values) < 2:
        return None
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    lo = means[int((1 - level) / 2 * samples)]
    hi = means[min(samples - 1, int((1 + level) / 2 * samples) - 1)]
    return (lo, hi)


def _stat(values: list[float], seed: int) -> dict:
    return {"value": mean(values) if values else None, "ci": bootstrap_ci(values, seed=seed),
            "n": len(values)}


@dataclass(frozen=True)
class _Reading:
    """The stored answers of one model and prompt version, and what reading them tallies
    over all topics (in the order of the jobs)."""
    store: AnswerStore
    model: str
    version: str
    letters: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in STAGES})
    asked: list[Question] = field(default_factory=list)  # each asked question once
    orders: dict[str, list[str]] = field(default_factory=dict)  # question id -> its presented orders


def compute_results(jobs: list[Job], tasks: list[Task], store: AnswerStore, bank: Bank, settings: Settings,
                    exclude_keys: set[str], exclude_source: str, model: str,
                    prices: tuple[float, float] | None = None) -> Results:
    reading = _Reading(store, model, prompt_version())
    topics = [_topic_result(job, bank, settings, exclude_keys, reading) for job in jobs]
    measured = [t for t in topics if t.kind is not None]
    asked = reading.asked
    return Results(
        model=model, prompt_version=reading.version, settings=settings, exclude_source=exclude_source,
        excluded_total=_excluded_total(jobs, topics), topics=topics,
        summary=_quiz_summary(measured, settings.seed),
        letters={s: {k: reading.letters[s].get(k, 0) for k in (*LETTERS, "none", "malformed")}
                 for s in STAGES},
        correct_letters=dict(answer_letter_distribution(asked, reading.orders)),
        bank_letters=dict(answer_letter_distribution(asked)),
        longest_baseline=longest_option_baseline(asked) if asked else None,
        longest_baseline_bank=longest_option_baseline(bank.all_questions()),
        usage=usage_by_stage(tasks, store), aes_summary=_aes_summary(measured, settings.seed),
        missing=sum(t.missing for t in topics), malformed=sum(len(t.malformed) for t in topics),
        missing_videos=[t.topic for t in topics if t.kind is None], prices=prices)


def _topic_result(job: Job, bank: Bank, settings: Settings, exclude_keys: set[str],
                  reading: _Reading) -> TopicResult:
    """One job's row: its evidence, its findings, its scores read from the store."""
    ev = job.evidence
    all_qs = bank.questions.get(job.topic, ())
    kept = kept_questions(bank, job.topic, settings, exclude_keys) if settings.quiz else []
    tr = TopicResult(job.topic, job.name or slug(job.topic), ev.kind if ev else None,
                     len(ev.frames) if ev else 0, bool(ev and ev.has_transcript),
                     ev.duration if ev else 0.0,
                     len(kept), len(all_qs) - len(kept) if settings.quiz else 0, findings=job.findings,
                     notes=list(ev.notes) if ev else [])
    _note_findings(tr, job.findings)
    if ev is None:
        return tr
    stages = ["1", "2", "3"] + (["3t"] if settings.transcript_variants and ev.has_transcript else [])
    for q in kept:
        _score_question(tr, q, ev, stages, settings, reading)
    for stage in STAGES:
        vals = [row[stage] for row in tr.per_question.values() if stage in row]
        tr.scores[stage] = mean(vals) if vals and stage in stages else None
    if settings.aes:
        _read_aes(tr, ev, reading)
    return tr


def _excluded_total(jobs: list[Job], topics: list[TopicResult]) -> int:
    """Questions left out, counted once per topic (bench may measure a topic twice)."""
    seen: set[str] = set()
    total = 0
    for job, tr in zip(jobs, topics, strict=True):
        if job.topic not in seen:
            total += tr.excluded
            seen.add(job.topic)
    return total


def _note_findings(tr: TopicResult, findings: dict | None) -> None:
    if findings and findings.get("count") is None:
        tr.notes.append(f"Lecture findings: n/a ({findings.get('source')})")
    elif findings:
        kinds = ", ".join(f"{k} {v}" for k, v in findings.get("kinds", {}).items())
        tr.notes.append(f"Lecture findings: {findings['count']}{f' ({kinds})' if kinds else ''}, "
                        f"from {findings.get('source')}")


def _score_question(tr: TopicResult, q: Question, ev: Evidence, stages: list[str], settings: Settings,
                    reading: _Reading) -> None:
    """The question's score per stage into tr.per_question; its orders into reading."""
    orders = orders_for(q.id, debias=settings.debias, n=settings.permutations, seed=settings.seed)
    tr.orders = len(orders)
    if q.id not in reading.orders:
        reading.asked.append(q)
        reading.orders[q.id] = orders
    tr.per_question[q.id] = {stage: _stage_score(tr, q, ev, stage, orders, reading) for stage in stages}


def _stage_score(tr: TopicResult, q: Question, ev: Evidence, stage: str, orders: list[str],
                 reading: _Reading) -> float:
    """The mean over the orders of 1 for a right answer (percent); missing and malformed
    answers counted into tr, answer letters into reading."""
    hits = 0.0
    evidence_key = "-" if stage in ("1", "2") else ev.key  # stages 1 and 2 show no video
    for order in orders:
        record = reading.store.get(AnswerKey(reading.model, reading.version, evidence_key, q.id, order,
                                             stage[0], stage == "3t"))
        if record is None:
            tr.missing += 1
            continue
        if record.get("status") != "ok":
            tr.malformed.append({"question": q.id, "stage": stage, "order": order,
                                 "problem": record.get("problem"), "replies": record.get("replies", [])})
            reading.letters[stage]["malformed"] += 1
            continue
        reading.letters[stage][record.get("answer") or "none"] += 1
        hits += 1.0 if record.get("correct") else 0.0
    return 100.0 * hits / len(orders)


def _read_aes(tr: TopicResult, ev: Evidence, reading: _Reading) -> None:
    key = AnswerKey(reading.model, reading.version, ev.key, "aes", "-", "aes", ev.has_transcript)
    record = reading.store.get(key)
    if record is None:
        tr.aes = {"status": "missing"}
        tr.missing += 1
    elif record.get("status") != "ok":
        tr.aes = {"status": "malformed", "problem": record.get("problem")}
        tr.malformed.append({"question": "aes", "stage": "aes", "order": "-",
                             "problem": record.get("problem"), "replies": record.get("replies", [])})
    else:
        tr.aes = {"status": "ok", "scores": record["scores"], "total": record["total"]}


def _quiz_summary(measured: list[TopicResult], seed: int) -> dict[str, dict]:
    """Overall stage scores and gains: means over topics, or over questions for one topic."""
    summary: dict[str, dict] = {}
    if len(measured) >= 2:  # the topics are the units
        for stage in STAGES:
            summary[stage] = _stat([v for t in measured if (v := t.scores.get(stage)) is not None], seed)
        summary["gain"] = _stat([v for t in measured if (v := t.gain) is not None], seed)
        summary["gain_t"] = _stat([v for t in measured if (v := t.gain_transcript) is not None], seed)
    else:  # one topic: the questions are the units
        rows = [r for t in measured for r in t.per_question.values()]
        for stage in STAGES:
            summary[stage] = _stat([r[stage] for r in rows if stage in r], seed)
        summary["gain"] = _stat([r["3"] - r["2"] for r in rows if "3" in r and "2" in r], seed)
        summary["gain_t"] = _stat([r["3t"] - r["2"] for r in rows if "3t" in r and "2" in r], seed)
    held = [t.unlearning_held for t in measured if t.unlearning_held is not None]
    s1, s2 = summary["1"]["value"], summary["2"]["value"]
    summary["held"] = {"value": None if s1 is None or s2 is None else s2 <= s1 + 1e-9,
                       "topics_held": sum(held), "topics": len(held)}
    return summary


def _aes_summary(measured: list[TopicResult], seed: int) -> dict[str, dict]:
    aes_summary: dict[str, dict] = {}
    scored = [t.aes for t in measured if t.aes and t.aes.get("status") == "ok"]
    for dim in AES_DIMENSIONS:
        aes_summary[dim] = _stat([float(a["scores"][dim]["score"]) for a in scored], seed)
    aes_summary["total"] = _stat([float(a["total"]) for a in scored], seed)
    return aes_summary


def usage_by_stage(tasks: list[Task], store: AnswerStore) -> dict[str, dict]:
    """Requests, images, tokens and model seconds of the stored answers, per stage (each
    stored answer once, shared stage 1-2 answers included once)."""
    usage: dict[str, dict] = {}
    for task in tasks:
        record = store.get(task.key)
        if record is None:
            continue
        stage = "aes" if task.kind == "aes" else ("3t" if task.key.transcript else task.key.stage)
        u = usage.setdefault(stage, {"calls": 0, "requests": 0, "images": 0, "prompt_tokens": 0,
                                     "completion_tokens": 0, "seconds": 0.0})
        u["calls"] += 1
        u["requests"] += int(record.get("requests", 0))
        u["images"] += int(record.get("images", 0))
        u["prompt_tokens"] += int(record.get("prompt_tokens", 0))
        u["completion_tokens"] += int(record.get("completion_tokens", 0))
        u["seconds"] += float(record.get("seconds", 0.0))
    order = ["1", "2", "3", "3t", "aes"]
    return {k: usage[k] for k in order if k in usage}
