"""Metrics on hand-computed cases: per-stance F1, macro-F1 over defined stances, bootstrap
intervals, speaker and attribution accuracy, the paired lead over a baseline and the confusion
matrix; and the one rule that turns probabilities into reported positions."""

from __future__ import annotations

import numpy as np

from stance.evaluation import confusion, paired_lead, score
from stance.predict import held_positions
from stance.records import Position
from stance.schema import Label, Schema

SCHEMA = Schema("t", (Label("ns"), Label("den")), (Label("gov"), Label("co")), none="nil")
P = Position


def probs(*rows):
    return np.array(rows, dtype=np.float32)


def speakers_for(n, who):
    """Speaker probabilities (n, 2 stances, 2 speakers) all pointing at speaker ``who``."""
    out = np.zeros((n, 2, 2), np.float32)
    out[:, :, who] = 1.0
    return out


def test_hand_computed_f1_speaker_accuracy_and_confusion():
    gold = [[P("gov", "ns")], [P("gov", "ns"), P("co", "den")], [], [P("co", "den")]]
    predicted = probs([0.9, 0.1], [0.8, 0.2], [0.7, 0.0], [0.1, 0.6])
    result = score(gold, predicted, speakers_for(4, 0), SCHEMA, 0.5)
    # ns: tp 2, fp 1, fn 0 -> F1 0.8; den: tp 1, fp 0, fn 1 -> F1 2/3
    assert abs(result["per_stance"]["ns"]["f1"] - 0.8) < 1e-9
    assert abs(result["per_stance"]["den"]["f1"] - 2 / 3) < 1e-9
    assert abs(result["macro_f1"] - (0.8 + 2 / 3) / 2) < 1e-9
    # gold positions: gov/ns twice (found, right speaker); co/den in s1 (not found); co/den in s3
    # (found, but the speaker reported is gov): speaker accuracy 2/4, attribution accuracy 2/3
    assert result["speaker_accuracy"] == 0.5 and result["gold_positions"] == 4
    assert abs(result["attribution_accuracy"] - 2 / 3) < 1e-9
    assert result["confusion"]["labels"] == ["ns", "den", "nil"]
    # rows gold, columns predicted: s0 ns->ns, s1 ns->ns (top prediction ns is gold), s2 nil->ns, s3 den->den
    assert result["confusion"]["matrix"] == [[2, 0, 0], [0, 1, 0], [1, 0, 0]]
    low, high = result["macro_f1_low"], result["macro_f1_high"]
    assert 0.0 <= low <= result["macro_f1"] <= high <= 1.0


def test_perfect_predictions_have_a_perfect_interval():
    gold = [[P("gov", "ns")], [], [], [], [P("co", "den")]]
    predicted = probs([0.9, 0.0], [0.1, 0.1], [0.0, 0.0], [0.2, 0.3], [0.0, 0.9])
    speakers = speakers_for(5, 0)
    speakers[4, 1] = [0.0, 1.0]
    result = score(gold, predicted, speakers, SCHEMA, 0.5)
    assert result["macro_f1"] == result["macro_f1_low"] == result["macro_f1_high"] == 1.0
    assert result["per_stance"]["den"]["f1_low"] == 1.0 and result["speaker_accuracy"] == 1.0
    assert result["attribution_accuracy"] == 1.0


def test_a_stance_neither_in_gold_nor_predicted_is_undefined_not_zero():
    gold = [[P("gov", "ns")], []]
    result = score(gold, probs([0.9, 0.0], [0.0, 0.0]), speakers_for(2, 0), SCHEMA, 0.5)
    assert result["per_stance"]["den"]["f1"] is None
    assert result["macro_f1"] == 1.0


def test_confusion_counts_one_label_per_sentence():
    truth = np.array([[True, True], [False, False]])
    predicted = np.array([[False, True], [True, False]])
    matrix = confusion(truth, predicted, probs([0.2, 0.9], [0.7, 0.1]))
    assert matrix.tolist() == [[0, 0, 0], [0, 1, 0], [1, 0, 0]]


def test_a_probability_exactly_at_the_threshold_is_reported():
    speakers = speakers_for(1, 1)[0]
    assert held_positions(np.array([0.5, 0.2], np.float32), speakers, 0.5) == [(0, 1, 0.5)]
    assert held_positions(np.array([0.4999, 0.2], np.float32), speakers, 0.5) == []
    result = score([[P("co", "ns")]], probs([0.5, 0.0]), speakers_for(1, 1), SCHEMA, 0.5)
    assert result["per_stance"]["ns"]["f1"] == 1.0 and result["speaker_accuracy"] == 1.0


def test_several_positions_are_reported_most_probable_first():
    speakers = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)  # ns held by gov, den by co
    assert held_positions(np.array([0.6, 0.95], np.float32), speakers, 0.5) == [
        (1, 1, np.float32(0.95).item()), (0, 0, np.float32(0.6).item())]


def test_scores_and_tags_apply_the_same_rule_to_each_stance_and_speaker():
    gold = [[P("gov", "ns"), P("co", "den")]]
    speakers = np.array([[[0.9, 0.1], [0.2, 0.8]]], np.float32)
    result = score(gold, probs([0.6, 0.95]), speakers, SCHEMA, 0.5)
    assert result["speaker_accuracy"] == result["attribution_accuracy"] == 1.0
    assert result["confusion"]["matrix"][1][1] == 1  # the top position (den) is the sentence's label


def test_paired_lead_is_positive_only_when_the_model_is_reliably_better():
    gold = [[P("gov", "ns")] if i % 2 else [] for i in range(40)]
    perfect = probs(*[[0.9 if i % 2 else 0.1, 0.0] for i in range(40)])
    coin = probs(*[[0.9 if i % 4 < 2 else 0.1, 0.0] for i in range(40)])  # right on half the sentences
    lead = paired_lead(gold, perfect, coin, SCHEMA, 0.5, 0.5)
    assert lead["lead"] == 0.5 and 0.0 < lead["lead_low"] <= lead["lead"] <= lead["lead_high"]
    same = paired_lead(gold, coin, coin, SCHEMA, 0.5, 0.5)
    assert same["lead"] == same["lead_low"] == same["lead_high"] == 0.0
