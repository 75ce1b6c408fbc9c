"""Render failures as lesson diagnostics.

A section that fails to render is reported like a check error, at the `.lecture` line and
column of the node whose generated code failed, never as a raw traceback: the innermost
traceback frame inside the generated module is looked up in the source map (the way
Jinja reports template errors at template lines). LaTeX errors quote the TeX log's
relevant lines (the `!` message and the `l.N` context). The raw log stays on disk and the
diagnostic names it.

The worker's typed failure (worker_result.WorkerFailure) gives the traceback frames when
there are some; otherwise, for a crash or a hang, the raw log is searched for them.

`is_latex` and `is_missing_file` say what kind of failure a worker's failure or a
diagnostic is, and `one_line` shortens a message (the auto-fixer in agents/ uses them too).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.sourcemap import SourceMap, SourceMapEntry
from lecture.compiler.span import Span

from .tex import tex_log_errors
from .worker_result import TraceFrame, WorkerFailure

_FRAME_RE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>\S+))?')
_TEX_LOG_RE = re.compile(r"the log file: (?P<log>\S+\.log)")


@dataclass(frozen=True)
class RenderFailure:
    """A failed section, mapped back to the lesson."""

    section_id: str
    diagnostic: Diagnostic
    node: str | None  # the source map entry's node path, when one was found
    generated_line: int | None  # the line of the generated module that failed
    tex_errors: tuple[str, ...] = ()
    log: str | None = None
    notes: tuple[str, ...] = ()  # printed under the diagnostic: TeX lines, log paths

    def render(self, source: str | None = None) -> str:
        """The diagnostic as the checker prints it, then the notes."""
        return "\n".join([self.diagnostic.render(source), *(f"  {n}" for n in self.notes)])

    @property
    def summary(self) -> str:
        """One line for the manifest: `file:line:col: message`."""
        d = self.diagnostic
        return f"{d.span.file}:{d.span.line}:{d.span.column}: {d.message}"

    def to_json(self) -> dict:
        return {"section": self.section_id, "node": self.node,
                "generated_line": self.generated_line, "tex_errors": list(self.tex_errors),
                "log": self.log, "notes": list(self.notes),
                "diagnostic": self.diagnostic.to_json()}


def _same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def generated_frames(frames: Iterable[TraceFrame], module_path: str | Path) -> list[int]:
    """Line numbers of the frames inside the generated module, outermost first."""
    module = str(module_path)
    return [f.line for f in frames if f.file and f.line and _same_file(f.file, module)]


def frames_from_log(text: str) -> list[TraceFrame]:
    """Traceback frames found in a raw log (the last traceback's, outermost first)."""
    start = text.rfind("Traceback (most recent call last)")
    chunk = text[start:] if start >= 0 else text
    return [TraceFrame(m["file"], int(m["line"]), m["func"]) for m in _FRAME_RE.finditer(chunk)]


def tex_errors(message: str, log_text: str = "") -> tuple[tuple[str, ...], str | None]:
    """TeX's error lines ('!' lines and their `l.N` context) for a LaTeX failure, and the
    TeX log's path when one is named: from the log the message names, else from the
    message itself (a TexError carries what TeX said, see runtime/tex.py)."""
    m = _TEX_LOG_RE.search(message) or _TEX_LOG_RE.search(log_text)
    path = m["log"] if m else None
    try:
        said = tex_log_errors(Path(path).read_text(encoding="utf-8", errors="replace")) if path else ()
    except OSError:
        said = ()
    return said or tex_log_errors(message), path


def is_latex(failure: WorkerFailure | Diagnostic) -> bool:
    """Whether LaTeX could not typeset a formula: a worker's TeX error, or a diagnostic that
    says so (a render's, by its code, or a compile's, by its message)."""
    if isinstance(failure, Diagnostic):
        text = failure.message.lower()
        return failure.code == "render-latex" or "latex" in text or "tex " in text
    msg = failure.message
    return failure.type in ("ValueError", "TexError") and (
        msg.startswith("LaTeX error:")
        or "error converting to" in msg and ("latex" in msg.lower() or "tex" in msg.lower()))


def is_missing_file(failure: WorkerFailure | Diagnostic) -> bool:
    """Whether a file an element needs could not be read: a worker's error opening it, or a
    diagnostic that says so (by its code or its message)."""
    if isinstance(failure, Diagnostic):
        text = failure.message.lower()
        return failure.code in ("render-missing-file", "missing-image") or "not found" in text \
            or "no such file" in text or "missing" in text or "cannot identify image" in text
    msg = failure.message
    return failure.type in ("FileNotFoundError", "OSError", "IOError") and (
        "could not find" in msg or "No such file" in msg or failure.type == "FileNotFoundError")


def _section_span(source_map: SourceMap, section_id: str, fallback: Span | None) -> Span | None:
    if fallback is not None:
        return fallback
    entries = [e for e in source_map.entries if e.section == section_id]
    if not entries:
        return None
    widest = max(entries, key=lambda e: e.last_line - e.first_line)
    return widest.span


def one_line(message: str, limit: int = 300) -> str:
    """A message on one line, cut after `limit` characters (for a diagnostic or a record)."""
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit] + " …"


def _missing_path(message: str) -> str | None:
    m = re.search(r"could not find (\S+) at", message) or re.search(r"'([^']+)'", message)
    return m.group(1) if m else None


