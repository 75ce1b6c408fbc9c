"""`--executor ray` on a real Ray cluster on 127.0.0.1: a head and two worker nodes, each a
`ray start` of its own (1 CPU each), started once for this module and stopped at its end.

Two small lessons (two short sections each, silent, low quality; one shows an image, which
travels with its job) are rendered through the cluster by the `lecture` command (each lesson
by a process of its own, at once) and their videos compared frame by frame with local
renders; a failing lesson is reported at its line while the other renders; a render past
its timeout is stopped; Ctrl-C stops the cluster's tasks; a worker node killed while it
renders does not stop the build; `lecture eval bench --executor ray` asks through the
cluster against the scripted OpenAI-compatible server into the one resumable answer store.
Without a cluster: without Ray, or with no cluster at the address, the option says what to
do in one line; a node running another Lecture fails its section saying so; an answer
naming a file outside its folder is refused; an ordinary build never imports Ray.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.runtime import build
from lecture.runtime.executor import Executor
from rich.console import Console
from test_eval import BANK, make_mp4, oracle, paper_policy, parse_args
from test_step_units import _framemd5

BIN = Path(sys.executable).parent
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
           # a lost node is noticed within seconds, not the default half minute
           "RAY_health_check_period_ms": "500", "RAY_health_check_failure_threshold": "4",
           "RAY_health_check_initial_delay_ms": "0"}

CIRCLE = """\
lesson "Circle"
  audience: "tests"

section intro "Hello"
  line l1 "A circle."
  circle c at B2 color=blue
  step 1s: say l1; create c

section more "A square"
  line l2 "A square."
  square s at C4 color=red
  math sum34 $\\textcolor{green}{3^2} + 4^2 = \\textcolor{green}{9} + 16$ in E1..F6
  math sum25 $\\textcolor{green}{3^2} + 4^2 = 25$ in E1..F6
  step 1s: say l2; create s; write sum34
  step 1s: transform sum34 into sum25
  wait 0.5s
"""

PICTURE = """\
lesson "Picture"
  audience: "tests"

section first "A dot"
  line l1 "A dot."
  circle c at B2 color=green
  step 1s: say l1; create c

section bad "A picture"
  image eq "pic.png" at C3
  step 1s: create eq
"""


# ------------------------------------------------------------------ the cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    env: dict[str, str]
    groups: dict[str, int]  # node name -> the process group of its `ray start` (its raylet, its workers)
    temp: Path

    def kill(self, name: str) -> None:
        """The node's processes killed: its raylet and agents (its group), its workers
        (the raylet's children, each in a group of its own)."""
        pgid = self.groups.pop(name)
        workers = [pid for pid, _ in _workers_of(pgid)]
        _kill_group(pgid)
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _processes() -> list[tuple[int, int, int, str]]:
    """(pid, ppid, pgid, command line) of every process."""
    ps = subprocess.run(["ps", "-eo", "pid=,ppid=,pgid=,args="], capture_output=True, text=True).stdout
    rows = []
    for line in ps.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4:
            rows.append((int(parts[0]), int(parts[1]), int(parts[2]), parts[3]))
    return rows


def _workers_of(pgid: int) -> list[tuple[int, str]]:
    """The Ray workers of the node whose `ray start` made process group `pgid` (children of
    its processes; Ray gives each worker a process group of its own)."""
    rows = _processes()
    node = {pid for pid, _, group, _ in rows if group == pgid}
    return [(pid, args) for pid, ppid, group, args in rows if ppid in node and group != pgid]


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _ray_start(env: dict[str, str], *args: str) -> int:
    """`ray start …` in a process group of its own (what it leaves running keeps it)."""
    proc = subprocess.Popen([str(BIN / "ray"), "start", "--num-cpus=1", "--disable-usage-stats",
                             "--node-ip-address=127.0.0.1", *args], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return proc.pid


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # a short folder: Ray's socket paths must fit in 107 bytes
    temp = Path(tempfile.mkdtemp(prefix="lray", dir="/tmp"))
    env = {**os.environ, **RAY_ENV}
    port = _free_port()
    groups: dict[str, int] = {}
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)  # (for the tests that join it from this process)
    try:
        groups["head"] = _ray_start(env, "--head", f"--port={port}", "--include-dashboard=false",
                                    f"--temp-dir={temp}")
        for name in ("b", "c"):
            groups[name] = _ray_start(env, f"--address=127.0.0.1:{port}")
        yield Cluster(f"127.0.0.1:{port}", env, groups, temp)
    finally:
        for name in list(groups):
            Cluster("", env, groups, temp).kill(name)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(temp, ignore_errors=True)


# ------------------------------------------------------------------ the lessons


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A folder of two lessons: a circle and a square; a dot and an image from the folder."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("course")
    (folder / "circle.lecture").write_text(CIRCLE, encoding="utf-8")
    (folder / "picture.lecture").write_text(PICTURE, encoding="utf-8")
    image = Image.new("RGB", (16, 16), "white")
    for x in range(4, 12):
        image.putpixel((x, x), (200, 0, 0))
    image.save(folder / "pic.png")
    return folder


@pytest.fixture(scope="module")
def local(course, tmp_path_factory) -> Path:
    """The course rendered by the local pool: the reference."""
    out = tmp_path_factory.mktemp("local")
    rc = build.render_lessons(sorted(course.glob("*.lecture")),
                              build.RenderOptions(quality="low", voice="none", build_root=out),
                              console=Console(file=io.StringIO()))
    assert rc == 0
    return out


def lecture(cluster: Cluster, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "lecture"), *args], env=cluster.env, capture_output=True, text=True,
                          timeout=timeout)


