"""Narration in the build: timing steps by their speech, the narration track (placement,
loudness, muxing), subtitles, `lecture say` and `lecture voices`.

Real piper synthesis (cached per module run); tiny videos made by ffmpeg's color source
stand in for Manim's, so no scene is rendered here."""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from lecture.compiler.frontend import load_text
from lecture.runtime import subtitles, voice_track
from lecture.runtime.say_command import run_say, run_voices
from lecture.runtime.speech import Narrator
from lecture.runtime.speech.wav import read_wav
from lecture.runtime.step_timing import TAIL_PAUSE, narrator_for, plan_narration, say_texts

FPS = 15
LONG = ("This sentence is deliberately long, so that on screen it needs more than two lines "
        "of forty-two characters each, and therefore several cues.")
LESSON = f'''lesson "Narrated"
  fps: {FPS}

section intro "Right triangles"
  line l1 "A right triangle has one 90° angle."
  line l2 "Its longest side is the hypotenuse."
  step 1s: say l1 "Here is a right triangle. {LONG}"
  step 4s: say l2
  wait 1s

section proof "A proof"
  step 2s: say "Short and sweet."
  step 6s: say "A step with plenty of time."
'''
# line 7 is the first step of `intro`: `  step 1s: ...`


def _ffprobe(path: Path) -> dict:
    cp = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                         "-show_format", str(path)], capture_output=True, text=True, check=True)
    return json.loads(cp.stdout)


def _color_video(path: Path, frames: int, fps: int = FPS) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=black:s=320x240:r={fps}", "-frames:v", str(frames), "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _needs_text(seconds: float) -> str:
    shown = math.ceil(round((seconds + TAIL_PAUSE) * 10, 6)) / 10
    return f"{shown:.1f}".removesuffix(".0")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(scope="module")
def loaded():
    return load_text(LESSON, "n.lecture")


@pytest.fixture(scope="module")
def plan(loaded, cache):
    narrator, problems = narrator_for(loaded.lesson, cache_dir=cache)
    assert narrator is not None and not problems
    return plan_narration(loaded.lesson, narrator)


@pytest.fixture(scope="module")
def lesson_files(plan, tmp_path_factory):
    """lesson.mp4 as the build makes it (Soundtrack.finish_lesson: the lesson's track at the
    sentences' stored gains, encoded once and muxed with soft subtitles into a silent video
    of the lesson's frames), and the track itself as WAV, levelled and as synthesised."""
    import shutil

    from lecture.runtime.soundtrack import Soundtrack

    out = tmp_path_factory.mktemp("lesson")
    frames = sum(s.frame_starts(FPS)[1] for s in plan.sections)
    video = _color_video(out / "silent.mp4", frames)
    raw = voice_track.write_lesson_track(plan, FPS, out / "narration.raw.wav", levelled=False)
    wav = voice_track.write_lesson_track(plan, FPS, out / "narration.wav")
    mp4 = Soundtrack(plan, FPS).finish_lesson(shutil.copyfile(video, out / "lesson.mp4"), out / "work")
    srt, vtt = subtitles.write_subtitles(plan, FPS, out / "lesson")
    return {"dir": out, "frames": frames, "raw": raw, "wav": wav, "mp4": mp4, "srt": srt, "vtt": vtt,
            "soft": mp4}


# ---------------------------------------------------------------- timing


def test_speech_that_outruns_its_step_lengthens_it_and_warns_at_the_step(plan) -> None:
    intro = plan.section("intro")
    first = intro.steps[0]
    assert first.speech.duration > 1.0 and first.extended
    assert first.duration >= first.speech.duration + TAIL_PAUSE - 1e-9
    # lengthened to the next tenth of a second: the number the warning says and the video plays
    assert first.duration < first.speech.duration + TAIL_PAUSE + 0.1 + 1e-9
    assert first.duration == round(first.duration, 1)
    timed = plan.lesson.section("intro").steps[0]
    assert timed.seconds == first.duration
    warning = next(d for d in plan.diagnostics if d.code == "narration-too-long")
    assert warning.severity == "warning"
    assert (warning.span.line, warning.span.column) == (7, 3)
    assert warning.message == f"narration needs {_needs_text(first.speech.duration)} s, step declares 1 s"
    assert re.fullmatch(r"narration needs \d+(\.\d)? s, step declares 1 s", warning.message)
    # only steps whose speech outruns them change; the others keep their declared time
    proof = plan.lesson.section("proof")
    assert [s.seconds for s in proof.steps] == [2.0, 6.0]
    assert plan.lesson.section("intro").steps[2].seconds == 1.0
    assert plan.ok


