"""The ``stance`` command, one module per command (spaCy's ``cli/`` layout): each parses its
arguments and calls one library function; typed errors become one line on stderr and an exit
code (tracebacks only with ``--debug``).

Nothing heavy is imported here, so ``stance --help`` and argument errors answer at once.
"""

from .app import build_parser, main

__all__ = ["build_parser", "main"]
