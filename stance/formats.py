"""Output formats other tools read: JSONL (default), CSV for spreadsheets, HTML for reading.

Writers take tagged rows a piece at a time (an article, or a chunk of a long one) so output
streams as tagging goes, and a resumed run continues a previous output row by row.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import Interrupted, OutputError, Terminated, UsageError
from .io import loads, os_error_of, os_reason
from .outputs import STDOUT, OutputTarget, resolve_output
from .predict import Document, TaggedArticle
from .schema import Schema

FORMATS = ("jsonl", "csv", "html")
#: The row's fields, its top-level ``source`` flattened into three columns, and ``page``: the web
#: page an article was extracted from (empty for text files and tables).
COLUMNS = ("article", "index", "start", "end", "text", "positions", "stance", "speaker", "score",
           "source_text", "source_start", "source_end", "page")
#: CSV columns flattening a row's top-level ``source`` (a mapping, or ``None``).
SOURCE_PREFIX = "source_"
#: Colour-blind-safe palette (Okabe-Ito), assigned to schema stances in order.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")


#: A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text instead of running it: a leading ``'`` before a formula
    character (OWASP's advice), and before a leading ``'`` too, so that removing one leading
    ``'`` always gives the value back (:func:`restore`)."""
    return "'" + cell if cell.startswith((*FORMULA_START, "'")) else cell


def restore(cell: str) -> str:
    """The value :func:`neutralise` was given."""
    return cell.removeprefix("'")


class JsonlWriter:
    def __init__(self, handle: IO[str], schema: Schema) -> None:
        self.handle = handle

    def write(self, article: TaggedArticle) -> None:
        for row in article.rows:
            self.handle.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


class CsvWriter:
    """UTF-8 with a byte-order mark so Excel and LibreOffice detect the encoding; text cells are
    neutralised (:func:`neutralise`) because this is the file the README says to open in Excel."""

    def __init__(self, handle: IO[str], schema: Schema, header: bool = True) -> None:
        self.handle = handle
        self.writer = csv.writer(handle, lineterminator="\r\n")
        if header:
            handle.write("\ufeff")
            self.writer.writerow(COLUMNS)

    def write(self, article: TaggedArticle) -> None:
        for row in article.rows:
            self.writer.writerow([_cell(row.to_dict(), column) for column in COLUMNS])
        self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


def _cell(row: dict[str, Any], column: str) -> Any:
    if column.startswith(SOURCE_PREFIX):
        value = (row["source"] or {}).get(column[len(SOURCE_PREFIX):])
    else:
        value = json.dumps(row[column], ensure_ascii=False) if column == "positions" else row[column]
    return "" if value is None else neutralise(value) if isinstance(value, str) else value


class HtmlWriter:
    """One self-contained page: sentences coloured by their top stance, each tagged sentence followed by
    its speakers and their sources in small print (a reader checks who speaks without hovering), the
    scores on hover."""

    def __init__(self, handle: IO[str], schema: Schema) -> None:
        self.handle = handle
        self.cursor = 0  # where the text of the current article has been written up to
        self.none = html.escape(schema.none)
        self.colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(schema.stance_names)}
        legend = "".join(f'<span class="tag" style="background:{c}">{html.escape(s)}</span>' for s, c in self.colours.items())
        handle.write(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stance tags</title><style>"
            "body{font:16px/1.6 Georgia,serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}"
            ".tag{display:inline-block;padding:0 .5em;margin-right:.5em;border-radius:3px}"
            "span.s{border-bottom:3px solid transparent;padding:1px 0}"
            "article{border-top:1px solid #ccc;margin-top:2em}h2{font:bold 14px sans-serif;color:#555}"
            "p{white-space:pre-wrap}.who{font:12px sans-serif;color:#555;margin-left:.3em}"
            ".who q{font-style:italic}</style></head><body>\n"
            f'<header id="legend"><strong>Legend:</strong> {legend}<span class="tag">{self.none}</span>'
            "<br><small>Opacity follows the score; after each tagged sentence, who speaks and the words naming "
            "them (the source); hover a sentence for the scores.</small></header>\n"
        )

    def write(self, article: TaggedArticle) -> None:
        """Write a piece of an article: its heading with the first piece, its tail with the last."""
        parts = []
        if article.first:
            self.cursor = 0
            page = f' data-page="{html.escape(article.page)}"' if article.page else ""
            parts.append(f'<article data-article="{html.escape(article.id)}"{page}><h2>{html.escape(article.id)}</h2><p>')
        for row in article.rows:
            parts.append(html.escape(article.text[self.cursor:row.start]))
            parts.append(self._sentence(row.to_dict()))
            self.cursor = row.end
        if article.last:
            parts.append(html.escape(article.text[self.cursor:]) + "</p></article>\n")
        self.handle.write("".join(parts))
        self.handle.flush()

    def _sentence(self, row: dict[str, Any]) -> str:
        text = html.escape(row["text"])
        if not row["positions"]:
            return f'<span class="s" data-stance="{self.none}" title="{self.none} ({row["score"]:.2f})">{text}</span>'
        title = "; ".join(f'{p["stance"]} — {p["speaker"]} ({p["score"]:.2f})' for p in row["positions"])
        colour = self.colours.get(row["stance"], "#999")
        alpha = format(int(48 + 144 * min(1.0, row["score"])), "02x")
        return (f'<span class="s" data-stance="{html.escape(row["stance"])}" data-speaker="{html.escape(row["speaker"])}" '
                f'title="{html.escape(title)}" style="background:{colour}{alpha};border-color:{colour}">{text}</span>'
                + self._who(row["positions"]))

    @staticmethod
    def _who(positions: list[dict[str, Any]]) -> str:
        """The speakers of a sentence's positions, each with its source mention when there is one."""
        names = []
        for p in positions:
            source = p["source"]
            quoted = f' <q data-start="{source["start"]}">{html.escape(source["text"])}</q>' if source else ""
            names.append(f"{html.escape(p['speaker'])}{quoted}")
        return f'<span class="who">[{"; ".join(dict.fromkeys(names))}]</span>'

    def close(self) -> None:
        self.handle.write("</body></html>\n")
        self.handle.flush()


