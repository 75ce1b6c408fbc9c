"""A worker's answer crosses the process boundary as JSON and comes back typed; an
answer that is not one (a worker may run a lesson's code) is a failure, never a crash of
the parent."""

from __future__ import annotations

import json
from pathlib import Path

from lecture.runtime.pool import JobResult, _read_answer
from lecture.runtime.worker_result import TraceFrame, WorkerFailure, WorkerOutput, answer_from_json


def _raise_chained() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        raise ValueError("latex error converting to dvi") from exc


def test_a_failure_survives_the_trip_through_json():
    try:
        _raise_chained()
    except ValueError as exc:
        failure = WorkerFailure.from_exception(exc, "/tmp/lesson_scenes.py")
    assert failure.kind == "exception" and failure.type == "ValueError"
    assert failure.frames[-1].function == "_raise_chained" and failure.frames[-1].file == __file__
    assert failure.cause is not None and failure.cause.type == "KeyError"
    assert "Traceback" in (failure.traceback or "")
    back = answer_from_json(json.loads(json.dumps(failure.to_json())))
    assert back == failure


def test_an_output_survives_the_trip_and_a_job_result_reads_it():
    out = WorkerOutput("movie", Path("/tmp/x/section.mp4"))
    assert answer_from_json(json.loads(json.dumps(out.to_json()))) == out
    result = JobResult(out, 1.5)
    assert result.ok and result.output == out.path and result.failure is None
    assert result.outcome.to_json() == {"ok": True, "movie": "/tmp/x/section.mp4"}
    cancelled = JobResult(WorkerFailure.cancelled(), 0.0)
    assert cancelled.cancelled and not cancelled.ok and cancelled.output is None
    assert cancelled.failure is not None and cancelled.failure.kind == "cancelled"


def test_malformed_answers_become_internal_failures():
    for line in ("[1, 2]", '"ok"', '{"ok": true}', '{"ok": true, "movie": 5}', "not json {"):
        outcome = _read_answer(line)
        assert isinstance(outcome, WorkerFailure), line
        assert outcome.kind == "internal" and outcome.type == "ProtocolError", line
    # wrong types inside a failure get defaults; a frame without a line is dropped
    odd = answer_from_json({"ok": False, "kind": 3, "message": None,
                            "frames": [{"file": "a.py", "line": "7"}, {"file": "b.py"}, "x"]})
    assert isinstance(odd, WorkerFailure)
    assert (odd.kind, odd.type, odd.message) == ("exception", "Exception", "")
    assert odd.frames == (TraceFrame("a.py", 7),)


def test_a_deep_cause_chain_is_cut():
    data: dict = {"ok": False, "kind": "exception", "type": "E", "message": "0"}
    for i in range(1, 200):
        data = {"ok": False, "kind": "exception", "type": "E", "message": str(i), "cause": data}
    failure = answer_from_json(data)
    depth = 0
    while isinstance(failure, WorkerFailure) and failure.cause is not None:
        failure, depth = failure.cause, depth + 1
    assert depth == 20
