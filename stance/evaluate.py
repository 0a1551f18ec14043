"""Honest scores: sentence-level per-stance P/R/F1 with bootstrap intervals, macro-F1, speaker
accuracy on gold positions and a confusion matrix, for the model and the baselines alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import TrainConfig
from .corpus import Corpus
from .dataset import article_rows, example_rows, label_arrays, positions_of
from .errors import SchemaError, StanceError
from .predict import held_positions
from .records import Position
from .schema import Schema

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0


class Tagger(Protocol):
    def predict_all(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1, undefined (NaN) where a stance is neither in gold nor predicted: nothing to get right
    or wrong, so it must not count as 0 (or 1) in a macro average."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.full(np.shape(tp), np.nan), where=denominator > 0)


def _defined(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def score(gold: Sequence[Sequence[Position]], stance_probs: np.ndarray, speaker_probs: np.ndarray,
          schema: Schema, threshold: float) -> dict[str, Any]:
    """All figures for one system on one set of sentences."""
    stances, speakers = schema.stance_names, schema.speaker_names
    index = {name: i for i, name in enumerate(stances)}
    truth = label_arrays(gold, schema)[0].astype(bool)
    predicted = stance_probs >= threshold
    tp = (truth & predicted).sum(0)
    fp = (~truth & predicted).sum(0)
    fn = (truth & ~predicted).sum(0)
    f1 = _f1(tp, fp, fn)
    low, high = _bootstrap(truth, predicted)
    per_stance = {
        name: {
            "precision": float(tp[i] / (tp[i] + fp[i])) if tp[i] + fp[i] else 0.0,
            "recall": float(tp[i] / (tp[i] + fn[i])) if tp[i] + fn[i] else 0.0,
            "f1": _defined(f1[i]), "f1_low": _defined(low[i]), "f1_high": _defined(high[i]),
            "support": int(truth[:, i].sum()),
        }
        for i, name in enumerate(stances)
    }
    right = total = 0
    for row, positions in enumerate(gold):
        for p in positions:
            total += 1
            right += speakers[int(np.argmax(speaker_probs[row, index[p.stance]]))] == p.speaker
    labels = [*stances, schema.none]
    return {
        "sentences": len(gold),
        "per_stance": per_stance,
        "macro_f1": _macro(f1),
        "macro_f1_low": _defined(low[-1]),
        "macro_f1_high": _defined(high[-1]),
        "speaker_accuracy": right / total if total else None,
        "gold_positions": total,
        "confusion": {"labels": labels, "matrix": confusion(truth, predicted, stance_probs).tolist()},
    }


def _macro(f1: np.ndarray) -> float | None:
    """Mean F1 over the stances where it is defined; ``None`` when none is."""
    return None if np.isnan(f1).all() else float(np.nanmean(f1))


def _bootstrap(truth: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile intervals of per-stance F1 (and macro-F1, last) over resampled sentences;
    resamples where a stance is undefined are left out of that stance's interval."""
    if not len(truth):
        empty = np.full(truth.shape[1] + 1, np.nan)
        return empty, empty
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    samples = rng.integers(0, len(truth), size=(BOOTSTRAP_SAMPLES, len(truth)))
    t, p = truth[samples], predicted[samples]
    f1 = _f1((t & p).sum(1), (~t & p).sum(1), (t & ~p).sum(1))
    defined = ~np.isnan(f1)
    macro = np.where(defined.any(1), np.nansum(f1, 1) / np.maximum(defined.sum(1), 1), np.nan)
    f1 = np.concatenate([f1, macro[:, None]], axis=1)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: an undefined interval
            return np.nanpercentile(f1, 2.5, axis=0), np.nanpercentile(f1, 97.5, axis=0)


