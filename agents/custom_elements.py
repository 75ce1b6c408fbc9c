"""Custom elements -> their code, from the lock file or from the Coder.

    custom = resolve_custom_nodes(lesson, lesson_path, client_config=config_or_None,
                                  usage=usage, update=False, console=console)
    custom.diagnostics          # errors at custom nodes that have no code (and why)
    custom.code_for("proof", "proof")         # the locked snippet, or None
    custom.emit("proof", "proof")             # module-level source defining the function
    custom.function_name("proof", "proof")    # what that source defines

Each `custom` element is keyed by `lockfile.content_key` over its kind, id, description,
placement, anchor box and theme. With an entry in `NAME.lecture.lock` it is used as it
is: no model, no network. Without one, and with a model configured for the coder, the
Coder writes it (checked statically and in the sandbox), and the entry is added to the
lock file (replacing that element's older entries), written atomically. Without a model
the node gets an error diagnostic at its line saying what to do. `update=True`
regenerates every entry on purpose (`lecture lock --update FILE`).

The anchor box is the one the lowering gives the element (`compiler.lower`'s
SectionContext, resolving the section's elements in source order, measured like a real
build), so the key the compiler would compute is the key found here; the boxes of the
section's other elements go into the prompt as its neighbours.
"""

from __future__ import annotations

import argparse
import ast
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lecture.compiler import layout
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError, Severity
from lecture.compiler.model import At, Auto, Element, In, Lesson, Relative, Section
from lecture.compiler.span import Span
from lecture.compiler.theme import Theme, get_theme
from lecture.runtime.locked_code import vet
from lecture.runtime.measure import ManimMeasurer
from lecture.runtime.trust import TrustStore

from .cli_args import add_lock_arguments  # noqa: F401  (the CLI's flags live there)
from .lockfile import (
    ConcurrentEditError,
    LockEntry,
    LockFile,
    LockFileError,
    content_key,
    lock_path,
    rounded_box,
    utc_now,
)

if TYPE_CHECKING:  # the Coder's module (and its model client) is imported only when code is written
    from .coder import Coder

Edges = tuple[float, float, float, float]  # left, bottom, right, top

EXIT_OK, EXIT_FAILED = 0, 2


# ------------------------------------------------------------------ node facts

def description_of(el: Element) -> str:
    """What a custom element shows, in words: its text(s), else its rows, one per line."""
    if el.texts:
        return "\n".join(t.value for t in el.texts)
    return "\n".join(" ".join(t.value for t in row) for row in el.rows)


def placement_text(placement: Any) -> str:
    if isinstance(placement, In):
        return f"in {placement.first.name}..{placement.last.name}"
    if isinstance(placement, At):
        return f"at {placement.cell.name}"
    if isinstance(placement, Relative):
        return f"{placement.relation} {placement.target.name}"
    if isinstance(placement, Auto):
        return "auto"
    return ""


def lesson_theme(lesson: Lesson) -> Theme:
    from lecture.compiler.model import Word

    value = lesson.setting("theme")
    name = value.name if isinstance(value, Word) else value if isinstance(value, str) else None
    return get_theme(name)


def edges_of(box: layout.Box) -> Edges:
    return (float(box.left), float(box.bottom), float(box.right), float(box.top))


def section_boxes(lesson: Lesson, section: Section, theme: Theme, base_dir: Path,
                  measure: bool = True) -> dict[str, Edges | None]:
    """Every element's box as the lowering resolves it (source order, like a build). An
    element that cannot be lowered (say, a formula LaTeX rejects) has no box; the others
    are still resolved."""
    from lecture.compiler.lower import elements as _elements  # noqa: F401  (fills the registry)
    from lecture.compiler.lower.registry import SectionContext

    ctx = SectionContext(lesson, section, theme, Path(base_dir),
                         measurer=ManimMeasurer() if measure else None)
    boxes: dict[str, Edges | None] = {}
    for el in section.elements:
        try:
            box = ctx.resolve(el.id, el.span).box
            boxes[el.id] = edges_of(box) if box is not None else None
        except DiagnosticError:
            boxes[el.id] = None
    return boxes


