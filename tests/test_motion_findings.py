"""The guarantees of motion (issue 16) beside its video: layout findings are evaluated over the
motion, not only at step ends (runtime/geometry.py measures moments inside a step that moves
things; compiler/findings.py reports what happens only on the way once, saying when); what a
trace, a connector to moving elements and a label beside a moving dot are exempt with; a step
whose only action is a `change` is not dead air; moving an element that follows values is an
error at the move. One tiny render checks the moments against the video's frames."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import diagnose
from frame_truth import decode_frames, moment_frames, section_problems
from lecture.compiler import theme as T
from lecture.compiler.diagnostics import has_errors
from lecture.compiler.findings import Checker, SectionRules, SectionView, lesson_findings
from lecture.compiler.frontend import load_text, parse_text
from lecture.runtime.dead_air import dead_air, step_motion
from lecture.runtime.ffmpeg import probe
from lecture.runtime.geometry import lesson_views


def _views(text: str, folder: Path = Path(".")) -> list[SectionView]:
    loaded = load_text(text, str(folder / "t.lecture"))
    assert not has_errors(loaded.diagnostics), loaded.diagnostics
    return lesson_views(loaded.lesson, base_dir=folder)[1]


def _at_step_ends(views: list[SectionView]) -> list[SectionView]:
    """The views without their moments: what the checker saw before it looked inside steps."""
    return [replace(v, steps=tuple(replace(s, moments=()) for s in v.steps)) for v in views]


# ---------------------------------------------------------------- findings over the motion

# The dot p slides up the curve from x = 1 to 3.5; its label passes over the blue dot q on the
# way, never at a step's end. The yellow dot d turns half round c, through the square above c.
ON_THE_WAY = textwrap.dedent('''\
    lesson "On the way"
      voice: none

    section s "Slide"
      line l1 "Slide."
      axes ax in A1..D5 x=0..4 y=0..16
      plot f "x^2" on ax
      value x0 = 1
      dot p at (x0, f(x0)) on ax color=red
      label lp "P" above p color=red
      dot q at (2, 5.6) on ax color=blue radius=0.2
      dot c at F2 color=white
      dot d right of c color=yellow radius=0.15
      square sq side=0.3 above c color=green

      step 1s: say l1; create ax, f, p, lp, q, c, d, sq
      step 4s: change x0 to 3.5
      step 3s: rotate d 180 about c
      wait 1s
    ''')


@pytest.fixture(scope="module")
def on_the_way() -> list[SectionView]:
    return _views(ON_THE_WAY)


def test_a_label_that_collides_only_on_the_way_is_reported_once_saying_when(on_the_way):
    assert not [f for f in lesson_findings(_at_step_ends(on_the_way)) if f.code == "overlap"]
    found = [f for f in lesson_findings(on_the_way) if {f.element, f.other} == {"lp", "q"}]
    assert len(found) == 1, found
    f = found[0]
    # at the label (the one that moves into the other), at the moment it happens
    assert (f.code, f.element, f.other, f.span.line, f.step, f.step_line) == ("overlap", "lp", "q", 10, 2, 17)
    message = f.to_diagnostic().message
    assert message.startswith("'lp' overlaps 'q' (line 11) by ")
    assert " while x0 changes (x0 = " in message and message.endswith(" in step 2 (line 17)")
    x0 = float(message.split("(x0 = ")[1].split(")")[0])
    assert 1.7 < x0 < 2.4  # where the label passes the dot at x = 2


def test_a_turn_is_measured_on_its_way_too(on_the_way):
    turn = on_the_way[0].steps[2]
    assert len(turn.moments) >= 10
    ys = [m.get("d").bbox.cy for m in turn.moments]
    assert max(ys) - turn.get("d").bbox.cy > 0.3  # half round, through the top
    found = [f for f in lesson_findings(on_the_way) if {f.element, f.other} == {"d", "sq"}]
    assert len(found) == 1 and found[0].element == "d", found
    assert " while 'd' turns (" in found[0].to_diagnostic().message
    assert " s into the step) in step 3 (line 18)" in found[0].to_diagnostic().message


def test_only_steps_that_move_things_are_measured_inside(on_the_way):
    assert [bool(s.moments) for s in on_the_way[0].steps] == [False, True, True, False]
    change = on_the_way[0].steps[1]
    fractions = [m.fraction for m in change.moments]
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] < 1
    assert all(m.get("q") is change.moments[0].get("q") for m in change.moments)  # measured once


def test_a_value_that_turns_round_is_measured_where_it_turns():
    text = textwrap.dedent('''\
        lesson "Turn round"
          voice: none

        section s "Back"
          line l1 "Back."
          axes ax in A1..D5 x=0..4 y=0..4
          value x0 = 1
          dot p at (x0, 1) on ax
          step 1s: say l1; create ax, p
          step 3s: change x0 to 3.7, 1 ease=linear
        ''')
    step = _views(text)[0].steps[1]
    at_turn = next(m for m in step.moments if m.fraction == 0.5)
    assert at_turn.get("p").bbox.cx == pytest.approx(max(m.get("p").bbox.cx for m in step.moments))


# ---------------------------------------------------------------- exemptions

# The sine curve unrolled: a dot on the unit circle, a dot at (a, sin a) on the axes, a link
# between them and the wave the second one traces; a label beside the dot on the axes.
UNROLLED = textwrap.dedent('''\
    lesson "Unrolled"
      voice: none

    section wave "Unrolling"
      line l1 "One turn, one wave."
      plane unit in B1..C3 x=-1.2..1.2 y=-1.2..1.2 step=1
      axes graph in B4..D6 x=0..6.3 y=-1.2..1.2 x_step=1
      value a = 0
      dot p at (cos(a), sin(a)) on unit color=yellow
      dot s at (a, sin(a)) on graph color=green
      label sl "s" above s color=green
      line link from p to s color=gray
      trace wave of s color=green
      text peak "top" at (1.6, 1.02) on graph

      step 2s: say l1; create unit, graph, p, s, sl, link, wave
      step 6s: change a to 6.28 ease=linear
      step 1s: write peak
    ''')


def test_a_trace_is_exempt_with_what_it_follows_and_what_that_is_exempt_with():
    rules = SectionRules.of(parse_text(UNROLLED, "t.lecture").sections[0])
    for pair in [("wave", "s"), ("wave", "graph"), ("wave", "link"), ("wave", "sl")]:
        assert frozenset(pair) in rules.exempt, pair
    # not with what its element is not exempt with: text written where it runs
    assert frozenset(("wave", "peak")) not in rules.exempt
    assert frozenset(("wave", "p")) not in rules.exempt


def test_a_connector_and_a_label_are_exempt_with_the_axes_their_moving_element_is_on():
    rules = SectionRules.of(parse_text(UNROLLED, "t.lecture").sections[0])
    for pair in [("link", "graph"), ("link", "unit"), ("sl", "graph")]:
        assert frozenset(pair) in rules.exempt, pair
    assert frozenset(("sl", "unit")) not in rules.exempt


def test_a_connector_between_two_dots_on_one_axes_is_a_line_in_them():
    text = textwrap.dedent('''\
        lesson "Secant"
          voice: none

        section s "S"
          line l1 "Secant."
          axes ax in A1..C4 x=0..3 y=0..9
          plot curve "x^2" on ax
          plane other in D1..E3 x=-1..1 y=-1..1
          plot wave "x" on other
          value h = 2
          dot p at (1, 1) on ax
          dot q at (1 + h, curve(1 + h)) on ax
          dot r at (0, 0) on other
          line sec from p to q
          line far from p to r
          step 1s: say l1; create ax, curve, other, wave, p, q, r, sec, far
          step 2s: change h to 0.5
        ''')
    rules = SectionRules.of(parse_text(text, "t.lecture").sections[0])
    for pair in [("sec", "curve"), ("sec", "ax"), ("far", "ax"), ("far", "other")]:
        assert frozenset(pair) in rules.exempt, pair
    # a line from one axes to another is not a line in either: it may not cross their curves
    assert frozenset(("far", "curve")) not in rules.exempt and frozenset(("far", "wave")) not in rules.exempt


def test_the_unrolled_sine_overlaps_nothing_but_text_written_over_the_wave():
    found = lesson_findings(_views(UNROLLED))
    overlaps = {(f.element, f.other) for f in found if f.code == "overlap"}
    assert overlaps == {("peak", "wave")}, found
    # the label beside the moving dot is still held to the spacing of text: on its way below the
    # x axis it comes up against the axis' numbers
    close = [f for f in found if f.code == "too-close"]
    assert [(f.element, f.other) for f in close] == [("sl", "graph")]
    assert " while a changes (a = " in close[0].to_diagnostic().message


def test_a_label_beside_a_dot_on_axes_is_still_not_exempt_with_a_curve():
    text = textwrap.dedent('''\
        lesson "Over the curve"
          voice: none

        section s "S"
          line l1 "Curve."
          axes ax in A1..D5 x=0..4 y=0..4
          plot f "2" on ax
          dot q at (2, 2) on ax
          label lq "a long label here" right of q
          step 1s: say l1; create ax, f, q, lq
        ''')
    found = {(f.code, f.element, f.other) for f in lesson_findings(_views(text))}
    assert ("overlap", "lq", "ax") not in found and ("overlap", "lq", "f") in found, found


# ---------------------------------------------------------------- dead air

NARRATED = textwrap.dedent('''\
    lesson "Narrated"

    section s "S"
      line l1 "Slide."
      axes ax in A1..D5 x=0..4 y=0..4
      value x0 = 1
      dot p at (x0, 1) on ax
      circle c at F2 radius=0.3
      step 2s: say l1 "Here."; create ax, p
      step 12s: say "It slides all the way across while I talk about it at length."; change x0 to 3
      step 12s: say "A circle appears while I talk about it at length, and then nothing moves."; create c
    ''')


def test_a_narrated_step_with_only_a_change_is_not_dead_air():
    section = parse_text(NARRATED, "t.lecture").sections[0]
    change, create = section.steps[1], section.steps[2]
    moving = step_motion(change, section, "l1")
    assert moving.seconds == change.seconds
    assert dead_air(change, 12.0, moving, strict=True) is None
    still = step_motion(create, section, "l1")
    assert still.seconds < 3 and dead_air(create, 12.0, still, strict=True) is not None


@pytest.mark.parametrize("action", ["move p along f", "rotate p 90 about C3 ease=linear"])
def test_a_move_along_and_an_eased_turn_last_their_step(action):
    text = NARRATED.replace("change x0 to 3", action).replace(
        "      dot p at (x0, 1) on ax\n", "      dot p at C2\n      plot f \"x\" on ax\n")
    section = parse_text(text, "t.lecture").sections[0]
    assert step_motion(section.steps[1], section, "l1").seconds == 12.0


# ---------------------------------------------------------------- moving what follows values

FOLLOWERS = textwrap.dedent('''\
    lesson "Followers"
      voice: none

    section s "S"
      line l1 "Slide."
      axes ax in A1..D5 x=0..4 y=0..16
      plot f "x^2" on ax
      value x0 = 1
      value y0 = "f(x0)"
      dot p at (x0, y0) on ax color=red
      label lp "P" above p
      dot q at (1, 2) on ax
      step 1s: say l1; create ax, f, p, lp, q
      step 3s: move p along f
      step 1s: move lp to F3; move q along f
    ''')


def test_moving_an_element_that_follows_values_is_an_error_at_the_move():
    found = [d for d in diagnose(FOLLOWERS) if d.code == "moves-follower"]
    assert [(d.span.line, d.span.column, d.span.end_column) for d in found] == [(14, 17, 18), (15, 17, 19)]
    assert all(d.severity == "error" for d in found)
    assert found[0].message == "'p' cannot be moved: the values put it where it is at every moment"
    assert found[0].hint == "p follows x0: change x0 instead"  # y0 is computed from x0
    assert found[1].hint == "lp follows p, which follows x0: change x0 instead"


def test_moving_an_element_with_a_place_of_its_own_is_no_error():
    fixed = FOLLOWERS.replace("move p along f", "change x0 to 3").replace("move lp to F3; ", "")
    assert not [d for d in diagnose(fixed) if d.code == "moves-follower" or d.severity == "error"]


# ---------------------------------------------------------------- the moments in the video

RENDERED = textwrap.dedent('''\
    lesson "Moments"
      voice: none

    section s "Slide"
      line l1 "Slide."
      axes ax in A1..D5 x=0..4 y=0..16
      plot f "x^2" on ax color=yellow
      value x0 = 1
      dot p at (x0, f(x0)) on ax color=red radius=0.12
      label lp "P" above p color=red
      trace tr of p color=green
      dot q at (0, 0) on ax color=blue

      step 1s: say l1; create ax, f, p, lp, tr, q
      step 2s: change x0 to 3.5
      step 2s: move q along f x=0..2
      wait 1s
    ''')


def test_the_moments_are_what_the_video_shows_then(tmp_path):
    path = tmp_path / "moments.lecture"
    path.write_text(RENDERED)
    views = _views(RENDERED, tmp_path)
    assert Checker().section(views[0]) == []
    run = subprocess.run([sys.executable, "-m", "lecture", "render", str(path), "-q", "low", "--build-dir",
                          str(tmp_path / "build")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    manifest = json.loads((tmp_path / "build" / "moments" / "manifest.json").read_text())
    video = Path(manifest["sections"][0]["output"])
    info = probe(video)
    durations = [s.seconds for s in views[0].section.steps]
    compared = moment_frames(durations, manifest["fps"], views[0].steps, views[0].section.steps)
    assert {step for step, _ in compared} == {2, 3} and len(compared) >= 20
    assert section_problems(views[0], video, durations, manifest["fps"], info.width, info.height) == []
    # the boxes of frame truth are coarse inside axes: the moving dots are where the moments put them
    frames = decode_frames(video, list(compared.values()), info.width, info.height)
    per_unit = info.height / T.FRAME_HEIGHT
    for (step, fraction), index in compared.items():
        moment = next(m for m in views[0].steps[step - 1].moments if m.fraction == fraction)
        dot, color = ("p", RED) if step == 2 else ("q", BLUE)
        box = moment.get(dot).bbox
        cx, cy = info.width / 2 + box.cx * per_unit, info.height / 2 - box.cy * per_unit
        seen = _centroid(frames.images[index], color, (cx, cy), box.w * per_unit / 2 + 4)
        assert seen is not None and np.hypot(seen[0] - cx, seen[1] - cy) <= 3.0, (step, fraction, seen)


RED, BLUE = "#fc6255", "#58c4dd"


def _centroid(image: np.ndarray, color: str, at: tuple[float, float],
              reach: float) -> tuple[float, float] | None:
    """The centre of the pixels of a colour within `reach` pixels of a place (None: none there)."""
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    near = np.linalg.norm(image.astype(float) - rgb, axis=2) < 60
    rows, cols = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    near &= (np.abs(cols + 0.5 - at[0]) <= reach) & (np.abs(rows + 0.5 - at[1]) <= reach)
    if near.sum() < 5:
        return None
    return float((cols[near] + 0.5).mean()), float((rows[near] + 0.5).mean())
