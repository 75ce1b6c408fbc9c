"""`lecture eval` against the fake OpenAI server: TeachQuiz stage scores and gain, strict
answer reading, option permutations, resuming without repeating a request, the evidence
sent (step frames as image parts, the transcript), aesthetics validation, baselines."""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fake_openai import Error, FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from hypothesis import given, settings
from hypothesis import strategies as st
from lecture.agents.evaluation.answers import AnswerFormatError, parse_aes, parse_quiz_answer
from lecture.agents.evaluation.bank import (
    LETTERS,
    Question,
    build_exclude_list,
    exclusion_reasons,
    load_bank,
    load_exclude,
    longest_option_baseline,
    parse_bank,
    permutations,
    to_original,
)
from lecture.agents.evaluation.cli import add_eval_arguments, run_eval
from lecture.agents.evaluation.video import load_evidence
from rich.console import Console

TOPIC = "Tiny Topic"
BANK = {TOPIC: [
    {"question": "What is two plus two?", "options": {"A": "three", "B": "four", "C": "five", "D": "six"},
     "answer": "B"},
    {"question": "Which shape has three sides?",
     "options": {"A": "a square", "B": "a circle", "C": "a triangle", "D": "a line"}, "answer": "C"},
]}
CORRECT = {q["question"]: q["options"][q["answer"]] for q in BANK[TOPIC]}
DIMS = ("element_layout", "attractiveness", "logic_flow", "accuracy_depth", "visual_consistency")


# ------------------------------------------------------------------ fixtures: videos


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, capture_output=True)


def make_mp4(path: Path, colors=("red", "blue", "green"), seconds: float = 1.0) -> Path:
    """A tiny video of solid colours: a scene change at every colour."""
    inputs: list[str] = []
    for c in colors:
        inputs += ["-f", "lavfi", "-i", f"color=c={c}:s=64x48:d={seconds}:r=10"]
    n = len(colors)
    _ffmpeg(*inputs, "-filter_complex", "".join(f"[{i}:v]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]",
            "-map", "[v]", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))
    return path


SRT = """1
00:00:00,000 --> 00:00:01,000
Two plus two makes four.

2
00:00:01,500 --> 00:00:02,800
A triangle has three sides.
"""

MODULE = """from manim import *

class S01Add(LectureScene):
    def construct(self):
        # step 1, 1s
        self.step(1.0, Write(x))
        # step 2
        self.step(
            0.5,
            Create(y),
        )

class S02Shape(LectureScene):
    def construct(self):
        self.step(1.5, Create(tri))
"""


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("videos")
    plain = make_mp4(root / "tiny-topic.mp4", ("red", "blue", "green", "white"))
    build = root / "build"
    build.mkdir()
    make_mp4(build / "lesson.mp4", ("black", "yellow", "purple"))  # 30 frames at 10 fps
    (build / "lesson_scenes.py").write_text(MODULE, encoding="utf-8")
    (build / "lesson.srt").write_text(SRT, encoding="utf-8")
    manifest = {"lesson": str(root / "missing.lecture"), "title": TOPIC, "fps": 10, "quality": "low",
                "module": str(build / "lesson_scenes.py"), "status": "ok",
                "output": str(build / "lesson.mp4"),
                "duration": 3.0, "frames": 30,
                "sections": [{"id": "add", "title": "Adding", "class_name": "S01Add", "status": "ok",
                              "rendered_duration": 1.5, "frames": 15},
                             {"id": "shape", "title": "Shapes", "class_name": "S02Shape", "status": "ok",
                              "rendered_duration": 1.5, "frames": 15}]}
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return {"plain": plain, "build": build}


@pytest.fixture
def bank_file(tmp_path) -> Path:
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(BANK), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the scripted model


def user_parts(body: dict) -> list[dict]:
    content = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def request_kind(body: dict) -> tuple[str, bool]:
    """(stage, transcript) of a request: "1", "2", "3" or "aes"."""
    parts = user_parts(body)
    text = "\n".join(p.get("text", "") for p in parts if p["type"] == "text")
    if "Rate the video on five dimensions" in text:
        return "aes", False
    has_images = any(p["type"] == "image_url" for p in parts)
    if has_images:
        return "3", "Transcript of the narration" in text
    return ("1" if "using everything you know" in text else "2"), False


