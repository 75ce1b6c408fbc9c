"""`lecture eval quiz|aes|bench`: the command line of the evaluation.

The CLI wires it with:

    from lecture.agents.evaluation.cli import add_eval_arguments
    p = sub.add_parser("eval", help="TeachQuiz and aesthetics of videos, with a vision model")
    add_eval_arguments(p)

    @command("eval")
    def cmd_eval(args):
        from lecture.agents.evaluation.cli import run_eval
        return run_eval(args)

Only argparse and typing helpers are imported at module level (the CLI builds its parser on
every run); each stage imports what it uses.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the CLI imports this module on every run
    from lecture.agents.client import ModelClient
    from rich.console import Console

    from .bank import Bank
    from .build_folder import BuildFolder
    from .results import Results
    from .runner import Job, RunStats, Settings
    from .store import AnswerStore

DEFAULT_OUT = "lecture-eval"
EXIT_OK, EXIT_INCOMPLETE, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _common(p: argparse.ArgumentParser, *, quiz: bool) -> None:
    p.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"answers.jsonl and the reports (default {DEFAULT_OUT}/); reruns resume from it")
    p.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests at once (default 4)")
    p.add_argument("--bank", metavar="FILE", help="another question bank of the MMMC shape")
    if quiz:
        p.add_argument("--no-debias", dest="debias", action="store_false",
                       help="published order of the options, one asking each, no exclusions "
                            "(reproduces published numbers)")
        p.add_argument("--permutations", type=int, default=4, metavar="N",
                       help="seeded orders of the options per question when debiasing (default 4)")
        p.add_argument("--seed", type=int, default=0, help="permutation and bootstrap seed (default 0)")
        p.add_argument("--exclude", metavar="FILE|default|none",
                       help="questions left out: the packaged list (default when debiasing), none, "
                            "or a JSON list of question ids / texts")
        p.add_argument("--no-transcript-variant", dest="transcript_variants", action="store_false",
                       help="ask stage 3 only without the transcript")
    p.add_argument("--max-frames", type=int, default=16, metavar="N",
                   help="frames at scene changes of a plain video (default 16)")
    p.add_argument("--max-step-frames", type=int, default=48, metavar="N",
                   help="step-end frames of a Lecture build (default 48; more steps: evenly spaced)")
    p.add_argument("--frame-width", type=int, default=768, metavar="PX", help="frames scaled to this width")
    p.add_argument("--image-detail", choices=["auto", "low", "high"], default="auto")
    p.add_argument("--temperature", type=float, default=0.0, help="sent with every request (default 0)")
    p.add_argument("--no-temperature", dest="temperature", action="store_const", const=None,
                   help="send no temperature (models that refuse one)")
    p.add_argument("--price-in", type=float, metavar="USD",
                   help="price per million prompt tokens (for the cost)")
    p.add_argument("--price-out", type=float, metavar="USD", help="price per million completion tokens")
    from lecture.agents.cli_args import add_model_arguments

    add_model_arguments(p)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommands and flags of `lecture eval` (called on the `eval` subparser)."""
    sub = parser.add_subparsers(dest="eval_command", metavar="quiz|aes|bench")
    sub.required = True
    p = sub.add_parser("quiz", help="TeachQuiz (and aesthetics) of one video or Lecture build")
    p.add_argument("video", metavar="VIDEO_OR_BUILD", help="an MP4, or a build folder (with manifest.json)")
    p.add_argument("--topic", metavar="T",
                   help="the topic (or its slug); default: from the file or build name")
    p.add_argument("--no-aes", dest="aes", action="store_false", help="skip the aesthetics call")
    _common(p, quiz=True)
    p = sub.add_parser("aes", help="the five aesthetic scores of one video or build (+ Lecture's findings)")
    p.add_argument("video", metavar="VIDEO_OR_BUILD")
    p.add_argument("--topic", metavar="T", help="the topic, given to the model as context")
    _common(p, quiz=False)
    p = sub.add_parser("bench", help="TeachQuiz and aesthetics over many topics, videos named by topic slug")
    p.add_argument("--videos", metavar="DIR", required=True,
                   help="DIR/<slug>.mp4, DIR/<slug>/ (a build) or DIR/<slug>/lesson.mp4 per topic")
    p.add_argument("--topics", metavar="all|FILE|T,T", default="all",
                   help="topics: all 117 (default), a file (one per line or a JSON list), or a list")
    p.add_argument("--no-aes", dest="aes", action="store_false", help="skip the aesthetics calls")
    from lecture.agents.cli_args import add_executor_arguments

    add_executor_arguments(p, "the topics' questions are asked")
    _common(p, quiz=True)


