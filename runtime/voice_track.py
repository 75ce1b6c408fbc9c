"""The narration track: speech placed on the video's timeline, normalised, muxed.

- `section_samples(section, fps)` / `write_section_track(section, fps, path)`: a section's
  narration as mono 16-bit samples exactly as long as the section's video (its frames at
  `fps`, to the nearest sample): each step's speech starts on the first frame of its step,
  silence elsewhere. Pure numpy, so identical narration gives identical bytes.
- `lesson_samples(plan, fps)` / `write_lesson_track(plan, fps, path)`: the sections back to
  back; section i occupies samples round(F_i / fps * rate) to round(F_{i+1} / fps * rate),
  F_i being the frames before it, so the whole track matches the lesson video within a
  sample however many sections it has. Every join falls in silence (a step keeps
  TAIL_PAUSE of silence after its speech), and each speech fades in and out over 3 ms, so
  nothing clicks.
- `normalize(wav, out)`: two-pass EBU R128 loudness normalisation with ffmpeg's `loudnorm`
  (−16 LUFS integrated, true peak ≤ −1.5 dBTP, LRA 11): measure, then apply with the
  measured values and linear=true (loudnorm itself falls back to its dynamic mode when a
  linear gain would break the true-peak limit). The result is 48 kHz 16-bit mono, trimmed
  or padded to the input's exact duration; a silent track stays silent.
- `mux_audio(video, wav, out)`: the video stream copied, the WAV encoded as one AAC track
  (128 kb/s, 48 kHz); any audio the video had is dropped.
- `measure(path)`: integrated loudness, loudness range and true peak with ffmpeg's
  `ebur128` filter (for tests and the manifest).

Normalise once per output: a section's track for its own video, the lesson's whole track
(never the normalised sections glued together) for lesson.mp4.
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
from .speech.base import Audio
from .speech.wav import read_wav, resample, write_wav
from .step_timing import NarrationPlan, SectionNarration

TARGET_LUFS = -16.0
TARGET_TRUE_PEAK = -1.5
TARGET_LRA = 11.0
OUTPUT_RATE = 48000
AAC_BITRATE = "128k"
FADE_SECONDS = 0.003
# loudnorm aims at TARGET_TRUE_PEAK; the resampling to 48 kHz and the 16-bit rounding after
# it can add a few hundredths of a dB, so it is asked for a little less.
_PEAK_MARGIN = 0.3
_LIMITER_HEADROOM = 1.0  # dB below the peak aim, room for loudnorm's final gain
_LIMIT_TRIES = 4
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


def _place(track: np.ndarray, section: SectionNarration, fps: float, rate: int, first: int = 0) -> None:
    """Add the section's speech into `track` (float64), the section starting at sample
    `first`."""
    starts, _ = section.frame_starts(fps)
    for step, frame in zip(section.steps, starts, strict=True):
        speech = step.speech
        if not speech.frames:
            continue
        audio = Audio(speech.samples, speech.sample_rate)
        if speech.sample_rate != rate:
            audio = resample(audio, rate)
        samples = _fade(np.frombuffer(audio.samples, "<i2"), rate)
        at = first + int(round(frame / fps * rate))
        room = len(track) - at
        if room <= 0:
            continue
        piece = samples[:room]
        track[at:at + len(piece)] += piece


def _to_int16(track: np.ndarray) -> bytes:
    return np.clip(np.round(track), -32768, 32767).astype("<i2").tobytes()


def section_samples(section: SectionNarration, fps: float, sample_rate: int | None = None) -> Audio:
    """The section's narration track (see the module doc)."""
    rate = sample_rate or section.sample_rate
    _, frames = section.frame_starts(fps)
    track = np.zeros(int(round(frames / fps * rate)), dtype=np.float64)
    _place(track, section, fps, rate)
    return Audio(_to_int16(track), rate)


def lesson_samples(plan: NarrationPlan, fps: float, sections: list[str] | None = None,
                   sample_rate: int | None = None) -> Audio:
    """The chosen sections' tracks (all by default, in lesson order) back to back."""
    rate = sample_rate or plan.sample_rate
    chosen = [s for s in plan.sections if sections is None or s.id in sections]
    counts = [s.frame_starts(fps)[1] for s in chosen]
    total = sum(counts)
    track = np.zeros(int(round(total / fps * rate)), dtype=np.float64)
    before = 0
    for section, frames in zip(chosen, counts, strict=True):
        _place(track, section, fps, rate, first=int(round(before / fps * rate)))
        before += frames
    return Audio(_to_int16(track), rate)


def write_section_track(section: SectionNarration, fps: float, path: str | os.PathLike[str],
                        sample_rate: int | None = None) -> Path:
    """Write the section's raw (not normalised) narration track as a mono 16-bit WAV."""
    return write_wav(path, section_samples(section, fps, sample_rate))


def write_lesson_track(plan: NarrationPlan, fps: float, path: str | os.PathLike[str],
                       sections: list[str] | None = None) -> Path:
    """Write the lesson's raw (not normalised) narration track as a mono 16-bit WAV."""
    return write_wav(path, lesson_samples(plan, fps, sections))


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


