"""The Planner: `lecture new "TOPIC"` -> a lesson file that parses and checks.

Stage 1, the outline: the model answers a JSON object (sections, their learning goals,
lecture lines, what each should show) that must follow `outline.schema.json`; an answer
that is not JSON, breaks the schema or names a section in a way the language refuses is
sent back with the errors.

Stage 2, the lesson text, one section at a time, each in its own short conversation:
the system message (the same for every call, so providers can cache it) is
`prompts/planner_system.txt` with the common mistakes (`planner_mistakes.txt`), the
annotated example lesson (`planner_examples.lecture`) and the language reference
(`compiler.reference.language_reference()`, the same text as the README's); the user
message holds the outline and asks for exactly one section. Each answer has its
one-meaning mistakes repaired (agents/answer_repair.py), is cut to the requested section
and goes through the whole checker after the sections already accepted
(agents/section_check.py: front end, narration timing, TeX, layout); every error and
warning goes back in one turn, rendered `answer:LINE:COL: ...` against the model's own
answer, for at most `max_repairs` repair turns. An answer cut off at the token limit is
asked again with twice the room. Requests carry `temperature` and `max_tokens` (config
overrides), and the section grammar when the server supports grammar-guided decoding.

The accepted lesson gets the geometry Critic's anchor edits, is printed by the canonical
formatter, checked whole and written atomically (`--render` renders it only when nothing
is left that `check --strict` would refuse). A
lesson that cannot be made valid is never written half: the best attempt goes to
`NAME.partial.lecture` beside the target, its diagnostics are printed, and the result
says it failed (`run_new` returns a non-zero status).

CLI (`lecture new`): see `add_arguments` for the flags and `run_new` for the command.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from lecture.agents.prompt_files import fill, package_text, prompt
from lecture.compiler import frontend
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.format import format_lesson, quote
from lecture.compiler.reference import language_reference
from lecture.runtime.atomic import write_atomically

from .answer_repair import repair_answer
from .build_collaborators import build_collaborators
from .cli_args import DEFAULT_MAX_REPAIRS, DEFAULT_MINUTES, add_arguments, add_model_arguments  # noqa: F401
from .client import ModelClient, Reply, make_client
from .config import AgentError, ClientConfig, ModelConfig, config_from_args
from .section_check import SectionCheck, check_answer, check_lesson_text, extract_requested
from .style_guide import style_rules
from .usage import UsageLog

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 2, 2
ANSWER = "answer"  # the file name diagnostics carry when they are sent back to the model
MAX_ERRORS_SENT = 12
# Sampling: a low temperature (the answer is code for a compiler), and room for a long section;
# `temperature` / `max_tokens` in [planner] or [model] of the config override them.
DEFAULT_TEMPERATURE = 0.2
DEFAULT_MAX_TOKENS = 3000
MAX_TOKENS_CAP = 12000  # a truncated answer is asked again with twice the room, up to this


# ------------------------------------------------------------------ resources

def outline_schema() -> dict:
    return json.loads(resources.files("lecture.agents").joinpath("outline.schema.json").read_text("utf-8"))


def example_lesson() -> str:
    """The annotated example sections the system prompt carries (tested to pass `check --strict`)."""
    return package_text("prompts", "planner_examples.lecture")


def system_prompt() -> str:
    """The Planner's system message: the same text for every call (outline and sections), so
    that providers can cache the prefix."""
    return fill(prompt("planner_system"), style_rules=style_rules(),
                mistakes=prompt("planner_mistakes").strip(),
                examples=example_lesson().rstrip()).rstrip() + "\n\n" + language_reference()


def estimate_tokens(messages: list[dict]) -> int:
    """A request's prompt size in tokens, estimated (about 4 characters a token)."""
    return max(1, sum(len(str(m.get("content", ""))) for m in messages) // 4)


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
    calls: list[CallNote] = field(default_factory=list)  # every model call, with its prompt size

    @property
    def sections(self) -> int:
        return len(self.outline["sections"]) if self.outline else 0

    @property
    def exit_status(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED


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
    """The section text of an answer: fences, anything before the first `section` line (a
    repeated header, a sentence) and chatter after it dropped, common indentation removed."""
    return extract_requested(text).text or text.strip("\n") + "\n"


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

@dataclass(frozen=True)
class Sampling:
    """What the Planner asks of the server besides the messages."""

    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    grammar: str = "none"  # config.GRAMMAR_MODES: how the section grammar is sent, if at all

    @staticmethod
    def of(config: ModelConfig | None) -> Sampling:
        if config is None:
            return Sampling()
        return Sampling(DEFAULT_TEMPERATURE if config.temperature is None else config.temperature,
                        config.max_tokens or DEFAULT_MAX_TOKENS, config.grammar)

    def params(self, max_tokens: int | None = None, *, grammar: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {"temperature": self.temperature,
                                  "max_tokens": max_tokens or self.max_tokens}
        if grammar and self.grammar != "none":
            params["extra_body"] = grammar_body(self.grammar)
        return params


def grammar_body(mode: str) -> dict[str, str]:
    """The request field that constrains a section answer to the lesson grammar."""
    from lecture.compiler.grammar_export import export_grammar

    if mode == "gbnf":
        return {"grammar": export_grammar("gbnf", root="section")}
    if mode == "vllm-lark":
        return {"guided_grammar": export_grammar("lark", root="section")}
    return {"guided_grammar": export_grammar("gbnf", root="section")}


@dataclass(frozen=True)
class CallNote:
    """One model call, for the closing note and the benchmark."""

    stage: str  # "outline" or a section id
    turn: int  # 0: the first answer; n: the n-th repair turn
    prompt_tokens_estimated: int
    finish_reason: str | None
    problems: int  # errors and warnings the answer had (0: accepted as it was)


class Planner:
    def __init__(self, client: ModelClient, *, max_repairs: int = DEFAULT_MAX_REPAIRS,
                 console: Any = None, sampling: Sampling | None = None, base_dir: Path | None = None,
                 deep: bool = True) -> None:
        self.client = client
        self.max_repairs = max(0, max_repairs)
        self.console = console
        self.repairs = 0
        self.system = system_prompt()
        self.schema = outline_schema()
        self.sampling = sampling or Sampling.of(getattr(client, "config", None))
        self.base_dir = base_dir
        self.deep = deep  # typeset, time and lay out each section (False: the front end only)
        self.calls: list[CallNote] = []
        self.fixed: list[str] = []  # deterministic repairs made to answers, for the log

    def say(self, text: str, style: str | None = None) -> None:
        if self.console is not None:
            self.console.print(text, style=style, markup=False, highlight=False)

    def ask(self, messages: list[dict], stage: str, turn: int, *, max_tokens: int | None = None,
            grammar: bool = False, schema: dict | None = None) -> Reply:
        params = self.sampling.params(max_tokens, grammar=grammar)
        if schema is not None:
            reply = self.client.chat_json(messages, schema, name="lesson_outline", **params)
        else:
            reply = self.client.chat(messages, **params)
        self.calls.append(CallNote(stage, turn, estimate_tokens(messages), reply.finish_reason, 0))
        return reply

    def noted(self, problems: int) -> None:
        """Record how many problems the last call's answer had."""
        self.calls[-1] = replace(self.calls[-1], problems=problems)

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
        max_tokens = self.sampling.max_tokens
        for turn in range(self.max_repairs + 1):
            if turn:
                self.repairs += 1
                self.say(f"  outline: repairing ({len(errors)} problem{'s' if len(errors) != 1 else ''})")
            reply = self.ask(messages, "outline", turn, max_tokens=max_tokens, schema=self.schema)
            answer = reply.text
            if reply.finish_reason == "length":  # cut off: the same question with more room
                max_tokens = min(max_tokens * 2, MAX_TOKENS_CAP)
                errors = [f"the answer was cut off at the token limit ({reply.completion_tokens} tokens)"]
                self.noted(1)
                continue
            try:
                outline = parse_json_answer(answer)
                errors = outline_errors(outline, self.schema)
            except json.JSONDecodeError as exc:
                outline, errors = None, [f"the answer is not JSON: {exc.msg} at line {exc.lineno} "
                                         f"column {exc.colno}"]
            self.noted(len(errors))
            if not errors:
                return outline, answer, []
            if turn < self.max_repairs:
                messages += [{"role": "assistant", "content": answer},
                             {"role": "user", "content": fill(prompt("outline_repair"),
                                                              errors="\n".join(f"- {e}" for e in errors))}]
        return None, answer, errors

    # ---------------------------------------------------------------- stage 2

    def check_section(self, prefix: str, answer: str, name: str, want: str | None = None, *,
                      header: str | None = None) -> SectionCheck:
        """Check the section `want` of an answer after the accepted `prefix` (header + sections),
        deterministic repairs first (agents/answer_repair.py); problems against the answer's lines."""
        repaired, fixes = repair_answer(answer)
        self.fixed += fixes
        first = re.search(r"^\s*section\s+([A-Za-z_]\w*)", repaired, re.M)
        return check_answer(repaired, prefix, name, want or (first.group(1) if first else "section"),
                            header=header, base_dir=self.base_dir, deep=self.deep)

    def section_messages(self, outline: dict, header: str, index: int) -> list[dict]:
        spec = outline["sections"][index]
        done = ""
        if index:
            titles = ", ".join(f"{s['id']} ({s['title']})" for s in outline["sections"][:index])
            done = f"\nSections already written: {titles}.\n"
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": fill(
                prompt("section"), outline=json.dumps(outline, indent=2, ensure_ascii=False),
                header=header.rstrip("\n"), done=done, number=index + 1, count=len(outline["sections"]),
                section=json.dumps(spec, indent=2, ensure_ascii=False), id=spec["id"],
                title=spec["title"].replace('"', "'"), seconds=_seconds(spec["seconds"]))},
        ]

    def section(self, outline: dict, header: str, accepted: list[str], index: int,
                name: str) -> tuple[bool, SectionCheck]:
        """Write one section: answers checked by the whole checker, every problem back in one
        turn, until one is clean or the repair turns run out (then the best: ok when it has
        warnings only)."""
        spec = outline["sections"][index]
        messages = self.section_messages(outline, header, index)
        prefix = header + "".join("\n" + s for s in accepted)
        best: SectionCheck | None = None
        max_tokens = self.sampling.max_tokens
        for turn in range(self.max_repairs + 1):
            if turn:
                self.repairs += 1
            if turn and best is not None:
                self.say(f"  section {spec['id']}: repairing ({len(best.errors)} errors, "
                         f"{len(best.warnings)} warnings)")
            reply = self.ask(messages, spec["id"], turn, max_tokens=max_tokens, grammar=True)
            if reply.finish_reason == "length":  # truncated: never checked as if it were whole
                max_tokens = min(max_tokens * 2, MAX_TOKENS_CAP)
                self.say(f"  section {spec['id']}: the answer was cut off at {reply.completion_tokens} "
                         f"tokens; asking again with max_tokens={max_tokens}")
                self.noted(1)
                continue
            last = self.check_section(prefix, reply.text, name, spec["id"], header=header)
            self.noted(len(last.errors) + len(last.warnings))
            if best is None or last.score <= best.score:
                best = last
            if last.clean:
                return True, last
            if turn < self.max_repairs:
                messages = messages + [{"role": "assistant", "content": reply.text},
                                       {"role": "user", "content": fill(prompt("section_repair"),
                                                                        diagnostics=last.feedback)}]
        if best is None:
            raise AgentError(f"section {spec['id']}: every answer was cut off at the token limit "
                             f"(max_tokens={max_tokens}); raise max_tokens in [planner] of the config")
        return not best.errors, best


