"""The Planner: `lecture new "TOPIC"` -> a lesson file that parses and checks.

Stage 1, the outline: the model answers a JSON object (sections, their learning goals,
lecture lines, what each should show) that must follow `outline.schema.json`; an answer
that is not JSON, breaks the schema or names a section in a way the language refuses is
sent back with the errors.

Stage 2, the lesson text, one section at a time, each in its own short conversation:
the prompt is `prompts/planner_system.txt` + the language reference
(`compiler.reference.language_reference()`, the same text as the README's) + the
outline. Every answer is checked by the front end together with the sections already
accepted (`frontend.load_text`), and its errors, rendered as `answer:LINE:COL: error:
...` with the line underlined, go back to the model for at most `max_repairs` repair
turns per answer.

The accepted lesson is printed by the canonical formatter and written atomically. A
lesson that cannot be made valid is never written half: the best attempt goes to
`NAME.partial.lecture` beside the target, its diagnostics are printed, and the result
says it failed (`run_new` returns a non-zero status).

CLI (`lecture new`): see `add_arguments` for the flags and `run_new` for the command.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from lecture.agents.prompt_files import fill, prompt
from lecture.compiler import frontend
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.format import format_lesson, quote
from lecture.compiler.reference import language_reference
from lecture.compiler.span import Span
from lecture.runtime.atomic import write_atomically

from .build_collaborators import build_collaborators
from .cli_args import DEFAULT_MAX_REPAIRS, DEFAULT_MINUTES, add_arguments, add_model_arguments  # noqa: F401
from .client import ModelClient, make_client
from .config import AgentError, ClientConfig, config_from_args
from .style_guide import style_rules
from .usage import UsageLog

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 2, 2
ANSWER = "answer"  # the file name diagnostics carry when they are sent back to the model
MAX_ERRORS_SENT = 12


# ------------------------------------------------------------------ resources

def outline_schema() -> dict:
    return json.loads(resources.files("lecture.agents").joinpath("outline.schema.json").read_text("utf-8"))


def system_prompt() -> str:
    return fill(prompt("planner_system"), style_rules=style_rules()).rstrip() + "\n\n" + language_reference()


# ------------------------------------------------------------------ results

@dataclass
class PlannerResult:
    ok: bool
    output: Path  # the target lesson file (written only when ok)
    text: str  # the lesson written, or the partial text
    partial: Path | None = None  # where the best partial attempt was saved (when not ok)
    outline: dict | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # errors (not ok) or warnings (ok)
    repairs: int = 0  # repair turns used, outline and sections together
    message: str = ""
    usage: UsageLog = field(default_factory=UsageLog)

    @property
    def exit_status(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED


@dataclass
class _Attempt:
    text: str  # the section text extracted from the answer
    errors: list[Diagnostic]
    feedback: str  # the rendered errors, as sent back to the model


# ------------------------------------------------------------------ answers

_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.S)


def strip_fences(text: str) -> str:
    """The content of the first Markdown code block, or the text itself."""
    blocks = _FENCE.findall(text)
    return blocks[0] if blocks else text


def parse_json_answer(text: str) -> Any:
    """The JSON value of an answer (fences and text around one object tolerated)."""
    body = strip_fences(text).strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError as first:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(body[start:end + 1])
            except json.JSONDecodeError:
                pass
        raise first from None


def extract_section(text: str) -> str:
    """The section text of an answer: fences removed, anything before the first
    `section` line (a repeated header, a sentence) dropped, common indentation removed."""
    blocks = _FENCE.findall(text)
    body = next((b for b in blocks if re.search(r"^\s*section\s", b, re.M)), blocks[0] if blocks else text)
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if re.match(r"\s*section\s", line):
            lines = lines[i:]
            break
    lines = textwrap.dedent("\n".join(lines)).split("\n")
    return "\n".join(lines).strip("\n") + "\n"


def outline_errors(outline: Any, schema: dict) -> list[str]:
    """Why an outline cannot be used ([] when it can): schema errors, then duplicate or
    unusable section ids."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for error in sorted(validator.iter_errors(outline), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        errors.append(f"at {where}: {error.message}")
    if errors:
        return errors[:MAX_ERRORS_SENT]
    seen: set[str] = set()
    for i, section in enumerate(outline["sections"]):
        sid = section["id"]
        if sid in seen:
            errors.append(f"at sections/{i}/id: the id '{sid}' is used by two sections; ids must be unique")
        seen.add(sid)
        try:
            frontend.load_text(f'lesson "x"\nsection {sid} "x"\n  line l1 "x"\n', "outline")
        except DiagnosticError as exc:
            errors.append(f"at sections/{i}/id: '{sid}' cannot name a section: {exc.diagnostics[0].message}")
    return errors


