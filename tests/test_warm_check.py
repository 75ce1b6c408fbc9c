"""The warm checker (runtime/warm_check.py, agents/warm_check.py) reports exactly what the
uncached check reports (agents.critic.check_lesson: the lesson compiled on Manim, every scene
dry-run): from memory, from the user's check store in a new process, after an edit, after lines
were inserted above a section; its store entries are keyed by the environment (versions, code)
and a damaged, moved, linked or forged entry is a miss, never a wrong answer or a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lecture.agents.critic import check_lesson
from lecture.agents.warm_check import CheckOptions, WarmChecker
from lecture.compiler import frontend
from lecture.compiler.findings import SectionView
from lecture.runtime import check_store
from lecture.runtime.check_store import CheckStore
from lecture.runtime.view_codec import BadViews, decode, encode
from lecture.runtime.warm_check import LayoutCheck, views_key

ROOT = Path(__file__).resolve().parent.parent
CROWDED = ROOT / "docs" / "critic" / "crowded.lecture"  # one section, five findings

# A value that changes (a step with moments inside it), text over a plot (findings that name
# another element's line), a transform of notes: two sections, so that an edit builds one again.
MOVING = '''lesson "Moving"

section a "Values"
  axes ax in A1..C4 x=0..4 y=0..16
  plot f "x^2" on ax color=blue
  value x0 = 1
  dot p at (x0, x0^2) on ax color=white
  text big "Over the axes" at B2
  step 2s: create ax; create f; create p
  step 3s: change x0 to 3.5
  step 1s: write big

section b "Notes"
  text one "first note" at B2
  text two "a second, longer note" at B2
  circle c at D4 color=yellow
  step 2s: write one; create c
  step 2s: transform one into two
'''


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CheckStore:
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path / "user-cache"))
    return CheckStore.default()


def _load(text: str, name: str):
    return frontend.load_text(text, name).lesson


def _reference(lesson, base: Path):
    """What `lecture check` reported before the warm checker: nothing remembered."""
    return check_lesson(lesson, base).findings


def _entries(store: CheckStore, kind: str) -> list[Path]:
    return sorted((store.root / kind).glob("*/*.json"))


# ---------------------------------------------------------------- the same findings


@pytest.mark.parametrize("path", [CROWDED, ROOT / "examples" / "central_limit.lecture"],
                         ids=lambda p: p.stem)
def test_the_findings_of_a_lesson_are_those_of_the_uncached_check(path: Path, store: CheckStore) -> None:
    lesson = frontend.load_file(path).lesson
    base = path.resolve().parent
    expected = _reference(lesson, base)

    first = LayoutCheck(store)
    assert first.findings(lesson, base) == expected
    assert first.stats.built == len(lesson.sections)
    assert first.findings(lesson, base) == expected  # from memory
    assert first.stats.from_memory == len(lesson.sections) and first.stats.built == 0

    fresh = LayoutCheck(store)  # a new process: only the store
    assert fresh.findings(lesson, base) == expected
    assert fresh.stats.from_store == len(lesson.sections) and fresh.stats.built == 0
    if path == CROWDED:
        assert len(expected) == 5  # (the comparison compares something)


def test_an_edit_builds_its_section_only_and_lines_added_above_move_the_findings(store: CheckStore) -> None:
    base = Path(".")
    lesson = _load(MOVING, "moving.lecture")
    warm = LayoutCheck(store)
    found = warm.findings(lesson, base)
    assert found == _reference(lesson, base)
    assert found and any(step.moments for view in warm.last_views for step in view.steps)

    edited = _load(MOVING.replace('"a second, longer note"', '"a second, much longer note"'),
                   "moving.lecture")
    assert warm.findings(edited, base) == _reference(edited, base)
    assert (warm.stats.from_memory, warm.stats.built) == (1, 1)

    # two lines above everything (and a comment): the same views, the findings two lines down
    moved = _load("# a comment\n\n" + MOVING.replace("  step 1s: write big", "  step 1s: write big  # ok"),
                  "moving.lecture")
    again = warm.findings(moved, base)
    assert warm.stats.built == 0
    assert again == _reference(moved, base)
    assert [f.span.line for f in again] == [f.span.line + 2 for f in found]


def test_the_warm_checker_prints_what_lecture_check_prints(store: CheckStore, tmp_path: Path) -> None:
    lesson = tmp_path / "crowded.lecture"
    lesson.write_text(CROWDED.read_text(encoding="utf-8"), encoding="utf-8")
    command = [sys.executable, "-X", "importtime", "-m", "lecture", "check", "--no-narration", str(lesson)]
    env = {**os.environ, "LECTURE_CACHE_DIR": str(store.root.parent.parent)}
    cold = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert cold.returncode == again.returncode == 0
    assert "5 warnings" in cold.stdout and cold.stdout == again.stdout
    printed = [ln for ln in cold.stderr.splitlines() if not ln.startswith("import time:")]
    assert printed == [ln for ln in again.stderr.splitlines() if not ln.startswith("import time:")]
    assert " manim" in cold.stderr and " manim" not in again.stderr  # unchanged: no Manim at all

    checker = WarmChecker(CheckOptions(narration=False))
    result = checker.check(lesson.read_text(encoding="utf-8"), lesson)
    assert "\n".join(d.render(result.source) for d in result.diagnostics) == "\n".join(printed)
    assert len(result.diagnostics) == 5 and len(result.views) == 1


# ---------------------------------------------------------------- keys and entries


def test_entries_are_keyed_by_the_environment(store: CheckStore, monkeypatch: pytest.MonkeyPatch) -> None:
    lesson = _load(CROWDED.read_text(encoding="utf-8"), "crowded.lecture")
    key = views_key(lesson, lesson.sections[0], 0, Path("."))
    LayoutCheck(store).findings(lesson, Path("."))
    assert store.get("views", key) is not None
    env = check_store.environment()
    for name in ("lecture", "manim", "code", "tex"):
        monkeypatch.setattr(check_store, "environment", lambda name=name: {**env, name: "other"})
        assert views_key(lesson, lesson.sections[0], 0, Path(".")) != key
        other = LayoutCheck(store)
        other.findings(lesson, Path("."))
        assert other.stats.built == 1, name  # another version's entries are never read


def _forge(path: Path, edit) -> None:
    """Rewrite an entry's value and give it a valid checksum (what a forger could do)."""
    entry = json.loads(path.read_bytes())
    entry["value"] = edit(entry["value"])
    kind = path.parent.parent.name
    value_json = json.dumps(entry["value"], separators=(",", ":"), ensure_ascii=False)
    entry["check"] = check_store._checksum(kind, entry["key"], value_json)
    path.write_text(json.dumps(entry), encoding="utf-8")