def _videos(build_root: Path) -> dict[str, list[str]]:
    found = sorted(build_root.glob("*/*.mp4")) + sorted(build_root.glob("*/sections/*.mp4"))
    return {str(p.relative_to(build_root)): _framemd5(p) for p in found if not p.parts[-2].startswith(".")
            and not p.parent.parent.name.startswith(".")}


def test_a_course_renders_on_the_cluster_frame_identical_to_local(cluster, course, local, tmp_path):
    out = tmp_path / "build"
    done = lecture(cluster, "render", str(course), "-q", "low", "--voice", "none", "--build-dir", str(out),
                   "--executor", "ray", "--address", cluster.address)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _videos(out) == _videos(local)
    assert len(_videos(out)) == 6  # two lessons, two sections each
    # progress as a local build shows it, and nothing of Ray's
    said = done.stdout + done.stderr
    assert "✓ intro done" in said and "✓ bad done" in said
    # the lessons were built at once, each by a process of its own; each one's lines together
    assert f"▶ {course / 'circle.lecture'} (1 of 2)" in said
    assert f"▶ {course / 'picture.lecture'} (2 of 2)" in said
    for name, other in (("circle", "picture"), ("picture", "circle")):
        block = said[said.index(f"Rendering {course / name}.lecture"):said.index(f"{name}/manifest.json")]
        assert other not in block, said
    noise = [line for line in said.splitlines()
             if any(w in line for w in ("INFO", "WARNING", "ray.", "(raylet"))]
    assert noise == [], said
    man = json.loads((out / "picture" / "manifest.json").read_text())
    assert man["jobs"] == 3  # the cluster's CPUs
    log = (out / "picture" / "logs" / "bad.log").read_text()
    assert "# lecture: rendered on" in log  # the worker's own log came back


def test_a_failing_lesson_is_reported_at_its_line_and_the_other_still_renders(cluster, course, tmp_path,
                                                                              monkeypatch):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    for name in ("circle.lecture", "picture.lecture", "pic.png"):
        shutil.copy(course / name, lessons / name)
    picture = lessons / "pic.png"
    real_compile = build.compile_module

    def compile_then_delete(lesson, **kw):
        module = real_compile(lesson, **kw)
        picture.unlink(missing_ok=True)  # checked and compiled here; gone when the worker looks
        return module

    monkeypatch.setattr(build, "compile_module", compile_then_delete)
    buffer = io.StringIO()
    rc = build.render_lessons(
        [lessons / "picture.lecture", lessons / "circle.lecture"],
        build.RenderOptions(quality="low", voice="none", build_root=tmp_path / "build", autofix=False,
                            executor=Executor("ray", cluster.address)),
        console=Console(file=buffer, width=200, color_system=None))
    out = buffer.getvalue()
    assert rc == 1, out
    assert f"{lessons / 'picture.lecture'}:10:" in out and "pic.png" in out, out  # the image's line
    assert "✗ bad failed" in out and "Traceback" not in out
    assert str(tempfile.gettempdir()) + "/lecture-ray-" not in out  # our paths, not the worker's
    assert (tmp_path / "build" / "picture" / "sections" / "first.mp4").is_file()
    assert (tmp_path / "build" / "circle" / "lesson.mp4").is_file()


