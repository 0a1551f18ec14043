"""``stance summarize``: who holds which position, how often and where, in tagged articles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import warn


def register(commands: Any) -> None:
    from ..summary_views import SUMMARY_FORMATS

    sub = commands.add_parser("summarize", help="speaker x stance tables of articles or of `stance tag` output",
                              description="For each article and for the whole input: how many sentences hold each "
                                          "speaker's stance, their mean score, and the strongest sentence with its "
                                          "offsets and source; per month when articles have dates.")
    sub.add_argument("inputs", nargs="+", metavar="INPUT",
                     help="`stance tag` JSONL output, or articles to tag (text files or folders)")
    sub.add_argument("--model", metavar="DIR", help="model folder for inputs to tag; default: the one `stance train` writes")
    sub.add_argument("--metadata", metavar="FILE", help="articles.jsonl giving each article's date; default: the one "
                                                        "of the annotation folder the inputs lie in, if any")
    sub.add_argument("--format", default="table", choices=SUMMARY_FORMATS, help="table for the terminal (default), "
                                                                                   "json, markdown or html")
    sub.add_argument("--output", metavar="FILE", help="write here (atomically) instead of standard output")
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..outputs import STDOUT, resolve_output
    from ..pipeline import summarize_inputs
    from ..summary import is_tag_output
    from ..summary_views import render
    from .common import model_dir

    target = resolve_output(args.output or STDOUT, "--output", inputs=args.inputs)
    needs_model = not all(is_tag_output(Path(p)) for p in args.inputs)
    skipped: list[str] = []
    summary = summarize_inputs(args.inputs, model_dir(args.model) if needs_model else None, args.metadata, skipped)
    warn([f"skipped {entry}" for entry in skipped])
    with target.open() as handle:
        handle.write(render(summary, args.format))
    if args.output:
        print(f"summary of {len(summary.articles)} articles written to {args.output} ({args.format})", file=sys.stderr)
    return 1 if skipped else 0