def correct_letter(body: dict) -> str:
    text = "\n".join(p.get("text", "") for p in user_parts(body) if p["type"] == "text")
    question = re.search(r"^Question: (.*)$", text, re.MULTILINE)[1]
    options = dict(re.findall(r"^([ABCD])\. (.*)$", text, re.MULTILINE))
    return next(k for k, v in options.items() if v == CORRECT[question])


def question_of(body: dict) -> str:
    text = "\n".join(p.get("text", "") for p in user_parts(body) if p["type"] == "text")
    return re.search(r"^Question: (.*)$", text, re.MULTILINE)[1]


def aes_json(score: int = 15, **changes) -> str:
    value = {d: {"score": score, "feedback": f"{d} ok"} for d in DIMS}
    value.update(changes)
    return json.dumps(value)


def oracle(policy):
    """A reply function: policy(stage, transcript, question) -> "right" | "wrong" | "none" | raw text."""
    def reply(body: dict) -> str:
        stage, transcript = request_kind(body)
        if stage == "aes":
            return aes_json()
        what = policy(stage, transcript, question_of(body))
        if what == "right":
            return json.dumps({"evidence": "sufficient", "answer": correct_letter(body)})
        if what == "wrong":
            wrong = next(k for k in LETTERS if k != correct_letter(body))
            return json.dumps({"evidence": "sufficient", "answer": wrong})
        if what == "none":
            return json.dumps({"evidence": "insufficient", "answer": None})
        return what
    return reply


def paper_policy(stage: str, transcript: bool, question: str) -> str:
    """Knows it all (stage 1), unlearns (stage 2), learns q1 from the frames, both with the transcript."""
    if stage == "1":
        return "right"
    if stage == "2":
        return "none"
    if transcript or question.startswith("What is two"):
        return "right"
    return "none"


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lecture")
    sub = parser.add_subparsers(dest="command")
    add_eval_arguments(sub.add_parser("eval"))
    return parser.parse_args(["eval", *argv])


def run(server: FakeOpenAI, *argv: str) -> tuple[int, str]:
    buffer = io.StringIO()
    args = parse_args(*argv, "--base-url", server.base_url, "--model", "vision-model")
    code = run_eval(args, console=Console(file=buffer, width=300, color_system=None))
    return code, buffer.getvalue()


def report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ TeachQuiz scores


def test_scripted_answers_give_the_expected_stage_scores_and_gain(fake_openai, videos, bank_file, tmp_path):
    fake_openai.add(*[oracle(paper_policy)] * 200)
    out = tmp_path / "out"
    code, printed = run(fake_openai, "quiz", str(videos["build"]), "--topic", TOPIC, "--bank", str(bank_file),
                        "--out", str(out), "--concurrency", "3")
    assert code == 0, printed
    data = report(out)
    s = data["summary"]
    assert (s["1"]["value"], s["2"]["value"], s["3"]["value"], s["3t"]["value"]) == (100.0, 0.0, 50.0, 100.0)
    assert s["gain"]["value"] == 50.0 and s["gain_t"]["value"] == 100.0
    assert s["held"]["value"] is True
    topic = data["topics"][0]
    assert topic["scores"] == {"1": 100.0, "2": 0.0, "3": 50.0, "3t": 100.0}
    assert topic["aes"]["total"] == 75 and topic["orders"] == 4
    # 2 questions x 4 orders x 4 asks (stages 1, 2, 3, 3 + transcript) + 1 aesthetics call
    assert len(fake_openai.chat_requests) == 2 * 4 * 4 + 1
    # debiasing: the correct option was shown under every letter equally often
    assert data["correct_letters"] == {"A": 2, "B": 2, "C": 2, "D": 2}
    assert data["letters"]["1"] == {**{k: 2 for k in LETTERS}, "none": 0, "malformed": 0}
    assert data["letters"]["2"]["none"] == 8
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| Stage 3: unlearned + video frames | 50.0 |" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html


