"""The Coder (custom elements -> checked Manim code in NAME.lecture.lock) against the fake
OpenAI server with the real openai client: the prompt, the static check and the sandbox
(each rejection sent back to the model), the lock file, offline renders, token counts."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents import sandbox
from lecture.agents.coder import Coder, extract_code, manim_sheet
from lecture.agents.config import resolve_config
from lecture.agents.custom_elements import emit_function, resolve_custom_nodes, run_lock
from lecture.agents.lockfile import LockFile, lock_path
from lecture.agents.usage import UsageLog
from lecture.compiler.frontend import load_file

LESSON = '''lesson "Squares"

section proof "Proof"
  line l1 "Squares add up."
  square s1 at A1
  custom proof "A square whose corner spins once." in B2..D5
  step 2s: say l1 "Look."; create s1
  step 2s: play proof
'''
PROOF_BOX = "left = 1.1, bottom = -1.2, right = 4.9, top = 1.6"  # B2..D5 less the 0.1 margin
DATE = "2025-01-02T03:04:05Z"

GOOD = '''```python
from manim import *

def build(box):
    sq = Square(side_length=min(box.width, box.height) * 0.5, color="#58c4dd")
    dot = Dot(sq.get_corner(UR), color="#f7d96f")
    group = VGroup(sq, dot).move_to(box.center)
    return group, [Create(sq), FadeIn(dot), Rotate(dot, angle=TAU, about_point=sq.get_center())]
```'''

BAD = {  # answer -> what the error sent back must say
    "import os\n\ndef build(box):\n    return os.getcwd(), []\n": "`import os` is not allowed",
    "def build(box):\n    return open('/etc/passwd').read(), []\n": "`open` is not allowed",
    "def build(box):\n    return __import__('os'), []\n": "`__import__` is not allowed",
    "def build(box):\n    return getattr(box, '__class__'), []\n": "getattr(..., '__class__')",
    "def build(box):\n    return ().__class__.__subclasses__(), []\n": "`__subclasses__` is not allowed",
}
LOOP = "from manim import *\n\ndef build(box):\n    while True:\n        pass\n"
OUTSIDE = "from manim import *\n\ndef build(box):\n    return Circle(radius=1).move_to([9, 0, 0]), []\n"


def write(tmp_path: Path, text: str = LESSON) -> Path:
    path = tmp_path / "squares.lecture"
    path.write_text(text, encoding="utf-8")
    return path


def config(server: FakeOpenAI):
    return resolve_config(base_url=server.base_url, model="coder-model", backoff_base=0.001)


def resolve(path: Path, server: FakeOpenAI | None, usage: UsageLog | None = None, **kwargs):
    lesson = load_file(path).lesson
    return resolve_custom_nodes(lesson, path, client_config=config(server) if server else None,
                                usage=usage, now=lambda: DATE, **kwargs)


def coder_for(server: FakeOpenAI, usage: UsageLog, **kwargs) -> Coder:
    from lecture.agents.client import make_client

    return Coder(make_client(config(server), "coder", usage), **kwargs)


def test_happy_path_prompt_lock_file_and_tokens(fake_openai, tmp_path):
    fake_openai.add(GOOD, usage=(1200, 300))
    path = write(tmp_path)
    usage = UsageLog()
    custom = resolve(path, fake_openai, usage)
    assert custom.ok, custom.diagnostics
    assert custom.written

    [request] = fake_openai.chat_requests
    assert request.body["model"] == "coder-model"
    text = request.all_text
    assert "A square whose corner spins once." in text
    assert PROOF_BOX in text
    assert "chalkboard" in text and "#58c4dd" in text and "#1d2b26" in text  # theme and colours
    assert manim_sheet().strip() in text  # the API sheet
    assert "square `s1` (0.1, 1.8, 0.9, 2.6)" in text  # a neighbour with its box
    assert "play proof" in text

    code = custom.code_for("proof", "proof")
    assert code == extract_code(GOOD) and "def build(box):" in code
    data = json.loads(lock_path(path).read_text(encoding="utf-8"))
    [(key, entry)] = data["entries"].items()
    assert key == custom.node("proof", "proof").key and len(key) == 64
    assert entry["code"] == code
    assert entry["model"] == "coder-model" and entry["date"] == DATE and entry["tries"] == 1
    assert entry["tokens"] == {"prompt": 1200, "completion": 300, "total": 1500}
    assert entry["box"] == [1.1, -1.2, 4.9, 1.6] and entry["theme"] == "chalkboard"
    # Stable, diff-friendly text: sorted keys, indented, one trailing newline.
    raw = lock_path(path).read_text(encoding="utf-8")
    assert raw == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    coder = usage.per_agent()["coder"]
    assert (coder.calls, coder.prompt_tokens, coder.completion_tokens) == (1, 1200, 300)


def test_a_lock_hit_makes_no_model_call_and_works_offline(fake_openai, tmp_path):
    fake_openai.add(GOOD)
    path = write(tmp_path)
    first = resolve(path, fake_openai)
    before = lock_path(path).read_bytes()
    assert len(fake_openai.chat_requests) == 1

    again = resolve(path, fake_openai)  # a model is configured, but the lock has the code
    offline = resolve(path, None)  # no model at all
    assert len(fake_openai.chat_requests) == 1
    for custom in (again, offline):
        assert custom.ok and not custom.written
        assert custom.code_for("proof", "proof") == first.code_for("proof", "proof")
        assert custom.node("proof", "proof").origin == "lock"
    assert lock_path(path).read_bytes() == before


def test_no_model_and_no_lock_entry_is_a_diagnostic_at_the_node(clean_model_env, tmp_path):
    path = write(tmp_path)
    custom = resolve(path, None)
    [d] = custom.diagnostics
    assert d.severity == "error" and d.code == "custom-no-code"
    assert (d.span.line, d.span.column) == (6, 3)
    rendered = d.render(path.read_text(encoding="utf-8"))
    assert rendered.startswith(f"{path}:6:3: error: custom element 'proof' has no code yet: "
                               "configure a model")
    assert "lecture lock --update" in rendered and "squares.lecture.lock" in rendered
    assert custom.code_for("proof", "proof") is None
    assert not lock_path(path).exists()


def test_the_static_check_rejections_go_back_to_the_model(fake_openai, tmp_path):
    fake_openai.add(*BAD, GOOD)
    usage = UsageLog()
    coder = coder_for(fake_openai, usage, max_tries=len(BAD) + 1)
    task = resolve_task(tmp_path)
    result = coder.write(task)
    assert result.ok and result.tries == len(BAD) + 1
    requests = fake_openai.chat_requests
    for (answer, expected), retry in zip(BAD.items(), requests[1:], strict=True):
        assert answer.strip() in retry.all_text  # the rejected answer is in the conversation
        assert expected in retry.last_user_text, (expected, retry.last_user_text)
    assert [bool(a.errors) for a in result.attempts] == [True] * len(BAD) + [False]


def resolve_task(tmp_path: Path):
    from lecture.agents.custom_elements import collect_custom_nodes

    path = write(tmp_path)
    [node] = collect_custom_nodes(load_file(path).lesson, base_dir=tmp_path)
    return node.task("Squares")


def test_an_endless_loop_is_stopped_by_the_time_limit(fake_openai, tmp_path):
    fake_openai.add(LOOP, GOOD)
    coder = coder_for(fake_openai, UsageLog(), timeout=1)
    result = coder.write(resolve_task(tmp_path))
    assert result.ok and result.tries == 2
    feedback = fake_openai.chat_requests[1].last_user_text
    assert "calling build(box) took longer than 1 s and was stopped" in feedback


def test_code_drawing_outside_its_box_is_rejected(fake_openai, tmp_path):
    fake_openai.add(OUTSIDE, GOOD)
    coder = coder_for(fake_openai, UsageLog())
    result = coder.write(resolve_task(tmp_path))
    assert result.ok and result.tries == 2
    feedback = fake_openai.chat_requests[1].last_user_text
    assert "outside its box (left=1.10, bottom=-1.20, right=4.90, top=1.60" in feedback
    assert "right edge at x = 10.00" in feedback


def test_the_sandbox_checks_the_result_and_the_animations():
    box = (0.0, 0.0, 4.0, 3.0)
    bad_result = ("from manim import *\ndef build(box):\n    c = Circle(radius=0.5).move_to(box.center)\n"
                  "    return c, [c.shift, 3]\n")
    errors = sandbox.check_and_run(bad_result, box).errors
    assert [e.split(" (write")[0] for e in errors] == [
        "animation 1 is not an Animation but 'method'", "animation 2 is not an Animation but 'int'"]
    escapes = ("from manim import *\ndef build(box):\n    c = Circle(radius=0.5).move_to(box.center)\n"
               "    return c, [c.animate.shift(RIGHT * 8)]\n")
    [error] = sandbox.check_and_run(escapes, box).errors
    assert error.startswith("after animation 1 (_MethodAnimation) the drawing is outside its box")
    raises = "from manim import *\ndef build(box):\n    parts = []\n    return parts[2], []\n"
    result = sandbox.check_and_run(raises, box)
    assert result.errors == ["calling build(box) raised IndexError at line 4: list index out of range"]
    assert 'File "<custom>", line 4, in build' in result.traceback


def test_emitted_function_runs_in_the_generated_module_namespace():
    from lecture.runtime.measure import namespace

    source = emit_function(extract_code(GOOD), "custom_proof_proof")
    assert "from manim import *" not in source
    ns = dict(namespace())
    exec(compile(source, "lesson_scenes.py", "exec"), ns)  # noqa: S102 - our own test code
    mob, anims = ns["custom_proof_proof"](sandbox.CustomBox(1.1, -1.2, 4.9, 1.6))
    assert type(mob).__name__ == "VGroup" and len(anims) == 3


def test_lecture_lock_cli_writes_updates_and_prunes(fake_openai, tmp_path):
    import argparse
    import io

    from rich.console import Console

    path = write(tmp_path)
    fake_openai.add(GOOD, GOOD.replace("0.5", "0.4"))
    parser = argparse.ArgumentParser()
    from lecture.agents.custom_elements import add_lock_arguments

    add_lock_arguments(parser)
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    base = ["--base-url", fake_openai.base_url, "--model", "coder-model", str(path)]
    assert run_lock(parser.parse_args(base), console=console) == 0
    assert run_lock(parser.parse_args(base), console=console) == 0  # up to date: no call
    assert len(fake_openai.chat_requests) == 1
    assert run_lock(parser.parse_args(["--update", *base]), console=console) == 0
    assert len(fake_openai.chat_requests) == 2
    lock = LockFile.load(lock_path(path))
    [entry] = lock.entries.values()
    assert "* 0.4" in entry.code
    # The description changes: the old entry is replaced, not kept beside the new one.
    path.write_text(LESSON.replace("spins once", "spins twice"), encoding="utf-8")
    fake_openai.add(GOOD)
    assert run_lock(parser.parse_args(base), console=console) == 0
    [entry] = LockFile.load(lock_path(path)).entries.values()
    assert "spins twice" in entry.description
    assert "wrote" in out.getvalue() and "is up to date" in out.getvalue()


@pytest.mark.parametrize("code", [
    "from manim import *\nfrom manim import config\ndef build(box):\n    return config, []\n",
    "import subprocess\ndef build(box):\n    pass\n",
    "def build(box):\n    x = '{0.__class__}'\n    return x, []\n",
    "def build(box):\n    return vars(), []\n",
    "import numpy as np\ndef build(box):\n    return np.load('x.npy'), []\n",
    "from manim import *\ndef build(box):\n    return MathTex(r'\\input{/etc/passwd}'), []\n",
    "x = 1\ndef build(box):\n    pass\n",
    "def build(box, other):\n    pass\n",
    "def make(box):\n    pass\n",
])
def test_static_check_refuses(code):
    assert sandbox.check_code(code), textwrap.indent(code, "    ")


def test_static_check_accepts_ordinary_code():
    assert sandbox.check_code(extract_code(GOOD)) == []
    assert sandbox.check_code("import numpy as np\nimport math\nfrom manim import Circle, VGroup\n\n"
                              "def build(box):\n    def helper(r):\n        return Circle(radius=r)\n"
                              "    label = '{:.1f}'.format(math.pi)\n"
                              "    return VGroup(helper(np.sqrt(2))), []\n") == []


def test_the_lock_file_is_not_written_over_a_concurrent_change(tmp_path):
    from lecture.agents.lockfile import ConcurrentEditError, LockEntry

    path = tmp_path / "x.lecture.lock"
    lock = LockFile.load(path)
    lock.set("k", LockEntry("s", "e", "d", "auto", [0, 0, 1, 1], "light", "def build(box):\n    pass\n",
                            "m", DATE, 1))
    path.write_text('{"entries": {}}\n', encoding="utf-8")  # someone else wrote it meanwhile
    with pytest.raises(ConcurrentEditError):
        lock.save()
    assert path.read_text(encoding="utf-8") == '{"entries": {}}\n'
    again = LockFile.load(path)
    again.set("k", lock.entries["k"])
    assert again.save() and LockFile.load(path).entries["k"].code == lock.entries["k"].code
