"""What several commands share: where the corpus and the model are, progress bars, tables."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError, UsageError

if TYPE_CHECKING:
    from ..corpus import Corpus
    from ..pipeline import EvaluationReport

#: The corpus when ``--corpus`` is not given, if the current folder has one (as this repository does).
DEFAULT_CORPUS = "annotations"
#: Warnings printed one per line; beyond this a count, so 20,000 documents do not flood the terminal.
MAX_WARNINGS = 20


def add_corpus(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", metavar="DIR",
                        help=f"annotation folder (articles/, spans.jsonl, schema.json); default: ./{DEFAULT_CORPUS} "
                             "when it exists")


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="where the network runs; auto = a CUDA GPU when there is one, else the CPU")


def corpus_dir(value: str | None) -> str:
    """``--corpus`` when given, else ``./annotations`` when it exists, else a way to point at one."""
    if value is not None:
        return value
    if Path(DEFAULT_CORPUS).is_dir():
        return DEFAULT_CORPUS
    raise UsageError(f"no corpus: there is no ./{DEFAULT_CORPUS} folder here; give one with --corpus DIR "
                     "(a folder with articles/, spans.jsonl and schema.json), or run from the repository root")


def load(value: str | None) -> Corpus:
    from ..corpus import load_corpus

    return load_corpus(corpus_dir(value))


def progress() -> Callable[[str, int, int], None]:
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


def model_dir(value: str | None) -> Path:
    """``--model`` when given, else the default model, which must exist."""
    from ..bundle import check_model_dir
    from ..home import default_model_dir

    directory = Path(value) if value else default_model_dir()
    if value is None and not directory.exists():
        raise ModelError(f"no model at the default location {directory}; train one first with `stance train`")
    check_model_dir(directory)
    return directory


def print_report(report: EvaluationReport, stances: Sequence[str], file: Any = None) -> None:
    """Each section's table, then the model's confusion matrix."""
    out = file or sys.stdout
    for section in report:
        sentences = next(iter(section.systems.values()))["sentences"]
        print(table(f"{section.title}: {sentences} sentences", section.table(list(stances))), file=out)
        if "confusion" in section.systems.get("model", {}):
            print(confusion(section.systems["model"]["confusion"]), file=out)


def confusion(matrix: dict[str, Any]) -> str:
    """The model's confusion matrix: gold label per row, predicted label per column."""
    labels = matrix["labels"]
    rows = [["gold \\ predicted", *labels]] + [[label, *map(str, counts)] for label, counts in zip(labels, matrix["matrix"])]
    return table("confusion matrix of the model (one label per sentence)", rows)


def table(title: str, rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join([title] + ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows])


def warn(warnings: Sequence[str]) -> None:
    """Warnings on stderr, at most :data:`MAX_WARNINGS` of them and then a count."""
    for warning in warnings[:MAX_WARNINGS]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(warnings) > MAX_WARNINGS:
        print(f"warning: ... and {len(warnings) - MAX_WARNINGS} more warnings", file=sys.stderr)