def test_a_damaged_moved_or_linked_entry_is_a_miss(store: CheckStore, tmp_path: Path) -> None:
    lesson = _load(CROWDED.read_text(encoding="utf-8"), "crowded.lecture")
    expected = LayoutCheck(store).findings(lesson, Path("."))
    [views] = _entries(store, "views")
    sizes = _entries(store, "sizes")
    good = views.read_bytes()

    def rebuilt() -> int:
        check = LayoutCheck(store)
        assert check.findings(lesson, Path(".")) == expected
        assert store.get("views", views.stem) is not None  # written again
        return check.stats.built

    views.write_bytes(good.replace(b'"background":"', b'"background":"#'))  # a byte changed
    assert rebuilt() == 1
    views.write_bytes(good[: len(good) // 2])  # cut short
    assert rebuilt() == 1
    _forge(views, lambda v: {**v, "footprints": "x"})  # a sound checksum, but not views
    assert rebuilt() == 1
    sizes[0].write_bytes(views.read_bytes())  # an entry under another key's name
    assert store.get("sizes", sizes[0].stem) is None and not sizes[0].exists()

    outside = tmp_path / "outside.json"
    outside.write_bytes(good)
    views.unlink()
    views.symlink_to(outside)  # never read through a link, never written through one
    assert rebuilt() == 1 and outside.read_bytes() == good and not views.is_symlink()


def test_a_forged_size_that_is_not_a_size_is_measured_again(store: CheckStore) -> None:
    lesson = _load(CROWDED.read_text(encoding="utf-8"), "crowded.lecture")
    expected = LayoutCheck(store).findings(lesson, Path("."))
    for entry in _entries(store, "views"):
        entry.unlink()
    sizes = _entries(store, "sizes")
    bad = ([-1.0, 2.0], [float("nan"), 1.0], ["1", 2.0], [1.0], {"w": 1}, None)
    for i, entry in enumerate(sizes):
        _forge(entry, lambda v, i=i: bad[i % len(bad)])
    check = LayoutCheck(store)
    assert check.findings(lesson, Path(".")) == expected
    assert check.stats.measured == len(sizes) > 0


def test_views_read_back_exactly_and_keep_shared_footprints_shared() -> None:
    lesson = _load(MOVING, "moving.lecture")
    check = LayoutCheck(None)
    check.findings(lesson, Path("."))
    for view in check.last_views:
        back = decode(json.loads(json.dumps(encode(view))), view.section)
        _same_structure(view, back)
        assert encode(back) == encode(view)
    with pytest.raises(BadViews):
        decode({"steps": []}, lesson.sections[0])


def _same_structure(a: SectionView, b: SectionView) -> None:
    """The same steps and moments, the same footprints in them, shared between them alike."""
    def ids(view: SectionView) -> list[int]:
        seen: dict[int, int] = {}
        out = []
        for step in view.steps:
            for s in (*step.moments, step):
                out += [seen.setdefault(id(fp), len(seen)) for fp in s.visible]
        return out

    assert ids(a) == ids(b)
    assert [(s.index, s.span, s.fraction, len(s.moments)) for s in a.steps] == \
        [(s.index, s.span, s.fraction, len(s.moments)) for s in b.steps]
    fields = ("element", "kind", "parts", "bbox", "cap_height", "colors", "texts", "script_cap_height",
              "script_text")
    pairs = [(x, y) for sa, sb in zip(a.steps, b.steps, strict=True)
             for ma, mb in zip((*sa.moments, sa), (*sb.moments, sb), strict=True)
             for x, y in zip(ma.visible, mb.visible, strict=True)]
    assert pairs and all(getattr(x, f) == getattr(y, f) for x, y in pairs for f in fields)
    assert (a.background, a.panel, a.shifted) == (b.background, b.panel, b.shifted)


def test_a_text_parsed_once_and_copied_is_the_text_a_render_draws() -> None:
    from lecture.runtime.measure import private_media_dir
    from lecture.runtime.scene_support import text_block
    from lecture.runtime.tex import parsed_texts_shared
    from manim import MarkupText, Text, tempconfig
    from manim.mobject.svg.svg_mobject import SVG_HASH_TO_MOB_MAP

    def shape(mob) -> list:
        return [(type(m).__name__, m.points.tobytes(), m.get_fill_color().to_hex(), m.get_fill_opacity())
                for m in mob.get_family()]

    with tempconfig({"media_dir": str(private_media_dir())}):
        made = [lambda: text_block("Two lines,\nbold and wrapped", width=3.0, bold=True, color="#f7d96f"),
                lambda: Text("colours", t2c={"col": "#ff0000"}, font_size=40),
                lambda: MarkupText("<b>mark</b>up", font_size=30)]
        for make in made:
            plain = shape(make())
            parsed = len(SVG_HASH_TO_MOB_MAP)
            with parsed_texts_shared():
                first, copied = shape(make()), shape(make())
            assert plain == first == copied
            if "MarkupText" not in plain[0][0]:  # (MarkupText always shares: Manim's default)
                assert len(SVG_HASH_TO_MOB_MAP) > parsed  # parsed once, then copied
