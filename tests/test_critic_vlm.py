"""`lecture critique --vlm` against the fake OpenAI server: key frames with the anchor grid go
out as images; only valid anchor edits that the geometric check accepts come back in."""

from __future__ import annotations

import argparse
import base64
import io
import json

from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.critic import run_critique
from lecture.agents.vision import draw_grid, parse_placement, schema, to_pixel, valid_edits
from lecture.compiler.frontend import load_text
from PIL import Image

LESSON = '''lesson "Two things"
# a small lesson; the model will move the circle
section s "S"
  text t "hello" at B2
  circle c at E5
  step 1s: write t; create c
'''


def answer() -> str:
    return json.dumps({"edits": [
        {"section": "s", "element": "ghost", "placement": "at C3", "reason": "no such element"},
        {"section": "s", "element": "t", "placement": "at Z9", "reason": "not a cell"},
        {"section": "s", "element": "t", "placement": "right of t", "reason": "itself"},
        {"section": "s", "element": "c", "placement": "at F6", "reason": "more room in the corner"},
    ]})


def test_vlm_edits_are_checked_and_the_valid_one_is_applied(fake_openai, tmp_path):
    fake_openai.add(answer())
    path = tmp_path / "two.lecture"
    path.write_text(LESSON, encoding="utf-8")
    args = argparse.Namespace(file=str(path), dry_run=False, vlm=True, time_limit=30.0,
                              base_url=fake_openai.base_url, api_key=None, model="vision-model",
                              timeout=10.0, max_retries=0)
    out, err = io.StringIO(), io.StringIO()
    code = run_critique(args, out=out, err=err)
    assert code == 0, err.getvalue()
    text = path.read_text(encoding="utf-8")
    assert "  circle c at F6\n" in text and "  text t \"hello\" at B2\n" in text
    assert text.replace("at F6", "at E5") == LESSON  # nothing else changed
    assert "ghost" in err.getvalue() and "Z9" in err.getvalue()
    assert "critic: 1 call" in err.getvalue()  # tokens counted for the agent

    (request,) = fake_openai.chat_requests
    body = request.body
    assert body["model"] == "vision-model"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == schema()
    parts = body["messages"][1]["content"]
    images = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert images and all(u.startswith("data:image/png;base64,") for u in images)
    frame = Image.open(io.BytesIO(base64.b64decode(images[0].split(",", 1)[1]))).convert("RGB")
    x, y = to_pixel(3.0, 0.0, frame.size)  # on the line between columns 3 and 4
    r, g, b = frame.getpixel((int(round(x)), int(round(y))))
    assert r > g + 40 and r > b + 40  # the grid is drawn over the frame


def test_an_edit_that_adds_a_finding_is_not_applied(fake_openai, tmp_path):
    fake_openai.add(json.dumps({"edits": [
        {"section": "s", "element": "c", "placement": "at A2", "scale": 3, "reason": "bigger"}]}))
    path = tmp_path / "two.lecture"
    path.write_text(LESSON, encoding="utf-8")
    args = argparse.Namespace(file=str(path), dry_run=False, vlm=True, time_limit=30.0,
                              base_url=fake_openai.base_url, api_key=None, model="m", timeout=10.0,
                              max_retries=0)
    err = io.StringIO()
    assert run_critique(args, out=io.StringIO(), err=err) == 0
    assert path.read_text(encoding="utf-8") == LESSON
    assert "new problems" in err.getvalue()


def test_parsing_placements_and_validating_answers():
    lesson = load_text(LESSON).lesson
    section = lesson.sections[0]
    assert parse_placement("at d2", section, "t").cell.name == "D2"
    assert parse_placement("in A1..C3", section, "t").last.name == "C3"
    assert parse_placement("below c", section, "t").relation == "below"
    assert parse_placement("below nothing", section, "t") is None
    assert parse_placement("at G1", section, "t") is None
    edits, rejected = valid_edits(json.loads(answer()), lesson)
    assert [(e.element, e.placement.cell.name) for e in edits] == [("c", "F6")]
    assert len(rejected) == 3


def test_draw_grid_keeps_the_size():
    img = Image.new("RGB", (854, 480), (0, 0, 0))
    out = draw_grid(img)
    assert out.size == img.size and out.getpixel((0, 0)) == (0, 0, 0)
