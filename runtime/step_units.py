"""Steps as render units, in a worker: a section's scene rendered from one step to another.

A unit is one step of a section, or a run of short consecutive steps (step_units_plan.py
splits a section). A worker renders a range of a section's units by running the scene's
`construct` as usual; `LectureScene.step` tells the renderer, `UnitRenderer`, where each step
starts (`lecture_step`), and the renderer decides what each play does:

- before the range, and for a unit whose video the cache already holds, the play is
  *advanced*: CairoRenderer.play without drawing or writing. It goes through the very frame
  times a drawn play goes through (`play_internal(skip_rendering=True)`: every updater gets the
  same dt, so a trace or a follower of a value is exactly where a whole-section render has
  it), where Manim's own `skip_animations` would jump each animation to its end in one update;
- in the range, the play is drawn and written as Manim writes it: one segment per play, with
  Manim's encoder settings. At the unit's end its segments are joined into the unit's video
  without re-encoding (Manim's own combine_files), so a section joined from its units is
  frame-identical to the section rendered whole;
- after the range the scene ends (EndSceneEarlyException, as Manim's `-n` does).

At each unit's start the worker takes a fingerprint of the scene's state (`state_fingerprint`):
every mobject of the scene and every element of the section (the locals of `construct`, shown
yet or not), with their points, colours, opacities, order, z-index, updaters (their code and
what their closures hold) and the section's panel state. It is part of the unit's cache key:
an edit of step 2 that leaves step 3's starting state as it was leaves step 3 cached.

The worker answers with a JSON list of its units (units.json, next to the videos): each one's
fingerprint, and the video (and still) it made, or that it was skipped as cached.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import types
from collections.abc import Mapping
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

import numpy as np
from manim import Mobject, Scene
from manim.renderer.cairo_renderer import CairoRenderer
from manim.utils.exceptions import EndSceneEarlyException

from .step_units_plan import UNITS_FILE, UnitOutcome, UnitRange

# ---------------------------------------------------------------- the state's fingerprint


class _Hasher:
    """A deterministic hash of an object graph: the same state gives the same digest in any
    process (no ids, no addresses, no set order); shared and cyclic references are named by
    the order they were first met in."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()
        self.seen: dict[int, int] = {}
        self.keep: list[object] = []  # (what `seen` names stays alive while hashing)

    def put(self, tag: str, data: bytes = b"") -> None:
        self.h.update(tag.encode() + struct.pack("<I", len(data)) + data)

    def add(self, obj: object) -> None:
        kind = type(obj)
        if kind is float:  # (the commonest kinds first: a text's glyphs are thousands of mobjects)
            self.h.update(b"f" + struct.pack("<d", obj))
        elif kind is np.ndarray:
            self._array(obj)  # type: ignore[arg-type]
        elif isinstance(obj, Mobject):
            if not self._again(obj):
                self._object(obj)
        else:
            self._other(obj)

    def _other(self, obj: object) -> None:  # noqa: C901, PLR0912 - one case per kind of value
        if obj is None or isinstance(obj, bool):
            self.put("c", repr(obj).encode())
        elif isinstance(obj, int):
            self.put("i", str(obj).encode())
        elif isinstance(obj, float):
            self.put("f", struct.pack("<d", obj))
        elif isinstance(obj, str):
            self._text(obj)
        elif isinstance(obj, PurePath):
            self._text(str(obj))
        elif isinstance(obj, bytes):
            self.put("b", obj)
        elif isinstance(obj, Enum):
            self.put("e", f"{type(obj).__qualname__}.{obj.name}".encode())
        elif isinstance(obj, np.generic):
            self.put("g", obj.dtype.str.encode() + obj.tobytes())
        elif isinstance(obj, types.ModuleType):
            self.put("m", obj.__name__.encode())
        elif isinstance(obj, type):
            self.put("t", f"{obj.__module__}.{obj.__qualname__}".encode())
        elif isinstance(obj, Scene):
            self.put("scene")  # (the scene is fingerprinted by `state_fingerprint` itself)
        elif isinstance(obj, np.ndarray):
            self._array(obj)  # (by value, never by reference: how arrays are shared is not state)
        elif type(obj).__module__ in _VALUE_MODULES:
            self._object(obj)  # (a colour: by value too)
        elif self._again(obj):
            return
        elif isinstance(obj, list | tuple):
            self.put("l" if isinstance(obj, list) else "u", str(len(obj)).encode())
            for item in obj:
                self.add(item)
        elif isinstance(obj, dict):
            self.put("d", str(len(obj)).encode())
            for k, v in obj.items():
                self.add(k)
                self.add(v)
        elif isinstance(obj, set | frozenset):
            # (a set's order follows its members' hashes, ids for most objects: its size only,
            # and its plain members sorted)
            plain = sorted(repr(v) for v in obj if isinstance(v, int | float | str | bool))
            self.put("S", f"{len(obj)}:{plain}".encode())
        elif isinstance(obj, types.FunctionType):
            self._function(obj)
        elif isinstance(obj, types.MethodType):
            self.put("M", obj.__func__.__qualname__.encode())
            func = obj.__func__
            if isinstance(func, types.FunctionType):
                self._function(func)
            self.add(obj.__self__)
        elif isinstance(obj, types.CodeType):
            self._code(obj)
        elif callable(obj) and not hasattr(obj, "__dict__"):
            self.put("B", getattr(obj, "__qualname__", type(obj).__qualname__).encode())
        else:
            self._object(obj)

    def _text(self, text: str) -> None:
        # A file's path names a file of this job's own folders (an SVG of a text, named by its
        # content): its name only.
        if text.startswith("/") and "\n" not in text:
            text = "<path>/" + text.rsplit("/", 1)[-1]
        self.put("s", text.encode("utf-8", "surrogatepass"))

    def _again(self, obj: object) -> bool:
        """Name an object met before by when it was first met; else remember it."""
        seen = self.seen.get(id(obj))
        if seen is not None:
            self.put("r", str(seen).encode())
            return True
        self.seen[id(obj)] = len(self.seen)
        self.keep.append(obj)
        return False

    def _array(self, a: np.ndarray) -> None:
        self.put("a", f"{a.dtype.str}{a.shape}".encode())
        if a.dtype == object:
            for item in a.ravel():
                self.add(item)
        else:
            self.put("A", np.ascontiguousarray(a).tobytes())

    def _code(self, code: types.CodeType) -> None:
        # (what it does, not where it is: line numbers move when lines are added above)
        self.put("C", code.co_code + "\0".join((*code.co_names, *code.co_freevars)).encode())
        for const in code.co_consts:
            self.add(const)

    def _function(self, fn: types.FunctionType) -> None:
        self.put("F", fn.__qualname__.encode())
        self._code(fn.__code__)
        self.add(fn.__defaults__)
        self.add(fn.__kwdefaults__)
        for cell in fn.__closure__ or ():
            try:
                self.add(cell.cell_contents)
            except ValueError:  # an empty cell
                self.put("0")

    def _object(self, obj: object) -> None:
        kind = type(obj)
        self.put("o", f"{kind.__module__}.{kind.__qualname__}".encode())
        if kind.__module__ in ("weakref", "_weakrefset", "threading", "_thread"):
            return  # (weak containers and locks: nothing of the picture)
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict):
            self._attributes(state)
        for name in _slots(kind):
            self.add(getattr(obj, name, None))

    def _attributes(self, state: dict) -> None:
        """An object's attributes: the plain ones (numbers, names, flags) together in one
        piece, the others one by one (a text's glyphs are thousands of small objects)."""
        plain: list[str] = []
        for name, value in state.items():
            if name in _NOT_DRAWN or (name == "sheen_direction" and not state.get("sheen_factor")):
                continue
            kind = type(value)
            if kind in _PLAIN:
                plain.append(f"{name}={value!r}")
            elif kind.__module__ in _VALUE_MODULES and isinstance(getattr(value, "__dict__", None), dict):
                plain.append(f"{name}={kind.__qualname__}{_value_bytes(value).hex()}")  # (a colour)
            elif kind in (list, tuple, dict) and not value:
                plain.append(f"{name}={value!r}")
            elif isinstance(value, Enum):
                plain.append(f"{name}={kind.__qualname__}.{value.name}")
            elif kind is np.ndarray and value.dtype != object:
                plain.append(f"{name}={value.dtype.str}{value.shape}")
                self.h.update(np.ascontiguousarray(value).tobytes())
            else:
                self.put("k", name.encode())
                self.add(value)
        self.put("P", "\0".join(plain).encode("utf-8", "surrogatepass"))


