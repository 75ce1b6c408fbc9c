"""`lecture watch`: re-render what changed on every save and show it live in a browser.

    watch(path, WatchOptions(port=8765, quality="low"))   # blocks until Ctrl-C; returns 0

It watches the lesson file (and the images it shows) with watchdog, through their folders,
so editors that save by writing a new file and renaming it over the old one keep being
followed; saves in quick succession are taken as one (100 ms; file_watch.py). On each
change the build plan (plan.py) runs, as for `lecture render`:

- load: with errors, they are printed and sent to the page, which shows them over the last
  good videos (file:line:col, message, the source line) until the next clean save; a lesson
  file that is deleted or renamed away is such an error too, until it is back;
- narrate and key: each section's content hash (cache.py) says which sections changed;
- resolve and compile: only those, at preview quality;
- render units: newest save first: work for a version of a section that is no longer
  current is cancelled. A section's still (its last frame, rendered with the animations
  skipped, which is quick) is rendered before its video;
- assemble: the lesson video, once every section has its video.

The page (watch_server.py, on 127.0.0.1 only) lists the sections in order, each with its
latest video and still, and the whole lesson's video once every section is there; it hears
of changes by server-sent events (`/events`) and reloads only what changed: the section just
changed is scrolled into view and played.

Events (each `data:` is JSON): `state` (everything; the first event of every
connection), `sections` (the list of sections and the ids that changed), `still`,
`updated` (a section's new video), `failed` (a section could not be rendered), `errors`,
`clean` (the errors are gone), `lesson` (the assembled lesson video).

Tests and tools can run a `Watcher` in their own process (`start()` returns the URL,
`stop()` ends it) or run `python -m lecture.runtime.watch FILE --port 0`, which prints
`watching FILE at http://127.0.0.1:PORT/` first (without the agents: a lesson with custom
elements needs `lecture watch`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.compiler import source
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.span import Span

from . import build, failures, units
from . import cache as cache_mod
from .cache import Cache
from .collaborators import Collaborators
from .ffmpeg import FfmpegError, last_frame
from .file_watch import FileWatch
from .isolated_render import IsolatedRenders
from .plan import Compiled, Keyed, Plan, PlanOptions, SectionParts, load
from .plan import assemble as assemble_lesson
from .pool import JobResult, RenderPool, default_jobs
from .render import resolve_settings
from .report import EXIT_LESSON_ERROR, EXIT_OK, say
from .safe_fs import UnsafePathError, safe_dir
from .soundtrack import Soundtrack
from .watch_server import HOST, PreviewHandler, PreviewServer, lesson_url, sse, still_url, video_url

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_PORT = 8765
DEFAULT_QUALITY = "low"
DEBOUNCE_SECONDS = 0.1


@dataclass(frozen=True)
class WatchOptions:
    port: int = DEFAULT_PORT  # 0: any free port
    quality: str = DEFAULT_QUALITY
    jobs: int | None = None  # worker processes (default: the number of cores)
    cache_dir: Path | None = None  # the render cache (default: build_root/.cache)
    build_root: Path = Path("build")
    debounce: float = DEBOUNCE_SECONDS  # saves closer than this are one change
    voice: str | None = None
    section_parts: SectionParts | None = None  # extra inputs of each section's hash


def _source_line(text: str | None, line: int) -> str | None:
    lines = (text or "").split("\n")
    return lines[line - 1].rstrip("\r")[:400] if text is not None and 1 <= line <= len(lines) else None


def _diag_json(d: Diagnostic, text: str | None) -> dict:
    out = d.to_json()
    out["source_line"] = _source_line(text, d.span.line)
    out["text"] = d.render(text)
    return out


@dataclass(frozen=True)
class _Version:
    """The lesson as saved now, keyed."""

    keyed: Keyed
    text: str
    warnings: tuple[Diagnostic, ...]

    @property
    def signature(self) -> tuple:
        """Equal for a save that changed nothing (or only touched the file)."""
        return (self.text, tuple(k.hash for k in self.keyed.keys.values()))


@dataclass(frozen=True)
class _Todo:
    """What a version needs made: changed sections first, in the order of the lesson."""

    sections: list[str]
    videos: frozenset[str] = field(default_factory=frozenset)
    stills: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class _Job:
    """One unit of one version, as a still or a video."""

    unit: units.Unit
    hash: str
    kind: str  # "still" | "video"
    text: str  # the lesson's source (failures are shown with its lines)
    soundtrack: Soundtrack


class Watcher:
    """The watch server: file watching, the build loop, the worker pool and the page
    (watch_server.Preview)."""

    def __init__(self, path: str | Path, options: WatchOptions | None = None, *,
                 console: Console | None = None, collaborators: Collaborators | None = None) -> None:
        self.options = options = options or WatchOptions()
        self.path = Path(path).resolve()
        self.display = str(path)
        self.settings = resolve_settings(options.quality)
        self.console = console
        self.collaborators = collaborators or Collaborators()
        self.jobs = max(1, options.jobs or default_jobs())
        self.build_root = Path(options.build_root)
        self.cache = Cache(options.cache_dir if options.cache_dir is not None
                           else build.default_cache_dir(self.build_root))
        self.log_dir = self.build_root / self.path.stem / "watch-logs"
        safe_dir(self.build_root, self.path.stem, "watch-logs")  # a link there: UnsafePathError

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._gen = 0  # bumped by every (debounced) change
        self._built = 0  # the generation last built (start() asks for generation 1)
        self._stopping = False
        self._last_input: tuple | None = None

        # what the page shows
        self.title = ""
        self.sections: list[dict] = []  # {"id", "title", "hash"} in order
        self.changed: list[str] = []
        self.errors: list[dict] = []
        self.failed: dict[str, dict] = {}  # hash -> {"id", "error"}
        self.lesson_key: str | None = None
        self.lesson_url: str | None = None
        self._inflight: dict[tuple[str, str], Future] = {}  # (hash, "still"|"video") -> job
        self._started: dict[str, float] = {}  # hash -> when its work was asked for
        self._event_id = 0
        self._clients: list[queue.Queue[str | None]] = []
        self.events: list[tuple[float, str, dict]] = []  # everything sent (for tests, bench)

        self.pool: RenderPool | None = None
        self.isolated: IsolatedRenders | None = None
        self._post = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lecture-post")
        self._files = FileWatch([self.path], self._kick, options.debounce)
        self._server: PreviewServer | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life cycle

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.server_address[1]}/"

    def start(self) -> str:
        """Start serving, watching and the first build; returns the page's URL."""
        self._server = PreviewServer((HOST, self.options.port), PreviewHandler)
        self._server.watcher = self
        self.pool = RenderPool(self.jobs, cwd=self.path.parent)
        self.isolated = IsolatedRenders(frozenset(), lambda: self.cache.run_dir / "isolated",
                                        (self.path.parent.resolve(), self.cache.root / "modules"))
        self._files.start()
        for target, name in ((self._server.serve_forever, "lecture-http"),
                             (self._build_loop, "lecture-build")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self._kick()
        return self.url

    def stop(self) -> None:
        """Stop everything: the workers are ended and this run's temporary files removed."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            self._cond.notify_all()
            clients = list(self._clients)
        for q in clients:
            q.put(None)
        self._files.stop()
        if self.pool is not None:
            self.pool.close()
        if self.isolated is not None:
            self.isolated.close()
        self._post.shutdown(wait=True, cancel_futures=True)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for t in self._threads:
            t.join(timeout=10)
        self.cache.close()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ the page (watch_server.Preview)

    @property
    def media_root(self) -> Path:
        return self.cache.root

    def snapshot(self) -> dict:
        """Everything the page shows, as the `state` event and `/state` give it."""
        with self._lock:
            sections = []
            for s in self.sections:
                h = s["hash"]
                video = self.cache.record(h) is not None
                still = self.cache.still(h) is not None
                fail = self.failed.get(h)
                sections.append({**s, "video": video_url(h) if video else None,
                                 "still": still_url(h) if still else None,
                                 "status": "ok" if video else "failed" if fail else "rendering",
                                 "error": fail["error"] if fail else None})
            return {"file": self.display, "title": self.title, "generation": self._built,
                    "sections": sections, "changed": list(self.changed),
                    "errors": list(self.errors), "lesson": self.lesson_url}

    def subscribe(self) -> tuple[queue.Queue[str | None], dict] | None:
        with self._lock:  # the snapshot and the subscription at once: no event is missed
            if self._stopping:
                return None
            q: queue.Queue[str | None] = queue.Queue()
            self._clients.append(q)
            return q, self.snapshot()

    def unsubscribe(self, events: queue.Queue[str | None]) -> None:
        with self._lock:
            if events in self._clients:
                self._clients.remove(events)

    def _say(self, text: str, style: str | None = None) -> None:
        say(self.console, text, style)

    def _emit(self, name: str, data: dict) -> None:
        with self._lock:
            self._event_id += 1
            self.events.append((time.monotonic(), name, data))
            payload = sse(name, data, self._event_id)
            for q in self._clients:
                q.put(payload)

    # ------------------------------------------------------------ the build loop

    def _kick(self) -> None:
        with self._cond:
            self._gen += 1
            self._cond.notify_all()

    def _build_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._gen == self._built:
                    self._cond.wait()
                if self._stopping:
                    return
                gen = self._gen
            try:
                self._cycle(gen)
            except Exception as exc:  # noqa: BLE001 - a bug must not end the watch
                self._say(f"lecture watch: internal error: {type(exc).__name__}: {exc}", "red")
                if os.environ.get("LECTURE_DEBUG"):
                    import traceback

                    traceback.print_exc()
            with self._cond:
                self._built = gen

    def _plan(self) -> Plan:
        o = self.options
        return Plan(self.path, PlanOptions(self.settings, build.compile_module, self.build_root,
                                           voice=o.voice, section_parts=o.section_parts),
                    self.collaborators)

    def _cycle(self, gen: int) -> None:
        """One build of the lesson as saved now: the plan's stages up to compile, then its
        units as jobs (their results come back in _job_done)."""
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
            return
        compiled = self._compile(gen, plan, version, todo)
        if compiled is None:
            return
        self._last_input = version.signature  # (only now: a cycle cut short is done again)
        self._submit_all(gen, version, compiled, todo)

    def _read(self) -> source.Source | None:
        for _ in range(20):  # a save by rename can leave no file for a moment
            try:  # named as given on the command line, like `lecture check` names it
                return source.decode(self.path.read_bytes(), self.display)
            except OSError:
                time.sleep(0.05)
        return None

    def _key(self, plan: Plan) -> _Version | None:
        """The plan's load, narrate and key stages (errors: shown, None)."""
        try:
            src = self._read()
            if src is None:  # on the page too, over the last good videos, until it is back
                self._show_errors([self._gone()], None)
                return None
            loaded = load(src, self.path.parent)
        except DiagnosticError as exc:
            self._show_errors(exc.diagnostics, exc.source)
            return None
        lesson, text = loaded.lesson, loaded.source.text
        self._files.set_files([self.path, *(p for s in lesson.sections
                                            for p in cache_mod.section_files(s, self.path.parent))])
        # Narration as in `lecture render`: only new or edited sentences are spoken, and the
        # timed lesson (steps as long as their speech) is what is hashed and compiled.
        narrated = plan.narrate(lesson)
        if narrated.soundtrack is None:
            self._show_errors(list(narrated.diagnostics), text)
            return None
        keyed = plan.key(narrated.lesson, narrated.soundtrack)
        return _Version(keyed, text, (*loaded.diagnostics, *narrated.diagnostics))

    def _publish(self, gen: int, version: _Version) -> list[str] | None:
        """The new version on the page (its errors gone, its sections); the sections that
        changed, or None when it is the version already shown."""
        was_errors = bool(self.errors)
        if version.signature == self._last_input and not was_errors:
            return None  # saved without a change (or only touched)
        if was_errors:
            with self._lock:
                self.errors = []
            self._emit("clean", {"generation": gen})
            self._say(f"{self.display}: no errors", "green")
        for d in version.warnings:
            self._say(d.render(version.text), "yellow")
        return self._show_sections(gen, version.keyed)

    def _show_sections(self, gen: int, keyed: Keyed) -> list[str]:
        """The sections and which changed; work for older versions of them is cancelled."""
        new = [{"id": s.id, "title": s.title.value, "hash": keyed.keys[s.id].hash}
               for s in keyed.lesson.sections]
        with self._lock:
            old = {s["id"]: s["hash"] for s in self.sections}
            changed = [s["id"] for s in new if old.get(s["id"]) != s["hash"]]
            structure = [s["id"] for s in new] != list(old)
            self.title = keyed.lesson.title.value
            if changed or structure or not self.sections:
                self.sections = new
                self.changed = changed
            current = {s["hash"] for s in new}
            stale = [f for k, f in self._inflight.items() if k[0] not in current]
        if changed or structure:
            self._emit("sections", {"sections": self.snapshot()["sections"], "changed": changed,
                                    "title": self.title, "generation": gen})
            if changed:
                self._say(f"{self.display}: changed: {', '.join(changed)}")
        for fut in stale:  # an older version of a section: no longer wanted
            if self.pool is not None:
                self.pool.cancel(fut)
        return changed

    def _todo(self, version: _Version, changed: list[str]) -> _Todo:
        """What has to be made; the stills of cached videos are taken from them meanwhile."""
        keys = version.keyed.keys
        order = changed + [s.id for s in version.keyed.lesson.sections if s.id not in changed]
        videos: set[str] = set()
        stills: set[str] = set()
        extract: list[str] = []
        for sid in order:
            h = keys[sid].hash
            with self._lock:
                if h in self.failed:
                    continue
                busy_video, busy_still = (h, "video") in self._inflight, (h, "still") in self._inflight
            has_video = self.cache.record(h) is not None
            if not has_video and not busy_video:
                videos.add(sid)
            if self.cache.still(h) is None and not busy_still:
                if has_video:
                    extract.append(sid)
                else:
                    stills.add(sid)
        for sid in extract:
            self._post.submit(self._extract_still, sid, keys[sid].hash)
        self._maybe_assemble()
        return _Todo([sid for sid in order if sid in videos or sid in stills],
                     frozenset(videos), frozenset(stills))

    def _compile(self, gen: int, plan: Plan, version: _Version, todo: _Todo) -> Compiled | None:
        """The plan's resolve and compile stages for the sections to make (lesson errors:
        shown, None; None too when a newer save came in meanwhile)."""
        t0 = time.monotonic()
        resolved = plan.resolve(version.keyed, todo.sections, self.console)
        if not resolved.ok:
            self._show_errors(list(resolved.diagnostics), version.text)
            return None
        if self.isolated is not None:  # sections drawing custom elements render isolated
            self.isolated.sections = resolved.isolated
        try:
            compiled = plan.compile(version.keyed, resolved, todo.sections)
        except DiagnosticError as exc:
            self._show_errors(exc.diagnostics, exc.source or version.text)
            return None
        except build.CompilerMissing as exc:
            self._say(f"error: {exc}", "red")
            return None
        with self._cond:
            if self._gen != gen or self._stopping:
                return None  # a newer save came in while compiling: its cycle takes over
        for sid, diags in compiled.failures.items():
            failure = failures.from_compile(sid, diags, log_path=self.log_dir / f"{sid}.log")
            self._section_failed(sid, version.keyed.keys[sid].hash, failure, version.text)
        n = len(compiled.module.scenes)
        self._say(f"  compiled {n} section{'s' if n != 1 else ''} in {time.monotonic() - t0:.2f}s")
        return compiled

    def _gone(self) -> Diagnostic:
        """The error shown while the lesson file is missing (deleted, or renamed away)."""
        return Diagnostic("error", f"{self.path.name} was deleted or renamed; the preview shows the "
                          "last good version", Span.point(self.display, 1, 1),
                          f"save {self.path.name} again (or rename it back) and the preview "
                          "continues", "lesson-file-missing")

    def _show_errors(self, diagnostics: Sequence[Diagnostic], text: str | None) -> None:
        errors = [_diag_json(d, text) for d in diagnostics if d.severity == "error"] or \
            [_diag_json(d, text) for d in diagnostics]
        with self._lock:
            same = errors == self.errors
            self.errors = errors
            self._last_input = None
        if same:
            return
        for d in diagnostics:
            self._say(d.render(text), "red" if d.severity == "error" else "yellow")
        self._emit("errors", {"errors": errors})

    # ------------------------------------------------------------ the render units, as jobs

    def _submit_all(self, gen: int, version: _Version, compiled: Compiled, todo: _Todo) -> None:
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
            h = version.keyed.keys[sid].hash
            with self._lock:
                self._started.setdefault(h, time.monotonic())
            for kind, wanted, order in (("still", todo.stills, 0), ("video", todo.videos, 1)):
                if sid in wanted:
                    self._submit(_Job(unit, h, kind, version.text, version.keyed.soundtrack),
                                 (-gen, order, rank))

    def _submit(self, job: _Job, priority: tuple) -> None:
        assert self.pool is not None
        sid, label = job.unit.section, f"{job.unit.section}-{job.kind}"
        ws = units.workspace(self.cache.job_dir(label), self.isolated, sid, label)
        log = (ws.worker_dir or ws.job_dir) / "log.txt"
        spec = job.unit.job(self.settings, ws.media_dir, self.path.parent, still=job.kind == "still")
        if job.kind == "video":
            self._say(f"  rendering {sid}…")
        with self._lock:
            if self._stopping:
                return
            fut = ws.pool(self.pool, self.isolated).submit(spec, log_path=log, priority=priority)
            self._inflight[(job.hash, job.kind)] = fut
        fut.add_done_callback(lambda f: self._post_submit(self._job_done, job, ws, log, f))

    def _post_submit(self, fn: Callable[..., None], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # shutting down
            self._post.submit(fn, *args)

    def _is_current(self, h: str) -> bool:
        """Whether `h` is a section of the lesson as last built (while the file has errors,
        that is the last good version: its videos keep coming to the page)."""
        with self._lock:
            return any(s["hash"] == h for s in self.sections)

    def _job_done(self, job: _Job, ws: units.Workspace, log: Path, fut: Future) -> None:
        try:
            result: JobResult = fut.result()
            with self._lock:
                if self._inflight.get((job.hash, job.kind)) is fut:
                    del self._inflight[(job.hash, job.kind)]
            if result.cancelled or self._stopping:
                return
            if ws.worker_dir is not None:  # out of the isolated scratch, never via a link
                result, taken_log = ws.collect(result, log)
                os.replace(taken_log, ws.job_dir / "log.txt")
            spent = time.monotonic() - self._started.get(job.hash, time.monotonic())
            output = result.output
            if output is not None and job.kind == "still":
                self._still_done(job, output, spent)
            elif output is not None:
                self._video_done(job, ws, output, result.seconds, spent)
            else:
                self._job_failed(job, ws, result)
        finally:
            ws.remove()

    def _still_done(self, job: _Job, image: Path, spent: float) -> None:
        sid, h = job.unit.section, job.hash
        self.cache.put_still(h, image)
        if self._is_current(h):
            self._emit("still", {"id": sid, "hash": h, "url": still_url(h), "seconds": round(spent, 3)})
            self._say(f"  ✓ {sid}: still in {spent:.2f}s", "green")

    def _video_done(self, job: _Job, ws: units.Workspace, movie: Path, seconds: float,
                    spent: float) -> None:
        sid, h = job.unit.section, job.hash
        _, info = units.store_video(self.cache, h, sid, movie, soundtrack=job.soundtrack,  # with its voice
                                    work=ws.job_dir,
                                    record={"render_seconds": round(seconds, 3), "preview": True})
        if self.cache.still(h) is None and (h, "still") not in self._inflight:
            self._extract_still(sid, h, quiet=True)
        if self._is_current(h):
            self._emit("updated", {"id": sid, "hash": h, "video": video_url(h),
                                   "still": still_url(h) if self.cache.still(h) else None,
                                   "duration": info.duration, "seconds": round(spent, 3)})
            self._say(f"  ✓ {sid}: rendered in {spent:.2f}s ({info.duration:.2f}s of video)", "green")
        self._maybe_assemble()

    def _job_failed(self, job: _Job, ws: units.Workspace, result: JobResult) -> None:
        """A failure: reported once per version of the section."""
        sid = job.unit.section
        with self._lock:
            if job.hash in self.failed:
                return
        log_path = self.log_dir / f"{sid}.log"
        with contextlib.suppress(OSError):
            cache_mod.place(ws.job_dir / "log.txt", log_path)
        failure = units.diagnose(job.unit, result, ws, log=log_path,
                                 tex_log=self.log_dir / f"{sid}.tex.log", lesson_file=str(self.path))
        self._section_failed(sid, job.hash, failure, job.text)

    def _section_failed(self, sid: str, h: str, failure: failures.RenderFailure,
                        text: str | None) -> None:
        rendered = failure.render(text)
        with self._lock:
            self.failed[h] = {"id": sid, "error": rendered}
        # the other job of this version is pointless now
        for kind in ("still", "video"):
            fut = self._inflight.get((h, kind))
            if fut is not None and self.pool is not None:
                self.pool.cancel(fut)
        self._say(f"  ✗ {sid} failed", "red")
        self._say(rendered, "red")
        if self._is_current(h):
            self._emit("failed", {"id": sid, "hash": h, "error": rendered,
                                  "diagnostic": failure.diagnostic.to_json()})

    def _extract_still(self, sid: str, h: str, quiet: bool = False) -> None:
        """The last frame of a cached video (made by `lecture render`, which makes no stills)."""
        work = self.cache.job_dir(f"{sid}-frame")
        try:
            out = last_frame(self.cache.video_path(h), work / "still.png")
            if out.is_file():
                self.cache.put_still(h, out)
                if not quiet and self._is_current(h):
                    self._emit("still", {"id": sid, "hash": h, "url": still_url(h)})
        except (FfmpegError, OSError):
            pass
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _maybe_assemble(self) -> None:
        """When every section has its video: the plan's assemble stage (the lesson video,
        cached by its sections)."""
        with self._lock:
            if self._stopping or not self.sections:
                return
            hashes = [s["hash"] for s in self.sections]
        if any(self.cache.record(h) is None for h in hashes):
            return
        key = cache_mod.lesson_key(hashes, self.settings.fps)
        with self._lock:
            if key == self.lesson_key:
                return
            self.lesson_key = key
        try:
            assemble_lesson(self.cache, [self.cache.video_path(h) for h in hashes], hashes,
                            fps=self.settings.fps)
        except (FfmpegError, OSError) as exc:
            self._say(f"  could not assemble the lesson video: {exc}", "red")
            with self._lock:
                self.lesson_key = None
            return
        with self._lock:
            if self.lesson_key != key:
                return
            self.lesson_url = lesson_url(key)
        self._emit("lesson", {"video": self.lesson_url})
        self._say("  ✓ lesson video assembled", "green")


# ---------------------------------------------------------------- entry points


def watch(path: str | Path, options: WatchOptions | None = None, *, console: Console | None = None,
          collaborators: Collaborators | None = None) -> int:
    """Watch a lesson and serve its live preview until Ctrl-C (or SIGTERM). Returns 0 when
    stopped, 2 when it cannot start (no such file, the port is taken, a bad quality)."""
    options = options or WatchOptions()
    path = Path(path)
    if not path.is_file():
        say(console, f"error: {path}: no such file", "red")
        return EXIT_LESSON_ERROR
    try:
        watcher = Watcher(path, options, console=console, collaborators=collaborators)
    except (ValueError, UnsafePathError) as exc:
        say(console, f"error: {exc}", "red")
        return EXIT_LESSON_ERROR
    try:
        url = watcher.start()
    except OSError as exc:
        watcher.stop()
        say(console, f"error: cannot serve on {HOST}:{options.port}: {exc.strerror or exc}", "red")
        return EXIT_LESSON_ERROR
    say(console, f"watching {path} at {url} (Ctrl-C to stop)", "bold")
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while True:
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass
    finally:
        say(console, "stopping…")
        watcher.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    say(console, "stopped")
    return EXIT_OK


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """`python -m lecture.runtime.watch FILE [--port P] [--quality Q] [--jobs N] ...`"""
    ap = argparse.ArgumentParser(prog="python -m lecture.runtime.watch")
    ap.add_argument("file")
    ap.add_argument("--port", type=int, default=DEFAULT_PORT)
    ap.add_argument("-q", "--quality", default=DEFAULT_QUALITY,
                    choices=["low", "medium", "high", "4k"])
    ap.add_argument("-j", "--jobs", type=int, default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--build-dir", default="build")
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return watch(args.file, WatchOptions(port=args.port, quality=args.quality, jobs=args.jobs,
                                         cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                                         build_root=Path(args.build_dir)))


if __name__ == "__main__":
    sys.exit(main())