def test_step_starts_follow_the_timed_durations(plan) -> None:
    intro = plan.section("intro")
    assert [s.start for s in intro.steps] == pytest.approx(
        [0.0, intro.steps[0].duration, intro.steps[0].duration + intro.steps[1].duration])
    starts, frames = intro.frame_starts(FPS)
    assert starts[0] == 0 and frames == round(intro.duration * FPS)


def test_say_with_a_line_and_no_text_speaks_the_line(plan, loaded) -> None:
    intro = plan.section("intro")
    assert intro.steps[1].text == "Its longest side is the hypotenuse."
    assert [c.text for c in intro.steps[1].speech.sentences] == ["Its longest side is the hypotenuse."]
    assert say_texts(loaded.lesson.section("intro").steps[1], loaded.lesson.section("intro"))[0][0] \
        == "Its longest side is the hypotenuse."


def test_strict_makes_the_overrun_an_error(loaded, cache) -> None:
    narrator, _ = narrator_for(loaded.lesson, cache_dir=cache)
    strict = plan_narration(loaded.lesson, narrator, strict=True)
    assert not strict.ok
    assert [d.severity for d in strict.diagnostics if d.code == "narration-too-long"] == ["error"]


def test_voice_none_keeps_the_declared_timings(loaded) -> None:
    narrator, _ = narrator_for(loaded.lesson, voice="none", cache_dir=None)
    silent = plan_narration(loaded.lesson, narrator)
    assert silent.lesson == loaded.lesson
    assert [[s.seconds for s in sec.steps] for sec in silent.lesson.sections] == [[1.0, 4.0, 1.0], [2.0, 6.0]]
    assert silent.diagnostics == () and silent.silent
    assert all(not st.speech.frames and not st.speech.sentences for s in silent.sections for st in s.steps)
    track = voice_track.section_samples(silent.section("intro"), FPS)
    assert track.frames == round(6.0 * track.sample_rate)
    assert not any(track.samples)


def test_narration_hash_changes_with_text_and_voice(loaded, plan, cache) -> None:
    narrator, _ = narrator_for(loaded.lesson, cache_dir=cache)
    again = plan_narration(loaded.lesson, narrator)
    assert [s.hash for s in again.sections] == [s.hash for s in plan.sections]
    edited = load_text(LESSON.replace("Short and sweet.", "Short and sour."), "n.lecture").lesson
    other = plan_narration(edited, narrator)
    assert other.section("intro").hash == plan.section("intro").hash
    assert other.section("proof").hash != plan.section("proof").hash
    silent = plan_narration(loaded.lesson, Narrator("none", cache_dir=None))
    assert silent.section("proof").hash != plan.section("proof").hash


# ---------------------------------------------------------------- diagnostics


def test_latex_in_narration_is_a_warning_at_its_characters() -> None:
    text = ('lesson "L"\nsection s "S"\n'
            '  step 9s: say "We know $a^2 + b^2$ well."\n'
            '  step 9s: say "Escaped \\"q\\" then $x$ here."\n')
    lesson = load_text(text, "l.lecture").lesson
    plan = plan_narration(lesson, Narrator("none", cache_dir=None))
    latex = [d for d in plan.diagnostics if d.code == "narration-latex"]
    assert len(latex) == 2 and all(d.severity == "warning" for d in latex)
    first = latex[0]
    line = text.split("\n")[2]
    assert (first.span.line, first.span.column) == (3, line.index("$a^2") + 1)
    assert first.span.end_column - first.span.column == len("$a^2 + b^2$")
    # an escaped string cannot map offsets to columns: the whole text is marked
    second = latex[1]
    assert (second.span.line, second.span.column) == (4, text.split("\n")[3].index('"Escaped') + 1)


def test_an_unreachable_speech_endpoint_is_an_error_naming_the_step(loaded) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    narrator = Narrator("openai", cache_dir=None, base_url=f"http://127.0.0.1:{port}/v1", api_key="test",
                        max_retries=0, timeout=5)
    plan = plan_narration(loaded.lesson, narrator)
    assert not plan.ok
    errors = [d for d in plan.diagnostics if d.severity == "error"]
    assert len(errors) == 1
    error = errors[0]
    assert "step 1 of section 'intro'" in error.message and str(port) in error.message
    assert (error.span.line, error.span.column) == (7, 3)
    assert error.code == "speech-unreachable" and error.hint
    # no silent gap is passed off as narration: nothing was spoken, timings stay declared
    assert plan.lesson == loaded.lesson


# ---------------------------------------------------------------- the track


