"""Reading a model's answers strictly.

A quiz answer is read in one of two ways, and nothing else counts:

- JSON (the server was asked with a JSON response format): the whole reply (optionally
  wrapped in one ``` fence) is one JSON object following quiz_answer.schema.json,
  `{"evidence": "sufficient"|"insufficient", "answer": "A".."D"|null}`, with `answer`
  null exactly when `evidence` is "insufficient";
- a line (servers without a JSON response format): exactly one line that reads
  `ANSWER = X` (X in A-D, or NONE for insufficient evidence); no other line starts
  with ANSWER. A JSON reply is accepted here too.

Anything else raises AnswerFormatError with the reason; the caller retries once, then
counts the answer wrong and lists it. A letter is never picked out of free text.

An aesthetics answer must hold the five dimensions of aes.schema.json, each with an
integer score from 0 to 20 and a feedback string (other top-level keys are ignored).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

LETTERS = ("A", "B", "C", "D")
AES_DIMENSIONS = ("element_layout", "attractiveness", "logic_flow", "accuracy_depth", "visual_consistency")
AES_TITLES = {"element_layout": "Element layout", "attractiveness": "Attractiveness",
              "logic_flow": "Logic flow", "accuracy_depth": "Accuracy and depth",
              "visual_consistency": "Visual consistency"}
AES_MAX = 20

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n(.*)\n\s*```$", re.DOTALL)
_LINE = re.compile(r"^ANSWER = ([ABCD]|NONE)$")


class AnswerFormatError(ValueError):
    """The reply does not follow the required format; the message says how."""


@dataclass(frozen=True)
class QuizAnswer:
    evidence: str  # "sufficient" | "insufficient"
    letter: str | None  # the presented letter, None when insufficient


@cache
def schema(name: str) -> dict:
    """quiz_answer.schema.json or aes.schema.json, from the package."""
    text = resources.files("lecture.agents.evaluation").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def _strip_fence(text: str) -> str:
    text = text.strip()
    m = _FENCE.match(text)
    return m.group(1).strip() if m else text


def _json_object(text: str) -> dict:
    body = _strip_fence(text)
    if not body:
        raise AnswerFormatError("the reply is empty")
    try:
        value = json.loads(body)
    except ValueError:
        raise AnswerFormatError("the reply is not a JSON object") from None
    if not isinstance(value, dict):
        raise AnswerFormatError("the reply is JSON but not an object")
    return value


def parse_quiz_json(text: str) -> QuizAnswer:
    value = _json_object(text)
    extra = sorted(set(value) - {"evidence", "answer"})
    if extra:
        raise AnswerFormatError(f"unexpected key(s) {', '.join(map(repr, extra))}")
    if "evidence" not in value or "answer" not in value:
        raise AnswerFormatError('"evidence" and "answer" are both required')
    evidence, answer = value["evidence"], value["answer"]
    if evidence not in ("sufficient", "insufficient"):
        raise AnswerFormatError(f'"evidence" must be "sufficient" or "insufficient", not {evidence!r}')
    if answer is not None and answer not in LETTERS:
        raise AnswerFormatError(f'"answer" must be "A", "B", "C", "D" or null, not {answer!r}')
    if evidence == "insufficient" and answer is not None:
        raise AnswerFormatError('"answer" must be null when "evidence" is "insufficient"')
    if evidence == "sufficient" and answer is None:
        raise AnswerFormatError('"answer" must be a letter when "evidence" is "sufficient"')
    return QuizAnswer(evidence, answer)


def parse_quiz_line(text: str) -> QuizAnswer:
    stripped = text.strip()
    if stripped.startswith(("{", "```")):
        return parse_quiz_json(stripped)
    lines = [ln.strip() for ln in text.splitlines()]
    tagged = [ln for ln in lines if ln.upper().startswith("ANSWER")]
    if not tagged:
        raise AnswerFormatError("no `ANSWER = X` line")
    if len(tagged) > 1:
        raise AnswerFormatError(f"{len(tagged)} lines start with ANSWER; exactly one is allowed")
    m = _LINE.match(tagged[0])
    if not m:
        raise AnswerFormatError(f"{tagged[0]!r} is not `ANSWER = X` with X in A, B, C, D or NONE")
    return QuizAnswer("insufficient", None) if m[1] == "NONE" else QuizAnswer("sufficient", m[1])


def parse_quiz_answer(text: str, mode: str) -> QuizAnswer:
    """The answer of a reply asked in `mode` ("json_schema", "json_object" or "line")."""
    return parse_quiz_line(text) if mode == "line" else parse_quiz_json(text)


def parse_aes(text: str) -> dict[str, dict]:
    """{dimension: {"score": int, "feedback": str}} for the five dimensions."""
    value = _json_object(text)
    result: dict[str, dict] = {}
    missing = [d for d in AES_DIMENSIONS if d not in value]
    if missing:
        raise AnswerFormatError(f"missing dimension(s): {', '.join(missing)}")
    for dim in AES_DIMENSIONS:
        item = value[dim]
        if not isinstance(item, dict) or "score" not in item:
            raise AnswerFormatError(f"{dim}: expected an object with a score and feedback")
        score = item["score"]
        if isinstance(score, bool) or not isinstance(score, int | float) or float(score) != int(score):
            raise AnswerFormatError(f"{dim}: score {score!r} is not an integer")
        if not 0 <= score <= AES_MAX:
            raise AnswerFormatError(f"{dim}: score {score} is outside 0-{AES_MAX}")
        feedback = item.get("feedback", "")
        if not isinstance(feedback, str):
            raise AnswerFormatError(f"{dim}: feedback must be a string")
        result[dim] = {"score": int(score), "feedback": feedback}
    return result
