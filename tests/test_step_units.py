"""Steps as render units (issue 17): a section rendered a few steps at a time, each job advancing
through the steps before its own without drawing them, and joined without re-encoding, is
frame-identical to the section rendered whole — with a value that moves a dot, a trace that
draws its path and a highlighted line; and a unit's cache key holds the state it starts from:
an edit of step 2 that leaves step 3's starting state as it was leaves step 3 cached, one that
moves an element renders step 3 again."""

from __future__ import annotations

import io
import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from lecture.compiler.frontend import load_text
from lecture.runtime import build
from lecture.runtime.pool import RenderPool
from lecture.runtime.render import run_job
from lecture.runtime.step_units_jobs import join_units
from lecture.runtime.step_units_plan import read_outcomes, split_section
from lecture.runtime.worker_result import WorkerOutput
from rich.console import Console

MOTION = textwrap.dedent('''\
    lesson "Units"
      voice: none

    section s "Slide"
      line l1 "A value moves a dot."
      line l2 "Its trace stays."
      axes ax in A1..D4 x=0..4 y=0..10
      plot f "x^2" on ax x=0..3 color=yellow
      value x0 = 1
      dot p at (x0, f(x0)) on ax color=red radius=0.12
      trace tr of p color=green stroke=6
      step 1s: highlight l1; create ax, f, p, tr
      step 1.2s: change x0 to 2.5
      step 1s: highlight l2; change x0 to 1.5
      step 0.6s: indicate p
    ''')

STEPS = textwrap.dedent('''\
    lesson "Steps"
      voice: none
      theme: chalkboard

    section s "Steps"
      line l1 "One."
      line l2 "Two."
      circle c at B2 color=blue
      square q at D4 color=red
      step 1s: highlight l1; create c
      step 1s: highlight l2; move c to C3
      step 1s: create q
    ''')


def _framemd5(video: Path) -> list[str]:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:v", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def _job(module: Path, media: Path, **extra: object) -> dict:
    return {"module": str(module), "scene": "S01S", "section": "s", "width": 854, "height": 480, "fps": 15,
            "media_dir": str(media), **extra}