def fallback_box(el: Element) -> Edges:
    """The box of a custom element computed from its placement alone (when the section
    cannot be lowered): what `lower_custom` gives an area or a cell; the grid otherwise."""
    if isinstance(el.placement, In):
        return edges_of(layout.area_box(el.placement.first, el.placement.last).inset(layout.MARGIN))
    if isinstance(el.placement, At):
        x, y = layout.cell_center(el.placement.cell)
        return edges_of(layout.clamp_into(layout.Box(x, y, 3.0, 2.0)))
    return edges_of(layout.GRID.inset(layout.MARGIN))


# ------------------------------------------------------------------ results

@dataclass
class CustomNode:
    section: str
    element: str
    description: str
    placement: str
    box: Edges
    theme: Theme
    key: str
    span: Span
    section_title: str = ""
    neighbours: tuple = ()  # coder.Neighbour
    played: bool = False
    code: str | None = None
    origin: str = ""  # "lock" (found), "coder" (written now), "" (none)
    entry: LockEntry | None = None

    def task(self, lesson_title: str = ""):
        from .coder import CoderTask

        return CoderTask(self.section, self.element, self.description, self.box, self.theme,
                         tuple(self.neighbours), lesson_title, self.section_title, self.played)

    def to_json(self) -> dict:
        e = self.entry
        return {"section": self.section, "element": self.element, "key": self.key, "origin": self.origin,
                "box": rounded_box(self.box), "model": e.model if e else None, "tries": e.tries if e else 0,
                "tokens": (e.prompt_tokens + e.completion_tokens) if e else 0}


def function_name(section: str, element: str) -> str:
    raw = f"custom_{section}_{element}"
    return re.sub(r"\W", "_", raw, flags=re.ASCII)


@dataclass
class CustomCode:
    """Each custom element's code (keyed by (section id, element id)) and the diagnostics."""

    nodes: dict[tuple[str, str], CustomNode] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lock_path: Path | None = None
    written: bool = False  # the lock file was (re)written
    lesson_title: str = ""

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def node(self, section: str, element: str) -> CustomNode | None:
        return self.nodes.get((section, element))

    def code_for(self, section: str, element: str) -> str | None:
        node = self.nodes.get((section, element))
        return node.code if node else None

    def function_name(self, section: str, element: str) -> str:
        return function_name(section, element)

    def emit(self, section: str, element: str) -> str | None:
        """Module-level source that defines `function_name(section, element)(box)`."""
        code = self.code_for(section, element)
        return emit_function(code, function_name(section, element)) if code else None

    def to_json(self) -> list[dict]:
        return [n.to_json() for n in self.nodes.values()]


def emit_function(code: str, name: str) -> str:
    """The snippet as module-level source defining `name(box)`: wrapped in a factory so
    that its imports and helpers stay its own, without its `from manim import *` (the
    generated module has it; a star import cannot stand inside a function). Nothing of the
    snippet runs when the module is imported — only when a scene draws the element, which
    happens in an isolated worker (runtime/isolation.py)."""
    tree = ast.parse(code)
    lines = code.split("\n")
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    body = "\n".join(ln for i, ln in enumerate(lines) if i not in drop).strip("\n")
    factory = f"_make_{name}"
    return (f"def {factory}():\n{textwrap.indent(body, '    ')}\n    return build\n\n\n"
            f"def {name}(box):\n    return {factory}()(box)\n")


# ------------------------------------------------------------------ collecting

