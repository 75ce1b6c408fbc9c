"""Narration at known gains (issue 17): each sentence's loudness is measured once, when it
enters the speech cache, and stored with its clip; tracks are the sentences at those gains
with their peaks limited, never analysed as a whole; the stored level is untrusted input
(a cloned build/.speech-cache) and can only change how loud a sentence is, within the
limiter's ceiling; the audio stays on the steps' frames through encoding and muxing.

A small deterministic engine stands in for a voice where only the numbers matter (bursts
of noise shaped like speech, peaking at full scale as piper's sentences do); real piper
speaks the lesson whose muxed video is measured."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from lecture.compiler.frontend import load_text
from lecture.runtime import voice_track
from lecture.runtime.soundtrack import Soundtrack
from lecture.runtime.speech import Narrator, loudness
from lecture.runtime.speech.base import Audio, Engine, VoiceInfo
from lecture.runtime.speech.narrator import LEVEL_CHUNK
from lecture.runtime.speech.wav import read_chunk, read_wav, wav_bytes
from lecture.runtime.step_timing import narrator_for, plan_narration

RATE = 22050
FPS = 15


class _Speechlike(Engine):
    """Noise in syllable-long bursts, a text's length long, its peak at full scale; the same
    text gives the same samples. `spoken` records what it was asked."""

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def resolve(self, voice, language):
        return "burst"

    def identity(self, voice):
        return "burst-1"

    def synthesize(self, text, *, voice, language, rate):
        self.spoken.append(text)
        seed = int.from_bytes(text.encode()[:8].ljust(8, b"\0"), "little")
        n = max(RATE // 2, round(len(text) * 0.06 * RATE))
        t = np.arange(n) / RATE
        envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2
        x = np.random.default_rng(seed).standard_normal(n) * envelope
        x /= np.abs(x).max()
        return Audio(np.round(x * 32767).astype("<i2").tobytes(), RATE)

    def voices(self):
        return [VoiceInfo("piper", "burst", "en", True)]


def _narrator(cache: Path | None, engine: Engine | None = None) -> Narrator:
    return Narrator("piper", cache_dir=cache, engine=engine or _Speechlike())


def _entry(cache: Path) -> Path:
    (entry,) = (cache / "piper").glob("*.wav")
    return entry


def _store_level(entry: Path, body: bytes) -> None:
    """Rewrite a cache entry's stored level chunk, the clip kept (what a tamperer can do)."""
    audio = read_wav(entry.read_bytes())
    entry.write_bytes(wav_bytes(audio, {LEVEL_CHUNK: body}))


# ---------------------------------------------------------------- measured once, stored


def test_a_sentence_is_measured_once_as_it_enters_the_cache_and_never_again(tmp_path, monkeypatch) -> None:
    first = _narrator(tmp_path).speak("One sentence to measure.")
    entry = _entry(tmp_path)
    stored = loudness.Level.from_bytes(read_chunk(entry.read_bytes(), LEVEL_CHUNK) or b"")
    clip = read_wav(entry.read_bytes())
    assert stored == loudness.level(clip.samples, clip.sample_rate)
    assert first.sentences[0].gain == stored.gain and stored.gain > 0  # full-scale peaks: limited up

    def refuse(*_a, **_k):
        raise AssertionError("a cached sentence was analysed again")

    monkeypatch.setattr(loudness, "level", refuse)
    again = _narrator(tmp_path)
    speech = again.speak("One sentence to measure.")
    assert again.reused == 1 and speech.sentences[0].gain == stored.gain


def test_the_levelled_sentence_measures_the_target_with_peaks_under_the_ceiling() -> None:
    clip = _Speechlike().synthesize("A sentence long enough to measure well.", voice="", language="", rate=1)
    level = loudness.level(clip.samples, RATE)
    played = loudness.apply(clip.samples, RATE, level.gain)
    silence = np.zeros(RATE)  # as a track plays it: with silence around it
    integrated, peak = loudness.measure(np.concatenate((silence, played, silence)), RATE)
    assert abs(integrated - loudness.TARGET_LUFS) < 0.1
    assert peak <= loudness.PEAK_CEILING + 0.01


