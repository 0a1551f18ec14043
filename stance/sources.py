"""Source precision and recall: does the attribution step name the mention the annotators marked?

One definition, shared by ``stance evaluate`` and ``benchmarks/attribution_accuracy.py``. Only spans
record a source (the development set does), so only sentences holding a gold position are scored:

- each source the attribution names in a sentence (one, or one per holder when the sentence reports
  two) is **right** when it overlaps a gold source mention of that sentence; precision is over the
  sources named;
- a gold mention is **found** when a source named in its sentence overlaps it; recall is over the
  distinct gold mentions of each sentence (a sentence with two positions from two holders has two).

Overlap, not exact offsets, because annotators and rules disagree on a mention's edges ("Zhao Lijian"
or "foreign ministry spokesman Zhao Lijian") far more often than on who it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .records import Attribution, Sentence, Span


@dataclass
class SourceCounts:
    """Counts over scored sentences; ``gold == 0`` means no span recorded a source."""

    predicted: int = 0
    right: int = 0
    gold: int = 0
    found: int = 0

    def add(self, other: SourceCounts) -> None:
        self.predicted += other.predicted
        self.right += other.right
        self.gold += other.gold
        self.found += other.found

    def figures(self) -> dict[str, Any] | None:
        """Precision, recall, F1 and the counts behind them; ``None`` when nothing records a source."""
        if not self.gold:
            return None
        precision = self.right / self.predicted if self.predicted else 0.0
        recall = self.found / self.gold
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "predicted": self.predicted,
                "right": self.right, "gold": self.gold, "found": self.found}


def _overlaps(a: Sentence, b: Sentence) -> bool:
    return a.start < b.end and b.start < a.end


def gold_mentions(sentences: Sequence[Sentence], spans: Iterable[Span]) -> dict[int, set[Sentence]]:
    """Per sentence holding a gold position (the projection rule of :mod:`stance.dataset`), the
    distinct source mentions its spans record (empty when they record none)."""
    held: dict[int, set[Sentence]] = {}
    for span in spans:
        for index, sentence in enumerate(sentences):
            if sentence.start < span.end and span.start < sentence.end:
                mentions = held.setdefault(index, set())
                if span.source is not None:
                    mentions.add(Sentence(span.source.start, span.source.end, span.source.text))
    return held


def count_sources(sentences: Sequence[Sentence], spans: Iterable[Span],
                  attributions: Sequence[Attribution]) -> SourceCounts:
    """Source counts of one article's sentences against its spans."""
    counts = SourceCounts()
    for index, mentions in gold_mentions(sentences, spans).items():
        predicted = [Sentence(s.start, s.end, s.text) for s in attributions[index].sources]
        right = sum(any(_overlaps(p, m) for m in mentions) for p in predicted)
        found = sum(any(_overlaps(p, m) for p in predicted) for m in mentions)
        counts.add(SourceCounts(predicted=len(predicted), right=right, gold=len(mentions), found=found))
    return counts


def source_figures(attribute: Any, rows: Sequence[Any], corpus: Any) -> dict[str, Any] | None:
    """Source figures of an attribution function (``attribute(text, sentences, language)``, as the
    model has) on corpus sentence rows, each article attributed whole; ``None`` when none of their
    spans records a source."""
    by_article: dict[str, list[Sentence]] = {}
    for row in rows:
        by_article.setdefault(row["article"], []).append(Sentence(row["start"], row["end"], row["text"]))
    counts = SourceCounts()
    for aid, sentences in by_article.items():
        article = corpus.articles[aid]
        counts.add(count_sources(sentences, corpus.spans_of(aid), attribute(article.text, sentences, article.language)))
    return counts.figures()
