"""Sentence tables: spans projected onto sentences, the unit the tagger predicts.

Projection rule: a sentence holds a span's position when the span shares at least one character
with it (spans and sentences both start and end on non-space characters, so a shared character is
a shared word). A span that runs over two sentences labels both; several spans on one sentence
give it several positions; a sentence with no span is ``none``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from .attribution import attribute
from .corpus import Corpus
from .errors import UsageError
from .outputs import OutputTarget, resolve_output
from .records import Attribution, Example, Position, Sentence, Span
from .schema import Schema
from .segment import split_sentences

if TYPE_CHECKING:
    import datasets

#: Pseudo article ids for the written examples and passages, which belong to no article or story.
EXAMPLES_ID, PASSAGES_ID = "examples", "passages"

class SentenceRow(TypedDict):
    """One sentence of the table, the record training and evaluation pass around: ``positions``
    are :class:`Position` dicts (read them with :func:`positions_of`); ``story`` groups an article
    with its translations; written sentences have pseudo articles (``examples``, ``passages/<n>``)."""

    article: str
    story: str
    language: str
    index: int
    start: int
    end: int
    text: str
    positions: list[dict[str, str]]


#: Formats ``stance dataset`` writes: JSONL for any tool, Parquet for pandas, R and Arrow.
TABLE_FORMATS = ("jsonl", "parquet")


def project(sentences: list[Sentence], spans: Iterable[Span]) -> list[list[Position]]:
    """The positions each sentence holds, in schema-independent sorted order (no duplicates)."""
    held: list[set[Position]] = [set() for _ in sentences]
    starts = [s.start for s in sentences]
    for span in spans:
        # Sentences are sorted and disjoint, so only those starting before the span ends can overlap.
        for index in range(len(sentences)):
            if starts[index] >= span.end:
                break
            if sentences[index].end > span.start:
                held[index].add(span.position)
    return [sorted(positions) for positions in held]


def article_rows(corpus: Corpus, article_ids: Iterable[str] | None = None) -> list[SentenceRow]:
    """One row per sentence of the given articles (all by default), with projected positions."""
    story_of = {aid: story for story, members in corpus.stories().items() for aid in members}
    rows: list[SentenceRow] = []
    for aid in article_ids if article_ids is not None else corpus.articles:
        article = corpus.articles[aid]
        sentences = split_sentences(article.text)
        for index, (sentence, positions) in enumerate(zip(sentences, project(sentences, corpus.spans_of(aid)))):
            rows.append(
                {
                    "article": aid,
                    "story": story_of[aid],
                    "language": article.language,
                    "index": index,
                    "start": sentence.start,
                    "end": sentence.end,
                    "text": sentence.text,
                    "positions": [p.to_dict() for p in positions],
                }
            )
    return rows


def written_rows(corpus: Corpus) -> list[SentenceRow]:
    """The written examples and passage sentences as rows of the same table.

    Examples sit under the pseudo article ``examples``; each passage is a pseudo article
    ``passages/<n>`` whose sentences keep their order, so a row's previous sentence is its context.
    """
    rows = [_written_row(EXAMPLES_ID, index, example) for index, example in enumerate(corpus.examples)]
    for number, passage in enumerate(corpus.passages):
        rows += [_written_row(f"{PASSAGES_ID}/{number}", index, sentence) for index, sentence in enumerate(passage.sentences)]
    return rows


def _written_row(article: str, index: int, example: Example) -> SentenceRow:
    return {"article": article, "story": article.split("/")[0], "language": example.language, "index": index,
            "start": 0, "end": len(example.text), "text": example.text,
            "positions": [p.to_dict() for p in example.positions]}


def sentence_table(corpus: Corpus, *, include_examples: bool = False) -> datasets.Dataset:
    """The sentence table as a ``datasets.Dataset`` users can filter, inspect and export."""
    import datasets

    rows = article_rows(corpus) + (written_rows(corpus) if include_examples else [])
    shown = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # a library prints no bars of its own; the caller owns stderr
    try:
        return datasets.Dataset.from_list(rows, features=_features())
    finally:
        if shown:
            datasets.enable_progress_bars()


def _features() -> datasets.Features:
    import datasets

    position = {"speaker": datasets.Value("string"), "stance": datasets.Value("string")}
    return datasets.Features(
        {
            "article": datasets.Value("string"),
            "story": datasets.Value("string"),
            "language": datasets.Value("string"),
            "index": datasets.Value("int32"),
            "start": datasets.Value("int64"),
            "end": datasets.Value("int64"),
            "text": datasets.Value("string"),
            "positions": datasets.List(position),
        }
    )


def positions_of(row: SentenceRow) -> list[Position]:
    return [Position.from_dict(p) for p in row["positions"]]


def write_table(table: datasets.Dataset, output: str | Path | OutputTarget, fmt: str | None = None) -> str:
    """Write the table by the output rules of :mod:`stance.outputs` (atomically onto a file, in
    place into a device, ``-`` for standard output); the format comes from ``fmt`` or the file
    name (default JSONL)."""
    target = resolve_output(output)
    fmt = fmt or ("parquet" if target.given.endswith(".parquet") else "jsonl")
    if fmt not in TABLE_FORMATS:
        raise UsageError(f"unknown table format {fmt!r}; expected one of {', '.join(TABLE_FORMATS)}")
    with target.open(binary=True) as handle:
        if fmt == "parquet":
            table.to_parquet(handle)
        else:
            for row in table:
                handle.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    return fmt


def label_arrays(labels: Sequence[Sequence[Position]], schema: Schema) -> tuple[np.ndarray, np.ndarray]:
    """Multi-hot stances ``(n, S)`` and, per stance, multi-hot speakers ``(n, S, K)``."""
    return multi_hot(labels, schema.stance_names, schema.speaker_names)


def multi_hot(labels: Sequence[Sequence[Position]], stance_names: Sequence[str],
              speaker_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`label_arrays` for label lists given as names (the baselines carry no schema)."""
    stance_index = {name: i for i, name in enumerate(stance_names)}
    speaker_index = {name: i for i, name in enumerate(speaker_names)}
    stances = np.zeros((len(labels), len(stance_index)), np.float32)
    speakers = np.zeros((len(labels), len(stance_index), len(speaker_index)), np.float32)
    for row, positions in enumerate(labels):
        for position in positions:
            stances[row, stance_index[position.stance]] = 1.0
            speakers[row, stance_index[position.stance], speaker_index[position.speaker]] = 1.0
    return stances, speakers


def row_attributions(rows: Sequence[SentenceRow], corpus: Corpus) -> list[Attribution]:
    """Who speaks in each row, read over the row's whole article or passage, as tagging reads it
    (a written example is its own article)."""
    out: list[Attribution | None] = [None] * len(rows)
    groups: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        groups.setdefault(row["article"] if row["article"] != EXAMPLES_ID else f"{EXAMPLES_ID}/{position}",
                          []).append(position)
    for key, members in groups.items():
        article = corpus.articles.get(key)
        if article is not None:
            sentences = split_sentences(article.text)
            by_offsets = dict(zip(((s.start, s.end) for s in sentences),
                                  attribute(article.text, sentences, corpus.schema, article.language)))
            found = [by_offsets[(rows[i]["start"], rows[i]["end"])] for i in members]
        else:  # a passage (sentences joined by spaces, in order) or a single written example
            texts = [rows[i]["text"] for i in members]
            sentences, cursor = [], 0
            for text in texts:
                sentences.append(Sentence(cursor, cursor + len(text), text))
                cursor += len(text) + 1
            found = attribute(" ".join(texts), sentences, corpus.schema, rows[members[0]]["language"])
        for i, attribution in zip(members, found):
            out[i] = attribution
    return [a for a in out if a is not None]