def collect_custom_nodes(lesson: Lesson, *, base_dir: Path, measure: bool = True,
                         theme: Theme | None = None) -> list[CustomNode]:
    """Every custom element with its box, key and scope (no code yet)."""
    from .coder import Neighbour

    theme = theme or lesson_theme(lesson)
    out: list[CustomNode] = []
    for section in lesson.sections:
        customs = [el for el in section.elements if el.kind == "custom"]
        if not customs:
            continue
        try:
            boxes = section_boxes(lesson, section, theme, base_dir, measure)
        except Exception:  # noqa: BLE001 - the lowering could not even start: use placements
            boxes = {}
        played = {t.name for step in section.steps for act in step.actions if act.verb == "play"
                  for t in act.targets}
        for el in customs:
            box = boxes.get(el.id) or fallback_box(el)
            neighbours = tuple(Neighbour(o.kind, o.id, boxes.get(o.id)) for o in section.elements
                               if o.id != el.id)
            description, placement = description_of(el), placement_text(el.placement)
            key = content_key(kind=el.kind, element_id=el.id, description=description, placement=placement,
                              box=box, theme=theme.name)
            out.append(CustomNode(section.id, el.id, description, placement, box, theme, key, el.span,
                                  section.title.value, neighbours, el.id in played))
    return out


def missing_code_message(element: str, lock_name: str) -> tuple[str, str]:
    return (f"custom element '{element}' has no code yet: configure a model (--base-url / OPENAI_API_KEY, "
            f"LECTURE_MODEL or lecture.toml) and run `lecture lock --update`, or commit {lock_name}",
            f"`lecture lock FILE` writes the code of every custom element into {lock_name} once; "
            "renders then need no model")


# ------------------------------------------------------------------ checking, offline

def check_locked_code(lesson: Lesson, lesson_path: str | Path) -> list[Diagnostic]:
    """What `lecture check` says about custom elements' code, without a model or a layout:
    every lock entry of each custom element goes through the gates of
    runtime.locked_code (static allowlist, trust, isolation); an element without any entry
    is a warning (a render needs a model then)."""
    lesson_path = Path(lesson_path)
    customs = [(s, el) for s in lesson.sections for el in s.elements if el.kind == "custom"]
    if not customs:
        return []
    path = lock_path(lesson_path)
    try:
        lock = LockFile.load(path)
    except LockFileError as exc:
        return [Diagnostic("error", str(exc), Span.point(str(path), 1, 1), code="lock-file")]
    store = TrustStore.default()
    out: list[Diagnostic] = []
    for section, el in customs:
        entries = [lock.entries[k] for k in lock.keys_for(section.id, el.id)]
        if not entries:
            message, hint = missing_code_message(el.id, path.name)
            out.append(Diagnostic("warning", message, el.span, hint, "custom-no-code"))
        for entry in entries:
            out += vet(entry.code, element=el.id, span=el.span, lesson_path=lesson_path, store=store,
                       recorded_sha256=entry.recorded_sha256, actual_sha256=entry.code_sha256)
    return out


# ------------------------------------------------------------------ resolving

def resolve_custom_nodes(lesson: Lesson, lesson_path: str | Path, *, client_config: Any = None,
                         usage: Any = None, update: bool = False, console: Any = None,
                         base_dir: Path | None = None, measure: bool = True,
                         only: Iterable[str] | None = None, prune: bool = False,
                         max_tries: int | None = None, coder: Any = None,
                         missing_severity: Severity = "error", now: Any = None) -> CustomCode:
    """Each custom element's code: see the module docstring.

    client_config: a ClientConfig (None, or one without a coder model: no model calls);
    update: regenerate the entries of every custom element (or those whose ids or
    "section/id" are in `only`); prune: drop entries no custom element uses any more
    (`lecture lock` does); coder: a ready `coder.Coder` (tests); now: a clock for dates."""
    lesson_path = Path(lesson_path)
    path = lock_path(lesson_path)
    result = CustomCode(lock_path=path, lesson_title=lesson.title.value)
    nodes = collect_custom_nodes(lesson, base_dir=base_dir or lesson_path.resolve().parent, measure=measure)
    for n in nodes:
        result.nodes[(n.section, n.element)] = n
    if not nodes and not prune:
        return result
    try:
        lock = LockFile.load(path)
    except LockFileError as exc:
        result.diagnostics.append(Diagnostic("error", str(exc), Span.point(str(path), 1, 1),
                                             code="lock-file"))
        return result
    resolving = _Resolving(lesson, lesson_path, path, tuple(nodes), lock, result, TrustStore.default())
    todo = resolving.take_locked(set(only) if only is not None else None, update)
    if todo:
        model_ready = client_config is not None and client_config.for_agent("coder").configured
        if coder is None and not model_ready:
            resolving.without_model(todo, client_config, missing_severity)
        else:
            if coder is None:
                coder = resolving.start_coder(todo, client_config, usage, console, max_tries)
            if coder is not None:
                resolving.ask_coder(todo, coder, console, max_tries, now)
    if prune:
        resolving.prune()
    resolving.save()
    return result


