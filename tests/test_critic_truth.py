"""The Critic finishes the job: on a lesson with every visual piled onto one cell it leaves
no overlap and no text too small to read (it may give an element a larger area, or raise
its scale), its log says what each placement was, and `lecture critique --vlm` leaves no
folder of key frames behind, whether it succeeds or fails."""

from __future__ import annotations

import argparse
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from fake_openai import Error, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.anchor_edit import AnchorEdit
from lecture.agents.config import AgentError
from lecture.agents.critic import SEARCHED_CODES, check_lesson, run_critique
from lecture.compiler import layout as L
from lecture.compiler.findings import GEOMETRIC_CODES
from lecture.compiler.frontend import load_text
from lecture.compiler.model import At, Cell

PILED = """\
lesson "Piled"

# every visual piled onto one cell
section s "Everything in B2"
  line l1 "Too much in one place."
  text a "the quick brown fox jumps" in B2..B2
  math b $x^2 + y^2 = z^2$ in B2..B2
  square q in B2..B2 color=green
  text d "more words here" at B2
  circle c at B2 color=red
  step 1s: write a
  step 1s: write b; create q
  step 1s: write d; create c
"""
PLACEMENT = (r"(?:at [A-F][1-6]|in [A-F][1-6]\.\.[A-F][1-6]|(?:below|above|left of|right of) \w+"
             r"|auto \(no placement\))")
EDIT_LINE = re.compile(rf"^edit: s/(\w+): (?:({PLACEMENT}) -> ({PLACEMENT})|scale [\d.]+ -> [\d.]+)$")


def critique(path: Path, **extra) -> tuple[int, str, str]:
    options = {"file": str(path), "dry_run": False, "vlm": False, "time_limit": 60.0, **extra}
    args = argparse.Namespace(**options)
    out, err = io.StringIO(), io.StringIO()
    code = run_critique(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def cells(placement: str) -> int:
    """How many grid cells an `in` area covers (1 for `at`)."""
    m = re.fullmatch(r"in ([A-F][1-6])\.\.([A-F][1-6])", placement)
    if m is None:
        return 1
    (r0, c0), (r1, c1) = L.cell_index(m[1]), L.cell_index(m[2])
    return (abs(r1 - r0) + 1) * (abs(c1 - c0) + 1)


def test_a_piled_lesson_ends_without_overlaps_or_text_too_small(tmp_path):
    path = tmp_path / "piled.lecture"
    path.write_text(PILED, encoding="utf-8")
    before = {f.code for f in check_lesson(load_text(PILED, str(path)).lesson, tmp_path).findings}
    assert {"overlap", "too-small"} <= before  # what there is to fix

    code, out, err = critique(path)
    assert code == 0, err
    fixed = load_text(path.read_text(encoding="utf-8"), str(path)).lesson
    assert check_lesson(fixed, tmp_path).findings == []
    assert "findings before, 0 after" in err

    edits = [ln for ln in err.splitlines() if ln.startswith("edit: ")]
    assert edits and all(EDIT_LINE.match(ln) for ln in edits), edits
    assert "(none)" not in err
    # the formula too small to read in one cell got a larger area: more room, not a move
    grown = [m for m in map(EDIT_LINE.match, edits) if m and m[2] and cells(m[3]) > cells(m[2])]
    assert grown, edits
    # each edit starts from the placement before it: the log reads as a chain per element
    last: dict[str, str] = {}
    for m in map(EDIT_LINE.match, edits):
        if m and m[2]:
            assert last.get(m[1], m[2]) == m[2], edits
            last[m[1]] = m[3]


def test_the_log_names_an_automatic_placement():
    lesson = load_text('lesson "L"\nsection s "S"\n  text t "hello"\n  step 1s: write t\n').lesson
    el = lesson.sections[0].element("t")
    assert AnchorEdit("s", "t", At(Cell("C", 4))).describe(el) == "s/t: auto (no placement) -> at C4"


def test_every_geometric_finding_is_searched():
    """A new geometric code in compiler/findings.py is searched without an edit here."""
    assert GEOMETRIC_CODES <= SEARCHED_CODES and "too-small" in SEARCHED_CODES


TWO = 'lesson "Two"\nsection s "S"\n  text t "hello" at B2\n  circle c at B2\n  step 1s: write t; create c\n'


@pytest.mark.parametrize("fails", [False, True], ids=["answered", "model-fails"])
def test_vlm_leaves_no_folder_behind(fake_openai, tmp_path, monkeypatch, fails):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where mkdtemp & co. write
    if fails:
        fake_openai.add(Error(500, "the model is down"), Error(500, "the model is down"))
    else:
        fake_openai.add(json.dumps({"edits": [{"section": "s", "element": "c", "placement": "at E5",
                                               "reason": "room"}]}))
    path = tmp_path / "two.lecture"
    path.write_text(TWO, encoding="utf-8")
    model = dict(vlm=True, base_url=fake_openai.base_url, api_key=None, model="vision-model", timeout=10.0,
                 max_retries=0)
    if fails:
        with pytest.raises(AgentError):
            critique(path, **model)
    else:
        code, _, err = critique(path, **model)
        assert code == 0, err
    assert fake_openai.chat_requests  # the frames were drawn and sent
    assert list(scratch.glob("lecture-critic-*")) == []
