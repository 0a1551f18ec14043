"""Output formats other tools read: JSONL (default), CSV for spreadsheets, HTML for reading.

Writers take tagged articles one at a time so output streams as tagging goes.
"""

from __future__ import annotations

import contextlib
import csv
import html
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from .errors import Interrupted, UsageError
from .io import check_writable_file, umask
from .predict import Document, TaggedArticle, tag_documents
from .schema import Schema

FORMATS = ("jsonl", "csv", "html")
COLUMNS = ("article", "index", "start", "end", "text", "positions", "stance", "speaker", "score")
#: Colour-blind-safe palette (Okabe-Ito), assigned to schema stances in order.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")


class JsonlWriter:
    def __init__(self, handle: IO[str], schema: Schema) -> None:
        self.handle = handle

    def write(self, article: TaggedArticle) -> None:
        for row in article.rows:
            self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


class CsvWriter:
    """UTF-8 with a byte-order mark so Excel and LibreOffice detect the encoding."""

    def __init__(self, handle: IO[str], schema: Schema, header: bool = True) -> None:
        self.handle = handle
        self.writer = csv.writer(handle, lineterminator="\r\n")
        if header:
            handle.write("\ufeff")
            self.writer.writerow(COLUMNS)

    def write(self, article: TaggedArticle) -> None:
        for row in article.rows:
            self.writer.writerow([json.dumps(row[c], ensure_ascii=False) if c == "positions" else
                                  ("" if row[c] is None else row[c]) for c in COLUMNS])
        self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


class HtmlWriter:
    """One self-contained page: sentences coloured by their top stance, details on hover."""

    def __init__(self, handle: IO[str], schema: Schema) -> None:
        self.handle = handle
        self.none = html.escape(schema.none)
        self.colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(schema.stance_names)}
        legend = "".join(f'<span class="tag" style="background:{c}">{html.escape(s)}</span>' for s, c in self.colours.items())
        handle.write(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stance tags</title><style>"
            "body{font:16px/1.6 Georgia,serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}"
            ".tag{display:inline-block;padding:0 .5em;margin-right:.5em;border-radius:3px}"
            "span.s{border-bottom:3px solid transparent;padding:1px 0}"
            "article{border-top:1px solid #ccc;margin-top:2em}h2{font:bold 14px sans-serif;color:#555}"
            "p{white-space:pre-wrap}</style></head><body>\n"
            f'<header id="legend"><strong>Legend:</strong> {legend}<span class="tag">{self.none}</span>'
            "<br><small>Opacity follows the score; hover a sentence for speaker and score.</small></header>\n"
        )

    def write(self, article: TaggedArticle) -> None:
        parts, cursor = [], 0
        for row in article.rows:
            parts.append(html.escape(article.text[cursor:row["start"]]))
            parts.append(self._sentence(row))
            cursor = row["end"]
        parts.append(html.escape(article.text[cursor:]))
        self.handle.write(f'<article data-article="{html.escape(article.id)}"><h2>{html.escape(article.id)}</h2>'
                          f'<p>{"".join(parts)}</p></article>\n')
        self.handle.flush()

    def _sentence(self, row: dict[str, Any]) -> str:
        text = html.escape(row["text"])
        if not row["positions"]:
            return f'<span class="s" data-stance="{self.none}" title="{self.none} ({row["score"]:.2f})">{text}</span>'
        title = "; ".join(f'{p["stance"]} — {p["speaker"]} ({p["score"]:.2f})' for p in row["positions"])
        colour = self.colours.get(row["stance"], "#999")
        alpha = format(int(48 + 144 * min(1.0, row["score"])), "02x")
        return (f'<span class="s" data-stance="{html.escape(row["stance"])}" data-speaker="{html.escape(row["speaker"])}" '
                f'title="{html.escape(title)}" style="background:{colour}{alpha};border-color:{colour}">{text}</span>')

    def close(self) -> None:
        self.handle.write("</body></html>\n")
        self.handle.flush()


