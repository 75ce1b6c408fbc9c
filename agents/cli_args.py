"""The flags of the agent commands, importable without loading the agents (the CLI builds
its parser on every run, and `openai` is slow to import)."""

from __future__ import annotations

import argparse

DEFAULT_MINUTES = 3.0
DEFAULT_MAX_REPAIRS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `lecture new` (the CLI calls this on its `new` subparser)."""
    parser.add_argument("topic", metavar="TOPIC", help="what the lesson teaches")
    parser.add_argument("--audience", metavar="A", help='who it is for, e.g. "ages 12-14"')
    parser.add_argument("--minutes", type=float, metavar="M",
                        help=f"target length (default {DEFAULT_MINUTES:g})")
    parser.add_argument("-o", "--output", metavar="FILE", help="the lesson file (default: from the topic)")
    parser.add_argument("--max-repairs", type=int, default=DEFAULT_MAX_REPAIRS, metavar="N",
                        help=f"repair turns per answer (default {DEFAULT_MAX_REPAIRS})")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.add_argument("--render", action="store_true", help="render the lesson when it is written")
    add_model_arguments(parser)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--base-url, --api-key, --model, --timeout, --max-retries (shared by every agent command)."""
    group = parser.add_argument_group(
        "model (else OPENAI_BASE_URL, OPENAI_API_KEY, LECTURE_MODEL, ~/.config/lecture/config.toml, "
        "lecture.toml)")
    group.add_argument("--base-url", metavar="URL", help="an OpenAI-compatible server, e.g. http://localhost:11434/v1")
    group.add_argument("--api-key", metavar="KEY", help="API key (a server given by URL may need none)")
    group.add_argument("--model", metavar="NAME", help="model name")
    group.add_argument("--timeout", type=float, metavar="S", help="seconds per request (default 120)")
    group.add_argument("--max-retries", type=int, metavar="N", help="retries on 429/5xx/connection errors")


def add_lock_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `lecture lock` (the CLI calls this on its `lock` subparser)."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="lessons whose custom elements to lock")
    parser.add_argument("--update", action="store_true",
                        help="write every custom element's code again (else only the missing ones)")
    parser.add_argument("--element", action="append", metavar="ID",
                        help="with --update: only this element (ID or SECTION/ID; repeatable)")
    parser.add_argument("--max-tries", type=int, metavar="N", help="Coder answers per element (default 3)")
    parser.add_argument("--trust", action="store_true",
                        help="show the locked code and trust it on this machine (as `lecture trust FILE`)")
    parser.add_argument("--yes", action="store_true", help="with --trust: trust without asking")
    add_model_arguments(parser)


def add_trust_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `lecture trust`."""
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="a lesson (the code in its .lock file) or a lecture.toml")
    parser.add_argument("--yes", action="store_true", help="trust without asking (after showing it)")


def add_critique_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `lecture critique` (the Critic itself loads Manim and numpy)."""
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--dry-run", action="store_true", help="print the diff; write nothing")
    parser.add_argument("--vlm", action="store_true",
                        help="also ask a vision model (agent 'critic') about key frames")
    parser.add_argument("--time-limit", type=float, default=120.0, metavar="S",
                        help="seconds the geometric search may take (default 120)")
    add_model_arguments(parser)


def add_executor_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """--executor local|ray and --address (`lecture render`, `lecture eval bench`)."""
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help=f"where {what} run: this machine's processes (default) or a Ray cluster "
                             "(needs pip install 'lecture[cluster]')")
    parser.add_argument("--address", metavar="HOST:PORT",
                        help="with --executor ray: the cluster to join (else RAY_ADDRESS; else a Ray is "
                             "started on this machine)")
