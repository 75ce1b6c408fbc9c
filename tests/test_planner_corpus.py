"""The Planner's loop against a corpus of realistic model mistakes (tests/planner_corpus.py),
through the real `openai` client and the scripted server: every mistake is repaired, in one
turn at most, with the whole checker's findings sent back against the model's own lines."""

from __future__ import annotations

import io

import pytest
from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.client import make_client
from lecture.agents.config import resolve_config
from lecture.agents.planner import Planner, lesson_header
from lecture.agents.section_check import check_lesson_text
from planner_corpus import CASES, GOOD, OUTLINE, Case
from rich.console import Console

FAMILIES = {"yaml", "python", "markdown", "formula", "sections", "ids", "layout", "timing", "invented",
            "truncated"}


@pytest.fixture(scope="module", name="folder")
def folder_fixture(tmp_path_factory):
    """One lesson folder for every case: the checker's results are kept by content and
    folder, so the many answers that are alike (the repaired section) are checked once."""
    return tmp_path_factory.mktemp("corpus")


def planner_for(server: FakeOpenAI, tmp_path) -> tuple[Planner, io.StringIO]:
    buffer = io.StringIO()
    config = resolve_config(base_url=server.base_url, model="m", backoff_base=0.001)
    planner = Planner(make_client(config, "planner"), max_repairs=2, base_dir=tmp_path,
                      console=Console(file=buffer, width=200, color_system=None))
    return planner, buffer


def test_the_corpus_is_large_and_covers_every_family():
    assert len(CASES) >= 25 and len({c.name for c in CASES}) == len(CASES)
    assert {c.family for c in CASES} == FAMILIES
    assert not check_lesson_text(lesson_header(OUTLINE, None) + "\n" + GOOD, "good.lecture")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_mistake_is_repaired(fake_openai, folder, case: Case):
    fake_openai.add(case.answer, finish_reason=case.finish_reason)
    if case.repair is not None:
        fake_openai.add(case.repair)
    planner, printed = planner_for(fake_openai, folder)
    ok, checked = planner.section(OUTLINE, lesson_header(OUTLINE, None), [], 0, "lesson.lecture")

    assert ok and checked.clean, checked.feedback
    assert checked.text == case.accepted  # exactly the requested section
    turns = len(fake_openai.chat_requests) - 1
    assert turns == (0 if case.repair is None else 1) and planner.repairs == turns
    if case.repair is None:
        return
    second = fake_openai.chat_requests[1]
    if case.finish_reason == "length":  # asked again with more room, the cut answer never checked
        assert second.body["max_tokens"] == 2 * fake_openai.chat_requests[0].body["max_tokens"]
        assert second.messages == fake_openai.chat_requests[0].messages
        assert case.expect in printed.getvalue()
        return
    assert [m["role"] for m in second.messages] == ["system", "user", "assistant", "user"]
    assert second.messages[2]["content"] == case.answer
    feedback = second.last_user_text
    assert case.expect in feedback, feedback
    assert "lesson.lecture" not in feedback  # line numbers are the answer's own, never the lesson's


def test_every_problem_goes_back_in_one_turn(fake_openai, folder):
    """Two syntax errors, an unknown option and an overlap: all in the first feedback."""
    bad = GOOD.replace('line l1 "A', 'line l1: "A').replace("create tri", "create(tri)")
    fake_openai.add(bad, GOOD.replace("color=blue", "color=blue glow=2").replace("in B4..C6", "at C2"), GOOD)
    planner, _ = planner_for(fake_openai, folder)
    ok, _ = planner.section(OUTLINE, lesson_header(OUTLINE, None), [], 0, "lesson.lecture")
    assert ok
    first = fake_openai.chat_requests[1].last_user_text
    assert "answer:2:" in first and "answer:6:" in first  # both syntax errors, not only the first
    second = fake_openai.chat_requests[2].last_user_text
    assert "unknown option 'glow'" in second


def test_warnings_alone_go_back_too(fake_openai, folder):
    overlap = GOOD.replace("in B4..C6", "at C2")
    fake_openai.add(overlap, GOOD)
    planner, _ = planner_for(fake_openai, folder)
    ok, checked = planner.section(OUTLINE, lesson_header(OUTLINE, None), [], 0, "lesson.lecture")
    assert ok and checked.clean
    feedback = fake_openai.chat_requests[1].last_user_text
    assert "answer:5:3: warning: 'eq' overlaps 'tri' (line 4) by" in feedback, feedback
    assert "in step 2 (line 7)" in feedback


def test_a_second_section_is_never_accepted(fake_openai, folder):
    """The extra section is dropped; when a repair is needed anyway, the model is told."""
    extra = '\nsection more "More" 10s\n  line l1 "More."\n  step 4s: say l1 "More to come."\n'
    fake_openai.add(GOOD.replace("write eq", "write eqq") + extra, GOOD)
    planner, _ = planner_for(fake_openai, folder)
    ok, checked = planner.section(OUTLINE, lesson_header(OUTLINE, None), [], 0, "lesson.lecture")
    assert ok and checked.text == GOOD and "section more" not in checked.text
    feedback = fake_openai.chat_requests[1].last_user_text
    assert "only section demo was kept: answer with exactly one section" in feedback


def test_a_later_section_is_told_its_own_lines(fake_openai, folder):
    """After accepted sections, layout findings and clashes still speak of the answer's lines."""
    first = GOOD.replace("section demo", "section first")
    outline = dict(OUTLINE, sections=[dict(OUTLINE["sections"][0], id="first"), OUTLINE["sections"][0]])
    fake_openai.add(GOOD.replace("in B4..C6", "at C2").replace("section demo", "section first"), GOOD)
    planner, _ = planner_for(fake_openai, folder)
    ok, checked = planner.section(outline, lesson_header(OUTLINE, None), [first], 1, "lesson.lecture")
    assert ok and checked.text == GOOD
    feedback = fake_openai.chat_requests[1].last_user_text
    assert "answer:1:9: error: this section is 'first', but section 'demo' was asked for" in feedback
    # the id clash, without the line numbers of the lesson, which the model never saw
    assert "section 'first' is defined twice" in feedback and "the first is in an earlier section" in feedback
    assert "line 5" not in feedback and "line 9" not in feedback


def test_layout_findings_of_a_later_section_point_into_its_answer(fake_openai, folder):
    first = GOOD.replace("section demo", "section first")
    outline = dict(OUTLINE, sections=[dict(OUTLINE["sections"][0], id="first"), OUTLINE["sections"][0]])
    fake_openai.add(GOOD.replace("in B4..C6", "at C2"), GOOD)
    planner, _ = planner_for(fake_openai, folder)
    ok, _ = planner.section(outline, lesson_header(OUTLINE, None), [first], 1, "lesson.lecture")
    assert ok
    feedback = fake_openai.chat_requests[1].last_user_text
    assert "answer:5:3: warning: 'eq' overlaps 'tri' (line 4) by" in feedback and "(line 7)" in feedback
