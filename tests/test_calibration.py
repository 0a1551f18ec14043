"""Calibration on cases whose answer is known: overconfident scores are pulled back to observed
frequencies, thresholds land where F1 is best, and the record round-trips through JSON."""

from __future__ import annotations

import json

import numpy as np

from stance.calibration import Calibration, expected_calibration_error, fit_calibration, reliability


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose true frequency is much lower than they claim: p_true = score ** 3."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0.01, 0.99, size=(n, 2)).astype(np.float32)
    truth = rng.uniform(size=(n, 2)) < scores ** 3
    return scores, truth


def test_platt_scaling_reduces_the_calibration_error_of_overconfident_scores():
    scores, truth = _overconfident()
    calibration = fit_calibration(scores, truth)
    before = expected_calibration_error(scores, truth)
    after = expected_calibration_error(calibration.apply(scores), truth)
    assert all(b > 0.15 for b in before) and all(a < 0.06 for a in after)


def test_thresholds_maximise_f1_on_the_calibrated_scores():
    scores = np.array([[0.9], [0.8], [0.7], [0.35], [0.3], [0.1]], np.float32)
    truth = np.array([[True], [True], [True], [True], [False], [False]])
    threshold = fit_calibration(scores, truth).thresholds[0]
    calibrated = Calibration((1.0,), (0.0,), (0.5,)).apply(scores)  # identity, for reading the case
    assert np.allclose(calibrated, scores, atol=1e-6)
    # Every positive above the threshold and the negatives below it is the only F1 = 1 cut.
    reported = fit_calibration(scores, truth).apply(scores)[:, 0] >= threshold
    assert reported.tolist() == [True, True, True, True, False, False]


def test_a_stance_with_one_class_keeps_its_scores():
    scores = np.array([[0.2], [0.7]], np.float32)
    calibration = fit_calibration(scores, np.array([[False], [False]]))
    assert calibration.scale == (1.0,) and calibration.shift == (0.0,)
    assert np.allclose(calibration.apply(scores), scores, atol=1e-6)


def test_calibration_round_trips_through_json_and_reliability_counts_every_sentence():
    scores, truth = _overconfident(500)
    calibration = fit_calibration(scores, truth)
    assert Calibration.from_dict(json.loads(json.dumps(calibration.to_dict()))) == calibration
    curves = reliability(scores, truth)
    assert [sum(c["count"]) for c in curves] == [500, 500]
    assert all(0.0 <= o <= 1.0 for c in curves for o in c["observed"])
