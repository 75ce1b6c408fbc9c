"""A cloned repository's `build/` folder cannot point `lecture eval` or `lecture critique` at
files outside it: a planted manifest.json naming a canary file by absolute path or by
`../..`, a link inside the build pointing out, links where eval writes its answers and
reports. Each refusal is exit 2 with a message naming the field and the path, no
traceback, and the model server hears nothing; nothing outside the repository changes."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.critic import run_critique
from test_eval import BANK, MODULE, SRT, TOPIC, make_mp4, oracle, paper_policy, run

CANARY = "CANARY-5f0c1e8a-do-not-send"
LESSON = f"""\
lesson "Tiny Topic"

section add "Adding"
  text t "{CANARY}" at B2
  circle c at E5
  step 1s: write t
  step 1s: create c

section shape "Shapes"
  square s at C4
  step 1s: create s
"""


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media")
    return {"lesson": make_mp4(root / "lesson.mp4", ("black", "yellow", "purple")),
            "private": make_mp4(root / "private.mp4", ("white", "red", "white", "red"))}


@pytest.fixture
def clone(fake_openai, media, tmp_path, monkeypatch) -> dict[str, Path]:
    """The user's files (tmp_path/home: a key, a private video, subtitles, a lesson) and a
    cloned repository (tmp_path/repo, the current folder) with an honest build of `tiny`
    whose manifest has relative paths, as `lecture render tiny.lecture` writes them."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(CANARY + "\n")
    shutil.copy(media["private"], home / "private.mp4")
    (home / "secret.srt").write_text(SRT.replace("Two plus two makes four.", CANARY))
    (home / "secret.lecture").write_text(LESSON)
    (home / "notes.json").write_text(json.dumps({"title": CANARY, "sections": []}))
    repo = tmp_path / "repo"
    build = repo / "build" / "tiny"
    build.mkdir(parents=True)
    shutil.copy(media["lesson"], build / "lesson.mp4")
    (build / "lesson_scenes.py").write_text(MODULE)
    (build / "lesson.srt").write_text(SRT)
    write_manifest(build, honest_manifest())
    (repo / "bank.json").write_text(json.dumps(BANK))
    monkeypatch.chdir(repo)
    return {"home": home, "repo": repo, "build": build}


def honest_manifest() -> dict:
    return {"lesson": "tiny.lecture", "title": TOPIC, "fps": 10, "quality": "low", "status": "ok",
            "module": "build/tiny/lesson_scenes.py", "source_map": "build/tiny/sourcemap.json",
            "output": "build/tiny/lesson.mp4", "copied_to": None, "duration": 3.0, "frames": 30,
            "subtitles": ["build/tiny/lesson.srt"],
            "sections": [{"id": "add", "title": "Adding", "class_name": "S01Add", "status": "ok",
                          "rendered_duration": 1.5, "frames": 15, "output": "build/tiny/sections/add.mp4",
                          "log": "build/tiny/logs/add.log"},
                         {"id": "shape", "title": "Shapes", "class_name": "S02Shape", "status": "ok",
                          "rendered_duration": 1.5, "frames": 15,
                          "output": "build/tiny/sections/shape.mp4", "log": "build/tiny/logs/shape.log"}]}


def write_manifest(build: Path, manifest: dict) -> None:
    (build / "manifest.json").write_text(json.dumps(manifest))


def evaluate(server: FakeOpenAI, target: str = "build/tiny", *more: str) -> tuple[int, str]:
    return run(server, "quiz", target, "--topic", TOPIC, "--bank", "bank.json", "--no-aes",
               "--permutations", "1", "--no-transcript-variant", *more)


def everything_sent(server: FakeOpenAI) -> str:
    return "\n".join(json.dumps(r.body) for r in server.requests)


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


# ------------------------------------------------------------------ the honest build


def test_an_honest_build_and_a_copy_of_it_are_evaluated(fake_openai, clone):
    fake_openai.add(*[oracle(paper_policy)] * 40)
    code, printed = evaluate(fake_openai)
    assert code == 0, printed
    # a build copied elsewhere (a bench folder) still reads its own files, not the original's
    shutil.copytree(clone["build"], clone["repo"] / "videos" / "tiny-topic")
    (clone["build"] / "lesson_scenes.py").unlink()
    code, printed = evaluate(fake_openai, "videos/tiny-topic", "--out", "copy-out")
    assert code == 0, printed
    topic = json.loads((clone["repo"] / "copy-out" / "report.json").read_text())["topics"][0]
    assert topic["frames"] == 3 and "step times from the generated module" in topic["notes"]


