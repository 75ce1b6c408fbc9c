"""The TeachQuiz bank: topics, questions, ids, the exclude list, option permutations, and
the baselines computed without any model.

- `load_bank()` -> `Bank` (the packaged MMMC bank, or any file of the same shape:
  `{topic: [{question, options: {A, B, C, D}, answer}]}`).
- `question_id(topic, i)` = `<slug>/q<i+1>`; `slug(topic)` is also the file name a video of
  that topic has in a `lecture eval bench --videos DIR` folder.
- `permutations(qid, n, seed)`: the presented orders of a question's options. With n = 4
  (the default) they are the four cyclic shifts of one seeded shuffle, so the correct
  option is shown once under each letter: a model's letter preference cancels out.
- `exclusion_reasons(question)`: the rule that builds `exclude.json` (see EXCLUDE_RULES).
- `longest_option_baseline(questions)`: the score of always choosing the longest option.

Run `python -m lecture.agents.evaluation.bank --write-exclude` to rebuild exclude.json.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

LETTERS = ("A", "B", "C", "D")
PACKAGE = "lecture.agents.evaluation"

# The exclude rule. A question is excluded when its *question text* (never its options)
# matches one of these patterns, case-insensitively: it then only makes sense for the
# particular original video (it names the medium, a section of it, a visual shown, or a
# worked example / analogy / character of its own), and a different video on the same
# topic cannot be expected to answer it.
EXCLUDE_RULES: tuple[tuple[str, str], ...] = (
    ("names-the-medium",
     r"\b(video|videos|animation|animated|syllabus|lesson|presentation|warm-up|summary|final section|"
     r"applications section|introduction|in this topic|the topic|on screen|narrator|presenter)\b"),
    ("as-shown",
     r"\bas (shown|depicted|illustrated|demonstrated|explained|described|highlighted|mentioned|visualized"
     r"|presented in the (syllabus|video|lesson))\b"
     r"|\bas (introduced|discussed) (?!in the context of)"),
    ("shown-by",
     r"\b(shown|depicted|illustrated|demonstrated|explained|visualized) (by|with|through|in the|at the)\b"),
    ("its-own-example", r"\b(the|this) (?!following\b)([\w'’-]+ ){0,3}(example|examples|analogy)\b"),
    ("a-visual-shown", r"\b(graph|graphs|diagram|image|figure|picture)s? shown\b|\bshown in the\b"),
    ("a-character", r"\bcartoon\b"),
)
_COMPILED = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in EXCLUDE_RULES)


class BankError(ValueError):
    """The question bank, a topic list or an exclude list is unusable."""


@dataclass(frozen=True)
class Question:
    id: str  # "<topic slug>/q<n>"
    topic: str
    text: str
    options: dict[str, str]  # the original options, A..D
    answer: str  # the original correct letter

    def presented(self, order: str) -> dict[str, str]:
        """The options as shown under `order`: presented letter i shows original option order[i]."""
        return {LETTERS[i]: self.options[original] for i, original in enumerate(order)}

    def correct_in(self, order: str) -> str:
        """The presented letter of the correct option under `order`."""
        return LETTERS[order.index(self.answer)]


def to_original(order: str, presented_letter: str) -> str:
    """The original letter of the option shown under `presented_letter`."""
    return order[LETTERS.index(presented_letter)]


def slug(topic: str) -> str:
    """Lower-case ASCII words joined by '-':
    "Euler's Formula and e^(πi) = -1" -> "euler-s-formula-and-e-i-1"."""
    ascii_text = unicodedata.normalize("NFKD", topic).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "topic"


def question_id(topic: str, index: int) -> str:
    return f"{slug(topic)}/q{index + 1}"


@dataclass(frozen=True)
class Bank:
    topics: tuple[str, ...]
    questions: dict[str, tuple[Question, ...]]  # topic -> its questions

    def topic_by_slug(self, name: str) -> str | None:
        for topic in self.topics:
            if slug(topic) == name or topic == name:
                return topic
        return None

    def all_questions(self) -> list[Question]:
        return [q for t in self.topics for q in self.questions.get(t, ())]


def _read_json_resource(name: str):
    return json.loads(resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8"))


def parse_bank(data: object, topics: Sequence[str] | None = None, where: str = "the bank") -> Bank:
    if not isinstance(data, dict):
        raise BankError(f"{where}: expected an object {{topic: [questions]}}")
    questions: dict[str, tuple[Question, ...]] = {}
    seen_slugs: dict[str, str] = {}
    for topic, items in data.items():
        s = slug(topic)
        if s in seen_slugs and seen_slugs[s] != topic:
            raise BankError(f"{where}: topics {seen_slugs[s]!r} and {topic!r} have the same slug {s!r}")
        seen_slugs[s] = topic
        if not isinstance(items, list):
            raise BankError(f"{where}: {topic!r}: expected a list of questions")
        parsed = []
        for i, item in enumerate(items):
            try:
                options = {k: str(item["options"][k]) for k in LETTERS}
                answer = str(item["answer"]).strip().upper()
                text = str(item["question"])
            except (KeyError, TypeError):
                raise BankError(f"{where}: {topic!r} question {i + 1}: needs question, options A-D, "
                                "answer") from None
            if answer not in LETTERS:
                raise BankError(f"{where}: {topic!r} question {i + 1}: answer {answer!r} is not A-D")
            parsed.append(Question(question_id(topic, i), topic, text, options, answer))
        questions[topic] = tuple(parsed)
    order = tuple(topics) if topics is not None else tuple(questions)
    missing = [t for t in order if t not in questions]
    if missing:
        raise BankError(f"{where}: no questions for {', '.join(repr(t) for t in missing[:3])}")
    return Bank(order, questions)


def load_bank(path: str | Path | None = None) -> Bank:
    """The packaged MMMC bank (117 topics, 585 questions), or a bank file of the same shape."""
    if path is None:
        topics = _read_json_resource("data/mmmc_topics.json")
        return parse_bank(_read_json_resource("data/mmmc_questions.json"), topics, "mmmc_questions.json")
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BankError(f"{path}: cannot read the question bank: {exc}") from None
    return parse_bank(data, None, str(path))


def select_topics(bank: Bank, spec: str | None) -> list[str]:
    """`all` (or None), a file with one topic (or slug) per line or a JSON list, or topics /
    slugs separated by commas."""
    if spec in (None, "", "all"):
        return list(bank.topics)
    path = Path(spec)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        try:
            names = json.loads(text)
            if not isinstance(names, list):
                raise ValueError
        except ValueError:
            names = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    else:
        names = [spec] if bank.topic_by_slug(spec) else [n.strip() for n in spec.split(",") if n.strip()]
    topics = []
    for name in names:
        topic = bank.topic_by_slug(str(name))
        if topic is None:
            raise BankError(f"unknown topic {name!r} (give a topic of the bank or its slug)")
        if topic not in topics:
            topics.append(topic)
    return topics


# ------------------------------------------------------------------ exclusion


def exclusion_reasons(text: str) -> list[str]:
    """The names of the EXCLUDE_RULES that a question text matches ([] when it is kept)."""
    return [name for name, pattern in _COMPILED if pattern.search(text)]


def build_exclude_list(bank: Bank) -> list[dict]:
    return [{"id": q.id, "question": q.text, "rules": reasons}
            for q in bank.all_questions() if (reasons := exclusion_reasons(q.text))]


def load_exclude(spec: str | None) -> tuple[set[str], str]:
    """The excluded question ids/texts and a description. `spec`: None or "default" (the
    packaged exclude.json), "none", or a JSON file holding a list of ids, question texts,
    or objects with "id" / "question"."""
    if spec == "none":
        return set(), "none"
    if spec in (None, "default"):
        data, where = _read_json_resource("exclude.json"), "default"
    else:
        try:
            data, where = json.loads(Path(spec).read_text(encoding="utf-8")), spec
        except (OSError, ValueError) as exc:
            raise BankError(f"{spec}: cannot read the exclude list: {exc}") from None
    if not isinstance(data, list):
        raise BankError(f"{where}: the exclude list must be a JSON list")
    keys: set[str] = set()
    for item in data:
        if isinstance(item, str):
            keys.add(item)
        elif isinstance(item, dict):
            keys.update(str(item[k]) for k in ("id", "question") if k in item)
        else:
            raise BankError(f"{where}: exclude entries are ids, question texts or objects")
    return keys, where


def is_excluded(question: Question, keys: set[str]) -> bool:
    return question.id in keys or question.text in keys


# ------------------------------------------------------------------ permutations


def permutations(qid: str, n: int, seed: int) -> list[str]:
    """`n` presented orders of a question's options, e.g. ["CADB", "ADBC", ...], the same
    for the same (qid, n, seed). n = 1 with debiasing off is the original order "ABCD"
    (see `orders_for`). Each group of four is the cyclic shifts of one seeded shuffle: in
    each group the correct option appears under every letter once."""
    orders: list[str] = []
    group = 0
    while len(orders) < n:
        rng = random.Random(f"{seed}:{qid}:{group}")
        base = list(LETTERS)
        rng.shuffle(base)
        for shift in range(4):
            if len(orders) == n:
                break
            orders.append("".join(base[shift:] + base[:shift]))
        group += 1
    return orders


def orders_for(qid: str, *, debias: bool, n: int, seed: int) -> list[str]:
    return permutations(qid, n, seed) if debias else ["ABCD"]


# ------------------------------------------------------------------ baselines


def longest_letters(options: dict[str, str]) -> list[str]:
    """The letters of the longest options (several on a tie), by characters after strip()."""
    lengths = {k: len(v.strip()) for k, v in options.items()}
    top = max(lengths.values())
    return [k for k in LETTERS if lengths[k] == top]


def longest_option_score(question: Question) -> float:
    """1 when the correct option is the only longest, 1/k when it ties with k-1 others, else 0
    (the expected score of choosing the longest and breaking ties at random). It does not
    depend on the order the options are shown in."""
    tied = longest_letters(question.options)
    return 1.0 / len(tied) if question.answer in tied else 0.0


def longest_option_baseline(questions: Iterable[Question]) -> float:
    """Percent correct when always choosing the longest option (no model involved)."""
    qs = list(questions)
    return 100.0 * sum(longest_option_score(q) for q in qs) / len(qs) if qs else 0.0


def answer_letter_distribution(questions: Iterable[Question], orders: dict[str, list[str]] | None = None
                               ) -> Counter:
    """How often each letter is the correct one, as the bank has it or as presented."""
    counts: Counter = Counter({k: 0 for k in LETTERS})
    for q in questions:
        for order in (orders or {}).get(q.id, ["ABCD"]):
            counts[q.correct_in(order)] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="TeachQuiz bank tools")
    parser.add_argument("--write-exclude", action="store_true", help="rebuild exclude.json from the rule")
    args = parser.parse_args(argv)
    bank = load_bank()
    excluded = build_exclude_list(bank)
    if args.write_exclude:
        target = Path(__file__).with_name("exclude.json")
        target.write_text(json.dumps(excluded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {target}: {len(excluded)} of {len(bank.all_questions())} questions excluded")
    else:
        for item in excluded:
            print(f"{item['id']}\t{','.join(item['rules'])}\t{item['question']}")
        print(f"{len(excluded)} of {len(bank.all_questions())} questions excluded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