def test_section_track_is_as_long_as_the_section_video_and_deterministic(plan, loaded, tmp_path) -> None:
    intro = plan.section("intro")
    a = voice_track.write_section_track(intro, FPS, tmp_path / "a.wav")
    fresh = plan_narration(loaded.lesson, Narrator("piper", cache_dir=None))
    b = voice_track.write_section_track(fresh.section("intro"), FPS, tmp_path / "b.wav")
    assert a.read_bytes() == b.read_bytes()
    track = read_wav(a)
    frames = intro.frame_starts(FPS)[1]
    assert abs(track.frames - frames / FPS * track.sample_rate) <= 1
    # the second step's speech starts on the step's first frame
    start = intro.frame_starts(FPS)[0][1] / FPS
    samples = track.samples
    at = round(start * track.sample_rate)
    assert not any(samples[2 * (at - 200): 2 * at])  # silence before it (the tail pause)
    assert any(samples[2 * at: 2 * (at + 4000)])


def test_lesson_track_matches_the_video_within_a_sample(plan, lesson_files) -> None:
    for key in ("raw", "wav"):
        track = read_wav(lesson_files[key])
        assert abs(track.frames - lesson_files["frames"] / FPS * track.sample_rate) <= 1


def test_muxed_lesson_has_one_aac_track_as_long_as_the_video(lesson_files) -> None:
    info = _ffprobe(lesson_files["mp4"])
    kinds = [s["codec_type"] for s in info["streams"]]
    assert kinds.count("audio") == 1 and kinds.count("video") == 1
    a = next(s for s in info["streams"] if s["codec_type"] == "audio")
    v = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert a["codec_name"] == "aac" and int(a["sample_rate"]) == 48000
    assert abs(float(a["duration"]) - float(v["duration"])) <= 1 / FPS
    assert abs(float(v["duration"]) - lesson_files["frames"] / FPS) <= 1 / FPS


def test_loudness_is_normalised(lesson_files) -> None:
    raw = voice_track.measure(lesson_files["raw"])
    for key in ("wav", "mp4"):
        m = voice_track.measure(lesson_files[key])
        assert abs(m.integrated - voice_track.TARGET_LUFS) <= 1.0, (key, m, raw)
        assert m.true_peak <= voice_track.TARGET_TRUE_PEAK, (key, m, raw)


def test_a_section_video_gets_its_levelled_track(plan, tmp_path) -> None:
    """add_to_section: the section's track (made in the background once `prepare` asked for
    it) muxed into its video, as long as the picture, at the narration's level."""
    from lecture.runtime.soundtrack import Soundtrack

    intro = plan.section("intro")
    frames = intro.frame_starts(FPS)[1]
    track = Soundtrack(plan, FPS)
    track.prepare(["intro", "proof"])
    voiced = track.add_to_section("intro", _color_video(tmp_path / "v.mp4", frames), tmp_path / "work")
    info = _ffprobe(voiced)
    a = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert a["codec_name"] == "aac" and abs(float(a["duration"]) - frames / FPS) <= 1 / FPS
    m = voice_track.measure(voiced)
    assert abs(m.integrated - voice_track.TARGET_LUFS) <= 1.0 and m.true_peak <= voice_track.TARGET_TRUE_PEAK


# ---------------------------------------------------------------- subtitles


