"""The Coder: a `custom` element's description + its anchor box -> checked Manim code.

THE CONTRACT OF THE GENERATED CODE
==================================
The model answers ONE Python snippet holding exactly one top-level function:

    from manim import *          # optional; also `import numpy as np`, `import math`
    def build(box):
        ...
        return mobject, animations

- `box` is a `lecture.agents.sandbox.CustomBox`: the element's anchor box in scene units,
  with `left, right, bottom, top, width, height, cx, cy` (floats), `center` (a numpy point
  [cx, cy, 0]), `point(fx, fy)` and `fit(mobject, margin=0.1)`.
- `mobject` is a Mobject (usually a VGroup of every part) in the element's final, resting
  state, drawn inside `box` (0.15 units of tolerance).
- `animations` is a list (maybe empty) of Manim Animations on its parts; `m.animate...`
  builders are accepted (they become Animations through `prepare_animation`).
- How a lesson shows the element (the checker allows one of them while it is off screen):
  `create ID` / `fade in ID` fade `mobject` in (the animations are not used);
  `play ID` shows it THROUGH its animations: `Succession(*animations)`, which
  `LectureScene.step` stretches to the step's time (each animation takes a share in
  proportion to its own run_time, 1 by default), starting from a scene without the
  element, so the animations bring its parts in (Create, Write, FadeIn, ...) and may then
  move or transform them; after the step the scene adds `mobject` itself, so anything
  not yet shown appears then. After each animation the drawing must lie inside `box`.
- The function builds and returns; it never touches the scene (no `self`), files, the
  network or Manim's config. Allowed imports: manim, numpy, math (see sandbox.check_code).
- `build` is called ONCE per scene, where the element's variable is defined.

Before use, every snippet is checked statically and run in a separate process with time
and memory limits (`sandbox.check_and_run`); any violation goes back to the model, with
the exact error, for at most `max_tries` answers in all.

The prompt carries the node's description, its box, the lesson's theme and colours, the
other elements of its section (kind, id, box) and the Manim API sheet
(`agents/manim_sheet.txt`). Prompts: `prompts/coder_system.txt` (+ the sheet),
`coder_task.txt` (a new element), `coder_fix.txt` (auto-fix: the failing code and its
traceback, the node's scope only), `coder_repair.txt` (a rejected answer's errors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lecture.compiler.theme import Theme

from . import sandbox
from .client import ModelClient
from .config import AgentError
from .prompt_files import fill, package_text, prompt  # noqa: F401 (fill, prompt: used by callers too)

DEFAULT_MAX_TRIES = 3
MAX_ERROR_CHARS = 4000


# ------------------------------------------------------------------ resources

def manim_sheet() -> str:
    return package_text("manim_sheet.txt")


def system_prompt() -> str:
    return prompt("coder_system").rstrip() + "\n\n" + manim_sheet()


# ------------------------------------------------------------------ the task

Edges = tuple[float, float, float, float]  # left, bottom, right, top


def num(value: float) -> str:
    v = round(float(value), 3) + 0.0
    return f"{v:g}"


@dataclass(frozen=True)
class Neighbour:
    kind: str
    id: str
    box: Edges | None

    def line(self) -> str:
        where = ("(" + ", ".join(num(v) for v in self.box) + ")") if self.box else "(no fixed box)"
        return f"- {self.kind} `{self.id}` {where}"


@dataclass(frozen=True)
class CoderTask:
    """One custom element, with what the Coder may know of its scope."""

    section: str
    element: str
    description: str
    box: Edges
    theme: Theme
    neighbours: tuple[Neighbour, ...] = ()
    lesson_title: str = ""
    section_title: str = ""
    played: bool = True  # whether a step says `play ID`

    def values(self) -> dict[str, str]:
        left, bottom, right, top = self.box
        return {"element": self.element, "section": self.section, "section_title": self.section_title,
                "lesson_title": self.lesson_title, "description": self.description.strip(),
                "left": num(left), "bottom": num(bottom), "right": num(right), "top": num(top),
                "width": num(right - left), "height": num(top - bottom), "cx": num((left + right) / 2),
                "cy": num((bottom + top) / 2), "theme": self.theme.name, "colours": theme_text(self.theme),
                "neighbours": "\n".join(n.line() for n in self.neighbours) or "- (none)",
                "animation_note": (
                    f"The lesson shows it with `play {self.element}`: it is not on screen before; the "
                    "animations, played one after another, bring its parts in (Create, Write, FadeIn, "
                    "...) and then tell the described story. Return them in order." if self.played else
                    f"The lesson only shows it (no `play {self.element}` step): the animations list may "
                    "be empty.")}


def theme_text(theme: Theme) -> str:
    return "\n".join([
        f"  background {theme.background}; text {theme.text}; titles {theme.title}",
        f"  accent (highlights) {theme.accent}; shapes and strokes {theme.shape}; "
        f"secondary {theme.muted}; rules {theme.rule}",
        f"  font {theme.font!r}; text font_size {theme.text_font_size:g}, labels "
        f"{theme.label_font_size:g}, formulas {theme.math_font_size:g}",
    ])


# ------------------------------------------------------------------ answers

_FENCE = re.compile(r"```[^\n`]*\n(.*?)```", re.S)


def extract_code(text: str) -> str:
    """The code of an answer: the fenced block that defines build (else the first block,
    else the text itself, an unclosed fence dropped)."""
    blocks = _FENCE.findall(text)
    if blocks:
        chosen = next((b for b in blocks if re.search(r"^\s*def\s+build\s*\(", b, re.M)), blocks[0])
    else:
        chosen = re.sub(r"^```[^\n]*\n", "", text.strip())
        chosen = chosen[:-3] if chosen.rstrip().endswith("```") else chosen
    return chosen.strip("\n") + "\n"


# ------------------------------------------------------------------ results

@dataclass
class Attempt:
    code: str
    errors: list[str]


@dataclass
class CoderResult:
    ok: bool
    code: str | None  # the accepted code (None when none was accepted)
    tries: int = 0  # model answers used
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    errors: list[str] = field(default_factory=list)  # the last answer's problems (when not ok)
    attempts: list[Attempt] = field(default_factory=list)
    message: str = ""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


# ------------------------------------------------------------------ the Coder

class Coder:
    def __init__(self, client: ModelClient, *, max_tries: int = DEFAULT_MAX_TRIES,
                 timeout: float = sandbox.DEFAULT_TIMEOUT, memory_mb: int = sandbox.DEFAULT_MEMORY_MB,
                 tolerance: float = sandbox.BOX_TOLERANCE, console: Any = None) -> None:
        self.client = client
        self.max_tries = max(1, max_tries)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.tolerance = tolerance
        self.console = console
        self.system = system_prompt()

    def say(self, text: str, style: str | None = None) -> None:
        if self.console is not None:
            self.console.print(text, style=style, markup=False, highlight=False)

    def validate(self, code: str, box: Edges, label: str = "custom") -> list[str]:
        """[] when the code passes the static check and runs inside its box."""
        problems = sandbox.check_code(code)
        if problems:
            return [p.render() for p in problems]
        result = sandbox.run_code(code, box, timeout=self.timeout, memory_mb=self.memory_mb,
                                  tolerance=self.tolerance, label=label)
        if result.ok:
            return []
        errors = list(result.errors)
        if result.traceback:
            errors.append("traceback (the code's own lines):\n" + result.traceback.rstrip())
        return errors

    def write(self, task: CoderTask, *, max_tries: int | None = None) -> CoderResult:
        """New code for a custom element."""
        messages = [{"role": "system", "content": self.system},
                    {"role": "user", "content": fill(prompt("coder_task"), **task.values())}]
        return self._loop(messages, task, max_tries or self.max_tries)

    def fix(self, task: CoderTask, code: str, error: str, *, max_tries: int | None = None) -> CoderResult:
        """Code that failed while rendering, its error and its scope only -> corrected code.
        An answer identical to the failing code is rejected."""
        error = error.strip()
        if len(error) > MAX_ERROR_CHARS:
            error = "…" + error[-MAX_ERROR_CHARS:]
        messages = [{"role": "system", "content": self.system},
                    {"role": "user", "content": fill(prompt("coder_fix"), **task.values(),
                                                     code=code.rstrip("\n"), error=error)}]
        return self._loop(messages, task, max_tries or self.max_tries, failing=code)

    def _loop(self, messages: list[dict], task: CoderTask, max_tries: int,
              failing: str | None = None) -> CoderResult:
        result = CoderResult(False, None)
        label = f"custom {task.element}"
        for turn in range(max_tries):
            try:
                reply = self.client.chat(messages)
            except AgentError as exc:
                result.message = str(exc)
                result.errors = [str(exc)]
                return result
            result.tries += 1
            result.prompt_tokens += reply.prompt_tokens
            result.completion_tokens += reply.completion_tokens
            result.model = reply.model or result.model
            code = extract_code(reply.text)
            if failing is not None and code.strip() == failing.strip():
                errors = ["this is the same code that failed; change it so that the error cannot happen"]
            else:
                errors = self.validate(code, task.box, label)
            result.attempts.append(Attempt(code, errors))
            if not errors:
                result.ok, result.code, result.errors = True, code, []
                self.say(f"  custom {task.element}: code accepted after {result.tries} "
                         f"tr{'ies' if result.tries != 1 else 'y'}")
                return result
            result.errors = errors
            self.say(f"  custom {task.element}: answer {result.tries} rejected: {errors[0][:160]}", "yellow")
            if turn + 1 < max_tries:
                messages = messages + [
                    {"role": "assistant", "content": reply.text},
                    {"role": "user", "content": fill(prompt("coder_repair"),
                                                     errors="\n".join(f"- {e}" for e in errors))}]
        result.message = (f"custom element '{task.element}': no acceptable code after {result.tries} "
                          f"tr{'ies' if result.tries != 1 else 'y'}: "
                          f"{result.errors[0] if result.errors else ''}")
        return result