def test_unlearning_that_fails_is_flagged(fake_openai, videos, bank_file, tmp_path):
    policy = lambda stage, transcript, q: "wrong" if stage == "1" else "right"  # noqa: E731
    fake_openai.add(*[oracle(policy)] * 200)
    out = tmp_path / "out"
    code, _ = run(fake_openai, "quiz", str(videos["plain"]), "--topic", "tiny-topic",
                  "--bank", str(bank_file), "--out", str(out), "--no-aes", "--permutations", "2")
    assert code == 0
    s = report(out)["summary"]
    assert s["1"]["value"] == 0.0 and s["2"]["value"] == 100.0 and s["held"]["value"] is False
    assert s["3t"]["value"] is None  # the plain video has no subtitles
    assert "| Unlearning held (stage 2 <= stage 1) | NO |" in (out / "report.md").read_text(encoding="utf-8")


def test_no_debias_asks_the_published_order_once(fake_openai, videos, bank_file, tmp_path):
    fake_openai.add(*[oracle(paper_policy)] * 50)
    out = tmp_path / "out"
    code, _ = run(fake_openai, "quiz", str(videos["plain"]), "--topic", TOPIC, "--bank", str(bank_file),
                  "--out", str(out), "--no-aes", "--no-debias")
    assert code == 0
    assert len(fake_openai.chat_requests) == 2 * 3  # stages 1, 2, 3 (no transcript), one order
    orders = {re.findall(r"^([ABCD])\. (.*)$", request_text(r.body), re.MULTILINE)[0][1]
              for r in fake_openai.chat_requests}
    assert orders == {"three", "a square"}  # option A as published


def request_text(body: dict) -> str:
    return "\n".join(p.get("text", "") for p in user_parts(body) if p["type"] == "text")


# ------------------------------------------------------------------ permutations


@settings(max_examples=60, deadline=None)
@given(qid=st.text(min_size=1, max_size=12), n=st.integers(1, 9), seed=st.integers(0, 10_000),
       answer=st.sampled_from(LETTERS), pick=st.sampled_from(LETTERS))
def test_permutations_map_every_answer_back_to_the_right_option(qid, n, seed, answer, pick):
    options = {k: f"option {k} text" for k in LETTERS}
    q = Question("t/q1", "t", "?", options, answer)
    orders = permutations(qid, n, seed)
    assert orders == permutations(qid, n, seed) and len(orders) == n
    for order in orders:
        assert sorted(order) == list(LETTERS)
        shown = q.presented(order)
        # whatever letter the model picks, it maps back to the option it saw under that letter
        assert options[to_original(order, pick)] == shown[pick]
        assert to_original(order, q.correct_in(order)) == answer
        assert shown[q.correct_in(order)] == options[answer]
    if n >= 4:  # each group of four shows the correct option under every letter once
        assert sorted(q.correct_in(o) for o in orders[:4]) == list(LETTERS)


# ------------------------------------------------------------------ strict reading


def test_strict_parsing_accepts_only_the_formats():
    assert parse_quiz_answer('{"evidence": "sufficient", "answer": "C"}', "json_schema").letter == "C"
    fenced = '```json\n{"evidence": "insufficient", "answer": null}\n```'
    assert parse_quiz_answer(fenced, "json_object").letter is None
    assert parse_quiz_answer("Because of X.\nANSWER = D", "line").letter == "D"
    assert parse_quiz_answer("ANSWER = NONE", "line").evidence == "insufficient"
    for bad, mode in [("B", "json_schema"), ("The answer is B.", "json_schema"),
                      ('{"answer": "B"}', "json_schema"),
                      ('{"evidence": "insufficient", "answer": "B"}', "json_schema"),
                      ('{"evidence": "sufficient", "answer": "E"}', "json_schema"),
                      ('{"evidence": "sufficient", "answer": "B", "why": 1}', "json_schema"),
                      ("ANSWER = B\nANSWER = C", "line"), ("ANSWER: B", "line"), ("I pick B", "line")]:
        with pytest.raises(AnswerFormatError):
            parse_quiz_answer(bad, mode)


