"""Assembling section videos into one lesson video with ffmpeg.

Sections rendered with the same settings share codec, size, frame rate and pixel format,
so the concat demuxer can join them without re-encoding (fast, lossless). The result is
checked with ffprobe: when its streams differ from the parts', or its duration is off
the sum of the parts' by a frame or more, it is redone with a re-encode at the exact
frame rate (H.264, yuv420p, constant frame rate), which always gives exact timing.

With the lesson's `transition: crossfade`, each section fades into the next over
CROSSFADE_SECONDS without moving anything in time: every section but the last is extended
by that long with copies of its last frame (tpad), and that tail is blended with the start
of the next section (xfade at the section's end). The lesson keeps its length, and every
section its start, so narration, subtitles and the manifest stay as they are; the video is
re-encoded (with a cut, the default, it is not).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from lecture.compiler.kinds import TRANSITIONS

from .ffmpeg import VIDEO_TIMEOUT, FfmpegError, ProbeResult, probe, run
from .safe_fs import atomic_output

CUT, CROSSFADE = TRANSITIONS  # the lesson's `transition:` setting (compiler/kinds.py)
CROSSFADE_SECONDS = 0.5  # (rounded to whole frames, and at most the next section's length)
# What a re-encode writes: H.264 in yuv420p, at a constant frame rate (the -r that follows)
ENCODE = ["-c:v", "libx264", "-pix_fmt", "yuv420p"]


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
           reencode: bool | None = None, transition: str = CUT) -> ProbeResult:
    """Join `videos` in order into `out` (an .mp4) and return ffprobe's view of it.

    reencode: None (default) copies the streams when the parts allow it and re-encodes
    otherwise; True or False forces the choice (a crossfade always re-encodes).
    transition: CUT, or CROSSFADE (see the module's doc).
    """
    if transition not in TRANSITIONS:
        raise ValueError(f"unknown transition {transition!r}")
    paths = [Path(v) for v in videos]
    if not paths:
        raise FfmpegError("nothing to assemble: no section videos")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts = [probe(p) for p in paths]
    if transition == CROSSFADE and len(paths) > 1:
        return _crossfade(paths, parts, out, fps=fps)
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
                    raise FfmpegError("stream copy did not give exact timing")
            if result is None:
                audio = ["-c:a", "aac", "-b:a", "192k"] if any(p.has_audio for p in parts) else []
                run(base + [*ENCODE, "-r", f"{fps:g}",
                            "-fps_mode", "cfr", *audio, "-movflags", "+faststart", str(tmp)],
                    what, VIDEO_TIMEOUT)
                probe(tmp)  # (readable, before it takes `out`'s place)
    finally:
        list_path.unlink(missing_ok=True)
    return probe(out)


# ---------------------------------------------------------------- crossfade


def _frames(part: ProbeResult, fps: float) -> int:
    """A section's length in frames (its steps last whole frames)."""
    return part.frames if part.frames else round(part.duration * fps)


def crossfade_graph(frames: list[int], fps: float, *, audio: bool = False) -> str:
    """The filter graph that joins inputs 0..n-1 (`frames[i]` frames each) with a cross-fade
    at each join: [v] (and [a], the parts' audio joined as it is) of the same length as
    the parts in a row."""
    n = round(CROSSFADE_SECONDS * fps)
    last = len(frames) - 1
    fades = [min(n, f) for f in frames[1:]]  # the join into part i+1 lasts fades[i] frames
    # every part but the last gets its join's length of copies of its last frame
    chains = [f"[{i}:v]settb=AVTB" + (f",tpad=stop_mode=clone:stop={fades[i]}" if i < last else "")
              + f"[p{i}]" for i in range(last + 1)]
    joined, end = "[p0]", frames[0]
    for i in range(1, last + 1):
        label = "[v]" if i == last else f"[x{i}]"
        # half a frame early: timestamps rounded in microseconds never move the join a frame
        chains.append(f"{joined}[p{i}]xfade=transition=fade:duration={fades[i - 1] / fps:.6f}:"
                      f"offset={(end - 0.5) / fps:.6f}{label}")
        joined, end = label, end + frames[i]
    if audio:
        chains.append("".join(f"[{i}:a]" for i in range(len(frames))) + f"concat=n={len(frames)}:v=0:a=1[a]")
    return ";".join(chains)


def _crossfade(paths: list[Path], parts: list[ProbeResult], out: Path, *, fps: float) -> ProbeResult:
    frames = [_frames(p, fps) for p in parts]
    audio = all(p.has_audio for p in parts)
    inputs = [arg for p in paths for arg in ("-i", str(p.resolve()))]  # (never read as an option)
    graph = crossfade_graph(frames, fps, audio=audio)
    maps = ["-map", "[v]", *(["-map", "[a]", "-c:a", "aac", "-b:a", "192k"] if audio else [])]
    with atomic_output(out, f".tmp{out.suffix}") as tmp:
        run(["ffmpeg", "-y", "-nostdin", "-hide_banner", "-loglevel", "error", *inputs,
             "-filter_complex", graph, *maps, *ENCODE, "-r", f"{fps:g}", "-fps_mode", "cfr",
             "-movflags", "+faststart", str(tmp)],
            f"cross-fade the section videos into {out}", VIDEO_TIMEOUT)
        made = probe(tmp)
        # its video's frame count (an audio track may end a little after the picture)
        length = made.frames if made.frames is not None else round(made.duration * fps)
        if length != sum(frames):
            raise FfmpegError(f"the cross-faded lesson has {length} frames, not the {sum(frames)} "
                              "of its sections")
    return probe(out)
