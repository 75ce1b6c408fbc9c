"""The Planner's checker: one section answer -> the section text it holds and every problem
the whole checker finds in it, as feedback written against the model's own answer.

The answer is cut to exactly the requested section (fences, chatter, a repeated header and
any further section are dropped, each with a note back), then checked after the accepted
sections by `check_lesson_text` — the one place the Planner calls the checker: the front end
(every syntax error, not only the first, by commenting out each offending line and parsing
again), the narration timed by the speech estimate (speech/estimate.py, as `lecture check`
does where no voice is installed), and the layout findings of the compiled scenes, which
typesets every formula with real TeX (runtime/tex.py, cached by content). Errors and
warnings both go back: `lecture new --render` renders only what `check --strict` accepts.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

from lecture.compiler import frontend
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.span import Span

ANSWER = "answer"  # the file name diagnostics carry when they are sent back to the model
MAX_SENT = 12  # diagnostics per feedback turn (errors first)
MAX_SYNTAX_ERRORS = 6  # syntax errors collected per answer
EARLIER = "an earlier section"

_FENCE = re.compile(r"^[ \t]*```[^\n]*$", re.M)
_SECTION = re.compile(r"^([ \t]*)section[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


@dataclass(frozen=True)
class Extracted:
    """The requested section cut from an answer."""

    text: str  # the section, dedented, ending in one newline ("" when the answer has none)
    first_line: int  # 0-based line of the answer where `text` starts
    indent: int  # columns of common indentation removed
    notes: tuple[str, ...]  # what was dropped, told to the model when something else is wrong too
    extra_sections: tuple[str, ...]  # ids of further sections that were dropped


def _lines_without_fences(answer: str) -> list[str]:
    """The answer's lines; fence lines blanked (kept as lines, so numbers stay the model's)."""
    lines = answer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return ["" if _FENCE.fullmatch(line) else line for line in lines]


def extract_requested(answer: str, want: str | None = None) -> Extracted:
    """The section `want` (else the first one) of an answer; see the module docstring."""
    lines = _lines_without_fences(answer)
    starts = [(i, m.group(2), len(m.group(1))) for i, line in enumerate(lines)
              if (m := _SECTION.match(line))]
    notes: list[str] = []
    if not starts:
        return Extracted("", 0, 0, (), ())
    pick = next((s for s in starts if s[1] == want), starts[0])
    index = starts.index(pick)
    begin, _, indent = pick
    end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
    body = lines[begin:end]
    # chatter after the section: an unindented line that is no comment ends it
    for j, line in enumerate(body[1:], 1):
        if line.strip() and not line.startswith((" ", "\t")) and not line.lstrip().startswith("#") \
                and len(line) - len(line.lstrip()) <= indent:
            notes.append(f"the text from line {begin + j + 1} on is not part of the section and was dropped")
            body = body[:j]
            break
    extra = tuple(s[1] for s in starts if s is not pick)
    if extra:
        notes.append(f"your answer holds {len(starts)} sections ({', '.join(s[1] for s in starts)}); only "
                     f"section {pick[1]} was kept: answer with exactly one section")
    if begin and any(line.strip() for line in lines[:begin]):
        notes.append(f"the {begin} line{'s' if begin != 1 else ''} before the `section` line "
                     "(a header, a sentence, a fence) were dropped")
    text = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
    removed = len(body[0]) - len(body[0].lstrip()) if body else 0
    return Extracted(text, begin, removed, tuple(notes), extra)


# ------------------------------------------------------------------ the checker


def _front_end(text: str, name: str,
               base_dir: Path | None) -> tuple[frontend.Loaded | None, list[Diagnostic]]:
    """The front end's diagnostics; every syntax error, found by commenting out each line
    Lark stops at and parsing again (later errors only: they cannot be echoes)."""
    found: list[Diagnostic] = []
    current = text
    for _ in range(MAX_SYNTAX_ERRORS):
        try:
            loaded = frontend.load_text(current, name, base_dir=base_dir)
        except DiagnosticError as exc:
            syntax = [d for d in exc.diagnostics if d.code == "syntax"]
            if not syntax or found and syntax[0].span.line <= found[-1].span.line:
                # after a syntax error, only later syntax errors: the rest may be its echoes
                return None, found + ([] if syntax or found else list(exc.diagnostics))
            found.append(syntax[0])
            lines = current.split("\n")
            line = syntax[0].span.line - 1
            if not 0 <= line < len(lines):
                return None, found
            indent = len(lines[line]) - len(lines[line].lstrip())
            lines[line] = " " * indent + "#"
            current = "\n".join(lines)
            continue
        return (loaded, list(loaded.diagnostics)) if not found else (None, found)
    return None, found


def check_lesson_text(text: str, name: str, *, base_dir: Path | None = None,
                      deep: bool = True) -> list[Diagnostic]:
    """Every diagnostic of a lesson's text, errors and warnings, in line order: the front end,
    then (when it passes and `deep`) the narration timing and the layout findings, whose
    compile typesets every formula. The one call the Planner makes (the warm checker of
    runtime/ may take its place). Results are kept by content for the process: a model that
    sends the same section again is not checked again."""
    return list(_checked(text, name, base_dir, deep))


@functools.lru_cache(maxsize=64)
def _checked(text: str, name: str, base_dir: Path | None, deep: bool) -> tuple[Diagnostic, ...]:
    return tuple(_check(text, name, base_dir, deep))


def _check(text: str, name: str, base_dir: Path | None, deep: bool) -> list[Diagnostic]:
    from lecture.agents.critic import run_check_findings
    from lecture.runtime import step_timing

    loaded, diagnostics = _front_end(text, name, base_dir)
    if loaded is None or not deep or any(d.severity == "error" for d in diagnostics):
        return sorted(diagnostics, key=lambda d: (d.span.line, d.span.column))
    estimator = step_timing.estimating_narrator_for(loaded.lesson)
    if estimator is not None:
        diagnostics += step_timing.plan_narration(loaded.lesson, estimator).diagnostics
    try:
        diagnostics += run_check_findings(loaded, base_dir=base_dir or Path.cwd())
    except DiagnosticError as exc:  # the lesson cannot be compiled: LaTeX refuses a formula…
        diagnostics += exc.diagnostics
    unique = {(d.span.line, d.span.column, d.message): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: (d.span.line, d.span.column, d.severity != "error"))


# ------------------------------------------------------------------ feedback

# Words models invent for kinds and actions, and what the language says instead (a better hint
# than the nearest spelling: `triangle` is not a misspelt `rightangle`).
INSTEAD: dict[str, dict[str, str]] = {
    "unknown-kind": {
        "triangle": "polygon with three points: polygon tri (0, 0) (4, 0) (0, 3) in B2..D4",
        "equation": "math", "formula": "math", "latex": "math", "tex": "math", "mathtex": "math",
        "graph": "axes, then plot \"EXPR\" on the axes", "function": "plot \"EXPR\" on axes",
        "point": "dot", "rect": "rectangle", "box": "rectangle", "caption": "text", "heading": "title",
        "list": "bullets", "chart": "bars", "vector": "arrow", "segment": "line", "grid": "plane",
    },
    "unknown-action": {
        "appear": "create (shapes) or write (text, formulas) or fade in", "show": "create, write or fade in",
        "draw": "create", "hide": "fade out", "fadein": "fade in", "fadeout": "fade out",
        "display": "write", "animate": "create, transform or move", "emphasize": "indicate",
    },
}


def _better_hint(d: Diagnostic) -> Diagnostic:
    match = re.search(r"'([^']+)'", d.message)
    instead = INSTEAD.get(d.code, {}).get(match.group(1).lower()) if match else None
    return replace(d, hint=f"write {instead} (the language has no '{match.group(1)}')") if instead and match \
        else d


@dataclass(frozen=True)
class SectionCheck:
    """A checked answer: its section, its problems (against the answer) and the feedback."""

    extracted: Extracted
    errors: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...]
    feedback: str  # what goes back to the model ("" when nothing is wrong)

    @property
    def text(self) -> str:
        return self.extracted.text

    @property
    def clean(self) -> bool:
        return not self.errors and not self.warnings

    @property
    def score(self) -> tuple[int, int]:
        """Lower is better: errors, then warnings."""
        return len(self.errors), len(self.warnings)


def _relined(text: str | None, offset: int, ex: Extracted) -> str | None:
    """A message or hint with the lesson's line numbers made the answer's ("(line 12)",
    "at line 5"); a line of an accepted section, which the model never saw, is named as such."""
    if text is None:
        return None

    def moved(match: re.Match[str]) -> str:
        line = int(match.group(2))
        if line > offset:
            return f"{match.group(1)}line {line - offset + ex.first_line}"
        return "in " + EARLIER if match.group(1) else EARLIER
    return re.sub(r"((?:at |on )?)line (\d+)\b", moved, text)


def _to_answer(d: Diagnostic, offset: int, ex: Extracted) -> Diagnostic:
    """A diagnostic of the checked lesson moved to the model's answer (line and column)."""
    first = d.span.line - offset + ex.first_line
    last = max(d.span.end_line - offset + ex.first_line, first)
    span = replace(d.span, file=ANSWER, line=first, end_line=last, column=d.span.column + ex.indent,
                   end_column=d.span.end_column + ex.indent)
    return replace(d, span=span, message=_relined(d.message, offset, ex) or "",
                   hint=_relined(d.hint, offset, ex))


