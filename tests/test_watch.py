"""`lecture watch` end to end: a real watcher on a tiny lesson in a temporary folder, heard
through its server-sent events like the page hears it."""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from lecture.runtime.watch import Watcher, WatchOptions

LESSON = """\
lesson "Watched"

section a "First"
  line l1 "A circle."
  circle c at B2 color=blue
  step 1s: say l1; create c

section b "Second"
  square s at C4 color=red
  step 1s: create s
"""


class SSE:
    """A minimal EventSource: a thread reading `/events` into a queue of (name, data)."""

    def __init__(self, url: str) -> None:
        host, port = url.split("//", 1)[1].rstrip("/").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        self.conn.request("GET", "/events", headers={"Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        assert self.resp.getheader("Content-Type") == "text/event-stream"
        self.q: queue.Queue = queue.Queue()
        self.seen: list[tuple[str, dict]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = "message", []
        try:
            for raw in self.resp:
                line = raw.decode("utf-8").rstrip("\r\n")
                if not line:
                    if data:
                        self.q.put((name, json.loads("\n".join(data))))
                    name, data = "message", []
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
        except (OSError, ValueError):
            pass
        self.q.put(("closed", {}))

    def next(self, pred, timeout: float = 60.0, what: str = "") -> tuple[str, dict]:
        """The next event for which pred(name, data) holds (the others are kept in .seen)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no event {what} within {timeout}s; saw {self.names()}")
            try:
                name, data = self.q.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append((name, data))
            if name == "closed" and not pred(name, data):
                raise AssertionError(f"stream closed waiting for {what}; saw {self.names()}")
            if pred(name, data):
                return name, data

    def names(self) -> list[str]:
        return [f"{n}:{d.get('id', '')}" for n, d in self.seen]

    def close(self) -> None:
        self.conn.close()


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _replace(path: Path, text: str) -> None:
    """Save the way many editors do: a new file renamed over the old one."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _ready(sse: SSE, ids: set[str], timeout: float = 90) -> dict[str, dict]:
    """Wait until every section in `ids` has an `updated` event; returns them by id."""
    got: dict[str, dict] = {}
    while set(got) != ids:
        _, data = sse.next(lambda n, d: n == "updated", timeout, f"updated for {ids - set(got)}")
        got[data["id"]] = data
    return got


def test_watch_end_to_end(tmp_path):
    lesson = tmp_path / "watched.lecture"
    lesson.write_text(LESSON)
    w = Watcher(lesson, WatchOptions(port=0, quality="low", jobs=2, build_root=tmp_path / "build"))
    url = w.start()
    try:
        assert w._server.server_address[0] == "127.0.0.1"
        sse = SSE(url)
        name, state = sse.next(lambda n, d: True, 10, "state")
        assert name == "state" and state["file"] == str(lesson)
        first = _ready(sse, {"a", "b"})
        sse.next(lambda n, d: n == "lesson", 60, "lesson")
        status, headers, page = _get(url)
        assert status == 200 and b"EventSource" in page
        status, _, body = _get(url + "state")
        snap = json.loads(body)
        assert [s["id"] for s in snap["sections"]] == ["a", "b"]
        assert all(s["status"] == "ok" and s["still"] and s["video"] for s in snap["sections"])
        # only for this machine's pages
        assert _get(url + "state", {"Host": "evil.example:80"})[0] == 403
        # videos are served with ranges (browsers seek with them)
        status, headers, part = _get(url + first["b"]["video"].lstrip("/"), {"Range": "bytes=0-99"})
        assert status == 206 and len(part) == 100 and headers["Content-Type"] == "video/mp4"

        # 1. edit one section: only that one is re-rendered; its still comes first
        t0 = time.monotonic()
        lesson.write_text(LESSON.replace("color=red", "color=green"))
        _, sections = sse.next(lambda n, d: n == "sections", 30, "sections")
        assert sections["changed"] == ["b"]
        order = []
        name, data = sse.next(lambda n, d: n in ("still", "updated"), 60, "still of b")
        order.append(name)
        assert data["id"] == "b"
        _, updated = sse.next(lambda n, d: n == "updated", 60, "updated b")
        latency = time.monotonic() - t0
        assert updated["id"] == "b" and updated["hash"] != first["b"]["hash"]
        assert order == ["still"]
        sse.next(lambda n, d: n == "lesson", 60, "lesson")
        assert not [d for n, d in sse.seen[-4:] if n == "updated" and d["id"] == "a"]
        status, headers, video = _get(url + updated["video"].lstrip("/"))
        assert status == 200 and headers["Content-Type"] == "video/mp4" and len(video) > 1000
        assert updated["video"] != first["b"]["video"]
        served = tmp_path / "served.mp4"
        served.write_bytes(video)
        from lecture.runtime.ffmpeg import probe

        assert probe(served).has_audio  # the preview speaks, like the render
        print(f"edit -> updated: {latency:.2f}s")

        # 2. a syntax error: an error event at the right line:col; the videos stay
        broken = LESSON.replace("color=red", "color=green").replace("  square s at C4", "  squar s at C4")
        lesson.write_text(broken)
        _, err = sse.next(lambda n, d: n == "errors", 30, "errors")
        d = err["errors"][0]
        assert (d["line"], d["column"]) == (9, 3)
        assert "squar" in d["message"] and d["source_line"] == "  squar s at C4 color=green"
        assert f"{lesson}:9:3:" in d["text"]
        snap = json.loads(_get(url + "state")[2])
        assert snap["errors"] and all(s["video"] for s in snap["sections"])

        # 3. fixed: the errors go, nothing needs rendering again
        lesson.write_text(LESSON.replace("color=red", "color=green"))
        sse.next(lambda n, d: n == "clean", 30, "clean")
        assert json.loads(_get(url + "state")[2])["errors"] == []

        # 4. saved by renaming a new file over it (twice): still watched
        for colour in ("yellow", "purple"):
            _replace(lesson, LESSON.replace("color=blue", f"color={colour}")
                     .replace("color=red", "color=green"))
            _, sections = sse.next(lambda n, d: n == "sections", 30, f"sections ({colour})")
            assert sections["changed"] == ["a"]
            _, updated = sse.next(lambda n, d: n == "updated", 60, f"updated a ({colour})")
            assert updated["id"] == "a"
        sse.close()
    finally:
        w.stop()
    assert w.pool is not None and w.pool.pids == []
    assert not any((tmp_path / "build" / ".cache" / "tmp").iterdir())
    assert not list(tmp_path.glob(".*.swp"))


def test_watch_command_stops_cleanly_on_ctrl_c(tmp_path):
    lesson = tmp_path / "w.lecture"
    lesson.write_text(LESSON)
    proc = subprocess.Popen([sys.executable, "-m", "lecture.runtime.watch", str(lesson), "--port", "0",
                             "--jobs", "1", "--build-dir", str(tmp_path / "build")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].split()[0]
        sse = SSE(url)
        _ready(sse, {"a", "b"})
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert children  # the worker
        # a render in flight when Ctrl-C comes
        lesson.write_text(LESSON.replace("color=red", "color=green"))
        sse.next(lambda n, d: n == "sections", 30, "sections")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "stopped" in out and "Traceback" not in out
        sse.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or \
            "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert not any((tmp_path / "build" / ".cache" / "tmp").iterdir())
