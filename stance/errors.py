"""Typed errors: library code raises them, the CLI turns each into one line and an exit code.

Every message says what was received, what was expected and how to fix it, so the CLI never needs
to add context and never prints a traceback (unless ``--debug``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the annotations, located precisely enough to fix by hand."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class StanceError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class UsageError(StanceError):
    """Arguments that cannot work (unknown format, a directory where a file is expected)."""

    exit_code = 2


class InputError(StanceError):
    """An input file is missing, unreadable, binary or empty where content is required."""

    exit_code = 1


class SchemaError(StanceError):
    """The label schema is malformed, or a model was trained with another schema."""


class AnnotationError(StanceError):
    """Annotations do not validate; ``problems`` holds one ``file:line: what`` string each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class ConfigError(StanceError):
    """A training config file is not valid JSON or names unknown or mistyped fields."""


class ModelError(StanceError):
    """A model directory is missing, incomplete, corrupted, or its base encoder does not match."""


class EncoderError(StanceError):
    """The base encoder cannot be built or verified (missing package, checksum mismatch)."""


class OutputError(StanceError):
    """An output cannot be written (disk full, file size limit, read-only disk); the previous file
    or folder at that path is left as it was."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised by the CLI's signal handler. A subclass of ``KeyboardInterrupt`` so that every
    cleanup written for Ctrl-C (temporary files removed, ``.partial`` kept) runs for it too."""


class Interrupted(StanceError):
    """Ctrl-C or SIGTERM: the finished work was kept (a model directory untouched, a ``.partial``
    output). Exits 130 for Ctrl-C and 143 for SIGTERM, as a shell reports a process killed by them."""

    exit_code = 130

    def __init__(self, message: str, *, terminated: bool = False) -> None:
        super().__init__(message)
        if terminated:
            self.exit_code = 143