def test_the_track_plays_each_sentence_at_its_stored_gain(tmp_path) -> None:
    """A stored gain (here one a tamperer lowered by a lot) is what the track plays: at
    -20 dB nothing reaches the limiter, so the track is the clip scaled exactly."""
    lesson = load_text('lesson "L"\n\nsection s "S"\n  step 2s: say "Quiet please."\n', "l.lecture").lesson
    narrator = _narrator(tmp_path)
    loud = voice_track.section_samples(plan_narration(lesson, narrator).sections[0], FPS)
    entry = _entry(tmp_path)
    _store_level(entry, loudness.Level(-20.0, 0.0, -20.0).to_bytes())
    quiet_plan = plan_narration(lesson, _narrator(tmp_path))
    assert quiet_plan.reused == 1 and quiet_plan.sections[0].steps[0].speech.sentences[0].gain == -20.0
    quiet = np.frombuffer(voice_track.section_samples(quiet_plan.sections[0], FPS).samples, "<i2")
    clip = np.frombuffer(read_wav(entry.read_bytes()).samples, "<i2").astype(np.float64)
    inner = slice(200, len(clip) - 200)  # (the 3 ms fades at its ends)
    assert np.allclose(quiet[: len(clip)][inner], clip[inner] * 10 ** (-20 / 20), atol=1.0)
    assert np.abs(np.frombuffer(loud.samples, "<i2")).max() > 5 * np.abs(quiet).max()
    # and the narration hash follows the gain: a section cached with other audio is not reused
    fresh = plan_narration(lesson, _narrator(tmp_path / "fresh"))
    assert quiet_plan.sections[0].hash != fresh.sections[0].hash


# ---------------------------------------------------------------- untrusted cache entries


@pytest.mark.parametrize("body", [
    b'{"format": 2, "integrated": -20, "true_peak": 0, "gain": 1e308}',
    b'{"format": 2, "integrated": -20, "true_peak": 0, "gain": NaN}',
    b'{"format": 2, "integrated": -20, "true_peak": 0, "gain": "9; rm -rf ~"}',
    b'{"format": 2, "integrated": -20, "true_peak": 0, "gain": true}',
    b'{"format": 1, "integrated": -20, "true_peak": 0, "gain": 3}',  # measured another way
    b"[" * 100000,
    b"\xff\xfe not json",
])
def test_a_stored_level_out_of_shape_is_measured_again_from_the_clip(tmp_path, body) -> None:
    engine = _Speechlike()
    good = _narrator(tmp_path, engine).speak("A sentence with a level.").sentences[0].gain
    entry = _entry(tmp_path)
    _store_level(entry, body)
    again = _narrator(tmp_path, engine)
    speech = again.speak("A sentence with a level.")
    assert again.reused == 1 and engine.spoken == ["A sentence with a level."]  # not spoken again
    assert speech.sentences[0].gain == good  # measured again from the clip
    fixed = loudness.Level.from_bytes(read_chunk(entry.read_bytes(), LEVEL_CHUNK) or b"")
    assert fixed is not None and fixed.gain == good  # and the entry repaired


def test_the_largest_gain_a_tamperer_can_store_stays_under_the_peak_ceiling(tmp_path) -> None:
    lesson = load_text('lesson "L"\n\nsection s "S"\n  step 2s: say "Very loud now."\n', "l.lecture").lesson
    plan_narration(lesson, _narrator(tmp_path))
    _store_level(_entry(tmp_path), loudness.Level(-70.0, -90.0, loudness.GAIN_RANGE[1]).to_bytes())
    plan = plan_narration(lesson, _narrator(tmp_path))
    assert plan.sections[0].steps[0].speech.sentences[0].gain == loudness.GAIN_RANGE[1]
    track = voice_track.section_samples(plan.sections[0], FPS)
    assert loudness.true_peak(track.samples, track.sample_rate) <= loudness.PEAK_CEILING + 0.05


def _wav_header(rate: int, frames: int) -> bytes:
    import struct

    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + frames * 2, b"WAVE", b"fmt ", 16, 1, 1,
                       rate, (rate * 2) & 0xFFFFFFFF, 2, 16, b"data", frames * 2)