def plan_lesson(topic: str, *, audience: str | None = None, minutes: float | None = None,
                client_config: ClientConfig, output: Path, console: Any = None,
                max_repairs: int = DEFAULT_MAX_REPAIRS, usage: UsageLog | None = None,
                client: ModelClient | None = None, deep: bool = True, critic: bool = True) -> PlannerResult:
    """Write a lesson on `topic` to `output`. Raises AgentConfigError when no model is
    configured; every other failure (a model error, answers that never check) comes back
    as a PlannerResult with ok=False, the best attempt saved to `partial_path(output)`.
    `deep`: each section typeset, timed and laid out before it is accepted (else the front
    end only); `critic`: the geometry Critic's anchor edits before the file is written."""
    output = Path(output)
    usage = usage if usage is not None else (client.usage if client is not None else UsageLog())
    client = client or make_client(client_config, "planner", usage)
    planner = Planner(client, max_repairs=max_repairs, console=console, base_dir=output.resolve().parent,
                      deep=deep)
    result = PlannerResult(False, output, "", usage=usage, calls=planner.calls)
    outline = _plan_outline(planner, result, topic, audience, float(minutes) if minutes else DEFAULT_MINUTES)
    if outline is None:
        return result
    header = lesson_header(outline, audience)
    written = _write_sections(planner, outline, header, output.name)
    result.repairs = planner.repairs
    full = header + "".join("\n" + t for t in written.texts)
    failed = list(written.failed)
    if not failed and written.stopped is None:
        if _write_lesson(planner, result, full, critic=critic):
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


