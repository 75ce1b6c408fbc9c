"""Reading and writing the WAV files speech passes around.

Writing: always mono, 16-bit PCM, little endian, a plain 44-byte header, and any extra
chunks given (the speech cache keeps a sentence's loudness in one, see narrator.py)
between the fmt and data chunks, where every reader skips what it does not know.
Reading is lenient, because engines write WAV to pipes and streams: espeak-ng's `--stdout`
and many OpenAI-compatible servers put placeholder sizes (0x7ffff000, 0xffffffff, 0) in the
RIFF and data headers. Sizes that run past the end are clipped to the bytes present. PCM
8/16/24/32-bit and IEEE float 32/64 are accepted; several channels are mixed down to mono.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from ..safe_fs import write_bytes_atomic
from .base import Audio, SpeechError

if TYPE_CHECKING:  # numpy is imported where it is used: a cached rebuild never needs it
    import numpy as np


def wav_bytes(audio: Audio, extra: dict[bytes, bytes] | None = None) -> bytes:
    """The WAV file of `audio`; `extra`: more chunks (4-byte id -> body)."""
    data = audio.samples
    chunks = b"".join(struct.pack("<4sI", cid, len(body)) + body + b"\x00" * (len(body) & 1)
                      for cid, body in (extra or {}).items())
    header = struct.pack("<4sI4s4sIHHIIHH", b"RIFF", 36 + len(chunks) + len(data), b"WAVE", b"fmt ", 16, 1,
                         1, audio.sample_rate, audio.sample_rate * 2, 2, 16)
    return header + chunks + struct.pack("<4sI", b"data", len(data)) + data


def read_chunk(data: bytes, chunk_id: bytes) -> bytes | None:
    """The body of the first chunk `chunk_id` before the data chunk of WAV bytes (None when
    there is none, or the bytes are not RIFF WAVE)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(data):
        found, size = struct.unpack_from("<4sI", data, pos)
        if found == b"data":
            return None
        if found == chunk_id:
            return data[pos + 8:pos + 8 + size] if pos + 8 + size <= len(data) else None
        pos += 8 + size + (size & 1)
    return None


def write_wav(path: str | os.PathLike[str], audio: Audio) -> Path:
    """Write `audio` to `path` atomically, creating the folder (safe_fs.write_bytes_atomic:
    a link at `path` is replaced, never written through). Returns the path."""
    return write_bytes_atomic(path, wav_bytes(audio))


def read_wav(source: bytes | str | os.PathLike[str]) -> Audio:
    """Parse WAV bytes (or a file) into mono 16-bit Audio; SpeechError if it is not WAV."""
    data = source if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    data = bytes(data)
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise SpeechError("the audio is not a WAV file", code="speech-bad-audio")
    if data[:4] == b"RIFX":
        raise SpeechError("big-endian WAV (RIFX) is not supported", code="speech-bad-audio")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, pos)
        body_start = pos + 8
        if chunk_id == b"data":
            end = len(data) if size in (0, 0xFFFFFFFF) else min(body_start + size, len(data))
            payload = data[body_start:end]
            break
        body = data[body_start:body_start + size]
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise SpeechError("the WAV file has a broken fmt chunk", code="speech-bad-audio")
            fmt = struct.unpack_from("<HHIIHH", body, 0)
            if fmt[0] == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag
                fmt = (struct.unpack_from("<H", body, 24)[0],) + fmt[1:]
        pos = body_start + size + (size & 1)
    if fmt is None or payload is None:
        raise SpeechError("the WAV file has no fmt or data chunk", code="speech-bad-audio")
    tag, channels, rate, _, _, bits = fmt
    if channels < 1 or rate < 1:
        raise SpeechError("the WAV file declares no channels or no sample rate", code="speech-bad-audio")
    samples = _to_float(payload, tag, bits)
    frames = len(samples) // channels
    samples = samples[: frames * channels].reshape(frames, channels).mean(axis=1)
    return Audio(float_to_int16(samples), int(rate))


def _to_float(payload: bytes, tag: int, bits: int) -> np.ndarray:
    import numpy as np

    width = bits // 8
    payload = payload[: len(payload) - len(payload) % max(width, 1)]
    if tag == 1 and bits == 16:
        return np.frombuffer(payload, "<i2").astype(np.float64) / 32768.0
    if tag == 1 and bits == 8:
        return (np.frombuffer(payload, np.uint8).astype(np.float64) - 128.0) / 128.0
    if tag == 1 and bits == 24:
        raw = np.frombuffer(payload, np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float64) / float(1 << 23)
    if tag == 1 and bits == 32:
        return np.frombuffer(payload, "<i4").astype(np.float64) / float(1 << 31)
    if tag == 3 and bits in (32, 64):
        return np.nan_to_num(np.frombuffer(payload, "<f4" if bits == 32 else "<f8").astype(np.float64))
    raise SpeechError(f"unsupported WAV sample format (format tag {tag}, {bits} bits)",
                      hint="ask the speech server for 16-bit PCM WAV", code="speech-bad-audio")


def float_to_int16(samples: np.ndarray) -> bytes:
    import numpy as np

    clipped = np.clip(np.asarray(samples, dtype=np.float64) * 32768.0, -32768, 32767)
    return np.round(clipped).astype("<i2").tobytes()


def resample(audio: Audio, rate: int) -> Audio:
    """Linear-interpolation resampling; only used when one narration mixes sample rates
    (a speech server that changed its output rate between cached sentences)."""
    import numpy as np

    if audio.sample_rate == rate or not audio.samples:
        return Audio(audio.samples, rate)
    src = np.frombuffer(audio.samples, "<i2").astype(np.float64)
    n = max(1, round(len(src) * rate / audio.sample_rate))
    x = np.linspace(0, len(src) - 1, n)
    out = np.interp(x, np.arange(len(src)), src)
    return Audio(np.round(out).astype("<i2").tobytes(), rate)


def silence(seconds: float, rate: int) -> bytes:
    return b"\x00\x00" * max(0, round(seconds * rate))


__all__ = ["read_chunk", "read_wav", "write_wav", "wav_bytes", "resample", "silence", "float_to_int16"]
