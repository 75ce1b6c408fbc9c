"""The one way ffmpeg runs: one error type that names what failed, a limit on every call,
probe; and the atomic output file the ffmpeg callers write through."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lecture.runtime import assemble, subtitles, voice_track
from lecture.runtime.ffmpeg import FfmpegError, last_frame, probe, run
from lecture.runtime.safe_fs import atomic_output


def _clip(path: Path, seconds: float = 0.5, fps: int = 10) -> Path:
    run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=64x48:rate={fps}",
         "-t", str(seconds), "-pix_fmt", "yuv420p", str(path)], "make a test clip", 60)
    return path


def test_a_failure_names_what_failed_its_status_and_what_ffmpeg_said(tmp_path):
    missing = tmp_path / "nothing-here.mp4"
    with pytest.raises(FfmpegError) as info:
        run(["ffmpeg", "-v", "error", "-i", str(missing), "-f", "null", "-"], f"read {missing.name}", 30)
    err = info.value
    assert str(err).startswith(f"ffmpeg could not read {missing.name} (exit status ")
    assert err.returncode not in (None, 0) and not err.timed_out
    assert "No such file or directory" in err.stderr_tail and err.stderr_tail in str(err)


def test_a_call_past_its_limit_is_stopped_and_says_so():
    started = time.monotonic()
    with pytest.raises(FfmpegError) as info:  # an endless silent source: never ends by itself
        run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"],
            "play silence", 1.0)
    assert time.monotonic() - started < 10
    assert info.value.timed_out and info.value.returncode is None
    assert str(info.value) == "ffmpeg took longer than 1 s to play silence and was stopped"


def test_a_missing_program_is_the_same_error():
    with pytest.raises(FfmpegError, match="ffmpeg-that-is-not-installed was not found "
                                          r"\(needed to check\); install ffmpeg"):
        run(["ffmpeg-that-is-not-installed", "-version"], "check", 5)


def test_the_ffmpeg_callers_own_failures_are_the_one_error(tmp_path):
    """Callers catch FfmpegError alone: audio and assembly raise it for their own failures too."""
    with pytest.raises(FfmpegError, match="nothing to join"):
        voice_track.concat_tracks([], tmp_path / "joined.wav")
    with pytest.raises(FfmpegError, match="nothing to assemble"):
        assemble.concat([], tmp_path / "lesson.mp4", fps=10)
    assert not hasattr(voice_track, "AudioError") and not hasattr(subtitles, "SubtitleError") \
        and not hasattr(assemble, "AssembleError")


def test_probe_reads_a_clip_and_a_non_video_is_an_ffmpeg_error(tmp_path):
    info = probe(_clip(tmp_path / "clip.mp4"), count_frames=True)
    assert (info.width, info.height, info.fps, info.frames) == (64, 48, 10.0, 5)
    assert abs(info.duration - 0.5) < 0.05 and info.has_video and not info.has_audio
    assert not info.has_subtitles
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    with pytest.raises(FfmpegError, match=r"^ffprobe could not read .*junk\.mp4 \(exit status"):
        probe(junk)


def test_last_frame_writes_a_png(tmp_path):
    png = last_frame(_clip(tmp_path / "clip.mp4"), tmp_path / "still.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_atomic_output_replaces_a_planted_link_and_leaves_nothing_on_failure(tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("mine")
    out = tmp_path / "lesson.mp4"
    out.symlink_to(canary)  # as a cloned build folder may hold
    with atomic_output(out, ".tmp.mp4") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".tmp.mp4") and tmp.exists()
        tmp.write_bytes(b"video")
    assert not out.is_symlink() and out.read_bytes() == b"video" and canary.read_text() == "mine"
    with pytest.raises(RuntimeError), atomic_output(out) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("ffmpeg failed")
    assert out.read_bytes() == b"video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canary.txt", "lesson.mp4"]
