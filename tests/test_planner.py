"""The Planner (`lecture new`) against the fake OpenAI server with the real openai client:
outline JSON, section texts, repair turns with the compiler's diagnostics, clean give-up."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.config import NO_MODEL_MESSAGE, resolve_config
from lecture.agents.planner import (
    add_arguments,
    extract_section,
    partial_path,
    plan_lesson,
    run_new,
)
from lecture.compiler.format import format_text
from lecture.compiler.frontend import load_file, load_text
from lecture.compiler.reference import language_reference
from rich.console import Console

OUTLINE = {
    "title": "The Pythagorean Theorem",
    "audience": "ages 12-14",
    "subject": "geometry",
    "sections": [
        {"id": "intro", "title": "Right triangles", "goal": "Recognise a right triangle and its hypotenuse.",
         "seconds": 20,
         "lines": ["A right triangle has one 90° angle.", "Its longest side is the hypotenuse."],
         "visuals": ["a right triangle with legs 3 and 4", "a label c on the hypotenuse"]},
        {"id": "theorem", "title": "The theorem", "goal": "State a² + b² = c².",
         "seconds": 15, "lines": ["The squares of the legs add up."],
         "visuals": ["the formula a^2 + b^2 = c^2"]},
    ],
}

INTRO = '''section intro "Right triangles" 20s
  line l1 "A right triangle has one 90° angle."
  line l2 "Its longest side is the hypotenuse."
  polygon tri (0,0) (4,0) (0,3) in B2..E5 color=blue
  label lc "c" right of tri
  step 3s: say l1 "Here is a right triangle."; create tri
  step 3s: say l2 "Its longest side is called the hypotenuse."; fade in lc
'''

THEOREM = '''section theorem "The theorem" 15s
  line l1 "The squares of the legs add up."
  math eq $a^2 + b^2 = c^2$ at C3
  step 4s: say l1 "Add the squares of the two legs."; write eq
'''

SYNTAX_ERROR = INTRO.replace("create tri\n", "create tri (\n")  # line 6 of the answer
SEMANTIC_ERROR = INTRO.replace("fade in lc", "fade in lcc")  # line 7 of the answer


def outline_json(**changes) -> str:
    return json.dumps({**OUTLINE, **changes}, ensure_ascii=False)


def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=300, color_system=None), buffer


def plan(server: FakeOpenAI, output: Path, **kwargs):
    con, buffer = console()
    config = resolve_config(base_url=server.base_url, model="planner-model", backoff_base=0.001)
    result = plan_lesson("the Pythagorean theorem", audience="ages 12-14", minutes=1,
                         client_config=config, output=output, console=con, **kwargs)
    return result, buffer.getvalue()


def test_happy_path_writes_a_formatted_lesson_that_checks(fake_openai, tmp_path):
    fake_openai.add(outline_json(), "```lecture\n" + INTRO + "```", "Here is the section:\n\n" + THEOREM)
    output = tmp_path / "pythagoras.lecture"
    result, printed = plan(fake_openai, output)

    assert result.ok and result.exit_status == 0 and result.repairs == 0, printed
    text = output.read_text(encoding="utf-8")
    assert text == result.text
    assert format_text(text) == text  # canonical form
    loaded = load_file(output)
    assert [s.id for s in loaded.lesson.sections] == ["intro", "theorem"]
    assert 'audience: "ages 12-14"' in text and 'subject: "geometry"' in text
    assert not partial_path(output).exists()
    assert f"wrote {output}" in printed

    outline_request, intro_request, theorem_request = fake_openai.chat_requests
    assert outline_request.body["model"] == "planner-model"
    assert outline_request.body["response_format"]["type"] == "json_schema"
    schema = outline_request.body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["title", "audience", "sections"]
    for request in (outline_request, intro_request, theorem_request):
        assert language_reference() in request.messages[0]["content"]  # the README's reference, verbatim
    assert "the Pythagorean theorem" in outline_request.last_user_text
    assert '"visuals"' in intro_request.last_user_text and 'section intro "Right triangles" 20s' \
        in intro_request.last_user_text
    assert "Sections already written: intro (Right triangles)" in theorem_request.last_user_text
    assert "response_format" not in intro_request.body
    assert result.usage.per_agent()["planner"].calls == 3


def test_recovers_from_a_syntax_error(fake_openai, tmp_path):
    fake_openai.add(outline_json(), SYNTAX_ERROR, INTRO, THEOREM)
    result, printed = plan(fake_openai, tmp_path / "p.lecture")
    assert result.ok and result.repairs == 1, printed
    repair = fake_openai.chat_requests[2]
    assert [m["role"] for m in repair.messages] == ["system", "user", "assistant", "user"]
    assert repair.messages[2]["content"] == SYNTAX_ERROR
    feedback = repair.last_user_text
    column = SYNTAX_ERROR.splitlines()[5].index("(") + 1
    assert f"answer:6:{column}: error: unexpected '('" in feedback
    assert "create tri (" in feedback and "^" in feedback  # the line, underlined


def test_recovers_from_a_semantic_error(fake_openai, tmp_path):
    fake_openai.add(outline_json(), INTRO, THEOREM.replace("write eq", "write eqq"), THEOREM)
    result, printed = plan(fake_openai, tmp_path / "p.lecture")
    assert result.ok and result.repairs == 1, printed
    feedback = fake_openai.chat_requests[3].last_user_text
    column = THEOREM.splitlines()[3].index("write eq") + len("write ") + 1
    assert f"answer:4:{column}: error: no element named 'eqq' in section 'theorem'" in feedback
    assert "did you mean 'eq'?" in feedback


def test_gives_up_cleanly_after_the_limit(fake_openai, tmp_path):
    fake_openai.add(outline_json(), SEMANTIC_ERROR, SEMANTIC_ERROR, SEMANTIC_ERROR, THEOREM)
    output = tmp_path / "p.lecture"
    result, printed = plan(fake_openai, output, max_repairs=2)

    assert not result.ok and result.exit_status != 0
    assert not output.exists()  # never a half-file under the target name
    partial = tmp_path / "p.partial.lecture"
    assert result.partial == partial and partial.is_file()
    text = partial.read_text(encoding="utf-8")
    assert text.startswith("# PARTIAL") and "fade in lcc" in text and THEOREM in text
    assert len(fake_openai.chat_requests) == 5  # outline + 3 tries of intro + theorem
    # the diagnostics, against the partial file itself, are printed
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.endswith("fade in lcc"))
    assert f"{partial}:{line}:" in printed and "no element named 'lcc'" in printed
    assert "still has errors after 2 repair turns" in printed
    assert [d.message for d in result.diagnostics] == ["no element named 'lcc' in section 'intro'"]


def test_invalid_outline_json_is_repaired(fake_openai, tmp_path):
    broken = dict(OUTLINE, sections=[{k: v for k, v in OUTLINE["sections"][0].items() if k != "visuals"},
                                     dict(OUTLINE["sections"][1], id="Theorem")])
    fake_openai.add("Sure! {\"title\": ", json.dumps(broken), outline_json(), INTRO, THEOREM)
    result, printed = plan(fake_openai, tmp_path / "p.lecture")
    assert result.ok and result.repairs == 2, printed
    first_repair = fake_openai.chat_requests[1].last_user_text
    assert "the answer is not JSON" in first_repair
    second_repair = fake_openai.chat_requests[2].last_user_text
    assert "at sections/0: 'visuals' is a required property" in second_repair
    assert "at sections/1/id: 'Theorem' does not match" in second_repair
    assert fake_openai.chat_requests[2].body["response_format"]["type"] == "json_schema"


def test_outline_that_stays_invalid_is_saved_and_reported(fake_openai, tmp_path):
    first, second = OUTLINE["sections"]
    dup = json.dumps(dict(OUTLINE, sections=[first, dict(second, id="intro")]))
    fake_openai.add(dup, dup)
    result, printed = plan(fake_openai, tmp_path / "p.lecture", max_repairs=1)
    assert not result.ok and result.exit_status != 0
    repair = fake_openai.chat_requests[1].last_user_text
    assert "at sections/1/id: the id 'intro' is used by two sections" in repair
    assert "used by two sections" in printed and "still invalid after 1 repair turn;" in printed
    saved = tmp_path / "p.outline.partial.json"
    assert result.partial == saved and json.loads(saved.read_text(encoding="utf-8")) == json.loads(dup)
    assert not (tmp_path / "p.lecture").exists()


def test_extract_section_tolerates_chatter():
    answer = 'Sure.\n```\nlesson "X"\n\n  section a "A"\n    line l1 "x"\n```\nHope it helps.'
    assert extract_section(answer) == 'section a "A"\n  line l1 "x"\n'


# ------------------------------------------------------------------ the command

def new_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_run_new_succeeds_and_prints_usage(fake_openai, tmp_path):
    fake_openai.add(outline_json(), INTRO, THEOREM)
    con, buffer = console()
    rc = run_new(new_args("Pythagoras", "--base-url", fake_openai.base_url, "--model", "m",
                          "-o", str(tmp_path / "out.lecture")), console=con)
    assert rc == 0, buffer.getvalue()
    load_text((tmp_path / "out.lecture").read_text(encoding="utf-8"))
    assert "planner: 3 calls, " in buffer.getvalue()


def test_run_new_fails_non_zero_and_keeps_the_partial(fake_openai, tmp_path):
    fake_openai.add(outline_json(), SYNTAX_ERROR, SYNTAX_ERROR, THEOREM)
    con, buffer = console()
    rc = run_new(new_args("Pythagoras", "--base-url", fake_openai.base_url, "--max-repairs", "1",
                          "-o", str(tmp_path / "out.lecture")), console=con)
    assert rc == 2
    assert (tmp_path / "out.partial.lecture").is_file() and not (tmp_path / "out.lecture").exists()
    assert "error: unexpected '('" in buffer.getvalue()


def test_run_new_without_a_model_says_what_to_configure(clean_model_env, tmp_path):
    con, buffer = console()
    assert run_new(new_args("Pythagoras"), console=con) == 2
    assert buffer.getvalue().strip() == f"lecture new: error: {NO_MODEL_MESSAGE}"
    assert "Traceback" not in buffer.getvalue()


def test_run_new_refuses_to_overwrite(fake_openai, tmp_path):
    (tmp_path / "x.lecture").write_text("keep me", encoding="utf-8")
    con, buffer = console()
    assert run_new(new_args("T", "--base-url", fake_openai.base_url, "-o", str(tmp_path / "x.lecture")),
                   console=con) == 2
    assert "already exists" in buffer.getvalue() and fake_openai.requests == []


@pytest.mark.parametrize("name, expected", [("a/b.lecture", "a/b.partial.lecture"),
                                            ("lesson", "lesson.partial.lecture")])
def test_partial_path(name, expected):
    assert partial_path(Path(name)) == Path(expected)
