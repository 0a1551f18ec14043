"""Where an output may be written and how, decided in one place for every command that writes.

- A regular file or a new path is written through a temporary file renamed onto it on success, so
  an interruption or a failed write leaves the previous file (or nothing), never half a file; the
  previous file's permissions are kept.
- A character device (``/dev/null``), a FIFO or ``-`` (standard output) is written in place:
  renaming a file over a device node would replace the node for every other program.
- A symbolic link is followed: its target is written, the link stays a link.
- An output that is one of the inputs, inside an input folder, or a file of the corpus is refused
  before any work (exit 2): writing it would destroy what the command reads.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from .corpus import ARTICLES_DIR, ARTICLES_FILE, SCHEMA_FILE, SPANS_FILE, SPLIT_FILE
from .errors import OutputError, UsageError
from .io import deferred_signals, file_kind, is_within, os_error_of, os_reason, umask
from .written import EXAMPLES_FILE, PASSAGES_FILE

#: The output name that means standard output.
STDOUT = "-"
_CORPUS_FILES = (SCHEMA_FILE, ARTICLES_FILE, SPANS_FILE, EXAMPLES_FILE, PASSAGES_FILE, SPLIT_FILE)


@dataclass(frozen=True)
class OutputTarget:
    """An output path after the rules above: ``path`` has its symlinks resolved (``None`` for
    standard output) and ``in_place`` says it is written directly (device, FIFO, stdout)."""

    given: str
    path: Path | None
    in_place: bool

    def __str__(self) -> str:
        return self.given

    def new_mode(self) -> int:
        """Permissions for the file that replaces ``path``: the previous file's, else the usual ones."""
        try:
            return stat.S_IMODE(os.stat(self.path).st_mode) if self.path is not None else 0o666 & ~umask()
        except OSError:
            return 0o666 & ~umask()

    @contextlib.contextmanager
    def open(self, binary: bool = False) -> Iterator[IO[Any]]:
        """A handle to write the output through; for a regular file, the result replaces the
        previous file only when the body succeeds."""
        kwargs: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
        mode = "wb" if binary else "w"
        if self.path is None:
            console = stdout()
            yield console.buffer if binary else console
            console.flush()
            return
        if self.in_place:
            try:
                with open(self.path, mode, **kwargs) as handle:
                    yield handle
            except Exception as exc:
                failure = os_error_of(exc)
                if failure is None:
                    raise
                raise self.error(failure) from None
            return
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as exc:
            raise self.error(exc) from None
        try:
            with os.fdopen(fd, mode, **kwargs) as handle:
                yield handle
            os.chmod(name, self.new_mode())
            os.replace(name, self.path)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            failure = os_error_of(exc)
            if failure is not None:
                raise self.error(failure) from None
            raise

    def error(self, exc: OSError) -> OutputError:
        kept = "" if self.in_place else "; the previous file, if any, is unchanged"
        return OutputError(f"{self.given}: cannot be written ({os_reason(exc)}){kept}")


def stdout() -> TextIO:
    """Standard output, or a usage error when the shell closed it (``>&-``)."""
    if sys.stdout is None:
        raise UsageError("standard output is closed; redirect it to a file or give an output file")
    return sys.stdout


def resolve_output(given: str | os.PathLike[str] | OutputTarget, option: str = "--output", *,
                   inputs: Sequence[str | os.PathLike[str]] = (),
                   corpus: str | os.PathLike[str] | None = None) -> OutputTarget:
    """Check an output path against the rules of this module, before any work is done.

    ``inputs`` are the files and folders the command reads (an output inside an input folder would
    be read back as input); ``corpus`` is an annotation folder whose files must never be replaced.
    """
    if isinstance(given, OutputTarget):
        return given
    text = os.fspath(given)
    if text == STDOUT:
        return OutputTarget(text, None, True)
    path = Path(os.path.realpath(text))
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        raise UsageError(f"{text}: cannot be used for {option} ({os_reason(exc)})") from None
    if mode is None:
        check_parent(path, text, option)
    elif stat.S_ISDIR(mode):
        raise UsageError(f"{text}: is a directory; expected a file path for {option}")
    elif not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise UsageError(f"{text}: is a {file_kind(mode)}; expected a file path, a character device such as "
                         f"/dev/null, a FIFO or - for standard output")
    for source in inputs:
        _refuse_input(path, text, option, source)
    if corpus is not None:
        _refuse_corpus_file(path, text, option, Path(corpus))
    return OutputTarget(text, path, mode is not None and not stat.S_ISREG(mode))


