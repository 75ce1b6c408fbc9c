"""Auto-fix at node scope: a render failure mapped to its node, repaired alone (math as
text, image placeholder, the Coder for custom code with at most 3 tries, else a
placeholder), the lock file changed in that node's entry only, every repair recorded."""

from __future__ import annotations

import json
from pathlib import Path

from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.autofix import (
    IMAGE_PLACEHOLDER,
    MATH_AS_TEXT,
    NEW_CODE,
    NO_REPAIR,
    PLACEHOLDER,
    AutoFixer,
)
from lecture.agents.coder import extract_code
from lecture.agents.config import resolve_config
from lecture.agents.custom_elements import collect_custom_nodes, resolve_custom_nodes
from lecture.agents.lockfile import LockEntry, LockFile, lock_path
from lecture.agents.usage import UsageLog
from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.frontend import load_file
from lecture.runtime.failures import RenderFailure
from lecture.runtime.trust import TrustStore

LESSON = '''lesson "Squares"

section proof "Proof"
  line l1 "Squares add up."
  custom proof "A square whose corner spins once." in B2..D5
  custom other "A dot that blinks." at F6
  circle c1 at A1
  math eq $x^3 + y^3$ at A3
  image photo "missing.png" at A5
  step 2s: say l1 "Look."; create other, c1, eq, photo
  step 2s: play proof
'''
DATE, FIX_DATE = "2025-01-02T03:04:05Z", "2025-02-03T04:05:06Z"

PROOF_V1 = '''```python
from manim import *

def build(box):
    sq = Square(side_length=1.5, color="#58c4dd").move_to(box.center)
    return VGroup(sq), [Create(sq), Rotate(sq, angle=TAU)]
```'''
OTHER = '''```python
from manim import *

def build(box):
    dot = Dot(box.center, color="#f7d96f")
    return VGroup(dot), [FadeIn(dot)]
```'''
PROOF_FIXED = PROOF_V1.replace("Rotate(sq, angle=TAU)", "Rotate(sq, angle=PI)")
STATIC_BAD = "import os\n\ndef build(box):\n    return os, []\n"
TRACEBACK = ('Traceback (most recent call last):\n  File "lesson_scenes.py", line 30, in custom_proof_proof\n'
             "ValueError: the corner cannot spin")


def setup(tmp_path: Path, server: FakeOpenAI):
    """A lesson whose two custom elements are locked (written straight into the lock file,
    as a commit would bring it) and trusted on this machine."""
    path = tmp_path / "squares.lecture"
    path.write_text(LESSON, encoding="utf-8")
    (tmp_path / "missing.png").write_bytes(b"")  # present for the check; the render says otherwise
    lesson = load_file(path).lesson
    lock = LockFile.load(lock_path(path))
    for node, answer in zip(collect_custom_nodes(lesson, base_dir=tmp_path), (PROOF_V1, OTHER), strict=True):
        lock.set(node.key, LockEntry(node.section, node.element, node.description, node.placement,
                                     list(node.box), node.theme.name, extract_code(answer), "coder-model",
                                     DATE, 1, 1000, 200))
        TrustStore.default().trust_code(extract_code(answer))  # as `lecture trust` would
    lock.save()
    cfg = resolve_config(base_url=server.base_url, model="coder-model", backoff_base=0.001)
    custom = resolve_custom_nodes(lesson, path, client_config=cfg)
    assert custom.ok and not custom.written, custom.diagnostics
    assert not server.chat_requests
    return path, lesson, cfg, custom


def failure_at(lesson, element: str, message: str, code: str = "render-exception") -> RenderFailure:
    el = lesson.section("proof").element(element)
    d = Diagnostic("error", f"rendering section 'proof' failed: {message}", el.span, None, code)
    return RenderFailure("proof", d, f"section proof / element {element}", 30)


def entries(path: Path) -> dict:
    return json.loads(lock_path(path).read_text(encoding="utf-8"))["entries"]


def test_a_custom_node_is_fixed_on_the_second_try_and_only_its_entry_changes(fake_openai, tmp_path):
    path, lesson, cfg, custom = setup(tmp_path, fake_openai)
    before = entries(path)
    calls_before = 0
    fake_openai.add(STATIC_BAD, PROOF_FIXED, usage=(500, 100))
    usage = UsageLog()
    fixer = AutoFixer(lesson, path, custom=custom, client_config=cfg, usage=usage, now=lambda: FIX_DATE)
    repair = fixer.fix(failure_at(lesson, "proof", "ValueError: the corner cannot spin"), TRACEBACK)

    assert repair.action == NEW_CODE and repair.ok and repair.lock_written
    assert repair.code == extract_code(PROOF_FIXED)
    assert repair.record.tries == 2 and repair.record.tokens == 1200
    assert (repair.record.section, repair.record.element, repair.record.line) == ("proof", "proof", 5)
    assert custom.code_for("proof", "proof") == repair.code  # this build uses it at once

    first, second = fake_openai.chat_requests[calls_before:]
    scope = first.all_text
    assert TRACEBACK in scope and "Rotate(sq, angle=TAU)" in scope  # its error and its own code
    assert "A square whose corner spins once." in scope and "left = 1.1, bottom = -1.2" in scope
    assert "A dot that blinks." not in scope and "x^3 + y^3" not in scope  # never the whole lesson
    assert "Squares add up." not in scope
    assert "`import os` is not allowed" in second.last_user_text

    after = entries(path)
    key = custom.node("proof", "proof").key
    assert after[key]["code"] == repair.code and after[key]["date"] == FIX_DATE
    assert after[key]["tries"] == 2 and after[key]["tokens"]["total"] == 1200
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    assert after.keys() == before.keys()
    assert path.read_text(encoding="utf-8") == LESSON
    assert [r.to_json()["action"] for r in fixer.records] == [NEW_CODE]