def test_a_malformed_answer_is_retried_once_then_counted_wrong_and_listed(fake_openai, videos, bank_file,
                                                                          tmp_path):
    def policy(stage, transcript, question):
        if question.startswith("What is two") and stage == "1":
            return "The answer is clearly B, four."  # never read as B
        return "right"
    fake_openai.add(*[oracle(policy)] * 100)
    out = tmp_path / "out"
    code, _ = run(fake_openai, "quiz", str(videos["plain"]), "--topic", TOPIC, "--bank", str(bank_file),
                  "--out", str(out), "--no-aes", "--permutations", "1")
    assert code == 0
    data = report(out)
    assert data["topics"][0]["scores"]["1"] == 50.0  # q1 counted wrong, q2 right
    assert data["malformed"] == 1 and data["letters"]["1"]["malformed"] == 1
    listed = data["topics"][0]["malformed"][0]
    assert listed["question"] == "tiny-topic/q1" and listed["stage"] == "1"
    assert listed["replies"] == ["The answer is clearly B, four."] * 2
    # the retry went back with the bad reply and the problem named
    retry = [r for r in fake_openai.chat_requests if len(r.messages) == 4]
    assert len(retry) == 1 and retry[0].messages[2]["content"].startswith("The answer is clearly B")
    assert "could not be read: the reply is not a JSON object" in retry[0].messages[3]["content"]
    assert len(fake_openai.chat_requests) == 2 * 3 + 1
    assert "## Malformed answers" in (out / "report.md").read_text(encoding="utf-8")


def test_a_server_without_json_formats_is_asked_for_an_answer_line(fake_openai, videos, bank_file, tmp_path):
    def line(body: dict) -> str:
        assert "response_format" not in body
        return "Reasoning...\nANSWER = " + correct_letter(body)
    fake_openai.add(Error(400, "response_format json_schema is not supported"),
                    Error(400, "response_format json_object is not supported"), *[line] * 20)
    out = tmp_path / "out"
    code, _ = run(fake_openai, "quiz", str(videos["plain"]), "--topic", TOPIC, "--bank", str(bank_file),
                  "--out", str(out), "--no-aes", "--permutations", "1", "--concurrency", "1")
    assert code == 0
    assert report(out)["summary"]["1"]["value"] == 100.0
    assert "ANSWER = X" in request_text(fake_openai.chat_requests[-1].body)


# ------------------------------------------------------------------ resuming


class Stop(KeyboardInterrupt):
    pass


def test_a_killed_run_resumes_without_repeating_a_request(fake_openai, videos, bank_file, tmp_path,
                                                          monkeypatch):
    from lecture.agents.evaluation import runner

    fake_openai.add(*[oracle(paper_policy)] * 200)
    out = tmp_path / "out"
    seen = {"n": 0}
    original = runner.Evaluator.ask

    def ask_then_die(self, task):
        record = original(self, task)
        seen["n"] += 1
        if seen["n"] == 11:
            raise Stop()  # as if Ctrl-C (or a crash) hit after 11 stored answers
        return record

    monkeypatch.setattr(runner.Evaluator, "ask", ask_then_die)
    argv = ("quiz", str(videos["build"]), "--topic", TOPIC, "--bank", str(bank_file), "--out", str(out),
            "--concurrency", "1")
    code, printed = run(fake_openai, *argv)
    assert code == 130 and "run the same command again" in printed
    assert len(fake_openai.chat_requests) == 11
    monkeypatch.setattr(runner.Evaluator, "ask", original)
    code, printed = run(fake_openai, *argv)
    assert code == 0, printed
    total = 2 * 4 * 4 + 1
    assert len(fake_openai.chat_requests) == total  # no request made twice
    keys = [json.loads(line)["key"] for line in (out / "answers.jsonl").read_text().splitlines()]
    assert len(keys) == len(set(keys)) == total
    first = (out / "report.md").read_text(encoding="utf-8"), (out / "report.html").read_text(encoding="utf-8")
    code, printed = run(fake_openai, *argv)  # a third run: nothing to ask, the same report
    assert code == 0 and len(fake_openai.chat_requests) == total and "0 to ask" in printed
    again = (out / "report.md").read_text(encoding="utf-8"), (out / "report.html").read_text(encoding="utf-8")
    assert again == first
    assert report(out)["summary"]["gain"]["value"] == 50.0  # as an uninterrupted run


def test_a_torn_last_line_is_ignored(tmp_path):
    from lecture.agents.evaluation.store import AnswerKey, AnswerStore

    store = AnswerStore(tmp_path / "a.jsonl")
    k1 = AnswerKey("m", "p", "-", "t/q1", "ABCD", "1", False)
    store.add(k1, {"status": "ok"})
    with open(tmp_path / "a.jsonl", "a") as handle:
        handle.write('{"key": "half')
    again = AnswerStore(tmp_path / "a.jsonl")
    assert again.torn_lines == 1 and k1 in again
    k2 = AnswerKey("m", "p", "-", "t/q2", "ABCD", "1", False)
    again.add(k2, {"status": "ok"})
    assert k2 in AnswerStore(tmp_path / "a.jsonl")


