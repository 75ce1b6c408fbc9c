"""ffmpeg and ffprobe, run one way: `run` and `probe`.

Every call goes through `run(args, what, timeout)`: its output captured, stdin closed (an
ffmpeg that asks a question never waits for an answer), a time limit always set, and one
error type, FfmpegError, whatever went wrong: the program is missing, it failed (the
message names what it was doing, its exit status and the last lines it printed) or it
ran past its limit. Each kind of call has its own limit (the *_TIMEOUT constants), long
enough for a large lesson and short enough that a stuck ffmpeg never hangs the tool.

`probe(path)` reads a video's duration, size, frame rate, frame count and streams with
ffprobe.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROBE_TIMEOUT = 120.0  # ffprobe reading a file's streams (counting its frames included)
VERSION_TIMEOUT = 20.0  # `ffmpeg -version`
FRAME_TIMEOUT = 60.0  # one frame taken out of a video (a seek, then one decode)
CLIP_TIMEOUT = 120.0  # a few seconds of a video cut out, scaled and encoded (GIF or VP9)
AUDIO_TIMEOUT = 600.0  # a pass over a narration track: loudness, limiting, muxing it in
VIDEO_TIMEOUT = 3600.0  # a pass over a whole video: joining, encoding, subtitling, scanning it

_TAIL_LINES = 8  # of stderr, in the message of a failure


class FfmpegError(RuntimeError):
    """ffmpeg or ffprobe is missing, failed or took too long; the message says which, and
    what it was doing."""

    def __init__(self, message: str, *, what: str | None = None, returncode: int | None = None,
                 stderr_tail: str = "", timed_out: bool = False) -> None:
        super().__init__(message)
        self.what = what
        self.returncode = returncode  # None when it did not run or was stopped
        self.stderr_tail = stderr_tail
        self.timed_out = timed_out


def _tail(stderr: bytes | None) -> str:
    text = (stderr or b"").decode("utf-8", "replace").strip()
    return "\n".join(text.splitlines()[-_TAIL_LINES:])


def run(args: Sequence[str], what: str, timeout: float, *,
        cwd: str | Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run `args` (args[0] is ffmpeg or ffprobe) and return what it printed (bytes).

    `what` says what the call does, as a verb phrase ("read lesson.mp4"); it goes into the
    message of the FfmpegError raised when the program is missing, exits with another
    status than 0, or runs longer than `timeout` seconds (then it is killed)."""
    program = Path(args[0]).name
    try:
        cp = subprocess.run(list(args), capture_output=True, stdin=subprocess.DEVNULL,
                            cwd=str(cwd) if cwd is not None else None, timeout=timeout)
    except FileNotFoundError:
        raise FfmpegError(f"{program} was not found (needed to {what}); install ffmpeg",
                          what=what) from None
    except subprocess.TimeoutExpired as exc:
        raise FfmpegError(f"{program} took longer than {timeout:g} s to {what} and was stopped",
                          what=what, stderr_tail=_tail(exc.stderr), timed_out=True) from None
    except OSError as exc:
        raise FfmpegError(f"{program} could not be started to {what}: {exc}", what=what) from None
    if cp.returncode != 0:
        tail = _tail(cp.stderr)
        raise FfmpegError(f"{program} could not {what} (exit status {cp.returncode})"
                          + (f":\n{tail}" if tail else ""),
                          what=what, returncode=cp.returncode, stderr_tail=tail)
    return cp


def last_frame(video: str | Path, png: str | Path, *, mp4_only: bool = False) -> Path:
    """Write the last frame of `video` to `png` (of the last half second's frames, the
    final one: a seek to the very end can land after it). `mp4_only`: read `video` as MP4
    and nothing else (a file of a cloned build folder cannot make ffmpeg open a playlist)."""
    forced = ["-f", "mp4"] if mp4_only else []
    run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-sseof", "-0.5", *forced, "-i", str(video),
         "-update", "1", "-frames:v", "30", str(png)], f"take the last frame of {video}", FRAME_TIMEOUT)
    return Path(png)