def test_a_node_that_fails_three_times_becomes_a_placeholder(fake_openai, tmp_path):
    path, lesson, cfg, custom = setup(tmp_path, fake_openai)
    lock_before = lock_path(path).read_bytes()
    fake_openai.add(STATIC_BAD, STATIC_BAD, STATIC_BAD, usage=(100, 10))
    usage = UsageLog()
    fixer = AutoFixer(lesson, path, custom=custom, client_config=cfg, usage=usage)
    repair = fixer.fix(failure_at(lesson, "proof", "ValueError: the corner cannot spin"), TRACEBACK)

    assert repair.action == PLACEHOLDER and repair.ok  # render again, with the placeholder
    assert repair.record.tries == 3 and not repair.record.ok
    assert repair.override.kind == PLACEHOLDER and repair.override.text == "A square whose corner spins once."
    assert fixer.overrides == {("proof", "proof"): repair.override}
    [warning] = repair.diagnostics
    assert warning.severity == "warning" and "custom element 'proof' still fails" in warning.message
    assert warning.span.line == 5
    assert lock_path(path).read_bytes() == lock_before
    # Token accounting adds up: the records, the usage log of the "coder" agent.
    coder = usage.per_agent()["coder"]
    assert coder.calls == 3 and coder.total_tokens == 330 == sum(r.tokens for r in fixer.records)
    # Failing again as a placeholder: nothing safe is left.
    again = fixer.fix(failure_at(lesson, "proof", "still broken"))
    assert again.action == NO_REPAIR and not again.ok and again.record.tries == 0
    assert len(fake_openai.chat_requests) == 3  # no more model calls


def test_tries_are_counted_per_node_across_renders(fake_openai, tmp_path):
    path, lesson, cfg, custom = setup(tmp_path, fake_openai)
    fake_openai.add(STATIC_BAD, PROOF_FIXED, STATIC_BAD)
    fixer = AutoFixer(lesson, path, custom=custom, client_config=cfg)
    assert fixer.fix(failure_at(lesson, "proof", "first failure"), TRACEBACK).action == NEW_CODE
    # The fixed code fails at render too: one try is left of the 3.
    repair = fixer.fix(failure_at(lesson, "proof", "second failure"), TRACEBACK)
    assert repair.action == PLACEHOLDER and repair.record.tries == 1
    assert fake_openai.pending == 0


def test_deterministic_repairs_of_built_in_nodes(clean_model_env, tmp_path):
    path = tmp_path / "squares.lecture"
    path.write_text(LESSON, encoding="utf-8")
    (tmp_path / "missing.png").write_bytes(b"")
    lesson = load_file(path).lesson
    fixer = AutoFixer(lesson, path)  # no model: the rules need none

    math = fixer.fix(failure_at(lesson, "eq", "LaTeX could not typeset this formula", "render-latex"))
    assert math.action == MATH_AS_TEXT and math.ok and math.override.text == "x^3 + y^3"
    assert math.diagnostics[0].severity == "warning" and math.diagnostics[0].span.line == 8

    image = fixer.fix(failure_at(lesson, "photo", "a file this element needs is missing: missing.png",
                                 "render-missing-file"))
    assert image.action == IMAGE_PLACEHOLDER and image.override.text == "missing.png"

    circle = fixer.fix(failure_at(lesson, "c1", "ZeroDivisionError: division by zero"))
    assert circle.action == NO_REPAIR and not circle.ok
    [error] = circle.diagnostics
    assert error.severity == "error" and (error.span.line, error.span.column) == (7, 3)
    assert "circle 'c1' failed and no safe repair exists" in error.message

    # A custom node without a model: a placeholder at once, with the reason.
    custom = fixer.fix(failure_at(lesson, "other", "boom"))
    assert custom.action == PLACEHOLDER and "it has no code to repair" in custom.diagnostics[0].message
    assert [r.action for r in fixer.records] == [MATH_AS_TEXT, IMAGE_PLACEHOLDER, NO_REPAIR, PLACEHOLDER]
    assert all(json.dumps(r.to_json()) for r in fixer.records)
    assert not lock_path(path).exists()
