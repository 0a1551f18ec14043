"""The parser, the commands it dispatches to, and how errors and signals become exit codes."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .. import __version__
from ..errors import ModelError, StanceError, Terminated
from . import corpus, evaluate, suggest, summarize, tag, train

COMMANDS = (corpus, train, tag, evaluate, summarize, suggest)
#: The command that fixes each kind of library error, added to its message (the library speaks no CLI).
FIXES = {ModelError: "`stance train --output DIR` writes a model"}


class _Help(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already says it (when the
    default is computed, such as ``./annotations`` when it exists)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" not in text and action.default not in (None, False, argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other usage error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stance", description="Tag every sentence of news articles with who speaks and what stance "
                                                "they take.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM takes the path of Ctrl-C (temporary files removed, finished work kept), not an abrupt exit."""
    raise Terminated()


def _message(error: StanceError) -> str:
    fix = next((text for kind, text in FIXES.items() if isinstance(error, kind)), None)
    return f"{error} ({fix})" if fix and "`stance" not in str(error) else str(error)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    signal.signal(signal.SIGTERM, _terminate)
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except StanceError as error:
        if args.debug:
            raise
        print(f"stance: error: {_message(error)}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:  # the reader (e.g. `head`) stopped early: not an error of ours
        # Point stdout at /dev/null so the interpreter's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt as error:
        if args.debug:
            raise
        terminated = isinstance(error, Terminated)
        print(f"stance: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130
    except OSError as error:  # the environment (disk full, name too long, permissions), not a bug
        if args.debug:
            raise
        from ..io import describe_os_error

        print(f"stance: error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug, not bad input: still one line, with the way to see more
        if args.debug:
            raise
        print(f"stance: internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 70