# Objects hashed by value wherever they are met (Manim's colours).
_VALUE_MODULES = ("manim.utils.color.core",)
# Attributes that say nothing of the picture and differ between equal mobjects: Manim's copies
# of a parsed SVG carry the id of the original; the direction of a sheen there is none of. And
# the parsed SVG path a glyph or an SVG's piece was made from (`path_obj`): read only when the
# mobject is made (its points, hashed, are what is drawn), it is nine in ten of the objects a
# scene with text holds, and hashing it was most of a fingerprint's cost.
_NOT_DRAWN = frozenset({"original_id", "path_obj"})


_PLAIN = frozenset({int, float, bool, type(None)})  # (str: a path is shortened, see _text)


def _value_bytes(value: object) -> bytes:
    """A colour's value (its numbers)."""
    return b"".join(np.asarray(v).tobytes() if isinstance(v, np.ndarray) else repr(v).encode()
                    for v in vars(value).values())


_SLOTS: dict[type, tuple[str, ...]] = {}


def _slots(kind: type) -> tuple[str, ...]:
    """The slots of a class and its bases (remembered per class)."""
    known = _SLOTS.get(kind)
    if known is not None:
        return known
    names: list[str] = []
    for klass in kind.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        listed = [slots] if isinstance(slots, str) else list(slots)
        names.extend(s for s in listed if s not in ("__dict__", "__weakref__"))
    _SLOTS[kind] = tuple(names)
    return _SLOTS[kind]