@pytest.mark.parametrize("make", [
    lambda: _wav_header(1, 22050) + b"\x01\x00" * 22050,  # a sentence "22050 s" long
    lambda: _wav_header(4_000_000_000, 10) + b"\x01\x00" * 10,  # a rate no voice has
    lambda: _wav_header(22050, 22050 * 200) + b"\x00\x00" * (22050 * 200),  # 200 s: too long
    lambda: b"RIFF\xff\xff\xff\xffWAVEfmt " + b"\xff" * 64,
])
def test_a_cached_clip_out_of_shape_is_spoken_again(tmp_path, make) -> None:
    engine = _Speechlike()
    good = _narrator(tmp_path, engine).speak("Time it right.")
    _entry(tmp_path).write_bytes(make())
    t0 = time.perf_counter()
    again = _narrator(tmp_path, engine)
    speech = again.speak("Time it right.")
    assert time.perf_counter() - t0 < 10
    assert again.synthesized == 1 and speech.samples == good.samples and speech.duration == good.duration


def test_a_linked_cache_entry_is_neither_read_nor_written_through(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary.wav"
    canary.write_bytes(wav_bytes(Audio(b"\x01\x00" * 100, RATE), {LEVEL_CHUNK: b'{"format": 2}'}))
    before = canary.read_bytes()
    cache = tmp_path / "build" / ".speech-cache"
    engine = _Speechlike()
    _narrator(cache, engine).speak("Linked.")
    entry = _entry(cache)
    entry.unlink()
    entry.symlink_to(canary)
    again = _narrator(cache, engine)
    again.speak("Linked.")
    assert again.synthesized == 1 and canary.read_bytes() == before and not entry.is_symlink()


# ---------------------------------------------------------------- speaking ahead


def test_speaking_ahead_on_two_threads_gives_the_same_speech_and_counts(tmp_path) -> None:
    texts = ["First one. Second one.", "Third one.", "Fourth one. Fifth one."]
    one = _narrator(None)
    alone = [one.speak(t) for t in texts]
    ahead = _narrator(tmp_path)
    ahead.prefetch(texts)
    assert len(list((tmp_path / "piper").glob("*.wav"))) == 5  # all in the cache already
    spoken = [ahead.speak(t) for t in texts]
    assert [s.samples for s in spoken] == [s.samples for s in alone]
    assert [s.sentences for s in spoken] == [s.sentences for s in alone]
    assert [c.gain for s in spoken for c in s.sentences] == [c.gain for s in alone for c in s.sentences]
    assert (ahead.synthesized, ahead.reused) == (5, 0)

    background = _narrator(tmp_path / "bg")  # started in the background, then hurried
    background.prefetch(texts, background=True)
    background.hurry()
    hurried = [background.speak(t) for t in texts]
    assert [s.samples for s in hurried] == [s.samples for s in alone]
    assert (background.synthesized, background.reused) == (5, 0)


# ---------------------------------------------------------------- the muxed video


LESSON = f'''lesson "Synced"
  fps: {FPS}

section a "A"
  step 2s: say "The first step speaks now."
  step 3s: say "And the second one. In two sentences."

section b "B"
  wait 1s
  step 2.5s: say "A third step, after a silent one."
'''


def _decoded(video: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:a:0", "-f", "s16le",
                          "-ac", "1", "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<i2").astype(np.float64)


def _onsets(x: np.ndarray, rate: int) -> list[float]:
    """Seconds at which sound starts after at least 0.2 s of silence."""
    loud = np.flatnonzero(np.abs(x) > 300)
    starts = [loud[0]] + [b for a, b in zip(loud, loud[1:], strict=False) if b - a > 0.2 * rate]
    return [s / rate for s in starts]


def test_the_muxed_lesson_keeps_speech_on_its_steps_at_the_narration_level(tmp_path) -> None:
    lesson = load_text(LESSON, "s.lecture").lesson
    narrator, _ = narrator_for(lesson, cache_dir=tmp_path / "speech")
    plan = plan_narration(lesson, narrator)
    frames = sum(s.frame_starts(FPS)[1] for s in plan.sections)
    video = tmp_path / "lesson.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=black:s=160x120:r={FPS}",
                    "-frames:v", str(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)],
                   check=True)
    soundtrack = Soundtrack(plan, FPS)
    soundtrack.prepare(["a", "b"])
    soundtrack.finish_lesson(video, tmp_path / "work")

    # every step's speech starts on the first frame of its step (within 10 ms after AAC)
    expected, before = [], 0
    for section in plan.sections:
        starts, count = section.frame_starts(FPS)
        for step, frame in zip(section.steps, starts, strict=True):
            for cue in step.speech.sentences:
                clip = np.frombuffer(step.speech.samples, "<i2")[cue.start_frame:cue.end_frame]
                lead = np.flatnonzero(np.abs(clip) > 300)[0] / step.speech.sample_rate
                expected.append((before + frame) / FPS + cue.start + lead)
        before += count
    decoded = _decoded(video)
    heard = _onsets(decoded, RATE)  # (a pause inside a sentence may start one more)
    assert len(expected) == 4 and all(min(abs(h - e) for h in heard) < 0.01 for e in expected)
    assert not np.any(np.abs(decoded[: round(expected[0] * RATE) - 200]) > 300)  # silence before

    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(video)],
                                     capture_output=True, text=True, check=True).stdout)["streams"]
    kinds = {s["codec_type"]: s for s in info}
    assert set(kinds) == {"video", "audio", "subtitle"}
    assert abs(float(kinds["audio"]["duration"]) - frames / FPS) < 1 / FPS
    m = voice_track.measure(video)  # ffmpeg's own meter, on the stream a player decodes
    assert abs(m.integrated - voice_track.TARGET_LUFS) <= 1.0, m
    assert m.true_peak <= voice_track.TARGET_TRUE_PEAK, m
    assert math.isfinite(m.integrated) and os.path.getsize(video) > 0


