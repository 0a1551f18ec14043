"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from stance.home import HOME_ENV


@pytest.fixture(scope="session", autouse=True)
def stance_home_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point STANCE_HOME at a per-session folder, so tests never read or fill the user's cache."""
    home = tmp_path_factory.mktemp("stance_home")
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    yield home
    if previous is None:
        os.environ.pop(HOME_ENV, None)
    else:
        os.environ[HOME_ENV] = previous


@pytest.fixture(scope="session")
def base_encoder(stance_home_dir: Path) -> Path:
    """The converted multilingual-e5-small folder, built once per session (a few seconds)."""
    from stance.encoder import base_encoder_dir

    return base_encoder_dir()