def test_a_render_past_its_timeout_is_stopped_on_the_cluster(cluster, tmp_path):
    slow = tmp_path / "slow.lecture"
    slow.write_text(CIRCLE.replace("step 1s: say l1; create c", "step 30s: say l1; create c"),
                    encoding="utf-8")
    buffer = io.StringIO()
    rc = build.render_lessons(
        [slow],
        build.RenderOptions(quality="low", voice="none", build_root=tmp_path / "build", autofix=False,
                            timeout=1.0, executor=Executor("ray", cluster.address)),
        console=Console(file=buffer, width=200, color_system=None))
    out = buffer.getvalue()
    assert rc == 1, out
    assert f"{slow}:4:1: error: rendering section 'intro' took too long and was stopped" in out, out
    log = (tmp_path / "build" / "slow" / "logs" / "intro.log").read_text()
    assert "the render was stopped after" in log


def test_eval_bench_asks_through_the_cluster_into_one_resumable_store(cluster, fake_openai, tmp_path):
    from lecture.agents.evaluation.cli import run_eval

    bank = {**BANK, "Other Topic": BANK["Tiny Topic"]}
    (tmp_path / "bank.json").write_text(json.dumps(bank), encoding="utf-8")
    videos = tmp_path / "videos"
    videos.mkdir()
    make_mp4(videos / "tiny-topic.mp4", ("red", "blue"))
    make_mp4(videos / "other-topic.mp4", ("green", "white"))
    fake_openai.add(*[oracle(paper_policy)] * 400)

    def bench(out: Path, *extra: str) -> tuple[int, str]:
        buffer = io.StringIO()
        args = parse_args("bench", "--videos", str(videos), "--bank", str(tmp_path / "bank.json"),
                          "--out", str(out), "--base-url", fake_openai.base_url, "--model", "vision-model",
                          *extra)
        return run_eval(args, console=Console(file=buffer, width=300, color_system=None)), buffer.getvalue()

    code, printed = bench(tmp_path / "local")
    assert code == 0, printed
    asked_locally = len(fake_openai.chat_requests)
    code, printed = bench(tmp_path / "ray", "--executor", "ray", "--address", cluster.address)
    assert code == 0, printed
    assert len(fake_openai.chat_requests) == 2 * asked_locally  # the same questions, each once
    keys = [json.loads(line)["key"] for line in (tmp_path / "ray" / "answers.jsonl").read_text().splitlines()]
    assert len(keys) == len(set(keys)) == asked_locally
    local_report = json.loads((tmp_path / "local" / "report.json").read_text())
    ray_report = json.loads((tmp_path / "ray" / "report.json").read_text())
    assert ray_report["summary"] == local_report["summary"]
    code, printed = bench(tmp_path / "ray", "--executor", "ray", "--address", cluster.address)
    assert code == 0 and len(fake_openai.chat_requests) == 2 * asked_locally  # a rerun asks nothing


def _rendering_in(pgid: int) -> bool:
    """A Ray worker of that node is rendering (its process title names our task)."""
    return any("render_shipped" in args for _, args in _workers_of(pgid))


