"""Honest scores: sentence-level per-stance P/R/F1 with bootstrap intervals, macro-F1, speaker
accuracy on gold positions and a confusion matrix, for the model and the baselines alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .calibration import expected_calibration_error, reliability
from .config import TrainConfig
from .corpus import Corpus
from .dataset import article_rows, label_arrays, positions_of, written_rows
from .errors import SchemaError, StanceError
from .predict import held_positions
from .records import Position, Sentence
from .schema import Schema

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0
#: The system whose lead over the baselines is measured.
MODEL = "model"


class Tagger(Protocol):
    def predict_article(self, text: str, sentences: Sequence[Sentence],
                        language: str | None = None) -> tuple[np.ndarray, np.ndarray]: ...


#: Where a system without thresholds of its own (the baselines) reports a stance.
DEFAULT_THRESHOLD = 0.5
Threshold = float | np.ndarray


def thresholds_of(system: Any) -> Threshold:
    """A system's decision thresholds: the model's calibrated ones, else the default."""
    return getattr(system, "thresholds", DEFAULT_THRESHOLD)


def predict_rows(system: Tagger, rows: Sequence[dict[str, Any]], corpus: Corpus,
                 **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Scores of corpus sentence rows, each article read whole (attribution needs the context),
    in the rows' order."""
    by_article: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        by_article.setdefault(row["article"], []).append(position)
    stance = np.zeros((len(rows), len(corpus.schema.stances)), np.float32)
    speaker = np.zeros((len(rows), len(corpus.schema.stances), len(corpus.schema.speakers)), np.float32)
    for aid, members in by_article.items():
        article = corpus.articles[aid]
        sentences = [Sentence(rows[i]["start"], rows[i]["end"], rows[i]["text"]) for i in members]
        stance[members], speaker[members] = system.predict_article(article.text, sentences, article.language, **options)
    return stance, speaker


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1, undefined (NaN) where a stance is neither in gold nor predicted: nothing to get right
    or wrong, so it must not count as 0 (or 1) in a macro average."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.full(np.shape(tp), np.nan), where=denominator > 0)