@pytest.fixture(scope="module")
def motion(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The motion lesson rendered whole, and unit by unit (each unit a job of its own)."""
    folder = tmp_path_factory.mktemp("units")
    loaded = load_text(MOTION, str(folder / "units.lecture"))
    compiled = build.compile_module(loaded.lesson, base_dir=folder, fps=15)
    module = folder / "units_scenes.py"
    module.write_text(compiled.code)
    split = split_section(compiled.code, "S01S", "base")
    assert split is not None
    whole = run_job(_job(module, folder / "whole"))
    assert isinstance(whole, WorkerOutput), whole
    outcomes = []
    for u in range(len(split)):
        answer = run_job(_job(module, folder / f"unit{u}",
                              units={"bounds": split.bounds, "first": u, "stop": u + 1, "stills": True}))
        assert isinstance(answer, WorkerOutput) and answer.kind == "units", answer
        listed = read_outcomes(answer.path)
        assert listed is not None and [o.index for o in listed] == [u]
        outcomes.append(listed[0])
    joined = join_units([Path(o.video) for o in outcomes if o.video], folder / "joined.mp4")
    return {"split": split, "whole": whole.path, "joined": joined, "outcomes": outcomes, "folder": folder}


def test_a_section_joined_from_its_units_is_frame_identical_to_it_rendered_whole(motion):
    split = motion["split"]
    # the 0.6 s step goes with the one before it: three units of four steps
    assert split.bounds == [0, 1, 2, 4]
    whole, joined = _framemd5(motion["whole"]), _framemd5(motion["joined"])
    assert len(whole) == round((1 + 1.2 + 1 + 0.6) * 15) == len(joined)
    assert joined == whole
    assert [o.frames for o in motion["outcomes"]] == [15, 18, 24]


def test_each_unit_starts_from_a_state_of_its_own(motion):
    states = [o.state for o in motion["outcomes"]]
    assert all(states) and len(set(states)) == len(states)


def test_the_state_a_unit_starts_from_is_the_same_advanced_through_or_drawn(motion):
    """One job drawing every unit sees the same starting states as the jobs that advanced to
    theirs: the fingerprint says nothing of how the scene got there."""
    split = motion["split"]
    answer = run_job(_job(motion["folder"] / "units_scenes.py", motion["folder"] / "all",
                          units={"bounds": split.bounds, "first": 0, "stop": len(split)}))
    assert isinstance(answer, WorkerOutput)
    listed = read_outcomes(answer.path)
    assert listed is not None
    assert [o.state for o in listed] == [o.state for o in motion["outcomes"]]
    # and a unit whose starting state the cache holds is advanced through, not drawn
    known = {"1": [motion["outcomes"][1].state]}
    answer = run_job(_job(motion["folder"] / "units_scenes.py", motion["folder"] / "known",
                          units={"bounds": split.bounds, "first": 0, "stop": len(split), "known": known}))
    assert isinstance(answer, WorkerOutput)
    listed = read_outcomes(answer.path)
    assert listed is not None and [(o.cached, o.video is None) for o in listed] == \
        [(False, False), (True, True), (False, False)]
    # a unit another job renders is advanced through and not reported; the others start as before
    answer = run_job(_job(motion["folder"] / "units_scenes.py", motion["folder"] / "skip",
                          units={"bounds": split.bounds, "first": 0, "stop": len(split), "skip": [1]}))
    assert isinstance(answer, WorkerOutput)
    listed = read_outcomes(answer.path)
    assert listed is not None and [(o.index, o.state) for o in listed] == \
        [(u, motion["outcomes"][u].state) for u in (0, 2)]


def _render(path: Path, root: Path) -> tuple[str, dict]:
    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None)
    rc = build.render_lessons([path], build.RenderOptions(quality="low", build_root=root, voice="none"),
                              console=console)
    assert rc == 0, buf.getvalue()
    return buf.getvalue(), json.loads((root / path.stem / "manifest.json").read_text())


def test_a_unit_is_reused_only_when_the_state_it_starts_from_is_unchanged(tmp_path):
    lesson, root = tmp_path / "steps.lecture", tmp_path / "build"
    lesson.write_text(STEPS)
    _, man = _render(lesson, root)
    section = man["sections"][0]
    assert (section["units"], section["units_cached"]) == (3, 0)

    # Step 2 lasts longer: it ends as it did, so step 3 starts from the same state (cached).
    lesson.write_text(STEPS.replace("step 1s: highlight l2", "step 1.4s: highlight l2"))
    _, man = _render(lesson, root)
    section = man["sections"][0]
    assert (section["units"], section["units_cached"]) == (3, 2)
    video = Path(section["output"])
    # the whole section drawn by a fresh render worker, as a build draws it: not in this process,
    # whose hash seed differs from the workers' (pool.py) and whose earlier tests left Manim state
    # (after test_motion_findings, with some seeds, the highlight's fade differed in 13 pixels)
    with RenderPool(1) as pool:
        whole = pool.submit({"module": man["module"], "scene": section["class_name"], "section": "s",
                             "width": 854, "height": 480, "fps": 15, "media_dir": str(tmp_path / "whole")},
                            log_path=tmp_path / "whole.log").result(timeout=300)
    assert whole.output is not None, whole.failure
    assert _framemd5(video) == _framemd5(whole.output)

    # Step 2 moves the circle elsewhere: step 3 starts from another state and is rendered again.
    lesson.write_text(STEPS.replace("move c to C3", "move c to D2"))
    _, man = _render(lesson, root)
    section = man["sections"][0]
    assert (section["units"], section["units_cached"]) == (3, 1)  # (only step 1)


def test_a_cloned_cache_s_units_are_used_only_when_they_are_ours(tmp_path):
    """The units folder of a cache found in a cloned repository: a unit counts only when its
    record has our shape and its video is a regular MP4 file (never through a link); a link
    in the units folder's place is refused."""
    from lecture.runtime.cache import Cache
    from lecture.runtime.safe_fs import UnsafePathError

    static, states = "a" * 32, ["b" * 32, "c" * 32, "d" * 32, "e" * 32]
    cache = Cache(tmp_path / "cache")
    units = tmp_path / "cache" / "units"
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 64)
    ours, linked, misshapen, not_mp4 = states
    (units / f"{static}-{ours}.mp4").write_bytes(secret.read_bytes())
    (units / f"{static}-{linked}.mp4").symlink_to(secret)
    (units / f"{static}-{misshapen}.mp4").write_bytes(secret.read_bytes())
    (units / f"{static}-{not_mp4}.mp4").write_bytes(b"#!/bin/sh\necho planted\n")
    for state in states:
        record = {"frames": 15} if state != misshapen else {"frames": "15; rm -rf ~"}
        (units / f"{static}-{state}.json").write_text(json.dumps(record))
    assert cache.unit_states({static}) == {static: [ours]}
    assert cache.unit_record(f"{static}-{linked}") is None
    with pytest.raises(ValueError):
        cache.unit_path("../../etc/passwd", ".mp4")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cloned").mkdir()
    (tmp_path / "cloned" / "units").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError):
        Cache(tmp_path / "cloned")
