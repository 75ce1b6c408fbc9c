"""Auto-fix at node scope: a render failure -> a repair of the one node that caused it.

A failed section comes back from the renderer as a `runtime.failures.RenderFailure` whose
diagnostic carries the span of the lesson node the source map named (or, for a failure
while compiling, the element's span). `autofix` maps that span to its element and
repairs that node alone:

- `math` whose LaTeX fails -> a lowering override "math-as-text": the same string shown
  as plain text (a warning says so);
- `image` whose file is missing or unreadable -> an override "image-placeholder": a
  framed box with the file's name (warning);
- `custom` -> back to the Coder with the error (its traceback), its own code and its
  own scope (description, box, theme, neighbours' boxes: never the whole lesson), for
  at most `tries_left` answers (3 per node per build with `AutoFixer`). Accepted code
  replaces that node's lock entry, and nothing else in the lock file changes. When no
  answer is accepted (or no model is configured), an override "placeholder": the framed
  box with its description, and a warning naming it;
- any other node: no safe repair; an error at the node's line says so.

The lesson file is never changed. Every call returns a `Repair` whose `record` (node,
error, action, tries, tokens) belongs in the build manifest (`AutoFixer.records`).

The compiler applies overrides by (section id, element id): see `Override`. Wiring (in
build.py, after a section fails): repair = fixer.fix(failure); if repair.ok, compile
again with fixer.overrides and the lock's code, and render that section again; stop when
it renders or `fix` returns ok=False.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Element, Lesson, Section
from lecture.compiler.span import Span
from lecture.runtime.failures import is_latex, is_missing_file

from .custom_nodes import CustomCode, CustomNode, collect_custom_nodes, description_of
from .lockfile import ConcurrentEditError, LockFile, LockFileError, lock_path, utc_now

DEFAULT_MAX_TRIES = 3
MAX_TRACEBACK_CHARS = 4000

MATH_AS_TEXT = "math-as-text"
IMAGE_PLACEHOLDER = "image-placeholder"
PLACEHOLDER = "placeholder"
NEW_CODE = "code"
NO_REPAIR = "none"


@dataclass(frozen=True)
class Override:
    """A change to how the compiler lowers one element, for this build only.

    kind "math-as-text": lower the math element as plain text of `text` (its LaTeX
    source) with the math font size and colour; "image-placeholder": a framed box of the
    element's size with `text` (the image's path) inside; "placeholder": a custom
    element's placeholder (scene_support.placeholder) with `text` (its description)."""

    kind: str
    section: str
    element: str
    text: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "section": self.section, "element": self.element, "text": self.text}


@dataclass
class RepairRecord:
    """One repair, for the manifest."""

    section: str | None
    element: str | None
    kind: str | None  # the element's kind
    line: int
    column: int
    error: str  # the failure, one line
    action: str  # code | math-as-text | image-placeholder | placeholder | none
    ok: bool
    tries: int = 0  # Coder answers used
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str | None = None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict:
        return {"section": self.section, "element": self.element, "kind": self.kind, "line": self.line,
                "column": self.column, "error": self.error, "action": self.action, "ok": self.ok,
                "tries": self.tries, "tokens": {"prompt": self.prompt_tokens,
                                                "completion": self.completion_tokens, "total": self.tokens},
                "model": self.model}


@dataclass
class Repair:
    action: str
    ok: bool  # True: compile and render the section again with this repair applied
    section: str | None
    element: str | None
    record: RepairRecord
    code: str | None = None  # new code of a custom element (saved in the lock when lock_written)
    override: Override | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # a warning, or the error
    lock_written: bool = False


# ------------------------------------------------------------------ mapping a failure

def _contains(span: Span, line: int, column: int) -> bool:
    if not span.line:
        return False
    return (span.line, span.column) <= (line, column) < (span.end_line, span.end_column) \
        or (span.line, span.column) == (line, column)


def node_at(lesson: Lesson, span: Span,
            section_id: str | None = None) -> tuple[Section | None, Element | None]:
    """The section and element a failure's span points into (element None: a step, a
    line, the section itself)."""
    line, column = span.line, span.column
    sections = [s for s in lesson.sections if section_id is None or s.id == section_id] \
        or list(lesson.sections)
    for section in sections:
        for el in section.elements:
            if _contains(el.span, line, column):
                return section, el
    for section in sections:
        if _contains(section.span, line, column):
            return section, None
    return (lesson.section(section_id) if section_id else None), None


def failure_parts(failure: Any) -> tuple[Diagnostic, str | None, str | None]:
    """(diagnostic, section id, log path) of a RenderFailure or a Diagnostic."""
    if isinstance(failure, Diagnostic):
        return failure, None, None
    return failure.diagnostic, getattr(failure, "section_id", None), getattr(failure, "log", None)