def normalize(wav: str | os.PathLike[str], out: str | os.PathLike[str], *,
              target: float = TARGET_LUFS, true_peak: float = TARGET_TRUE_PEAK,
              lra: float = TARGET_LRA, sample_rate: int = OUTPUT_RATE) -> Path:
    """Two-pass loudnorm of a WAV into a 16-bit mono WAV at `sample_rate`, exactly as long
    as the input (to the nearest sample). A silent input gives silence.

    Pass one measures the track with ebur128 (the meter the tests and players trust);
    pass two is loudnorm given those measurements with linear=true, i.e. one gain of
    target − I. When that gain would push the true peak over the limit (speech often has a
    peak-to-loudness ratio near 19 dB, and loudnorm's dynamic fallback then falls short
    of the target by a dB or more), the gain is applied first with the peaks held down by
    a limiter running at 4x the rate (so that it sees true peaks), the gain corrected for
    what the limiter took until a linear pass fits, and loudnorm's linear pass finishes."""
    source = read_wav(wav)
    frames_out = int(round(source.frames / source.sample_rate * sample_rate))
    if not source.frames or not np.any(np.frombuffer(source.samples, "<i2")):
        return write_wav(out, Audio(b"\x00\x00" * frames_out, sample_rate))
    aim = true_peak - _PEAK_MARGIN
    m = measure(wav)
    if not math.isfinite(m.integrated) or not math.isfinite(m.true_peak):
        return write_wav(out, Audio(b"\x00\x00" * frames_out, sample_rate))
    with tempfile.TemporaryDirectory(prefix="lecture-loudnorm-") as tmp:
        source_path = Path(wav)
        if not _linear_fits(m, target, aim):
            limited = Path(tmp) / "limited.wav"
            limit = 10 ** ((aim - _LIMITER_HEADROOM) / 20)
            gain = target - m.integrated
            for _ in range(_LIMIT_TRIES):
                run([*_FFMPEG, "-nostats", "-i", str(wav), "-af",
                     f"volume={gain:.3f}dB,aresample=192000,"
                     f"alimiter=limit={limit:.5f}:attack=1:release=20:level=false:latency=true,"
                     f"aresample={sample_rate}", "-ac", "1", "-c:a", "pcm_f32le",
                     str(limited)], f"limit the peaks of {wav}", AUDIO_TIMEOUT)
                m = measure(limited)
                if _linear_fits(m, target, aim):
                    break
                gain += target - m.integrated
            source_path = limited
        lra_target = min(50.0, max(lra, m.lra + 1.0))  # so that the LRA never forbids linear
        args = (f"loudnorm=I={target:g}:TP={aim:g}:LRA={lra_target:g}"
                f":measured_I={max(-99.0, m.integrated):g}:measured_TP={max(-99.0, m.true_peak):g}"
                f":measured_LRA={max(0.1, m.lra):g}:measured_thresh={_thresh(m):g}"
                f":offset=0:linear=true")
        second = run([*_FFMPEG, "-nostats", "-i", str(source_path), "-af", args,
                      "-ar", str(sample_rate), "-ac", "1", "-f", "s16le", "-acodec", "pcm_s16le",
                      "-"], f"normalise the loudness of {wav}", AUDIO_TIMEOUT)
    data = second.stdout[: frames_out * 2]
    data += b"\x00\x00" * (frames_out - len(data) // 2)
    return write_wav(out, Audio(data, sample_rate))


def _linear_fits(m: Loudness, target: float, aim: float) -> bool:
    return m.true_peak + (target - m.integrated) <= aim - 0.1


def _thresh(m: Loudness) -> float:
    t = m.threshold if math.isfinite(m.threshold) else m.integrated - 10.0
    t = min(-0.1, max(-99.0, t))
    return t if t != -70.0 else -69.9


def mux_audio(video_mp4: str | os.PathLike[str], wav: str | os.PathLike[str],
              out_mp4: str | os.PathLike[str], *, bitrate: str = AAC_BITRATE,
              sample_rate: int = OUTPUT_RATE) -> Path:
    """`out_mp4` = the video stream of `video_mp4` (copied) + `wav` as one AAC track. The
    WAV should already be as long as the video (see write_section_track); it is neither
    cut nor padded here. Written to a temporary file first, then moved into place, so
    `out_mp4` may be `video_mp4`."""
    out = Path(out_mp4)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out, ".tmp.mp4") as tmp:
        run([*_FFMPEG, "-i", str(video_mp4), "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0",
             "-c:v", "copy", "-c:a", "aac", "-b:a", bitrate, "-ar", str(sample_rate), "-ac", "1",
             "-map_metadata", "0", "-movflags", "+faststart", str(tmp)],
            f"add the narration to {video_mp4}", AUDIO_TIMEOUT)
    return out


__all__ = ["Loudness", "TARGET_LUFS", "TARGET_TRUE_PEAK", "OUTPUT_RATE", "section_samples",
           "lesson_samples", "write_section_track", "write_lesson_track", "concat_tracks", "normalize",
           "measure", "mux_audio", "wav_duration"]