def _write_lesson(planner: Planner, result: PlannerResult, full: str, *, critic: bool = True) -> bool:
    """The whole lesson — the Critic's anchor edits applied, formatted — to the target (False,
    with its diagnostics, when it does not check). What is left (warnings) is printed."""
    output = result.output
    base_dir = output.resolve().parent
    try:
        loaded = frontend.load_text(full, str(output), base_dir=base_dir)
    except DiagnosticError as exc:  # cannot happen when every section checked after the others
        result.diagnostics = list(exc.diagnostics)
        return False
    text = format_lesson(loaded.lesson)
    try:
        frontend.load_text(text, str(output), base_dir=base_dir)
    except DiagnosticError:  # a formatter bug must not cost the user the lesson
        text = full
    if critic and planner.deep:
        text = _critique(planner, text, output)
    found = check_lesson_text(text, str(output), base_dir=base_dir, deep=planner.deep)
    if any(d.severity == "error" for d in found):
        result.diagnostics = found
        return False
    write_atomically(output, text)
    stale = partial_path(output)
    if stale.is_file():
        stale.unlink()
    result.ok, result.text = True, text
    result.diagnostics = found
    for d in found:
        planner.say(d.render(text), "yellow")
    result.message = f"wrote {output}"
    planner.say(result.message, "green")
    return True


