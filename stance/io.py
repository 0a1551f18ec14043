"""File reading and writing that never loses work: decoding with a stated fallback, atomic outputs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import InputError, UsageError

#: Bytes sniffed to tell text from binary data.
SNIFF_BYTES = 8192


def read_text(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """Decode a text file as stored (``newline=""`` semantics) and say how, if not UTF-8.

    Scraped articles arrive in legacy encodings; decoding cp1252 silently as UTF-8 would produce
    mojibake or crash, so we fall back explicitly and return a warning the caller can show.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; expected a text file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    return decode_text(data, str(path))


def refuse_binary(data: bytes, name: str) -> None:
    """Text never holds NUL bytes; binary files (images, PDFs, archives) nearly always do."""
    if b"\x00" in data[:SNIFF_BYTES]:
        raise InputError(f"{name}: looks like binary data (NUL bytes); expected a UTF-8 text file")


def decode_text(data: bytes, name: str) -> tuple[str, str | None]:
    """Decode bytes from a file or stdin; refuse binary data with a message naming ``name``."""
    refuse_binary(data, name)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        encoding = "latin-1"
    return text, f"{name}: not valid UTF-8; decoded as {encoding} (save it as UTF-8 to silence this)"


def read_jsonl(path: Path) -> Iterator[tuple[int, Any | None, str | None]]:
    """Yield ``(line_number, object, error)`` per non-blank line, so validators can report lines."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, f"not valid UTF-8 at byte {exc.start} of the line; save the file as UTF-8"
                continue
            if not line.strip():
                continue
            try:
                yield number, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"


def check_writable_file(target: Path, option: str = "output") -> None:
    """Fail before any work when an output path cannot be written."""
    if target.is_dir():
        raise UsageError(f"{target}: is a directory; expected a file path for {option}")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent}: no such directory for {option}; create it or choose another path")


def umask() -> int:
    """The process umask (read without changing it), to give atomic files normal permissions."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it only when the body succeeds.

    An interrupted run (error, Ctrl-C) leaves the previous file, or nothing, never half a file.
    The file gets the usual permissions (``mkstemp`` would leave it private to its owner).
    """
    target = Path(target)
    check_writable_file(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_file(target: str | os.PathLike[str], *, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text handle on a temporary file that replaces ``target`` only on success."""
    with atomic_path(target) as tmp, open(tmp, "w", encoding=encoding, newline="") as handle:
        yield handle


def write_json(path: Path, data: Any) -> None:
    """Pretty, UTF-8, newline-terminated JSON: files people read and diff."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a directory under a temporary name; swap it in only when the body succeeds.

    An existing directory at ``target`` is untouched until the new one is complete, and is
    replaced in two renames, so a crash never leaves a mix of old and new files.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: is a file; expected a directory path for the model")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
