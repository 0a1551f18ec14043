"""Who holds which position, how often, where: tagged rows folded into speaker × stance tables.

A cell counts the sentences holding one position (a sentence with two positions counts in two
cells), their mean score, and the strongest of them with its offsets and source, so a reader can
go from a count to the words behind it. Articles with a date (``articles.jsonl``, or a table's
date column) are also counted per month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .corpus import ARTICLES_FILE
from .errors import InputError
from .io import loads, read_jsonl
from .records import Mention, TaggedSentence


@dataclass(frozen=True)
class Evidence:
    """A sentence holding a position: where it is, how sure the tagger was, who it names as source."""

    article: str
    index: int
    start: int
    end: int
    text: str
    score: float
    source: Mention | None = None


@dataclass(frozen=True)
class Cell:
    """One speaker × stance pair: its sentences (strongest first) and their mean score."""

    speaker: str
    stance: str
    sentences: tuple[Evidence, ...]

    @property
    def count(self) -> int:
        return len(self.sentences)

    @property
    def mean_score(self) -> float:
        return sum(e.score for e in self.sentences) / len(self.sentences)

    @property
    def strongest(self) -> Evidence:
        return self.sentences[0]

    @property
    def key(self) -> str:
        """An identifier safe in HTML ids and URLs."""
        return "".join(c if c.isalnum() else "-" for c in f"{self.speaker}--{self.stance}")

    def to_dict(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "stance": self.stance, "sentences": self.count,
                "mean_score": round(self.mean_score, 4), "strongest": _evidence_dict(self.strongest)}


@dataclass(frozen=True)
class Part:
    """The cells of one article, or of the whole input (``article`` is then ``None``)."""

    article: str | None
    date: str | None
    sentences: int
    cells: tuple[Cell, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"article": self.article, "date": self.date, "sentences": self.sentences,
                "cells": [c.to_dict() for c in self.cells]}


@dataclass(frozen=True)
class Summary:
    """The whole input, each article, and counts per month (``YYYY-MM``) of dated articles."""

    overall: Part
    articles: tuple[Part, ...]
    by_month: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"overall": self.overall.to_dict(), "articles": [a.to_dict() for a in self.articles],
                "by_month": self.by_month}


def summarize(articles: Iterable[tuple[str, Iterable[TaggedSentence]]],
              dates: Mapping[str, str | None] | None = None) -> Summary:
    """Fold each article's tagged sentences into cells, per article and overall."""
    dates = dates or {}
    parts, everything, total = [], [], 0
    by_month: dict[str, dict[str, int]] = {}
    for article, rows in articles:
        rows = list(rows)
        evidence = [(p.speaker, p.stance, Evidence(row.article, row.index, row.start, row.end, row.text, p.score,
                                                   p.source))
                    for row in rows for p in row.positions]
        date = dates.get(article)
        parts.append(Part(article, date, len(rows), _cells(evidence)))
        everything += evidence
        total += len(rows)
        if date and len(date) >= 7:
            month = by_month.setdefault(date[:7], {})
            for speaker, stance, _ in evidence:
                month[f"{speaker}:{stance}"] = month.get(f"{speaker}:{stance}", 0) + 1
    return Summary(Part(None, None, total, _cells(everything)), tuple(parts), dict(sorted(by_month.items())))


def _cells(evidence: list[tuple[str, str, Evidence]]) -> tuple[Cell, ...]:
    grouped: dict[tuple[str, str], list[Evidence]] = {}
    for speaker, stance, item in evidence:
        grouped.setdefault((speaker, stance), []).append(item)
    cells = [Cell(speaker, stance, tuple(sorted(items, key=lambda e: (-e.score, e.article, e.index))))
             for (speaker, stance), items in grouped.items()]
    return tuple(sorted(cells, key=lambda c: (-c.count, c.speaker, c.stance)))


def _evidence_dict(item: Evidence) -> dict[str, Any]:
    data = asdict(item)
    data["source"] = item.source.to_dict() if item.source is not None else None
    return data


def is_tag_output(path: Path) -> bool:
    """A JSONL file whose first line is a ``stance tag`` row (not an article or a table to tag)."""
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    try:
        row = loads(first)
    except ValueError:
        return False
    return isinstance(row, dict) and {"article", "index", "start", "end", "positions"} <= set(row)


def read_tag_output(path: Path) -> list[tuple[str, list[TaggedSentence]]]:
    """Rows of a ``stance tag`` JSONL file, grouped by article in file order."""
    articles: dict[str, list[TaggedSentence]] = {}
    for line, data, error in read_jsonl(path):
        try:
            if error:
                raise ValueError(error)
            row = TaggedSentence.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}:{line}: not a `stance tag` row ({exc}); summarize the file `stance tag` "
                             "wrote, or the articles themselves") from None
        articles.setdefault(row.article, []).append(row)
    return list(articles.items())


def article_dates(inputs: Iterable[Path], metadata: str | Path | None = None) -> dict[str, str | None]:
    """Article id -> date from ``metadata``, else from the ``articles.jsonl`` of the annotation
    folder each input lies in (``corpus/articles/x.txt`` or ``corpus/articles/``)."""
    files = [Path(metadata)] if metadata is not None else list(dict.fromkeys(
        folder / ARTICLES_FILE for path in inputs for folder in (path, path.parent, path.parent.parent)
        if (folder / ARTICLES_FILE).is_file()))
    dates: dict[str, str | None] = {}
    for file in files:
        for line, data, error in read_jsonl(file):
            if error or not isinstance(data, dict) or not isinstance(data.get("id"), str):
                raise InputError(f"{file}:{line}: expected an articles.jsonl line with an \"id\" "
                                 f"({error or 'no id'})")
            date = data.get("date")
            dates[data["id"]] = date if isinstance(date, str) else None
    return dates
