"""The `lecture watch` page's HTTP server, on 127.0.0.1 only.

    /                       the page (watch_page.html)
    /state                  everything the page shows, as JSON
    /events                 server-sent events: `state` first, then each change
    /media/sections/<hash>.mp4|png, /media/lessons/<key>.mp4, /media/units/<key>.mp4|png
                            videos and stills of the render cache (byte ranges: seeking)

A request naming another host than this machine is refused (no DNS rebinding). Media are
served only as regular files of the cache, opened without following a link: a cloned cache
may hold `sections/<hex>.mp4 -> ~/.ssh/id_rsa`. What is shown comes from a `Preview` (the
Watcher, watch.py).
"""

from __future__ import annotations

import json
import os
import queue
import re
import stat
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Protocol

HOST = "127.0.0.1"  # never anything else: the page and the files are for this machine only

_MEDIA_RE = re.compile(r"^/media/(sections|lessons|units)/([0-9a-f]{8,64}|[0-9a-f]{32}-[0-9a-f]{32})"
                       r"\.(mp4|png)$")
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)$")
_KEEP_ALIVE_SECONDS = 15


class Preview(Protocol):
    """What the page shows."""

    @property
    def media_root(self) -> Path:
        """The render cache's folder (sections/, lessons/)."""
        ...

    def snapshot(self) -> dict: ...

    def subscribe(self) -> tuple[queue.Queue[str | None], dict] | None:
        """A queue of the events from now on, and the snapshot they follow; None when
        stopping."""
        ...

    def unsubscribe(self, events: queue.Queue[str | None]) -> None: ...


def video_url(h: str) -> str:
    return f"/media/sections/{h}.mp4"


def still_url(h: str) -> str:
    return f"/media/sections/{h}.png"


def unit_url(key: str, ext: str) -> str:
    """A step unit's video or still (step_units_plan.unit_key)."""
    return f"/media/units/{key}.{ext}"


def lesson_url(key: str) -> str:
    return f"/media/lessons/{key}.mp4"


def sse(name: str, data: dict, event_id: int | None = None) -> str:
    """One server-sent event."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n"


def page_html() -> str:
    return resources.files("lecture.runtime").joinpath("watch_page.html").read_text(encoding="utf-8")


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    watcher: Preview


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def _host_ok(self) -> bool:
        """Only pages of this server may talk to it (no DNS rebinding)."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        return host in ("127.0.0.1", "localhost", "")

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        w = self.server.watcher
        if not self._host_ok():
            self._send(HTTPStatus.FORBIDDEN, b"forbidden\n", "text/plain")
            return
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page_html().encode("utf-8"), "text/html; charset=utf-8",
                       {"Cache-Control": "no-store"})
        elif path == "/state":
            self._send(HTTPStatus.OK, json.dumps(w.snapshot()).encode(), "application/json",
                       {"Cache-Control": "no-store"})
        elif path == "/events":
            self._events(w)
        elif (m := _MEDIA_RE.match(path)) is not None:
            folder, name, ext = m.groups()
            self._file(w.media_root / folder / f"{name}.{ext}",
                       "video/mp4" if ext == "mp4" else "image/png")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    # ------------------------------------------------------------ events

    def _events(self, w: Preview) -> None:
        subscribed = w.subscribe()
        if subscribed is None:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"stopping\n", "text/plain")
            return
        events, state = subscribed
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(b"retry: 1000\n\n" + sse("state", state).encode())
            self.wfile.flush()
            self._stream(events)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            w.unsubscribe(events)

    def _stream(self, events: queue.Queue[str | None]) -> None:
        while True:
            try:
                item = events.get(timeout=_KEEP_ALIVE_SECONDS)
            except queue.Empty:
                item = ": keep-alive\n\n"
            if item is None:
                return
            self.wfile.write(item.encode())
            self.wfile.flush()

    # ------------------------------------------------------------ media

    def _file(self, path: Path, ctype: str) -> None:
        fd = _open_regular(path)
        if fd is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            span = byte_range(self.headers.get("Range"), size)
            if span is None:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end, partial = span
            self.send_response(HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command != "HEAD":
                self._copy(f, start, end - start + 1)

    def _copy(self, f: BinaryIO, start: int, length: int) -> None:
        f.seek(start)
        left = length
        try:
            while left > 0:
                chunk = f.read(min(1 << 16, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _open_regular(path: Path) -> int | None:
    """A read-only descriptor of `path` when it is a regular file reached without following
    a link (O_NOFOLLOW, then fstat); else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def byte_range(header: str | None, size: int) -> tuple[int, int, bool] | None:
    """(first byte, last byte, whether partial) of a `Range: bytes=a-b` header (the whole
    file without one, or with one not understood); None when it cannot be satisfied."""
    m = _RANGE_RE.match(header.strip()) if header else None
    if not m or not (m.group(1) or m.group(2)):
        return 0, size - 1, False
    if m.group(1):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
    else:  # the last N bytes
        start, end = max(0, size - int(m.group(2))), size - 1
    end = min(end, size - 1)
    return (start, end, True) if start <= end else None