def traceback_from_log(log: str | None) -> str:
    """The last traceback of a render log (its tail), or ''."""
    if not log:
        return ""
    try:
        text = Path(log).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    start = text.rfind("Traceback (most recent call last)")
    chunk = text[start:] if start >= 0 else "\n".join(text.splitlines()[-40:])
    return chunk if len(chunk) <= MAX_TRACEBACK_CHARS else "…" + chunk[-MAX_TRACEBACK_CHARS:]


def error_text_of(failure: Any) -> str:
    """What the Coder is told: the diagnostic's message and notes, then the traceback."""
    diag, _, log = failure_parts(failure)
    parts = [diag.message]
    parts += [n for n in getattr(failure, "notes", ()) if not n.startswith("full log")]
    tb = traceback_from_log(log)
    if tb:
        parts.append(tb)
    return "\n".join(parts)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " …"


# ------------------------------------------------------------------ the repair

def autofix(failure: Any, *, lesson: Lesson, lesson_path: str | Path, error_text: str | None = None,
            custom: CustomCode | None = None, client_config: Any = None, usage: Any = None,
            coder: Any = None, tries_left: int = DEFAULT_MAX_TRIES, console: Any = None,
            base_dir: Path | None = None, measure: bool = True, now: Any = None) -> Repair:
    """Repair the node a render failure points at; see the module docstring.

    failure: a runtime.failures.RenderFailure (or a Diagnostic at the node); error_text:
    what the Coder is told (default: the message, the notes and the log's traceback);
    custom: the CustomCode of this build (default: the nodes are collected again);
    coder: a ready coder.Coder (default: one from client_config's coder model, if any);
    tries_left: Coder answers this node may still use."""
    diag, section_id, _ = failure_parts(failure)
    section, el = node_at(lesson, diag.span, section_id)
    line, column = diag.span.line, diag.span.column
    message = _one_line(diag.message)
    if el is not None:
        line, column = el.span.line, el.span.column

    def record(action: str, ok: bool, **kw: Any) -> RepairRecord:
        return RepairRecord(section.id if section else section_id, el.id if el else None,
                            el.kind if el else None, line, column, message, action, ok, **kw)

    def warning(text: str, hint: str | None = None, code: str = "autofix") -> Diagnostic:
        return Diagnostic("warning", text, el.span if el is not None else diag.span, hint, code)

    def no_repair(why: str) -> Repair:
        span = el.span if el is not None else diag.span
        d = Diagnostic("error", f"no automatic repair: {why}", span, diag.hint, "autofix-none")
        return Repair(NO_REPAIR, False, section.id if section else section_id, el.id if el else None,
                      record(NO_REPAIR, False), diagnostics=[d])

    if el is None or section is None:
        what = f"section '{section.id}'" if section else "the lesson"
        return no_repair(f"the failure is not inside an element of {what} ({message})")

    if el.kind == "math" and is_latex(diag):
        tex = el.texts[0].value if el.texts else ""
        ov = Override(MATH_AS_TEXT, section.id, el.id, tex)
        w = warning(f"LaTeX could not typeset formula '{el.id}'; it is shown as plain text instead",
                    "check the braces and commands of the formula", "autofix-math-as-text")
        return Repair(MATH_AS_TEXT, True, section.id, el.id, record(MATH_AS_TEXT, True), override=ov,
                      diagnostics=[w])

    if el.kind == "image" and (is_missing_file(diag) or diag.code == "build-failed"):
        rel = el.texts[0].value if el.texts else ""
        ov = Override(IMAGE_PLACEHOLDER, section.id, el.id, rel)
        w = warning(f"image '{el.id}' ({rel}) cannot be read; a placeholder box is shown instead",
                    "paths are relative to the lesson file's folder", "autofix-image-placeholder")
        return Repair(IMAGE_PLACEHOLDER, True, section.id, el.id, record(IMAGE_PLACEHOLDER, True),
                      override=ov, diagnostics=[w])

    if el.kind != "custom":
        return no_repair(f"{el.kind} '{el.id}' failed and no safe repair exists for it ({message})")

    # ---- a custom element: its own code goes back to the Coder
    lesson_path = Path(lesson_path)
    node: CustomNode | None = custom.node(section.id, el.id) if custom is not None else None
    if node is None:
        found = [n for n in collect_custom_nodes(lesson, base_dir=base_dir or lesson_path.resolve().parent,
                                                 measure=measure)
                 if n.section == section.id and n.element == el.id]
        node = found[0] if found else None
    description = description_of(el)

    def placeholder(why: str, **kw: Any) -> Repair:
        ov = Override(PLACEHOLDER, section.id, el.id, description)
        w = warning(f"custom element '{el.id}' still fails ({why}); a placeholder with its description is "
                    "shown instead", "run `lecture lock --update` with a model, or simplify the description",
                    "autofix-placeholder")
        return Repair(PLACEHOLDER, True, section.id, el.id, record(PLACEHOLDER, False, **kw), override=ov,
                      diagnostics=[w])

    path = lock_path(lesson_path)
    try:
        lock = LockFile.load(path)
    except LockFileError as exc:
        return placeholder(f"the lock file cannot be read: {exc}")
    entry = lock.get(node.key) if node is not None else None
    code = (node.code if node is not None and node.code else None) or (entry.code if entry else None)
    if node is None or code is None:
        return placeholder("it has no code to repair")
    if tries_left <= 0:
        return placeholder(f"{DEFAULT_MAX_TRIES} tries of the Coder are used up")
    if coder is None:
        if client_config is None or not client_config.for_agent("coder").configured:
            return placeholder("no model is configured to repair it")
        from .client import make_client
        from .coder import Coder
        from .config import AgentError

        try:
            coder = Coder(make_client(client_config, "coder", usage), console=console)
        except AgentError as exc:
            return placeholder(f"the Coder cannot start: {exc}")

    error = error_text if error_text is not None else error_text_of(failure)
    res = coder.fix(node.task(lesson.title.value), code, error, max_tries=tries_left)
    usage_kw = {"tries": res.tries, "prompt_tokens": res.prompt_tokens,
                "completion_tokens": res.completion_tokens, "model": res.model or None}
    if not res.ok or not res.code:
        last = res.errors[0].splitlines()[0] if res.errors else res.message
        return placeholder(f"the Coder's {res.tries} tr{'ies' if res.tries != 1 else 'y'} were rejected: "
                           f"{_one_line(last, 200)}", **usage_kw)

    # Only this node's entry changes.
    from .lockfile import LockEntry, rounded_box

    old = lock.get(node.key)
    lock.set(node.key, LockEntry(node.section, node.element, node.description, node.placement,
                                 rounded_box(node.box), node.theme.name, res.code,
                                 res.model or (old.model if old else ""), (now or utc_now)(), res.tries,
                                 res.prompt_tokens, res.completion_tokens))
    written, diagnostics = False, []
    try:
        written = lock.save()
    except (ConcurrentEditError, OSError) as exc:
        diagnostics.append(Diagnostic("warning", f"the repaired code of '{el.id}' is used for this build but "
                                      f"not saved: {exc}", Span.point(str(path), 1, 1), code="lock-changed"))
    node.code, node.origin, node.entry = res.code, "coder", lock.get(node.key)
    diagnostics.insert(0, warning(f"custom element '{el.id}' failed to render ({_one_line(message, 160)}); "
                                  f"the Coder repaired it in {res.tries} "
                                  f"tr{'ies' if res.tries != 1 else 'y'}",
                                  code="autofix-code"))
    return Repair(NEW_CODE, True, section.id, el.id, record(NEW_CODE, True, **usage_kw), code=res.code,
                  diagnostics=diagnostics, lock_written=written)


