"""`lecture gallery`: one tiny lesson rendered silently at low quality, its still, its clip
and the page checked on their pixels, streams and links; the window rule on its own; and
`--no-render` taking a build as it is, or refusing one of an older text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from lecture.runtime.ffmpeg import probe
from lecture.runtime.gallery import StepSpan, busiest_window
from PIL import Image, ImageSequence

from lecture.cli import main

# Section `more` has the most elements: its end (all three squares) is the still. Its
# steps start at 0, 2, 5 and 7 s (9 s in all) and each draws for 2 s; of the 6-second
# windows that start at a step (moved back to fit), 3-9 s holds the most drawing (4 s).
LESSON = """\
lesson "Tiny <Shapes> *demo*"
  subject: "geometry"
  audience: "tests"

section intro "A circle"
  circle c at B2 color=blue
  step 2s: create c

section more "Three squares"
  square x at B2 color=red fill=red opacity=0.8
  square y at C4 color=green
  square z at D5 color=yellow
  step 2s: create x
  wait 3s
  step 2s: create y
  step 2s: create z
"""


def gallery(*extra: str) -> int:
    return main(["gallery", "tiny.lecture", "--voice", "none", "-j", "2", "--out", "site/gallery.md",
                 "--media-dir", "site/media", *extra])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The lesson's folder after one `lecture gallery` (exit status 0)."""
    folder = tmp_path_factory.mktemp("gallery")
    (folder / "tiny.lecture").write_text(LESSON, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("LECTURE_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
        assert gallery() == 0
        yield folder


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(int)


def count(rgb: np.ndarray, colour: str) -> int:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    masks = {"red": (r > 170) & (g < 130) & (b < 130),
             "green": (g > 150) & (r < 170) & (b < 140),
             "yellow": (r > 200) & (g > 180) & (b < 150),
             "blue": (b > 170) & (r < 140)}
    return int(masks[colour].sum())


def test_the_still_is_the_end_of_the_fullest_section(site: Path) -> None:
    still = Image.open(site / "site/media/tiny.png")
    assert still.format == "PNG" and still.size == (854, 480)  # the low quality render's size
    rgb = pixels(still)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20 and rgb.std() > 5  # not blank
    # every square of `more`, drawn; not the circle of `intro`
    assert count(rgb, "red") > 500 and count(rgb, "green") > 50 and count(rgb, "yellow") > 50
    assert count(rgb, "blue") == 0


def test_the_clip_is_the_busiest_six_seconds(site: Path) -> None:
    clip = site / "site/media/tiny.gif"
    info = probe(clip, count_frames=True)
    assert info.video_codec == "gif" and (info.width, info.height) == (480, 270)
    assert info.duration == pytest.approx(6.0, abs=0.15)
    assert info.frames == pytest.approx(72, abs=2)  # 12 fps
    frames = [pixels(f) for f in ImageSequence.Iterator(Image.open(clip))]
    first, last = frames[0], frames[-1]
    # it starts at 3 s (the red square drawn, the others not yet) and ends with all three
    assert count(first, "red") > 100 and count(first, "green") == 0 and count(first, "yellow") == 0
    assert count(last, "red") > 100 and count(last, "green") > 20 and count(last, "yellow") > 20


def test_the_page_links_both_and_names_the_header(site: Path) -> None:
    page = (site / "site/gallery.md").read_text(encoding="utf-8")
    assert "## Tiny \\<Shapes\\> \\*demo\\*" in page  # the title, its markup characters escaped
    assert "**Subject:** geometry" in page and "**Audience:** tests" in page
    assert "**Length:** 11 s" in page
    assert "(media/tiny.png)" in page and "(media/tiny.gif)" in page
    assert "“Three squares”, 0:03–0:09" in page
    assert "[tiny.lecture](../tiny.lecture)" in page


def test_the_busiest_window_starts_at_a_step() -> None:
    spans = [StepSpan(0.0, 2.0), StepSpan(2.0, 0.0), StepSpan(5.0, 2.0), StepSpan(7.0, 2.0)]
    assert busiest_window(spans, 9.0) == (3.0, 6.0)
    assert busiest_window([StepSpan(0.0, 1.0)], 2.5) == (0.0, 2.5)  # a short section, whole
    assert busiest_window([StepSpan(0.0, 0.0), StepSpan(1.0, 0.0)], 20.0) == (0.0, 6.0)  # equals: first


def test_no_render_takes_the_build_as_it_is(site: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(site / "tiny.lecture", tmp_path / "tiny.lecture")
    shutil.copytree(site / "build" / "tiny", tmp_path / "build" / "tiny")
    monkeypatch.chdir(tmp_path)
    assert gallery("--no-render", "--clip", "webm") == 0
    assert not (tmp_path / "build" / ".cache").exists()  # nothing was rendered
    info = probe(tmp_path / "site/media/tiny.webm")
    assert info.video_codec == "vp9" and (info.width, info.height) == (480, 270) and not info.has_audio
    assert info.duration == pytest.approx(6.0, abs=0.15)
    assert '<video src="media/tiny.webm"' in (tmp_path / "site/gallery.md").read_text(encoding="utf-8")


def test_no_render_refuses_the_build_of_an_older_text(site: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tiny.lecture").write_text(LESSON + "# changed since\n", encoding="utf-8")
    shutil.copytree(site / "build" / "tiny", tmp_path / "build" / "tiny")
    monkeypatch.chdir(tmp_path)
    assert gallery("--no-render") == 2
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "not of this lesson's current text" in out and "left out of the gallery" in out
    assert not (tmp_path / "site").exists()  # no page, no media
