"""`lecture watch`: re-render what changed on every save and show it live in a browser.

    watch(path, port=8765, quality="low")       # blocks until Ctrl-C; returns 0

It watches the lesson file (and the images it shows) with watchdog, through their folders,
so editors that save by writing a new file and renaming it over the old one keep being
followed; saves in quick succession are taken as one (100 ms). On each change the lesson
is parsed and checked:

- with errors, they are printed and sent to the page, which shows them over the last good
  videos (file:line:col, message, the source line) until the next clean save; a lesson
  file that is deleted or renamed away is such an error too, until it is back;
- clean, each section's content hash (cache.py) says which sections changed; only those
  are compiled and rendered, at preview quality, newest save first: work for a version of
  a section that is no longer current is cancelled. A section's still (its last frame,
  rendered with the animations skipped, which is quick) is rendered before its video.

The page (on 127.0.0.1 only) lists the sections in order, each with its latest video and
still, and the whole lesson's video once every section is there; it hears of changes by
server-sent events (`/events`) and reloads only what changed: the section just changed is
scrolled into view and played.

Events (each `data:` is JSON): `state` (everything; the first event of every
connection), `sections` (the list of sections and the ids that changed), `still`,
`updated` (a section's new video), `failed` (a section could not be rendered), `errors`,
`clean` (the errors are gone), `lesson` (the assembled lesson video).

Tests and tools can run a `Watcher` in their own process (`start()` returns the URL,
`stop()` ends it) or run `python -m lecture.runtime.watch FILE --port 0`, which prints
`watching FILE at http://127.0.0.1:PORT/` first.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from lecture.compiler import frontend, source
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.span import Span

from . import build, failures
from . import cache as cache_mod
from .cache import Cache
from .custom_parts import CustomParts
from .isolated_render import IsolatedRenders, take_out
from .pool import JobResult, RenderPool, default_jobs
from .render import probe, resolve_settings
from .safe_fs import UnsafePathError, safe_dir
from .soundtrack import prepare_soundtrack

DEFAULT_PORT = 8765
DEFAULT_QUALITY = "low"
DEBOUNCE_SECONDS = 0.1
HOST = "127.0.0.1"  # never anything else: the page and the files are for this machine only

_MEDIA_RE = re.compile(r"^/media/(sections|lessons)/([0-9a-f]{8,64})\.(mp4|png)$")
_WATCHED_EVENTS = {"created", "modified", "moved", "deleted", "closed"}


def _source_line(text: str | None, line: int) -> str | None:
    lines = (text or "").split("\n")
    return lines[line - 1].rstrip("\r")[:400] if text is not None and 1 <= line <= len(lines) else None


def _diag_json(d: Diagnostic, text: str | None) -> dict:
    out = d.to_json()
    out["source_line"] = _source_line(text, d.span.line)
    out["text"] = d.render(text)
    return out


class Watcher:
    """The watch server: file watching, the build loop, the worker pool and the page."""

    def __init__(self, path: str | Path, *, port: int = DEFAULT_PORT,
                 quality: str = DEFAULT_QUALITY, console: Any = None, jobs: int | None = None,
                 cache_dir: str | Path | None = None, build_root: str | Path = "build",
                 debounce: float = DEBOUNCE_SECONDS,
                 section_parts: build.SectionParts | None = None, voice: str | None = None) -> None:
        self.path = Path(path).resolve()
        self.display = str(path)
        self.port = port
        self.settings = resolve_settings(quality)
        self.console = console
        self.jobs = max(1, jobs or default_jobs())
        self.build_root = Path(build_root)
        self.cache = Cache(cache_dir if cache_dir is not None
                           else build.default_cache_dir(build_root))
        self.log_dir = self.build_root / self.path.stem / "watch-logs"
        safe_dir(self.build_root, self.path.stem, "watch-logs")  # a link there: UnsafePathError
        self.debounce = debounce
        self.section_parts = section_parts
        self.voice = voice

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._gen = 0  # bumped by every (debounced) change
        self._built = 0  # the generation last built (start() asks for generation 1)
        self._stopping = False
        self._timer: threading.Timer | None = None
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
        self._clients: list[queue.Queue] = []
        self.events: list[tuple[float, str, dict]] = []  # everything sent (for tests, bench)

        self.pool: RenderPool | None = None
        self.isolated: IsolatedRenders | None = None
        self._post = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lecture-post")
        self._observer = None
        self._watches: dict[str, Any] = {}  # folder -> watchdog watch
        self._watched: set[str] = {str(self.path)}
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life cycle

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.server_address[1]}/"

    def start(self) -> str:
        """Start serving, watching and the first build; returns the page's URL."""
        from watchdog.observers import Observer

        self._server = _Server((HOST, self.port), _Handler)
        self._server.watcher = self  # type: ignore[attr-defined]
        self.pool = RenderPool(self.jobs, cwd=self.path.parent)
        self.isolated = IsolatedRenders(frozenset(), self.cache.run_dir / "isolated",
                                        (self.path.parent.resolve(), self.cache.root / "modules"))
        self._observer = Observer()
        self._watch_folder(self.path.parent)
        self._observer.start()
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
            if self._timer is not None:
                self._timer.cancel()
            self._cond.notify_all()
            clients = list(self._clients)
        for q in clients:
            q.put(None)
        if self._observer is not None:
            self._observer.stop()
            with contextlib.suppress(RuntimeError):
                self._observer.join(timeout=5)
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

    # ------------------------------------------------------------ output

    def _say(self, text: str, style: str | None = None) -> None:
        build._plain(self.console, text, style)

    def _emit(self, name: str, data: dict) -> None:
        with self._lock:
            self._event_id += 1
            self.events.append((time.monotonic(), name, data))
            payload = f"id: {self._event_id}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
            for q in self._clients:
                q.put(payload)

    def snapshot(self) -> dict:
        """Everything the page shows, as the `state` event and `/state` give it."""
        with self._lock:
            sections = []
            for s in self.sections:
                h = s["hash"]
                video = self.cache.record(h) is not None
                still = self.cache.still(h) is not None
                fail = self.failed.get(h)
                sections.append({**s, "video": _video_url(h) if video else None,
                                 "still": _still_url(h) if still else None,
                                 "status": "ok" if video else "failed" if fail else "rendering",
                                 "error": fail["error"] if fail else None})
            return {"file": self.display, "title": self.title, "generation": self._built,
                    "sections": sections, "changed": list(self.changed),
                    "errors": list(self.errors), "lesson": self.lesson_url}

    # ------------------------------------------------------------ file watching

    def _watch_folder(self, folder: Path) -> None:
        key = str(folder.resolve())
        if key in self._watches or self._observer is None:
            return
        with contextlib.suppress(OSError):
            self._watches[key] = self._observer.schedule(_FileEvents(self), key, recursive=False)

    def _set_watched_files(self, files: list[Path]) -> None:
        wanted = {str(self.path)} | {str(f) for f in files}
        folders = {str(Path(f).parent) for f in wanted}
        with self._lock:
            self._watched = wanted
        for folder in folders:
            self._watch_folder(Path(folder))
        for folder in list(self._watches):
            if folder not in folders and self._observer is not None:
                with contextlib.suppress(Exception):
                    self._observer.unschedule(self._watches.pop(folder))

    def _file_event(self, event: Any) -> None:
        if event.event_type not in _WATCHED_EVENTS:
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        with self._lock:
            hit = any(p and os.path.abspath(os.fsdecode(p)) in self._watched for p in paths)
            if not hit:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self._kick)
            self._timer.daemon = True
            self._timer.start()

    def _kick(self) -> None:
        with self._cond:
            self._gen += 1
            self._cond.notify_all()

    # ------------------------------------------------------------ the build loop

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

    def _read(self) -> source.Source | None:
        for _ in range(20):  # a save by rename can leave no file for a moment
            try:  # named as given on the command line, like `lecture check` names it
                return source.decode(self.path.read_bytes(), self.display)
            except OSError:
                time.sleep(0.05)
        return None

    def _cycle(self, gen: int) -> None:
        try:
            src = self._read()
            if src is None:  # on the page too, over the last good videos, until it is back
                self._show_errors([self._gone()], None)
                return
            loaded = frontend.load_source(src, base_dir=self.path.parent)
        except DiagnosticError as exc:
            self._show_errors(exc.diagnostics, exc.source)
            return
        lesson, text = loaded.lesson, loaded.source.text
        files = [p for s in lesson.sections for p in cache_mod.section_files(s, self.path.parent)]
        self._set_watched_files(files)
        # Narration as in `lecture render`: only new or edited sentences are spoken, and the
        # timed lesson (steps as long as their speech) is what is hashed and compiled.
        lesson, soundtrack, spoken = prepare_soundtrack(
            lesson, voice=self.voice, strict=False, build_root=self.build_root, sections=None,
            fps=self.settings.fps)
        if soundtrack is None:
            self._show_errors(spoken, text)
            return
        custom = CustomParts(lesson, self.path)

        def parts(lesson_, section) -> dict:
            out = dict(self.section_parts(lesson_, section)) if self.section_parts else {}
            return {**out, **soundtrack.section_parts(section.id), **custom.section_parts(section)}

        keys = build.section_keys(lesson, self.settings, base_dir=self.path.parent,
                                  section_parts=parts)
        signature = (text, tuple(k.hash for k in keys.values()))
        was_errors = bool(self.errors)
        if signature == self._last_input and not was_errors:
            return  # saved without a change (or only touched)
        if was_errors:
            with self._lock:
                self.errors = []
            self._emit("clean", {"generation": gen})
            self._say(f"{self.display}: no errors", "green")
        for d in [*loaded.diagnostics, *spoken]:  # warnings
            self._say(d.render(text), "yellow")

        new = [{"id": s.id, "title": s.title.value, "hash": keys[s.id].hash}
               for s in lesson.sections]
        with self._lock:
            old = {s["id"]: s["hash"] for s in self.sections}
            changed = [s["id"] for s in new if old.get(s["id"]) != s["hash"]]
            structure = [s["id"] for s in new] != list(old)
            self.title = lesson.title.value
            if changed or structure or not self.sections:
                self.sections = new
                self.changed = changed
            current = {s["hash"] for s in new}
            stale = [(k, f) for k, f in self._inflight.items() if k[0] not in current]
        if changed or structure:
            self._emit("sections", {"sections": self.snapshot()["sections"], "changed": changed,
                                    "title": self.title, "generation": gen})
            if changed:
                self._say(f"{self.display}: changed: {', '.join(changed)}")
        for _, fut in stale:  # an older version of a section: no longer wanted
            if self.pool is not None:
                self.pool.cancel(fut)

        # What has to be made: changed sections first, in the order of the lesson.
        order = changed + [s["id"] for s in new if s["id"] not in changed]
        need_video, need_still, extract = [], [], []
        for sid in order:
            h = keys[sid].hash
            with self._lock:
                failed = h in self.failed
                busy_video = (h, "video") in self._inflight
                busy_still = (h, "still") in self._inflight
            if failed:
                continue
            has_video = self.cache.record(h) is not None
            has_still = self.cache.still(h) is not None
            if not has_video and not busy_video:
                need_video.append(sid)
            if not has_still and not busy_still:
                if has_video:
                    extract.append(sid)
                else:
                    need_still.append(sid)
        for sid in extract:
            self._post.submit(self._extract_still, sid, keys[sid].hash)
        self._maybe_assemble()
        todo = [sid for sid in order if sid in need_video or sid in need_still]
        if not todo:
            self._last_input = signature
            return
        t_compile = time.monotonic()
        functions = custom.resolve(self.console, sections=todo)
        if functions is None:
            self._show_errors(custom.diagnostics, text)
            return
        compile_fn = build.compile_module
        if functions:
            compile_fn = functools.partial(compile_fn, custom_functions=functions)
        if self.isolated is not None:  # sections drawing custom elements render isolated
            self.isolated.sections = frozenset(sid for sid, _eid in functions)
        try:
            compiled, compile_failures = build.compile_sections(
                lesson, compile_fn, base_dir=self.path.parent,
                fps=self.settings.fps, sections=todo)
        except DiagnosticError as exc:
            self._show_errors(exc.diagnostics, exc.source or text)
            return
        except build.CompilerMissing as exc:
            self._say(f"error: {exc}", "red")
            return
        with self._cond:
            if self._gen != gen or self._stopping:
                return  # a newer save came in while compiling: its cycle takes over
        for sid, diags in compile_failures.items():
            failure = failures.from_compile(sid, diags, log_path=self.log_dir / f"{sid}.log")
            self._section_failed(sid, keys[sid].hash, failure, text)
        module = self.cache.module(compiled.code) if compiled.code else None
        scenes = {s.section_id: s for s in compiled.scenes}
        self._say(f"  compiled {len(scenes)} section{'s' if len(scenes) != 1 else ''} "
                  f"in {time.monotonic() - t_compile:.2f}s")
        self._last_input = signature  # (only now: a cycle cut short is done again)
        for rank, sid in enumerate(todo):
            scene = scenes.get(sid)
            if scene is None or module is None:
                continue
            h = keys[sid].hash
            ctx = {"sid": sid, "hash": h, "text": text, "module": module,
                   "source_map": compiled.source_map, "gen": gen, "soundtrack": soundtrack,
                   "span": lesson.section(sid).span if lesson.section(sid) else None}
            with self._lock:
                self._started.setdefault(h, time.monotonic())
            if sid in need_still:
                self._submit(ctx, scene.class_name, "still", (-gen, 0, rank))
            if sid in need_video:
                self._submit(ctx, scene.class_name, "video", (-gen, 1, rank))

    def _gone(self) -> Diagnostic:
        """The error shown while the lesson file is missing (deleted, or renamed away)."""
        return Diagnostic("error", f"{self.path.name} was deleted or renamed; the preview shows the "
                          "last good version", Span.point(self.display, 1, 1),
                          f"save {self.path.name} again (or rename it back) and the preview "
                          "continues", "lesson-file-missing")

    def _show_errors(self, diagnostics: list[Diagnostic], text: str | None) -> None:
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

    # ------------------------------------------------------------ jobs

    def _submit(self, ctx: dict, class_name: str, kind: str, priority: tuple) -> None:
        assert self.pool is not None
        job_dir = self.cache.job_dir(f"{ctx['sid']}-{kind}")
        pool, work = self.pool, job_dir
        if self.isolated is not None and ctx["sid"] in self.isolated:
            pool, work = self.isolated.pool(), self.isolated.job_dir(f"{ctx['sid']}-{kind}").resolve()
            ctx = {**ctx, "worker_dir": work}
        log = work / "log.txt"
        job = {"module": str(ctx["module"]), "scene": class_name, "section": ctx["sid"],
               "width": self.settings.width, "height": self.settings.height,
               "fps": self.settings.fps, "media_dir": str(work / "media"),
               "still": kind == "still", "cwd": str(self.path.parent)}
        if kind == "video":
            self._say(f"  rendering {ctx['sid']}…")
        with self._lock:
            if self._stopping:
                return
            fut = pool.submit(job, log_path=log, priority=priority)
            self._inflight[(ctx["hash"], kind)] = fut
        fut.add_done_callback(lambda f: self._post_submit(self._job_done, ctx, kind, job_dir, f))

    def _post_submit(self, fn, *args) -> None:
        with contextlib.suppress(RuntimeError):  # shutting down
            self._post.submit(fn, *args)

    def _is_current(self, h: str) -> bool:
        """Whether `h` is a section of the lesson as last built (while the file has errors,
        that is the last good version: its videos keep coming to the page)."""
        with self._lock:
            return any(s["hash"] == h for s in self.sections)

    def _job_done(self, ctx: dict, kind: str, job_dir: Path, fut: Future) -> None:
        sid, h = ctx["sid"], ctx["hash"]
        try:
            result: JobResult = fut.result()
            with self._lock:
                if self._inflight.get((h, kind)) is fut:
                    del self._inflight[(h, kind)]
            if result.cancelled or self._stopping:
                return
            if ctx.get("worker_dir") is not None:  # out of the isolated scratch, never via a link
                result, taken_log = take_out(result, ctx["worker_dir"], job_dir,
                                             ctx["worker_dir"] / "log.txt")
                os.replace(taken_log, job_dir / "log.txt")
            spent = time.monotonic() - self._started.get(h, time.monotonic())
            if result.ok and kind == "still" and result.result.get("image"):
                self.cache.put_still(h, Path(result.result["image"]))
                if self._is_current(h):
                    self._emit("still", {"id": sid, "hash": h, "url": _still_url(h),
                                         "seconds": round(spent, 3)})
                    self._say(f"  ✓ {sid}: still in {spent:.2f}s", "green")
                return
            if result.ok and kind == "video" and result.result.get("movie"):
                movie = Path(result.result["movie"])
                movie = ctx["soundtrack"].add_to_section(sid, movie, job_dir / "audio")  # with its voice
                info = probe(movie)
                self.cache.put_video(h, movie, {
                    "section": sid, "duration": info.duration, "frames": info.frames,
                    "width": info.width, "height": info.height, "fps": info.fps,
                    "render_seconds": round(result.seconds, 3), "preview": True,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
                if self.cache.still(h) is None and (h, "still") not in self._inflight:
                    self._extract_still(sid, h, quiet=True)
                if self._is_current(h):
                    self._emit("updated", {"id": sid, "hash": h, "video": _video_url(h),
                                           "still": _still_url(h) if self.cache.still(h) else None,
                                           "duration": info.duration, "seconds": round(spent, 3)})
                    self._say(f"  ✓ {sid}: rendered in {spent:.2f}s "
                              f"({info.duration:.2f}s of video)", "green")
                self._maybe_assemble()
                return
            # a failure: report it once per version of the section
            with self._lock:
                if h in self.failed:
                    return
            log_path = self.log_dir / f"{sid}.log"
            with contextlib.suppress(OSError):
                cache_mod.place(job_dir / "log.txt", log_path)
            failed = build.keep_tex_logs(result.result, ctx.get("worker_dir") or job_dir,
                                         self.log_dir / f"{sid}.tex.log",
                                         isolated=ctx.get("worker_dir") is not None)
            failure = failures.diagnose(sid, failed, source_map=ctx["source_map"],
                                        module_path=ctx["module"], log_path=log_path,
                                        section_span=ctx["span"], lesson_file=str(self.path))
            self._section_failed(sid, h, failure, ctx["text"])
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)
            if ctx.get("worker_dir") is not None:
                shutil.rmtree(ctx["worker_dir"], ignore_errors=True)

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
        video = self.cache.video_path(h)
        work = self.cache.job_dir(f"{sid}-frame")
        try:
            out = work / "still.png"
            cp = subprocess.run(["ffmpeg", "-v", "error", "-y", "-sseof", "-0.5", "-i", str(video),
                                 "-update", "1", "-frames:v", "30", str(out)],
                                capture_output=True, timeout=60)
            if cp.returncode == 0 and out.is_file():
                self.cache.put_still(h, out)
                if not quiet and self._is_current(h):
                    self._emit("still", {"id": sid, "hash": h, "url": _still_url(h)})
        except (OSError, subprocess.SubprocessError):
            pass
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _maybe_assemble(self) -> None:
        """When every section has its video: the lesson video (cached by its sections)."""
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
        if self.cache.lesson_record(key) is None:
            from . import assemble

            work = self.cache.job_dir("lesson")
            try:
                info = assemble.concat([self.cache.video_path(h) for h in hashes],
                                       work / "lesson.mp4", fps=self.settings.fps)
                self.cache.put_lesson(key, work / "lesson.mp4",
                                      {"duration": info.duration, "frames": info.frames,
                                       "sections": hashes})
            except (assemble.AssembleError, OSError) as exc:
                self._say(f"  could not assemble the lesson video: {exc}", "red")
                with self._lock:
                    self.lesson_key = None
                return
            finally:
                shutil.rmtree(work, ignore_errors=True)
        with self._lock:
            if self.lesson_key != key:
                return
            self.lesson_url = f"/media/lessons/{key}.mp4"
        self._emit("lesson", {"video": self.lesson_url})
        self._say("  ✓ lesson video assembled", "green")


def _video_url(h: str) -> str:
    return f"/media/sections/{h}.mp4"


def _still_url(h: str) -> str:
    return f"/media/sections/{h}.png"


class _FileEvents:
    """A watchdog event handler that forwards to the watcher."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def dispatch(self, event: Any) -> None:
        self.watcher._file_event(event)


# ---------------------------------------------------------------- the HTTP side


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    watcher: Watcher


def page_html() -> str:
    return resources.files("lecture.runtime").joinpath("watch_page.html").read_text(encoding="utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _host_ok(self) -> bool:
        """Only pages of this server may talk to it (no DNS rebinding)."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        return host in ("127.0.0.1", "localhost", "")

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        w = self.server.watcher
        if not self._host_ok():
            self._send(HTTPStatus.FORBIDDEN, b"forbidden\n", "text/plain")
            return
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page_html().encode("utf-8"), "text/html; charset=utf-8",
                       {"Cache-Control": "no-store"})
        elif path == "/state":
            self._send(HTTPStatus.OK, json.dumps(w.snapshot()).encode(), "application/json",
                       {"Cache-Control": "no-store"})
        elif path == "/events":
            self._events(w)
        elif (m := _MEDIA_RE.match(path)) is not None:
            folder, name, ext = m.groups()
            self._file(w.cache.root / folder / f"{name}.{ext}",
                       "video/mp4" if ext == "mp4" else "image/png")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def _events(self, w: Watcher) -> None:
        q: queue.Queue = queue.Queue()
        with w._lock:
            if w._stopping:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"stopping\n", "text/plain")
                return
            w._clients.append(q)
            first = f"event: state\ndata: {json.dumps(w.snapshot())}\n\n"
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(b"retry: 1000\n\n" + first.encode())
            self.wfile.flush()
            while True:
                try:
                    item = q.get(timeout=15)
                except queue.Empty:
                    item = ": keep-alive\n\n"
                if item is None:
                    break
                self.wfile.write(item.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            with w._lock:
                if q in w._clients:
                    w._clients.remove(q)

    def _file(self, path: Path, ctype: str) -> None:
        # Only a regular file of the cache, never through a link (a cloned cache may hold
        # `sections/<hex>.mp4 -> ~/.ssh/id_rsa`): O_NOFOLLOW, and a regular file.
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            fd = -1
        if fd != -1 and not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            fd = -1
        if fd == -1:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        f = os.fdopen(fd, "rb")
        with f:
            size = os.fstat(f.fileno()).st_size
            start, end = 0, size - 1
            status = HTTPStatus.OK
            rng = self.headers.get("Range")
            m = re.match(r"bytes=(\d*)-(\d*)$", rng.strip()) if rng else None
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = int(m.group(2)) if m.group(2) else size - 1
                else:
                    start = max(0, size - int(m.group(2)))
                end = min(end, size - 1)
                if start > end:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = HTTPStatus.PARTIAL_CONTENT
            length = end - start + 1
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            f.seek(start)
            left = length
            try:
                while left > 0:
                    chunk = f.read(min(1 << 16, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass


# ---------------------------------------------------------------- entry points


def watch(path: str | Path, *, port: int = DEFAULT_PORT, quality: str = DEFAULT_QUALITY,
          console: Any = None, jobs: int | None = None, cache_dir: str | Path | None = None,
          build_root: str | Path = "build",
          section_parts: build.SectionParts | None = None, voice: str | None = None) -> int:
    """Watch a lesson and serve its live preview until Ctrl-C (or SIGTERM). Returns 0 when
    stopped, 2 when it cannot start (no such file, the port is taken, a bad quality)."""
    path = Path(path)
    if not path.is_file():
        build._plain(console, f"error: {path}: no such file", "red")
        return build.EXIT_LESSON_ERROR
    try:
        watcher = Watcher(path, port=port, quality=quality, console=console, jobs=jobs,
                          cache_dir=cache_dir, build_root=build_root,
                          section_parts=section_parts, voice=voice)
    except (ValueError, UnsafePathError) as exc:
        build._plain(console, f"error: {exc}", "red")
        return build.EXIT_LESSON_ERROR
    try:
        url = watcher.start()
    except OSError as exc:
        watcher.stop()
        build._plain(console, f"error: cannot serve on {HOST}:{port}: {exc.strerror or exc}", "red")
        return build.EXIT_LESSON_ERROR
    build._plain(console, f"watching {path} at {url} (Ctrl-C to stop)", "bold")
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while True:
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass
    finally:
        build._plain(console, "stopping…")
        watcher.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    build._plain(console, "stopped")
    return build.EXIT_OK


def _raise_interrupt(signum: int, frame: Any) -> None:
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
    return watch(args.file, port=args.port, quality=args.quality, jobs=args.jobs,
                 cache_dir=args.cache_dir, build_root=args.build_dir)


if __name__ == "__main__":
    sys.exit(main())
