"""Benchmark: a six-lesson course rendered by the local pool and by Ray on this one machine.

    .venv/bin/python bench/bench_cluster.py                      # the six default examples, low quality
    .venv/bin/python bench/bench_cluster.py --lessons pythagoras,sine_wave --quality low

In one run of this script, the course (a folder of lessons: `lecture render FOLDER`) is
rendered silent (`--voice none`):

1. cold by the local pool (`--executor local`, the default jobs: one per core), empty build
   folder, render cache and TeX/text SVG cache;
2. cold by Ray (`--executor ray --address`), the lessons one after another
   (`--lessons-at-once 1`) and four at once (the default, each lesson a process of its own):
   a one-node Ray cluster started here with `ray start --head --num-cpus=<cores>` (so all
   have the same cores), its workers with a TeX/text SVG cache of their own, empty (as a
   cluster's nodes would have: they share no file system with the command);
3. each again, everything cached (what Ray costs when nothing is rendered: joining the
   cluster).

It prints wall seconds and the CPU seconds of the command and its children (Ray's workers
are not the command's children: their CPU is in the machine's busy time, the last column,
which counts every process on the machine) and the ratios Ray / local, the overhead of
going through Ray. The videos are compared frame by frame (framemd5): the two builds must
be identical.

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_LESSONS = "pythagoras,sine_wave,integral,derivative,projectile,central_limit"
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
# what is compared: the local pool; Ray, lessons one after another; Ray, lessons at once
RUNS = {"local": ["--executor", "local"], "ray-1": ["--executor", "ray", "--lessons-at-once", "1"],
        "ray-4": ["--executor", "ray", "--lessons-at-once", "4"]}


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all processes: /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in fields]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def timed(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the command and its children, machine busy seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = busy_seconds()
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    busy = busy_seconds() - busy
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                           f"{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, busy


def framemd5(video: Path) -> str:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:v", "-f", "framemd5", "-"],
                          capture_output=True, text=True, check=True).stdout.split("\n", 3)[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRay:
    """A one-node Ray cluster on this machine (`ray start --head`), in a process group of its own."""

    def __init__(self, tmp: Path, cpus: int) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix="lray", dir="/tmp"))  # (socket paths are short)
        self.port = free_port()
        env = {**os.environ, **RAY_ENV, "LECTURE_CACHE_DIR": str(tmp / "worker-svg-cache")}
        proc = subprocess.Popen([str(BIN / "ray"), "start", "--head", f"--port={self.port}",
                                 f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats",
                                 "--node-ip-address=127.0.0.1", f"--temp-dir={self.temp}"],
                                env=env, start_new_session=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        out, _ = proc.communicate(timeout=180)
        if proc.returncode != 0:
            raise RuntimeError(f"ray start failed:\n{out}")
        self.group = proc.pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        try:
            os.killpg(self.group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(self.temp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lessons", default=DEFAULT_LESSONS, help=f"examples (default {DEFAULT_LESSONS})")
    parser.add_argument("--quality", default="low", choices=["low", "medium", "high", "4k"])
    args = parser.parse_args()
    names = [n.strip() for n in args.lessons.split(",") if n.strip()]
    n = cores()
    with tempfile.TemporaryDirectory(prefix="lecture-bench-cluster-") as d:
        tmp = Path(d)
        course = tmp / "course"
        course.mkdir()
        for name in names:
            shutil.copy(ROOT / "examples" / f"{name}.lecture", course)
        for extra in (ROOT / "examples").glob("*.png"):  # (images the lessons show)
            shutil.copy(extra, course)
        env = {**os.environ, **RAY_ENV, "LECTURE_CACHE_DIR": str(tmp / "svg-cache")}
        ray = LocalRay(tmp, n)
        rows: dict[str, tuple[float, float, float]] = {}
        try:
            for label, flags in RUNS.items():
                out = tmp / f"build-{label}"
                env["LECTURE_CACHE_DIR"] = str(tmp / f"svg-cache-{label}")  # cold for each
                cmd = [str(BIN / "lecture"), "render", str(course), "-q", args.quality, "--voice", "none",
                       "--build-dir", str(out), *flags]
                if "ray" in flags:
                    cmd += ["--address", ray.address]
                rows[f"{label} cold"] = timed(cmd, env)
                print(f"  {label} cold: {rows[f'{label} cold'][0]:.1f}s", file=sys.stderr)
                rows[f"{label} cached"] = timed(cmd, env)
        finally:
            ray.stop()
        local_build = tmp / "build-local"
        differ = [f"{label}:{video.relative_to(local_build)}" for label in list(RUNS)[1:]
                  for video in sorted(local_build.glob("[!.]*/sections/*.mp4"))  # (not the cache's)
                  if framemd5(video) != framemd5(tmp / f"build-{label}" / video.relative_to(local_build))]
    print(f"course: {len(names)} lessons ({', '.join(names)}), -q {args.quality}, silent, {n} cores; "
          f"Ray: one node of {n} CPUs on this machine")
    print(f"{'build':<16}{'wall s':>9}{'cpu s':>9}{'busy s':>9}")
    for key, (wall, cpu, busy) in rows.items():
        print(f"{key:<16}{wall:>9.2f}{cpu:>9.2f}{busy:>9.2f}")
    for label in list(RUNS)[1:]:
        for kind in ("cold", "cached"):
            local, ray_row = rows[f"local {kind}"], rows[f"{label} {kind}"]
            print(f"{label}/local {kind}: wall {ray_row[0] / local[0]:.2f}x, "
                  f"machine busy {ray_row[2] / local[2]:.2f}x")
    print("section videos frame-identical to local: " + ("all" if not differ else "not " + ", ".join(differ)))
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
