"""`lecture eval quiz|aes|bench`: the command line of the evaluation.

The CLI wires it with:

    from lecture.agents.evaluation.cli import add_eval_arguments
    p = sub.add_parser("eval", help="TeachQuiz and aesthetics of videos, with a vision model")
    add_eval_arguments(p)

    @command("eval")
    def cmd_eval(args):
        from lecture.agents.evaluation.cli import run_eval
        return run_eval(args)

Only argparse is imported at module level (the CLI builds its parser on every run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
    _common(p, quiz=True)


def _video_for(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.mp4", folder / name / "lesson.mp4"):
        if candidate.is_dir() and ((candidate / "manifest.json").is_file()
                                   or (candidate / "lesson.mp4").is_file()):
            return candidate
        if candidate.is_file():
            return candidate
    return None


def _guess_topic(bank, path: Path, build) -> str | None:
    names = [path.stem, path.name, path.parent.name]
    if build is not None:
        names += [str(build.manifest.get("title", "")), Path(str(build.manifest.get("lesson", ""))).stem]
    from .bank import slug

    for name in names:
        topic = bank.topic_by_slug(slug(name)) if name else None
        if topic:
            return topic
    return None


def _title(path: Path, build) -> str:
    title = build.manifest.get("title") if build is not None else None
    return str(title) if title else path.stem.replace("-", " ").replace("_", " ")


def run_eval(args: argparse.Namespace, *, console=None, client=None) -> int:
    """Run `lecture eval quiz|aes|bench`; 0 when complete, 1 when answers are missing
    (server failures: rerun to finish), 2 on a usage error, 130 when interrupted."""
    from lecture.agents.client import ModelClient
    from lecture.agents.config import AgentError, config_from_args
    from lecture.runtime.ffmpeg import FfmpegError
    from lecture.runtime.safe_fs import UnsafePathError, safe_dir

    from lecture.terminal import make_console

    from .bank import BankError, load_bank, load_exclude, select_topics, slug
    from .build_folder import BuildFolderError, is_build, load_build
    from .findings import lecture_findings
    from .report import write_reports
    from .results import compute_results
    from .runner import Evaluator, Job, Settings, plan_tasks
    from .store import AnswerStore
    from .video import EvidenceError, load_evidence

    con = console or make_console()
    command = args.eval_command
    quiz = command in ("quiz", "bench")
    debias = getattr(args, "debias", True)
    exclude_spec = getattr(args, "exclude", None) or ("default" if debias else "none")
    settings = Settings(
        permutations=max(1, args.permutations) if quiz else 1, seed=getattr(args, "seed", 0), debias=debias,
        exclude=exclude_spec, transcript_variants=getattr(args, "transcript_variants", True),
        aes=getattr(args, "aes", True) if quiz else True, quiz=quiz, concurrency=max(1, args.concurrency),
        image_detail=args.image_detail, temperature=args.temperature)
    try:
        bank = load_bank(args.bank)
        exclude_keys, exclude_source = load_exclude(exclude_spec) if quiz else (set(), "none")
        jobs: list[Job] = []
        evidence_args = {"max_frames": args.max_frames, "max_step_frames": args.max_step_frames,
                         "width": args.frame_width}
        if command == "bench":
            folder = Path(args.videos)
            if not folder.is_dir():
                con.print(f"lecture eval: {folder} is not a folder")
                return EXIT_ERROR
            for topic in select_topics(bank, args.topics):
                path = _video_for(folder, slug(topic))
                if path is None:
                    jobs.append(Job(topic, None, "(missing)"))
                    continue
                ev = load_evidence(path, **evidence_args)
                jobs.append(Job(topic, ev, path.name, lecture_findings(ev.build_folder, ev.duration)))
        else:
            path = Path(args.video)
            build = load_build(path) if is_build(path) else None  # its paths checked first
            if args.topic:
                chosen = bank.topic_by_slug(args.topic) or bank.topic_by_slug(slug(args.topic))
                if chosen is None and quiz:
                    con.print(f"lecture eval: {args.topic!r} is not a topic of the question bank "
                              "(give a topic or its slug)")
                    return EXIT_ERROR
                chosen = chosen or args.topic
            else:
                chosen = _guess_topic(bank, path, build)
                if chosen is None and not quiz:
                    chosen = _title(path, build)  # aesthetics: any topic is context enough
                if chosen is None:
                    con.print("lecture eval: name the topic with --topic (the file name matches none)")
                    return EXIT_ERROR
            ev = load_evidence(path, build=build, **evidence_args)
            jobs.append(Job(chosen, ev, path.name, lecture_findings(ev.build_folder, ev.duration)))
    except (BankError, EvidenceError, BuildFolderError, FfmpegError) as exc:
        con.print(f"lecture eval: {exc}")
        return EXIT_ERROR

    try:
        if client is None:
            from dataclasses import replace

            config = replace(config_from_args(args).for_agent("critic"), agent="eval")
            client = ModelClient(config)
        model = client.model
    except AgentError as exc:
        con.print(f"lecture eval: {exc}")
        return EXIT_ERROR

    try:  # the answers and reports go only into a real folder, never through a planted link
        out = safe_dir(args.out)
        store = AnswerStore(out / "answers.jsonl")
    except UnsafePathError as exc:
        con.print(f"lecture eval: {exc}")
        return EXIT_ERROR

    tasks = plan_tasks(jobs, bank, settings, exclude_keys, model)
    todo = sum(1 for t in tasks if t.key not in store)
    images = sum(len(t.evidence.frames) for t in tasks if t.evidence is not None and t.key not in store)
    con.print(f"lecture eval {command}: {len(jobs)} video(s), {len(tasks)} answers needed, "
              f"{len(tasks) - todo} stored, {todo} to ask ({images} images) of {model} at {client.where}")
    last = {"shown": -1}

    def progress(done: int, total: int) -> None:
        step = max(1, total // 10)
        if total and (done == total or done // step != last["shown"]):
            last["shown"] = done // step
            con.print(f"  {done}/{total} answers")

    evaluator = Evaluator(client, store, settings, progress=progress)
    try:
        stats = evaluator.run(tasks)
    except KeyboardInterrupt:
        con.print(f"lecture eval: interrupted; {len(store)} answers are stored in {store.path}: "
                  "run the same command again to finish")
        return EXIT_INTERRUPTED
    prices = (args.price_in or 0.0, args.price_out or 0.0) if (args.price_in or args.price_out) else None
    results = compute_results(jobs, tasks, store, bank, settings, exclude_keys, exclude_source, model, prices)
    title = {"quiz": "TeachQuiz", "aes": "Aesthetics", "bench": "TeachQuiz benchmark"}[command]
    paths = write_reports(results, out, f"Lecture evaluation: {title}")
    for failure in stats.failed[:10]:
        con.print(f"  failed: {failure}")
    if command != "aes":
        s = results.summary
        con.print(f"stage 1 {_pct(s['1'])}, stage 2 {_pct(s['2'])}, stage 3 {_pct(s['3'])}"
                  + (f", stage 3 + transcript {_pct(s['3t'])}" if s["3t"]["value"] is not None else "")
                  + f"; gain {_pct(s['gain'], True)}; unlearning held: "
                  + ("yes" if s["held"]["value"] else "no"))
    if settings.aes and results.aes_summary["total"]["value"] is not None:
        con.print(f"aesthetics {results.aes_summary['total']['value']:.1f}/100")
    con.print(f"asked {stats.asked} ({stats.reused} reused) in {stats.seconds:.1f} s; "
              f"report: {paths['md']}, {paths['html']}")
    if results.missing or stats.failed:
        con.print(f"lecture eval: {results.missing} answer(s) missing after server failures; "
                  "rerun to ask them")
        return EXIT_INCOMPLETE
    return EXIT_OK


def _pct(stat: dict, signed: bool = False) -> str:
    value = stat.get("value")
    if value is None:
        return "n/a"
    return f"{value:+.1f}" if signed else f"{value:.1f}%"
