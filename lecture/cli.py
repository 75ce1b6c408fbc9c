"""The `lecture` command line.

Every command reports a user's mistake as diagnostics (file:line:col, the source line
underlined, a hint) and exits 2; a Python traceback is only ever shown for a bug in
Lecture itself, and then only with LECTURE_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from lecture.agents.config import AgentError
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError, has_errors, printable
from lecture.runtime.safe_fs import UnsafePathError
from lecture.terminal import make_console

EXIT_OK, EXIT_CHANGED, EXIT_ERRORS = 0, 1, 2

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(fn: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = fn
        return fn
    return register


def _print_diagnostics(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...], source: str | None) -> None:
    for d in diagnostics:
        print(d.render(source), file=sys.stderr)


def _summary(errors: int, warnings: int) -> str:
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) or "no problems"


# ------------------------------------------------------------------ check

@command("check")
def cmd_check(args: argparse.Namespace) -> int:
    # One checker for all the files: what it built is kept (in memory, and in the user's
    # cache for the next run: an unchanged lesson is checked without building its scenes).
    from lecture.agents.warm_check import CheckOptions, WarmChecker

    checker = WarmChecker(CheckOptions(strict=args.strict, layout=args.layout, narration=args.narration,
                                       voice=args.voice, build_root=Path(args.build_dir)))
    status = EXIT_OK
    all_json = []
    for path in args.files:
        result = checker.check_file(Path(path))
        diagnostics = list(result.diagnostics)
        if has_errors(diagnostics):
            status = EXIT_ERRORS
        if args.format == "json":
            all_json += [d.to_json() for d in diagnostics]
            continue
        _print_diagnostics(diagnostics, result.source)
        errors = sum(d.severity == "error" for d in diagnostics)
        warnings = len(diagnostics) - errors
        print(f"{printable(str(path))}: {_summary(errors, warnings)}{result.note}",
              file=sys.stderr if errors else sys.stdout)
    if args.format == "json":
        # ASCII escapes: a lesson's control or bidi characters never reach the terminal raw
        print(json.dumps(all_json, indent=2, ensure_ascii=True))
    return status


# ------------------------------------------------------------------ fmt

@command("fmt")
def cmd_fmt(args: argparse.Namespace) -> int:
    from lecture.compiler import frontend, source
    from lecture.compiler.format import format_lesson
    from lecture.runtime.atomic import ConcurrentEditError, write_atomically

    status = EXIT_OK
    for path in args.files:
        try:
            data = Path(path).read_bytes() if Path(path).is_file() else None
            src = source.decode(data, path) if data is not None else source.read(path)
            lesson, diagnostics = frontend.parse_source(src)
            if has_errors(diagnostics):
                raise DiagnosticError(diagnostics, src.text)
        except DiagnosticError as exc:
            _print_diagnostics(exc.diagnostics, exc.source)
            status = EXIT_ERRORS
            continue
        formatted = format_lesson(lesson)
        if formatted == src.original:
            continue
        if args.check:
            print(f"would reformat {path}")
            status = max(status, EXIT_CHANGED)
            continue
        try:
            write_atomically(Path(path), formatted, expected=data)
        except ConcurrentEditError:
            print(f"{path}: error: the file changed on disk while it was being formatted; "
                  "nothing was written — run `lecture fmt` again", file=sys.stderr)
            status = EXIT_ERRORS
            continue
        print(f"reformatted {path}")
    return status


# ------------------------------------------------------------------ schema / export / import

def _load_or_report(path: str):
    """The checked lesson, its warnings printed; None (errors printed) when it has errors."""
    from lecture.compiler import frontend

    try:
        loaded = frontend.load_file(path)
    except DiagnosticError as exc:
        _print_diagnostics(exc.diagnostics, exc.source)
        return None
    _print_diagnostics(loaded.diagnostics, loaded.source.text)
    return loaded


@command("schema")
def cmd_schema(args: argparse.Namespace) -> int:
    from lecture.compiler.jsonform import load_schema

    print(json.dumps(load_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


@command("export")
def cmd_export(args: argparse.Namespace) -> int:
    from lecture.compiler.jsonform import lesson_to_json

    loaded = _load_or_report(args.file)
    if loaded is None:
        return EXIT_ERRORS
    print(json.dumps(lesson_to_json(loaded.lesson), indent=2, ensure_ascii=False))
    return EXIT_OK


@command("import")
def cmd_import(args: argparse.Namespace) -> int:
    from lecture.compiler import frontend
    from lecture.compiler.format import format_lesson
    from lecture.compiler.jsonform import lesson_from_json, validate_json
    from lecture.compiler.span import Span

    name = args.file
    try:
        raw = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{name}:1:1: error: cannot read the file: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        d = Diagnostic("error", f"not valid JSON: {exc.msg}", Span.point(name, exc.lineno, exc.colno),
                       "the file must hold one JSON object, as written by `lecture export --json`")
        _print_diagnostics([d], raw)
        return EXIT_ERRORS
    problems = validate_json(data)
    if problems:
        for p in problems:
            print(f"{name}:1:1: error: {p}", file=sys.stderr)
        print("  hint: see `lecture schema` for the expected shape", file=sys.stderr)
        return EXIT_ERRORS
    text = format_lesson(lesson_from_json(data, file=name))
    try:
        loaded = frontend.load_text(text, name + " (as text)", base_dir=Path(name).resolve().parent)
        _print_diagnostics(loaded.diagnostics, text)
    except DiagnosticError as exc:
        _print_diagnostics(exc.diagnostics, text)
        sys.stdout.write(text)
        return EXIT_ERRORS
    sys.stdout.write(text)
    return EXIT_OK


# ------------------------------------------------------------------ compile / render

@command("compile")
def cmd_compile(args: argparse.Namespace) -> int:
    from lecture.compiler.lower import compile_lesson
    from lecture.runtime.measure import ManimMeasurer

    loaded = _load_or_report(args.file)
    if loaded is None:
        return EXIT_ERRORS
    module = compile_lesson(loaded.lesson, base_dir=Path(args.file).resolve().parent,
                            measurer=ManimMeasurer())
    if args.output:
        from lecture.runtime.atomic import write_atomically

        write_atomically(Path(args.output), module.code, expected=None)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(module.code)
    return EXIT_OK


@command("render")
def cmd_render(args: argparse.Namespace) -> int:
    from lecture.agents.build_collaborators import build_collaborators
    from lecture.course import DEFAULT_LESSONS_AT_ONCE, render_course
    from lecture.runtime.build import RenderOptions, render_lessons
    from lecture.runtime.executor import Executor
    from lecture.runtime.ray_pool import ClusterError

    sections = [s.strip() for s in args.sections.split(",") if s.strip()] if args.sections else None
    executor = Executor(args.executor, args.address)
    try:
        executor.check()  # Ray installed, the cluster reachable: before any work
    except ClusterError as exc:
        print(f"lecture render: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    options = RenderOptions(quality=args.quality, sections=sections,
                            output=Path(args.output) if args.output else None,
                            build_root=Path(args.build_dir), jobs=args.jobs,
                            cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                            voice=args.voice, strict=args.strict, burn_subtitles=args.burn_subtitles,
                            autofix=args.autofix, executor=executor)
    paths = _lesson_files(args.files)
    empty = [name for name in args.files if Path(name).is_dir() and not any(Path(name).glob("*.lecture"))]
    if empty:
        print(f"lecture render: no .lecture files in {', '.join(empty)}", file=sys.stderr)
        return EXIT_ERRORS
    at_once = args.lessons_at_once or (DEFAULT_LESSONS_AT_ONCE if executor.remote else 1)
    if executor.remote and at_once > 1 and len(paths) > 1 and not args.output:
        return render_course(paths, args, at_once)  # each lesson in a process of its own
    # the agents give the build its custom code (the lock file, the Coder) and auto-fix
    return render_lessons(paths, options, console=make_console(), collaborators=build_collaborators())


def _lesson_files(names: list[str]) -> list[Path]:
    """The lessons named: a folder stands for the `.lecture` files in it (a course)."""
    paths: list[Path] = []
    for name in names:
        path = Path(name)
        paths += sorted(path.glob("*.lecture")) if path.is_dir() else [path]
    return paths


@command("watch")
def cmd_watch(args: argparse.Namespace) -> int:
    from lecture.agents.build_collaborators import build_collaborators
    from lecture.runtime.watch import WatchOptions, watch

    options = WatchOptions(port=args.port, quality=args.quality, jobs=args.jobs,
                           cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                           build_root=Path(args.build_dir), voice=args.voice)
    return watch(Path(args.file), options, console=make_console(), collaborators=build_collaborators())


@command("gallery")
def cmd_gallery(args: argparse.Namespace) -> int:
    from lecture.agents.build_collaborators import build_collaborators
    from lecture.runtime.build import RenderOptions
    from lecture.runtime.gallery import GalleryOptions, run_gallery

    build = RenderOptions(quality=args.quality, build_root=Path(args.build_dir), jobs=args.jobs,
                          cache_dir=Path(args.cache_dir) if args.cache_dir else None, voice=args.voice)
    options = GalleryOptions(out=Path(args.out), media_dir=Path(args.media_dir), clip_format=args.clip,
                             render=args.render, build=build)
    return run_gallery([Path(f) for f in args.files], options, console=make_console(),
                       collaborators=build_collaborators())


# Commands that live with their agents: `module:function`, imported only when run (the
# model client is slow to import, and `lecture check` never needs it).
DELEGATED = {
    "new": "lecture.agents.planner:run_new",
    "critique": "lecture.agents.critic:run_critique",
    "eval": "lecture.agents.evaluation.cli:run_eval",
    "lock": "lecture.agents.custom_elements:run_lock",
    "trust": "lecture.agents.trust_command:run_trust",
    "lsp": "lecture.lsp.server:run_lsp",
}


def _delegate(target: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        module, function = target.split(":")
        return getattr(importlib.import_module(module), function)(args)
    return run


for _name, _target in DELEGATED.items():
    COMMANDS[_name] = _delegate(_target)


@command("say")
def cmd_say(args: argparse.Namespace) -> int:
    from lecture.runtime.say_command import run_say

    output = Path(args.output) if args.output else Path(args.file).with_suffix(".narration.wav")
    return run_say(Path(args.file), section=args.section, output=output, voice=args.voice,
                   console=make_console())


@command("voices")
def cmd_voices(args: argparse.Namespace) -> int:
    from lecture.runtime.say_command import run_voices

    return run_voices(make_console(stderr=False))


@command("reference")
def cmd_reference(args: argparse.Namespace) -> int:
    from lecture.compiler.reference import embed_in_readme, language_reference

    if args.update_readme:
        from lecture.runtime.atomic import write_atomically

        path = Path(args.update_readme)
        old = path.read_bytes()
        write_atomically(path, embed_in_readme(old.decode("utf-8")), expected=old)
        print(f"updated the language reference in {path}")
        return EXIT_OK
    sys.stdout.write(language_reference())
    return EXIT_OK


@command("grammar")
def cmd_grammar(args: argparse.Namespace) -> int:
    from lecture.compiler.grammar_export import export_grammar

    sys.stdout.write(export_grammar(args.format, root=args.root))
    return EXIT_OK


# ------------------------------------------------------------------ main

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lecture",
        description="Compile .lecture lessons to educational videos with Manim.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # in this order in `lecture --help`
    _add_source_commands(sub)
    _add_agent_commands(sub)
    _add_narration_commands(sub)
    p = sub.add_parser("reference", help="print the language reference (Markdown)")
    p.add_argument("--update-readme", metavar="README.md",
                   help="rewrite the reference section of this README instead")
    p = sub.add_parser("grammar", help="print the lesson grammar for grammar-guided decoding (GBNF, Lark)")
    p.add_argument("--format", choices=["gbnf", "lark"], default="gbnf",
                   help="gbnf: llama.cpp's `grammar` (and vLLM's guided_grammar); lark: a Lark grammar")
    p.add_argument("--root", choices=["lesson", "section"], default="lesson",
                   help="a whole lesson, or one section (what the Planner asks for)")
    _add_render_commands(sub)
    _add_gallery_command(sub)
    p = sub.add_parser("lsp", help="the language server editors start (speaks LSP over stdio)")
    p.add_argument("--stdio", action="store_true", help="the default; accepted for editors that pass it")
    return parser


def _add_source_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands on a lesson's text: check, fmt, schema, export, import, compile."""
    p = sub.add_parser("check", help="parse and check lessons; print diagnostics")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--no-layout", dest="layout", action="store_false",
                   help="skip the layout findings (they build the scenes, which takes a few seconds)")
    p.add_argument("--no-narration", dest="narration", action="store_false",
                   help="skip the narration findings (they speak the lesson, as render does: its speech "
                        "is cached in BUILD_DIR/.speech-cache)")
    p.add_argument("--voice", metavar="VOICE", help="narration voice, as for render (default: the lesson's)")
    p.add_argument("--build-dir", default="build", metavar="DIR",
                   help="the build folder whose speech cache to use (default build/, as render)")

    p = sub.add_parser("fmt", help="format lessons canonically (keeps comments)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and name the files that would change")

    sub.add_parser("schema", help="print the JSON Schema of the lesson model")

    p = sub.add_parser("export", help="print a lesson as JSON")
    p.add_argument("--json", action="store_true", default=True, help="JSON output (the default)")
    p.add_argument("file", metavar="FILE")

    p = sub.add_parser("import", help="print the lesson text of a JSON lesson")
    p.add_argument("file", metavar="FILE.json")

    p = sub.add_parser("compile", help="write the generated Manim module")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", metavar="scene.py")