def _render(d: Diagnostic, offset: int, ex: Extracted, answer: str) -> str:
    d = _better_hint(d)
    if d.span.line > offset:
        return _to_answer(d, offset, ex).render(answer)
    # a clash with a section already accepted: the model never saw that text's line numbers
    head = f"{ANSWER}: {d.severity}: {_relined(d.message, offset, ex)} (with {EARLIER})"
    hint = _relined(d.hint, offset, ex)
    return head + (f"\n  hint: {hint}" if hint else "")


def _wrong_id(ex: Extracted, want: str, offset: int) -> list[Diagnostic]:
    """An error when the section is not the one asked for (its id would clash or go missing)."""
    match = _SECTION.match(ex.text)
    if match is None or match.group(2) == want:
        return []
    column = match.start(2) + 1
    span = Span(ANSWER, offset + 1, column, offset + 1, column + len(match.group(2)))
    return [Diagnostic("error", f"this section is '{match.group(2)}', but section '{want}' was asked for",
                       span, f"start with: section {want} ...", "wrong-section")]


def _shifted(d: Diagnostic, lines: int) -> Diagnostic:
    """A diagnostic moved down `lines` lines, the lines its message names too."""
    message = re.sub(r"\(line (\d+)\)", lambda m: f"(line {int(m.group(1)) + lines})", d.message)
    return replace(d, message=message, span=replace(d.span, line=d.span.line + lines,
                                                    end_line=d.span.end_line + lines))