WRITERS = {"jsonl": JsonlWriter, "csv": CsvWriter, "html": HtmlWriter}


def partial_path(output: Path) -> Path:
    """Where rows accumulate while tagging; renamed to ``output`` only when every article is done."""
    return output.with_name(output.name + ".partial")


def _format_of(path: Path) -> str | None:
    """The format of a previous output, from its first bytes (``None`` when it is empty)."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if not head:
        return None
    if head.startswith(("\ufeff" + ",".join(COLUMNS[:2]) + ",").encode()):
        return "csv"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    raise UsageError(f"{path}: is not a jsonl or csv output of stance (it starts with {head[:20]!r}); "
                     f"delete it or choose another --output")


def _resumable(path: Path, fmt: str) -> Iterator[tuple[str, str]]:
    """``(article, record as written)`` for each complete row at the start of a previous output.

    Rows are kept up to the first one that is cut short, does not parse, or is not the next index
    of its article: that is where the interruption happened, and tagging resumes from there.
    """
    expected: dict[str, int] = {}
    for article, index, record in (_jsonl_rows(path) if fmt == "jsonl" else _csv_rows(path)):
        if index != expected.get(article, 0):
            return
        expected[article] = index + 1
        yield article, record


def _jsonl_rows(path: Path) -> Iterator[tuple[str, int, str]]:
    with open(path, "rb") as handle:
        for raw in handle:
            try:
                row = loads(raw.decode("utf-8")) if raw.endswith(b"\n") else None
            except (UnicodeDecodeError, ValueError):
                return
            article, index = (row.get("article"), row.get("index")) if isinstance(row, dict) else (None, None)
            if not isinstance(article, str) or type(index) is not int:
                return
            yield article, index, raw.decode("utf-8")


def _csv_rows(path: Path) -> Iterator[tuple[str, int, str]]:
    """CSV records may span lines (a cell with a line break), so the file is parsed as CSV; a
    record counts only once the next one has started, or the file ends with its line end."""
    with open(path, "rb") as raw:
        raw.seek(max(0, os.path.getsize(path) - 2))
        ends_cleanly = raw.read() == b"\r\n"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        records = csv.reader(handle, strict=True)
        previous: list[str] | None = None
        try:
            if next(records, None) != list(COLUMNS):
                return
            for record in records:
                if previous is not None:
                    yield _csv_row(previous)
                previous = record
        except (csv.Error, UnicodeDecodeError):
            ends_cleanly = True  # the record being read is broken; the one before it is whole
        if previous is not None and ends_cleanly:
            yield _csv_row(previous)


def _csv_row(record: list[str]) -> tuple[str, int, str]:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(record)
    index = int(record[1]) if len(record) == len(COLUMNS) and record[1].isdigit() else -1
    return restore(record[0]), index, buffer.getvalue()


def check_output(output: str | Path | None, fmt: str, resume: bool,
                 inputs: Sequence[str | Path] = ()) -> OutputTarget:
    """Every output argument checked before the model loads, so mistakes cost a second."""
    if fmt not in WRITERS:
        raise UsageError(f"unknown --format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if output is None or os.fspath(output) == STDOUT:
        if resume:
            raise UsageError("--resume needs --output FILE: there is nothing to resume on standard output")
        return resolve_output(STDOUT)
    target = resolve_output(output, "--output", inputs=inputs)
    if resume and fmt == "html":
        raise UsageError("--resume works with --format jsonl or csv (an HTML page cannot be continued)")
    if resume:
        if target.in_place or target.path is None:
            raise UsageError(f"--resume needs a regular file for --output; {target} is a device or a FIFO")
        source = next((p for p in (partial_path(target.path), target.path) if p.exists()), None)
        found = _format_of(source) if source else None
        if found not in (None, fmt):
            raise UsageError(f"{source}: holds {found} rows but --format is {fmt}; resume with --format {found}, "
                             f"or delete {source} to start over")
    return target


@contextlib.contextmanager
def output_sink(output: str | Path | None, fmt: str, schema: Schema, resume: bool = False,
                inputs: Sequence[str | Path] = ()) -> Iterator[tuple[Any, dict[str, int]]]:
    """A writer for the chosen format, and how many rows of each article a resumed output holds.

    A regular output file is written as ``<output>.partial`` and renamed into place at the end, so
    an interrupted run never leaves a half-written output, yet keeps its finished rows. A resumed
    run rebuilds the partial file under a temporary name (finished rows first) and swaps it in,
    so an interruption while resuming loses nothing either. Devices, FIFOs and standard output
    are written directly.
    """
    target = check_output(output, fmt, resume, inputs)
    if target.in_place or target.path is None:
        with target.open() as handle:
            writer = WRITERS[fmt](handle, schema)
            yield writer, {}
            writer.close()
        return
    partial = partial_path(target.path)
    source = next((p for p in (partial, target.path) if p.exists()), None) if resume else None
    done: dict[str, int] = {}
    fd, tmp = tempfile.mkstemp(prefix=f".{target.path.name}.", suffix=".tmp", dir=target.path.parent)
    handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
    published = False
    try:
        writer = WRITERS[fmt](handle, schema)
        for article, record in _resumable(source, fmt) if source else ():
            handle.write(record)
            done[article] = done.get(article, 0) + 1
        handle.flush()
        os.replace(tmp, partial)  # the open handle follows the file: later rows append to it
        published = True
        start = os.path.getsize(partial)
        yield writer, done
        writer.close()
        handle.close()
        os.chmod(partial, target.new_mode())
        os.replace(partial, target.path)
    except KeyboardInterrupt as exc:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        kept = f"finished rows are kept in {partial}" if published else f"{target} was left as it was"
        raise Interrupted(f"{what}; {kept}; rerun with --resume --output {target} to continue",
                          terminated=isinstance(exc, Terminated)) from None
    except BaseException as exc:
        empty = published and not done and os.path.getsize(partial) == start  # writers flush every piece
        with contextlib.suppress(OSError):
            handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial if empty else tmp)
        failure = os_error_of(exc)
        if failure is not None:
            kept = "" if empty or not published else f"; finished rows are kept in {partial} for --resume"
            raise OutputError(f"{target}: cannot be written ({os_reason(failure)}){kept}") from None
        raise


@dataclass
class TagSummary:
    """What a tagging run wrote: articles finished, rows written, rows kept from a previous run."""

    articles: int = 0
    rows: int = 0
    kept: int = 0


def write_tags(tagger: Any, documents: Sequence[Document], output: str | Path | None, fmt: str,
               threshold: float | None = None, resume: bool = False,
               on_article: Callable[[TaggedArticle], None] | None = None,
               inputs: Sequence[str | Path] = ()) -> TagSummary:
    """Tag documents into ``output`` (standard output when ``None``), continuing after the rows a
    resumed output already holds; ``on_article`` sees each piece of rows as it is written.
    ``inputs`` are the paths the documents came from, which the output must not overwrite.
    ``tagger`` is a :class:`~stance.model.StanceTagger` or a pool of them (:mod:`stance.workers`):
    anything with a ``schema`` and a ``tag(documents, threshold, done)`` method."""
    summary = TagSummary()
    with output_sink(output, fmt, tagger.schema, resume, inputs) as (writer, done):
        summary.kept = sum(done.values())
        for piece in tagger.tag_documents(documents, threshold, done):
            writer.write(piece)
            summary.rows += len(piece.rows)
            summary.articles += piece.last
            if on_article:
                on_article(piece)
    return summary
