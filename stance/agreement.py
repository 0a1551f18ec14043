"""Inter-annotator agreement at the level the tagger predicts: sentences.

Two passes over the same articles are projected onto the same sentences; per stance, each
sentence is "holds it" or not (Cohen's kappa on that yes/no); for the speaker, every
(sentence, stance) that both passes mark is compared by its speaker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .corpus import Corpus, span_problem
from .dataset import project
from .errors import AnnotationError, InputError
from .io import read_jsonl
from .records import Span
from .segment import split_sentences


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Chance-corrected agreement; ``None`` when chance agreement is total (kappa undefined)."""
    if len(a) != len(b) or not a:
        return None
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    return None if expected == 1.0 else (observed - expected) / (1.0 - expected)


def read_span_file(path: str | Path, corpus: Corpus) -> list[Span]:
    """Spans from a JSONL file, each checked like the corpus's own (text, offsets, labels)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such span file; expected a JSONL file of spans")
    spans, problems = [], []
    for line, data, error in read_jsonl(path):
        message = error or span_problem(data, corpus.schema, corpus.articles)
        if message:
            problems.append(f"{path}:{line}: {message}")
        else:
            spans.append(Span.from_dict(data))
    if problems:
        raise AnnotationError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), problems)
    return spans


def agreement_between(corpus: Corpus, first: str | Path, second: str | Path,
                      articles: Sequence[str] | None = None) -> dict[str, Any]:
    """Kappa between two span files over ``articles`` (default: those the second file covers,
    typically a second pass over a subset of the corpus)."""
    spans_a, spans_b = read_span_file(first, corpus), read_span_file(second, corpus)
    if articles is None:
        articles = sorted({span.article for span in spans_b})
    unknown = [aid for aid in articles if aid not in corpus.articles]
    if unknown:
        raise InputError(f"articles {unknown} are not in {corpus.root}; choose among {sorted(corpus.articles)}")
    if not articles:
        raise InputError(f"{second}: holds no span, so it names no article to compare; pass --articles")
    return measure_agreement(corpus, spans_a, spans_b, articles)


def measure_agreement(corpus: Corpus, first: Sequence[Span], second: Sequence[Span],
                      articles: Sequence[str]) -> dict[str, Any]:
    """Per-stance and speaker kappa over the sentences of ``articles``."""
    held_a, held_b = [], []
    for aid in articles:
        sentences = split_sentences(corpus.articles[aid].text)
        held_a += [set(p) for p in project(sentences, [s for s in first if s.article == aid])]
        held_b += [set(p) for p in project(sentences, [s for s in second if s.article == aid])]
    result: dict[str, Any] = {"articles": articles, "sentences": len(held_a), "stances": {}}
    speaker_a, speaker_b = [], []
    for stance in corpus.schema.stance_names:
        a = [any(p.stance == stance for p in held) for held in held_a]
        b = [any(p.stance == stance for p in held) for held in held_b]
        result["stances"][stance] = {"kappa": cohen_kappa(a, b), "first": sum(a), "second": sum(b),
                                     "observed": sum(x == y for x, y in zip(a, b)) / len(a) if a else None}
        for pa, pb in zip(held_a, held_b):
            sa = sorted(p.speaker for p in pa if p.stance == stance)
            sb = sorted(p.speaker for p in pb if p.stance == stance)
            if sa and sb:
                speaker_a.append("+".join(sa))
                speaker_b.append("+".join(sb))
    result["speaker"] = {"kappa": cohen_kappa(speaker_a, speaker_b), "items": len(speaker_a),
                         "observed": sum(x == y for x, y in zip(speaker_a, speaker_b)) / len(speaker_a) if speaker_a else None}
    return result