def test_ctrl_c_cancels_the_clusters_tasks(cluster, course, tmp_path):
    """Sent to the command alone (not its process group): it passes it on to each lesson's process."""
    proc = subprocess.Popen([str(BIN / "lecture"), "render", str(course), "-q", "low",
                             "--voice", "none", "--build-dir", str(tmp_path / "build"), "--executor", "ray",
                             "--address", cluster.address],
                            env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline \
            and not any(_rendering_in(g) for g in cluster.groups.values()):
        time.sleep(0.05)
    assert proc.poll() is None, "the build ended before any task ran"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    deadline = time.monotonic() + 10
    while any(_rendering_in(g) for g in cluster.groups.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_rendering_in(g) for g in cluster.groups.values())
    assert not (tmp_path / "build" / "circle" / "lesson.mp4").exists()
    assert not (tmp_path / "build" / "picture" / "lesson.mp4").exists()


def test_a_worker_node_killed_mid_build_does_not_stop_it(cluster, course, local, tmp_path):
    out = tmp_path / "build"
    proc = subprocess.Popen([str(BIN / "lecture"), "render", str(course), "-q", "low", "--voice", "none",
                             "--build-dir", str(out), "--executor", "ray", "--address", cluster.address],
                            env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and proc.poll() is None and time.monotonic() < deadline:
        for name in ("b", "c"):
            if _rendering_in(cluster.groups[name]):
                cluster.kill(name)  # its raylet and its workers, mid-task
                killed = name
                break
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=240)
    assert killed is not None, "no worker node ever rendered: " + stdout + stderr
    assert proc.returncode == 0, stdout + stderr
    assert _videos(out) == _videos(local)


def test_without_ray_the_executor_says_what_to_install(course, tmp_path):
    """`ray` made unimportable in the command's own process (as when it is not installed)."""
    blocked = ("import sys; sys.modules['ray'] = None\n"
               "from lecture.cli import main\n"
               "sys.exit(main(sys.argv[1:]))\n")
    for argv in (["render", str(course / "circle.lecture"), "--executor", "ray", "--build-dir",
                  str(tmp_path / "build")],
                 ["eval", "bench", "--videos", str(tmp_path), "--executor", "ray", "--base-url",
                  "http://127.0.0.1:9/v1", "--model", "m", "--out", str(tmp_path / "eval")]):
        done = subprocess.run([sys.executable, "-c", blocked, *argv], capture_output=True, text=True,
                              timeout=60)
        text = (done.stdout + done.stderr).strip()
        assert done.returncode == 2, text
        assert "pip install 'lecture[cluster]'" in text and "Traceback" not in text
        assert len([line for line in text.splitlines() if "cluster" in line]) == 1
    assert not (tmp_path / "build").exists()  # nothing was done


def test_an_address_where_no_cluster_answers_is_one_clear_line(course, tmp_path):
    port = _free_port()  # (nothing listens there)
    done = subprocess.run([str(BIN / "lecture"), "render", str(course / "circle.lecture"), "--executor",
                           "ray", "--address", f"127.0.0.1:{port}", "--build-dir", str(tmp_path / "build")],
                          capture_output=True, text=True, timeout=60, env={**os.environ, **RAY_ENV})
    assert done.returncode == 2
    assert done.stderr.strip() == f"lecture render: no Ray cluster answers at 127.0.0.1:{port} (Connection " \
        "refused): start one with `ray start --head`, or give its address with --address"
    assert not (tmp_path / "build").exists()


def test_every_render_option_reaches_each_lessons_process():
    from lecture.cli import build_parser
    from lecture.course import FORWARDED, OWN, forwarded

    parser = build_parser()
    dests = set(vars(parser.parse_args(["render", "x.lecture"])))  # every option of `lecture render`
    assert dests - set(FORWARDED) - OWN == set()
    args = parser.parse_args(["render", "x.lecture", "-q", "high", "--sections", "a,b", "--cache-dir", "/c",
                              "--voice", "none", "--strict", "--no-autofix", "-j", "3", "--executor", "ray"])
    assert forwarded(args) == ["-q", "high", "--sections", "a,b", "--build-dir", "build", "--cache-dir", "/c",
                               "-j", "3", "--voice", "none", "--strict", "--no-autofix"]


def test_a_node_running_another_lecture_fails_its_section_saying_so(tmp_path):
    from lecture.runtime.ray_shipping import Identity, land, render_shipped

    shipped = render_shipped({"identity": ["0.0.1", "abc"], "job": {}, "code": "", "module_name": "m.py",
                              "assets": {}})  # (what the command sent: another Lecture)
    answer = land(shipped, {"media_dir": str(tmp_path / "media"), "module": str(tmp_path / "m.py")},
                  tmp_path / "job.log")
    assert answer.type == "VersionMismatch"
    assert f"runs {Identity.here().describe()}, the command lecture 0.0.1 (code abc)" in answer.message
    assert "install the same Lecture on every node" in answer.message


def test_an_answer_naming_a_file_outside_its_folder_is_refused(tmp_path):
    from lecture.runtime.ray_shipping import land

    media = tmp_path / "job" / "media"
    shipped = {"answer": {"ok": True, "movie": "/w/media/a.mp4"}, "root": "/w/media", "module": "/w/m.py",
               "files": {"a.mp4": b"x", "../../escaped.txt": b"planted"}, "log": b"", "host": "h", "pid": 1}
    answer = land(shipped, {"media_dir": str(media), "module": str(tmp_path / "m.py")}, tmp_path / "job.log")
    assert answer.type == "ProtocolError" and "outside its folder" in answer.message
    assert not (tmp_path / "escaped.txt").exists()


def test_an_ordinary_build_never_imports_ray():
    done = subprocess.run([sys.executable, "-c",
                           "import sys, lecture.cli, lecture.course, lecture.runtime.build\n"
                           "import lecture.runtime.batch_render, lecture.agents.evaluation.ray_runner\n"
                           "print('ray' in sys.modules)"], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
