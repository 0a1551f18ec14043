"""Which sentences a human should label next: active learning's query strategies over the tagger.

Labels are what the tagger is short of, and an hour of labelling is worth most on sentences the
model gets wrong. Nobody knows which those are, so the strategies guess from what the model says:

- ``uncertainty``: a stance score near its calibrated threshold, or a likely stance whose speaker
  the model cannot tell (Prodigy's "most uncertain first"). The default, because the learning curve
  (``benchmarks/learning_curve.py``, figures in the README) supports it best: it reached random
  choice's final dev score with 40 labels where random choice needed 100. The pool was small and the
  seeds noisy, so measure again on a corpus with more unlabelled sentences.
- ``disagreement``: the network and the TF-IDF model saved with it disagree (query by committee
  with the two members every model already has).
- ``diverse``: uncertainty-weighted k-means over the sentence embeddings, one sentence per cluster
  (Zhdanov's diverse mini-batch sampling), so a batch is not N variants of one confusing quote.

:func:`pick` works on :class:`SentenceScores`, so a learning-curve simulation can score the pool once
and replay every strategy; :func:`suggest` builds the labelling tasks around the picked sentences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import SPLIT_FILE
from .errors import InputError, UsageError
from .interchange import format_label
from .predict import Document, held_positions, read_document
from .records import Attribution, Sentence
from .segment import split_sentences

STRATEGIES = ("uncertainty", "disagreement", "diverse")
DEFAULT_STRATEGY = "uncertainty"
#: A picked sentence's most likely position is pre-annotated from this share of its threshold up.
PLAUSIBLE = 0.5
#: Floor of the k-means weights: a confidently tagged sentence may still represent its cluster.
MIN_WEIGHT = 1e-3


@dataclass(frozen=True)
class SentenceScores:
    """What the strategies read about each candidate sentence (one row each)."""

    stance: np.ndarray  # (n, S) calibrated scores, compared with ``thresholds``
    thresholds: np.ndarray  # (S,)
    speakers: np.ndarray  # (n, S, K) speaker probabilities per stance
    blended: np.ndarray  # (n, S) network blended with TF-IDF, before calibration
    tfidf: np.ndarray | None  # (n, S) the TF-IDF model's stance probabilities
    tfidf_speakers: np.ndarray | None  # (n, K)
    tfidf_weight: float
    vectors: np.ndarray  # (n, H) pooled sentence embeddings
    texts: tuple[str, ...]


def score_sentences(tagger: Any, texts: Sequence[str], attributions: Sequence[Attribution] | None = None,
                    pooled: Any = None) -> SentenceScores:
    """Score every sentence (at least one) once: the encoder pass is the cost, every strategy reuses
    it (``pooled`` passes sentence vectors already computed, as the learning curve does)."""
    pooled = tagger.embed(tagger.tokenize(list(texts))) if pooled is None else pooled
    blended, speakers = tagger.predict_pooled(pooled, texts, attributions, calibrated=False)
    stance = tagger.calibration.apply(blended) if tagger.calibration is not None else blended
    tfidf, tfidf_speakers = None, None
    if tagger.tfidf is not None:
        tfidf = tagger.tfidf.predict_proba(texts)
        tfidf_speakers = tagger.tfidf.predict_speaker_proba(texts)[:, 0, :]
    return SentenceScores(stance, np.asarray(tagger.thresholds, np.float32), speakers, blended, tfidf,
                          tfidf_speakers, float(tagger.config.tfidf_weight) if tfidf is not None else 0.0,
                          np.asarray(pooled, np.float32), tuple(texts))


def _likely_stance(scores: SentenceScores) -> tuple[np.ndarray, np.ndarray]:
    """The stance closest to being held (score over threshold), and how close (capped at 1)."""
    ratio = scores.stance / scores.thresholds
    top = ratio.argmax(axis=1)
    return top, np.minimum(ratio[np.arange(len(top)), top], 1.0)


def uncertainty(scores: SentenceScores) -> np.ndarray:
    """1 for a stance score at its threshold or a likely stance with no idea of its speaker, 0 for
    a sentence the model is sure about. Speaker doubt counts as far as the stance is likely held."""
    t = scores.thresholds
    distance = np.where(scores.stance >= t, (scores.stance - t) / (1.0 - t), (t - scores.stance) / t)
    stance_doubt = 1.0 - distance.min(axis=1)
    top, likely = _likely_stance(scores)
    speakers = scores.speakers[np.arange(len(top)), top]
    chance = 1.0 / speakers.shape[1]
    speaker_doubt = (1.0 - speakers.max(axis=1)) / (1.0 - chance)
    doubt: np.ndarray = np.maximum(stance_doubt, likely * speaker_doubt)
    return doubt


def disagreement(scores: SentenceScores) -> np.ndarray:
    """How far the network and the TF-IDF model are apart, on a stance or on the likely speaker.

    The model's scores are ``(1 - w) * network + w * tfidf``, so their gap to TF-IDF is the
    network's gap times ``1 - w``: dividing gives the network's own disagreement."""
    if scores.tfidf is None or scores.tfidf_speakers is None:
        raise UsageError("--strategy disagreement needs a model with a TF-IDF part (tfidf_weight > 0); "
                         "use --strategy uncertainty or diverse")
    stance_gap = np.abs(scores.blended - scores.tfidf).max(axis=1) / max(1.0 - scores.tfidf_weight, 1e-6)
    top, likely = _likely_stance(scores)
    speakers = scores.speakers[np.arange(len(top)), top]
    speaker_gap = 0.5 * np.abs(speakers - scores.tfidf_speakers).sum(axis=1)  # total variation distance
    gap: np.ndarray = np.maximum(np.minimum(stance_gap, 1.0), likely * speaker_gap)
    return gap


def _distinct(order: Sequence[int] | np.ndarray, texts: Sequence[str], n: int) -> list[int]:
    """The first ``n`` of ``order`` whose text was not picked already (a quote repeated in two
    articles is one labelling decision)."""
    seen: set[str] = set()
    kept = []
    for index in order:
        key = " ".join(texts[index].split()).casefold()
        if key not in seen:
            seen.add(key)
            kept.append(int(index))
            if len(kept) == n:
                break
    return kept


def _diverse(scores: SentenceScores, n: int, seed: int) -> tuple[list[int], np.ndarray]:
    from sklearn.cluster import KMeans

    values = uncertainty(scores)
    distinct = _distinct(np.argsort(-values, kind="stable"), scores.texts, len(values))
    k = min(n, len(distinct))
    vectors = scores.vectors[distinct]
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    clusters = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(
        vectors, sample_weight=np.maximum(values[distinct], MIN_WEIGHT))
    best: dict[int, int] = {}
    for position, cluster in zip(distinct, clusters):  # ``distinct`` is most uncertain first
        best.setdefault(int(cluster), position)
    return sorted(best.values(), key=lambda i: -values[i]), values


def pick(scores: SentenceScores, strategy: str = DEFAULT_STRATEGY, n: int = 20,
         seed: int = 0) -> list[tuple[int, float]]:
    """The ``n`` sentences most worth labelling, best first, as ``(row, value)``: the value is the
    strategy's criterion (uncertainty for ``diverse``), in [0, 1]."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise UsageError(f"the number of sentences to suggest is {n}; expected at least 1")
    if strategy == "diverse":
        rows, values = _diverse(scores, n, seed)
    else:
        values = uncertainty(scores) if strategy == "uncertainty" else disagreement(scores)
        rows = _distinct(np.argsort(-values, kind="stable"), scores.texts, n)
    return [(row, round(float(values[row]), 4)) for row in rows]