def _video_for(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.mp4", folder / name / "lesson.mp4"):
        if candidate.is_dir() and ((candidate / "manifest.json").is_file()
                                   or (candidate / "lesson.mp4").is_file()):
            return candidate
        if candidate.is_file():
            return candidate
    return None


def _guess_topic(bank: Bank, path: Path, build: BuildFolder | None) -> str | None:
    names = [path.stem, path.name, path.parent.name]
    if build is not None:
        names += [str(build.manifest.get("title", "")), Path(str(build.manifest.get("lesson", ""))).stem]
    from .bank import slug

    for name in names:
        topic = bank.topic_by_slug(slug(name)) if name else None
        if topic:
            return topic
    return None


def _title(path: Path, build: BuildFolder | None) -> str:
    title = build.manifest.get("title") if build is not None else None
    return str(title) if title else path.stem.replace("-", " ").replace("_", " ")


class _UsageError(Exception):
    """A mistake in the command (its message is printed after "lecture eval: "; exit 2)."""


@dataclass(frozen=True)
class _Prepared:
    """Everything a run needs before the first question is asked."""
    command: str
    settings: Settings
    bank: Bank
    exclude_keys: set[str]
    exclude_source: str
    jobs: list[Job]
    client: ModelClient
    model: str
    out: Path
    store: AnswerStore


def run_eval(args: argparse.Namespace, *, console: Console | None = None,
             client: ModelClient | None = None) -> int:
    """Run `lecture eval quiz|aes|bench`; 0 when complete, 1 when answers are missing
    (server failures: rerun to finish), 2 on a usage error, 130 when interrupted."""
    from lecture.terminal import make_console

    con = console or make_console()
    try:
        prepared = _prepare(args, client)
    except _UsageError as exc:
        con.print(f"lecture eval: {exc}", markup=False, highlight=False)  # (paths and hints hold brackets)
        return EXIT_ERROR
    return _ask_and_report(prepared, args, con)


def _settings(args: argparse.Namespace) -> Settings:
    from .runner import Settings

    quiz = args.eval_command in ("quiz", "bench")
    debias = getattr(args, "debias", True)
    exclude_spec = getattr(args, "exclude", None) or ("default" if debias else "none")
    return Settings(
        permutations=max(1, args.permutations) if quiz else 1, seed=getattr(args, "seed", 0), debias=debias,
        exclude=exclude_spec, transcript_variants=getattr(args, "transcript_variants", True),
        aes=getattr(args, "aes", True) if quiz else True, quiz=quiz, concurrency=max(1, args.concurrency),
        image_detail=args.image_detail, temperature=args.temperature)


def _prepare(args: argparse.Namespace, client: ModelClient | None) -> _Prepared:
    """The stages before asking, in this order: the bank and the videos' evidence (frames
    extracted here), the model client, the output folder. Raises _UsageError."""
    from lecture.runtime.ffmpeg import FfmpegError

    from .bank import BankError, load_bank, load_exclude
    from .build_folder import BuildFolderError
    from .video import EvidenceError

    settings = _settings(args)
    try:
        bank = load_bank(args.bank)
        exclude_keys, exclude_source = load_exclude(settings.exclude) if settings.quiz else (set(), "none")
        if args.eval_command == "bench":
            jobs = _bench_jobs(args, bank)
        else:
            jobs = [_single_job(args, bank, settings.quiz)]
    except (BankError, EvidenceError, BuildFolderError, FfmpegError) as exc:
        raise _UsageError(str(exc)) from exc
    client, model = _model_client(args, client)
    out, store = _answer_store(args.out)
    if getattr(args, "executor", "local") == "ray":
        from lecture.runtime.ray_pool import ClusterError, connect

        try:
            connect(args.address)  # Ray installed, the cluster reachable: before any question
        except ClusterError as exc:
            raise _UsageError(str(exc)) from exc
    return _Prepared(args.eval_command, settings, bank, exclude_keys, exclude_source, jobs, client, model,
                     out, store)


def _measured_job(args: argparse.Namespace, topic: str, path: Path, build: BuildFolder | None = None) -> Job:
    """The job of one video found: its evidence (frames extracted here) and its findings."""
    from .layout_findings import lecture_findings
    from .runner import Job
    from .video import load_evidence

    ev = load_evidence(path, max_frames=args.max_frames, max_step_frames=args.max_step_frames,
                       width=args.frame_width, build=build)
    return Job(topic, ev, path.name, lecture_findings(ev.build_folder, ev.duration))


def _bench_jobs(args: argparse.Namespace, bank: Bank) -> list[Job]:
    """One job per selected topic, its video found in --videos by the topic's slug."""
    from .bank import select_topics, slug
    from .runner import Job

    folder = Path(args.videos)
    if not folder.is_dir():
        raise _UsageError(f"{folder} is not a folder")
    jobs: list[Job] = []
    for topic in select_topics(bank, args.topics):
        path = _video_for(folder, slug(topic))
        if path is None:
            jobs.append(Job(topic, None, "(missing)"))
            continue
        jobs.append(_measured_job(args, topic, path))
    return jobs


def _single_job(args: argparse.Namespace, bank: Bank, quiz: bool) -> Job:
    """The job of `quiz` or `aes`: one video (or build) on the topic given or guessed."""
    from .build_folder import is_build, load_build

    path = Path(args.video)
    build = load_build(path) if is_build(path) else None  # its paths checked first
    return _measured_job(args, _chosen_topic(args, bank, quiz, path, build), path, build)


def _chosen_topic(args: argparse.Namespace, bank: Bank, quiz: bool, path: Path,
                  build: BuildFolder | None) -> str:
    from .bank import slug

    if args.topic:
        chosen = bank.topic_by_slug(args.topic) or bank.topic_by_slug(slug(args.topic))
        if chosen is None and quiz:
            raise _UsageError(f"{args.topic!r} is not a topic of the question bank "
                              "(give a topic or its slug)")
        return chosen or args.topic
    chosen = _guess_topic(bank, path, build)
    if chosen is None and not quiz:
        chosen = _title(path, build)  # aesthetics: any topic is context enough
    if chosen is None:
        raise _UsageError("name the topic with --topic (the file name matches none)")
    return chosen


def _model_client(args: argparse.Namespace, client: ModelClient | None) -> tuple[ModelClient, str]:
    """The client given (tests), else one from the critic's settings; and its model's name."""
    from lecture.agents.config import AgentError

    try:
        if client is None:
            from dataclasses import replace

            from lecture.agents.client import ModelClient
            from lecture.agents.config import config_from_args

            config = replace(config_from_args(args).for_agent("critic"), agent="eval")
            client = ModelClient(config)
        return client, client.model
    except AgentError as exc:
        raise _UsageError(str(exc)) from exc


def _answer_store(out_arg: str) -> tuple[Path, AnswerStore]:
    """The answers and reports go only into a real folder, never through a planted link."""
    from lecture.runtime.safe_fs import UnsafePathError, safe_dir

    from .store import AnswerStore

    try:
        out = safe_dir(out_arg)
        return out, AnswerStore(out / "answers.jsonl")
    except UnsafePathError as exc:
        raise _UsageError(str(exc)) from exc


def _ask_and_report(p: _Prepared, args: argparse.Namespace, con: Console) -> int:
    """Ask what the store lacks, then score and write the reports."""
    from .ray_runner import run_on_cluster
    from .report import write_reports
    from .results import compute_results
    from .runner import Evaluator, plan_tasks

    tasks = plan_tasks(p.jobs, p.bank, p.settings, p.exclude_keys, p.model)
    todo = sum(1 for t in tasks if t.key not in p.store)
    images = sum(len(t.evidence.frames) for t in tasks if t.evidence is not None and t.key not in p.store)
    con.print(f"lecture eval {p.command}: {len(p.jobs)} video(s), {len(tasks)} answers needed, "
              f"{len(tasks) - todo} stored, {todo} to ask ({images} images) of {p.model} at {p.client.where}")
    evaluator = Evaluator(p.client, p.store, p.settings, progress=_progress_printer(con))
    try:
        if getattr(args, "executor", "local") == "ray":
            stats = run_on_cluster(evaluator, tasks, args.address)
        else:
            stats = evaluator.run(tasks)
    except KeyboardInterrupt:
        con.print(f"lecture eval: interrupted; {len(p.store)} answers are stored in {p.store.path}: "
                  "run the same command again to finish")
        return EXIT_INTERRUPTED
    prices = (args.price_in or 0.0, args.price_out or 0.0) if (args.price_in or args.price_out) else None
    results = compute_results(p.jobs, tasks, p.store, p.bank, p.settings, p.exclude_keys, p.exclude_source,
                              p.model, prices)
    title = {"quiz": "TeachQuiz", "aes": "Aesthetics", "bench": "TeachQuiz benchmark"}[p.command]
    paths = write_reports(results, p.out, f"Lecture evaluation: {title}")
    _print_outcome(con, p, results, stats, paths)
    if results.missing or stats.failed:
        con.print(f"lecture eval: {results.missing} answer(s) missing after server failures; "
                  "rerun to ask them")
        return EXIT_INCOMPLETE
    return EXIT_OK


def _progress_printer(con: Console) -> Callable[[int, int], None]:
    """A progress callback that prints about every tenth of the answers."""
    last = {"shown": -1}

    def progress(done: int, total: int) -> None:
        step = max(1, total // 10)
        if total and (done == total or done // step != last["shown"]):
            last["shown"] = done // step
            con.print(f"  {done}/{total} answers")
    return progress


def _print_outcome(con: Console, p: _Prepared, results: Results, stats: RunStats,
                   paths: dict[str, Path]) -> None:
    for failure in stats.failed[:10]:
        con.print(f"  failed: {failure}")
    if p.command != "aes":
        s = results.summary
        con.print(f"stage 1 {_pct(s['1'])}, stage 2 {_pct(s['2'])}, stage 3 {_pct(s['3'])}"
                  + (f", stage 3 + transcript {_pct(s['3t'])}" if s["3t"]["value"] is not None else "")
                  + f"; gain {_pct(s['gain'], True)}; unlearning held: "
                  + ("yes" if s["held"]["value"] else "no"))
    if p.settings.aes and results.aes_summary["total"]["value"] is not None:
        con.print(f"aesthetics {results.aes_summary['total']['value']:.1f}/100")
    con.print(f"asked {stats.asked} ({stats.reused} reused) in {stats.seconds:.1f} s; "
              f"report: {paths['md']}, {paths['html']}")


def _pct(stat: dict, signed: bool = False) -> str:
    value = stat.get("value")
    if value is None:
        return "n/a"
    return f"{value:+.1f}" if signed else f"{value:.1f}%"
