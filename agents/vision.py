"""The vision Critic (`lecture critique --vlm`): a second opinion on a lesson's layout.

Key frames — the end of chosen steps, drawn at low resolution with Manim's camera — get
the anchor grid drawn over them (cell lines and their names A1..F6, with Pillow) and are
sent as image content parts (base64 PNG data URLs) to a vision model (agent "critic"),
with the lesson and the geometric findings. The model answers with anchor edits in the
JSON Schema `critic_edits.schema.json`. Only valid edits come back from here (the
placement parses, the element exists and accepts it, a relation names another element of
the same section); the caller applies each one only if the geometric check then finds
nothing new. Tokens are counted in the UsageLog under agent "critic".
"""

from __future__ import annotations

import base64
import io
import json
import re
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from lecture.compiler import layout as L
from lecture.compiler import theme as T
from lecture.compiler.findings import Finding
from lecture.compiler.format import placement as placement_text
from lecture.compiler.kinds import KINDS
from lecture.compiler.model import At, Cell, In, Lesson, Placement, Relative

from .anchor_edit import AnchorEdit
from .config import AgentError, ClientConfig
from .prompt_files import prompt
from .usage import UsageLog

MAX_FRAMES = 4
FRAME_SIZE = (854, 480)
MAX_REPAIRS = 1

_PLACEMENT = re.compile(r"^\s*(?:at\s+(?P<cell>[A-Za-z]\d+)"
                        r"|in\s+(?P<first>[A-Za-z]\d+)\s*\.\.\s*(?P<last>[A-Za-z]\d+)"
                        r"|(?P<rel>below|above|left\s+of|right\s+of|next\s+to)\s+(?P<target>[A-Za-z_][\w]*))\s*$")


def schema() -> dict:
    path = resources.files("lecture.agents").joinpath("critic_edits.schema.json")
    return json.loads(path.read_text("utf-8"))




# ---------------------------------------------------------------- the grid over a frame


def to_pixel(x: float, y: float, size: tuple[int, int]) -> tuple[float, float]:
    w, h = size
    return ((x + T.FRAME_WIDTH / 2) / T.FRAME_WIDTH * w, (T.FRAME_HEIGHT / 2 - y) / T.FRAME_HEIGHT * h)


