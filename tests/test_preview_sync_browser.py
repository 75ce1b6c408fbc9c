"""Preview ↔ source, the watch page's half (issue 19), in a real browser: the page framed by a
host page as the VS Code extension frames it (editors/vscode/extension.js), a real mouse click
on a section's video and on its still posts `lecture.click` (section, step, where in the picture)
to the host, and the host's `lecture.show` scrolls to a section and pauses its video at a step's
end. The clicked place is fed to the language server's `element_at` (lsp/sync.py), which names
the element drawn there."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lecture.lsp.analysis import analyse
from lecture.lsp.commands import REVEAL_COMMAND, STEP_AT_COMMAND
from lecture.lsp.slow_checks import layout_findings
from lecture.lsp.sync import element_at
from lecture.runtime.watch import Watcher, WatchOptions
from PIL import Image
from test_browser import Page, _open_tab, chromium, wait_for  # noqa: F401 (the fixture)

LESSON = """\
lesson "Preview and source"

section a "Shapes"
  square s at B2 color=red fill=red
  circle c at E5 color=blue fill=blue
  step 1s: create s
  step 1s: create c

section b "Words"
  text t "Hello" at C3
  step 1s: create t
"""

# The host page: the watch page in a frame smaller than the two cards (b starts below the fold),
# and every message the frame posts, kept in `got`.
HOST = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="{url}" style="display:block;border:0;width:1000px;height:520px"></iframe>
<script>
window.got = [];
window.addEventListener("message", (e) => {{
  if (e.source === document.getElementById("f").contentWindow) window.got.push(e.data);
}});
function show(section, step) {{
  document.getElementById("f").contentWindow.postMessage({{type: "lecture.show", section, step}}, "*");
}}
</script></body></html>"""


@pytest.fixture
def host() -> Iterator[tuple[ThreadingHTTPServer, dict]]:
    """A second server on 127.0.0.1 (another origin than the watch page's) for the host page."""
    page: dict = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server, page
    finally:
        server.shutdown()
        server.server_close()


class Frame:
    """JavaScript inside the framed page (another origin: the host's scripts cannot reach it),
    through an isolated world of its frame: the same DOM, its own globals."""

    def __init__(self, page: Page) -> None:
        self.page = page
        tree = page.call("Page.getFrameTree")["frameTree"]
        frame_id = tree["childFrames"][0]["frame"]["id"]
        self.context = page.call("Page.createIsolatedWorld", frameId=frame_id,
                                 worldName="test")["executionContextId"]

    def js(self, expression: str):
        r = self.page.call("Runtime.evaluate", expression=expression, contextId=self.context,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expression: str, timeout: float, what: str):
        return wait_for(self.js, expression, timeout, what)


def _paused_at(frame: Frame, section: str, seconds: float, end: float | None = None) -> None:
    """Waits for a section's video to be paused at `seconds` (the video's state when it is not).
    `end`: the video's end, when `seconds` is in its last frame: Chrome counts a video paused in
    its last frame as ended, and may then move it to the end (the same frame)."""
    video = f"document.querySelector('#section-{section} video')"
    at_end = f" || (v.ended && Math.abs(v.currentTime - {end}) < 0.002)" if end is not None else ""
    try:
        frame.wait(f"(v => v.paused && (Math.abs(v.currentTime - {seconds}) < 0.002{at_end}))({video})", 10,
                   f"{section}'s video paused at {seconds} s")
    except AssertionError as exc:
        state = frame.js(f"(v => ({{paused: v.paused, time: v.currentTime, ended: v.ended, "
                         f"seeking: v.seeking, ready: v.readyState, src: v.getAttribute('src')}}))({video})")
        raise AssertionError(f"{exc}: {state}") from None


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def _centre(picture: Image.Image, colour: tuple[int, int, int]) -> tuple[float, float]:
    """The centre of the pixels near `colour`, as fractions of the picture."""
    rgb = picture.convert("RGB")
    w, h = rgb.size
    xs, ys = [], []
    px = rgb.load()
    for y in range(0, h, 2):
        for x in range(0, w, 2):
            p = px[x, y]
            if sum(abs(a - b) for a, b in zip(p, colour, strict=True)) < 120:
                xs.append(x)
                ys.append(y)
    assert len(xs) > 50, f"no {colour} in the still"
    return (sum(xs) / len(xs) + 0.5) / w, (sum(ys) / len(ys) + 0.5) / h


