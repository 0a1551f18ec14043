"""``stance evaluate``: a saved model and the baselines on the evaluation articles (and by CV)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import add_corpus, add_device, corpus_dir, load, model_dir, print_report, progress


def register(commands: Any) -> None:
    sub = commands.add_parser("evaluate", help="score a model and the baselines on the held-out and dev articles",
                              description="Score a model and the baselines on the corpus's held-out and dev "
                                          "articles, and optionally by leave-one-story-out cross-validation.")
    sub.add_argument("--model", metavar="DIR", help="model folder; default: the one `stance train` writes")
    add_corpus(sub)
    sub.add_argument("--split", default="all", choices=("all", "heldout", "dev"),
                     help="evaluation articles from split.json: the held-out ones, both dev halves, or all (default: all)")
    sub.add_argument("--cv", action="store_true", help="also run leave-one-story-out cross-validation (refits per fold)")
    sub.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file (- for stdout)")
    add_device(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..device import resolve_device
    from ..model import StanceTagger
    from ..outputs import resolve_output
    from ..pipeline import evaluate

    device = resolve_device(args.device)  # before loading: a missing GPU is reported at once
    directory = model_dir(args.model)
    target = resolve_output(args.json, "--json", inputs=[directory], corpus=corpus_dir(args.corpus)) if args.json else None
    corpus = load(args.corpus)
    tagger = StanceTagger.from_pretrained(directory).to(device)
    report = evaluate(tagger, corpus, split=args.split, cv=args.cv, progress=progress())
    tables = sys.stderr if target is not None and target.path is None else sys.stdout  # keep `--json -` pure JSON
    print_report(report, corpus.schema.stance_names, file=tables)
    if target is not None:
        with target.open() as handle:
            json.dump(report.to_dict(), handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    return 0