class AutoFixer:
    """Auto-fix across one build: at most `max_tries` Coder answers per custom node in
    all, the overrides to compile with, and every repair's record for the manifest."""

    def __init__(self, lesson: Lesson, lesson_path: str | Path, *, custom: CustomCode | None = None,
                 client_config: Any = None, usage: Any = None, coder: Any = None,
                 max_tries: int = DEFAULT_MAX_TRIES, console: Any = None, measure: bool = True,
                 now: Any = None) -> None:
        self.lesson, self.lesson_path = lesson, Path(lesson_path)
        self.custom, self.client_config, self.usage = custom, client_config, usage
        self.coder, self.max_tries, self.console = coder, max_tries, console
        self.measure, self.now = measure, now
        self.used: dict[tuple[str | None, str | None], int] = {}
        self.records: list[RepairRecord] = []
        self.overrides: dict[tuple[str, str], Override] = {}

    def fix(self, failure: Any, error_text: str | None = None) -> Repair:
        diag, section_id, _ = failure_parts(failure)
        section, el = node_at(self.lesson, diag.span, section_id)
        key = (section.id if section else section_id, el.id if el else None)
        if key in self.overrides:  # its replacement fails too: nothing safe is left to try
            span = el.span if el is not None else diag.span
            rec = RepairRecord(key[0], key[1], el.kind if el else None, span.line, span.column,
                               _one_line(diag.message), NO_REPAIR, False)
            d = Diagnostic("error", f"no automatic repair: '{key[1]}' fails even as a "
                           f"{self.overrides[key].kind} ({rec.error})", span, None, "autofix-none")
            repair = Repair(NO_REPAIR, False, key[0], key[1], rec, diagnostics=[d])
            self.records.append(rec)
            return repair
        repair = autofix(failure, lesson=self.lesson, lesson_path=self.lesson_path, error_text=error_text,
                         custom=self.custom, client_config=self.client_config, usage=self.usage,
                         coder=self.coder, tries_left=self.max_tries - self.used.get(key, 0),
                         console=self.console, measure=self.measure, now=self.now)
        self.used[key] = self.used.get(key, 0) + repair.record.tries
        if repair.override is not None:
            self.overrides[(repair.override.section, repair.override.element)] = repair.override
        self.records.append(repair.record)
        return repair

    def to_json(self) -> list[dict]:
        return [r.to_json() for r in self.records]