def state_fingerprint(scene: Any, local_values: Mapping[str, object]) -> str | None:
    """The fingerprint of the state a step starts from: the scene's mobjects in their order
    (what is drawn, and in which order), the section's elements (`construct`'s locals), the
    lecture panel's state, and where the steps' frame rounding stands. (Not the random
    generators': Manim seeds them afresh for every scene, from the system without a seed, so
    nothing drawn at random is the same twice, cached whole or in steps.) None when it cannot
    be taken (then the unit is rendered and not cached)."""
    hasher = _Hasher()
    fps = float(getattr(getattr(scene, "camera", None), "frame_rate", 0.0) or 0.0)
    residual = round(float(getattr(scene, "_declared", 0.0)) * fps - int(getattr(scene, "_frames", 0)), 6)
    panel = (getattr(scene, "lecture_lines", {}), getattr(scene, "hidden_lines", []),
             getattr(scene, "highlighted", None), list(getattr(scene, "part_marks", {}).values()))
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, 20000))
        hasher.add(scene.mobjects)
        hasher.add(scene.foreground_mobjects)
        hasher.add(list(scene.updaters))
        hasher.add(panel)
        hasher.add(residual)
        for name in sorted(local_values):
            if name != "self":
                hasher.add(name)
                hasher.add(local_values[name])
    except (RecursionError, TypeError, ValueError):
        return None
    finally:
        sys.setrecursionlimit(limit)
    return hasher.h.hexdigest()[:32]


# ---------------------------------------------------------------- the renderer