def _read_log(log_path: str | Path | None) -> str:
    if log_path is None:
        return ""
    try:
        return Path(log_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _locate(failure: WorkerFailure, log_text: str, source_map: SourceMap,
            module_path: str | Path) -> tuple[SourceMapEntry | None, int | None]:
    """The source map entry of the innermost frame in the generated module that the map
    knows about, and that frame's line (the innermost generated line when none is known)."""
    frames: Iterable[TraceFrame] = failure.frames
    if not failure.frames and log_text:
        frames = frames_from_log(log_text)
    lines = generated_frames(frames, module_path)
    # An exception raised while handling another keeps the first one's frames as cause.
    if not lines and failure.cause is not None:
        lines = generated_frames(failure.cause.frames, module_path)
    for line in reversed(lines):
        entry = source_map.lookup(line)
        if entry is not None:
            return entry, line
    return None, lines[-1] if lines else None


@dataclass(frozen=True)
class _Description:
    text: str
    code: str
    hint: str | None = None
    tex: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _describe(failure: WorkerFailure, where: str, log_text: str) -> _Description:
    """What went wrong, in words, with its diagnostic code."""
    message = failure.message
    if is_latex(failure):
        tex, tex_log = tex_errors(message, log_text)
        first = next((t for t in tex if t.startswith("!")), None)
        text = f"LaTeX could not typeset this formula while rendering {where}"
        if first:
            text += f": {first.lstrip('! ').rstrip('.')}"
        notes = ["TeX says:", *("    " + t for t in tex)] if tex else []
        if tex_log:
            notes.append(f"TeX log: {tex_log}")
        return _Description(text, "render-latex", "check the braces and commands of the formula",
                            tex, tuple(notes))
    if is_missing_file(failure):
        missing = _missing_path(message)
        return _Description(f"a file this element needs is missing while rendering {where}"
                            + (f": {missing}" if missing else ""), "render-missing-file",
                            "paths are relative to the lesson file's folder; the file may have been "
                            "moved or deleted after the lesson was checked")
    if failure.kind == "timeout":
        return _Description(f"rendering {where} took too long and was stopped", "render-timeout")
    if failure.kind in ("crash", "internal"):
        return _Description(f"rendering {where} failed: {one_line(message)}", f"render-{failure.kind}")
    return _Description(f"rendering {where} failed: {failure.type}: {one_line(message)}",
                        "render-exception")


def diagnose(section_id: str, failure: WorkerFailure, *, source_map: SourceMap,
             module_path: str | Path, log_path: str | Path | None = None,
             section_span: Span | None = None, lesson_file: str = "<lesson>") -> RenderFailure:
    """Turn the worker's failure for one section into a diagnostic at the lesson node."""
    log_text = _read_log(log_path)
    entry, gen_line = _locate(failure, log_text, source_map, module_path)
    span = entry.span if entry is not None else _section_span(source_map, section_id,
                                                                 section_span)
    if span is None:
        span = Span.point(lesson_file, 1, 1)
    node = entry.node if entry is not None else None
    described = _describe(failure, f"section '{section_id}'", log_text)
    text = described.text + (f" (in {node})" if node else "")
    notes = list(described.notes)
    if log_path is not None:
        notes.append(f"full log: {log_path}")
    diag = Diagnostic("error", text, span, described.hint, described.code)
    return RenderFailure(section_id, diag, node, gen_line, described.tex,
                         str(log_path) if log_path is not None else None, tuple(notes))


def from_compile(section_id: str, diagnostics: list[Diagnostic], *,
                 log_path: str | Path | None = None) -> RenderFailure:
    """A section that failed while being compiled: the compiler builds real mobjects to
    measure them, so a formula LaTeX rejects or an unreadable image already fails there,
    with a diagnostic at the element. Manim's "see log output above" is replaced by the TeX
    log's own error lines; everything is also written to the section's log file."""
    first = diagnostics[0]
    message = first.message
    tex: tuple[str, ...] = ()
    tex_log: str | None = None
    m = _TEX_LOG_RE.search(message)
    if m:
        tex, tex_log = tex_errors(message)
        head = message[: message.lower().find("latex error")].rstrip(": ") \
            if "latex error" in message.lower() else message
        bang = next((t for t in tex if t.startswith("!")), None)
        message = f"{head}: LaTeX error" + (f": {bang.lstrip('! ').rstrip('.')}" if bang else "")
    diag = Diagnostic(first.severity, message, first.span, first.hint, first.code or
                      "build-failed")
    notes: list[str] = []
    if tex:
        notes.append("TeX says:")
        notes.extend("    " + t for t in tex)
    if tex_log:
        notes.append(f"TeX log: {tex_log}")
    if log_path is not None:
        log_path = Path(log_path)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        parts = [f"# lecture: section {section_id!r} failed while compiling\n"]
        parts += [d.render() + "\n" for d in diagnostics]
        if tex_log:
            try:
                parts.append(f"\n# TeX log {tex_log}:\n"
                             + Path(tex_log).read_text(encoding="utf-8", errors="replace"))
            except OSError:
                pass
        log_path.write_text("".join(parts), encoding="utf-8")
        notes.append(f"full log: {log_path}")
    others = [d for d in diagnostics[1:]]
    for d in others:
        notes.append(f"also: {d.span.file}:{d.span.line}:{d.span.column}: {d.message}")
    return RenderFailure(section_id, diag, None, None, tuple(tex),
                         str(log_path) if log_path is not None else None, tuple(notes))
