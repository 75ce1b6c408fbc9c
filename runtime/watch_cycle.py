"""The rebuild of `lecture watch` (watch.py): on every change, the build plan's stages up to
compile for the lesson as saved now, then the sections to make as jobs (watch_jobs.py).

The build loop runs on a thread of its own, one generation (a debounced change) at a time;
a save that comes in meanwhile is built next, and a cycle overtaken by it while compiling
stops there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from lecture.compiler import source
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.findings import to_diagnostics
from lecture.compiler.kinds import setting_choice
from lecture.compiler.model import Lesson
from lecture.compiler.span import Span

from . import build, failures, units
from . import cache as cache_mod
from .file_watch import FileWatch
from .plan import Compiled, Keyed, Plan, PlanOptions, load
from .report import say
from .step_units_jobs import UnitWork
from .step_units_plan import split_section
from .warm_check import LayoutCheck
from .watch_jobs import Job, RenderJobs
from .watch_media import DerivedMedia
from .watch_preview import PreviewState, diagnostic_json, step_times
from .watch_setup import WatchSetup


@dataclass(frozen=True)
class Version:
    """The lesson as saved now, keyed."""

    keyed: Keyed
    text: str
    warnings: tuple[Diagnostic, ...]

    @property
    def signature(self) -> tuple:
        """Equal for a save that changed nothing (or only touched the file)."""
        return (self.text, tuple(k.hash for k in self.keyed.keys.values()))


@dataclass(frozen=True)
class Todo:
    """What a version needs made: changed sections first, in the order of the lesson."""

    sections: list[str]
    videos: frozenset[str] = field(default_factory=frozenset)
    stills: frozenset[str] = field(default_factory=frozenset)


class BuildCycle:
    def __init__(self, setup: WatchSetup, state: PreviewState, renders: RenderJobs, media: DerivedMedia,
                 files: FileWatch) -> None:
        self.setup = setup
        self.state = state
        self.renders = renders
        self.media = media
        self.files = files
        self.cache = setup.cache
        self._last_input: tuple | None = None  # the signature of the version last built
        # `lecture check`'s layout findings, kept warm: a section is dry-run again only when it changed
        self.layout = LayoutCheck()
        self._checked: tuple[Lesson, str] | None = None  # the lesson as loaded (as check sees it), its text

    def _say(self, text: str, style: str | None = None) -> None:
        say(self.setup.console, text, style)

    def loop(self) -> None:
        """The build thread: a cycle for each new generation, until the watch stops."""
        while (gen := self.state.next_generation()) is not None:
            try:
                self.run(gen)
            except Exception as exc:  # noqa: BLE001 - a bug must not end the watch
                self._say(f"lecture watch: internal error: {type(exc).__name__}: {exc}", "red")
                if os.environ.get("LECTURE_DEBUG"):
                    import traceback

                    traceback.print_exc()
            self.state.finished(gen)

    def _plan(self) -> Plan:
        s, o = self.setup, self.setup.options
        return Plan(s.path, PlanOptions(s.settings, build.compile_module, s.build_root,
                                        voice=o.voice, section_parts=o.section_parts),
                    s.collaborators)

    def run(self, gen: int) -> None:
        """One build of the lesson as saved now: the plan's stages up to compile, then its
        units as jobs (their results come back in RenderJobs)."""
        plan = self._plan()
        version = self._key(plan)
        if version is None:
            return
        changed = self._publish(gen, version)
        if changed is None:
            return
        todo = self._todo(version, changed)
        if not todo.sections:
            self._last_input = version.signature
            self._layout_findings()
            return
        compiled = self._compile(gen, plan, version, todo)
        if compiled is None:
            return
        self._last_input = version.signature  # (only now: a cycle cut short is done again)
        self._submit_all(gen, version, compiled, todo)
        self._layout_findings()  # (while the workers render)

    # ------------------------------------------------------------ load, narrate, key

    def _read(self) -> source.Source | None:
        for _ in range(20):  # a save by rename can leave no file for a moment
            try:  # named as given on the command line, like `lecture check` names it
                return source.decode(self.setup.path.read_bytes(), self.setup.display)
            except OSError:
                time.sleep(0.05)
        return None

    def _key(self, plan: Plan) -> Version | None:
        """The plan's load, narrate and key stages (errors: shown, None)."""
        path = self.setup.path
        try:
            src = self._read()
            if src is None:  # on the page too, over the last good videos, until it is back
                self._show_errors([self._gone()], None)
                return None
            loaded = load(src, path.parent)
        except DiagnosticError as exc:
            self._show_errors(exc.diagnostics, exc.source)
            return None
        lesson, text = loaded.lesson, loaded.source.text
        self._checked = (lesson, text)
        self.files.set_files([path, *(p for s in lesson.sections
                                      for p in cache_mod.section_files(s, path.parent))])
        # Narration as in `lecture render`: only new or edited sentences are spoken, and the
        # timed lesson (steps as long as their speech) is what is hashed and compiled.
        narrated = plan.narrate(lesson)
        if narrated.soundtrack is None:
            self._show_errors(list(narrated.diagnostics), text)
            return None
        keyed = plan.key(narrated.lesson, narrated.soundtrack)
        return Version(keyed, text, (*loaded.diagnostics, *narrated.diagnostics))

    def _layout_findings(self) -> None:
        """What `lecture check` says about the layout of the lesson just submitted (warnings)."""
        if self._checked is None:
            return
        lesson, text = self._checked
        try:
            found = self.layout.findings(lesson, self.setup.path.parent)
        except DiagnosticError:  # (what cannot be compiled, the compile stage reported)
            return
        for d in to_diagnostics(found):
            self._say(d.render(text), "yellow")

    def _gone(self) -> Diagnostic:
        """The error shown while the lesson file is missing (deleted, or renamed away)."""
        name = self.setup.path.name
        return Diagnostic("error", f"{name} was deleted or renamed; the preview shows the "
                          "last good version", Span.point(self.setup.display, 1, 1),
                          f"save {name} again (or rename it back) and the preview "
                          "continues", "lesson-file-missing")

    def _show_errors(self, diagnostics: Sequence[Diagnostic], text: str | None) -> None:
        errors = [diagnostic_json(d, text) for d in diagnostics if d.severity == "error"] or \
            [diagnostic_json(d, text) for d in diagnostics]
        with self.state.lock:
            same = errors == self.state.errors
            self.state.errors = errors
            self._last_input = None
        if same:
            return
        for d in diagnostics:
            self._say(d.render(text), "red" if d.severity == "error" else "yellow")
        self.state.emit("errors", {"errors": errors})

    # ------------------------------------------------------------ what changed

    def _publish(self, gen: int, version: Version) -> list[str] | None:
        """The new version on the page (its errors gone, its sections); the sections that
        changed, or None when it is the version already shown."""
        was_errors = bool(self.state.errors)
        if version.signature == self._last_input and not was_errors:
            return None  # saved without a change (or only touched)
        if was_errors:
            with self.state.lock:
                self.state.errors = []
            self.state.emit("clean", {"generation": gen})
            self._say(f"{self.setup.display}: no errors", "green")
        for d in version.warnings:
            self._say(d.render(version.text), "yellow")
        return self._show_sections(gen, version.keyed)

    def _show_sections(self, gen: int, keyed: Keyed) -> list[str]:
        """The sections and which changed; work for older versions of them is cancelled."""
        state = self.state
        timing, fps = keyed.soundtrack.plan, keyed.soundtrack.fps
        new: list[dict] = [{"id": s.id, "title": s.title.value, "hash": keyed.keys[s.id].hash,
                            "steps": step_times(timing.section(s.id), fps)} for s in keyed.lesson.sections]
        with state.lock:
            old = {s["id"]: s["hash"] for s in state.sections}
            changed = [s["id"] for s in new if old.get(s["id"]) != s["hash"]]
            structure = [s["id"] for s in new] != list(old)
            state.title = keyed.lesson.title.value
            state.transition = setting_choice(keyed.lesson, "transition")
            if changed or structure or not state.sections:
                state.sections = new
                state.changed = changed
            current = {s["hash"] for s in new}
            stale = [f for k, f in self.renders.inflight.items() if k[0] not in current]
        if changed or structure:
            state.emit("sections", {"sections": state.snapshot()["sections"], "changed": changed,
                                    "title": state.title, "generation": gen})
            if changed:
                self._say(f"{self.setup.display}: changed: {', '.join(changed)}")
        for fut in stale:  # an older version of a section: no longer wanted
            self.renders.cancel(fut)
        return changed

    def _todo(self, version: Version, changed: list[str]) -> Todo:
        """What has to be made; the stills of cached videos are taken from them meanwhile."""
        keys = version.keyed.keys
        order = changed + [s.id for s in version.keyed.lesson.sections if s.id not in changed]
        videos: set[str] = set()
        stills: set[str] = set()
        extract: list[str] = []
        for sid in order:
            h = keys[sid].hash
            with self.state.lock:
                if h in self.state.failed:
                    continue
                inflight = self.renders.inflight
                busy_video, busy_still = (h, "video") in inflight, (h, "still") in inflight
            has_video = self.cache.record(h) is not None
            if not has_video and not busy_video:
                videos.add(sid)
            if self.cache.still(h) is None and not busy_still:
                if has_video:
                    extract.append(sid)
                else:
                    stills.add(sid)
        for sid in extract:
            self.renders.post.submit(self.media.extract_still, sid, keys[sid].hash)
        self.media.assemble_if_complete()
        return Todo([sid for sid in order if sid in videos or sid in stills],
                    frozenset(videos), frozenset(stills))

    # ------------------------------------------------------------ resolve, compile, render

    def _compile(self, gen: int, plan: Plan, version: Version, todo: Todo) -> Compiled | None:
        """The plan's resolve and compile stages for the sections to make (lesson errors:
        shown, None; None too when a newer save came in meanwhile)."""
        t0 = time.monotonic()
        resolved = plan.resolve(version.keyed, todo.sections, self.setup.console)
        if not resolved.ok:
            self._show_errors(list(resolved.diagnostics), version.text)
            return None
        if self.renders.isolated is not None:  # sections drawing custom elements render isolated
            self.renders.isolated.sections = resolved.isolated
        try:
            compiled = plan.compile(version.keyed, resolved, todo.sections)
        except DiagnosticError as exc:
            self._show_errors(exc.diagnostics, exc.source or version.text)
            return None
        except build.CompilerMissing as exc:
            self._say(f"error: {exc}", "red")
            return None
        if self.state.superseded(gen):
            return None  # a newer save came in while compiling: its cycle takes over
        for sid, diags in compiled.failures.items():
            failure = failures.from_compile(sid, diags, log_path=self.setup.log_dir / f"{sid}.log")
            self.renders.section_failed(sid, version.keyed.keys[sid].hash, failure, version.text)
        n = len(compiled.module.scenes)
        self._say(f"  compiled {n} section{'s' if n != 1 else ''} in {time.monotonic() - t0:.2f}s")
        return compiled

    def _submit_all(self, gen: int, version: Version, compiled: Compiled, todo: Todo) -> None:
        """The plan's render units of the sections to make, as jobs: newest save first, then
        stills before videos, then in the order of `todo`."""
        if not compiled.module.code:
            return
        module = self.cache.module(compiled.module.code)
        scenes = {s.section_id: s for s in compiled.module.scenes}
        for rank, sid in enumerate(todo.sections):
            scene = scenes.get(sid)
            if scene is None:
                continue
            section = version.keyed.lesson.section(sid)
            unit = units.Unit(sid, scene.class_name, module, compiled.module.source_map,
                              section.span if section else None)
            key = version.keyed.keys[sid]
            h = key.hash
            self.renders.mark_started(h)
            work = self._units(compiled, scene.class_name, key, sid)
            if work is not None:  # as step units (custom code renders whole, isolated)
                self.renders.submit_units(Job(unit, h, "video", version.text, version.keyed.soundtrack), work,
                                          gen, rank, still=sid in todo.stills, video=sid in todo.videos)
                continue
            for kind, wanted, order in (("still", todo.stills, 0), ("video", todo.videos, 1)):
                if sid in wanted:
                    self.renders.submit(Job(unit, h, kind, version.text, version.keyed.soundtrack),
                                        (-gen, order, rank))

    def _units(self, compiled: Compiled, class_name: str, key: cache_mod.SectionKey,
               sid: str) -> UnitWork | None:
        isolated = self.renders.isolated
        if isolated is not None and sid in isolated.sections:
            return None
        split = split_section(compiled.module.code, class_name, key.unit_base)
        return UnitWork.of(sid, split, self.cache) if split is not None else None
