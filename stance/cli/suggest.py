"""``stance suggest``: the sentences most worth labelling next, as tasks pre-annotated by the model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import model_dir, warn

#: ``stance.suggest.STRATEGIES`` and its default, repeated so that ``--help`` needs no numpy (a test
#: checks they agree).
STRATEGIES, DEFAULT_STRATEGY = ("uncertainty", "disagreement", "diverse"), "uncertainty"


def register(commands: Any) -> None:
    sub = commands.add_parser("suggest", help="pick the sentences most worth labelling and write them as "
                                              "pre-annotated tasks for Label Studio or doccano",
                              description="Pick the sentences most worth labelling and write their articles as tasks "
                                          "pre-annotated with the model's predictions.")
    sub.add_argument("paths", nargs="+", metavar="PATH", help="text files or directories of .txt files")
    sub.add_argument("--model", metavar="DIR", help="model folder; default: the one `stance train` writes")
    sub.add_argument("--n", type=int, default=20, help="sentences to pick")
    sub.add_argument("--strategy", default=DEFAULT_STRATEGY, choices=STRATEGIES,
                     help="how to pick: uncertainty, disagreement with TF-IDF, or diverse (uncertainty-weighted "
                          "clusters of sentence vectors; see stance/suggest.py)")
    sub.add_argument("--format", required=True, choices=("label-studio", "doccano"), help="the annotation tool's format")
    sub.add_argument("--output", required=True, metavar="FILE", help="task file to write (Label Studio JSON or doccano JSONL)")
    sub.add_argument("--label-config", metavar="FILE", help="also write the Label Studio labelling configuration (XML) here")
    sub.add_argument("--seed", type=int, default=0, help="seed of the diverse strategy's clustering")
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..model import StanceTagger
    from ..outputs import resolve_output
    from ..predict import collect_documents
    from ..suggest import suggest
    from ..tasks import model_version, write_label_config, write_suggestion

    target = resolve_output(args.output, "--output", inputs=args.paths)
    config = resolve_output(args.label_config, "--label-config", inputs=args.paths) if args.label_config else None
    documents = collect_documents(args.paths)
    directory = model_dir(args.model)
    tagger = StanceTagger.from_pretrained(directory)
    result = suggest(tagger, documents, args.strategy, args.n, args.seed)
    warn(result.warnings)
    write_suggestion(result, target, args.format, model_version(directory))
    if config is not None:
        write_label_config(tagger.schema, config)
    picked = sum(len(task.picked) for task in result.tasks)
    print(f"{picked} of {result.candidates} sentences picked ({result.strategy}), in {len(result.tasks)} article "
          f"tasks pre-annotated by the model, written to {args.output} ({args.format})", file=sys.stderr)
    return 0