def check_parent(path: Path, given: str, option: str) -> None:
    """The folder an output goes into must exist and be writable: found out now, not after the work."""
    parent = path.parent
    try:
        mode = os.stat(parent).st_mode
    except OSError as exc:
        raise UsageError(f"{given}: its folder {parent} cannot be used ({os_reason(exc)}); "
                         f"create it or choose another path for {option}") from None
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{given}: {parent} is a {file_kind(mode) if not stat.S_ISREG(mode) else 'file'}, "
                         f"not a folder; choose another path for {option}")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{given}: the folder {parent} is not writable; choose another path for {option}")


def _refuse_input(path: Path, given: str, option: str, source: str | os.PathLike[str]) -> None:
    if os.fspath(source) == STDOUT:
        return
    real = os.path.realpath(source)
    if os.path.isdir(real):
        if is_within(path, real):
            raise UsageError(f"{given}: is inside the input folder {os.fspath(source)}, so the next run would read "
                             f"it as input; choose a path for {option} outside that folder")
        return
    same = os.fspath(path) == real
    with contextlib.suppress(OSError):
        same = same or os.path.samefile(path, real)
    if same:
        raise UsageError(f"{given}: is also an input of this command; writing it would destroy the input; "
                         f"choose another path for {option}")


def _refuse_corpus_file(path: Path, given: str, option: str, corpus: Path) -> None:
    root = os.path.realpath(corpus)
    protected = {os.path.join(root, name) for name in _CORPUS_FILES}
    if os.fspath(path) in protected or is_within(path, os.path.join(root, ARTICLES_DIR)):
        raise UsageError(f"{given}: is a file of the corpus {corpus}; writing it would replace annotations "
                         f"(no backup); choose a path for {option} outside {corpus}")


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Write several files under ``root`` (paths relative to it) as one change.

    Everything is written into a staging folder inside ``root`` first; then the files are renamed
    into place with SIGINT and SIGTERM held, and renamed back out if a rename fails or a signal
    arrived meanwhile. So ``root`` ends with all of the files or exactly as it was: a full disk,
    Ctrl-C or SIGTERM never leaves half an import.
    """
    staging = Path(tempfile.mkdtemp(prefix=".stance-staging-", suffix=".tmp", dir=root))
    try:
        for name, data in files.items():
            (staging / "new" / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / "new" / name).write_bytes(data)
        with deferred_signals():
            undo = _publish(root, staging, list(files))
            if set(signal.sigpending()) & {signal.SIGINT, signal.SIGTERM}:
                undo()  # interrupted while publishing: leave the folder as it was
    except OSError as exc:
        raise OutputError(f"{root}: cannot be written ({os_reason(exc)}); nothing was changed") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(root: Path, staging: Path, names: list[str]) -> Callable[[], None]:
    """Rename the staged files into ``root``, moving replaced ones aside; returns the undo."""
    created: list[Path] = []
    placed: list[tuple[Path, Path | None]] = []

    def undo() -> None:
        for target, previous in reversed(placed):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            if previous is not None:
                os.replace(previous, target)
        for folder in reversed(created):
            os.rmdir(folder)

    try:
        for name in names:
            target, previous = root / name, None
            if not target.parent.is_dir():
                target.parent.mkdir(parents=True)
                created.append(target.parent)
            if target.exists():
                previous = staging / "old" / name
                previous.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, previous)
            placed.append((target, previous))
            os.replace(staging / "new" / name, target)
    except BaseException:
        undo()
        raise
    return undo