# ------------------------------------------------------------------ planted manifests


def _abs_output(c: dict) -> None:
    (c["build"] / "lesson.mp4").unlink()
    write_manifest(c["build"], {**honest_manifest(), "output": str(c["home"] / "private.mp4")})


def _dotdot_output(c: dict) -> None:
    (c["build"] / "lesson.mp4").unlink()
    write_manifest(c["build"], {**honest_manifest(), "output": "build/tiny/../../../home/private.mp4"})


def _dotdot_module(c: dict) -> None:
    write_manifest(c["build"], {**honest_manifest(), "module": "../../home/.ssh/id_rsa"})


def _abs_subtitles(c: dict) -> None:
    write_manifest(c["build"], {**honest_manifest(), "subtitles": [str(c["home"] / "secret.srt")]})


def _section_output(c: dict) -> None:
    manifest = honest_manifest()
    manifest["sections"][1]["output"] = str(c["home"] / "private.mp4")
    write_manifest(c["build"], manifest)


def _linked_video(c: dict) -> None:
    (c["build"] / "lesson.mp4").unlink()
    (c["build"] / "lesson.mp4").symlink_to(c["home"] / "private.mp4")


def _linked_subtitles(c: dict) -> None:
    (c["build"] / "lesson.srt").unlink()
    (c["build"] / "lesson.srt").symlink_to("../../../home/secret.srt")
    write_manifest(c["build"], {**honest_manifest(), "subtitles": []})


def _linked_manifest(c: dict) -> None:
    (c["build"] / "manifest.json").unlink()
    (c["build"] / "manifest.json").symlink_to(c["home"] / "notes.json")


def _linked_build(c: dict) -> None:
    elsewhere = c["home"] / "their-build"
    shutil.move(c["build"], elsewhere)
    shutil.copy(c["home"] / "private.mp4", elsewhere / "lesson.mp4")
    c["build"].symlink_to(elsewhere, target_is_directory=True)