def cut_clip(video: str | Path, out: str | Path, *, start: float, seconds: float, width: int,
             fps: int) -> Path:
    """Write `seconds` of the MP4 `video` from `start` to `out`, silent, `width` pixels wide
    at `fps`, encoded by `out`'s suffix: `.gif` (looping, one palette made for the clip) or
    else VP9 (`.webm`). `video` is read as MP4 and nothing else (see last_frame)."""
    scale = f"fps={fps},scale={width}:-2:flags=lanczos"
    if Path(out).suffix.lower() == ".gif":
        encode = ["-filter_complex", f"[0:v]{scale},split[a][b];[a]palettegen=stats_mode=diff[p];"
                  "[b][p]paletteuse=dither=bayer:bayer_scale=4", "-loop", "0"]
    else:
        encode = ["-vf", scale, "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "40", "-row-mt", "1",
                  "-deadline", "good", "-cpu-used", "4"]
    run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}",
         "-f", "mp4", "-i", str(video), "-an", *encode, str(out)], f"cut a clip of {video}", CLIP_TIMEOUT)
    return Path(out)


# ---------------------------------------------------------------- ffprobe


@dataclass(frozen=True)
class ProbeResult:
    path: str
    duration: float  # seconds: the container's duration (the video stream's when absent)
    width: int | None
    height: int | None
    fps: float | None
    frames: int | None  # the video stream's frame count (nb_frames, else counted)
    video_codec: str | None
    pixel_format: str | None
    has_video: bool
    has_audio: bool
    streams: tuple[dict, ...] = field(default=(), repr=False)  # ffprobe's stream records

    @property
    def has_subtitles(self) -> bool:
        return any(s.get("codec_type") == "subtitle" for s in self.streams)

    def to_json(self) -> dict:
        return {"duration": self.duration, "width": self.width, "height": self.height,
                "fps": self.fps, "frames": self.frames, "video_codec": self.video_codec,
                "has_audio": self.has_audio}


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "0"):
        return None
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den) if float(den) else None
    return float(text)


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def probe(path: str | Path, *, count_frames: bool = False) -> ProbeResult:
    """Duration, size, frame rate, frame count and streams of a video, from ffprobe."""
    cmd = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    if count_frames:
        cmd.append("-count_frames")
    cmd.append(str(path))
    cp = run(cmd, f"read {path}", PROBE_TIMEOUT)
    try:
        data = json.loads(cp.stdout or b"{}")
    except ValueError:
        raise FfmpegError(f"ffprobe printed no readable description of {path}",
                          what=f"read {path}") from None
    streams = tuple(s for s in data.get("streams", ()) if isinstance(s, dict))
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = _number(data.get("format", {}).get("duration"))
    if duration is None and video is not None:
        duration = _number(video.get("duration"))
    frames = None
    if video is not None:
        raw = video.get("nb_read_frames") if count_frames else None
        raw = raw or video.get("nb_frames")
        frames = int(raw) if raw not in (None, "N/A") else None
    return ProbeResult(
        path=str(path),
        duration=duration if duration is not None else 0.0,
        width=int(video["width"]) if video and "width" in video else None,
        height=int(video["height"]) if video and "height" in video else None,
        fps=_rate(video.get("avg_frame_rate") or video.get("r_frame_rate")) if video else None,
        frames=frames,
        video_codec=video.get("codec_name") if video else None,
        pixel_format=video.get("pix_fmt") if video else None,
        has_video=video is not None,
        has_audio=audio is not None,
        streams=streams,
    )


__all__ = ["AUDIO_TIMEOUT", "CLIP_TIMEOUT", "FRAME_TIMEOUT", "PROBE_TIMEOUT", "VERSION_TIMEOUT",
           "VIDEO_TIMEOUT", "FfmpegError", "ProbeResult", "cut_clip", "last_frame", "probe", "run"]