@dataclass(frozen=True)
class _Resolving:
    """What `resolve_custom_nodes` works on once the lock file is read: its stages fill in
    the nodes' code, the lock's entries and the result's diagnostics."""

    lesson: Lesson
    lesson_path: Path
    path: Path  # the lock file
    nodes: tuple[CustomNode, ...]
    lock: LockFile
    result: CustomCode
    store: TrustStore

    def take_locked(self, wanted: set[str] | None, update: bool) -> list[CustomNode]:
        """Each node's locked code, unless it is to be regenerated; the nodes still without code."""
        todo = []
        for n in self.nodes:
            regenerate = update and (wanted is None or n.element in wanted
                                     or f"{n.section}/{n.element}" in wanted)
            entry = self.lock.get(n.key)
            if entry is not None and not regenerate:
                self.use_entry(n, entry)
            else:
                todo.append(n)
        return todo

    def use_entry(self, n: CustomNode, entry: LockEntry) -> None:
        """Use the locked code when it passes the gates (runtime.locked_code), else say why."""
        refused = vet(entry.code, element=n.element, span=n.span, lesson_path=self.lesson_path,
                      store=self.store, recorded_sha256=entry.recorded_sha256,
                      actual_sha256=entry.code_sha256)
        if refused:
            self.result.diagnostics.extend(refused)
        else:
            n.code, n.origin, n.entry = entry.code, "lock", entry

    def without_model(self, todo: list[CustomNode], client_config: Any, severity: Severity) -> None:
        """No model to write code: a locked entry is kept (an update), else the node has none."""
        for n in todo:
            message, hint = missing_code_message(n.element, self.path.name)
            if client_config is not None and any(f.ignored for f in client_config.files):
                hint += f" ({client_config.settings_line()})"  # why the repository's server is not used
            kept = self.lock.get(n.key)
            if n.entry is None and kept is not None:  # update without a model: keep it
                self.use_entry(n, kept)
                message = (f"custom element '{n.element}' was not regenerated: no model configured "
                           "(its locked code is kept)")
                found = Diagnostic("warning", message, n.span, hint, "custom-no-model")
            else:
                found = Diagnostic(severity, message, n.span, hint, "custom-no-code")
            self.result.diagnostics.append(found)

    def start_coder(self, todo: list[CustomNode], client_config: Any, usage: Any, console: Any,
                    max_tries: int | None) -> Coder | None:
        """A Coder on the configured model; None (and an error at each node) when it cannot start."""
        from .client import make_client
        from .coder import Coder
        from .config import AgentError

        try:
            client = make_client(client_config, "coder", usage)
            return Coder(client, console=console, **({"max_tries": max_tries} if max_tries else {}))
        except AgentError as exc:
            for n in todo:
                self.result.diagnostics.append(Diagnostic(
                    "error", f"custom element '{n.element}' has no code yet, and the Coder cannot start: "
                             f"{exc}", n.span, code="custom-no-code"))
            return None

    def ask_coder(self, todo: list[CustomNode], coder: Any, console: Any, max_tries: int | None,
                  now: Any) -> None:
        """The Coder writes each node's code; accepted code replaces that element's entries."""
        for n in todo:
            _say(console, f"custom {n.section}/{n.element}: asking the Coder ({coder.client.model}) …")
            res = coder.write(n.task(self.lesson.title.value),
                              **({"max_tries": max_tries} if max_tries else {}))
            if res.ok and res.code:
                # written and accepted on this machine: trusted here (and only here)
                self.store.trust_code(res.code, lesson=str(self.lesson_path.resolve()), element=n.element)
                entry = LockEntry(n.section, n.element, n.description, n.placement, rounded_box(n.box),
                                  n.theme.name, res.code, res.model or coder.client.model,
                                  (now or utc_now)(), res.tries, res.prompt_tokens, res.completion_tokens)
                used = {m.key for m in self.nodes}
                for old in self.lock.keys_for(n.section, n.element):
                    if old not in used:
                        del self.lock.entries[old]
                self.lock.set(n.key, entry)
                n.code, n.origin, n.entry = res.code, "coder", entry
            else:
                detail = res.errors[0].splitlines()[0] if res.errors else res.message
                self.result.diagnostics.append(Diagnostic(
                    "error", f"the Coder wrote no acceptable code for custom element '{n.element}' "
                             f"after {res.tries} tr{'ies' if res.tries != 1 else 'y'}: {detail}",
                    n.span, "describe the element more simply, or try another model", "custom-coder-failed"))

    def prune(self) -> None:
        """Drop the entries no custom element uses any more."""
        used = {n.key for n in self.nodes}
        for key in [k for k in self.lock.entries if k not in used]:
            del self.lock.entries[key]

    def save(self) -> None:
        path = self.path
        try:
            self.result.written = self.lock.save()
        except ConcurrentEditError as exc:
            self.result.diagnostics.append(Diagnostic("error", str(exc), Span.point(str(path), 1, 1),
                                                      code="lock-changed"))
        except OSError as exc:
            self.result.diagnostics.append(Diagnostic("error", f"{path}: cannot write the lock file: {exc}",
                                                      Span.point(str(path), 1, 1), code="lock-write"))