class UnitRenderer(CairoRenderer):
    """A Cairo renderer that draws only the plays of the units it is asked for (see the
    module doc); LectureScene.step calls `lecture_step` before each step."""

    def __init__(self, plan: UnitRange, out_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.out_dir = out_dir
        self.drawing = False
        self.steps = 0  # steps begun so far
        self.unit: UnitOutcome | None = None  # the unit being played (in the range)
        self.segments_from = 0  # where the current unit's segments start in the writer's list
        self.outcomes: list[UnitOutcome] = []

    # -- steps

    def lecture_step(self, scene: Any, caller: types.FrameType | None) -> None:
        """A step begins (LectureScene.step, before it plays anything)."""
        step, self.steps = self.steps, self.steps + 1
        plan = self.plan
        if step not in plan.bounds[:-1]:
            return  # (inside a unit)
        u = plan.bounds.index(step)
        self._end_unit(scene)
        if u >= plan.stop or (plan.still_of is not None and u > plan.still_of):
            raise EndSceneEarlyException()
        if u < plan.first or u in plan.skip:
            return
        local_values = dict(caller.f_locals) if caller is not None else {}
        # (a still alone is stored by its section's hash: no fingerprint to take)
        state = state_fingerprint(scene, local_values) if plan.still_of is None else None
        cached = state is not None and state in plan.known.get(u, frozenset())
        self.unit = UnitOutcome(u, state, cached=cached)
        self.drawing = plan.still_of is None and not cached
        self.segments_from = len(self.file_writer.partial_movie_files)

    def _end_unit(self, scene: Any) -> None:
        """The unit being played is over: its segments joined into its video, its still."""
        unit, self.unit = self.unit, None
        if unit is None:
            return
        self.outcomes.append(unit)
        if self.plan.still_of == unit.index:
            self.static_image = None
            self.update_frame(scene)  # (everything, in the scene's order)
            unit.still = self._save_still(unit.index)
            return
        if not self.drawing:
            return
        self.drawing = False
        writer = self.file_writer
        writer.join_all_encode_jobs()
        segments = [s for s in writer.partial_movie_files[self.segments_from:] if s is not None]
        if segments:
            video = self.out_dir / f"unit-{unit.index}.mp4"
            writer.combine_files(segments, video)
            unit.video = str(video)
        if self.plan.stills:
            unit.still = self._save_still(unit.index)  # (the camera holds the unit's last frame)

    def _save_still(self, index: int) -> str:
        path = self.out_dir / f"unit-{index}.png"
        self.camera.get_image().convert("RGB").save(path)
        return str(path)

    # -- plays

    def play(self, scene: Any, *args: Any, **kwargs: Any) -> None:
        if self.drawing:
            super().play(scene, *args, **kwargs)
        else:
            self._advance(scene, *args, **kwargs)

    def _advance(self, scene: Any, *args: Any, **kwargs: Any) -> None:
        """CairoRenderer.play, neither drawing nor writing: the same frame times, so the same
        updates (a frozen wait updates nothing, as when drawn)."""
        scene.compile_animation_data(*args, **kwargs)
        self.file_writer.add_partial_movie_file(None)  # (its list is indexed by play, as for a skipped one)
        scene.begin_animations()
        dt = 1 / self.camera.frame_rate
        if scene.is_current_animation_frozen_frame():
            frames = int(scene.duration / dt)
        else:
            frames = len(np.arange(0, scene.duration, dt))
            scene.play_internal(skip_rendering=True)
        self.time += frames * dt
        self.num_plays += 1

    def add_frame(self, frame: Any, num_frames: int = 1) -> None:
        super().add_frame(frame, num_frames)
        if self.unit is not None and not self.skip_animations:
            self.unit.frames += num_frames

    def scene_finished(self, scene: Any) -> None:
        """The scene's end: the last unit finished; no whole-scene movie (the units are the output)."""
        self._end_unit(scene)
        self.file_writer.join_all_encode_jobs()

    def write_outcomes(self) -> Path:
        path = self.out_dir / UNITS_FILE
        path.write_text(json.dumps({"units": [u.to_json() for u in self.outcomes]}), encoding="utf-8")
        return path


def render_units(scene_cls: type, plan: UnitRange, out_dir: Path) -> Path:
    """Render a range of a section's units (module doc); the path of the units' list."""
    out_dir.mkdir(parents=True, exist_ok=True)
    renderer = UnitRenderer(plan, out_dir.resolve())
    scene = scene_cls(renderer=renderer)
    scene.render()
    return renderer.write_outcomes()


__all__ = ["UnitRenderer", "render_units", "state_fingerprint"]
