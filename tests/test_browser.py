"""The watch page in a real browser: Debian's headless Chromium, driven through the
DevTools protocol over a websocket (a minimal client below, standard library only).

Skipped when /usr/bin/chromium (or `chromium`) is not installed; no browser is downloaded.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
from urllib.parse import quote, urlparse

import pytest
from lecture.runtime.watch import Watcher, WatchOptions

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The README's test command installs Debian's chromium; without it this test fails, loudly.
assert CHROMIUM is not None, "needs Debian's chromium (apt-get install chromium)"

LESSON = """\
lesson "In a browser"

section a "First"
  circle c at B2 color=blue
  step 1s: create c

section b "Second"
  square s at C4 color=red
  step 1s: create s
"""


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, masked from the client."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the browser closed the websocket handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert head.split(b"\r\n")[0].split()[1] == b"101", head

    def send(self, text: str) -> None:
        data = text.encode()
        n = len(data)
        header = bytes([0x81])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the browser closed the websocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            op = b0 & 0x0F
            if op == 0x8:
                raise ConnectionError("the browser closed the websocket")
            if op == 0x9:  # ping
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
                continue
            if op in (0x1, 0x2, 0x0):
                parts.append(payload)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        try:
            self.sock.sendall(bytes([0x88, 0x80]) + b"\0\0\0\0")
        except OSError:
            pass
        self.sock.close()


class Page:
    """One browser tab, spoken to with DevTools protocol commands."""

    def __init__(self, ws_url: str) -> None:
        self.ws = WebSocket(ws_url)
        self.next_id = 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expression: str, timeout: float = 60, what: str = ""):
        return wait_for(self.js, expression, timeout, what)


def wait_for(js, expression: str, timeout: float, what: str = ""):
    """Evaluates `expression` with `js` every 0.1 s until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = js(expression)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or expression} (last value {value!r})")


@pytest.fixture
def chromium(tmp_path):
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.is_file() and port_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"chromium did not start (status {proc.poll()})")
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _open_tab(port: int, url: str) -> Page:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{quote(url, safe='')}", method="PUT")
    with urllib.request.urlopen(req, timeout=30) as r:
        target = json.loads(r.read())
    return Page(target["webSocketDebuggerUrl"])


def test_page_shows_videos_and_the_error_overlay(tmp_path, chromium):
    lesson = tmp_path / "page.lecture"
    lesson.write_text(LESSON)
    with Watcher(lesson, WatchOptions(port=0, quality="low", jobs=2, build_root=tmp_path / "build")) as w:
        page = _open_tab(chromium, w.url)
        try:
            # the sections appear in order, each with its video and its still
            page.wait("document.querySelectorAll('#sections video[src]').length === 2 && "
                      "document.querySelectorAll('#sections img[src]').length === 2",
                      90, "two videos and two stills")
            ids = page.js("[...document.querySelectorAll('#sections .section')].map(s => s.dataset.id)")
            assert ids == ["a", "b"]
            assert page.js("document.querySelector('#title').textContent") == "In a browser"
            # the browser can load them (metadata read: the H.264 mp4 plays here)
            page.wait("[...document.querySelectorAll('#sections video')].every(v => v.readyState >= 1)",
                      30, "video metadata")
            page.wait("!document.querySelector('#lesson').hidden", 60, "the lesson video")

            # an edit: that section is marked, scrolled to and played with its new video
            old = page.js("document.querySelector('#section-b video').getAttribute('src')")
            lesson.write_text(LESSON.replace("color=red", "color=green"))
            page.wait("document.querySelector('#section-b').classList.contains('changed') && "
                      f"document.querySelector('#section-b video').getAttribute('src') !== {old!r}",
                      60, "b's new video")
            assert not page.js("document.querySelector('#section-a').classList.contains('changed')")
            page.wait("!document.querySelector('#section-b video').paused || "
                      "document.querySelector('#section-b video').ended", 30, "b playing")

            # an error: the overlay, with file:line:col, message and source line
            assert not page.js("document.querySelector('#overlay').classList.contains('shown')")
            lesson.write_text(LESSON.replace("  square s at C4", "  squar s at C4"))
            page.wait("document.querySelector('#overlay').classList.contains('shown')", 30, "overlay")
            text = page.js("document.querySelector('#overlay').innerText")
            assert f"{lesson}:8:3:" in text and "squar" in text and "unknown element kind" in text
            assert "squar s at C4 color=red" in text
            # the last good videos stay
            assert page.js("document.querySelectorAll('#sections video[src]').length") == 2

            # fixed: the overlay goes
            lesson.write_text(LESSON.replace("color=red", "color=green"))
            page.wait("!document.querySelector('#overlay').classList.contains('shown')", 30,
                      "overlay gone")
        finally:
            page.ws.close()