def _say(console: Any, text: str, style: str | None = None) -> None:
    if console is not None:
        console.print(text, style=style, markup=False, highlight=False)


# ------------------------------------------------------------------ CLI: lecture lock

def run_lock(args: argparse.Namespace, *, console: Any = None) -> int:
    """`lecture lock [--update] FILE...`: write NAME.lecture.lock beside each lesson (0 when
    every custom element has code, 2 otherwise). Entries no element uses are dropped."""
    from lecture.compiler import frontend
    from lecture.compiler.diagnostics import render_all

    from .config import AgentError, config_from_args
    from .trust_command import run_trust
    from .usage import UsageLog

    if getattr(args, "trust", False):
        return run_trust(args)
    if console is None:
        from lecture.terminal import make_console

        console = make_console()
    usage = UsageLog()
    status = EXIT_OK
    for name in args.files:
        path = Path(name)
        try:
            config = config_from_args(args, start=path.parent)  # the lesson's own lecture.toml
        except AgentError as exc:
            _say(console, f"lecture lock: error: {exc}", "red")
            status = EXIT_FAILED
            continue
        try:
            loaded = frontend.load_file(path)
        except DiagnosticError as exc:
            _say(console, render_all(exc.diagnostics, exc.source), "red")
            status = EXIT_FAILED
            continue
        custom = resolve_custom_nodes(loaded.lesson, path, client_config=config, usage=usage,
                                      update=bool(getattr(args, "update", False)), console=console,
                                      only=getattr(args, "element", None), prune=True,
                                      max_tries=getattr(args, "max_tries", None))
        for d in custom.diagnostics:
            _say(console, d.render(loaded.source.text), "red" if d.severity == "error" else "yellow")
        for n in custom.nodes.values():
            if n.code is None:
                continue
            e = n.entry  # a node written now carries its new lock entry
            how = ("locked" if n.origin == "lock" or e is None else
                   f"written by {e.model} in {e.tries} tr{'ies' if e.tries != 1 else 'y'}")
            _say(console, f"  {n.section}/{n.element}: {how}")
        if not custom.nodes:
            _say(console, f"{path}: no custom elements")
        elif custom.written:
            _say(console, f"wrote {custom.lock_path}", "green")
        elif custom.ok:
            _say(console, f"{custom.lock_path} is up to date")
        if not custom.ok:
            status = EXIT_FAILED
    if usage.records:
        _say(console, usage.summary())
    return status