def _found(prefix: str, header: str | None, section: str, name: str, base_dir: Path | None,
           deep: bool) -> list[Diagnostic]:
    """The diagnostics of `section` after `prefix`, in the lines of prefix + section. The front
    end reads it after every accepted section (their ids); the deep checks (narration, TeX,
    layout: each section's own) read it after the header alone, so they do not grow with the
    lesson and an answer seen before is not checked again."""
    text = prefix + "\n" + section
    found = check_lesson_text(text, name, base_dir=base_dir, deep=deep and header is None)
    if header is None or not deep or any(d.severity == "error" for d in found):
        return found
    alone = check_lesson_text(header + "\n" + section, name, base_dir=base_dir, deep=True)
    shift = text[: len(prefix) + 1].count("\n") - (header + "\n").count("\n")
    return [_shifted(d, shift) for d in alone]


def check_answer(answer: str, prefix: str, name: str, want: str, *, header: str | None = None,
                 base_dir: Path | None = None, deep: bool = True) -> SectionCheck:
    """Check the section `want` of `answer` after the accepted `prefix` (header + sections;
    `header`, the lesson header alone, lets the deep checks skip the accepted sections)."""
    ex = extract_requested(answer, want)
    if not ex.text:
        d = Diagnostic("error", "the answer has no `section` line", Span.point(ANSWER, 1, 1),
                       f'start with: section {want} "Title" DURATION', "no-section")
        return SectionCheck(ex, (d,), (), d.render(answer))
    offset = (prefix + "\n").count("\n")
    found = _found(prefix, header, ex.text, name, base_dir, deep)
    mine = [d for d in found if d.span.line > offset or d.severity == "error"]
    mine += _wrong_id(ex, want, offset)
    errors = tuple(d for d in mine if d.severity == "error")
    warnings = tuple(d for d in mine if d.severity != "error")
    parts = [_render(d, offset, ex, answer) for d in (*errors, *warnings)[:MAX_SENT]]
    hidden = len(errors) + len(warnings) - MAX_SENT
    if hidden > 0:
        parts.append(f"... and {hidden} more")
    if parts:  # what was dropped is said when the model must answer again anyway
        parts += [f"note: {n}" for n in ex.notes]
    return SectionCheck(ex, errors, warnings, "\n".join(parts))

