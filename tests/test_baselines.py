import numpy as np

from stance.baselines import MajorityBaseline, TfidfBaseline, load_baseline
from stance.records import Position

STANCES = ["national_security", "denial"]
SPEAKERS = ["a", "b"]
TEXTS = ["threat to security", "we deny it all", "security risk", "the weather is nice", "deny deny"]
LABELS = [[Position("a", "national_security")], [Position("b", "denial")],
          [Position("a", "national_security")], [], [Position("b", "denial")]]


def test_estimator_contract_and_round_trip(tmp_path):
    for cls in (MajorityBaseline, TfidfBaseline):
        model = cls(STANCES, SPEAKERS)
        assert not [k for k in vars(model) if k.endswith("_")]  # inert __init__
        assert model.fit(TEXTS, LABELS) is model
        probs, speakers = model.predict_all(TEXTS)
        assert probs.shape == (5, 2) and speakers.shape == (5, 2, 2)
        model.save(tmp_path / cls.kind)
        restored = load_baseline(tmp_path / cls.kind)
        np.testing.assert_allclose(restored.predict_proba(TEXTS), probs, rtol=1e-6)
        np.testing.assert_allclose(restored.predict_speaker_proba(TEXTS), speakers, rtol=1e-6)
        assert sorted(p.suffix for p in (tmp_path / cls.kind).iterdir()) == [".json", ".safetensors"]


def test_tfidf_learns_and_majority_predicts_frequencies():
    tfidf = TfidfBaseline(STANCES, SPEAKERS).fit(TEXTS, LABELS)
    assert (tfidf.predict_proba(["security threat"])[0] >= 0.5).tolist() == [True, False]
    majority = MajorityBaseline(STANCES, SPEAKERS).fit(TEXTS, LABELS)
    np.testing.assert_allclose(majority.predict_proba(["x"])[0], [0.4, 0.4])
    assert majority.predict_speaker_proba(["x"])[0, 1].argmax() == 1


def test_majority_speaker_is_counted_per_stance():
    labels = [[Position("a", "national_security"), Position("b", "denial")], [Position("a", "national_security")]]
    majority = MajorityBaseline(STANCES, SPEAKERS).fit(["x", "y"], labels)
    speakers = majority.predict_speaker_proba(["z"])[0]
    assert speakers[0, 0] > 0.99 and speakers[1, 1] > 0.99  # a holds national_security, b denial


def test_tfidf_stance_seen_in_every_sentence_is_always_predicted():
    labels = [[Position("a", "national_security")], [Position("a", "national_security"), Position("b", "denial")]]
    tfidf = TfidfBaseline(STANCES, SPEAKERS).fit(["one text", "two texts"], labels)
    assert tfidf.predict_proba(["anything"])[0, 0] > 0.99
