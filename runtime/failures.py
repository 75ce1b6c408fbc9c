"""Render failures as lesson diagnostics.

A section that fails to render is reported like a check error, at the `.lecture` line and
column of the node whose generated code failed, never as a raw traceback: the innermost
traceback frame inside the generated module is looked up in the source map (the way
Jinja reports template errors at template lines). LaTeX errors quote the TeX log's
relevant lines (the `!` message and the `l.N` context). The raw log stays on disk and the
diagnostic names it.

The worker's structured failure (see `render._worker_failure`) is used when there is one;
otherwise, for a crash or a hang, the raw log is searched for traceback frames.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.sourcemap import SourceMap, SourceMapEntry
from lecture.compiler.span import Span

_FRAME_RE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>\S+))?')
_TEX_LOG_RE = re.compile(r"the log file: (?P<log>\S+\.log)")
_TEX_LINE_RE = re.compile(r"^l\.\d+")


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


def generated_frames(frames: list[dict], module_path: str | Path) -> list[int]:
    """Line numbers of the frames inside the generated module, outermost first."""
    module = str(module_path)
    return [int(f["line"]) for f in frames if f.get("file") and f.get("line")
            and _same_file(str(f["file"]), module)]


def frames_from_log(text: str) -> list[dict]:
    """Traceback frames found in a raw log (the last traceback's, outermost first)."""
    start = text.rfind("Traceback (most recent call last)")
    chunk = text[start:] if start >= 0 else text
    return [{"file": m["file"], "line": int(m["line"]), "function": m["func"]}
            for m in _FRAME_RE.finditer(chunk)]


def tex_errors(message: str, log_text: str = "") -> tuple[tuple[str, ...], str | None]:
    """The TeX log's error lines ('!' lines and their `l.N` context) for a LaTeX failure,
    and the TeX log's path; the message of Manim's ValueError names the log."""
    m = _TEX_LOG_RE.search(message) or _TEX_LOG_RE.search(log_text)
    if not m:
        return (), None
    path = m["log"]
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return (), path
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("!"):
            out.append(lines[i].rstrip())
            # TeX prints the context as `l.N <text before>` then the rest on the next line.
            for j in range(i + 1, min(i + 12, len(lines))):
                if lines[j].startswith("!"):
                    break
                if _TEX_LINE_RE.match(lines[j]):
                    context = lines[j].rstrip()
                    if j + 1 < len(lines) and lines[j + 1].strip():
                        context += " " + lines[j + 1].strip()
                    out.append(context)
                    i = j
                    break
        i += 1
    # The same error tends to repeat; keep the first few distinct lines.
    seen: list[str] = []
    for line in out:
        if line not in seen:
            seen.append(line)
    return tuple(seen[:6]), path


def _is_latex(failure: dict) -> bool:
    msg = failure.get("message", "")
    return failure.get("type") in ("ValueError", "TexError") and (
        "error converting to" in msg and ("latex" in msg.lower() or "tex" in msg.lower()))


def _is_missing_file(failure: dict) -> bool:
    msg = failure.get("message", "")
    return failure.get("type") in ("FileNotFoundError", "OSError", "IOError") and (
        "could not find" in msg or "No such file" in msg or failure.get("type")
        == "FileNotFoundError")


def _section_span(source_map: SourceMap, section_id: str, fallback: Span | None) -> Span | None:
    if fallback is not None:
        return fallback
    entries = [e for e in source_map.entries if e.section == section_id]
    if not entries:
        return None
    widest = max(entries, key=lambda e: e.last_line - e.first_line)
    return widest.span


def _short(message: str, limit: int = 300) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit] + " …"


def _missing_path(message: str) -> str | None:
    m = re.search(r"could not find (\S+) at", message) or re.search(r"'([^']+)'", message)
    return m.group(1) if m else None


def diagnose(section_id: str, failure: dict, *, source_map: SourceMap,
             module_path: str | Path, log_path: str | Path | None = None,
             section_span: Span | None = None, lesson_file: str = "<lesson>") -> RenderFailure:
    """Turn the worker's failure for one section into a diagnostic at the lesson node."""
    log_text = ""
    if log_path is not None:
        try:
            log_text = Path(log_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            log_text = ""
    frames = list(failure.get("frames") or [])
    if not frames and log_text:
        frames = frames_from_log(log_text)

    # The innermost frame in the generated module that the source map knows about.
    lines = generated_frames(frames, module_path)
    # An exception raised while handling another keeps the first one's frames as cause.
    cause = failure.get("cause")
    if not lines and cause:
        lines = generated_frames(cause.get("frames") or [], module_path)
    entry: SourceMapEntry | None = None
    gen_line: int | None = None
    for line in reversed(lines):
        entry = source_map.lookup(line)
        if entry is not None:
            gen_line = line
            break
    if gen_line is None and lines:
        gen_line = lines[-1]

    span = entry.span if entry is not None else _section_span(source_map, section_id,
                                                                 section_span)
    if span is None:
        span = Span.point(lesson_file, 1, 1)
    where = f"section '{section_id}'"
    node = entry.node if entry is not None else None

    message = failure.get("message", "") or ""
    kind = failure.get("kind")
    tex: tuple[str, ...] = ()
    hint: str | None = None
    notes: list[str] = []
    if _is_latex(failure):
        tex, tex_log = tex_errors(message, log_text)
        first = next((t for t in tex if t.startswith("!")), None)
        text = f"LaTeX could not typeset this formula while rendering {where}"
        if first:
            text += f": {first.lstrip('! ').rstrip('.')}"
        code = "render-latex"
        if tex:
            notes.append("TeX says:")
            notes.extend("    " + t for t in tex)
        hint = "check the braces and commands of the formula"
        if tex_log:
            notes.append(f"TeX log: {tex_log}")
    elif _is_missing_file(failure):
        missing = _missing_path(message)
        text = (f"a file this element needs is missing while rendering {where}"
                + (f": {missing}" if missing else ""))
        code = "render-missing-file"
        hint = ("paths are relative to the lesson file's folder; the file may have been "
                "moved or deleted after the lesson was checked")
    elif kind == "timeout":
        text = f"rendering {where} took too long and was stopped"
        code = "render-timeout"
    elif kind == "crash":
        text = f"rendering {where} failed: {_short(message)}"
        code = "render-crash"
    elif kind == "internal":
        text = f"rendering {where} failed: {_short(message)}"
        code = "render-internal"
    else:
        exc_type = failure.get("type", "Exception")
        text = f"rendering {where} failed: {exc_type}: {_short(message)}"
        code = "render-exception"
    if node:
        text += f" (in {node})"
    if log_path is not None:
        notes.append(f"full log: {log_path}")
    diag = Diagnostic("error", text, span, hint, code)
    return RenderFailure(section_id, diag, node, gen_line, tex,
                         str(log_path) if log_path is not None else None, tuple(notes))


def from_compile(section_id: str, diagnostics: list[Diagnostic], *,
                 log_path: str | Path | None = None) -> RenderFailure:
    """A section that failed while being compiled: the compiler builds real mobjects to
    measure them, so a formula LaTeX rejects or an unreadable image already fails there,
    with a diagnostic at the element. Manim's "see log output above" is replaced by the TeX
    log's own error lines; everything is also written to the section's log file."""
    first = diagnostics[0]
    message, tex, tex_log = first.message, (), None
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
