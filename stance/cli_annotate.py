"""The annotation loop's commands (``stance suggest``), registered by :mod:`stance.cli`; kept apart
so the main command file stays small. Same rules: parse, call the library, print one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def cmd_suggest(args: argparse.Namespace) -> int:
    from .cli import _model_dir
    from .outputs import resolve_output
    from .predict import collect_documents
    from .tasks import model_version, write_label_config, write_suggestion

    target = resolve_output(args.output, "--output", inputs=args.paths)
    config = resolve_output(args.label_config, "--label-config", inputs=args.paths) if args.label_config else None
    documents = collect_documents(args.paths)
    directory = _model_dir(args.model)
    from .model import StanceTagger
    from .suggest import suggest

    tagger = StanceTagger.from_pretrained(directory)
    result = suggest(tagger, documents, args.strategy, args.n, args.seed)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    write_suggestion(result, target, args.format, model_version(directory))
    if config is not None:
        write_label_config(tagger.schema, config)
    picked = sum(len(task.picked) for task in result.tasks)
    print(f"{picked} of {result.candidates} sentences picked ({result.strategy}), in {len(result.tasks)} article "
          f"tasks pre-annotated by the model, written to {args.output} ({args.format})", file=sys.stderr)
    return 0


#: ``stance.suggest.STRATEGIES`` and its default, repeated so that ``--help`` needs no numpy (a test
#: checks they agree).
STRATEGIES, DEFAULT_STRATEGY = ("uncertainty", "disagreement", "diverse"), "diverse"


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    sub = command("suggest", cmd_suggest, "pick the sentences most worth labelling and write them as pre-annotated "
                                          "tasks for Label Studio or doccano")
    sub.add_argument("paths", nargs="+", metavar="PATH", help="text files or directories of .txt files")
    sub.add_argument("--model", help="model directory (default: the one `stance train` writes)")
    sub.add_argument("--n", type=int, default=20, help="sentences to pick (default: 20)")
    sub.add_argument("--strategy", default=DEFAULT_STRATEGY, choices=STRATEGIES,
                     help=f"how to pick (default: {DEFAULT_STRATEGY}; see stance/suggest.py)")
    sub.add_argument("--format", required=True, choices=("label-studio", "doccano"))
    sub.add_argument("--output", required=True, help="task file to write (Label Studio JSON or doccano JSONL)")
    sub.add_argument("--label-config", help="also write the Label Studio labelling configuration (XML) here")
    sub.add_argument("--seed", type=int, default=0, help="seed of the diverse strategy's clustering")

