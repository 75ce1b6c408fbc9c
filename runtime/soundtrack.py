"""The narration's part of a build: the timed lesson, each section's voice track, the
lesson's track and its subtitles.

`prepare_soundtrack` speaks the lesson before anything is hashed or compiled (steps last
as long as their speech needs, see step_timing.py); the build then folds each section's
narration hash into the section's cache key, gives every rendered section its voice
(`add_to_section`, before the video enters the cache) and gives lesson.mp4 one track and
soft subtitles (`finish_lesson`, before it enters the cache), so a cached rebuild speaks,
mixes and encodes nothing.

A track is its sentences at the gains the speech cache stored with them (voice_track.py):
nothing is measured here. Tracks depend on the narration alone, not on the picture, so
`prepare(sections)` (the build calls it when it starts rendering) makes and encodes them
in the background while the sections render, at the lowest CPU priority, so that they use
the cores the renders leave idle; `add_to_section` and `finish_lesson` then only copy
streams (what is not ready yet is made on the spot).
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Lesson

from . import step_timing
from .speech import Narrator
from .speech.base import Audio
from .speech.narrator import lowest_priority

LESSON = "lesson"  # the name of the lesson's track among the sections' (never a section id:
TrackKey = tuple[str, ...]  # a section's is (id,), the lesson's (LESSON, *chosen ids))


@dataclass
class Soundtrack:
    plan: step_timing.NarrationPlan
    fps: int
    _tracks: dict[str, Audio] = field(default_factory=dict, init=False, repr=False, compare=False)
    _encoded: dict[TrackKey, Future[Path]] = field(default_factory=dict, init=False, repr=False,
                                                   compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _taken: set[TrackKey] = field(default_factory=set, init=False, repr=False, compare=False)
    _queue: list[Callable[[], None]] = field(default_factory=list, init=False, repr=False, compare=False)
    _working: bool = field(default=False, init=False, repr=False, compare=False)  # a thread runs _queue
    _folder: Path | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def silent(self) -> bool:
        return self.plan.silent

    def section_parts(self, section_id: str) -> dict:
        """What a section's video depends on besides its nodes: its narration."""
        section = self.plan.section(section_id)
        return {"narration": section.hash if section is not None and not self.silent else None}

    # ------------------------------------------------------------ tracks

    def prepare(self, sections: list[str], lesson: list[str] | None = None) -> None:
        """Start making the tracks of `sections` and the lesson's (of the `lesson` sections,
        None: all) in the background, in that order (see the module doc)."""
        if self.silent:
            return
        for sid in sections:
            if self.plan.section(sid) is not None:
                self._track_future((sid,), background=True)
        self._track_future(self._lesson_key(lesson), background=True)

    def _lesson_key(self, sections: list[str] | None) -> TrackKey:
        chosen = [s.id for s in self.plan.sections if sections is None or s.id in sections]
        return (LESSON, *chosen)

    def _section_track(self, section_id: str) -> Audio:
        with self._lock:
            made = self._tracks.get(section_id)
        if made is None:
            from . import voice_track

            section = self.plan.section(section_id)
            assert section is not None
            made = voice_track.section_samples(section, self.fps)
            with self._lock:
                made = self._tracks.setdefault(section_id, made)
        return made

    def _make(self, key: TrackKey, tag: str = "") -> Path:
        """The track `key` encoded as AAC, in this soundtrack's own folder (`tag`: in a file
        of its own, the background may be writing the other)."""
        from . import voice_track

        if key[0] == LESSON:
            tracks = {sid: self._section_track(sid) for sid in key[1:]}
            audio = voice_track.lesson_samples(self.plan, self.fps, list(key[1:]), tracks=tracks)
        else:
            audio = self._section_track(key[0])
        name = hashlib.sha256("\0".join(key).encode()).hexdigest()[:24]
        return voice_track.encode(audio, self._work() / f"{name}{tag}.m4a")

    def _work(self) -> Path:
        with self._lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="lecture-voice-"))
                weakref.finalize(self, shutil.rmtree, str(self._folder), True)
            return self._folder

    def _track_future(self, key: TrackKey, *, background: bool) -> Future[Path]:
        """The future of track `key`, queued for the background thread when it is new."""
        with self._lock:
            future = self._encoded.get(key)
            fresh = future is None
            if future is None:
                future = self._encoded[key] = Future()
            if background and fresh:
                self._queue.append(functools.partial(self._fulfil, key, future))
                if not self._working:
                    self._working = True
                    thread = threading.Thread(target=self._background, name="lecture-voice", daemon=True)
                    # at exit: stopped between tracks (never left inside numpy or ffmpeg)
                    weakref.finalize(thread, _stop, self._queue, thread, self._lock)
                    thread.start()
        return future

    def _background(self) -> None:
        """The background thread: runs what is queued, at the lowest CPU priority, and ends
        when nothing is. A daemon: a process that ends does not wait for it."""
        lowest_priority()
        while True:
            with self._lock:
                if not self._queue:
                    self._working = False
                    return
                task = self._queue.pop(0)
            task()

    def _fulfil(self, key: TrackKey, future: Future[Path]) -> None:
        """Make track `key` into `future`, unless another thread has taken it."""
        with self._lock:
            if key in self._taken:
                return
            self._taken.add(key)
        try:
            future.set_result(self._make(key))
        except BaseException as error:  # handed to whoever waits for it
            future.set_exception(error)

    def _encoded_track(self, key: TrackKey) -> Path:
        """Track `key`, encoded: the background's when it is done, else made now (and not by
        the background, unless it has begun it: a thread at the lowest priority may be
        starved, so it is never waited for)."""
        future = self._track_future(key, background=False)
        with self._lock:
            taken = key in self._taken
            self._taken.add(key)
        if future.done() or not taken:
            if not taken:
                self._run_now(key, future)
            return future.result()
        return self._make(key, "-now")

    def _run_now(self, key: TrackKey, future: Future[Path]) -> None:
        try:
            future.set_result(self._make(key))
        except BaseException as error:
            future.set_exception(error)

    # ------------------------------------------------------------ videos

    def add_to_section(self, section_id: str, movie: Path, work: Path) -> Path:
        """The section's video with its voice track (a new file in `work`)."""
        section = self.plan.section(section_id)
        if self.silent or section is None:
            return movie
        from . import voice_track

        work.mkdir(parents=True, exist_ok=True)
        out = work / f"{section_id}.voiced.mp4"
        voice_track.mux(movie, self._encoded_track((section_id,)), out)
        return out

    def write_subtitles(self, stem: Path, sections: list[str] | None = None) -> tuple[Path, Path] | None:
        if self.silent:
            return None
        from . import subtitles

        srt, vtt = subtitles.write_subtitles(self.plan, self.fps, stem, sections=sections)
        return Path(srt), Path(vtt)

    def finish_lesson(self, video: Path, work: Path, sections: list[str] | None = None,
                      ) -> Path:
        """lesson.mp4 given one voice track for the whole lesson (no joins inside the
        audio, so no clicks) and a soft subtitle track, in one pass. Rewrites `video`."""
        if self.silent:
            return video
        from . import voice_track

        work.mkdir(parents=True, exist_ok=True)
        subs = self.write_subtitles(work / "lesson", sections)
        voice_track.mux(video, self._encoded_track(self._lesson_key(sections)), video,
                        subtitles=subs[0] if subs is not None else None)
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
    return _prepared(lesson, _narrator(lesson, voice, build_root), strict=strict, sections=sections, fps=fps)


