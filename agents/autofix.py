"""Auto-fix at node scope: a render failure -> a repair of the one node that caused it.

A failed section comes back from the renderer as a `runtime.failures.RenderFailure` whose
diagnostic carries the span of the lesson node the source map named (or, for a failure
while compiling, the element's span). `autofix` maps that span to its element and
repairs that node alone:

- `math` whose LaTeX fails -> first a lowering override "math-repaired" when
  compiler/tex_repair.py's deterministic repairs change it (`\\degree` -> `^\\circ`, braces
  balanced…); when that fails too (or none applies), "math-as-text": the formula made
  readable (symbols for commands, no braces) as ordinary text at the text size (a warning
  says so each time);
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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Element, Lesson, Section
from lecture.compiler.span import Span
from lecture.compiler.tex_repair import readable_tex, repair_tex
from lecture.compiler.tex_safety import tex_problems
from lecture.runtime.failures import is_latex, is_missing_file, one_line

from .custom_elements import CustomCode, CustomNode, collect_custom_nodes, description_of
from .lockfile import ConcurrentEditError, LockEntry, LockFile, LockFileError, lock_path, rounded_box, utc_now
from .prompt_files import fill, prompt

if TYPE_CHECKING:  # the Coder's module (and its model client) is imported only to repair custom code
    from .coder import Coder, CoderResult

DEFAULT_MAX_TRIES = 3
MAX_TRACEBACK_CHARS = 4000

MATH_AS_TEXT = "math-as-text"
MATH_REPAIRED = "math-repaired"
MATH_MODEL = "math-model"  # its override kind is "math-model:TEX", the model's formula
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


# ------------------------------------------------------------------ the repair

def _no_repair(diag: Diagnostic, span: Span, section_id: str | None, el: Element | None, message: str,
               why: str, hint: str | None) -> Repair:
    """An error at `span` saying why nothing is repaired, and its record."""
    rec = RepairRecord(section_id, el.id if el else None, el.kind if el else None, span.line, span.column,
                       message, NO_REPAIR, False)
    d = Diagnostic("error", f"no automatic repair: {why}", span, hint, "autofix-none")
    return Repair(NO_REPAIR, False, section_id, el.id if el else None, rec, diagnostics=[d])


@dataclass(frozen=True)
class _Target:
    """The element a failure points into, and how every repair of it is reported."""

    diag: Diagnostic
    section: Section
    el: Element
    message: str  # the failure, one line

    def record(self, action: str, ok: bool, **kw: Any) -> RepairRecord:
        return RepairRecord(self.section.id, self.el.id, self.el.kind, self.el.span.line,
                            self.el.span.column, self.message, action, ok, **kw)

    def warning(self, text: str, hint: str | None = None, code: str = "autofix") -> Diagnostic:
        return Diagnostic("warning", text, self.el.span, hint, code)

    def no_repair(self, why: str) -> Repair:
        return _no_repair(self.diag, self.el.span, self.section.id, self.el, self.message, why,
                          self.diag.hint)

    def override(self, kind: str, text: str, warning: Diagnostic, record_ok: bool = True,
                 **kw: Any) -> Repair:
        """A repair by a lowering override of this element."""
        return Repair(kind, True, self.section.id, self.el.id, self.record(kind, record_ok, **kw),
                      override=Override(kind, self.section.id, self.el.id, text), diagnostics=[warning])

    def math_as_text(self) -> Repair:
        """The last resort: the formula as readable text at the text size (tex_repair.readable_tex)."""
        tex = self.el.texts[0].value if self.el.texts else ""
        return self.override(MATH_AS_TEXT, tex, self.warning(
            f"LaTeX could not typeset formula '{self.el.id}'; it is shown as plain text instead "
            f"({readable_tex(tex)!r})", "check the braces and commands of the formula",
            "autofix-math-as-text"))

    def math_repaired(self) -> Repair | None:
        """First: the deterministic repairs (tex_repair.repair_tex), when any applies."""
        tex = self.el.texts[0].value if self.el.texts else ""
        fixed = repair_tex(tex)
        if fixed == tex:
            return None
        return self.override(MATH_REPAIRED, fixed, self.warning(
            f"LaTeX could not typeset formula '{self.el.id}'; it is shown repaired as ${fixed}$",
            f"write ${fixed}$ in the lesson", "autofix-math-repaired"))

    def image_placeholder(self) -> Repair:
        rel = self.el.texts[0].value if self.el.texts else ""
        return self.override(IMAGE_PLACEHOLDER, rel, self.warning(
            f"image '{self.el.id}' ({rel}) cannot be read; a placeholder box is shown instead",
            "paths are relative to the lesson file's folder", "autofix-image-placeholder"))

    def placeholder(self, why: str, **kw: Any) -> Repair:
        """A custom element that stays broken: its description in a framed box."""
        return self.override(PLACEHOLDER, description_of(self.el), self.warning(
            f"custom element '{self.el.id}' still fails ({why}); a placeholder with its description is "
            "shown instead", "run `lecture lock --update` with a model, or simplify the description",
            "autofix-placeholder"), record_ok=False, **kw)


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
    message = one_line(diag.message)
    if el is None or section is None:
        what = f"section '{section.id}'" if section else "the lesson"
        return _no_repair(diag, el.span if el is not None else diag.span,
                          section.id if section else section_id, el, message,
                          f"the failure is not inside an element of {what} ({message})", diag.hint)
    target = _Target(diag, section, el, message)
    if el.kind == "math" and is_latex(diag):
        return target.math_repaired() or _model_formula(target, client_config, usage) or target.math_as_text()
    if el.kind == "image" and (is_missing_file(diag) or diag.code == "build-failed"):
        return target.image_placeholder()
    if el.kind != "custom":
        return target.no_repair(f"{el.kind} '{el.id}' failed and no safe repair exists for it ({message})")

    # A custom element: its own code goes back to the Coder.
    lesson_path = Path(lesson_path)
    node = _custom_node(target, lesson, custom, base_dir or lesson_path.resolve().parent, measure)
    path = lock_path(lesson_path)
    try:
        lock = LockFile.load(path)
    except LockFileError as exc:
        return target.placeholder(f"the lock file cannot be read: {exc}")
    entry = lock.get(node.key) if node is not None else None
    code = (node.code if node is not None and node.code else None) or (entry.code if entry else None)
    if node is None or code is None:
        return target.placeholder("it has no code to repair")
    if tries_left <= 0:
        return target.placeholder(f"{DEFAULT_MAX_TRIES} tries of the Coder are used up")
    if coder is None:
        coder = _start_coder(client_config, usage, console)
        if isinstance(coder, str):
            return target.placeholder(coder)
    error = error_text if error_text is not None else error_text_of(failure)
    res = coder.fix(node.task(lesson.title.value), code, error, max_tries=tries_left)
    return _take_answer(target, node, lock, path, res, now)


def _formula_of(answer: str) -> str:
    """The formula of a model's answer: between the first pair of dollars, else its first line."""
    body = answer.strip().strip("`").strip()
    match = re.search(r"\$\$?([^$]+)\$\$?", body)
    return (match.group(1) if match else body.splitlines()[0] if body else "").strip()