def lesson_header(outline: dict, audience: str | None) -> str:
    lines = [f"lesson {quote(outline['title'])}", f"  audience: {quote(audience or outline['audience'])}"]
    if outline.get("subject"):
        lines.append(f"  subject: {quote(outline['subject'])}")
    return "\n".join(lines) + "\n"


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def partial_path(output: Path) -> Path:
    """Where the best attempt goes when no valid lesson came out: NAME.partial.lecture."""
    suffix = output.suffix or ".lecture"
    return output.with_name(f"{output.stem if output.suffix else output.name}.partial{suffix}")


def default_output(topic: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "_", topic.lower()).strip("_")[:40].strip("_") or "lesson"
    return Path(f"{slug}.lecture")


# ------------------------------------------------------------------ the Planner

class Planner:
    def __init__(self, client: ModelClient, *, max_repairs: int = DEFAULT_MAX_REPAIRS,
                 console: Any = None) -> None:
        self.client = client
        self.max_repairs = max(0, max_repairs)
        self.console = console
        self.repairs = 0
        self.system = system_prompt()
        self.schema = outline_schema()

    def say(self, text: str, style: str | None = None) -> None:
        if self.console is not None:
            self.console.print(text, style=style, markup=False, highlight=False)

    # ---------------------------------------------------------------- stage 1

    def outline(self, topic: str, audience: str | None, minutes: float) -> tuple[dict | None, str, list[str]]:
        """(outline, last answer, errors): the outline is None when no valid one came."""
        seconds = round(minutes * 60)
        messages = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": fill(
                prompt("outline"), topic=topic, minutes=_seconds(minutes), seconds=seconds,
                audience=audience or "not given: choose a sensible one and name it",
                schema=json.dumps(self.schema, indent=2))},
        ]
        answer = ""
        errors: list[str] = []
        for turn in range(self.max_repairs + 1):
            if turn:
                self.repairs += 1
                self.say(f"  outline: repairing ({len(errors)} problem{'s' if len(errors) != 1 else ''})")
            reply = self.client.chat_json(messages, self.schema, name="lesson_outline")
            answer = reply.text
            try:
                outline = parse_json_answer(answer)
                errors = outline_errors(outline, self.schema)
            except json.JSONDecodeError as exc:
                outline, errors = None, [f"the answer is not JSON: {exc.msg} at line {exc.lineno} "
                                         f"column {exc.colno}"]
            if not errors:
                return outline, answer, []
            if turn < self.max_repairs:
                messages += [{"role": "assistant", "content": answer},
                             {"role": "user", "content": fill(prompt("outline_repair"),
                                                              errors="\n".join(f"- {e}" for e in errors))}]
        return None, answer, errors

    # ---------------------------------------------------------------- stage 2

    def check_section(self, prefix: str, candidate: str, name: str) -> _Attempt:
        """Check `candidate` after the accepted `prefix` (header + sections); its errors
        with line numbers relative to the candidate."""
        if not re.match(r"section\s", candidate):
            d = Diagnostic("error", "the answer has no `section` line", Span.point(ANSWER, 1, 1),
                           'start with: section ID "Title" DURATION')
            return _Attempt(candidate, [d], d.render(candidate))
        text = prefix + "\n" + candidate
        offset = text[: len(prefix) + 1].count("\n")
        try:
            frontend.load_text(text, name)
            return _Attempt(candidate, [], "")
        except DiagnosticError as exc:
            errors = [d for d in exc.diagnostics if d.severity == "error"]
        rendered = []
        for d in errors[:MAX_ERRORS_SENT]:
            if d.span.line > offset:
                span = replace(d.span, file=ANSWER, line=d.span.line - offset,
                               end_line=max(d.span.end_line - offset, 1))
                rendered.append(replace(d, span=span).render(candidate))
            else:  # a clash with an accepted section (e.g. its id): shown in the whole text
                rendered.append(d.render(text))
        if len(errors) > MAX_ERRORS_SENT:
            rendered.append(f"... and {len(errors) - MAX_ERRORS_SENT} more errors")
        return _Attempt(candidate, errors, "\n".join(rendered))

    def section(self, outline: dict, header: str, accepted: list[str], index: int,
                name: str) -> tuple[bool, _Attempt]:
        spec = outline["sections"][index]
        done = ""
        if index:
            titles = ", ".join(f"{s['id']} ({s['title']})" for s in outline["sections"][:index])
            done = f"\nSections already written: {titles}.\n"
        messages = [
            {"role": "system", "content": self.system},
            {"role": "user", "content": fill(
                prompt("section"), outline=json.dumps(outline, indent=2, ensure_ascii=False),
                header=header.rstrip("\n"), done=done, number=index + 1, count=len(outline["sections"]),
                section=json.dumps(spec, indent=2, ensure_ascii=False), id=spec["id"],
                title=spec["title"].replace('"', "'"), seconds=_seconds(spec["seconds"]))},
        ]
        prefix = header + "".join("\n" + s for s in accepted)
        best: _Attempt | None = None
        last: _Attempt | None = None
        for turn in range(self.max_repairs + 1):
            if turn and last is not None:
                self.repairs += 1
                self.say(f"  section {spec['id']}: repairing ({len(last.errors)} error"
                         f"{'s' if len(last.errors) != 1 else ''})")
            reply = self.client.chat(messages)
            last = self.check_section(prefix, extract_section(reply.text), name)
            if not last.errors:
                return True, last
            if best is None or len(last.errors) <= len(best.errors):
                best = last
            if turn < self.max_repairs:
                messages += [{"role": "assistant", "content": reply.text},
                             {"role": "user", "content": fill(prompt("section_repair"),
                                                              diagnostics=last.feedback)}]
        assert best is not None
        return False, best


