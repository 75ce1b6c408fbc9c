"""Frame truth for generated lessons: small lessons drawn by hypothesis (shapes, text,
formulas, arrows; create, write, fade, indicate, move, transform in any order, waits)
are checked like `lecture check` checks them, rendered at low quality, and every step end
of the video is compared with what the checker's model says is visible (tests/frame_truth.py).

A lesson the checker rejects or warns about is not drawn: the claim under test is that
what `check --strict` passes is what the video shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from frame_truth import section_problems
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st
from lecture.compiler import frontend
from lecture.compiler.diagnostics import DiagnosticError, has_errors
from lecture.compiler.findings import lesson_findings
from lecture.runtime.ffmpeg import probe
from lecture.runtime.geometry import lesson_views

# Cells two apart, so that elements at different cells seldom touch.
CELLS = ["A2", "A5", "C2", "C5", "E2", "E5"]
MOVE_TARGETS = ["B1", "B4", "D1", "D4", "F1", "F4"]
COLORS = ["yellow", "red", "green", "#58c4dd", "white"]


@st.composite
def element_lines(draw) -> tuple[list[str], list[str]]:
    """2-3 elements at distinct cells: (their lines, their ids)."""
    count = draw(st.integers(2, 3))
    cells = draw(st.permutations(CELLS))[:count]
    lines, ids = [], []
    for i, cell in enumerate(cells):
        kind = draw(st.sampled_from(["circle", "square", "dot", "text", "math"]))
        color = draw(st.sampled_from(COLORS))
        ident = f"e{i}"
        if kind == "circle":
            fill = draw(st.sampled_from(["", f" fill={color} opacity=0.4"]))
            lines.append(f"circle {ident} radius=0.4 at {cell} color={color}{fill}")
        elif kind == "square":
            fill = draw(st.sampled_from(["", f" fill={color} opacity=0.3", f" fill={color} opacity=0.8"]))
            lines.append(f"square {ident} side=0.8 at {cell} color={color}{fill}")
        elif kind == "dot":
            lines.append(f"dot {ident} at {cell} color={color}")
        elif kind == "text":
            lines.append(f'text {ident} "Step {i}" at {cell} color={color}')
        else:
            lines.append(f"math {ident} $x^{i + 2}$ at {cell} color={color}")
        ids.append(ident)
    return lines, ids


@st.composite
def small_lessons(draw) -> str:
    elements, ids = draw(element_lines())
    steps = [f"  step 1s: highlight l1; create {ids[0]}"]
    shown = {ids[0]}
    for _ in range(draw(st.integers(1, 3))):
        hidden = [e for e in ids if e not in shown]
        options = []
        if hidden:
            options += [("write", "indicate"), ("fade in",), ("create",)]
        if shown:
            options += [("indicate",), ("move",), ("fade out",)]
        if not options:
            break
        choice = draw(st.sampled_from(options))
        if choice[0] in ("write", "fade in", "create"):
            target = draw(st.sampled_from(hidden))
            actions = [f"{verb} {target}" for verb in choice]
            shown.add(target)
        else:
            target = draw(st.sampled_from(sorted(shown)))
            if choice[0] == "move":
                actions = [f"move {target} to {draw(st.sampled_from(MOVE_TARGETS))}"]
            else:
                actions = [f"{choice[0]} {target}"]
                if choice[0] == "fade out":
                    shown.discard(target)
        steps.append(f"  step {draw(st.sampled_from(['1s', '2s']))}: {'; '.join(actions)}")
        if draw(st.booleans()):
            steps.append("  wait 1s")
    steps.append("  wait 1s")
    header = 'lesson "Frame truth"\n  voice: none\n\nsection s "Shapes"\n  line l1 "Look."\n'
    return header + "".join(f"  {e}\n" for e in elements) + "\n" + "\n".join(steps) + "\n"


def checked_clean(path: Path) -> bool:
    """Whether `lecture check --strict` would pass the lesson (layout included)."""
    try:
        loaded = frontend.load_file(str(path), strict=True)
    except DiagnosticError:
        return False
    if has_errors(loaded.diagnostics):
        return False
    _, views = lesson_views(loaded.lesson, base_dir=path.parent)
    return not lesson_findings(views)


def render_problems(path: Path, build: Path) -> list[str]:
    run = subprocess.run([sys.executable, "-m", "lecture", "render", str(path), "-q", "low",
                          "--build-dir", str(build)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    root = build / path.stem
    manifest = json.loads((root / "manifest.json").read_text())
    loaded = frontend.load_file(str(path))
    _, views = lesson_views(loaded.lesson, base_dir=path.parent)
    problems: list[str] = []
    for view, section in zip(views, manifest["sections"], strict=True):
        durations = [s.seconds for s in view.section.steps]
        info = probe(section["output"])
        assert info.width and info.height
        problems += section_problems(view, Path(section["output"]), durations, manifest["fps"],
                                     info.width, info.height)
    return problems


# No shrinking: each example is a render; the failing lesson is printed whole instead.
@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(text=small_lessons())
def test_generated_lessons_show_what_the_checker_says(text, tmp_path_factory):
    folder = tmp_path_factory.mktemp("truth")
    path = folder / "truth.lecture"
    path.write_text(text)
    note(text)
    assume(checked_clean(path))  # the checker refused it: nothing is claimed about its video
    problems = render_problems(path, folder / "build")
    assert not problems, text + "\n" + "\n".join(problems)



# Cases that once drew something else than the checker's model, each with why.
FIXED_CASES = {
    # TransformMatchingTex manages its own pieces: once done, the old formula's glyphs must be
    # gone (they stayed drawn under the new one when the scene added them itself).
    "carried-terms": '''lesson "Carry"
  voice: none
  lines: all

section s "Terms"
  line l1 "Rearrange."
  math eq $a + b = c$ at B3
  math eq2 $a = c - b$ at B3

  step 1s: write eq
  step 2s: transform eq into eq2
  wait 1s
''',
    # Two `.animate` changes of one element in one step: the second was built from the state
    # before the step and undid the first (the circle stayed at B2, only smaller).
    "move-and-scale": '''lesson "Move and scale"
  voice: none
  lines: all

section s "Both"
  line l1 "Move."
  circle c radius=0.5 at B2 color=yellow fill=yellow opacity=0.8

  step 1s: create c
  step 2s: move c to E5; scale c 0.5
  wait 1s
''',
    # Two actions on parts of one formula in one step play in turn (a Succession); the dry run
    # played it whole, which split the formula up: the checker lost it from that step on.
    "two-parts-in-one-step": '''lesson "Parts"
  voice: none

section s "Terms"
  line l1 "Terms."
  math eq $a + b = c$ in A1..A6

  step 2s: say l1; write eq
  step 2s: color eq[$a$] orange; indicate eq[$b$]
  wait 1s
''',
}


@pytest.mark.parametrize("name", sorted(FIXED_CASES))
def test_fixed_cases_show_what_the_checker_says(name, tmp_path):
    path = tmp_path / f"{name}.lecture"
    path.write_text(FIXED_CASES[name])
    assert checked_clean(path)
    assert render_problems(path, tmp_path / "build") == []
