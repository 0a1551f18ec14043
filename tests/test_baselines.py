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
        assert not list((tmp_path / cls.kind).glob("*.pkl"))


def test_tfidf_learns_and_majority_predicts_frequencies():
    tfidf = TfidfBaseline(STANCES, SPEAKERS).fit(TEXTS, LABELS)
    assert (tfidf.predict_proba(["security threat"])[0] >= 0.5).tolist() == [True, False]
    majority = MajorityBaseline(STANCES, SPEAKERS).fit(TEXTS, LABELS)
    np.testing.assert_allclose(majority.predict_proba(["x"])[0], [0.4, 0.4])
    assert majority.predict_speaker_proba(["x"])[0, 1].argmax() == 1