Prepared = tuple[Lesson, Soundtrack | None, list[Diagnostic]]  # (what prepare_soundtrack returns)
Made = tuple[Narrator | None, list[Diagnostic]]  # (what step_timing.narrator_for returns)


def _prepared(lesson: Lesson, made: Made, *, strict: bool,
              sections: list[str] | None, fps: int) -> Prepared:
    plan, diagnostics = _speak(lesson, made, strict=strict, sections=sections)
    if plan is None or not plan.ok:
        return lesson, None, diagnostics
    return plan.lesson, Soundtrack(plan, fps), diagnostics


@dataclass(frozen=True)
class Speaking:
    """A lesson being spoken ahead (`speak_ahead`)."""

    pending: bool  # some sentence is not in the speech cache: the engine is speaking it
    local: bool  # the voice runs on this machine (no endpoint to wait for, or to fail)
    finish: Callable[[], Prepared]

    def result(self) -> Prepared:
        """What prepare_soundtrack returns: what is left to speak is spoken now, in this
        thread and at its priority."""
        return self.finish()


LOCAL_ENGINES = frozenset({"piper", "espeak", "none"})


def speak_ahead(lesson: Lesson, *, voice: str | None, strict: bool, build_root: Path,
                sections: list[str] | None, fps: int) -> Speaking:
    """prepare_soundtrack in two halves: the sentences the speech cache lacks start being
    spoken now, in background threads at the lowest CPU priority (the renders come first,
    the speech takes the cores they leave idle); `result()` speaks what they have not and
    times the lesson."""
    made = _narrator(lesson, voice, build_root)
    narrator, texts = made[0], _texts(lesson, sections)
    pending = narrator is not None and bool(narrator.missing(texts))
    if narrator is not None and pending:
        narrator.prefetch(texts, background=True)
    local = narrator is not None and narrator.spec.engine in LOCAL_ENGINES
    return Speaking(pending, local, functools.partial(_prepared, lesson, made, strict=strict,
                                                      sections=sections, fps=fps))


def _stop(tasks: list[Callable[[], None]], thread: threading.Thread, lock: threading.Lock) -> None:
    with lock:
        tasks.clear()
    if thread.is_alive() and thread is not threading.current_thread():
        thread.join()


def _texts(lesson: Lesson, sections: list[str] | None) -> list[str]:
    return [value for section in lesson.sections if sections is None or section.id in sections
            for step in section.steps for value, _text in step_timing.say_texts(step, section)]


def _narrator(lesson: Lesson, voice: str | None, build_root: Path) -> Made:
    return step_timing.narrator_for(lesson, voice=voice, cache_dir=Path(build_root) / ".speech-cache")


def _speak(lesson: Lesson, made: Made, *, strict: bool,
           sections: list[str] | None) -> tuple[step_timing.NarrationPlan | None, list[Diagnostic]]:
    """The narration plan (None: no narrator for this lesson) and every diagnostic of it."""
    narrator, problems = made
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
    plan, diagnostics = _speak(lesson, _narrator(lesson, voice, build_root), strict=strict, sections=None)
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
