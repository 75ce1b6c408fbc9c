"""Benchmark: the Planner's loop over the corpus of realistic model mistakes
(tests/planner_corpus.py), against the scripted OpenAI-compatible server of the tests.

    .venv/bin/python bench/bench_planner.py            # every case, one topic each
    .venv/bin/python bench/bench_planner.py --no-critic --cases yaml-mapping,invented-kind

Each case is one topic: the outline, then the one section whose first answer holds the
mistake (and whose second answer, when the case has one, repairs it). The whole `lecture new`
path runs (real `openai` client, the whole checker in the loop, the Critic, the final check).
Printed: per case the repair turns, the tokens the server counted and the prompt tokens
estimated per call; then the repair rate (topics written clean under `check --strict`), the
repair turns per section (target <= 1.5) and the tokens per topic. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeOpenAI  # noqa: E402
from lecture.agents.config import resolve_config  # noqa: E402
from lecture.agents.planner import plan_lesson  # noqa: E402
from lecture.agents.section_check import check_lesson_text  # noqa: E402
from planner_corpus import CASES, OUTLINE_JSON, Case  # noqa: E402
from rich.console import Console  # noqa: E402


def run_case(case: Case, folder: Path, critic: bool) -> dict:
    with FakeOpenAI() as server:
        server.add(OUTLINE_JSON)
        server.add(case.answer, finish_reason=case.finish_reason)
        if case.repair is not None:
            server.add(case.repair)
        config = resolve_config(base_url=server.base_url, model="bench", backoff_base=0.001,
                                use_config_file=False)
        output = folder / f"{case.name}.lecture"
        start = time.monotonic()
        result = plan_lesson(case.name, client_config=config, output=output, minutes=1, critic=critic,
                             console=Console(file=io.StringIO()))
        seconds = time.monotonic() - start
        strict_clean = result.ok and not check_lesson_text(output.read_text(encoding="utf-8"), str(output),
                                                           base_dir=folder)
        section_turns = sum(1 for c in result.calls if c.stage != "outline" and c.turn > 0)
        tokens = sum(r.prompt_tokens + r.completion_tokens for r in result.usage.records)
        estimated = [c.prompt_tokens_estimated for c in result.calls]
        return {"case": case.name, "family": case.family, "ok": strict_clean, "turns": section_turns,
                "sections": result.sections, "tokens": tokens, "estimated": estimated, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--no-critic", dest="critic", action="store_false")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # (Manim's root handler would print every HTTP request)
    wanted = set(args.cases.split(",")) if args.cases else None
    cases = [c for c in CASES if wanted is None or c.name in wanted]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            row = run_case(case, Path(tmp), args.critic)
            rows.append(row)
            print(f"{row['case']:30} {row['family']:10} {'clean' if row['ok'] else 'NOT CLEAN':9} "
                  f"turns {row['turns']}  tokens {row['tokens']:6,}  prompt/call ~{max(row['estimated']):,} "
                  f"(estimated)  {row['seconds']:.1f}s", flush=True)
    sections = sum(r["sections"] for r in rows) or 1
    print()
    print(f"repair rate: {sum(r['ok'] for r in rows)}/{len(rows)} topics written clean under check --strict")
    print(f"repair turns per section: {sum(r['turns'] for r in rows) / sections:.2f} (target <= 1.5)")
    mean = statistics.mean(r["tokens"] for r in rows)
    print(f"tokens per topic (1 section, server-counted): mean {mean:,.0f}, "
          f"max {max(r['tokens'] for r in rows):,}")
    calls = [e for r in rows for e in r["estimated"]]
    print(f"prompt size per call (estimated, 4 chars a token): mean {statistics.mean(calls):,.0f}, "
          f"max {max(calls):,}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