def draw_grid(image: Any) -> Any:
    """The anchor grid over a frame: cell lines, and each cell's name in its top-left corner."""
    from PIL import Image, ImageDraw, ImageFont

    img = image.convert("RGBA")
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    size = img.size
    colour = (255, 80, 80, 170)
    for c in range(T.GRID_COLUMNS + 1):
        x = T.GRID_LEFT + c * T.CELL
        draw.line([to_pixel(x, T.GRID_TOP, size), to_pixel(x, T.GRID_BOTTOM, size)], fill=colour, width=1)
    for r in range(len(T.GRID_ROWS) + 1):
        y = T.GRID_TOP - r * T.CELL
        draw.line([to_pixel(T.GRID_LEFT, y, size), to_pixel(T.GRID_RIGHT, y, size)], fill=colour, width=1)
    try:
        font = ImageFont.load_default(size=max(10, size[1] // 40))
    except TypeError:  # an older Pillow
        font = ImageFont.load_default()
    for r, row in enumerate(T.GRID_ROWS):
        for c in range(T.GRID_COLUMNS):
            x, y = to_pixel(T.GRID_LEFT + c * T.CELL, T.GRID_TOP - r * T.CELL, size)
            draw.text((x + 2, y + 1), f"{row}{c + 1}", fill=(255, 120, 120, 230), font=font)
    return Image.alpha_composite(img, overlay).convert("RGB")


def data_url(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# ---------------------------------------------------------------- choosing frames


def key_steps(lesson: Lesson, findings: list[Finding], views: list[Any]) -> dict[int, set[int]]:
    """At most MAX_FRAMES (section index, step) pairs: the steps where findings appear,
    then the last step of each section (its fullest picture)."""
    chosen: list[tuple[int, int]] = []
    index = {s.id: i for i, s in enumerate(lesson.sections)}
    for f in findings:
        if f.step is not None and f.section in index and (index[f.section], f.step) not in chosen:
            chosen.append((index[f.section], f.step))
    for i, view in enumerate(views):
        if view.steps:
            last = max(view.steps, key=lambda s: (len(s.visible), s.index)).index
            if (i, last) not in chosen:
                chosen.append((i, last))
    out: dict[int, set[int]] = {}
    for i, step in chosen[:MAX_FRAMES]:
        out.setdefault(i, set()).add(step)
    return out


# ---------------------------------------------------------------- checking an answer


def parse_placement(text: str, section: Any, element_id: str) -> Placement | None:
    """A placement written as in a lesson, if it is valid for that element; else None."""
    m = _PLACEMENT.match(text or "")
    if m is None:
        return None
    if m.group("cell"):
        name = m.group("cell").upper()
        return At(Cell(name[0], int(name[1:]))) if L.is_cell_name(name) else None
    if m.group("first"):
        a, b = m.group("first").upper(), m.group("last").upper()
        if not (L.is_cell_name(a) and L.is_cell_name(b)):
            return None
        return In(Cell(a[0], int(a[1:])), Cell(b[0], int(b[1:])))
    rel = " ".join(m.group("rel").split())
    target = m.group("target")
    if target == element_id or section.element(target) is None:
        return None
    from lecture.compiler.model import Ref

    return Relative(rel, Ref(target))


def valid_edits(answer: dict, lesson: Lesson) -> tuple[list[AnchorEdit], list[str]]:
    """The edits of an answer that can be applied, and why the others cannot."""
    edits: list[AnchorEdit] = []
    rejected: list[str] = []
    for item in answer.get("edits", []) if isinstance(answer, dict) else []:
        if not isinstance(item, dict):
            rejected.append(f"not an object: {item!r}")
            continue
        sid, eid = item.get("section"), item.get("element")
        section = lesson.section(sid) if isinstance(sid, str) else None
        el = section.element(eid) if section is not None and isinstance(eid, str) else None
        if el is None:
            rejected.append(f"no element '{eid}' in section '{sid}'")
            continue
        spec = KINDS.get(el.kind)
        placement = None
        if item.get("placement") is not None:
            placement = parse_placement(str(item["placement"]), section, el.id)
            if placement is None:
                rejected.append(f"{sid}/{eid}: '{item['placement']}' is not a placement here")
                continue
            if spec is not None and (spec.placement in ("none", "around") or el.endpoints is not None or
                                     el.drawn_on is not None or  # a dot at (2, 4) on ax stays there
                                     (spec.placement == "relation" and not isinstance(placement, Relative))):
                rejected.append(f"{sid}/{eid}: a {el.kind} cannot be placed {placement_text(placement)}")
                continue
        scale = item.get("scale")
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)
                                  or not 0 < scale <= 3):
            rejected.append(f"{sid}/{eid}: scale {scale!r} is not a positive factor")
            continue
        if placement is None and scale is None:
            rejected.append(f"{sid}/{eid}: neither a placement nor a scale")
            continue
        edits.append(AnchorEdit(str(sid), el.id, placement, float(scale) if scale is not None else None,
                                source="vision"))
    return edits, rejected


# ---------------------------------------------------------------- the critic


def describe_elements(lesson: Lesson) -> str:
    lines = []
    for section in lesson.sections:
        lines.append(f"section {section.id}:")
        for el in section.elements:
            where = placement_text(el.placement) if el.placement is not None else "(placed automatically)"
            lines.append(f"  {el.kind} {el.id}: {where}")
    return "\n".join(lines)


class VisionCritic:
    """Callable(lesson, checked, base_dir) -> valid AnchorEdits proposed by a vision model."""

    def __init__(self, config: ClientConfig, *, usage: UsageLog | None = None,
                 say: Callable[[str], None] | None = None, frames_dir: Path | None = None) -> None:
        self.config = config
        self.usage = usage if usage is not None else UsageLog()
        self.say = say or (lambda text: None)
        self.frames_dir = frames_dir
        self.rejected: list[str] = []
        self.images: list[Any] = []

    def frames(self, lesson: Lesson, checked: Any, base_dir: Path) -> list[tuple[str, Any]]:
        """The key frames with the grid drawn over them, in memory. They are drawn into
        `frames_dir` when one is given (kept there), else into a temporary folder that is
        removed however this ends."""
        if self.frames_dir is not None:
            return self._frames_in(self.frames_dir, lesson, checked, base_dir)
        with tempfile.TemporaryDirectory(prefix="lecture-critic-") as folder:
            return self._frames_in(Path(folder), lesson, checked, base_dir)

    def _frames_in(self, folder: Path, lesson: Lesson, checked: Any, base_dir: Path) -> list[tuple[str, Any]]:
        from lecture.runtime.geometry import render_key_frames
        from PIL import Image

        wanted = key_steps(lesson, checked.findings, checked.views)
        paths = render_key_frames(lesson, base_dir=base_dir, wanted=wanted, out_dir=folder,
                                  width=FRAME_SIZE[0], height=FRAME_SIZE[1])
        out = []
        for (si, step), path in sorted(paths.items()):
            with Image.open(path) as img:
                gridded = draw_grid(img)
            gridded.save(path.with_name(path.stem + "_grid.png"))
            out.append((f"section {lesson.sections[si].id}, end of step {step}", gridded))
        return out

    def __call__(self, lesson: Lesson, checked: Any, base_dir: Path) -> list[AnchorEdit]:
        from .client import ModelCallError, ModelClient, image_part

        client = ModelClient(self.config.for_agent("critic"), self.usage)
        frames = self.frames(lesson, checked, base_dir)
        self.images = [img for _, img in frames]
        findings = "\n".join(f"- {f.section}: {f.message}{f.where()}" for f in checked.findings) or "- none"
        from lecture.compiler.format import format_lesson

        task = prompt("critic_task").format(
            title=lesson.title.value, lesson=format_lesson(lesson), elements=describe_elements(lesson),
            findings=findings, frames="; ".join(name for name, _ in frames) or "(none)")
        content: list[dict] = [{"type": "text", "text": task}]
        for name, img in frames:
            content.append({"type": "text", "text": name})
            content.append(image_part(data_url(img)))
        messages: list[dict] = [{"role": "system", "content": prompt("critic_system")},
                                {"role": "user", "content": content}]
        the_schema = schema()
        for attempt in range(MAX_REPAIRS + 1):
            try:
                reply = client.chat_json(messages, the_schema, name="anchor_edits")
            except ModelCallError as exc:
                raise AgentError(str(exc)) from None
            try:
                answer = json.loads(_strip_fences(reply.text))
                _validate(answer, the_schema)
            except (ValueError, _SchemaError) as exc:
                if attempt == MAX_REPAIRS:
                    self.say(f"the vision model's answer was not usable: {exc}")
                    return []
                messages += [{"role": "assistant", "content": reply.text},
                             {"role": "user", "content": prompt("critic_repair").format(error=exc)}]
                continue
            edits, rejected = valid_edits(answer, lesson)
            self.rejected = rejected
            for why in rejected:
                self.say(f"vision edit ignored: {why}")
            return edits
        return []


class _SchemaError(ValueError):
    pass


def _validate(answer: Any, the_schema: dict) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(the_schema)
    errors = sorted(validator.iter_errors(answer), key=lambda e: list(e.path))
    if errors:
        # an item that breaks the schema is dropped later by valid_edits only when the rest is usable
        bad_top = [e for e in errors if len(e.absolute_path) < 2]
        if bad_top:
            raise _SchemaError(bad_top[0].message)


def _strip_fences(text: str) -> str:
    text = text.strip()
    m = re.match(r"^```(?:json)?\s*\n(.*)\n```\s*$", text, re.S)
    return m.group(1) if m else text
