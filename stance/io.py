"""File reading and writing that never loses work: bounded reads, decoding with a stated fallback,
JSON with limits, folder scans that refuse what cannot be read safely, atomic model folders.

Single-file outputs (and the rules about what may be written where) live in :mod:`stance.outputs`.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import InputError, OutputError, UsageError

#: Bytes sniffed to tell text from binary data.
SNIFF_BYTES = 8192
#: Bytes read at a time: the binary check runs on the first read, so ``/dev/zero`` fails at once.
READ_CHUNK = 1 << 20
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

#: What to do about the errors the environment (not the user's data, not a bug) causes.
_OS_HINTS = {
    errno.ENOSPC: "free some disk space and rerun",
    errno.EDQUOT: "free some space within your disk quota and rerun",
    errno.EFBIG: "the file size limit was reached (see `ulimit -f`)",
    errno.EROFS: "the file system is read-only; choose a path on a writable disk",
    errno.EACCES: "check its permissions or choose another path",
    errno.EPERM: "check its permissions or choose another path",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.ELOOP: "a symbolic link points back to itself; fix or remove the link",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.EISDIR: "it is a folder; give a file path",
    errno.EIO: "the disk reported an input/output error; check it",
}


def os_reason(exc: OSError) -> str:
    """``reason; what to do`` for an error of the file system (the caller names the path)."""
    hint = _OS_HINTS.get(exc.errno or 0, "check the path and its permissions")
    return f"{exc.strerror or type(exc).__name__}; {hint}"


def describe_os_error(exc: OSError, path: str | os.PathLike[str] | None = None) -> str:
    """``path: reason; what to do``, for one-line messages."""
    where = path if path is not None else (exc.filename if exc.filename is not None else "file")
    return f"{where}: {os_reason(exc)}"


def read_text(path: str | os.PathLike[str]) -> tuple[str, str | None]:
    """Decode a text file as stored (``newline=""`` semantics) and say how, if not UTF-8.

    Scraped articles arrive in legacy encodings; decoding cp1252 silently as UTF-8 would produce
    mojibake or crash, so we fall back explicitly and return a warning the caller can show.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return read_stream(handle, str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory; expected a text file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({os_reason(exc)})") from None


def read_stream(handle: IO[bytes], name: str) -> tuple[str, str | None]:
    """Read a file, pipe or device in bounded chunks, checking the first one for binary data, so
    ``/dev/zero`` or an image fails at once instead of after filling memory."""
    head = handle.read(READ_CHUNK)
    while len(head) < SNIFF_BYTES:  # a pipe may deliver less than asked: sniff a full head anyway
        more = handle.read(READ_CHUNK)
        if not more:
            break
        head += more
    refuse_binary(head, name)
    chunks = [head]
    while chunk := handle.read(READ_CHUNK):
        chunks.append(chunk)
    return _decode(b"".join(chunks), name)


def refuse_binary(data: bytes, name: str) -> None:
    """Text never holds NUL bytes; binary files (images, PDFs, archives) nearly always do.
    UTF-16 text does, so a UTF-16 byte-order mark exempts the data (it is decoded as such)."""
    if b"\x00" in data[:SNIFF_BYTES] and not data.startswith(_UTF16_BOMS):
        raise InputError(f"{name}: looks like binary data (NUL bytes); expected a UTF-8 text file")


def _decode(data: bytes, name: str) -> tuple[str, str | None]:
    if data.startswith(_UTF16_BOMS):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{name}: starts with a UTF-16 byte-order mark but is not valid UTF-16; "
                             f"save it as UTF-8") from None
        return text, (f"{name}: UTF-16 text, decoded (offsets count characters of the decoded text); "
                      f"save it as UTF-8 to silence this")
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


def loads(text: str) -> Any:
    """``json.loads``, with the two limits Python enforces turned into ordinary JSON errors.

    Python refuses integers of more than 4,300 digits (a ``ValueError``) and runs out of stack on
    deeply nested arrays (a ``RecursionError``); callers already report ``JSONDecodeError`` with
    the file and line, so both become one with a message that says what was wrong.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        raise json.JSONDecodeError("an integer has more than 4300 digits", text, 0) from None
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None


def read_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
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
                yield number, loads(line), None
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"


def is_within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is ``folder`` or below it (both already resolved)."""
    path, folder = os.fspath(path), os.fspath(folder)
    return os.path.commonpath([path, folder]) == folder


