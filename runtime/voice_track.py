"""The narration track: speech placed on the video's timeline at its stored gains, encoded,
muxed.

- `section_samples(section, fps)` / `write_section_track(section, fps, path)`: a section's
  narration as mono 16-bit samples exactly as long as the section's video (its frames at
  `fps`, to the nearest sample): each step's speech starts on the first frame of its step,
  silence elsewhere. Every sentence is played at the gain the speech cache stored with it
  (measured once, when it was spoken: speech/loudness.py), its true peaks held under the
  ceiling by the limiter that gain was measured with, so the track is at −16 LUFS
  integrated with true peaks under −1.5 dBTP without being analysed (`levelled=False`:
  the speech as synthesised). Pure numpy, so identical narration gives identical bytes.
- `lesson_samples(plan, fps)` / `write_lesson_track(plan, fps, path)`: the sections back to
  back; section i occupies samples round(F_i / fps * rate) to round(F_{i+1} / fps * rate),
  F_i being the frames before it, so the whole track matches the lesson video within a
  sample however many sections it has. Every join falls in silence (a step keeps
  TAIL_PAUSE of silence after its speech), and each sentence fades in and out over 3 ms, so
  nothing clicks.
- `encode(audio, out)`: a track as one AAC file (128 kb/s, 48 kHz mono) to mux later by
  copying it; `mux(video, audio, out, subtitles=)`: the video stream copied, the audio
  (AAC: copied; WAV: encoded) as its one audio track, and soft subtitles when given, in
  one pass; `mux_audio(video, wav, out)` is `mux` without subtitles.
- `measure(path)`: integrated loudness, loudness range and true peak with ffmpeg's
  `ebur128` filter (for tests and the bench).

A section's track for its own video and the lesson's whole track (never the sections'
AAC glued together: each carries its own encoder delay) are each encoded once.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .ffmpeg import AUDIO_TIMEOUT, FfmpegError, run
from .safe_fs import atomic_output
from .speech import loudness
from .speech.base import Audio
from .speech.narrator import Speech
from .speech.wav import read_wav, resample, write_wav
from .step_timing import NarrationPlan, SectionNarration

TARGET_LUFS = loudness.TARGET_LUFS
TARGET_TRUE_PEAK = -1.5  # dBTP: what lesson.mp4's track must stay under
OUTPUT_RATE = 48000
AAC_BITRATE = "128k"
# ffmpeg's fast AAC coder: a third of the default's time, and at 128 kb/s for one voice no
# difference anyone hears
AAC_OPTIONS = ("-c:a", "aac", "-aac_coder", "fast", "-b:a", AAC_BITRATE)
FADE_SECONDS = 0.003
_FFMPEG = ("ffmpeg", "-hide_banner", "-nostdin", "-y")


# ---------------------------------------------------------------- placing speech


def _fade(samples: np.ndarray, rate: int) -> np.ndarray:
    n = min(len(samples) // 2, max(1, round(FADE_SECONDS * rate)))
    if n < 2:
        return samples
    out = samples.astype(np.float64)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, n))
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def _sentences(speech: Speech, rate: int, levelled: bool) -> list[tuple[int, np.ndarray]]:
    """(first sample, float samples at `rate`, full scale 32768) of each sentence of a
    step's speech: at its gain and limited when `levelled`, faded in and out."""
    out = []
    samples = np.frombuffer(speech.samples, "<i2")
    for cue in speech.sentences or ():
        clip = samples[cue.start_frame:cue.end_frame]
        if not len(clip):
            continue
        x = loudness.apply(clip, speech.sample_rate, cue.gain) * 32768.0 if levelled \
            else clip.astype(np.float64)
        if speech.sample_rate != rate:
            x = np.frombuffer(resample(Audio(_to_int16(x), speech.sample_rate), rate).samples, "<i2")
        start = int(round(cue.start_frame * rate / speech.sample_rate))
        out.append((start, _fade(x, rate)))
    return out


