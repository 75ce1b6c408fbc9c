"""`lecture critique`: anchor edits that remove the layout findings, written as minimal text
edits (comments, CRLF, BOM kept), atomically, never over a concurrent edit."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lecture.agents import critic
from lecture.agents.critic import check_lesson, critique_source, run_critique
from lecture.compiler import source
from lecture.compiler.edits import TextEdit, apply_edits, position_map
from lecture.compiler.frontend import load_text
from test_findings import CROWDED

PLACEMENT = re.compile(r"\b(at [A-F][1-6]|in [A-F][1-6]\.\.[A-F][1-6]"
                       r"|(below|above|left of|right of|next to) \w+)"
                       r"|\s?scale=[\d.]+")


def args(path: Path, dry_run: bool = False) -> argparse.Namespace:
    return argparse.Namespace(file=str(path), dry_run=dry_run, vlm=False, time_limit=60.0)


def run(path: Path, dry_run: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_critique(args(path, dry_run), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def without_placements(text: str) -> str:
    return PLACEMENT.sub("", text)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    path = tmp_path_factory.mktemp("crowded") / "crowded.lecture"
    data = CROWDED.replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + data)
    code, out, err = run(path)
    return path, code, out, err


def test_critique_removes_every_overlap(fixed):
    path, code, out, err = fixed
    assert code == 0, err
    lesson = load_text(path.read_bytes().decode("utf-8"), str(path)).lesson
    assert check_lesson(lesson, path.parent).findings == []


def test_only_placement_text_changes_and_the_rest_survives(fixed):
    path, _, out, _ = fixed
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM
    new = raw.decode("utf-8")
    old = "\ufeff" + CROWDED.replace("\n", "\r\n")
    assert new.count("\r\n") == old.count("\r\n") and "\n" not in new.replace("\r\n", "")
    assert "# every element on one cell" in new and "# a formula" in new and "# line 10" in new
    assert without_placements(new) == without_placements(old)
    assert new != old
    changed = [ln for ln in out.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed and all(PLACEMENT.search(ln) for ln in changed)


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path):
    path = tmp_path / "c.lecture"
    path.write_text(CROWDED, encoding="utf-8")
    before = path.read_bytes()
    code, out, err = run(path, dry_run=True)
    assert path.read_bytes() == before
    assert code == 0 and out.startswith("--- a/") and ("+  text" in out or "+  math" in out)


def test_a_clean_lesson_is_left_alone(tmp_path):
    text = ('lesson "Clean"\nsection s "S"\n  text t "hello" at B2\n  circle c at E5\n'
            '  step 1s: write t; create c\n')
    path = tmp_path / "clean.lecture"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(path)
    assert code == 0 and out == "" and path.read_text(encoding="utf-8") == text


def test_a_concurrent_edit_makes_it_refuse_to_write(tmp_path, monkeypatch):
    path = tmp_path / "c.lecture"
    path.write_text(CROWDED, encoding="utf-8")
    real = critic.critique_source

    def meanwhile(*a, **kw):
        result = real(*a, **kw)
        path.write_text(CROWDED + "# edited in an editor meanwhile\n", encoding="utf-8")
        return result

    monkeypatch.setattr(critic, "critique_source", meanwhile)
    code, out, err = run(path)
    assert code == 2 and "changed on disk" in err
    assert path.read_text(encoding="utf-8").endswith("# edited in an editor meanwhile\n")


def test_position_map_and_edits_on_crlf_and_bom():
    src = source.from_text("\ufeffa\r\nbc\rd")
    assert src.text == "a\nbc\nd\n"
    m = position_map(src)
    assert [m[i] for i in range(len(src.text) + 1)] == [1, 2, 4, 5, 6, 7, 8, 8]
    assert apply_edits(src, [TextEdit(2, 3, "XY"), TextEdit(0, 0, ">")]) == "\ufeff>a\r\nXYc\rd"


def test_an_element_without_placement_gets_one_inserted():
    text = ('lesson "L"\nsection s "S"\n  text a "one" at B2\n  text b "two"   # no placement\n'
            '  step 1s: write a, b\n')
    from lecture.compiler.edits import placement_edit
    from lecture.compiler.model import At, Cell

    el = load_text(text).lesson.sections[0].element("b")
    edit = placement_edit(el, At(Cell("C", 4)))
    out = apply_edits(source.from_text(text), [edit])
    assert '  text b "two" at C4   # no placement\n' in out


KINDS = ['text w{i} "word {i}"', "circle w{i}", "math w{i} $x_{i}$", "square w{i} side=0.6"]


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from("ABCDEF"), st.integers(1, 6)),
                min_size=3, max_size=5))
def test_random_placements_end_without_overlaps_or_say_why(tmp_path_factory, items):
    lines = ['lesson "Random"', 'section s "S"']
    for i, (kind, row, col) in enumerate(items):
        lines.append("  " + KINDS[kind].format(i=i) + f" at {row}{col}")
    lines.append("  step 1s: " + "; ".join(f"create w{i}" for i in range(len(items))))
    text = "\n".join(lines) + "\n"
    result = critique_source(source.from_text(text, "r.lecture"), base_dir=Path("."), time_limit=30)
    left = [f for f in result.after if f.code == "overlap"]
    if left:  # then `lecture critique` says it cannot fit them
        diags = critic.cannot_fit(left, load_text(result.text).lesson)
        assert all(d.code == "layout-cannot-fit" and "split the section" in d.hint for d in diags)
    again = critique_source(source.from_text(result.text, "r.lecture"), base_dir=Path("."), time_limit=30)
    if not result.after:
        assert again.text == result.text  # a clean lesson is not changed
