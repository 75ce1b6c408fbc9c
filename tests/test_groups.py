"""Groups (issue 15, point 5): `group g of a, b, c in B1..D4` — elements that move, fade and fit
into a place as one. The form reads, formats stably and travels as JSON; its misuse is a
diagnostic at its place with a hint; the timeline knows that showing a group shows its members
and that a group is on screen when they all are; the layout rules measure a group as its members;
and one shared render (the real Cairo renderer, every frame recorded, colours exact) is asserted
on: a group fitted `in` an area lies within it, after `move g to …` every member is at its new
place with the same offsets to within a pixel, and `fade out g` leaves the members' boxes empty."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import diagnose, lesson
from lecture.compiler import layout
from lecture.compiler import model as m
from lecture.compiler.findings import lesson_findings
from lecture.compiler.format import format_text
from lecture.compiler.frontend import load_text, parse_text
from lecture.compiler.jsonform import lesson_from_json, lesson_to_json, validate_json
from lecture.compiler.kinds import KINDS
from lecture.compiler.lower import compile_lesson
from lecture.compiler.reference import language_reference
from lecture.runtime.geometry import lesson_views
from test_step_truth import FPS, FRAME_H, FRAME_W, HEIGHT, WIDTH, Rendered, _compile, _render

# ---------------------------------------------------------------- reading and writing

FORMS = lesson('''
    circle a radius=0.5 at B2
    square b side=1 right of a
    text t "a and b" below a
    group g in D1..F4 of a, b, t scale=0.9
    group both of g, c
    circle c at B5
    frame f around g color=yellow
    step 1s: create g, c; create f
    step 1s: move g to B3; indicate both
''')


def test_the_form_reads_as_a_group_of_members():
    section = parse_text(FORMS, "t.lecture").sections[0]
    g = section.element("g")
    assert g.kind == "group" and [r.name for r in g.members] == ["a", "b", "t"]
    assert g.placement == m.In(m.Cell("D", 1), m.Cell("F", 4))
    assert g.option("scale") == 0.9
    members = next(a for a in g.args if isinstance(a, m.Members))
    assert (members.span.line, members.span.column, members.span.end_column) == (6, 21, 31)
    assert [r.name for r in section.element("both").members] == ["g", "c"]


def test_the_formatter_writes_members_first_and_is_stable():
    once = format_text(FORMS)
    assert "  group g of a, b, t in D1..F4 scale=0.9\n" in once
    assert "  group both of g, c\n" in once
    assert format_text(once) == once
    assert parse_text(once) == parse_text(FORMS)


def test_the_json_form_keeps_the_members_and_the_schema_checks_them():
    model = parse_text(FORMS)
    data = lesson_to_json(model)
    assert validate_json(data) == []
    assert lesson_from_json(data) == model
    g = data["sections"][0]["elements"][3]
    assert g["kind"] == "group" and g["args"][0]["type"] == "members"
    assert g["args"][0]["of"] == ["a", "b", "t"]
    g["args"][0]["of"] = []  # a group's list names at least one element
    assert validate_json(data)


def test_the_kind_is_in_the_table_and_the_reference():
    spec = KINDS["group"]
    assert spec.members and "scale" in spec.options
    text = language_reference()
    assert "| `group` |" in text and "### Groups" in text
    start = text.index("### Groups")
    block = text[text.index("```lecture\n", start):].split("\n", 1)[1].split("```", 1)[0]
    example = lesson(block)
    assert [d for d in diagnose(example) if d.severity == "error"] == [], diagnose(example)
    assert format_text(format_text(example)) == format_text(example)


# ---------------------------------------------------------------- misuse


def _one(body: str) -> tuple[str, int, int, str, str]:
    found = [d for d in diagnose(lesson(body)) if d.severity == "error"]
    assert len(found) == 1, found
    d = found[0]
    return d.code, d.span.line, d.span.column, d.message, d.hint or ""


@pytest.mark.parametrize("body, code, line, column, words, hint", [
    ("circle a at B2\ngroup g of a, bb\nstep 1s: create g",
     "undefined-id", 4, 17, "no element named 'bb'", "known here: a, g"),
    ("circle a at B2\nsquare b at B4\ngroup g1 of a, b\ngroup g2 of b\nstep 1s: create g1",
     "two-groups", 6, 15, "'b' is already a member of the group 'g1' (line 5)", "group both of g1, g2"),
    ("circle a at B2\ngroup g of a, g\nstep 1s: create g",
     "group-cycle", 4, 17, "'g' cannot hold itself", "name other elements"),
    ("circle a at B2\ngroup g1 of a, g2\ngroup g2 of g1\nstep 1s: create g1",
     "group-cycle", 4, 12, "these groups hold each other: g1 → g2 → g1", "take one of them out"),
    ("circle a at B2\ngroup g at B2\nstep 1s: create a",
     "empty-group", 4, 9, "the group 'g' has no members", "after `of`"),
    ("circle a at B2\ncircle b of a at B3\nstep 1s: create a, b",
     "bad-args", 4, 12, "a circle holds no members", "only a group takes `of …`"),
    ("math eq $a + b$ at B2\ngroup g of eq[$a$]\nstep 1s: create g",
     "part-not-here", 4, 16, "holds whole elements, not parts", "write `eq`"),
    ("circle a at B2\ngroup g of a, a\nstep 1s: create g",
     "duplicate-member", 4, 17, "'a' is listed twice in 'g'", "list each member once"),
    ("circle a at B2\ncircle b at B4\ngroup g of a\nstep 1s: create g\nstep 1s: transform g into b",
     "bad-action", 7, 22, "a group is not transformed", "transform its members one by one"),
    ("circle a at B2\nsquare b right of a\ngroup g of a, b below a\nstep 1s: create g",
     "group-relation", 5, 19, "'g' is placed below 'a', which it holds", "place it at a cell"),
    ("circle a at B2\nframe f around g\ngroup g of a, f in D1..F6\nstep 1s: create a",
     "group-relation", 4, 18, "'f' is placed by 'g', the group that holds it", "take it out of 'g'"),
    ("circle a at B2\nsquare b at B4\ngroup g of a, b in D1..F6\nstep 1s: create g\nstep 1s: fade out b\n"
     "step 1s: move g to B3",
     "before-exists", 8, 17, "'g' is not all on screen: 'b' is not shown (it went at line 7)", "fade in b"),
    ("circle a at B2\nsquare b at B4\ngroup g of a, b\nstep 1s: create a\nstep 1s: create g",
     "already-shown", 7, 19, "'a' is already on screen", "indicate"),
    ("circle a at B2\nsquare b at B4\ngroup g of a, b\nstep 1s: create g\nstep 1s: fade out a\n"
     "step 1s: fade out g",
     "after-removed", 8, 21, "'a' acts after it was removed (line 7)", "fade in a"),
    ("circle a at B2\nsquare b at B4\ngroup g of a, b\nstep 1s: create g; fade out a",
     "step-order", 6, 22, "'a' would appear and vanish in the same step", "in a later step"),
])
def test_misuse_is_a_diagnostic_at_its_place(body, code, line, column, words, hint):
    got = _one(body)
    assert got[:3] == (code, line, column), got
    assert words in got[3] and hint in got[4], got


def test_a_group_is_shown_by_its_members_and_a_member_acts_alone():
    """Members shown one by one show their group (it may be moved and framed); a member faded
    out alone and faded in again makes the group whole again; frames go around a group shown
    in the same action."""
    ok = lesson('''
        circle a at B2
        square b at B4
        group g of a, b
        frame f around g
        step 1s: create a; create b
        step 1s: create f; move g to D3; indicate g
        step 1s: fade out a
        step 1s: fade in a; color g red
        step 1s: scale g 0.5; rotate g 45 about C3
        step 1s: fade out g, f
    ''')
    assert diagnose(ok) == []
    assert diagnose(lesson('''
        circle a at B2
        group g of a
        frame f around g
        step 1s: create g, f
    ''')) == []


def test_actions_on_a_group_act_on_its_members_in_the_code():
    module = compile_lesson(load_text(FORMS, "t.lecture").lesson, base_dir=Path("."), measurer=None)
    code = module.code
    assert "g = VGroup(a, b, t)" in code and "both = VGroup(g, c)" in code
    assert "self.step(1.0, Create(a), Create(b), Write(t), Create(c), Create(f))" in code  # each as alone
    assert "g.animate.move_to(" in code and "Indicate(both" in code  # as one
    # placed in D1..F4, the members are scaled together and moved there, each in its own code
    blocks = _blocks(code)
    for var in ("a", "b", "t"):
        assert re.search(r"\.scale\(0\.\d+, about_point=np\.array\(\[.*\]\)\)\.shift\(", blocks[var]), var
    assert ".shift(" not in blocks["c"]  # an unplaced group moves nothing


def _blocks(code: str) -> dict[str, str]:
    """The code of each element of the generated module, by its variable."""
    out = {}
    for block in code.split("\n\n"):
        head = re.search(r"^\s*(\w+) = ", block, re.MULTILINE)
        if head is not None and "# " in block:
            out[head.group(1)] = block
    return out


def test_what_follows_a_member_is_not_moved_twice():
    """A plot on axes, both in a placed group: the axes are moved, the plot follows them."""
    text = lesson('''
        axes ax x=0..3 y=0..9 at B2
        plot p "x^2" on ax
        image pic "x.png" at B5
        group g of ax, p, pic in D1..F6
        step 1s: create g
    ''')
    module = compile_lesson(load_text(text, "t.lecture").lesson, base_dir=Path("."), measurer=None)
    blocks = _blocks(module.code)
    assert ".shift(" in blocks["ax"] and ".shift(" in blocks["pic"]
    assert ".shift(" not in blocks["p"] and "ax.plot(" in blocks["p"]
    assert "g = Group(ax, p, pic)" in module.code  # an image is no VMobject


# ---------------------------------------------------------------- the layout rules


FINDINGS = lesson('''
    circle a radius=0.6 at B2 fill=red opacity=1
    text t "a circle" right of a
    group g of a, t in D1..F6
    frame f around g
    label lg "both" above g
    step 1s: create g, f, lg
''')


def test_a_group_is_measured_as_its_members():
    _, views = lesson_views(load_text(FINDINGS, "t.lecture").lesson, base_dir=Path("."))
    seen = {fp.element for fp in views[0].steps[0].visible}
    assert seen == {"a", "t", "f", "lg"}  # members, not the group: it never overlaps them
    assert lesson_findings(views) == []
    crowded = FINDINGS.replace('label lg "both" above g', 'circle lg radius=0.6 at E2')
    _, views = lesson_views(load_text(crowded, "t.lecture").lesson, base_dir=Path("."))
    overlaps = {frozenset((f.element, f.other)) for f in lesson_findings(views) if f.code == "overlap"}
    assert frozenset(("lg", "a")) in overlaps, overlaps  # what lands on a member is still found


# ---------------------------------------------------------------- one shared render

RENDERED = lesson('''
    circle a radius=0.6 at B2 color=#ff0000 fill=#ff0000 opacity=1
    square b side=1.2 at B4 color=#0000ff fill=#0000ff opacity=1
    dot d at D3 radius=0.25 color=#ffff00
    group g of a, b, d in E4..F6
    step 1s: create g
    step 1s: move g to B3
    step 1s: fade out d
    step 1s: fade in d
    step 1s: fade out g
''')
COLORS = {"a": (255, 0, 0), "b": (0, 0, 255), "d": (255, 255, 0)}
FITTED, MOVED, ONE_OUT, GONE = FPS - 1, 2 * FPS - 1, 3 * FPS - 1, 5 * FPS - 1


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Rendered:
    rendered = _render(_compile(RENDERED), tmp_path_factory.mktemp("groups"))
    if os.environ.get("LECTURE_TRUTH_PNG"):  # a folder: the frames tested, as PNGs to look at
        from PIL import Image

        for i in (FITTED, MOVED, ONE_OUT, GONE):
            Image.fromarray(rendered.frames[i]).save(Path(os.environ["LECTURE_TRUTH_PNG"]) / f"group{i}.png")
    return rendered


def _mask(frame: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.abs(frame.astype(int) - np.array(rgb)).sum(axis=-1) < 60


def _centroid(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    assert len(rows) > 20, "nothing of that colour"
    return np.array([cols.mean(), rows.mean()])


def _pixel_box(box: layout.Box) -> tuple[float, float, float, float]:
    """A scene box as (left, right, top, bottom) pixel columns and rows."""
    def col(x: float) -> float:
        return (x + FRAME_W / 2) / FRAME_W * WIDTH

    def row(y: float) -> float:
        return (FRAME_H / 2 - y) / FRAME_H * HEIGHT

    return col(box.left), col(box.right), row(box.top), row(box.bottom)


def _drawn_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    """The pixel box around everything of the members' colours."""
    rows, cols = np.nonzero(_mask(frame, COLORS["a"]) | _mask(frame, COLORS["b"]) | _mask(frame, COLORS["d"]))
    return int(cols.min()), int(cols.max()) + 1, int(rows.min()), int(rows.max()) + 1


