"""Lecture's own exact layout findings of a build, counted per minute, beside the AES scores.

The findings come from the first of:

1. the build manifest's "findings" list, when the renderer records one;
2. the Critic's exact geometry, `lecture.agents.critic.check_lesson(lesson, base_dir)`
   (a dry run of the compiled scenes, no video drawn), on the lesson file the manifest
   names, when that file still has the content hash the build was made from (else the
   findings would describe another lesson, and "n/a" says so). The lesson is read only
   where build_folder accepts it (a .lecture file in the build's project folder); the
   hash is compared before anything parses it.

Both are optional: the import is tried at run time, and without it (or without the
lesson file) the report says "n/a" and why. Only builds have findings; a plain MP4 has
none (None).
"""

from __future__ import annotations

from lecture.runtime.manifest import content_hash
from lecture.runtime.safe_fs import read_regular

from .build_folder import MAX_LESSON_BYTES, BuildFolder


def _as_list(value) -> list | None:
    if isinstance(value, list | tuple):
        return list(value)
    inner = value.get("findings") if isinstance(value, dict) else getattr(value, "findings", None)
    return list(inner) if isinstance(inner, list | tuple) else None


def _kinds(found: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in found:
        kind = (f.get("code") or f.get("rule")) if isinstance(f, dict) else getattr(f, "code", None)
        counts[str(kind or "finding")] = counts.get(str(kind or "finding"), 0) + 1
    return dict(sorted(counts.items()))


def _from_critic(build: BuildFolder) -> tuple[list | None, str]:
    lesson_path = build.lesson
    if lesson_path is None:
        return None, build.lesson_note
    data = read_regular(lesson_path, MAX_LESSON_BYTES)
    if data is None:
        return None, f"cannot read the lesson {lesson_path}"
    # before anything parses the file: only the lesson the build was made from
    expected = build.manifest.get("content_hash")
    if expected and content_hash(data.decode("utf-8", errors="replace")) != expected:
        return None, "the lesson changed since the build"
    try:
        from lecture.agents.critic import check_lesson
        from lecture.compiler.frontend import load_file
    except ImportError as exc:
        return None, f"no findings function ({exc})"
    try:
        loaded = load_file(lesson_path)
        checked = check_lesson(loaded.lesson, lesson_path.parent)
    except Exception as exc:  # noqa: BLE001 - an optional measurement: report why it is missing
        return None, f"findings failed: {type(exc).__name__}: {str(exc)[:120]}"
    return list(checked.findings), "lecture.agents.critic.check_lesson"


def lecture_findings(build: BuildFolder | None, duration: float) -> dict | None:
    """{"count", "per_minute", "kinds", "source"} for a Lecture build (opened with
    load_build); None for other videos."""
    if build is None:
        return None
    manifest = build.manifest
    found = _as_list(manifest.get("findings")) if "findings" in manifest else None
    source = "manifest"
    if found is None:
        found, source = _from_critic(build)
    if found is None:
        return {"count": None, "per_minute": None, "kinds": {}, "source": source}
    minutes = duration / 60 if duration > 0 else None
    return {"count": len(found), "per_minute": round(len(found) / minutes, 3) if minutes else None,
            "kinds": _kinds(found), "source": source}