def _critique(planner: Planner, text: str, output: Path) -> str:
    """The geometry Critic's anchor edits (agents/critic.py), before the file is written."""
    from lecture.compiler import source

    from .critic import critique_source

    try:
        done = critique_source(source.from_text(text, str(output)), base_dir=output.resolve().parent,
                               time_limit=60.0)
    except DiagnosticError:  # (every section compiled alone; the whole may still refuse)
        return text
    for line in done.log:
        planner.say(f"  critic: {line}")
    if not done.changed:
        return text
    try:
        return format_lesson(frontend.load_text(done.text, str(output)).lesson)
    except DiagnosticError:
        return text


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
    if result.calls:
        sizes = [c.prompt_tokens_estimated for c in result.calls]
        console.print(f"planner prompt per call: about {sum(sizes) // len(sizes):,} tokens (largest "
                      f"{max(sizes):,}; estimated, 4 characters a token)", markup=False, highlight=False)
    if not result.ok:
        return result.exit_status
    if getattr(args, "render", False):
        from lecture.runtime.build import render_lessons

        if not _strict_clean(output, console):
            return EXIT_FAILED
        # the build manifest keeps the Planner's model usage beside the Coder's
        return render_lessons([output], console=console, collaborators=build_collaborators(usage))
    return EXIT_OK


def _strict_clean(output: Path, console: Any) -> bool:
    """What `lecture check --strict` says of the written lesson (layout and narration timing by
    estimate): --render renders only a lesson it accepts."""
    text = output.read_text(encoding="utf-8")
    found = check_lesson_text(text, str(output), base_dir=output.resolve().parent)
    if not found:
        return True
    for d in found:
        console.print(replace(d, severity="error").render(text), style="red", markup=False, highlight=False)
    console.print(f"lecture new: not rendered: `lecture check --strict {output}` reports {len(found)} "
                  "problem(s); fix them and run `lecture render`", style="red", markup=False, highlight=False)
    return False
