"""Helpers for tests that run the real CLI: to completion (:func:`run`), or in the background to
interrupt it at a chosen moment.

An interruption test must not pass or fail by timing luck: it waits until the temporary or staging
path it aims at exists, signals only then, and reports whether it ever existed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "stance.cli", *args], input=stdin, capture_output=True,
                          env=env, cwd=cwd, timeout=600)


def one_line_error(result: subprocess.CompletedProcess, code: int = 1) -> str:
    err = result.stderr.decode()
    assert result.returncode == code, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def start(*args: str, **kwargs: Any) -> subprocess.Popen:
    """``stance ARGS`` as a background process (stdout and stderr captured unless given)."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **kwargs.pop("env", {})}
    return subprocess.Popen([sys.executable, "-m", "stance.cli", *args], env=env, **kwargs)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, timeout: float = 300) -> bool:
    """Poll ``condition`` until it holds (True) or the process ends first or time runs out (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return condition()
        time.sleep(0.002)
    return False


def temporaries(folder: Path, prefix: str) -> list[Path]:
    """Hidden temporary paths (``.<prefix>….tmp``) in ``folder``."""
    return [p for p in folder.iterdir() if p.name.startswith(f".{prefix}") and p.name.endswith(".tmp")]


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry below ``root``: file bytes, symlink targets, folders; to compare states exactly."""
    state: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            state[name] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            state[name] = "dir"
        else:
            state[name] = path.read_bytes()
    return state
