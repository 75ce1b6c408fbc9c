"""The narration's part of a build: the timed lesson, each section's voice track, the
lesson's normalised track and its subtitles.

`prepare_soundtrack` speaks the lesson before anything is hashed or compiled (steps last
as long as their speech needs, see narration.py); the build then folds each section's
narration hash into the section's cache key, gives every rendered section its voice
(`add_to_section`, before the video enters the cache) and gives lesson.mp4 one
loudness-normalised track and soft subtitles (`finish_lesson`, before it enters the
cache), so a cached rebuild speaks, mixes and encodes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Lesson

from . import narration
from .ffmpeg import FfmpegError

# AAC encoding raises true peaks by a few tenths of a dB: aim 0.5 dB under the −1.5 dBTP
# ceiling so that the encoded track stays under it.
AAC_TRUE_PEAK = -2.0


@dataclass
class Soundtrack:
    plan: narration.NarrationPlan
    fps: int

    @property
    def silent(self) -> bool:
        return self.plan.silent

    def section_parts(self, section_id: str) -> dict:
        """What a section's video depends on besides its nodes: its narration."""
        section = self.plan.section(section_id)
        return {"narration": section.hash if section is not None and not self.silent else None}

    def add_to_section(self, section_id: str, movie: Path, work: Path) -> Path:
        """The section's video with its normalised voice track (a new file in `work`)."""
        section = self.plan.section(section_id)
        if self.silent or section is None:
            return movie
        from . import audio

        work.mkdir(parents=True, exist_ok=True)
        raw = audio.write_section_track(section, self.fps, work / f"{section_id}.raw.wav")
        wav = audio.normalize(raw, work / f"{section_id}.wav", true_peak=AAC_TRUE_PEAK)
        out = work / f"{section_id}.voiced.mp4"
        audio.mux_audio(movie, wav, out)
        return out

    def write_subtitles(self, stem: Path, sections: list[str] | None = None) -> tuple[Path, Path] | None:
        if self.silent:
            return None
        from . import subtitles

        srt, vtt = subtitles.write_subtitles(self.plan, self.fps, stem, sections=sections)
        return Path(srt), Path(vtt)

    def finish_lesson(self, video: Path, work: Path, sections: list[str] | None = None,
                      ) -> Path:
        """lesson.mp4 given one normalised voice track for the whole lesson (no joins
        inside the audio, so no clicks) and a soft subtitle track. Rewrites `video`."""
        if self.silent:
            return video
        from . import audio, subtitles

        work.mkdir(parents=True, exist_ok=True)
        raw = audio.write_lesson_track(self.plan, self.fps, work / "lesson.raw.wav", sections=sections)
        wav = audio.normalize(raw, work / "lesson.wav", true_peak=AAC_TRUE_PEAK)
        audio.mux_audio(video, wav, video)
        subs = self.write_subtitles(work / "lesson", sections)
        if subs is not None:
            subtitles.add_soft_subtitles(video, subs[0], video)
        return video

    def burn(self, video: Path, srt: Path) -> None:
        from . import subtitles

        subtitles.burn_subtitles(video, srt, video)

    def to_json(self) -> dict[str, Any]:
        return {
            "voice": self.plan.voice,
            "sentences_spoken": self.plan.synthesized,
            "sentences_from_cache": self.plan.reused,
            "steps": [
                {"section": s.id, "step": st.index + 1 if isinstance(st.index, int) else st.index,
                 "declared": st.declared, "duration": st.duration, "extended": st.extended}
                for s in self.plan.sections for st in s.steps],
        }


def prepare_soundtrack(lesson: Lesson, *, voice: str | None, strict: bool, build_root: Path,
                       sections: list[str] | None, fps: int,
                       ) -> tuple[Lesson, Soundtrack | None, list[Diagnostic]]:
    """Speak the lesson: (the timed lesson, its soundtrack, diagnostics). The soundtrack is
    None when the narration cannot be made (the diagnostics say why)."""
    narrator, problems = narration.narrator_for(lesson, voice=voice,
                                                cache_dir=Path(build_root) / ".speech-cache")
    if narrator is None:
        return lesson, None, list(problems)
    plan = narration.plan_narration(lesson, narrator, strict=strict, sections=sections)
    diagnostics = list(problems) + list(plan.diagnostics)
    if not plan.ok:
        return lesson, None, diagnostics
    return plan.lesson, Soundtrack(plan, fps), diagnostics


def errors() -> tuple[type[Exception], ...]:
    """The errors mixing sound and subtitles can raise: ffmpeg's (audio.AudioError and
    subtitles.SubtitleError are its names there)."""
    return (FfmpegError,)