def _place(track: np.ndarray, section: SectionNarration, fps: float, rate: int, first: int = 0,
           levelled: bool = True) -> None:
    """Add the section's speech into `track` (float64), the section starting at sample
    `first`."""
    starts, _ = section.frame_starts(fps)
    for step, frame in zip(section.steps, starts, strict=True):
        at = first + int(round(frame / fps * rate))
        for offset, piece in _sentences(step.speech, rate, levelled):
            room = len(track) - (at + offset)
            if room > 0:
                track[at + offset:at + offset + min(room, len(piece))] += piece[:room]


def _to_int16(track: np.ndarray) -> bytes:
    return np.clip(np.round(track), -32768, 32767).astype("<i2").tobytes()


def section_samples(section: SectionNarration, fps: float, sample_rate: int | None = None, *,
                    levelled: bool = True) -> Audio:
    """The section's narration track (see the module doc)."""
    rate = sample_rate or section.sample_rate
    _, frames = section.frame_starts(fps)
    track = np.zeros(int(round(frames / fps * rate)), dtype=np.float64)
    _place(track, section, fps, rate, levelled=levelled)
    return Audio(_to_int16(track), rate)


def lesson_samples(plan: NarrationPlan, fps: float, sections: list[str] | None = None,
                   sample_rate: int | None = None, *, levelled: bool = True,
                   tracks: dict[str, Audio] | None = None) -> Audio:
    """The chosen sections' tracks (all by default, in lesson order) back to back.
    `tracks`: section tracks already made (at this rate), by section id."""
    rate = sample_rate or plan.sample_rate
    chosen = [s for s in plan.sections if sections is None or s.id in sections]
    counts = [s.frame_starts(fps)[1] for s in chosen]
    track = np.zeros(int(round(sum(counts) / fps * rate)), dtype=np.float64)
    before = 0
    for section, frames in zip(chosen, counts, strict=True):
        first = int(round(before / fps * rate))
        made = (tracks or {}).get(section.id)
        if made is not None and made.sample_rate == rate:
            piece = np.frombuffer(made.samples, "<i2")[: len(track) - first]
            track[first:first + len(piece)] += piece
        else:
            _place(track, section, fps, rate, first=first, levelled=levelled)
        before += frames
    return Audio(_to_int16(track), rate)


def write_section_track(section: SectionNarration, fps: float, path: str | os.PathLike[str],
                        sample_rate: int | None = None, *, levelled: bool = True) -> Path:
    """Write the section's narration track as a mono 16-bit WAV."""
    return write_wav(path, section_samples(section, fps, sample_rate, levelled=levelled))


def write_lesson_track(plan: NarrationPlan, fps: float, path: str | os.PathLike[str],
                       sections: list[str] | None = None, *, levelled: bool = True,
                       sample_rate: int | None = None) -> Path:
    """Write the lesson's narration track as a mono 16-bit WAV (at `sample_rate`, resampled
    with a polyphase filter, else at the speech's rate)."""
    audio = lesson_samples(plan, fps, sections, levelled=levelled)
    if sample_rate is not None and sample_rate != audio.sample_rate:
        audio = _resampled(audio, sample_rate)
    return write_wav(path, audio)


