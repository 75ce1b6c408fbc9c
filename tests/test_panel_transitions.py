"""The left panel and the joins between sections (issue 14).

- `lines: progressive` (the default): the panel is laid out for all of a section's lecture
  lines, but a line is drawn only from the step that says or highlights it (with the lines
  above it not shown yet); `lines: all` draws them all from the first frame. A line that
  would never appear is a `check` warning at the line.
- `transition: crossfade`: each section fades into the next without moving anything in
  time: the lesson video lasts as long as with cuts, and each section starts where it did.

The panel tests render one small section in this process with the real Cairo renderer and
record every frame (no encoding: colours are exact); the transition tests render a small
two-section lesson with `lecture render` (low quality, silent) and read frames back with
ffmpeg. LECTURE_PANEL_PNG=<folder> saves the frames the tests look at.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import diagnose
from lecture.compiler.frontend import load_text
from lecture.compiler.lower import compile_lesson
from lecture.compiler.theme import get_theme
from lecture.runtime import assemble, build
from lecture.runtime.ffmpeg import probe
from lecture.runtime.measure import ManimMeasurer
from lecture.runtime.tex import measure_cache_dir
from rich.console import Console

FPS = 15
WIDTH, HEIGHT = 640, 360
FRAME_W, FRAME_H = 8.0 * WIDTH / HEIGHT, 8.0
PNG_DIR = os.environ.get("LECTURE_PANEL_PNG")

PANEL = '''\
lesson "Panel"
  voice: none{setting}

section s "S"
  line l1 "The first line of the panel."
  line l2 "The second line."
  line l3 "The third line, reached only by a highlight."
  line l4 "The fourth line."
  circle c at C4
  step 1s: say l1 "One."; create c
  step 1s: say l2 "Two."
  step 1s: indicate c
  step 1s: highlight l4
'''
END = [FPS * k - 1 for k in (1, 2, 3, 4)]  # the last frame of steps 1..4


def _save(frame: np.ndarray, name: str) -> None:
    if PNG_DIR:
        from PIL import Image

        Image.fromarray(frame).save(Path(PNG_DIR) / name)


@dataclass(frozen=True)
class Rendered:
    code: str
    frames: list[np.ndarray]  # RGB, one per video frame
    rows: dict[str, tuple[float, float, float, float]]  # line id -> its box: left, bottom, right, top

    def patch(self, frame: int, line_id: str) -> np.ndarray:
        left, bottom, right, top = self.rows[line_id]
        x0, x1 = ((x + FRAME_W / 2) / FRAME_W * WIDTH for x in (left, right))
        y0, y1 = ((FRAME_H / 2 - y) / FRAME_H * HEIGHT for y in (top, bottom))
        return self.frames[frame][int(y0):int(y1) + 1, int(x0):int(x1) + 1].astype(int)

    def drawn(self, frame: int, line_id: str, colour: str | None = None) -> int:
        """How many pixels of a line's box differ clearly from the background (`colour`:
        how many are close to that colour)."""
        patch = self.patch(frame, line_id)
        if colour is not None:
            return int((np.abs(patch - _rgb(colour)).sum(axis=-1) < 40).sum())
        return int((np.abs(patch - _rgb(get_theme(None).background)).sum(axis=-1) > 60).sum())


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def _render(text: str, folder: Path) -> Rendered:
    """Compile a one-section lesson and render its scene, recording every frame."""
    from manim import tempconfig
    from manim.renderer.cairo_renderer import CairoRenderer

    module = compile_lesson(load_text(text, "t.lecture").lesson, base_dir=Path("."), measurer=ManimMeasurer())
    path = folder / "panel_scenes.py"
    path.write_text(module.code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    frames: list[np.ndarray] = []
    settings = {"dry_run": True, "media_dir": str(measure_cache_dir()), "frame_rate": FPS,
                "pixel_width": WIDTH, "pixel_height": HEIGHT, "frame_height": FRAME_H, "frame_width": FRAME_W,
                "verbosity": "WARNING", "progress_bar": "none", "disable_caching": True}
    with tempconfig(settings):
        renderer = CairoRenderer()
        add_frame = renderer.add_frame

        def record(frame: np.ndarray, num_frames: int = 1) -> None:
            frames.extend([frame[..., :3].copy()] * num_frames)
            add_frame(frame, num_frames)

        renderer.add_frame = record  # type: ignore[method-assign]
        scene = getattr(mod, module.scenes[0].class_name)(renderer=renderer)
        scene.render()
    rows = {k: (float(r.get_left()[0]), float(r.get_bottom()[1]), float(r.get_right()[0]),
                float(r.get_top()[1])) for k, r in scene.lecture_lines.items()}
    assert len(frames) == round(module.scenes[0].duration * FPS)
    return Rendered(module.code, frames, rows)


@pytest.fixture(scope="module")
def progressive(tmp_path_factory) -> Rendered:
    rendered = _render(PANEL.format(setting=""), tmp_path_factory.mktemp("progressive"))
    for i in (0, *END):
        _save(rendered.frames[i], f"progressive-{i}.png")
    return rendered


@pytest.fixture(scope="module")
def all_lines(tmp_path_factory) -> Rendered:
    rendered = _render(PANEL.format(setting="\n  lines: all"), tmp_path_factory.mktemp("all"))
    _save(rendered.frames[0], "all-0.png")
    return rendered


def test_a_line_appears_with_the_step_that_says_it(progressive):
    assert "], progressive=True)" in progressive.code
    assert progressive.drawn(0, "l1") == 0  # nothing in the panel before the first step plays
    assert progressive.drawn(END[0], "l1") > 100  # said in step 1
    assert progressive.drawn(END[0], "l2") == 0  # not yet: its row is background
    assert progressive.drawn(END[1], "l2") > 100  # said in step 2
    assert progressive.drawn(END[2], "l3") == 0  # step 3 says nothing
    # it fades in, quickly: part way through the fade it is fainter than at the step's end
    background = _rgb(get_theme(None).background)

    def ink(frame: int) -> int:
        return int(np.abs(progressive.patch(frame, "l2") - background).sum())

    assert 0.1 * ink(END[1]) < ink(FPS + 3) < 0.9 * ink(END[1])
    assert ink(FPS + 8) == ink(END[1])  # and is done after QUICK seconds


def test_highlighting_a_line_brings_in_the_hidden_lines_above_it(progressive):
    theme = get_theme(None)
    assert progressive.drawn(END[3], "l3") > 100 and progressive.drawn(END[3], "l4") > 100
    # the highlighted line appears in the accent colour, the one above it in the text colour
    assert progressive.drawn(END[3], "l4", theme.accent) > 50
    assert progressive.drawn(END[3], "l3", theme.accent) == 0
    assert progressive.drawn(END[3], "l3", theme.text) > 50
    # and the line highlighted before goes back to the text colour
    assert progressive.drawn(END[3], "l2", theme.accent) == 0


def test_lines_all_shows_every_line_from_the_first_frame_in_the_same_places(progressive, all_lines):
    assert "progressive" not in all_lines.code
    for line_id in ("l1", "l2", "l3", "l4"):
        assert all_lines.drawn(0, line_id) > 100, line_id
    assert all_lines.rows == progressive.rows  # laid out alike: nothing jumps when lines appear
    # at the end both panels show the same
    assert np.abs(all_lines.patch(END[3], "l2") - progressive.patch(END[3], "l2")).max() <= 2


# ---------------------------------------------------------------- check


def test_a_line_that_never_appears_is_a_warning_at_the_line():
    text = PANEL.format(setting="").replace("  step 1s: highlight l4\n", "")
    found = [d for d in diagnose(text) if d.code == "line-never-shown"]
    assert [(d.severity, d.span.line, d.span.column) for d in found] == [("warning", 7, 8), ("warning", 8, 8)]
    assert "'l3' never appears" in found[0].message
    assert found[0].hint is not None and 'say l3 "' in found[0].hint and "lines: all" in found[0].hint
    # l3 appears with l4 (no warning), and with `lines: all` every line is shown
    assert not [d for d in diagnose(PANEL.format(setting="")) if d.code == "line-never-shown"]
    assert not [d for d in diagnose(text.replace("voice: none", "voice: none\n  lines: all"))
                if d.code == "line-never-shown"]


def test_the_new_settings_take_only_their_words():
    found = diagnose(PANEL.format(setting="\n  lines: progresive\n  transition: dissolve"))
    bad = [d for d in found if d.severity == "error"]
    assert [(d.code, d.span.line, d.span.column) for d in bad] == [("bad-setting", 3, 10),
                                                                   ("bad-setting", 4, 15)]
    assert bad[0].message == "'lines' cannot be 'progresive'" and bad[0].hint == "did you mean 'progressive'?"
    assert bad[1].hint == "transition: cut or crossfade"


# ---------------------------------------------------------------- transitions

TWO = '''\
lesson "Two"
  voice: none
  theme: light{setting}

section first "Red"
  square r side=3 at C2 fill=red opacity=1 color=red
  step 0.5s: fade in r
  wait 1.5s

section second "Blue"
  square b side=3 at C5 fill=blue opacity=1 color=blue
  step 0.5s: fade in b
  wait 1.5s
'''
SECTION_2 = 2.0  # where section 2 starts


def _frames(video: Path) -> np.ndarray:
    """Every frame of a video, decoded (RGB)."""
    info = probe(video)
    assert info.width is not None and info.height is not None
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(video), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, info.height, info.width, 3)


@pytest.fixture(scope="module")
def joined(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("transitions")
    paths = []
    for name, setting in (("cut", ""), ("fade", "\n  transition: crossfade")):
        path = folder / f"{name}.lecture"
        path.write_text(TWO.format(setting=setting), encoding="utf-8")
        paths.append(path)
    buf = io.StringIO()
    rc = build.render_lessons(paths, build.RenderOptions(quality="low", build_root=folder / "build"),
                              console=Console(file=buf, width=200))
    assert rc == 0, buf.getvalue()
    return {name: folder / "build" / name for name in ("cut", "fade")}


def test_a_crossfade_changes_no_timing(joined):
    cut, fade = (json.loads((joined[n] / "manifest.json").read_text()) for n in ("cut", "fade"))
    frame = 1 / 15
    assert abs(cut["duration"] - 4.0) < frame and abs(fade["duration"] - cut["duration"]) < frame
    a, b = (probe(joined[n] / "lesson.mp4", count_frames=True) for n in ("cut", "fade"))
    assert a.frames == b.frames == 60
    planned = [[s["planned_duration"] for s in man["sections"]] for man in (cut, fade)]
    assert planned[0] == planned[1]
    assert fade["lesson_key"] != cut["lesson_key"]  # (the same sections, joined another way)


def test_a_crossfade_blends_the_sections_for_half_a_second(joined):
    cut, fade = _frames(joined["cut"] / "lesson.mp4"), _frames(joined["fade"] / "lesson.mp4")
    start = round(SECTION_2 * FPS)  # section 2's first frame
    quarter, second = start + round(0.25 * FPS), start + FPS
    for name, frames in (("cut", cut), ("fade", fade)):
        for i in (start - 1, quarter, second):
            _save(frames[i], f"{name}-{i}.png")
    h, w = cut.shape[1:3]
    red_spot = (h * 40 // 100, w * 60 // 100)  # inside section 1's red square (grid cell C2)
    red, paper = cut[start - 1][red_spot].astype(int), cut[second][red_spot].astype(int)
    assert red[0] > 150 and red[2] < 90 and paper.min() > 200  # (red, then the light page)
    # a quarter of a second into section 2: between section 1's red and section 2's page
    blend = fade[quarter][red_spot].astype(int)
    assert np.all(blend >= np.minimum(red, paper) - 8) and np.all(blend <= np.maximum(red, paper) + 8)
    assert np.abs(blend - red).sum() > 60 and np.abs(blend - paper).sum() > 60
    assert np.abs(cut[quarter][red_spot].astype(int) - paper).sum() < 30  # with a cut: gone
    # a second in: section 2 alone, as with a cut; and section 1 is untouched up to the join
    for i in (second, start - 1, FPS):
        assert np.abs(fade[i].astype(int) - cut[i].astype(int)).mean() < 2, i


def test_crossfade_joins_are_frame_exact(tmp_path):
    """At 30 fps a section's end is not a round number of seconds: the joins stay on frames."""
    parts = []
    for colour, count in (("red", 31), ("blue", 17), ("white", 29)):
        parts.append(tmp_path / f"{colour}.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i",
                        f"color=c={colour}:s=64x36:r=30", "-frames:v", str(count), "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", str(parts[-1])], check=True, timeout=60)
    out = assemble.concat(parts, tmp_path / "lesson.mp4", fps=30, transition="crossfade")
    frames = _frames(Path(out.path))
    assert len(frames) == 31 + 17 + 29
    at = [frames[n][18, 32].astype(int) for n in (30, 31, 47, 48, 76)]
    assert np.abs(at[0] - [254, 0, 0]).max() < 8  # section 1's last frame: red
    assert at[1][0] > 150 and at[1][2] < 60  # section 2's first frame: mostly red still
    assert np.abs(at[2] - [0, 0, 254]).max() < 8  # section 2's last frame: blue (the fade is over)
    assert at[3][2] > 150 and at[3][1] < 60  # section 3's first: from blue towards white
    assert np.abs(at[4] - [254, 254, 254]).max() < 8
