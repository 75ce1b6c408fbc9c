"""`lecture render` end to end with the default offline voice: every video carries one
AAC track as long as its picture, lesson.mp4 is loudness-normalised and carries soft
subtitles, lesson.srt/.vtt follow the spoken sentences, a step that its speech outruns is
lengthened with a warning at its line, and a second render speaks and renders nothing."""

import json
import subprocess
import sys

import srt
from lecture.runtime.ffmpeg import probe
from lecture.runtime.voice_track import measure

LESSON = """\
lesson "Narrated"

section intro "Hello"
  line l1 "A circle."
  circle c at B2 color=blue
  step 1s: say l1; create c
  step 1s: say "This sentence is much too long to be spoken in one second."

section more "A square"
  line l2 "A square."
  square s at C4 color=red
  step 2s: say l2; create s
"""


def _render(tmp_path):
    return subprocess.run(
        [sys.executable, "-m", "lecture", "render", str(tmp_path / "n.lecture"), "-q", "low",
         "--build-dir", str(tmp_path / "build")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)


def test_narrated_render(tmp_path):
    (tmp_path / "n.lecture").write_text(LESSON, encoding="utf-8")
    run = _render(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert "Traceback" not in out
    # the long sentence outruns its step: a warning at the step's line and column
    assert "n.lecture:7:3: warning: narration needs" in out and "step declares 1 s" in out

    root = tmp_path / "build" / "n"
    frame = 1 / 15
    man = json.loads((root / "manifest.json").read_text())
    steps = man["narration"]["steps"]
    long_step = max((s for s in steps if s["section"] == "intro"), key=lambda s: s["duration"])
    assert long_step["declared"] == 1.0 and long_step["extended"]
    assert long_step["duration"] > 2.5

    for video in [root / "sections" / "intro.mp4", root / "sections" / "more.mp4", root / "lesson.mp4"]:
        streams = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(video)],
            capture_output=True, text=True, check=True).stdout)["streams"]
        audio = [s for s in streams if s["codec_type"] == "audio"]
        pictures = [s for s in streams if s["codec_type"] == "video"]
        assert len(audio) == 1 and audio[0]["codec_name"] == "aac"
        assert abs(float(audio[0]["duration"]) - float(pictures[0]["duration"])) < frame

    lesson = probe(root / "lesson.mp4")
    assert abs(lesson.duration - man["duration"]) < frame
    loud = measure(root / "lesson.mp4")
    assert abs(loud.integrated - (-16.0)) <= 1.0
    assert loud.true_peak <= -1.5

    streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                              "-of", "csv=p=0", str(root / "lesson.mp4")],
                             capture_output=True, text=True, check=True).stdout.split()
    assert "mov_text" in streams

    cues = list(srt.parse((root / "lesson.srt").read_text(encoding="utf-8")))
    assert cues and all(a.start <= b.start for a, b in zip(cues, cues[1:], strict=False))
    assert all(c.end.total_seconds() <= lesson.duration + frame for c in cues)
    spoken = " ".join(c.content.replace("\n", " ") for c in cues)
    for sentence in ("A circle.", "This sentence is much too long", "A square."):
        assert sentence in spoken
    assert (root / "lesson.vtt").read_text(encoding="utf-8").startswith("WEBVTT")

    again = _render(tmp_path)
    assert again.returncode == 0
    assert "rendered (" not in again.stdout + again.stderr  # every section cached
    assert "cached" in again.stdout + again.stderr
