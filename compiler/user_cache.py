"""The user's cache folder, shared by every lesson: `$LECTURE_CACHE_DIR`, else `~/.cache/lecture`.

The one place that reads the variable. It lives in the compiler, the lowest layer that
needs it (the parser keeps Lark's table cache there); the runtime keeps typeset SVGs and
the tool-version memo under it.
"""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """The user's cache folder (never inside a lesson repository unless the user says so)."""
    env = os.environ.get("LECTURE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "lecture"


__all__ = ["user_cache_dir"]