def _add_agent_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands that use a model: new, lock, trust, critique, eval (their arguments
    are the agents' own)."""
    from lecture.agents.cli_args import (
        add_arguments,
        add_critique_arguments,
        add_lock_arguments,
        add_trust_arguments,
    )
    from lecture.agents.evaluation.cli import add_eval_arguments

    add_arguments(sub.add_parser("new", help="write a lesson on a topic with a model (the Planner)"))
    add_lock_arguments(sub.add_parser(
        "lock", help="write custom elements' code into NAME.lecture.lock (the Coder)"))
    add_trust_arguments(sub.add_parser(
        "trust", help="show a lesson's locked code or a lecture.toml, and trust it here"))
    add_critique_arguments(sub.add_parser(
        "critique", help="rewrite anchors to fix overlapping or off-frame visuals"))
    add_eval_arguments(sub.add_parser(
        "eval", help="TeachQuiz and aesthetic scores of videos, with a vision model"))


def _add_narration_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """say, voices."""
    p = sub.add_parser("say", help="speak a lesson's narration to a WAV file, without rendering")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--section", metavar="ID", help="only this section")
    p.add_argument("-o", "--output", metavar="narration.wav")
    p.add_argument("--voice", metavar="VOICE", help="piper, espeak[:lang], openai[:voice] or none")

    sub.add_parser("voices", help="list the installed narration voices")


def _add_render_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """render, watch."""
    from lecture.agents.cli_args import add_executor_arguments

    p = sub.add_parser("render", help="render lessons to MP4")
    p.add_argument("files", nargs="+", metavar="FILE", help="lessons, or folders of lessons (a course)")
    p.add_argument("-q", "--quality", choices=["low", "medium", "high", "4k"])
    p.add_argument("-o", "--output", metavar="OUT.mp4")
    p.add_argument("--sections", metavar="ID,ID", help="render only these sections")
    _add_build_arguments(p)
    p.add_argument("--voice", metavar="VOICE",
                   help="narration voice: piper (default), espeak[:lang], openai[:voice], none (silent)")
    p.add_argument("--strict", action="store_true",
                   help="treat warnings (a step shorter than its narration…) as errors")
    p.add_argument("--burn-subtitles", action="store_true", help="draw the subtitles into the picture")
    p.add_argument("--no-autofix", dest="autofix", action="store_false",
                   help="report a failing node instead of repairing it (a formula LaTeX rejects "
                        "shown as text, a custom element's code rewritten…)")
    add_executor_arguments(p, "the sections")
    p.add_argument("--lessons-at-once", type=int, metavar="N",
                   help="with --executor ray: lessons built at once, each in a process of its own "
                        "(default 4; 1: one after another)")

    p = sub.add_parser("watch", help="live preview in the browser: re-render what you change")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.add_argument("-q", "--quality", default="low", choices=["low", "medium", "high", "4k"])
    p.add_argument("--voice", metavar="VOICE", help="narration voice (default: the lesson's; none: silent)")
    _add_build_arguments(p)


def _add_gallery_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("gallery", help="write a Markdown page with a still and a clip of each lesson")
    p.add_argument("files", nargs="*", metavar="FILE", help="the lessons (default: examples/*.lecture)")
    p.add_argument("-o", "--out", default="docs/gallery.md", metavar="PAGE.md",
                   help="the page to write (default docs/gallery.md)")
    p.add_argument("--media-dir", default="docs/gallery", metavar="DIR",
                   help="where the stills and clips go (default docs/gallery)")
    p.add_argument("--clip", choices=["gif", "webm"], default="gif",
                   help="the clips' format (default gif: it plays inline on any Markdown page)")
    p.add_argument("-q", "--quality", default="low", choices=["low", "medium", "high", "4k"])
    p.add_argument("--voice", metavar="VOICE", help="narration voice, as for render (none: silent)")
    p.add_argument("--no-render", dest="render", action="store_false",
                   help="take the builds in BUILD_DIR as they are (each of its lesson's current text)")
    _add_build_arguments(p)


def _add_build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", type=int, metavar="N",
                   help="sections rendered at once (default: the number of cores)")
    p.add_argument("--build-dir", default="build", metavar="DIR", help="where builds go (default build/)")
    p.add_argument("--cache-dir", metavar="DIR", help="the render cache (default BUILD_DIR/.cache)")


def _version() -> str:
    from lecture import __version__

    return f"lecture {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_ERRORS
    try:
        return COMMANDS[args.command](args)
    except DiagnosticError as exc:
        _print_diagnostics(exc.diagnostics, exc.source)
        return EXIT_ERRORS
    except (AgentError, UnsafePathError) as exc:
        print(f"lecture: error: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in Lecture, not the user's mistake
        if os.environ.get("LECTURE_DEBUG"):
            traceback.print_exc()
        print(f"lecture: internal error: {type(exc).__name__}: {exc}\n"
              "  this is a bug in Lecture; set LECTURE_DEBUG=1 to see the traceback",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
