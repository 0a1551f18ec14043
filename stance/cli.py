"""The ``stance`` command. Each subcommand parses its arguments and calls one library function;
typed errors become one line on stderr and an exit code (tracebacks only with ``--debug``).

Nothing heavy is imported here, so ``stance --help`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .errors import ModelError, StanceError, Terminated, UsageError

DEFAULT_CORPUS = "annotations"
#: Warnings printed one per line; beyond this a count, so 20,000 documents do not flood the terminal.
MAX_WARNINGS = 20
DEVICE = {"default": "auto", "choices": ("auto", "cpu", "cuda", "mps"),
          "help": "where the network runs; auto = a CUDA GPU when there is one, else the CPU"}


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other usage error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _progress() -> Callable[[str, int, int], None]:
    """A tqdm bar on stderr per task label; silent when stderr is not a terminal."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(label: str, done: int, total: int) -> None:
        bar = bars.get(label)
        if bar is None:
            bar = bars[label] = tqdm(total=total, desc=label, file=sys.stderr, disable=None, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            bars.pop(label)

    return update


def _corpus(path: str) -> Any:
    from .corpus import load_corpus

    return load_corpus(path)


def cmd_validate(args: argparse.Namespace) -> int:
    from .corpus import validate_corpus

    result = validate_corpus(args.directory)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if not result.ok:
        print(f"{len(result.problems)} problem(s) in {args.directory}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    from .dataset import sentence_table, write_table
    from .outputs import STDOUT, resolve_output

    if args.output is None and args.format == "parquet":
        raise UsageError("--format parquet needs --output FILE (Parquet is binary)")
    target = resolve_output(args.output or STDOUT, "--output", corpus=args.corpus)
    table = sentence_table(_corpus(args.corpus), include_examples=args.examples)
    fmt = write_table(table, target, args.format)
    if args.output is not None:
        print(f"{len(table)} sentences written to {args.output} ({fmt})", file=sys.stderr)
    return 0


def _config(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from .config import TrainConfig

    config = TrainConfig.load(args.config) if args.config else TrainConfig()
    overrides = {"encoder": args.encoder, "seed": args.seed}
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if args.no_examples:
        config = replace(config, use_examples=False)
    config.check("command line")
    if config.encoder and not Path(config.encoder).is_dir():
        raise UsageError(f"--encoder {config.encoder}: no such directory; expected a local Hugging Face checkpoint")
    return config


def cmd_train(args: argparse.Namespace) -> int:
    from .home import default_model_dir

    config = _config(args)
    output = Path(args.output) if args.output else default_model_dir()
    if not args.output:
        _make_folder(output.parent)
    from .model import check_model_output

    check_model_output(output)
    corpus = _corpus(args.corpus)
    from .train import train_model

    report = train_model(corpus, config, output, _progress(), args.device)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"trained on {report.sentences} article sentences and {report.examples} written sentences; "
          f"model saved to {report.output}")
    _print_report(report.evaluation, corpus)
    return 0


def _make_folder(folder: Path) -> None:
    """Create the folder of the default model (in ``STANCE_HOME``) on first use."""
    from .errors import OutputError
    from .io import describe_os_error

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{describe_os_error(exc, folder)} (set STANCE_HOME to a writable folder)") from None


def _model_dir(value: str | None) -> Path:
    from .home import default_model_dir
    from .model import check_model_dir

    directory = Path(value) if value else default_model_dir()
    if value is None and not directory.exists():
        raise ModelError(f"no model at the default location {directory}; train one first with `stance train`")
    check_model_dir(directory)
    return directory


def cmd_tag(args: argparse.Namespace) -> int:
    from .archives import text_saver
    from .formats import check_output, write_tags
    from .predict import collect_documents
    from .workers import tagging

    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        raise UsageError(f"--threshold {args.threshold} must be between 0 and 1 (exclusive)")
    if not args.paths and sys.stdin is not None and sys.stdin.isatty():
        raise UsageError("no input: give text files or directories, or pipe text in with `-`")
    check_output(args.output, args.format, args.resume, args.paths)
    save = text_saver(args.save_text, args.paths)
    skipped: list[str] = []
    unread: list[str] = []
    documents = collect_documents(args.paths, skipped, (args.text_column, args.id_column), unread)
    for line in [f"skipped {entry}" for entry in skipped] + unread:
        print(f"warning: {line}", file=sys.stderr)
    progress = _tag_progress(len(documents))

    def report(piece: Any) -> None:
        if piece.warning:
            print(f"warning: {piece.warning}", file=sys.stderr)
        save(piece)
        progress(len(piece.rows), piece.last)

    with tagging(_model_dir(args.model), args.workers, args.precision, args.device) as tagger:
        summary = write_tags(tagger, documents, args.output, args.format, args.threshold, args.resume, report, args.paths)
    if args.resume:
        print(f"resumed {args.output}: kept {summary.kept} rows of the interrupted run, wrote {summary.rows} more",
              file=sys.stderr)
    if skipped:
        print(f"stance: error: {len(skipped)} input(s) skipped (listed above); the other articles were tagged",
              file=sys.stderr)
        return 1
    return 0


def _tag_progress(total: int) -> Callable[[int, bool], None]:
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


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .outputs import resolve_output

    directory = _model_dir(args.model)
    target = resolve_output(args.json, "--json", inputs=[directory], corpus=args.corpus) if args.json else None
    corpus = _corpus(args.corpus)
    from .evaluate import evaluate_model

    report = evaluate_model(directory, corpus, split=args.split, cv=args.cv, progress=_progress(), device=args.device)
    tables = sys.stderr if target is not None and target.path is None else sys.stdout  # keep `--json -` pure JSON
    _print_report(report, corpus, confusion=True, file=tables)
    if target is not None:
        with target.open() as handle:
            json.dump(report, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    return 0


def _print_report(report: dict[str, Any], corpus: Any, confusion: bool = False, file: Any = None) -> None:
    from .evaluate import section_title, split_articles

    for section, results in report.items():
        title = section_title(section, split_articles(corpus, section))
        print(format_scores(results, corpus.schema.stance_names, title), file=file or sys.stdout)
        if confusion and "model" in results:
            print(format_confusion(results["model"]["confusion"]), file=file or sys.stdout)


def format_scores(results: dict[str, Any], stances: Sequence[str], title: str) -> str:
    """A plain-text table: one row per system."""
    from .evaluate import table_rows

    return _table(f"{title}: {next(iter(results.values()))['sentences']} sentences", table_rows(results, stances))


def format_confusion(confusion: dict[str, Any]) -> str:
    """The model's confusion matrix: gold label per row, predicted label per column."""
    labels = confusion["labels"]
    rows = [["gold \\ predicted", *labels]] + [[label, *map(str, counts)] for label, counts in zip(labels, confusion["matrix"])]
    return _table("confusion matrix of the model (one label per sentence)", rows)


def _table(title: str, rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join([title] + ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows])


def cmd_export(args: argparse.Namespace) -> int:
    from . import interchange
    from .outputs import resolve_output

    target = resolve_output(args.output, "output", corpus=args.corpus)
    export = {interchange.DOCCANO: interchange.export_doccano, interchange.LABEL_STUDIO: interchange.export_label_studio}
    for warning in export[args.format](_corpus(args.corpus), target):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"exported {args.corpus} to {args.output} ({args.format})", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .importing import import_annotations

    result = import_annotations(args.input, args.corpus, args.format, force=args.force)
    for warning in result.warnings[:MAX_WARNINGS]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(result.warnings) > MAX_WARNINGS:
        print(f"warning: ... and {len(result.warnings) - MAX_WARNINGS} more warnings", file=sys.stderr)
    print(f"imported {result.spans} spans from {result.documents} documents into {args.corpus}")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from .agreement import agreement_between

    result = agreement_between(_corpus(args.corpus), args.first, args.second, args.articles)
    print(f"{result['sentences']} sentences of {', '.join(result['articles'])}")
    for stance, r in result["stances"].items():
        kappa = "undefined" if r["kappa"] is None else f"{r['kappa']:.2f}"
        print(f"kappa {stance}: {kappa} (sentences marked {r['first']} / {r['second']}, observed {r['observed']:.2f})")
    speaker = result["speaker"]
    kappa = "undefined" if speaker["kappa"] is None else f"{speaker['kappa']:.2f}"
    print(f"kappa speaker: {kappa} ({speaker['items']} shared positions)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stance", description="Tag every sentence of news articles with who speaks and what stance they take.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(func=func)
        if name in ("train", "tag", "evaluate"):
            sub.add_argument("--device", **DEVICE)
        return sub

    sub = command("validate", cmd_validate, "check an annotation folder: offsets, texts, labels, schema")
    sub.add_argument("directory", nargs="?", default=DEFAULT_CORPUS)

    sub = command("dataset", cmd_dataset, "write the sentence table (spans projected onto sentences)")
    sub.add_argument("--corpus", default=DEFAULT_CORPUS)
    sub.add_argument("--output", help="file to write (.jsonl or .parquet); default: JSONL on stdout")
    sub.add_argument("--format", choices=("jsonl", "parquet"))
    sub.add_argument("--examples", action="store_true", help="include the written examples and passages")

    sub = command("train", cmd_train, "train a tagger on the corpus minus its held-out articles")
    sub.add_argument("--corpus", default=DEFAULT_CORPUS)
    sub.add_argument("--config", help="JSON file of training settings (see stance/config.py)")
    sub.add_argument("--output", help="model directory (default: $STANCE_HOME/models/default)")
    sub.add_argument("--encoder", help="local Hugging Face checkpoint folder (safetensors) to use instead of the built-in one")
    sub.add_argument("--seed", type=int)
    sub.add_argument("--no-examples", action="store_true", help="ignore examples.jsonl (ablation)")

    sub = command("tag", cmd_tag, "tag every sentence of articles with speaker, stance and score")
    sub.add_argument("paths", nargs="*", metavar="PATH", help="text/.html files, .csv/.jsonl/.parquet tables, folders, or -")
    sub.add_argument("--model", help="model directory (default: the one `stance train` writes)")
    sub.add_argument("--format", default="jsonl", help="jsonl (default), csv or html")
    sub.add_argument("--output", help="write here (atomically) instead of stdout")
    sub.add_argument("--threshold", type=float, help="report stances with probability >= P (default: the model's, 0.5)")
    sub.add_argument("--resume", action="store_true", help="skip articles already in --output after an interruption")
    sub.add_argument("--precision", default="auto", choices=("auto", "float32", "bfloat16"),
                     help="encoder precision; auto = bfloat16 where the CPU runs it natively (same answers on "
                          ">= 99%% of sentences, measured by benchmarks/bench_tag.py), else float32")
    sub.add_argument("--text-column", default="text", help="a table's column of article texts (default: text)")
    sub.add_argument("--id-column", default="id", help="a table's column of article ids (default: id)")
    sub.add_argument("--save-text", metavar="DIR", help="write each article's text (a page's extracted text) to DIR/ID.txt")
    sub.add_argument("--workers", type=int, default=1, help="processes, each loading the model once (default: 1)")

    sub = command("evaluate", cmd_evaluate, "score a model and the baselines on the held-out articles")
    sub.add_argument("--model")
    sub.add_argument("--corpus", default=DEFAULT_CORPUS)
    sub.add_argument("--split", default="all", choices=("all", "heldout", "dev"),
                     help="evaluation articles from split.json: the held-out ones, both dev halves, or all (default)")
    sub.add_argument("--cv", action="store_true", help="also run leave-one-story-out cross-validation")
    sub.add_argument("--json", help="write every figure to this JSON file")

    sub = command("export", cmd_export, "export annotations for doccano or Label Studio")
    sub.add_argument("output")
    sub.add_argument("--format", required=True, choices=("doccano", "label-studio"))
    sub.add_argument("--corpus", default=DEFAULT_CORPUS)

    sub = command("import", cmd_import, "import annotations exported by doccano or Label Studio")
    sub.add_argument("input")
    sub.add_argument("--format", choices=("doccano", "label-studio"), help="default: detected from the file")
    sub.add_argument("--corpus", default=DEFAULT_CORPUS)
    sub.add_argument("--force", action="store_true", help="replace existing spans (a backup is kept)")

    sub = command("agreement", cmd_agreement, "Cohen's kappa between two annotation passes, per stance and for the speaker")
    sub.add_argument("first", help="span file of the first pass (e.g. annotations/spans.jsonl)")
    sub.add_argument("second", help="span file of the second pass")
    sub.add_argument("--corpus", default=DEFAULT_CORPUS)
    sub.add_argument("--articles", nargs="+", help="articles to compare (default: those the second file covers)")
    return parser


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM takes the path of Ctrl-C (temporary files removed, finished work kept), not an abrupt exit."""
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    signal.signal(signal.SIGTERM, _terminate)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StanceError as error:
        if args.debug:
            raise
        print(f"stance: error: {error}", file=sys.stderr)
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
        from .io import describe_os_error

        print(f"stance: error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug, not bad input: still one line, with the way to see more
        if args.debug:
            raise
        print(f"stance: internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
