"""Scores that mean what they say: per-stance Platt scaling and decision thresholds, both fitted on
out-of-fold predictions (never on the sentences the heads were trained on, whose scores are
overconfident), and the expected calibration error that shows the difference.

A calibrated score of 0.8 should be right about 80% of the time; the threshold per stance is then
the calibrated score that maximises F1 out of fold, since the stances differ in how rare they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Thresholds are searched on this grid of calibrated scores: coarse enough not to chase noise.
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))
#: Bins of the expected calibration error.
ECE_BINS = 10
_EPS = 1e-6


def logit(probs: np.ndarray) -> np.ndarray:
    clipped = np.clip(probs, _EPS, 1 - _EPS)
    out: np.ndarray = np.log(clipped / (1 - clipped))
    return out


@dataclass(frozen=True)
class Calibration:
    """Per stance: ``calibrated = sigmoid(scale * logit(p) + shift)``, reported when ``>= threshold``."""

    scale: tuple[float, ...]
    shift: tuple[float, ...]
    thresholds: tuple[float, ...]

    def apply(self, probs: np.ndarray) -> np.ndarray:
        z = logit(probs) * np.asarray(self.scale, np.float32) + np.asarray(self.shift, np.float32)
        out: np.ndarray = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"scale": list(self.scale), "shift": list(self.shift), "thresholds": list(self.thresholds)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(tuple(map(float, data["scale"])), tuple(map(float, data["shift"])),
                   tuple(map(float, data["thresholds"])))


def fit_calibration(probs: np.ndarray, truth: np.ndarray) -> Calibration:
    """Platt scaling per stance (a one-feature logistic regression on the logit), then the F1-best
    threshold on the calibrated out-of-fold scores. A stance with one class only keeps p as is."""
    from sklearn.linear_model import LogisticRegression

    scale, shift = [], []
    for s in range(probs.shape[1]):
        y = truth[:, s].astype(int)
        if y.min() == y.max():
            scale.append(1.0)
            shift.append(0.0)
            continue
        model = LogisticRegression(C=1e4, max_iter=1000).fit(logit(probs[:, [s]]), y)
        scale.append(float(model.coef_[0, 0]))
        shift.append(float(model.intercept_[0]))
    unthresholded = Calibration(tuple(scale), tuple(shift), tuple(0.5 for _ in scale))
    calibrated = unthresholded.apply(probs)
    thresholds = tuple(_best_threshold(calibrated[:, s], truth[:, s].astype(bool)) for s in range(probs.shape[1]))
    return Calibration(tuple(scale), tuple(shift), thresholds)


def _best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    """The grid threshold with the best F1; ties go to the one nearest 0.5 (the uncalibrated rule)."""
    def f1(threshold: float) -> float:
        predicted = scores >= threshold
        tp = float((predicted & truth).sum())
        denominator = 2 * tp + float((predicted & ~truth).sum()) + float((~predicted & truth).sum())
        return 2 * tp / denominator if denominator else 0.0

    return max(THRESHOLD_GRID, key=lambda t: (round(f1(t), 6), -abs(t - 0.5)))


def expected_calibration_error(probs: np.ndarray, truth: np.ndarray, bins: int = ECE_BINS) -> list[float | None]:
    """Per stance: the mean gap between score and observed frequency over equal-width score bins,
    weighted by how many sentences fall in each bin (``None`` with no sentence)."""
    out: list[float | None] = []
    for s in range(probs.shape[1]):
        p, y = probs[:, s], truth[:, s].astype(float)
        if not len(p):
            out.append(None)
            continue
        which = np.minimum((p * bins).astype(int), bins - 1)
        gap = sum(abs(p[which == b].mean() - y[which == b].mean()) * (which == b).sum()
                  for b in range(bins) if (which == b).any())
        out.append(float(gap / len(p)))
    return out


def reliability(probs: np.ndarray, truth: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, list[float | int]]]:
    """Per stance, the points of a reliability diagram: mean score, observed frequency and count per bin."""
    curves: list[dict[str, list[float | int]]] = []
    for s in range(probs.shape[1]):
        p, y = probs[:, s], truth[:, s].astype(float)
        which = np.minimum((p * bins).astype(int), bins - 1)
        used = [b for b in range(bins) if (which == b).any()]
        counts: list[float | int] = [int((which == b).sum()) for b in used]
        curves.append({"score": [float(p[which == b].mean()) for b in used],
                       "observed": [float(y[which == b].mean()) for b in used], "count": counts})
    return curves