def text_files(folder: Path, root: Path, recursive: bool = False,
               suffixes: tuple[str, ...] = (".txt",)) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The regular files of ``folder`` named ``*.txt`` (or another of ``suffixes``) and, for every
    other entry so named, why it is refused.

    A FIFO or a device never ends (a reader hangs), a folder or a symlink loop cannot be read, and a
    symlink resolving outside ``root`` could pull a private file (``~/.ssh/id_rsa``) into an export
    that is then shared: such entries are returned with the reason, never opened.
    """
    inside = os.path.realpath(root)
    if recursive:
        entries = [Path(top, name) for top, dirs, names in os.walk(folder) for name in dirs + names]
    else:
        entries = [Path(entry.path) for entry in os.scandir(folder)]
    files, refused = [], []
    for path in sorted(p for p in entries if p.name.endswith(suffixes)):
        reason = _refusal(path, inside, root)
        if reason:
            refused.append((path, reason))
        else:
            files.append(path)
    return files, refused


def _refusal(path: Path, inside: str, root: Path) -> str | None:
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot be read ({os_reason(exc)})"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not a text file; rename it or move it out"
    if not stat.S_ISREG(info.st_mode):
        return f"is a {file_kind(info.st_mode)}, not a regular file (reading it could block forever); remove it"
    real = os.path.realpath(path)
    if not is_within(real, inside):
        return f"links to {real}, outside {root}; copy the file into the folder instead of linking to it"
    return None


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words users recognise."""
    kinds = ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "folder"))
    return next((name for test, name in kinds if test(mode)), "special file")


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while a few renames publish a result, so an interruption lands
    before or after them, never between (a half-swapped model folder, half an import)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def umask() -> int:
    """The process umask (read without changing it), to give atomic files normal permissions."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: Path, data: Any) -> None:
    """Pretty, UTF-8, newline-terminated JSON: files people read and diff."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a directory under a temporary name; swap it in only when the body succeeds.

    An existing directory at ``target`` (a symlink is followed) is untouched until the new one is
    complete, then replaced by two renames that no signal can separate, so neither a crash nor
    Ctrl-C nor SIGTERM leaves a mix of old and new files. Every file gets the usual permissions
    (some writers create theirs private to the owner).
    """
    target = Path(os.path.realpath(target))
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: is a file; expected a directory path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise OutputError(describe_os_error(exc)) from None
    try:
        yield tmp
        _normal_modes(tmp)
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        with deferred_signals():
            replaced = target.exists()
            if replaced:
                os.replace(target, old)
            try:
                os.replace(tmp, target)
            except OSError:
                if replaced:
                    os.replace(old, target)
                raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        failure = os_error_of(exc)
        if failure is not None:
            raise OutputError(f"{target}: cannot be written ({os_reason(failure)}); "
                              f"the previous folder, if any, is unchanged") from None
        raise


#: How libraries written in Rust (tokenizers, safetensors) report an error of the operating system.
_NATIVE_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def os_error_of(exc: BaseException) -> OSError | None:
    """The operating-system error behind ``exc``: itself, or the ``(os error N)`` that tokenizers
    and safetensors put in their own exception types, so a full disk is not reported as a bug."""
    if isinstance(exc, OSError):
        return None if isinstance(exc, BrokenPipeError) else exc
    found = _NATIVE_OS_ERROR.search(str(exc)) if isinstance(exc, Exception) else None
    return OSError(int(found.group(1)), os.strerror(int(found.group(1)))) if found else None


def _normal_modes(folder: Path) -> None:
    mask = umask()
    os.chmod(folder, 0o777 & ~mask)
    for top, dirs, names in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o777 & ~mask)
        for name in names:
            os.chmod(os.path.join(top, name), 0o666 & ~mask)
