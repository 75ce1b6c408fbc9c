"""`lecture watch` when the lesson file goes away: deleted (or renamed away) while watched,
it is an error on the page — the overlay over the last good videos, heard by /events and
seen in a real browser — and the preview recovers when the file is back."""

from __future__ import annotations

import json
import os

from lecture.runtime.watch import Watcher, WatchOptions
from test_browser import _open_tab, chromium  # noqa: F401 (the fixture)
from test_watch import SSE, _get, _ready

LESSON = """\
lesson "Going away"

section a "Only"
  circle c at B2 color=blue
  step 1s: create c
"""

GONE = "gone.lecture was deleted or renamed; the preview shows the last good version"
OVERLAY = "document.querySelector('#overlay')"


def _state(url: str) -> dict:
    return json.loads(_get(url + "state")[2])


def test_a_deleted_lesson_file_is_shown_on_the_page_until_it_is_back(tmp_path, chromium):  # noqa: F811
    lesson = tmp_path / "gone.lecture"
    lesson.write_text(LESSON)
    w = Watcher(lesson, WatchOptions(port=0, quality="low", jobs=1, build_root=tmp_path / "build",
                                     voice="none"))
    url = w.start()
    page = None
    try:
        sse = SSE(url)
        first = _ready(sse, {"a"})
        page = _open_tab(chromium, url)
        page.wait("document.querySelectorAll('#sections video[src]').length === 1", 30, "the video")
        assert not page.js(f"{OVERLAY}.classList.contains('shown')")
        mark = len(sse.seen)

        # 1. deleted: an error event, the overlay on the page, the last good video kept
        lesson.unlink()
        _, err = sse.next(lambda n, d: n == "errors", 30, "errors after the delete")
        [d] = err["errors"]
        assert (d["severity"], d["code"], d["message"]) == ("error", "lesson-file-missing", GONE)
        assert d["file"] == str(lesson) and d["hint"]
        snap = _state(url)
        assert snap["errors"] == err["errors"]
        assert snap["sections"][0]["video"] == first["a"]["video"]
        page.wait(f"{OVERLAY}.classList.contains('shown')", 30, "the overlay")
        text = page.js(f"{OVERLAY}.innerText")
        assert "The lesson file is missing" in text and GONE in text
        assert page.js("document.querySelector('#section-a video').getAttribute('src')") \
            == first["a"]["video"]

        # 2. back (the same text): the error goes; nothing is rendered again
        lesson.write_text(LESSON)
        sse.next(lambda n, d: n == "clean", 30, "clean after the file is back")
        page.wait(f"!{OVERLAY}.classList.contains('shown')", 30, "the overlay gone")
        assert _state(url)["errors"] == []

        # 3. renamed away and back (an editor's or a git checkout's way): the same
        away = tmp_path / "gone.lecture.orig"
        os.replace(lesson, away)
        _, err = sse.next(lambda n, d: n == "errors", 30, "errors after the rename")
        assert [e["code"] for e in err["errors"]] == ["lesson-file-missing"]
        os.replace(away, lesson)
        sse.next(lambda n, d: n == "clean", 30, "clean after the rename back")
        later = _state(url)
        assert later["errors"] == [] and later["sections"][0]["video"] == first["a"]["video"]
        assert [n for n, _ in sse.seen[mark:] if n not in ("still", "lesson")] == \
            ["errors", "clean", "errors", "clean"]
        sse.close()
    finally:
        if page is not None:
            page.ws.close()
        w.stop()
