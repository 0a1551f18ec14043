"""``stance tag``: every sentence of the inputs with speaker, stance and score, streamed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from .common import add_device, model_dir, warn


def register(commands: Any) -> None:
    sub = commands.add_parser("tag", help="tag every sentence of articles with speaker, stance and score",
                              description="Tag every sentence of articles with speaker, stance and score: one row "
                                          "per sentence, offsets into the file as stored.")
    sub.add_argument("paths", nargs="*", metavar="PATH",
                     help="text or .html files, .csv/.jsonl/.parquet tables (named explicitly), folders, or - for stdin")
    sub.add_argument("--model", metavar="DIR", help="model folder; default: the one `stance train` writes")
    sub.add_argument("--format", default="jsonl", help="jsonl, csv or html (default: jsonl, or from --output's suffix)")
    sub.add_argument("--output", metavar="FILE", help="write here (atomically) instead of standard output")
    sub.add_argument("--threshold", type=float, metavar="P",
                     help="report stances scoring >= P; default: each stance's calibrated threshold of the model")
    sub.add_argument("--resume", action="store_true", help="skip articles already in --output after an interruption")
    sub.add_argument("--precision", default="auto", choices=("auto", "float32", "bfloat16"),
                     help="encoder precision; auto = bfloat16 where the CPU runs it natively (same answers on "
                          ">= 99%% of sentences, measured by benchmarks/bench_tag.py), else float32 (default: auto)")
    sub.add_argument("--text-column", default="text", help="a table's column of article texts")
    sub.add_argument("--id-column", default="id", help="a table's column of article ids")
    sub.add_argument("--save-text", metavar="DIR", help="write each article's text (a page's extracted text) to DIR/ID.txt, "
                                                        "so offsets can be checked")
    sub.add_argument("--workers", type=int, default=1, help="processes, each loading the model once")
    sub.add_argument("--ray", action="store_true", help="tag on Ray (Ray Data, one model per actor): a local Ray "
                                                        'started for the run, or --ray-address; needs pip install -e ".[ray]"')
    sub.add_argument("--ray-address", metavar="ADDRESS", help="an existing Ray cluster for --ray, run from one of its nodes: "
                                                             "HEAD:6379, or auto")
    add_device(sub)
    sub.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..archives import text_saver
    from ..formats import check_output, write_tags
    from ..predict import collect_documents

    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        raise UsageError(f"--threshold {args.threshold} must be between 0 and 1 (exclusive)")
    if not args.paths and sys.stdin is not None and sys.stdin.isatty():
        raise UsageError("no input: give text files or directories, or pipe text in with `-`")
    _check_ray(args)
    check_output(args.output, args.format, args.resume, args.paths)
    save = text_saver(args.save_text, args.paths)
    skipped: list[str] = []
    unread: list[str] = []
    documents = collect_documents(args.paths, skipped, (args.text_column, args.id_column), unread)
    warn([f"skipped {entry}" for entry in skipped] + unread)
    progress = _progress(len(documents))

    def report(piece: Any) -> None:
        if piece.warning:
            print(f"warning: {piece.warning}", file=sys.stderr)
        save(piece)
        progress(len(piece.rows), piece.last)

    with _tagger(args) as tagger:
        summary = write_tags(tagger, documents, args.output, args.format, args.threshold, args.resume, report,
                             args.paths)
    if args.resume:
        print(f"resumed {args.output}: kept {summary.kept} rows of the interrupted run, wrote {summary.rows} more",
              file=sys.stderr)
    if skipped:
        print(f"stance: error: {len(skipped)} input(s) skipped (listed above); the other articles were tagged",
              file=sys.stderr)
        return 1
    return 0


def _check_ray(args: argparse.Namespace) -> None:
    from ..cluster import RESUME_REFUSED, check_ray

    if args.ray_address and not args.ray:
        raise UsageError(f"--ray-address {args.ray_address} needs --ray; add --ray to tag on that cluster")
    if args.ray and args.resume:
        raise UsageError(RESUME_REFUSED)
    if args.ray and args.workers != 1:
        raise UsageError(f"--workers {args.workers} with --ray: Ray runs one tagger per CPU of the cluster; "
                         "drop --workers")
    if args.ray:
        check_ray(args.ray_address)


def _tagger(args: argparse.Namespace) -> Any:
    from ..cluster import RayTagger
    from ..workers import tagging

    if args.ray:
        return RayTagger(model_dir(args.model), args.ray_address, args.precision, args.device)
    return tagging(model_dir(args.model), args.workers, args.precision, args.device)


def _progress(total: int) -> Callable[[int, bool], None]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="article", file=sys.stderr, disable=None, leave=False)
    sentences = 0

    def update(count: int, finished: bool) -> None:
        nonlocal sentences
        sentences += count
        bar.update(int(finished))
        bar.set_postfix(sentences_per_s=f"{sentences / max(bar.format_dict['elapsed'], 1e-9):.0f}")
        if bar.n >= total:
            bar.close()

    return update
