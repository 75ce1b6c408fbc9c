"""`lecture grammar`: the lesson grammar as GBNF and Lark, generated from grammar/lecture.lark,
accepts every example and rejects the corpus's malformed answers; the Planner sends it when
the config says the server supports grammar-guided decoding."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from gbnf_recogniser import accepts, gbnf_regex
from lark import Lark
from lark.exceptions import LarkError
from lecture.agents.client import make_client
from lecture.agents.config import resolve_config
from lecture.agents.planner import Planner, lesson_header
from lecture.compiler.grammar_export import export_grammar
from planner_corpus import CASES, GOOD, OUTLINE

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.lecture")) + [ROOT / "agents/prompts/planner_examples.lecture"]


@cache
def recogniser(root: str) -> re.Pattern[str]:
    return gbnf_regex(export_grammar("gbnf", root=root))


def sections_of(text: str) -> list[str]:
    """The sections of a lesson, each as the Planner would receive it."""
    parts = re.split(r"^(?=section\s)", text, flags=re.M)
    return [re.sub(r"\n\s*\n+$", "\n", p).rstrip("\n") + "\n" for p in parts[1:]]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_gbnf_accepts_every_example_and_each_of_its_sections(path):
    text = path.read_text(encoding="utf-8")
    assert accepts(recogniser("lesson"), text)
    sections = sections_of(text)
    assert sections
    for section in sections:
        assert accepts(recogniser("section"), section), section[:200]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_section_gbnf_rejects_the_malformed_corpus(case):
    assert accepts(recogniser("section"), case.answer) is not case.grammar_rejects
    assert accepts(recogniser("section"), case.accepted)


def test_the_lark_form_parses_a_section_and_refuses_python():
    parser = Lark(export_grammar("lark", root="section"), parser="earley", lexer="dynamic")
    parser.parse(GOOD)
    with pytest.raises(LarkError):
        parser.parse(GOOD.replace("create tri", "create(tri)"))


def test_the_command_prints_the_grammar():
    argv = [sys.executable, "-m", "lecture", "grammar", "--format", "gbnf", "--root", "section"]
    run = subprocess.run(argv,
                         capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout == export_grammar("gbnf", root="section")
    assert run.stdout.splitlines()[1].startswith("root ::= ")


@pytest.mark.parametrize("mode, field, fmt", [("gbnf", "grammar", "gbnf"), ("vllm", "guided_grammar", "gbnf"),
                                              ("vllm-lark", "guided_grammar", "lark")])
def test_the_planner_sends_the_grammar_when_the_server_supports_it(fake_openai, tmp_path, mode, field, fmt):
    (tmp_path / "lecture.toml").write_text(f'[planner]\ngrammar = "{mode}"\n', encoding="utf-8")
    config = resolve_config(base_url=fake_openai.base_url, model="m", start=tmp_path)
    fake_openai.add(GOOD)
    planner = Planner(make_client(config, "planner"), base_dir=tmp_path, deep=False)
    ok, _ = planner.section(OUTLINE, lesson_header(OUTLINE, None), [], 0, "x.lecture")
    assert ok
    body = fake_openai.chat_requests[0].body
    assert body[field] == export_grammar(fmt, root="section")


def test_no_grammar_is_sent_by_default(fake_openai, tmp_path):
    config = resolve_config(base_url=fake_openai.base_url, model="m", start=tmp_path)
    fake_openai.add(GOOD)
    Planner(make_client(config, "planner"), base_dir=tmp_path, deep=False).section(
        OUTLINE, lesson_header(OUTLINE, None), [], 0, "x.lecture")
    body = fake_openai.chat_requests[0].body
    assert "grammar" not in body and "guided_grammar" not in body
