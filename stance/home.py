"""Where caches and the default model live: one folder, so users can find, move or delete it."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that overrides the cache folder (tests point it at a temporary folder).
HOME_ENV = "STANCE_HOME"


def stance_home() -> Path:
    """The folder for the converted base encoder and the default model (created on demand)."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("stance"))


def default_model_dir() -> Path:
    """Where ``stance train`` writes and ``stance tag`` looks when no directory is given."""
    return stance_home() / "models" / "default"