# ------------------------------------------------------------------ evidence


def test_the_request_carries_the_step_frames_and_the_transcript(fake_openai, videos, bank_file, tmp_path):
    ev = load_evidence(videos["build"])
    assert ev.kind == "build" and [round(f.time, 2) for f in ev.frames] == [0.9, 1.4, 2.9]
    assert [f.label for f in ev.frames] == ["end of step 1 of section 'add'",
                                            "end of step 2 of section 'add'",
                                            "end of step 1 of section 'shape'"]
    assert all(f.jpeg.startswith(b"\xff\xd8") for f in ev.frames)
    fake_openai.add(*[oracle(paper_policy)] * 200)
    out = tmp_path / "out"
    run(fake_openai, "quiz", str(videos["build"]), "--topic", TOPIC, "--bank", str(bank_file),
        "--out", str(out), "--permutations", "1")
    stage3 = [r for r in fake_openai.chat_requests if request_kind(r.body) == ("3", True)]
    assert len(stage3) == 2
    parts = user_parts(stage3[0].body)
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 3
    assert all(p["image_url"]["url"].startswith("data:image/jpeg;base64,") for p in images)
    assert [p["image_url"]["url"] for p in images] == [f.data_url() for f in ev.frames]
    text = request_text(stage3[0].body)
    assert "Frame 1 of 3 (0:00, end of step 1 of section 'add')" in text
    assert "[0:00] Two plus two makes four.\n[0:01] A triangle has three sides." in text
    without = [r for r in fake_openai.chat_requests if request_kind(r.body) == ("3", False)]
    assert len(without) == 2 and "Two plus two makes four" not in request_text(without[0].body)
    assert all(r.body["response_format"]["type"] == "json_schema" for r in fake_openai.chat_requests)
    # stages 1 and 2 show no video
    assert not any(p["type"] == "image_url" for r in fake_openai.chat_requests
                   if request_kind(r.body)[0] in "12" for p in user_parts(r.body))


def test_a_plain_video_gives_scene_change_frames_capped_and_its_sidecar_subtitles(videos, tmp_path):
    ev = load_evidence(videos["plain"])
    assert ev.kind == "video" and [round(f.time) for f in ev.frames] == [1, 2, 3] and ev.transcript is None
    capped = load_evidence(videos["plain"], max_frames=2)
    assert len(capped.frames) == 2 and capped.key != ev.key
    copy = tmp_path / "copy.mp4"
    shutil.copy(videos["plain"], copy)
    (tmp_path / "copy.srt").write_text(SRT, encoding="utf-8")
    with_subs = load_evidence(copy)
    assert with_subs.transcript.startswith("[0:00] Two plus two")
    assert with_subs.transcript_source == "copy.srt"


# ------------------------------------------------------------------ aesthetics


def test_aes_answers_out_of_range_or_missing_a_dimension_are_rejected():
    assert sum(v["score"] for v in parse_aes(aes_json(20)).values()) == 100
    assert parse_aes(aes_json(0))["logic_flow"]["score"] == 0
    for bad in [aes_json(21), aes_json(-1), aes_json(12.5), aes_json(logic_flow={"feedback": "x"}),
                json.dumps({d: {"score": 10, "feedback": ""} for d in DIMS[:4]}), "scores: 10",
                aes_json(attractiveness={"score": True, "feedback": ""})]:
        with pytest.raises(AnswerFormatError):
            parse_aes(bad)