def _defined(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def predicted_positions(stance_probs: np.ndarray, speaker_probs: np.ndarray,
                        threshold: Threshold) -> list[list[tuple[int, int, float]]]:
    """Per sentence, the positions the tagger reports: the same rule ``stance tag`` applies. The
    threshold is one number, one per stance, or one per sentence and stance (pooled CV folds)."""
    per_row = np.broadcast_to(np.asarray(threshold, np.float32), stance_probs.shape)
    return [held_positions(probs, speakers, limit) for probs, speakers, limit in zip(stance_probs, speaker_probs, per_row)]


def score(gold: Sequence[Sequence[Position]], stance_probs: np.ndarray, speaker_probs: np.ndarray,
          schema: Schema, threshold: Threshold) -> dict[str, Any]:
    """All figures for one system on one set of sentences.

    Speaker figures follow the development-set issue: **speaker accuracy** counts gold positions
    whose stance is reported *with* the right speaker, over all gold positions; **attribution
    accuracy** counts the same over the gold positions whose stance is reported at all.
    """
    stances, speakers = schema.stance_names, schema.speaker_names
    index = {name: i for i, name in enumerate(stances)}
    speaker_index = {name: i for i, name in enumerate(speakers)}
    truth = label_arrays(gold, schema)[0].astype(bool)
    reported = predicted_positions(stance_probs, speaker_probs, threshold)
    predicted = _as_matrix(reported, truth.shape)
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
    right = found = total = 0
    for row, positions in enumerate(gold):
        pairs = {(s, k) for s, k, _ in reported[row]}
        for p in positions:
            total += 1
            found += bool(predicted[row, index[p.stance]])
            right += (index[p.stance], speaker_index[p.speaker]) in pairs
    labels = [*stances, schema.none]
    return {
        "sentences": len(gold),
        "per_stance": per_stance,
        "macro_f1": _macro(f1),
        "macro_f1_low": _defined(low[-1]),
        "macro_f1_high": _defined(high[-1]),
        "speaker_accuracy": right / total if total else None,
        "attribution_accuracy": right / found if found else None,
        "gold_positions": total,
        "confusion": {"labels": labels, "matrix": confusion(truth, predicted, stance_probs).tolist()},
    }


def _macro(f1: np.ndarray) -> float | None:
    """Mean F1 over the stances where it is defined; ``None`` when none is."""
    return None if np.isnan(f1).all() else float(np.nanmean(f1))


def _resampled_f1(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per-stance F1 (and macro-F1, last column) on each of the fixed bootstrap resamples of
    sentences; the same resamples for every system, so differences between systems are paired."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    samples = rng.integers(0, len(truth), size=(BOOTSTRAP_SAMPLES, len(truth)))
    t, p = truth[samples], predicted[samples]
    f1 = _f1((t & p).sum(1), (~t & p).sum(1), (t & ~p).sum(1))
    defined = ~np.isnan(f1)
    macro = np.where(defined.any(1), np.nansum(f1, 1) / np.maximum(defined.sum(1), 1), np.nan)
    return np.concatenate([f1, macro[:, None]], axis=1)


def _interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile interval per column, ignoring resamples where the figure is undefined."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: an undefined interval
        return np.nanpercentile(values, 2.5, axis=0), np.nanpercentile(values, 97.5, axis=0)


def _bootstrap(truth: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% intervals of per-stance F1 (and macro-F1, last) over resampled sentences."""
    if not len(truth):
        empty = np.full(truth.shape[1] + 1, np.nan)
        return empty, empty
    return _interval(_resampled_f1(truth, predicted))


def paired_lead(gold: Sequence[Sequence[Position]], ours: np.ndarray, theirs: np.ndarray, schema: Schema,
                our_threshold: Threshold, their_threshold: Threshold) -> dict[str, float | None]:
    """Macro-F1 of ``ours`` minus ``theirs`` (stance scores, each with its own thresholds) with a
    paired-bootstrap 95% interval: both systems are scored on the same resampled sentences, so a
    lower bound above 0 means the lead is not an accident of which sentences were drawn."""
    truth = label_arrays(gold, schema)[0].astype(bool)
    if not len(truth):
        return {"lead": None, "lead_low": None, "lead_high": None}
    decided = [_decided(ours, our_threshold), _decided(theirs, their_threshold)]
    difference = _resampled_f1(truth, decided[0])[:, -1] - _resampled_f1(truth, decided[1])[:, -1]
    low, high = _interval(difference[:, None])
    point = _macro(_point_f1(truth, decided[0])) or 0.0
    point -= _macro(_point_f1(truth, decided[1])) or 0.0
    return {"lead": float(point), "lead_low": _defined(low[0]), "lead_high": _defined(high[0])}


def _decided(stance_probs: np.ndarray, threshold: Threshold) -> np.ndarray:
    """The reported stances as a boolean matrix, through the tagger's own rule."""
    speakers = np.ones((*stance_probs.shape, 1), np.float32)
    return _as_matrix(predicted_positions(stance_probs, speakers, threshold), stance_probs.shape)


def _as_matrix(reported: list[list[tuple[int, int, float]]], shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, bool)
    for row, held in enumerate(reported):
        out[row, [s for s, _, _ in held]] = True
    return out


def _point_f1(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return _f1((truth & predicted).sum(0), (~truth & predicted).sum(0), (truth & ~predicted).sum(0))


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


def evaluate_systems(systems: Mapping[str, Tagger], rows: Sequence[dict[str, Any]], corpus: Corpus) -> dict[str, Any]:
    """Score every system on the same corpus sentence rows; the model's lead over each baseline
    is paired-bootstrapped on those rows, and its calibration error is given before and after."""
    gold = [positions_of(row) for row in rows]
    outputs, thresholds = {}, {}
    for name, system in systems.items():
        thresholds[name] = thresholds_of(system)
        if name == MODEL:
            raw, speakers = predict_rows(system, rows, corpus, calibrated=False)
            calibration = getattr(system, "calibration", None)
            outputs[name] = (calibration.apply(raw) if calibration is not None else raw, speakers)
        else:
            outputs[name] = predict_rows(system, rows, corpus)
    results = score_outputs(gold, outputs, thresholds, corpus.schema)
    if MODEL in outputs:
        results[MODEL]["calibration"] = calibration_report(gold, raw, outputs[MODEL][0], corpus.schema)
    return results


def calibration_report(gold: Sequence[Sequence[Position]], raw: np.ndarray, calibrated: np.ndarray,
                       schema: Schema) -> dict[str, Any]:
    """Per stance: expected calibration error of the scores before and after calibration, and the
    reliability curve of the reported (calibrated) scores."""
    truth = label_arrays(gold, schema)[0]
    before, after = expected_calibration_error(raw, truth), expected_calibration_error(calibrated, truth)
    curves = reliability(calibrated, truth)
    return {name: {"ece_before": before[i], "ece_after": after[i], "reliability": curves[i]}
            for i, name in enumerate(schema.stance_names)}


def score_outputs(gold: Sequence[Sequence[Position]], outputs: Mapping[str, tuple[np.ndarray, np.ndarray]],
                  thresholds: Mapping[str, Threshold], schema: Schema) -> dict[str, Any]:
    results = {name: score(gold, *out, schema, thresholds[name]) for name, out in outputs.items()}
    if MODEL in outputs:
        results[MODEL]["lead_over"] = {
            name: paired_lead(gold, outputs[MODEL][0], out[0], schema, thresholds[MODEL], thresholds[name])
            for name, out in outputs.items() if name != MODEL}
    return results


def cross_validate(corpus: Corpus, config: TrainConfig,
                   fit_systems: Callable[[Sequence[dict[str, Any]]], Mapping[str, Tagger]],
                   progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Leave-one-story-out over the training articles: no held-out or development article, nor
    any translation of one, ever sits on either side of a fold (``Corpus.training_ids``).

    A story is an article with its translations, so a translation never sits on the other side
    of a fold. The written examples and passages are always on the training side. Predictions of
    all folds are pooled before scoring; per-fold macro-F1 is reported too.
    """
    training = set(corpus.training_ids)
    stories = {story: [a for a in members if a in training] for story, members in corpus.stories().items()}
    stories = {story: members for story, members in sorted(stories.items()) if members}
    if len(stories) < 2:
        raise StanceError(f"{corpus.root}: cross-validation needs at least two training stories with articles, "
                          f"found {len(stories)}; add annotated articles or evaluate on the held-out/dev split")
    written = written_rows(corpus) if config.use_examples else []
    pooled_rows: list[dict[str, Any]] = []
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    folds: dict[str, dict[str, float | None]] = {}
    thresholds: dict[str, list[np.ndarray]] = {}
    for number, (story, members) in enumerate(stories.items(), start=1):
        train_ids = [a for other, ids in stories.items() if other != story for a in ids]
        test_rows = article_rows(corpus, members)
        systems = fit_systems(article_rows(corpus, train_ids) + written)
        gold = [positions_of(row) for row in test_rows]
        for name, system in systems.items():
            out = predict_rows(system, test_rows, corpus)
            threshold = np.broadcast_to(thresholds_of(system), (len(test_rows), len(corpus.schema.stances)))
            pooled.setdefault(name, []).append(out)
            thresholds.setdefault(name, []).append(threshold)
            folds.setdefault(name, {})[story] = score(gold, *out, corpus.schema, threshold)["macro_f1"]
        pooled_rows += test_rows
        if progress:
            progress("cross-validation folds", number, len(stories))
    gold = [positions_of(row) for row in pooled_rows]
    outputs = {name: (np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs]))
               for name, outs in pooled.items()}
    # each fold's model has its own thresholds: pooled, they are one per sentence and stance
    results = score_outputs(gold, outputs, {name: np.concatenate(t) for name, t in thresholds.items()}, corpus.schema)
    for name in results:
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
    """Header and one row per system: macro-F1 with its interval, the model's paired lead over
    each baseline, speaker and attribution accuracy, F1 per stance."""
    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    rows = [["system", "macro-F1 [95% CI]", "model's lead [95% CI]", "speaker acc", "attribution acc"]
            + [f"F1 {s}" for s in stances]]
    leads = results.get(MODEL, {}).get("lead_over", {})
    for name, r in results.items():
        lead = leads.get(name)
        rows.append([name, f"{fmt(r['macro_f1'])} [{fmt(r['macro_f1_low'])}, {fmt(r['macro_f1_high'])}]",
                     f"{fmt(lead['lead'])} [{fmt(lead['lead_low'])}, {fmt(lead['lead_high'])}]" if lead else "",
                     fmt(r["speaker_accuracy"]), fmt(r["attribution_accuracy"])]
                    + [fmt(r["per_stance"][s]["f1"]) for s in stances])
    return rows


#: Sections of an evaluation report, in the order they are shown.
SECTIONS = ("heldout", "dev_selection", "dev_reporting", "cv")
SPLITS = ("all", "heldout", "dev")


def split_articles(corpus: Corpus, section: str) -> tuple[str, ...]:
    """The evaluation articles of one report section (empty for cross-validation)."""
    split = corpus.split
    return {"heldout": split.heldout, "dev_selection": split.dev_selection,
            "dev_reporting": split.dev_reporting}.get(section, ())


def section_title(section: str, articles: Sequence[str]) -> str:
    """How people read a report section's name."""
    names = {"heldout": "held-out", "dev_selection": "dev, selection half", "dev_reporting": "dev, reporting half",
             "cv": "leave-one-story-out cross-validation"}
    listed = f" ({', '.join(articles)})" if 0 < len(articles) <= 3 else f" ({len(articles)} articles)" if articles else ""
    return names.get(section, section) + listed


def evaluate_model(directory: str | Path, corpus: Corpus, split: str = "all", cv: bool = False,
                   progress: Callable[[str, int, int], None] | None = None, device: str = "cpu") -> dict[str, dict[str, Any]]:
    """Figures of a saved model and its baselines on the corpus's evaluation articles (``split``:
    the held-out ones, the two dev halves, or all that exist), and optionally cross-validation
    (which retrains model and baselines per fold with the model's own config), the network on
    ``device``. Keyed by section."""
    from .device import resolve_device
    from .train import TrainingSet, fit_systems, load_systems

    if split not in SPLITS:
        raise StanceError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    place = resolve_device(device)  # before loading: a missing GPU is reported at once
    systems = load_systems(directory)
    systems[MODEL].to(place)
    config = systems[MODEL].config
    trained = systems[MODEL].schema
    if (trained.stance_names, trained.speaker_names) != (corpus.schema.stance_names, corpus.schema.speaker_names):
        raise SchemaError(f"{directory}: the model was trained with schema {trained.name!r} "
                          f"({', '.join(trained.stance_names)}), not the schema of {corpus.root}; "
                          f"evaluate it on its own corpus or retrain")
    wanted = {"all": SECTIONS[:3], "heldout": SECTIONS[:1], "dev": SECTIONS[1:3]}[split]
    report: dict[str, dict[str, Any]] = {}
    for section in wanted:
        articles = split_articles(corpus, section)
        if articles:
            report[section] = evaluate_systems(systems, article_rows(corpus, articles), corpus)
    if cv:
        report["cv"] = cross_validate(
            corpus, config, lambda rows: fit_systems(TrainingSet.from_rows(rows, corpus), corpus.schema, config, device=device),
            progress)
    if not report:
        raise StanceError(f"{corpus.root}: split.json lists no {'evaluation' if split == 'all' else split} article "
                          f"to evaluate on; add one (\"heldout\" or \"dev\") or pass --cv")
    return report