def _model_formula(target: _Target, client_config: Any, usage: Any) -> Repair | None:
    """The formula repaired by the Planner's model at this node's scope (the formula and TeX's
    error, nothing else), when a model is configured and its answer passes the TeX allowlist."""
    if client_config is None or not client_config.for_agent("planner").configured:
        return None
    from .client import make_client
    from .config import AgentError

    tex = target.el.texts[0].value if target.el.texts else ""
    messages = [{"role": "user", "content": fill(prompt("formula_fix"), tex=tex, error=target.message)}]
    try:
        reply = make_client(client_config, "planner", usage).chat(messages, temperature=0, max_tokens=400)
    except AgentError:
        return None
    fixed = repair_tex(_formula_of(reply.text))
    if not fixed or fixed == tex or "\n" in fixed or tex_problems(fixed):
        return None
    el = target.el
    warning = target.warning(f"LaTeX could not typeset formula '{el.id}'; the model repaired it as ${fixed}$",
                             f"write ${fixed}$ in the lesson", "autofix-math-model")
    record = target.record(MATH_MODEL, True, tries=1, prompt_tokens=reply.prompt_tokens,
                           completion_tokens=reply.completion_tokens, model=reply.model or None)
    return Repair(MATH_MODEL, True, target.section.id, el.id, record,
                  override=Override(f"{MATH_MODEL}:{fixed}", target.section.id, el.id, fixed),
                  diagnostics=[warning])


