"""Loudness of one sentence, measured once when it enters the speech cache, and the gain
and peak limiter that bring it to the narration's level.

A narration track is the lesson's sentences placed on its timeline, each at its own gain,
so that every sentence sounds at TARGET_LUFS: the track's integrated loudness is then the
target without measuring the track (the gated blocks of a track are, but for the few
that straddle a sentence's ends, the blocks of its sentences, each set averaging the
target). Speech peaks some 15-19 dB over its loudness, so at that level its peaks are
held under PEAK_CEILING by a look-ahead limiter that sees true (inter-sample) peaks;
`level` finds the gain whose limited sentence measures the target, and the track applies
exactly that gain and that limiter (`apply`), so no track is ever analysed.

- `measure(samples, rate)`: integrated loudness (ITU-R BS.1770-4: K-weighting, 400 ms
  blocks every 100 ms, gated at -70 LUFS and 10 LU under the ungated mean) and true peak
  (over-sampled to at least 176.4 kHz) of mono int16 samples;
- `level(samples, rate)`: a Level (the sentence's loudness as a track plays it, with
  silence around it, its true peak, and the gain to play it at), what the speech cache
  stores next to the clip;
- `apply(samples, rate, gain)`: the sentence at that gain, its peaks limited: float
  samples, full scale 1.0.

Numpy and scipy only; deterministic: the same samples give the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

FORMAT = 2  # of a stored Level; another is measured again (2: loudness with silence around)
TARGET_LUFS = -16.0
# The limiter's ceiling, under the narration's -1.5 dBTP: AAC encoding and the resampling
# to 48 kHz raise true peaks by a few tenths of a dB.
PEAK_CEILING = -2.5
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = 10.0
_BLOCK = 0.4  # seconds
_HOP = 0.1
_TRUE_PEAK_RATE = 88200  # over-sampled at least this fast to find peaks between samples
_LOOKAHEAD = 0.004  # seconds: the limiter's gain starts falling this long before a peak,
_RELEASE = 0.04  # holds this long after it,
_SMOOTH = 0.004  # and moves through two boxes this long (no click)
_TRIES = 6
_MOST_LIMITING = 12.0  # dB: the limiter may make up this much of the gain, no more
# What a stored level may say (anything else is measured again): a sentence is speech,
# neither silence nor louder than full scale, and no gain a real sentence needs is larger.
LOUDNESS_RANGE = (-70.0, 3.0)
TRUE_PEAK_RANGE = (-90.0, 12.0)
GAIN_RANGE = (-40.0, 40.0)


@dataclass(frozen=True)
class Level:
    """A sentence's loudness (LUFS), true peak (dBTP) and the gain (dB) it is played at."""

    integrated: float
    true_peak: float
    gain: float

    def to_bytes(self) -> bytes:
        return json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True).encode("ascii")

    @staticmethod
    def from_bytes(data: bytes) -> Level | None:
        """A stored level, or None when it is not one of ours or out of range (a cloned
        speech cache is not trusted: see narrator.py)."""
        if len(data) > 512:
            return None
        try:
            value = json.loads(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            return None
        fields = (("integrated", LOUDNESS_RANGE), ("true_peak", TRUE_PEAK_RANGE), ("gain", GAIN_RANGE))
        numbers: list[float] = []
        for name, (low, high) in fields:
            number = value.get(name)
            if isinstance(number, bool) or not isinstance(number, int | float) \
                    or not math.isfinite(number) or not low <= number <= high:
                return None
            numbers.append(float(number))
        return Level(*numbers)


SILENT = Level(_ABSOLUTE_GATE, TRUE_PEAK_RANGE[0], 0.0)


# ---------------------------------------------------------------- measuring


def _floats(samples: bytes | np.ndarray) -> np.ndarray:
    import numpy as np

    if isinstance(samples, bytes | bytearray):
        samples = np.frombuffer(samples, "<i2")
    if samples.dtype == np.int16:  # 16-bit samples; floats are full scale 1.0 already
        return samples.astype(np.float64) / 32768.0
    return np.asarray(samples, dtype=np.float64)


def _biquads(rate: int) -> list[tuple[list[float], list[float]]]:
    """The K-weighting filter at `rate` (BS.1770's two stages, re-derived for any rate)."""
    k = math.tan(math.pi * 1681.974450955533 / rate)
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh ** 0.4996667741545416
    q = 0.7071752369554196
    a0 = 1 + k / q + k * k
    shelf = ([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0],
             [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    highpass = ([1.0, -2.0, 1.0], [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return [shelf, highpass]


def block_powers(samples: bytes | np.ndarray, rate: int) -> np.ndarray:
    """The mean square of the K-weighted signal in each 400 ms block, one every 100 ms (a
    clip shorter than a block is one block)."""
    return _powers(_k_weighted(_floats(samples), rate), rate)


def _k_weighted(x: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import lfilter  # type: ignore[import-untyped]

    for b, a in _biquads(rate):
        x = lfilter(b, a, x)
    return x


def _powers(k: np.ndarray, rate: int) -> np.ndarray:
    """Block powers of a K-weighted signal (see block_powers)."""
    import numpy as np

    block, hop = round(_BLOCK * rate), round(_HOP * rate)
    if len(k) == 0:
        return np.zeros(0)
    if len(k) < block:
        return np.array([float(np.mean(k * k))])
    sums = np.concatenate(([0.0], np.cumsum(k * k)))
    starts = np.arange(0, len(k) - block + 1, hop)
    return (sums[starts + block] - sums[starts]) / block


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


def gated_loudness(powers: np.ndarray) -> float:
    """Integrated loudness of blocks' powers: gated at -70 LUFS, then 10 LU under the mean."""
    import numpy as np

    loud = -0.691 + 10 * np.log10(np.maximum(powers, 1e-20))
    kept = powers[loud > _ABSOLUTE_GATE]
    if not len(kept):
        return -math.inf
    gate = _lufs(float(np.mean(kept))) - _RELATIVE_GATE
    kept = powers[(loud > _ABSOLUTE_GATE) & (loud > gate)]
    return _lufs(float(np.mean(kept)))


def loudness_in_silence(samples: bytes | np.ndarray, rate: int) -> float:
    """The loudness of a sentence as a track plays it, with silence around it: the blocks
    that reach past its ends count too (of a short sentence, nearly half of them)."""
    import numpy as np

    pad = np.zeros(round(_BLOCK * rate))
    return gated_loudness(block_powers(np.concatenate((pad, _floats(samples), pad)), rate))


def _over_sampling(rate: int) -> int:
    return max(1, math.ceil(_TRUE_PEAK_RATE / rate))


def peak_envelope(x: np.ndarray, rate: int) -> np.ndarray:
    """|x| over-sampled, the largest value around each sample (its true peak there)."""
    import numpy as np
    from scipy.signal import resample_poly

    up = _over_sampling(rate)
    if up == 1 or len(x) < 2:
        return np.abs(x)
    fine = np.abs(resample_poly(x, up, 1))[: len(x) * up]
    envelope = fine[0::up].copy()
    for phase in range(1, up):  # (far faster than a max over a reshaped axis of `up`)
        np.maximum(envelope, fine[phase::up], out=envelope)
    return envelope


def true_peak(samples: bytes | np.ndarray, rate: int) -> float:
    x = _floats(samples)
    if not len(x):
        return -math.inf
    peak = float(peak_envelope(x, rate).max())
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure(samples: bytes | np.ndarray, rate: int) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP); -inf for silence."""
    return gated_loudness(block_powers(samples, rate)), true_peak(samples, rate)


# ---------------------------------------------------------------- gain and limiter


def _limit_gain(peaks: np.ndarray, rate: int, ceiling: float) -> np.ndarray | None:
    """The smooth gain that keeps `peaks` (a true-peak envelope) under `ceiling` dBTP, None
    when none is needed: the gain each sample needs, held from the look-ahead before it to
    the release after it, then averaged twice over a box no wider than the look-ahead (so
    it never rises above what any sample in reach needs)."""
    import numpy as np
    from scipy.ndimage import minimum_filter1d, uniform_filter1d  # type: ignore[import-untyped]

    limit = 10 ** (ceiling / 20)
    if not len(peaks) or float(peaks.max()) <= limit:
        return None
    need = np.minimum(1.0, limit / np.maximum(peaks, 1e-12))
    ahead, behind = max(1, round(_LOOKAHEAD * rate)), max(1, round(_RELEASE * rate))
    # the window of sample n is [n - behind, n + ahead]
    gain = minimum_filter1d(need, ahead + behind + 1, mode="nearest", origin=(behind - ahead) // 2)
    box = max(1, round(_SMOOTH * rate / 2)) | 1  # two boxes: reach 2 * (box // 2) <= ahead
    for _ in range(2):
        gain = uniform_filter1d(gain, box, mode="nearest")
    return np.minimum(gain, need)


def _gain_curve(peaks: np.ndarray, rate: int, gain: float, ceiling: float) -> np.ndarray:
    """The linear gain of each sample: `gain` dB, limited (see _limit_gain)."""
    import numpy as np

    scale = 10 ** (_clamp(gain, GAIN_RANGE) / 20)
    curve = _limit_gain(peaks * scale, rate, ceiling)
    return np.full(len(peaks), scale) if curve is None else scale * curve


def _at_gain(x: np.ndarray, peaks: np.ndarray, rate: int, gain: float, ceiling: float) -> np.ndarray:
    return x * _gain_curve(peaks, rate, gain, ceiling)


def apply(samples: bytes | np.ndarray, rate: int, gain: float, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """The sentence at `gain` dB, its true peaks limited under `ceiling` (float, full scale
    1.0). A gain from a tampered cache cannot push a peak over the ceiling."""
    x = _floats(samples)
    return _at_gain(x, peak_envelope(x, rate), rate, gain, ceiling)


def level(samples: bytes | np.ndarray, rate: int, target: float = TARGET_LUFS,
          ceiling: float = PEAK_CEILING) -> Level:
    """The sentence's loudness and true peak, and the gain at which, limited, it measures
    `target` (the limiter takes a little loudness: the gain is corrected for it). The gain
    is searched for on the sentence K-weighted once (the limiter's gain moves slowly, so
    weighting the limited sentence is nearly weighting the sentence and applying that
    gain), then checked on the limited sentence itself."""
    import numpy as np

    x = _floats(samples)
    pad = round(_BLOCK * rate)
    weighted = _k_weighted(np.concatenate((np.zeros(pad), x, np.zeros(pad))), rate)
    integrated = gated_loudness(_powers(weighted, rate))
    if not math.isfinite(integrated) or integrated <= LOUDNESS_RANGE[0]:
        return SILENT
    peaks = peak_envelope(x, rate)
    peak = 20 * math.log10(max(float(peaks.max()), 1e-12))
    gain = target - integrated
    most = gain + _MOST_LIMITING  # (a sentence with one lone peak stays a little quiet)
    before: tuple[float, float] | None = None  # (gain, loudness) of the try before
    for _ in range(_TRIES):
        curve = np.pad(_gain_curve(peaks, rate, gain, ceiling), pad, mode="edge")
        made = gated_loudness(_powers(weighted * curve, rate))
        if not math.isfinite(made) or abs(target - made) < 0.02:
            break
        # secant steps: a limited sentence gains less than a dB for each dB of gain
        slope = 1.0 if before is None or made == before[1] else (gain - before[0]) / (made - before[1])
        before = (gain, made)
        gain = min(most, gain + (target - made) * max(1.0, min(8.0, slope)))
    for _ in range(2):  # measured exactly, what remains corrected
        made = loudness_in_silence(_at_gain(x, peaks, rate, gain, ceiling), rate)
        if not math.isfinite(made) or abs(target - made) < 0.05:
            break
        gain = min(most, gain + target - made)
    return Level(_clamp(integrated, LOUDNESS_RANGE), _clamp(peak, TRUE_PEAK_RANGE), _clamp(gain, GAIN_RANGE))


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


__all__ = ["GAIN_RANGE", "Level", "PEAK_CEILING", "SILENT", "TARGET_LUFS", "apply", "block_powers",
           "gated_loudness", "level", "measure", "true_peak"]
