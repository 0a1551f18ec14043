"""Baselines reported beside the model everywhere: majority class and TF-IDF + logistic regression.

Both follow the scikit-learn estimator contract (inert ``__init__``, ``fit`` returns ``self``,
learned attributes end in ``_``) and answer to the tagger's ``predict_proba`` /
``predict_speaker_proba``. They save as JSON and safetensors arrays, never pickle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import multi_hot
from .errors import ModelError
from .records import Position, Sentence

ARRAYS_NAME = "arrays.safetensors"
PARAMS_NAME = "baseline.json"


class _Baseline:
    """Shared label handling: stances and speakers in schema order."""

    kind = ""

    def __init__(self, stances: Sequence[str] = (), speakers: Sequence[str] = ()) -> None:
        self.stances = stances
        self.speakers = speakers

    def _targets(self, labels: Sequence[Sequence[Position]]) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
        """Multi-hot stances per sentence, and every gold position as (row, stance, speaker)."""
        stances, speakers = multi_hot(labels, self.stances, self.speakers)
        held = [(int(row), int(stance), int(speaker)) for row, stance, speaker in np.argwhere(speakers)]
        return stances.astype(np.int64), held

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of each stance per sentence ``(n, S)``."""
        raise NotImplementedError

    def predict_speaker_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of each speaker per sentence and stance ``(n, S, K)``."""
        raise NotImplementedError

    def predict_all(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.predict_proba(texts), self.predict_speaker_proba(texts)

    def predict_article(self, text: str, sentences: Sequence[Sentence],
                        language: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The tagger's contract; a baseline reads each sentence on its own."""
        return self.predict_all([s.text for s in sentences])

    def save(self, directory: str | Path) -> None:
        from safetensors.numpy import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays, params = self._state()
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(directory / ARRAYS_NAME))
        params = {"kind": self.kind, "stances": list(self.stances), "speakers": list(self.speakers), **params}
        (directory / PARAMS_NAME).write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")

    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        raise NotImplementedError


class MajorityBaseline(_Baseline):
    """Predicts each stance with its training frequency and the most frequent speaker per stance."""

    kind = "majority"

    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[Position]]) -> MajorityBaseline:
        y, held = self._targets(labels)
        self.stance_rate_ = y.mean(0).astype(np.float32) if len(y) else np.zeros(len(self.stances), np.float32)
        counts = np.full((len(self.stances), len(self.speakers)), 1e-3, np.float32)
        for _, stance, speaker in held:
            counts[stance, speaker] += 1.0
        self.speaker_rate_ = counts / counts.sum(1, keepdims=True)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(self.stance_rate_, (len(texts), 1))

    def predict_speaker_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(self.speaker_rate_, (len(texts), 1, 1))

    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {"stance_rate_": self.stance_rate_, "speaker_rate_": self.speaker_rate_}, {}


class TfidfBaseline(_Baseline):
    """Character n-gram TF-IDF (language-agnostic) with one logistic regression per stance and one
    for the speaker of every gold position."""

    kind = "tfidf"

    def __init__(self, stances: Sequence[str] = (), speakers: Sequence[str] = (), C: float = 4.0,
                 ngram_range: tuple[int, int] = (2, 5)) -> None:
        super().__init__(stances, speakers)
        self.C = C
        self.ngram_range = ngram_range

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range), sublinear_tf=True,
                               lowercase=True, vocabulary=vocabulary)

    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[Position]]) -> TfidfBaseline:
        from sklearn.linear_model import LogisticRegression

        vectorizer = self._vectorizer()
        x = vectorizer.fit_transform(texts)
        self.vocabulary_ = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        self.idf_ = vectorizer.idf_.astype(np.float64)
        y, held = self._targets(labels)
        rows = [row for row, _, _ in held]
        speakers = [speaker for _, _, speaker in held]
        self.stance_coef_ = np.zeros((len(self.stances), x.shape[1]))
        # A stance never (always) seen in training is predicted never (always).
        self.stance_intercept_ = np.where(y.all(0) & (len(y) > 0), 20.0, -20.0)
        for s in range(len(self.stances)):
            if 0 < y[:, s].sum() < len(y):
                model = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000).fit(x, y[:, s])
                self.stance_coef_[s], self.stance_intercept_[s] = model.coef_[0], model.intercept_[0]
        self.speaker_coef_ = np.zeros((len(self.speakers), x.shape[1]))
        self.speaker_intercept_ = np.full(len(self.speakers), -20.0)
        present = sorted(set(speakers))
        if len(present) == 1:
            self.speaker_intercept_[present[0]] = 0.0
        elif present:
            model = LogisticRegression(C=self.C, max_iter=2000).fit(x[rows], speakers)
            self.speaker_coef_[model.classes_], self.speaker_intercept_[model.classes_] = model.coef_, model.intercept_
        return self

    def _features(self, texts: Sequence[str]) -> Any:
        vectorizer = self._vectorizer(self.vocabulary_)
        vectorizer.fit([""])  # builds the fixed-vocabulary analyzer; idf is restored below
        vectorizer.idf_ = self.idf_
        return vectorizer.transform(texts)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        logits = self._features(texts) @ self.stance_coef_.T + self.stance_intercept_
        probs: np.ndarray = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        return probs

    def predict_speaker_proba(self, texts: Sequence[str]) -> np.ndarray:
        logits = self._features(texts) @ self.speaker_coef_.T + self.speaker_intercept_
        logits = logits - logits.max(1, keepdims=True)
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return np.repeat(probs[:, None, :], len(self.stances), axis=1).astype(np.float32)

    def _state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {name: getattr(self, name) for name in
                  ("idf_", "stance_coef_", "stance_intercept_", "speaker_coef_", "speaker_intercept_")}
        return arrays, {"C": self.C, "ngram_range": list(self.ngram_range), "vocabulary_": self.vocabulary_}


BASELINES = {cls.kind: cls for cls in (MajorityBaseline, TfidfBaseline)}


def load_baseline(directory: str | Path) -> _Baseline:
    """Restore a saved baseline from JSON and safetensors (no pickle, nothing executed)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    directory = Path(directory)
    try:
        params = json.loads((directory / PARAMS_NAME).read_text(encoding="utf-8"))
        arrays = load_file(str(directory / ARRAYS_NAME))
        cls = BASELINES[params.pop("kind")]
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        raise ModelError(f"{directory}: baseline is missing or corrupted ({exc}); retrain the model") from None
    learned = {k: params.pop(k) for k in list(params) if k.endswith("_")}
    if "ngram_range" in params:
        params["ngram_range"] = tuple(params["ngram_range"])
    baseline = cls(**params)
    for name, value in {**learned, **arrays}.items():
        setattr(baseline, name, value)
    return baseline
