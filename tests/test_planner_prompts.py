"""The Planner's prompts and requests: a system message identical across calls (examples that
pass `check --strict`, the common mistakes, the reference), sampling settings with config
overrides, truncation retried, the prompt size recorded, and `--render` gated by the strict check."""

from __future__ import annotations

import argparse
import io
import json

from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.config import resolve_config
from lecture.agents.planner import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
    add_arguments,
    example_lesson,
    plan_lesson,
    run_new,
    system_prompt,
)
from lecture.agents.prompt_files import prompt
from lecture.agents.section_check import check_lesson_text
from lecture.compiler.reference import language_reference
from planner_corpus import GOOD, OUTLINE_JSON
from rich.console import Console


def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=300, color_system=None), buffer


def test_the_example_lesson_passes_the_whole_checker_and_covers_the_areas():
    text = example_lesson()
    assert check_lesson_text(text, "planner_examples.lecture") == []
    for kind in ("math ", "polygon ", "axes ", "plot ", "value ", "table ", "bullets "):
        assert f"\n  {kind}" in text
    assert text.count("\nsection ") == 4 and text.count("# AREA") == 4


def test_the_system_prompt_teaches(tmp_path):
    system = system_prompt()
    assert example_lesson().rstrip() in system and language_reference() in system
    assert prompt("planner_mistakes").strip() in system
    for mistake in ("not `line l1: \"Text\"`", "not `circle(c, at=B2)`", "90\\degree", "\\n is a line break"):
        assert mistake in system
    assert "Answer with exactly one section" in prompt("section")


def test_requests_share_their_prefix_and_carry_sampling(fake_openai, tmp_path):
    fake_openai.add(OUTLINE_JSON, GOOD)
    con, _ = console()
    config = resolve_config(base_url=fake_openai.base_url, model="m")
    result = plan_lesson("triangles", client_config=config, output=tmp_path / "t.lecture", console=con,
                         minutes=1, critic=False)
    assert result.ok
    outline, section = fake_openai.chat_requests
    assert outline.messages[0] == section.messages[0]  # the same system message: a cacheable prefix
    for request in (outline, section):
        assert request.body["temperature"] == DEFAULT_TEMPERATURE
        assert request.body["max_tokens"] == DEFAULT_MAX_TOKENS
    assert [c.stage for c in result.calls] == ["outline", "demo"]
    assert all(c.prompt_tokens_estimated > 5000 for c in result.calls)  # the reference and the examples


def test_sampling_comes_from_the_config(fake_openai, tmp_path):
    (tmp_path / "lecture.toml").write_text("[model]\ntemperature = 0.7\n[planner]\nmax_tokens = 5000\n",
                                           encoding="utf-8")
    fake_openai.add(OUTLINE_JSON, GOOD)
    con, _ = console()
    config = resolve_config(base_url=fake_openai.base_url, model="m", start=tmp_path)
    assert plan_lesson("t", client_config=config, output=tmp_path / "t.lecture", console=con, critic=False).ok
    body = fake_openai.chat_requests[1].body
    assert (body["temperature"], body["max_tokens"]) == (0.7, 5000)


def test_a_truncated_outline_is_asked_again_with_more_room(fake_openai, tmp_path):
    fake_openai.add(OUTLINE_JSON[:200], finish_reason="length")
    fake_openai.add(OUTLINE_JSON, GOOD)
    con, printed = console()
    config = resolve_config(base_url=fake_openai.base_url, model="m")
    result = plan_lesson("t", client_config=config, output=tmp_path / "t.lecture", console=con, critic=False)
    assert result.ok and result.repairs == 1, printed.getvalue()
    first, second, _ = fake_openai.chat_requests
    assert second.body["max_tokens"] == 2 * first.body["max_tokens"]
    assert second.messages == first.messages  # the cut answer is not argued with


def new_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_render_renders_only_what_check_strict_accepts(fake_openai, tmp_path):
    """A section accepted with a warning the Critic cannot fix (its narration outlasts its step,
    no repair turns left) is written, not rendered."""
    fake_openai.add(OUTLINE_JSON, GOOD.replace("step 6s: say l2", "step 1s: say l2"))
    con, buffer = console()
    rc = run_new(new_args("t", "--base-url", fake_openai.base_url, "--model", "m", "--max-repairs", "0",
                          "--render", "-o", str(tmp_path / "t.lecture")), console=con)
    out = buffer.getvalue()
    assert rc == 2, out
    assert (tmp_path / "t.lecture").is_file()  # the lesson is valid: it is kept
    assert "not rendered: `lecture check --strict" in out and "narration" in out
    assert "planner prompt per call: about " in out
    assert not (tmp_path / "build").exists()


def test_the_critic_runs_before_the_file_is_written(fake_openai, tmp_path):
    """The overlap the model left is moved away by the geometry Critic's anchor edits."""
    overlap = GOOD.replace("in B4..C6", "at C2")
    fake_openai.add(OUTLINE_JSON, overlap)
    con, buffer = console()
    config = resolve_config(base_url=fake_openai.base_url, model="m")
    result = plan_lesson("t", client_config=config, output=tmp_path / "t.lecture", console=con, max_repairs=0)
    assert result.ok, buffer.getvalue()
    text = (tmp_path / "t.lecture").read_text(encoding="utf-8")
    assert "math eq $a^2 + b^2 = c^2$ at C2" not in text and "critic:" in buffer.getvalue()
    assert check_lesson_text(text, "t.lecture", base_dir=tmp_path) == []
    assert json.loads(OUTLINE_JSON)["sections"][0]["id"] == "demo"