HOSTILE: dict[str, tuple[Callable[[dict], None], str]] = {
    # case: (what the clone plants, what the error must name)
    "absolute output": (_abs_output, "`output` names '/"),
    "../.. output": (_dotdot_output, "`output` names 'build/tiny/../../../home/private.mp4'"),
    "../.. module": (_dotdot_module, "`module` names '../../home/.ssh/id_rsa'"),
    "absolute subtitles": (_abs_subtitles, "`subtitles[0]` names '/"),
    "absolute section video": (_section_output, "`sections[1].output` names '/"),
    "lesson.mp4 linked out": (_linked_video, "`output` names 'build/tiny/lesson.mp4', which is a link out"),
    "lesson.srt linked out": (_linked_subtitles, "lesson.srt of the build names 'lesson.srt', which is a "
                                                 "link out"),
    "manifest.json linked out": (_linked_manifest, "manifest.json is not a regular file"),
    "build folder linked out": (_linked_build, "build/tiny is a symbolic link"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_planted_manifest_is_refused_before_anything_is_sent(fake_openai, clone, case):
    plant, named = HOSTILE[case]
    plant(clone)
    before = files_under(clone["home"])
    fake_openai.add(*[oracle(paper_policy)] * 40)
    code, printed = evaluate(fake_openai)
    assert code == 2, printed
    assert named in printed.replace("\n", ""), printed
    assert "build/tiny/manifest.json" in printed or "build/tiny is" in printed
    assert "Traceback" not in printed and CANARY not in printed
    assert fake_openai.requests == []  # not one request, let alone one carrying the canary
    assert not (clone["repo"] / "lecture-eval").exists()
    assert files_under(clone["home"]) == before


def test_the_cli_refuses_with_exit_2_and_no_traceback(fake_openai, clone):
    _abs_output(clone)
    env = {**os.environ, "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": "sk-test"}
    cp = subprocess.run([sys.executable, "-m", "lecture", "eval", "quiz", "build/tiny", "--topic", TOPIC,
                         "--bank", "bank.json", "--model", "vision-model"],
                        capture_output=True, text=True, timeout=120, env=env)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 2, out
    assert "manifest field `output`" in out and str(clone["home"] / "private.mp4") in out.replace("\n", "")
    assert "Traceback" not in out and fake_openai.requests == []


def test_a_lesson_outside_the_repository_is_not_read(fake_openai, clone):
    """The lesson field names a file outside the build by design; one outside the folder the
    build belongs to is left unread (findings n/a, step times from the sections), so its text
    (here: a parseable lesson with the canary in it) neither times the frames nor reaches
    the server or the report."""
    (clone["build"] / "lesson_scenes.py").unlink()
    manifest = {**honest_manifest(), "lesson": str(clone["home"] / "secret.lecture")}
    write_manifest(clone["build"], manifest)
    fake_openai.add(*[oracle(paper_policy)] * 40)
    code, printed = evaluate(fake_openai, "build/tiny", "--out", "abs")
    assert code == 0, printed
    manifest["lesson"] = "../home/secret.lecture"  # from the repository, where render ran
    write_manifest(clone["build"], manifest)
    code, printed = evaluate(fake_openai, "build/tiny", "--out", "rel")
    assert code == 0, printed
    for out in ("abs", "rel"):
        report = (clone["repo"] / out / "report.json").read_text()
        topic = json.loads(report)["topics"][0]
        assert topic["frames"] == 2 and "step times from the sections" in topic["notes"]
        assert "not read" in topic["findings"]["source"]
        assert CANARY not in report
    assert fake_openai.requests and CANARY not in everything_sent(fake_openai)


# ------------------------------------------------------------------ what eval writes


def test_reports_replace_a_planted_link_instead_of_writing_through_it(fake_openai, clone):
    out = clone["repo"] / "lecture-eval"
    out.mkdir()
    bashrc = clone["home"] / ".bashrc"
    bashrc.write_text("# the user's shell\n")
    (out / "report.md").symlink_to(bashrc)
    (out / "report.json").symlink_to("../../home/.ssh/id_rsa")
    fake_openai.add(*[oracle(paper_policy)] * 40)
    code, printed = evaluate(fake_openai)
    assert code == 0, printed
    assert bashrc.read_text() == "# the user's shell\n"
    assert (clone["home"] / ".ssh" / "id_rsa").read_text() == CANARY + "\n"
    for name in ("report.md", "report.json"):
        assert not (out / name).is_symlink() and (out / name).stat().st_size > 0


@pytest.mark.parametrize("plant", ["answers link", "out folder link"])
def test_a_planted_answer_store_or_output_folder_is_refused(fake_openai, clone, plant):
    bashrc = clone["home"] / ".bashrc"
    bashrc.write_text("# the user's shell\n")
    out = clone["repo"] / "lecture-eval"
    if plant == "answers link":
        out.mkdir()
        (out / "answers.jsonl").symlink_to(bashrc)
    else:
        out.symlink_to(clone["home"], target_is_directory=True)
    before = files_under(clone["home"])
    fake_openai.add(*[oracle(paper_policy)] * 40)
    code, printed = evaluate(fake_openai)
    assert code == 2, printed
    assert "is a symbolic link" in printed and "Traceback" not in printed
    assert fake_openai.requests == [] and files_under(clone["home"]) == before


# ------------------------------------------------------------------ critique


def test_critique_ignores_a_planted_build(fake_openai, clone):
    """`lecture critique` reads the lesson, never its build folder: a planted manifest and a
    linked video change nothing, and what the vision model is sent holds no canary."""
    _linked_video(clone)
    write_manifest(clone["build"], {**honest_manifest(), "output": str(clone["home"] / "private.mp4"),
                                    "module": str(clone["home"] / ".ssh" / "id_rsa"),
                                    "subtitles": [str(clone["home"] / "secret.srt")]})
    lesson = clone["repo"] / "tiny.lecture"
    lesson.write_text(LESSON.replace(CANARY, "hello"))
    before = files_under(clone["home"])
    fake_openai.add(json.dumps({"edits": []}))
    args = argparse.Namespace(file="tiny.lecture", dry_run=True, vlm=True, time_limit=30.0,
                              base_url=fake_openai.base_url, api_key=None, model="vision-model",
                              timeout=10.0, max_retries=0)
    out, err = io.StringIO(), io.StringIO()
    code = run_critique(args, out=out, err=err)
    assert code in (0, 1), err.getvalue()
    assert CANARY not in out.getvalue() + err.getvalue()
    (request,) = fake_openai.chat_requests
    assert CANARY not in json.dumps(request.body)
    assert lesson.read_text() == LESSON.replace(CANARY, "hello")  # --dry-run
    assert files_under(clone["home"]) == before