def _parse_vtt(text: str) -> list[tuple[int, int, list[str]]]:
    """A strict WebVTT reader for what we write: header, then blank-line separated cues of
    one timing line and text lines."""
    assert text.startswith("WEBVTT\n\n")
    stamp = r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)"
    cues = []
    for block in text[len("WEBVTT\n\n"):].strip("\n").split("\n\n"):
        lines = block.split("\n")
        m = re.fullmatch(stamp + " --> " + stamp, lines[0])
        assert m, lines[0]
        g = [int(x) for x in m.groups()]
        start = (g[0] * 3600 + g[1] * 60 + g[2]) * 1000 + g[3]  # milliseconds
        end = (g[4] * 3600 + g[5] * 60 + g[6]) * 1000 + g[7]
        assert len(lines) >= 2 and all(lines[1:])
        body = [ln.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") for ln in lines[1:]]
        cues.append((start, end, body))
    return cues


def test_subtitles_parse_fit_and_say_the_narration(plan, lesson_files) -> None:
    import srt as srt_mod
    video_end = lesson_files["frames"] * 1000 / FPS  # milliseconds
    narration = " ".join(st.text for s in plan.sections for st in s.steps if st.text)
    srt_cues = list(srt_mod.parse(lesson_files["srt"].read_text("utf-8"), ignore_errors=False))
    srt_cues = [(round(c.start.total_seconds() * 1000), round(c.end.total_seconds() * 1000),
                 c.content.split("\n")) for c in srt_cues]
    vtt_cues = _parse_vtt(lesson_files["vtt"].read_text("utf-8"))
    assert srt_cues == vtt_cues
    assert len(srt_cues) >= 6  # five sentences, the long one in several cues
    last = 0
    for start, end, lines in srt_cues:
        assert last <= start < end <= video_end
        assert 1 <= len(lines) <= 2 and all(0 < len(ln) <= 42 for ln in lines)
        last = end
    joined = " ".join(" ".join(lines) for *_, lines in srt_cues)
    assert joined == " ".join(narration.split())


def test_subtitle_times_are_the_spoken_sentences(plan) -> None:
    cues = subtitles.lesson_cues(plan, FPS)
    proof_offset = plan.section("intro").frame_starts(FPS)[1] / FPS
    short = next(c for c in cues if c.text == "Short and sweet.")
    sentence = plan.section("proof").steps[0].speech.sentences[0]
    assert short.start == pytest.approx(proof_offset + sentence.start, abs=0.001)
    assert short.end == pytest.approx(proof_offset + sentence.end, abs=0.001)
    long_cues = [c for c in cues if c.text in LONG]
    assert len(long_cues) >= 2 and " ".join(c.text for c in long_cues) == LONG


def test_long_sentences_split_in_proportion() -> None:
    cues = subtitles.sentence_cues(10.0, 16.0, LONG)
    assert len(cues) == 2 and cues[0].start == 10.0 and cues[-1].end == 16.0
    assert cues[0].end == cues[1].start
    chars = [len(c.text) for c in cues]
    assert (cues[0].end - 10.0) / 6.0 == pytest.approx(chars[0] / (sum(chars) + 0), rel=0.05)
    assert subtitles.wrap("x" * 50) == ["x" * 42, "x" * 8]


def test_soft_subtitles_are_a_mov_text_stream(lesson_files) -> None:
    info = _ffprobe(lesson_files["soft"])
    codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
    assert codecs == {"video": "h264", "audio": "aac", "subtitle": "mov_text"}


def test_burnt_subtitles_change_the_picture(plan, tmp_path) -> None:
    proof = plan.section("proof")
    frames = proof.frame_starts(FPS)[1]
    video = _color_video(tmp_path / "v.mp4", frames)
    only = replace(plan, sections=(proof,))
    srt, _ = subtitles.write_subtitles(only, FPS, tmp_path / "proof")
    out = subtitles.burn_subtitles(video, srt, tmp_path / "burnt.mp4")
    cue = subtitles.lesson_cues(only, FPS)[0]
    grab = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{(cue.start + cue.end) / 2:.3f}", "-i", str(out),
                           "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                          capture_output=True, check=True).stdout
    assert len(grab) == 320 * 240 and max(grab) > 128  # white text on black
    info = _ffprobe(out)
    assert abs(float(info["format"]["duration"]) - frames / FPS) <= 1 / FPS


# ---------------------------------------------------------------- commands


def test_lecture_say_writes_the_timed_narration(tmp_path, cache, plan, capsys) -> None:
    lesson = tmp_path / "n.lecture"
    lesson.write_text(LESSON, encoding="utf-8")
    out = tmp_path / "narration.wav"
    assert run_say(lesson, section=None, output=out, voice=None, console=None, cache_dir=cache) == 0
    track = read_wav(out)
    timed = sum(st.duration for s in plan.sections for st in s.steps)
    video = sum(s.frame_starts(FPS)[1] for s in plan.sections) / FPS
    assert abs(track.frames / track.sample_rate - video) <= 1 / track.sample_rate
    assert abs(track.frames / track.sample_rate - timed) <= 1 / FPS
    printed = capsys.readouterr().out
    assert "narration needs" in printed and f"wrote {out}" in printed

    one = tmp_path / "proof.wav"
    assert run_say(lesson, section="proof", output=one, voice="none", console=None, cache_dir=cache) == 0
    assert read_wav(one).frames == 8 * 48000
    assert run_say(lesson, section="nope", output=one, voice=None, console=None, cache_dir=cache) == 2
    assert "no section 'nope'" in capsys.readouterr().out


def test_lecture_say_reports_errors_with_status_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.lecture"
    bad.write_text('lesson "B"\n  voice: klingon\nsection s "S"\n  step 1s: say "Hi."\n', encoding="utf-8")
    out = tmp_path / "x.wav"
    assert run_say(bad, section=None, output=out, voice=None, console=None, cache_dir=None) == 2
    printed = capsys.readouterr().out
    assert "bad.lecture:2:10: error: unknown voice 'klingon'" in printed
    assert not (tmp_path / "x.wav").exists()


def test_lecture_voices_lists_the_engines(capsys) -> None:
    assert run_voices(None) == 0
    printed = capsys.readouterr().out
    assert "piper:" in printed and "none:silent" in printed
