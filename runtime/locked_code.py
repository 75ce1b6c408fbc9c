"""May this custom element's locked code run here? Three gates, each a diagnostic at the
element's line when closed:

1. the static allowlist (snippet_check): run again on every lock entry, at every build —
   a lock file is repository data, whoever wrote it;
2. trust (trust.py): code that was not written by the Coder on this machine, nor trusted
   by the user after reading it (`lecture trust LESSON`), is not run; trust is by the
   code's sha256, so an edited entry is untrusted again;
3. isolation (isolation.py): trusted code still runs only in a bwrap worker; where bwrap
   cannot run, the code is refused with what to install.
"""

from __future__ import annotations

from pathlib import Path

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.span import Span

from .isolation import unavailable_reason
from .snippet_check import check_code
from .trust import TrustStore


def trust_command(lesson_path: Path) -> str:
    return f"lecture trust {lesson_path}"


def vet(code: str, *, element: str, span: Span, lesson_path: Path, store: TrustStore,
        recorded_sha256: str | None = None, actual_sha256: str | None = None) -> list[Diagnostic]:
    """Why this locked code may not run ([] when it may)."""
    lock_name = f"{Path(lesson_path).name}.lock"
    problems = check_code(code)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return [Diagnostic(
            "error", f"the code of custom element '{element}' in {lock_name} is refused: "
                     f"{first.render()}{more}", span,
            f"only Manim's drawing API, numpy's maths and math may be used; regenerate it with "
            f"`lecture lock --update {lesson_path}`", "custom-code-refused")]
    if recorded_sha256 and actual_sha256 and recorded_sha256 != actual_sha256:
        return [Diagnostic(
            "error", f"the code of custom element '{element}' in {lock_name} was changed after it "
                     "was written (its code_sha256 does not match)", span,
            f"read it with `{trust_command(lesson_path)}`, or regenerate it with "
            f"`lecture lock --update {lesson_path}`", "custom-code-changed")]
    if not store.code_trusted(code):
        return [Diagnostic(
            "error", f"custom element '{element}' has code in {lock_name} that was not written or "
                     "trusted on this machine, so it is not run", span,
            f"read the code and trust it with `{trust_command(lesson_path)}`, or write it anew with "
            f"`lecture lock --update {lesson_path}`", "custom-code-untrusted")]
    reason = unavailable_reason()
    if reason:
        return [Diagnostic("error", f"custom element '{element}' cannot be drawn: {reason}", span,
                           "custom code never runs outside OS isolation", "custom-code-isolation")]
    return []


__all__ = ["trust_command", "vet"]
