"""Formula auto-fix: deterministic repairs first (compiler/tex_repair.py), then the model at
that node's scope (the formula and TeX's error only), then a readable last resort at the text
size — never raw LaTeX."""

from __future__ import annotations

import pytest
from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.autofix import MATH_AS_TEXT, MATH_MODEL, MATH_REPAIRED, AutoFixer
from lecture.agents.config import resolve_config
from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.frontend import load_file
from lecture.compiler.lower import compile_lesson
from lecture.compiler.tex_repair import readable_tex, repair_tex
from lecture.runtime.failures import RenderFailure

LESSON = '''lesson "F"

section s "S"
  line l1 "A fraction."
  math eq $\\frac{a}{b$ at C3
  step 2s: say l1 "A fraction."; write eq
'''


@pytest.mark.parametrize("tex, fixed", [
    (r"90\degree", r"90^\circ"), (r"\frac{a}{b", r"\frac{a}{b}"), (r"a} + b", "a + b"),
    (r"\(x^2\)", "x^2"), (r"\left( x", "( x"), ("x = 45°", r"x = 45^\circ"), (r"x \le 3", r"x \le 3"),
    (r"\R^2", r"\mathbb{R}^2"),
])
def test_deterministic_repairs(tex, fixed):
    assert repair_tex(tex) == fixed
    assert repair_tex(fixed) == fixed  # stable


@pytest.mark.parametrize("tex, shown", [
    (r"\frac{a^2}{\sqrt{b}} \le \alpha_1", "a²/√b ≤ α₁"), (r"\mathscr{x} + y^{n+1}", "x + yⁿ⁺¹"),
    (r"\textcolor{green}{a^2} + b^2 = c^2", "a² + b² = c²"), ("x^{", "x"),
])
def test_the_readable_form_has_no_latex(tex, shown):
    assert readable_tex(tex) == shown
    assert "\\" not in readable_tex(tex) and "{" not in readable_tex(tex)


def failure(lesson) -> RenderFailure:
    el = lesson.section("s").element("eq")
    d = Diagnostic("error", "rendering section 's' failed: LaTeX error: ! Missing } inserted.", el.span, None,
                   "render-latex")
    return RenderFailure("s", d, "section s / element eq", 30)


def setup(tmp_path):
    path = tmp_path / "f.lecture"
    path.write_text(LESSON, encoding="utf-8")
    return path, load_file(path).lesson


def code_of(lesson, tmp_path, fixer: AutoFixer) -> str:
    overrides = {key: o.kind for key, o in fixer.overrides.items()}
    return compile_lesson(lesson, base_dir=tmp_path, measurer=None, overrides=overrides).code


def test_repaired_then_the_model_then_readable_text(fake_openai, tmp_path):
    path, lesson = setup(tmp_path)
    config = resolve_config(base_url=fake_openai.base_url, model="planner-model")
    fake_openai.add("```\n$\\dfrac{a}{b}$\n```")
    fixer = AutoFixer(lesson, path, client_config=config)

    first = fixer.fix(failure(lesson))  # braces balanced, no model asked
    assert first.action == MATH_REPAIRED and first.override.text == r"\frac{a}{b}"
    assert first.diagnostics[0].span.line == 5 and fake_openai.chat_requests == []
    assert r"\frac{a}{b}" in code_of(lesson, tmp_path, fixer)

    second = fixer.fix(failure(lesson))  # the repaired formula fails too: the model, at this node only
    assert second.action == MATH_MODEL and second.override.text == r"\dfrac{a}{b}"
    [request] = fake_openai.chat_requests
    assert r"\frac{a}{b" in request.last_user_text and "Missing } inserted" in request.last_user_text
    assert "A fraction" not in request.all_text and request.body["temperature"] == 0  # the node alone
    assert second.record.tokens > 0 and "the model repaired it" in second.diagnostics[0].message
    assert r"\dfrac{a}{b}" in code_of(lesson, tmp_path, fixer)

    third = fixer.fix(failure(lesson))  # fails again: readable text at the text size
    assert third.action == MATH_AS_TEXT and third.diagnostics[0].severity == "warning"
    code = code_of(lesson, tmp_path, fixer)
    assert "eq = text_block(\n            'a/b'" in code
    assert "\\frac" not in code and "MathTex" not in code
    call = code.split("eq = text_block(")[1].split(".move_to")[0]
    assert "font_size=30" in call and "width=" in call  # the text size, wrapped like a `text` element
    assert [r.action for r in fixer.records] == [MATH_REPAIRED, MATH_MODEL, MATH_AS_TEXT]


def test_without_a_model_the_readable_text_comes_next(clean_model_env, tmp_path):
    path, lesson = setup(tmp_path)
    fixer = AutoFixer(lesson, path)
    assert fixer.fix(failure(lesson)).action == MATH_REPAIRED
    assert fixer.fix(failure(lesson)).action == MATH_AS_TEXT


def test_a_model_answer_outside_the_allowlist_is_not_used(fake_openai, tmp_path):
    path, lesson = setup(tmp_path)
    fake_openai.add(r"$\input{/etc/passwd}$")
    fixer = AutoFixer(lesson, path, client_config=resolve_config(base_url=fake_openai.base_url, model="m"))
    fixer.fix(failure(lesson))
    assert fixer.fix(failure(lesson)).action == MATH_AS_TEXT