def plan_lesson(topic: str, *, audience: str | None = None, minutes: float | None = None,
                client_config: ClientConfig, output: Path, console: Any = None,
                max_repairs: int = DEFAULT_MAX_REPAIRS, usage: UsageLog | None = None,
                client: ModelClient | None = None) -> PlannerResult:
    """Write a lesson on `topic` to `output`. Raises AgentConfigError when no model is
    configured; every other failure (a model error, answers that never check) comes back
    as a PlannerResult with ok=False, the best attempt saved to `partial_path(output)`."""
    output = Path(output)
    usage = usage if usage is not None else (client.usage if client is not None else UsageLog())
    client = client or make_client(client_config, "planner", usage)
    planner = Planner(client, max_repairs=max_repairs, console=console)
    result = PlannerResult(False, output, "", usage=usage)
    outline = _plan_outline(planner, result, topic, audience, float(minutes) if minutes else DEFAULT_MINUTES)
    if outline is None:
        return result
    header = lesson_header(outline, audience)
    written = _write_sections(planner, outline, header, output.name)
    result.repairs = planner.repairs
    full = header + "".join("\n" + t for t in written.texts)
    failed = list(written.failed)
    if not failed and written.stopped is None:
        if _write_lesson(planner, result, full):
            return result
        failed.append("(whole lesson)")
    _save_partial(planner, result, topic, full, failed, written.stopped)
    return result


def _plan_outline(planner: Planner, result: PlannerResult, topic: str, audience: str | None,
                  minutes: float) -> dict | None:
    """Stage 1: the outline, or None when the model gave none (its last answer is saved)."""
    output = result.output
    planner.say(f"planning an outline for {topic!r} with {planner.client.model} ...")
    try:
        outline, answer, errors = planner.outline(topic, audience, minutes)
    except AgentError as exc:
        result.message, result.repairs = str(exc), planner.repairs
        planner.say(f"error: {exc}", "red")
        return None
    result.repairs = planner.repairs
    if outline is None:
        path = output.with_name(f"{output.stem}.outline.partial.json")
        write_atomically(path, answer if answer.endswith("\n") else answer + "\n")
        result.partial, result.text = path, answer
        result.message = (f"the model's outline is still invalid after {planner.max_repairs} repair turn"
                          f"{'s' if planner.max_repairs != 1 else ''}; its last answer is in {path}")
        for e in errors:
            planner.say(f"{path}: error: outline {e}", "red")
        planner.say(f"error: {result.message}", "red")
        return None
    result.outline = outline
    sections = outline["sections"]
    planner.say(f"outline: {outline['title']!r}, {len(sections)} section{'s' if len(sections) != 1 else ''}")
    return outline


@dataclass(frozen=True)
class _Sections:
    """What stage 2 wrote."""

    texts: tuple[str, ...]  # every section's best text (for the partial file)
    failed: tuple[str, ...]  # ids of the sections that still have errors
    stopped: str | None  # why the model stopped answering, when it did