def _click(page: Page, x: float, y: float) -> None:
    """A real left click at a point of the host page."""
    for kind in ("mousePressed", "mouseReleased"):
        page.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def _point(frame: Frame, selector: str, fx: float, fy: float) -> tuple[float, float]:
    """Where a point of the picture that `selector` shows (fractions) lies on the host page (the
    picture is letterboxed in its element)."""
    left, top = frame.page.js("(r => [r.left, r.top])(document.getElementById('f').getBoundingClientRect())")
    x, y = frame.js(f"""(() => {{
      const m = document.querySelector({json.dumps(selector)}), r = m.getBoundingClientRect();
      const w = m.videoWidth || m.naturalWidth, h = m.videoHeight || m.naturalHeight;
      const s = Math.min(r.width / w, r.height / h);
      return [r.left + (r.width - w * s) / 2 + {fx} * w * s, r.top + (r.height - h * s) / 2 + {fy} * h * s];
    }})()""")
    return left + x, top + y


def test_click_posts_the_place_and_step_and_show_pauses_at_a_step(tmp_path, chromium, host):  # noqa: F811
    lesson = tmp_path / "sync.lecture"
    lesson.write_text(LESSON)
    server, html = host
    with Watcher(lesson, WatchOptions(port=0, quality="low", jobs=2, build_root=tmp_path / "build")) as w:
        html["html"] = HOST.format(url=w.url)
        page = _open_tab(chromium, f"http://127.0.0.1:{server.server_address[1]}/")
        try:  # (a window the frame fits in: a click outside the window reaches nothing)
            page.call("Emulation.setDeviceMetricsOverride", width=1100, height=700, deviceScaleFactor=1,
                      mobile=False)
            # (the frame loaded: its document is another origin's, out of the host's reach)
            page.wait("location.protocol === 'http:' && document.readyState === 'complete'", 30, "the host")
            assert page.js("document.getElementById('f').contentDocument === null")
            frame = Frame(page)
            # (the sections' videos: after their changed step's own clip has played)
            frame.wait("[...document.querySelectorAll('#sections video')].filter(v => v.readyState >= 1 && "
                       "v.getAttribute('src').startsWith('/media/sections/')).length === 2 && "
                       "[...document.querySelectorAll('#sections img')]"
                       ".filter(i => i.complete && i.naturalWidth).length === 2", 90, "videos and stills")

            # the watch gives each section's step times, on the video's frames
            state = json.loads(_get(w.url + "state"))
            # (and the middle of each step's last frame, where the page pauses for it: at 15 fps)
            assert [s["steps"] for s in state["sections"]] == [
                [{"start": 0.0, "end": 1.0, "last": 0.9667}, {"start": 1.0, "end": 2.0, "last": 1.9667}],
                [{"start": 0.0, "end": 1.0, "last": 0.9667}]]
            a = state["sections"][0]
            (tmp_path / "a.mp4").write_bytes(_get(w.url + a["video"].lstrip("/")))
            subprocess.run(["ffmpeg", "-v", "error", "-sseof", "-0.2", "-i", str(tmp_path / "a.mp4"),
                            "-frames:v", "1", str(tmp_path / "a-end.png")], check=True, timeout=30)
            blue = _centre(Image.open(tmp_path / "a-end.png"), (88, 196, 221))  # the circle, drawn in step 2
            red = _centre(Image.open(io.BytesIO(_get(w.url + a["still"].lstrip("/")))), (252, 98, 85))
            # (the element at a place, as `lecture.reveal` finds it from the server's last layout check)
            parsed = analyse(LESSON, lesson).lesson
            assert parsed is not None
            measured = layout_findings(parsed, lesson.parent)

            # the editor's cursor in a's first step: a's video paused on that step's last frame,
            # a's card marked; a click on the video at the red square: section a, step 1, the
            # square's place; the picture stays at that step (the click does not play the video)
            page.js("show('a', 1)")
            _paused_at(frame, "a", 0.9667)
            assert frame.js("document.querySelector('#section-a').classList.contains('cursor')")
            _click(page, *_point(frame, "#section-a video", *red))
            got = page.wait("window.got.length && window.got", 10, "the click's message")
            assert got == [{"type": "lecture.click", "section": "a", "step": 1,
                            "x": pytest.approx(red[0], abs=0.01), "y": pytest.approx(red[1], abs=0.01)}]
            assert element_at(measured, "a", got[0]["step"], got[0]["x"], got[0]["y"]) == "s"
            time.sleep(0.3)
            _paused_at(frame, "a", 0.9667)

            # the cursor in a's second step, a click at the blue circle (drawn in step 2)
            page.js("show('a', 2)")
            _paused_at(frame, "a", 1.9667, end=2.0)
            _click(page, *_point(frame, "#section-a video", *blue))
            got = page.wait("window.got.length >= 2 && window.got", 10, "the second click's message")
            assert got[1:] == [{"type": "lecture.click", "section": "a", "step": 2,
                                "x": pytest.approx(blue[0], abs=0.01), "y": pytest.approx(blue[1], abs=0.01)}]
            assert element_at(measured, "a", got[1]["step"], got[1]["x"], got[1]["y"]) == "c"

            # the still letterboxed (in a square box): a click on the bar above the picture posts
            # nothing; one on the red square posts its place at the step the still ends
            assert a["still_step"] == len(a["steps"]), a  # (a first build's still: the section's end)
            frame.js("document.querySelector('#section-a img').style.aspectRatio = '1 / 1'")
            _click(page, *_point(frame, "#section-a img", 0.5, -0.05))
            _click(page, *_point(frame, "#section-a img", *red))
            got = page.wait("window.got.length >= 3 && window.got", 10, "the still click's message")
            assert got[2:] == [{"type": "lecture.click", "section": "a", "step": a["still_step"],
                                "x": pytest.approx(red[0], abs=0.01), "y": pytest.approx(red[1], abs=0.01)}]
            assert element_at(measured, "a", got[2]["step"], got[2]["x"], got[2]["y"]) == "s"

            # the cursor in b, outside its steps: b's video at its end, a no longer marked
            page.js("show('b', null)")
            _paused_at(frame, "b", 0.9667, end=1.0)
            marked = frame.js("[...document.querySelectorAll('.section.cursor')].map(s => s.dataset.id)")
            assert marked == ["b"]

            # the page scrolled to its end, a's card above the frame's top: the cursor back in a
            # brings it into view, below the page's sticky header
            frame.js("scrollTo(0, document.body.scrollHeight)")
            assert frame.js("document.querySelector('#section-a').getBoundingClientRect().bottom") < 0
            page.js("show('a', null)")
            _paused_at(frame, "a", 1.9667, end=2.0)
            top = frame.js("document.querySelector('#section-a').getBoundingClientRect().top")
            assert frame.js("document.querySelector('header').getBoundingClientRect().bottom") <= top < 520
        finally:
            page.ws.close()


def test_the_page_the_extension_and_the_server_speak_the_same_messages():
    """The names both sides of each hop use: page ↔ extension (postMessage types and fields),
    extension ↔ server (the commands' names)."""
    root = Path(__file__).resolve().parent.parent
    page = (root / "runtime" / "watch_page.html").read_text(encoding="utf-8")
    extension = (root / "editors" / "vscode" / "extension.js").read_text(encoding="utf-8")
    assert 'type: "lecture.click", section: id, step, x: at.x, y: at.y' in page
    assert 'message.type === "lecture.click"' in extension
    assert "message.section, message.step ?? null, message.x, message.y" in extension
    assert 'd.type !== "lecture.show"' in page and "showStep(String(wanted.section)" in page
    assert 'postMessage({ type: "lecture.show", section: where.section, step: where.step })' in extension
    assert f'command: "{REVEAL_COMMAND}"' in extension and f'command: "{STEP_AT_COMMAND}"' in extension
