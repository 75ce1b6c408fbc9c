"""The narration's part of a build: the timed lesson, each section's voice track, the
lesson's normalised track and its subtitles.

`prepare_soundtrack` speaks the lesson before anything is hashed or compiled (steps last
as long as their speech needs, see step_timing.py); the build then folds each section's
narration hash into the section's cache key, gives every rendered section its voice
(`add_to_section`, before the video enters the cache) and gives lesson.mp4 one
loudness-normalised track and soft subtitles (`finish_lesson`, before it enters the
cache), so a cached rebuild speaks, mixes and encodes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Lesson

from . import step_timing

# AAC encoding raises true peaks by a few tenths of a dB: aim 0.5 dB under the −1.5 dBTP
# ceiling so that the encoded track stays under it.
AAC_TRUE_PEAK = -2.0


@dataclass
class Soundtrack:
    plan: step_timing.NarrationPlan
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
        from . import voice_track

        work.mkdir(parents=True, exist_ok=True)
        raw = voice_track.write_section_track(section, self.fps, work / f"{section_id}.raw.wav")
        wav = voice_track.normalize(raw, work / f"{section_id}.wav", true_peak=AAC_TRUE_PEAK)
        out = work / f"{section_id}.voiced.mp4"
        voice_track.mux_audio(movie, wav, out)
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
        from . import subtitles, voice_track

        work.mkdir(parents=True, exist_ok=True)
        raw = voice_track.write_lesson_track(self.plan, self.fps, work / "lesson.raw.wav", sections=sections)
        wav = voice_track.normalize(raw, work / "lesson.wav", true_peak=AAC_TRUE_PEAK)
        voice_track.mux_audio(video, wav, video)
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
                {"section": s.id, "step": st.index,  # 1-based, waits counted, as everywhere
                 "declared": st.declared, "duration": st.duration, "extended": st.extended}
                for s in self.plan.sections for st in s.steps],
        }


def prepare_soundtrack(lesson: Lesson, *, voice: str | None, strict: bool, build_root: Path,
                       sections: list[str] | None, fps: int,
                       ) -> tuple[Lesson, Soundtrack | None, list[Diagnostic]]:
    """Speak the lesson: (the timed lesson, its soundtrack, diagnostics). The soundtrack is
    None when the narration cannot be made (the diagnostics say why)."""
    plan, diagnostics = _speak(lesson, voice=voice, strict=strict, build_root=build_root, sections=sections)
    if plan is None or not plan.ok:
        return lesson, None, diagnostics
    return plan.lesson, Soundtrack(plan, fps), diagnostics


def _speak(lesson: Lesson, *, voice: str | None, strict: bool, build_root: Path,
           sections: list[str] | None) -> tuple[step_timing.NarrationPlan | None, list[Diagnostic]]:
    """The narration plan (None: no narrator for this lesson) and every diagnostic of it."""
    narrator, problems = step_timing.narrator_for(lesson, voice=voice,
                                                cache_dir=Path(build_root) / ".speech-cache")
    if narrator is None:
        return None, list(problems)
    plan = step_timing.plan_narration(lesson, narrator, strict=strict, sections=sections)
    return plan, list(problems) + list(plan.diagnostics)


# What says that this machine cannot speak the voice now, not that the lesson asks for a
# wrong one: `lecture check` then times the narration by an estimate.
UNAVAILABLE_CODES = frozenset({"speech-engine-missing", "speech-no-voice", "speech-no-endpoint",
                               "speech-unreachable"})
_ESTIMATED = ("narration-too-long", "dead-air")


def check_narration(lesson: Lesson, *, voice: str | None, strict: bool, build_root: Path,
                    ) -> tuple[list[Diagnostic], str]:
    """What `lecture check` reports about the narration: what a render's narrate stage
    reports (same narrator, same cache, same severities), and a note for the summary line.
    When this machine cannot speak the voice (UNAVAILABLE_CODES), the speech is timed by an
    estimate instead (speech/estimate.py), and each timing finding and the note say so."""
    plan, diagnostics = _speak(lesson, voice=voice, strict=strict, build_root=build_root, sections=None)
    why = next((d for d in diagnostics if d.code in UNAVAILABLE_CODES), None)
    if why is None:
        return diagnostics, ""
    estimator = step_timing.estimating_narrator_for(lesson)
    if estimator is None:
        return diagnostics, ""
    plan = step_timing.plan_narration(lesson, estimator, strict=strict)
    found = [replace(d, message=f"{d.message} (an estimate: this machine cannot speak the narration)")
             if d.code in _ESTIMATED else d for d in plan.diagnostics]
    return found, f" (narration timed by an estimate: {why.message})"