def test_a_group_fitted_in_an_area_lies_within_it(shared):
    left, right, top, bottom = _pixel_box(layout.area_box(m.Cell("E", 4), m.Cell("F", 6)))
    drawn = _drawn_box(shared.frames[FITTED])
    assert left <= drawn[0] and drawn[1] <= right and top <= drawn[2] and drawn[3] <= bottom, \
        (drawn, (left, right, top, bottom))
    # scaled as one: the circle and the square keep their sizes' ratio (1.2 : 1.2 across)
    a, sq = _mask(shared.frames[FITTED], COLORS["a"]), _mask(shared.frames[FITTED], COLORS["b"])
    width_a, width_b = np.ptp(np.nonzero(a)[1]) + 1, np.ptp(np.nonzero(sq)[1]) + 1
    assert abs(width_a - width_b) <= 1 and width_a < 1.2 * WIDTH / FRAME_W - 3  # shrunk to fit


def test_after_move_every_member_keeps_its_offsets_within_a_pixel(shared):
    before = {k: _centroid(_mask(shared.frames[FITTED], c)) for k, c in COLORS.items()}
    after = {k: _centroid(_mask(shared.frames[MOVED], c)) for k, c in COLORS.items()}
    shift = after["a"] - before["a"]
    assert np.linalg.norm(shift) > 50  # it moved
    for k in ("b", "d"):
        assert np.abs((after[k] - after["a"]) - (before[k] - before["a"])).max() <= 1.0, k
    # and it went where it was sent: the members' box is centred on B3
    left, right, top, bottom = _drawn_box(shared.frames[MOVED])
    cx, cy = layout.cell_center("B3")
    want_col, want_row = (cx + FRAME_W / 2) / FRAME_W * WIDTH, (FRAME_H / 2 - cy) / FRAME_H * HEIGHT
    assert abs((left + right) / 2 - want_col) <= 1.5 and abs((top + bottom) / 2 - want_row) <= 1.5


def test_a_member_fades_alone_and_fade_out_empties_every_members_box(shared):
    moved = shared.frames[MOVED]
    boxes = {}
    for k, c in COLORS.items():
        rows, cols = np.nonzero(_mask(moved, c))
        boxes[k] = (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)

    def drawn(frame: np.ndarray, k: str) -> int:
        r0, r1, c0, c1 = boxes[k]
        patch = frame[r0:r1, c0:c1].astype(int)
        background = shared.frames[0][HEIGHT // 2, WIDTH // 2 - 100].astype(int)
        return int((np.abs(patch - background).sum(axis=-1) > 60).sum())

    assert drawn(shared.frames[ONE_OUT], "d") == 0
    assert drawn(shared.frames[ONE_OUT], "a") > 100 and drawn(shared.frames[ONE_OUT], "b") > 100
    assert all(drawn(shared.frames[GONE], k) == 0 for k in COLORS)