WRITERS = {"jsonl": JsonlWriter, "csv": CsvWriter, "html": HtmlWriter}


def partial_path(output: Path) -> Path:
    """Where rows accumulate while tagging; renamed to ``output`` only when every article is done."""
    return output.with_name(output.name + ".partial")


def _completed_rows(path: Path, fmt: str, finished: bool) -> tuple[list[str], set[str]]:
    """Lines of whole articles already written, and their ids.

    In an unfinished file the last article may have been cut mid-way, so it is dropped and tagged
    again; a line that does not parse marks where the interruption happened.
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = [line + "\n" for line in handle.read().split("\n")]
    lines[-1] = lines[-1][:-1]  # the text after the last newline: empty, or a line cut short
    if fmt == "csv":
        lines = lines[1:]
    kept: list[tuple[str, str]] = []
    for line in lines:
        try:
            article = json.loads(line)["article"] if fmt == "jsonl" else next(csv.reader([line]))[0]
        except (ValueError, KeyError, IndexError, StopIteration):
            break
        if not line.endswith("\n"):
            break
        kept.append((article, line))
    if not finished and kept:
        last = kept[-1][0]
        kept = [item for item in kept if item[0] != last]
    return [line for _, line in kept], {article for article, _ in kept}


def check_output(output: Path | None, fmt: str, resume: bool) -> None:
    """Every output argument checked before the model loads, so mistakes cost a second."""
    if fmt not in WRITERS:
        raise UsageError(f"unknown --format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if output is None:
        if resume:
            raise UsageError("--resume needs --output FILE: there is nothing to resume on standard output")
        return
    check_writable_file(output, "--output")
    if resume and fmt == "html":
        raise UsageError("--resume works with --format jsonl or csv (an HTML page cannot be continued)")


@contextlib.contextmanager
def output_sink(output: Path | None, fmt: str, schema: Schema, resume: bool = False,
                stdout: IO[str] | None = None) -> Iterator[tuple[Any, set[str]]]:
    """A writer for the chosen format and the article ids a ``--resume`` run can skip.

    Output files are written as ``<output>.partial`` and renamed into place at the end, so an
    interrupted run never leaves a half-written output, yet keeps its finished articles. A resumed
    run rebuilds the partial file under a temporary name (finished rows first) and swaps it in,
    so an interruption while resuming loses nothing either.
    """
    check_output(output, fmt, resume)
    if output is None:
        writer = WRITERS[fmt](stdout or sys.stdout, schema)
        yield writer, set()
        writer.close()
        return
    partial = partial_path(output)
    kept: list[str] = []
    done: set[str] = set()
    if resume and partial.exists():
        kept, done = _completed_rows(partial, fmt, finished=False)
    elif resume and output.exists():
        kept, done = _completed_rows(output, fmt, finished=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
    try:
        writer = WRITERS[fmt](handle, schema)
        handle.writelines(kept)
        handle.flush()
        os.replace(tmp, partial)  # the open handle follows the file: later rows append to it
        yield writer, done
        writer.close()
        handle.close()
        os.chmod(partial, 0o666 & ~umask())
        os.replace(partial, output)
    except KeyboardInterrupt:
        handle.close()
        raise Interrupted(f"interrupted; finished articles are kept in {partial}; "
                          f"rerun with --resume --output {output} to continue") from None
    except BaseException:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_tags(tagger: Any, documents: Sequence[Document], output: Path | None, fmt: str,
               threshold: float | None = None, resume: bool = False,
               on_article: Callable[[TaggedArticle], None] | None = None) -> int:
    """Tag documents into ``output`` (standard output when ``None``), skipping the articles a
    resumed output already holds; ``on_article`` sees each article as it is written."""
    written = 0
    with output_sink(output, fmt, tagger.schema, resume) as (writer, done):
        for article in tag_documents(tagger, [d for d in documents if d.id not in done], threshold):
            writer.write(article)
            written += 1
            if on_article:
                on_article(article)
    return written
