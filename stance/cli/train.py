"""``stance train``: fit a tagger on the corpus minus its evaluation articles, report, save."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import OutputError, UsageError
from .common import add_corpus, add_device, load, print_report, progress


def register(commands: Any) -> None:
    sub = commands.add_parser("train", help="train a tagger on the corpus minus its held-out and dev articles",
                              description="Train a tagger on the corpus minus its held-out and dev articles (and "
                                          "their translations), evaluate it on them, and save it.")
    add_corpus(sub)
    sub.add_argument("--config", metavar="FILE", help="JSON file of training settings (fields of stance/config.py); "
                                                      "default: the built-in recipe")
    sub.add_argument("--output", metavar="DIR", help="model folder to write; default: $STANCE_HOME/models/default")
    sub.add_argument("--encoder", metavar="DIR", help="local Hugging Face checkpoint folder (safetensors) to use "
                                                      "instead of the built-in multilingual-e5-small")
    sub.add_argument("--seed", type=int, metavar="N", help="random seed; default: the config's (13)")
    sub.add_argument("--no-examples", action="store_true", help="ignore the written examples and passages (ablation)")
    add_device(sub)
    sub.set_defaults(func=run)


def _config(args: argparse.Namespace) -> Any:
    from ..config import TrainConfig

    config = TrainConfig.load(args.config) if args.config else TrainConfig()
    overrides = {"encoder": args.encoder, "seed": args.seed}
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if args.no_examples:
        config = replace(config, use_examples=False)
    config.check("command line")
    if config.encoder and not Path(config.encoder).is_dir():
        raise UsageError(f"--encoder {config.encoder}: no such directory; expected a local Hugging Face checkpoint")
    return config


def _default_output() -> Path:
    """The default model's folder, its parent (in ``STANCE_HOME``) created on first use."""
    from ..home import default_model_dir
    from ..io import describe_os_error

    output = default_model_dir()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{describe_os_error(exc, output.parent)} (set STANCE_HOME to a writable folder)") from None
    return output


def run(args: argparse.Namespace) -> int:
    from ..bundle import check_model_output
    from ..device import resolve_device
    from ..pipeline import train_and_save

    config = _config(args)
    resolve_device(args.device)  # a missing GPU is reported now, not after the corpus is read
    output = check_model_output(args.output or _default_output())
    corpus = load(args.corpus)
    report = train_and_save(corpus, config, output, progress(), args.device)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"trained on {report.sentences} article sentences and {report.examples} written sentences; "
          f"model saved to {report.output}")
    print_report(report.evaluation, corpus.schema.stance_names)
    return 0
