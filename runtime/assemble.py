"""Assembling section videos into one lesson video with ffmpeg.

Sections rendered with the same settings share codec, size, frame rate and pixel format,
so the concat demuxer can join them without re-encoding (fast, lossless). The result is
checked with ffprobe: when its streams differ from the parts', or its duration is off
the sum of the parts' by a frame or more, it is redone with a re-encode at the exact
frame rate (H.264, yuv420p, constant frame rate), which always gives exact timing.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from .ffmpeg import VIDEO_TIMEOUT, FfmpegError, ProbeResult, probe, run
from .safe_fs import atomic_output

AssembleError = FfmpegError  # the name callers catch: ffmpeg's failures and "nothing to assemble"


def _concat_list(videos: list[Path], list_path: Path) -> Path:
    def quote(p: Path) -> str:
        return "'" + str(p.resolve()).replace("'", "'\\''") + "'"

    list_path.write_text("ffconcat version 1.0\n" + "".join(f"file {quote(v)}\n"
                                                              for v in videos),
                         encoding="utf-8")
    return list_path


def _compatible(parts: list[ProbeResult]) -> bool:
    first = parts[0]
    return all((p.video_codec, p.width, p.height, p.pixel_format, p.has_audio, p.fps)
               == (first.video_codec, first.width, first.height, first.pixel_format,
                   first.has_audio, first.fps) for p in parts)


def concat(videos: list[str | Path], out: str | Path, *, fps: float,
           reencode: bool | None = None) -> ProbeResult:
    """Join `videos` in order into `out` (an .mp4) and return ffprobe's view of it.

    reencode: None (default) copies the streams when the parts allow it and re-encodes
    otherwise; True or False forces the choice.
    """
    paths = [Path(v) for v in videos]
    if not paths:
        raise AssembleError("nothing to assemble: no section videos")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts = [probe(p) for p in paths]
    expected = sum(p.duration for p in parts)
    frame = 1.0 / fps
    token = secrets.token_hex(4)  # a name of its own: concurrent runs may share `out`'s folder
    list_path = _concat_list(paths, out.with_name(f".{out.stem}.{token}.concat.txt"))
    base = ["ffmpeg", "-y", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "concat",
            "-safe", "0", "-i", str(list_path)]
    what = f"join the section videos into {out}"
    try:
        with atomic_output(out, f".tmp{out.suffix}") as tmp:
            result: ProbeResult | None = None
            if reencode is not True and _compatible(parts):
                run(base + ["-c", "copy", "-movflags", "+faststart", str(tmp)], what, VIDEO_TIMEOUT)
                result = probe(tmp)
                if abs(result.duration - expected) >= frame or not result.has_video:
                    result = None  # fall back to an exact re-encode
                if reencode is False and result is None:
                    raise AssembleError("stream copy did not give exact timing")
            if result is None:
                audio = ["-c:a", "aac", "-b:a", "192k"] if any(p.has_audio for p in parts) else []
                run(base + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", f"{fps:g}",
                            "-fps_mode", "cfr", *audio, "-movflags", "+faststart", str(tmp)],
                    what, VIDEO_TIMEOUT)
                probe(tmp)  # (readable, before it takes `out`'s place)
    finally:
        list_path.unlink(missing_ok=True)
    return probe(out)