def rank(tagger: Any, texts: Sequence[str], attributions: Sequence[Attribution] | None = None,
         strategy: str = DEFAULT_STRATEGY, n: int = 20, seed: int = 0) -> list[int]:
    """Rows of ``texts`` to label next, best first (``score_sentences`` then ``pick``)."""
    return [row for row, _ in pick(score_sentences(tagger, texts, attributions), strategy, n, seed)]


# --- tasks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """A pre-annotation: a sentence and the position the model gives it, with its score."""

    start: int
    end: int
    text: str
    speaker: str
    stance: str
    score: float


@dataclass
class ArticleTask:
    """An article holding picked sentences. The whole article is the task: the tagger learns from
    whole articles, where a sentence without a span means ``none``, so every sentence the model
    tags comes pre-annotated for checking, and ``picked`` says where to look first and why."""

    id: str
    text: str
    regions: list[Region]
    picked: list[dict[str, Any]]
    priority: float


@dataclass
class Suggestion:
    """What ``stance suggest`` writes: tasks, most worth labelling first."""

    tasks: list[ArticleTask]
    strategy: str
    candidates: int
    warnings: list[str]


def evaluation_only(path: Path) -> bool:
    """Whether ``path`` is a held-out or dev article of the corpus holding it (``CORPUS/articles/ID.txt``
    with ``CORPUS/split.json`` listing ID). Such an article is never labelled for training, so the
    tools that pick sentences to label leave it out, even when pointed at the corpus's own folder."""
    folder = path.resolve().parent
    if folder.name != "articles" or path.suffix != ".txt":
        return False
    try:
        data = json.loads((folder.parent / SPLIT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    lists = [data.get(key) for key in ("heldout", "dev")] if isinstance(data, dict) else []
    return any(isinstance(ids, list) and path.stem in ids for ids in lists)


def suggest(tagger: Any, documents: Sequence[Document], strategy: str = DEFAULT_STRATEGY, n: int = 20,
            seed: int = 0) -> Suggestion:
    """Pick ``n`` sentences of the documents and make a task of each article holding one.

    Regions are the positions the model reports. A picked sentence whose most likely position is
    below threshold but plausible (:data:`PLAUSIBLE`) carries it too, with its low score: the
    annotator confirms or deletes it instead of having to find it. A region on a sentence the model
    thinks is ``none`` would be kept by an annotator who skims, so those get none; ``picked`` names
    every picked sentence's most likely position and score all the same."""
    texts, warnings = {}, []
    kept = [d for d in documents if d.path is None or not evaluation_only(d.path)]
    if len(kept) < len(documents):
        left = len(documents) - len(kept)
        warnings.append(f"left out {left} held-out or dev article(s) of the corpus holding them (split.json): "
                        "labelling them would train on the articles the tagger is scored on")
        if not kept:
            raise UsageError("every input is a held-out or dev article of its corpus (split.json); expected "
                             "articles to label for training: give articles outside the corpus's evaluation split")
    rows: list[tuple[str, Sentence, Attribution]] = []
    for document in kept:
        text, warning = read_document(document)
        if warning:
            warnings.append(warning)
        sentences = split_sentences(text)
        texts[document.id] = text
        rows += [(document.id, s, a) for s, a in zip(sentences, tagger.attribute(text, sentences))]
    if not rows:
        raise InputError(f"no sentences in {len(kept)} input(s): they are empty or blank; expected articles")
    scores = score_sentences(tagger, [s.text for _, s, _ in rows], [a for _, _, a in rows])
    picks = pick(scores, strategy, n, seed)
    chosen = dict(picks)
    tops, likely = _likely_stance(scores)
    tasks: dict[str, ArticleTask] = {}
    for row, value in picks:
        aid = rows[row][0]
        tasks.setdefault(aid, ArticleTask(aid, texts[aid], [], [], value))
    for row, (aid, sentence, _) in enumerate(rows):
        if aid not in tasks:
            continue
        held = held_positions(scores.stance[row], scores.speakers[row], scores.thresholds)
        if row in chosen:
            top = (int(tops[row]), int(scores.speakers[row, tops[row]].argmax()), float(scores.stance[row, tops[row]]))
            held = held or ([top] if likely[row] >= PLAUSIBLE else [])
            tasks[aid].picked.append({"start": sentence.start, "end": sentence.end, "text": sentence.text,
                                      "strategy": strategy, "value": chosen[row],
                                      "likely": format_label(tagger.speakers[top[1]], tagger.stances[top[0]]),
                                      "score": round(top[2], 4)})
        for stance, speaker, score in held:
            tasks[aid].regions.append(Region(sentence.start, sentence.end, sentence.text, tagger.speakers[speaker],
                                             tagger.stances[stance], round(score, 4)))
    return Suggestion(sorted(tasks.values(), key=lambda t: -t.priority), strategy, len(rows), warnings)