# ---------------------------------------------------------------- rendering while speaking


AHEAD = f'''lesson "Ahead"
  fps: {FPS}

section one "One"
  circle c at C3 color=blue
  step 2s: say "A circle."; create c

section two "Two"
  square s at C3 color=red
  wait 1s
  step 3s: say "Now a square."; create s
'''


def test_a_cold_voiced_render_renders_while_speaking_and_keeps_what_the_speech_fits(tmp_path) -> None:
    """Speech not in the cache: the lesson is rendered as declared while it is spoken; its
    speech fits every step, so every section keeps that render with its voice added, and
    the build folder's module is the lesson's own."""
    import sys

    from lecture.runtime.ffmpeg import probe

    (tmp_path / "a.lecture").write_text(AHEAD, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "lecture", "render", "a.lecture", "-q", "low",
                          "--build-dir", "build"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Traceback" not in out, out
    assert "while its narration is spoken" in out and "lecture-ahead-" not in out
    root = tmp_path / "build" / "a"
    man = json.loads((root / "manifest.json").read_text())
    assert [s["id"] for s in man["sections"]] == ["one", "two"]
    assert out.count("rendered while its narration was spoken") == 2  # kept: rendered once
    assert not any(s["cached"] for s in man["sections"])  # (rendered by this build)
    for section in man["sections"]:
        assert (root / "logs" / f"{section['id']}.log").is_file()
        assert abs(section["rendered_duration"] - section["planned_duration"]) < 1 / FPS
        assert probe(root / "sections" / f"{section['id']}.mp4").has_audio
    # the speech of "two" starts on its second step's first frame, 1 s in
    heard = _onsets(_decoded(root / "sections" / "two.mp4"), RATE)
    assert abs(heard[0] - 1.0) < 0.1
    compiled = subprocess.run([sys.executable, "-m", "lecture", "compile", "a.lecture", "-o", "m.py"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stderr
    assert (root / "lesson_scenes.py").read_text() == (tmp_path / "m.py").read_text()
    m = voice_track.measure(root / "lesson.mp4")
    assert abs(m.integrated - voice_track.TARGET_LUFS) <= 1.0 and m.true_peak <= voice_track.TARGET_TRUE_PEAK
