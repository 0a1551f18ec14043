"""Commands on the annotation folder itself: validate, dataset, export, import, agreement."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import UsageError
from .common import add_corpus, corpus_dir, load, warn

TOOLS = ("doccano", "label-studio")


def register(commands: Any) -> None:
    sub = commands.add_parser("validate", help="check an annotation folder: offsets, texts, labels, schema, split",
                              description="Check an annotation folder; one `file:line: problem` per problem.")
    sub.add_argument("directory", nargs="?", metavar="DIR", help="annotation folder; default: ./annotations")
    sub.set_defaults(func=validate)

    sub = commands.add_parser("dataset", help="write the sentence table (spans projected onto sentences)",
                              description="Write the sentence table (spans projected onto sentences) as JSONL or Parquet.")
    add_corpus(sub)
    sub.add_argument("--output", metavar="FILE", help="file to write (.jsonl or .parquet); default: JSONL on stdout")
    sub.add_argument("--format", choices=("jsonl", "parquet"), help="default: from --output's suffix, else jsonl")
    sub.add_argument("--examples", action="store_true", help="include the written examples and passages")
    sub.set_defaults(func=dataset)

    sub = commands.add_parser("export", help="export annotations for doccano or Label Studio",
                              description="Export the corpus's articles and spans for doccano (JSONL) or Label Studio (JSON).")
    sub.add_argument("output", metavar="FILE", help="file to write")
    sub.add_argument("--format", required=True, choices=TOOLS, help="the annotation tool's format")
    add_corpus(sub)
    sub.add_argument("--examples", action="store_true", help="also the written examples, as Label Studio choices")
    sub.add_argument("--label-config", metavar="FILE", help="also write the Label Studio labelling configuration (XML) here")
    sub.set_defaults(func=export)

    sub = commands.add_parser("import", help="import annotations exported by doccano or Label Studio",
                              description="Import spans from a doccano or Label Studio export, all or nothing.")
    sub.add_argument("input", metavar="FILE", help="the tool's export file")
    sub.add_argument("--format", choices=TOOLS, help="default: detected from the file")
    add_corpus(sub)
    sub.add_argument("--force", action="store_true", help="replace existing spans and update examples (backups are kept)")
    sub.add_argument("--language", metavar="CODE", help="language of articles new to the corpus; default: detected, "
                                                         "with a warning naming the detector")
    sub.set_defaults(func=import_)

    sub = commands.add_parser("agreement", help="Cohen's kappa between two annotation passes, per stance and speaker",
                              description="Sentence-level Cohen's kappa between two span files, per stance and for "
                                          "the speaker, over the articles the second one covers.")
    sub.add_argument("first", help="span file of the first pass (e.g. annotations/spans.jsonl)")
    sub.add_argument("second", help="span file of the second pass")
    add_corpus(sub)
    sub.add_argument("--articles", nargs="+", metavar="ID", help="articles to compare; default: those the second file covers")
    sub.set_defaults(func=agreement)


def validate(args: argparse.Namespace) -> int:
    from ..corpus import validate_corpus

    directory = corpus_dir(args.directory)
    result = validate_corpus(directory)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if not result.ok:
        print(f"{len(result.problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def dataset(args: argparse.Namespace) -> int:
    from ..dataset import sentence_table, write_table
    from ..outputs import STDOUT, resolve_output

    if args.output is None and args.format == "parquet":
        raise UsageError("--format parquet needs --output FILE (Parquet is binary)")
    target = resolve_output(args.output or STDOUT, "--output", corpus=corpus_dir(args.corpus))
    table = sentence_table(load(args.corpus), include_examples=args.examples)
    fmt = write_table(table, target, args.format)
    if args.output is not None:
        print(f"{len(table)} sentences written to {args.output} ({fmt})", file=sys.stderr)
    return 0


def export(args: argparse.Namespace) -> int:
    from ..tasks import export_corpus

    directory = corpus_dir(args.corpus)
    warn(export_corpus(directory, args.output, args.format, args.examples, args.label_config))
    print(f"exported {directory} to {args.output} ({args.format})", file=sys.stderr)
    return 0


def import_(args: argparse.Namespace) -> int:
    from ..importing import import_annotations

    directory = corpus_dir(args.corpus)
    result = import_annotations(args.input, directory, args.format, force=args.force, language=args.language)
    warn(result.warnings)
    print(f"imported {result.spans} spans from {result.documents} documents into {directory}")
    return 0


def agreement(args: argparse.Namespace) -> int:
    from ..agreement import agreement_between

    result = agreement_between(load(args.corpus), args.first, args.second, args.articles)
    print(f"{result['sentences']} sentences of {', '.join(result['articles'])}")
    for stance, r in result["stances"].items():
        kappa = "undefined" if r["kappa"] is None else f"{r['kappa']:.2f}"
        print(f"kappa {stance}: {kappa} (sentences marked {r['first']} / {r['second']}, observed {r['observed']:.2f})")
    speaker = result["speaker"]
    kappa = "undefined" if speaker["kappa"] is None else f"{speaker['kappa']:.2f}"
    print(f"kappa speaker: {kappa} ({speaker['items']} shared positions)")
    return 0