def _resampled(audio: Audio, rate: int) -> Audio:
    from math import gcd

    from scipy.signal import resample_poly  # type: ignore[import-untyped]

    n = round(audio.frames * rate / audio.sample_rate)
    g = gcd(rate, audio.sample_rate)
    x = resample_poly(np.frombuffer(audio.samples, "<i2").astype(np.float64), rate // g,
                      audio.sample_rate // g)[:n]
    return Audio(_to_int16(np.concatenate((x, np.zeros(n - len(x))))), rate)


def concat_tracks(wavs: list[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Join WAV files end to end (resampled to the first one's rate when they differ)."""
    parts = [read_wav(w) for w in wavs]
    if not parts:
        raise FfmpegError("nothing to join: no audio tracks")
    rate = parts[0].sample_rate
    data = b"".join((p if p.sample_rate == rate else resample(p, rate)).samples for p in parts)
    return write_wav(out, Audio(data, rate))


def wav_duration(path: str | os.PathLike[str]) -> float:
    audio = read_wav(path)
    return audio.frames / audio.sample_rate


# ---------------------------------------------------------------- loudness (ffmpeg)


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS (-inf for silence)
    true_peak: float  # dBTP (-inf for silence)
    lra: float  # LU
    threshold: float = -math.inf  # LUFS: the relative gate of the integrated loudness


def _number(text: str) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return -math.inf


def measure(path: str | os.PathLike[str]) -> Loudness:
    """Integrated loudness, true peak and loudness range of a file's (first) audio stream,
    from ffmpeg's ebur128 filter."""
    cp = run([*_FFMPEG, "-nostats", "-i", str(path), "-map", "0:a:0", "-filter:a", "ebur128=peak=true",
              "-f", "null", "-"], f"measure the loudness of {path}", AUDIO_TIMEOUT)
    err = cp.stderr.decode("utf-8", "replace")
    summary = err[err.rfind("Summary:"):] if "Summary:" in err else err
    i = re.search(r"I:\s+(\S+)\s+LUFS", summary)
    lra = re.search(r"LRA:\s+(\S+)\s+LU\b", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(\S+)\s+dBFS", summary)
    thresh = re.search(r"I:\s+\S+\s+LUFS\s+Threshold:\s+(\S+)\s+LUFS", summary)
    if not i:
        raise FfmpegError(f"ebur128 printed no summary for {path}")
    return Loudness(_number(i.group(1)), _number(peak.group(1)) if peak else -math.inf,
                    _number(lra.group(1)) if lra else 0.0,
                    _number(thresh.group(1)) if thresh else -math.inf)


def encode(audio: Audio, out: str | os.PathLike[str], *, sample_rate: int = OUTPUT_RATE) -> Path:
    """`audio` as one AAC track in an .m4a file (`mux` copies it into a video)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lecture-track-") as tmp, atomic_output(out, ".tmp.m4a") as dst:
        wav = write_wav(Path(tmp) / "track.wav", audio)
        run([*_FFMPEG, "-i", str(wav), *AAC_OPTIONS, "-ar", str(sample_rate), "-ac", "1",
             "-movflags", "+faststart", str(dst)], f"encode the narration into {out}", AUDIO_TIMEOUT)
    return out


def mux(video_mp4: str | os.PathLike[str], audio: str | os.PathLike[str], out_mp4: str | os.PathLike[str],
        *, subtitles: str | os.PathLike[str] | None = None, language: str = "eng",
        sample_rate: int = OUTPUT_RATE) -> Path:
    """`out_mp4` = the video stream of `video_mp4` (copied) + `audio` as its one audio
    track (an .m4a from `encode` is copied, a WAV encoded as AAC) + `subtitles` (an .srt)
    as a soft mov_text track. The audio should already be as long as the video (see
    write_section_track); it is neither cut nor padded here. Written to a temporary file
    first, then moved into place, so `out_mp4` may be `video_mp4`."""
    out = Path(out_mp4)
    out.parent.mkdir(parents=True, exist_ok=True)
    copied = Path(audio).suffix == ".m4a"
    codec = ["-c:a", "copy"] if copied else [*AAC_OPTIONS, "-ar", str(sample_rate), "-ac", "1"]
    subs = ["-i", str(subtitles)] if subtitles is not None else []
    subs_map = ["-map", "2:0", "-c:s", "mov_text", "-metadata:s:s:0", f"language={language}"] \
        if subtitles is not None else []
    with atomic_output(out, ".tmp.mp4") as tmp:
        run([*_FFMPEG, "-i", str(video_mp4), "-i", str(audio), *subs, "-map", "0:v:0", "-map", "1:a:0",
             *subs_map, "-c:v", "copy", *codec, "-map_metadata", "0", "-movflags", "+faststart",
             str(tmp)], f"add the narration to {video_mp4}", AUDIO_TIMEOUT)
    return out


def mux_audio(video_mp4: str | os.PathLike[str], wav: str | os.PathLike[str],
              out_mp4: str | os.PathLike[str], *, sample_rate: int = OUTPUT_RATE) -> Path:
    """`mux` without subtitles."""
    return mux(video_mp4, wav, out_mp4, sample_rate=sample_rate)


__all__ = ["Loudness", "TARGET_LUFS", "TARGET_TRUE_PEAK", "OUTPUT_RATE", "section_samples",
           "lesson_samples", "write_section_track", "write_lesson_track", "concat_tracks", "encode",
           "measure", "mux", "mux_audio", "wav_duration"]