def test_aes_is_retried_once_then_listed(fake_openai, videos, tmp_path):
    fake_openai.add(aes_json(25), json.dumps({d: {"score": 10, "feedback": ""} for d in DIMS[:4]}))
    out = tmp_path / "out"
    code, _ = run(fake_openai, "aes", str(videos["plain"]), "--topic", TOPIC, "--out", str(out))
    assert code == 0 and len(fake_openai.chat_requests) == 2
    data = report(out)
    assert data["topics"][0]["aes"]["status"] == "malformed"
    assert "missing dimension(s): visual_consistency" in data["topics"][0]["aes"]["problem"]
    fake_openai.add(aes_json(25), aes_json(12))
    out2 = tmp_path / "out2"
    code, _ = run(fake_openai, "aes", str(videos["build"]), "--topic", TOPIC, "--out", str(out2))
    assert code == 0
    data = report(out2)
    assert data["topics"][0]["aes"]["total"] == 60 and data["aes"]["logic_flow"]["value"] == 12
    assert data["topics"][0]["findings"] is not None  # a build: findings looked for (n/a if none)
    assert "Findings/min" in (out2 / "report.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------ bank, baselines, bench


def test_the_longest_option_baseline_matches_a_hand_count():
    bank = parse_bank({"T": [
        {"question": "q1", "options": {"A": "a", "B": "the longest one", "C": "cc", "D": "d"}, "answer": "B"},
        {"question": "q2", "options": {"A": "a", "B": "the longest one", "C": "cc", "D": "d"}, "answer": "C"},
        {"question": "q3", "options": {"A": "tie one", "B": "tie two", "C": "x", "D": "y"}, "answer": "A"},
        {"question": "q4", "options": {"A": "long answer here", "B": "b", "C": "c", "D": "d"}, "answer": "A"},
    ]})
    # 1 + 0 + 1/2 (a tie of two) + 1 = 2.5 of 4
    assert longest_option_baseline(bank.all_questions()) == 62.5


def test_the_packaged_bank_and_exclude_list():
    bank = load_bank()
    assert len(bank.topics) == 117 and len(bank.all_questions()) == 585
    keys, source = load_exclude("default")
    listed = build_exclude_list(bank)
    assert source == "default" and {item["id"] for item in listed} <= keys and 50 <= len(listed) <= 90
    assert exclusion_reasons("Which of the following is TRUE about Wordle as introduced in the video?")
    assert not exclusion_reasons("Which equation correctly expresses Euler's formula?")
    assert not exclusion_reasons("Which of the following is an example of a hyperbolic PDE?")


def test_bench_over_a_folder_of_videos_named_by_topic(fake_openai, videos, tmp_path):
    bank = {**BANK, "Second Topic": [dict(BANK[TOPIC][0])], "No Video Topic": [dict(BANK[TOPIC][1])]}
    bank_path = tmp_path / "bank.json"
    bank_path.write_text(json.dumps(bank), encoding="utf-8")
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(videos["plain"], folder / "tiny-topic.mp4")
    shutil.copytree(videos["build"], folder / "second-topic")
    fake_openai.add(*[oracle(paper_policy)] * 200)
    out = tmp_path / "out"
    code, printed = run(fake_openai, "bench", "--videos", str(folder), "--bank", str(bank_path),
                        "--out", str(out), "--permutations", "2", "--price-in", "2.5", "--price-out", "10")
    assert code == 0, printed
    data = report(out)
    assert [t["kind"] for t in data["topics"]] == ["video", "build", None]
    assert data["missing_videos"] == ["No Video Topic"]
    assert data["summary"]["gain"]["ci"] is not None
    assert set(data["usage"]) == {"1", "2", "3", "3t", "aes"}
    assert data["usage"]["3"]["images"] == 2 * 2 * 3 + 1 * 2 * 3  # frames per request x requests
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "(no video)" in md and "$" in md


def test_server_failures_are_not_stored_and_a_rerun_asks_only_them(fake_openai, videos, bank_file, tmp_path):
    fake_openai.add(Error(500, "overloaded"), *[oracle(paper_policy)] * 30)
    out = tmp_path / "out"
    argv = ("quiz", str(videos["plain"]), "--topic", TOPIC, "--bank", str(bank_file), "--out", str(out),
            "--no-aes", "--permutations", "1", "--concurrency", "1", "--max-retries", "0")
    code, printed = run(fake_openai, *argv)
    assert code == 1 and "1 answer(s) missing" in printed
    assert report(out)["missing"] == 1 and len(fake_openai.chat_requests) == 6
    assert "**Incomplete:** 1 answer(s) missing" in (out / "report.md").read_text(encoding="utf-8")
    code, printed = run(fake_openai, *argv)
    assert code == 0 and len(fake_openai.chat_requests) == 7 and "1 to ask" in printed
    assert report(out)["missing"] == 0 and report(out)["summary"]["1"]["value"] == 100.0