def confusion(truth: np.ndarray, predicted: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Gold label (rows) against predicted label (columns), one count per sentence, last = no stance.

    A sentence's predicted label is its most probable stance above threshold; its gold label is
    that stance when gold holds it, else its first gold stance: so multi-stance sentences count
    as right when the top prediction is one of them.
    """
    none = truth.shape[1]
    matrix = np.zeros((none + 1, none + 1), np.int64)
    for row in range(len(truth)):
        held = np.flatnonzero(predicted[row])
        pred = int(held[np.argmax(probs[row, held])]) if len(held) else none
        gold_set = np.flatnonzero(truth[row])
        gold = pred if pred in gold_set else (int(gold_set[0]) if len(gold_set) else none)
        matrix[gold, pred] += 1
    return matrix


def evaluate_systems(systems: Mapping[str, Tagger], rows: Sequence[dict[str, Any]], schema: Schema,
                     threshold: float) -> dict[str, Any]:
    """Score every system on the same sentence rows."""
    texts = [row["text"] for row in rows]
    gold = [positions_of(row) for row in rows]
    return {name: score(gold, *system.predict_all(texts), schema, threshold) for name, system in systems.items()}


def heldout_rows(corpus: Corpus) -> list[dict[str, Any]]:
    return article_rows(corpus, corpus.heldout)


def cross_validate(corpus: Corpus, config: TrainConfig,
                   fit_systems: Callable[[Sequence[dict[str, Any]]], Mapping[str, Tagger]],
                   progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Leave-one-story-out over the training articles (the held-out file is never touched).

    A story is an article with its translations, so a translation never sits on the other side
    of a fold. The written examples are always on the training side. Predictions of all folds are
    pooled before scoring; per-fold macro-F1 is reported too.
    """
    stories = {story: [a for a in members if a not in corpus.heldout] for story, members in corpus.stories().items()}
    stories = {story: members for story, members in stories.items() if members}
    examples = example_rows(corpus) if config.use_examples else []
    pooled_rows: list[dict[str, Any]] = []
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    folds: dict[str, dict[str, float]] = {}
    for number, (story, members) in enumerate(sorted(stories.items()), start=1):
        train_ids = [a for other, ids in stories.items() if other != story for a in ids]
        test_rows = article_rows(corpus, members)
        systems = fit_systems(article_rows(corpus, train_ids) + examples)
        texts = [row["text"] for row in test_rows]
        gold = [positions_of(row) for row in test_rows]
        for name, system in systems.items():
            out = system.predict_all(texts)
            pooled.setdefault(name, []).append(out)
            folds.setdefault(name, {})[story] = score(gold, *out, corpus.schema, config.threshold)["macro_f1"]
        pooled_rows += test_rows
        if progress:
            progress("cross-validation folds", number, len(stories))
    gold = [positions_of(row) for row in pooled_rows]
    results = {}
    for name, outs in pooled.items():
        results[name] = score(gold, np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs]),
                              corpus.schema, config.threshold)
        results[name]["folds"] = folds[name]
    return results


def error_rows(rows: Sequence[dict[str, Any]], stance_probs: np.ndarray, speaker_probs: np.ndarray,
               schema: Schema, threshold: float) -> list[dict[str, Any]]:
    """Sentences where the predicted positions differ from gold, for reading the errors."""
    stances, speakers, none = schema.stance_names, schema.speaker_names, schema.none
    errors = []
    for row, probs, speaker in zip(rows, stance_probs, speaker_probs):
        gold = sorted(f"{p.stance}:{p.speaker}" for p in positions_of(row))
        pred = sorted(f"{stances[s]}:{speakers[k]}" for s, k, _ in held_positions(probs, speaker, threshold))
        if gold != pred:
            errors.append({"article": row["article"], "index": row["index"], "text": row["text"],
                           "gold": "; ".join(gold) or none, "predicted": "; ".join(pred) or none})
    return errors


def table_rows(results: Mapping[str, dict[str, Any]], stances: Sequence[str]) -> list[list[str]]:
    """Header and one row per system: macro-F1 with its interval, speaker accuracy, F1 per stance."""
    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    rows = [["system", "macro-F1 [95% CI]", "speaker acc"] + [f"F1 {s}" for s in stances]]
    for name, r in results.items():
        rows.append([name, f"{fmt(r['macro_f1'])} [{fmt(r['macro_f1_low'])}, {fmt(r['macro_f1_high'])}]",
                     fmt(r["speaker_accuracy"])] + [fmt(r["per_stance"][s]["f1"]) for s in stances])
    return rows


def evaluate_model(directory: str | Path, corpus: Corpus, cv: bool = False,
                   progress: Callable[[str, int, int], None] | None = None) -> dict[str, dict[str, Any]]:
    """Held-out figures of a saved model and its baselines, and optionally cross-validation
    (which retrains model and baselines per fold with the model's own config)."""
    from .train import fit_systems, load_systems

    systems = load_systems(directory)
    config = systems["model"].config
    trained = systems["model"].schema
    if (trained.stance_names, trained.speaker_names) != (corpus.schema.stance_names, corpus.schema.speaker_names):
        raise SchemaError(f"{directory}: the model was trained with schema {trained.name!r} "
                          f"({', '.join(trained.stance_names)}), not the schema of {corpus.root}; "
                          f"evaluate it on its own corpus or retrain")
    report: dict[str, dict[str, Any]] = {}
    if corpus.heldout:
        report[f"held-out ({', '.join(corpus.heldout)})"] = evaluate_systems(
            systems, heldout_rows(corpus), corpus.schema, config.threshold)
    if cv:
        report["leave-one-story-out cross-validation"] = cross_validate(
            corpus, config, lambda rows: fit_systems(rows, corpus.schema, config), progress)
    if not report:
        raise StanceError(f"{corpus.root}: no held-out article in split.json to evaluate on; add one or pass --cv")
    return report