def _custom_node(target: _Target, lesson: Lesson, custom: CustomCode | None, base_dir: Path,
                 measure: bool) -> CustomNode | None:
    """The failed element's node: from this build's CustomCode, else collected again."""
    section, element = target.section.id, target.el.id
    node = custom.node(section, element) if custom is not None else None
    if node is None:
        found = [n for n in collect_custom_nodes(lesson, base_dir=base_dir, measure=measure)
                 if n.section == section and n.element == element]
        node = found[0] if found else None
    return node


def _start_coder(client_config: Any, usage: Any, console: Any) -> Coder | str:
    """A Coder from the configured coder model, or why there is none (a str)."""
    if client_config is None or not client_config.for_agent("coder").configured:
        return "no model is configured to repair it"
    from .client import make_client
    from .coder import Coder
    from .config import AgentError

    try:
        return Coder(make_client(client_config, "coder", usage), console=console)
    except AgentError as exc:
        return f"the Coder cannot start: {exc}"


def _take_answer(target: _Target, node: CustomNode, lock: LockFile, path: Path, res: CoderResult,
                 now: Any) -> Repair:
    """The Coder's accepted code into this node's lock entry (only that entry changes); a
    placeholder when none was accepted."""
    usage_kw = {"tries": res.tries, "prompt_tokens": res.prompt_tokens,
                "completion_tokens": res.completion_tokens, "model": res.model or None}
    if not res.ok or not res.code:
        last = res.errors[0].splitlines()[0] if res.errors else res.message
        return target.placeholder(f"the Coder's {res.tries} tr{'ies' if res.tries != 1 else 'y'} were "
                                  f"rejected: {one_line(last, 200)}", **usage_kw)
    old = lock.get(node.key)
    lock.set(node.key, LockEntry(node.section, node.element, node.description, node.placement,
                                 rounded_box(node.box), node.theme.name, res.code,
                                 res.model or (old.model if old else ""), (now or utc_now)(), res.tries,
                                 res.prompt_tokens, res.completion_tokens))
    el = target.el
    written, diagnostics = False, []
    try:
        written = lock.save()
    except (ConcurrentEditError, OSError) as exc:
        diagnostics.append(Diagnostic("warning", f"the repaired code of '{el.id}' is used for this build but "
                                      f"not saved: {exc}", Span.point(str(path), 1, 1), code="lock-changed"))
    node.code, node.origin, node.entry = res.code, "coder", lock.get(node.key)
    diagnostics.insert(0, target.warning(
        f"custom element '{el.id}' failed to render ({one_line(target.message, 160)}); the Coder "
        f"repaired it in {res.tries} tr{'ies' if res.tries != 1 else 'y'}", code="autofix-code"))
    return Repair(NEW_CODE, True, target.section.id, el.id, target.record(NEW_CODE, True, **usage_kw),
                  code=res.code, diagnostics=diagnostics, lock_written=written)


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
        kind = self.overrides[key].kind if key in self.overrides else ""
        if kind.startswith((MATH_REPAIRED, MATH_MODEL)) and section and el:
            # the repaired formula fails too: the model (once), then the readable last resort
            target = _Target(diag, section, el, one_line(diag.message))
            model = _model_formula(target, self.client_config, self.usage) if kind == MATH_REPAIRED else None
            repair = model or target.math_as_text()
            if repair.override is not None:
                self.overrides[(section.id, el.id)] = repair.override
            self.records.append(repair.record)
            return repair
        if key in self.overrides:  # its replacement fails too: nothing safe is left to try
            message = one_line(diag.message)
            repair = _no_repair(diag, el.span if el is not None else diag.span, key[0], el, message,
                                f"'{key[1]}' fails even as a {self.overrides[key].kind} ({message})", None)
            self.records.append(repair.record)
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
