"""Every example lesson renders at low quality, narrated (one by piper, the others by espeak),
without a warning, and the video is what the manifest says: checked with ffprobe (streams,
resolution, durations within one frame), 45-125 s long; clean under `check --strict`; and
every step end shows what the checker's model says is visible (tests/frame_truth.py)."""

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from frame_truth import section_problems
from lecture.agents.critic import check_lesson
from lecture.compiler import frontend
from lecture.compiler.findings import to_diagnostics
from lecture.runtime.ffmpeg import probe

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.lecture"))


def test_there_are_six_examples_in_different_disciplines():
    assert len(EXAMPLES) >= 6


# One example speaks with the default voice (piper, as a user's render does); the others with
# espeak, which times the steps by real speech as well at a third of the cost.
PIPER_EXAMPLE = "pythagoras"


RENDERS_AT_ONCE = 2  # one lesson's longest section leaves a core idle; two lessons keep both busy


def _render(lesson: Path, build: Path) -> str:
    """`lecture render` of one example, narrated, at low quality: its exit status and output."""
    voice = [] if lesson.stem == PIPER_EXAMPLE else ["--voice", "espeak"]
    run = subprocess.run([sys.executable, "-m", "lecture", "render", str(lesson), "-q", "low", *voice,
                          "--build-dir", str(build)],
                         cwd=build.parent, capture_output=True, text=True, timeout=900)
    return f"exit status {run.returncode}\n{run.stdout}{run.stderr}"


@pytest.fixture(scope="module")
def renders(request, tmp_path_factory) -> Iterator[dict[str, tuple[Future[str], Path]]]:
    """The selected examples' renders, started in test order, RENDERS_AT_ONCE at a time in the
    background while the tests check the ones already done."""
    chosen = [item.callspec.params["lesson"] for item in request.session.items
              if item.originalname == "test_example_renders" and hasattr(item, "callspec")]
    with ThreadPoolExecutor(RENDERS_AT_ONCE) as runner:
        started: dict[str, tuple[Future[str], Path]] = {}
        for lesson in chosen:
            build = tmp_path_factory.mktemp(lesson.stem) / "build"
            started[lesson.stem] = (runner.submit(_render, lesson, build), build)
        try:
            yield started
        finally:
            for future, _ in started.values():
                future.cancel()


@pytest.mark.parametrize("lesson", EXAMPLES, ids=lambda p: p.stem)
def test_example_renders(lesson, renders):
    # the checker's dry run (one core) runs while the renders run in their own processes
    checked = check_lesson(frontend.load_file(str(lesson), strict=True).lesson, lesson.parent)
    future, build = renders[lesson.stem]
    out = future.result(timeout=1800)
    assert out.startswith("exit status 0\n"), out
    assert "warning:" not in out and "error:" not in out and "Traceback" not in out, out

    root = build / lesson.stem
    man = json.loads((root / "manifest.json").read_text())
    frame = 1 / man["fps"]
    assert len(man["sections"]) >= 3
    info = probe(root / "lesson.mp4", count_frames=True)
    assert info.has_video and info.has_audio and (info.width, info.height) == (854, 480)
    assert abs(info.duration - man["duration"]) < frame
    assert 45 <= info.duration <= 125
    total = 0.0
    for section in man["sections"]:
        part = probe(section["output"])
        assert part.has_audio
        assert abs(part.duration - section["rendered_duration"]) < frame
        assert abs(section["rendered_duration"] - section["planned_duration"]) < frame
        total += part.duration
    assert abs(info.duration - total) < frame * len(man["sections"])
    assert (root / "lesson.srt").is_file() and (root / "lesson.vtt").is_file()

    # clean under `check --strict` (its layout findings come from the same dry run that frame
    # truth compares with the video), and frame truth: the step ends and the moments inside each
    # motion of the narrated video (steps stretched to their speech)
    assert [d.render() for d in to_diagnostics(checked.findings, True)] == []
    views = checked.views
    timed = man["narration"]["steps"]
    problems: list[str] = []
    for view, section in zip(views, man["sections"], strict=True):
        durations = [s["duration"] for s in timed if s["section"] == section["id"]]
        assert len(durations) == len(view.steps)
        problems += section_problems(view, Path(section["output"]), durations, man["fps"],
                                     info.width, info.height)
    assert not problems, "\n".join(problems)