def _write_sections(planner: Planner, outline: dict, header: str, name: str) -> _Sections:
    """Stage 2: each section in its own conversation, checked after the accepted ones."""
    sections = outline["sections"]
    accepted: list[str] = []  # sections that check, in order
    texts: list[str] = []
    failed: list[str] = []
    for index, spec in enumerate(sections):
        try:
            ok, attempt = planner.section(outline, header, accepted, index, name)
        except AgentError as exc:
            planner.say(f"error: {exc}", "red")
            return _Sections(tuple(texts), tuple(failed), str(exc))
        texts.append(attempt.text)
        if ok:
            accepted.append(attempt.text)
            planner.say(f"  section {index + 1}/{len(sections)} {spec['id']}: ok")
        else:
            failed.append(spec["id"])
            planner.say(f"  section {index + 1}/{len(sections)} {spec['id']}: still has errors after "
                        f"{planner.max_repairs} repair turns", "red")
    return _Sections(tuple(texts), tuple(failed), None)


def _write_lesson(planner: Planner, result: PlannerResult, full: str) -> bool:
    """The whole lesson, formatted, to the target (False, with its diagnostics, when it does
    not check)."""
    output = result.output
    try:
        loaded = frontend.load_text(full, str(output), base_dir=output.resolve().parent)
    except DiagnosticError as exc:  # cannot happen when every section checked after the others
        result.diagnostics = list(exc.diagnostics)
        return False
    text = format_lesson(loaded.lesson)
    try:
        loaded = frontend.load_text(text, str(output), base_dir=output.resolve().parent)
    except DiagnosticError:  # a formatter bug must not cost the user the lesson
        text = full
    write_atomically(output, text)
    stale = partial_path(output)
    if stale.is_file():
        stale.unlink()
    result.ok, result.text = True, text
    result.diagnostics = list(loaded.diagnostics)
    for d in loaded.diagnostics:
        planner.say(d.render(text), "yellow")
    result.message = f"wrote {output}"
    planner.say(result.message, "green")
    return True


def _save_partial(planner: Planner, result: PlannerResult, topic: str, full: str, failed: list[str],
                  stopped: str | None) -> None:
    """Failure: save the best attempt beside the target, print its diagnostics."""
    output = result.output
    path = partial_path(output)
    note = (f"# PARTIAL lesson from `lecture new` ({topic}): it does not check yet.\n"
            f"# Fix the errors `lecture check {path.name}` reports, then rename it to {output.name}.\n")
    partial = note + full
    write_atomically(path, partial)
    try:
        frontend.load_text(partial, str(path), base_dir=path.resolve().parent)
        diagnostics: list[Diagnostic] = []
    except DiagnosticError as exc:
        diagnostics = [d for d in exc.diagnostics if d.severity == "error"]
    result.partial, result.text = path, partial
    result.diagnostics = diagnostics or result.diagnostics
    for d in diagnostics:
        planner.say(d.render(partial), "red")
    if stopped is not None:
        result.message = f"stopped: {stopped}; the sections written so far are in {path}"
    else:
        result.message = (f"no valid lesson: section{'s' if len(failed) != 1 else ''} {', '.join(failed)} "
                          f"still {'have' if len(failed) != 1 else 'has'} errors after "
                          f"{planner.max_repairs} repair turns; the best attempt is in {path}")
    planner.say(f"error: {result.message}", "red")


# ------------------------------------------------------------------ CLI

def run_new(args: argparse.Namespace, *, console: Any = None) -> int:
    """`lecture new`: 0 when the lesson was written (and rendered, with --render), 2 otherwise."""
    if console is None:
        from lecture.terminal import make_console

        console = make_console()

    def error(message: str) -> int:
        console.print(f"lecture new: error: {message}", style="red", markup=False, highlight=False)
        return EXIT_CONFIG

    output = Path(args.output) if getattr(args, "output", None) else default_output(args.topic)
    if output.exists() and not getattr(args, "force", False):
        return error(f"{output} already exists; choose another -o FILE or pass --force")
    if getattr(args, "minutes", None) is not None and not 0 < args.minutes <= 60:
        return error("--minutes must be between 0 and 60")
    try:
        config = config_from_args(args, start=output.parent)
        usage = UsageLog()
        result = plan_lesson(args.topic, audience=getattr(args, "audience", None),
                             minutes=getattr(args, "minutes", None), client_config=config, output=output,
                             console=console, max_repairs=getattr(args, "max_repairs", DEFAULT_MAX_REPAIRS),
                             usage=usage)
    except AgentError as exc:
        return error(str(exc))
    if usage.records:
        console.print(usage.summary(), markup=False, highlight=False)
    if not result.ok:
        return result.exit_status
    if getattr(args, "render", False):
        from lecture.runtime.build import render_lessons

        # the build manifest keeps the Planner's model usage beside the Coder's
        return render_lessons([output], console=console, collaborators=build_collaborators(usage))
    return EXIT_OK
