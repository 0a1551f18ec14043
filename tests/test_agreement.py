from pathlib import Path

from stance.agreement import cohen_kappa, measure_agreement
from stance.corpus import load_corpus
from stance.records import Span

ANNOTATIONS = Path(__file__).resolve().parents[1] / "annotations"


def test_kappa_matches_the_textbook_value():
    # 20 items, observed agreement 0.7, chance 0.5 -> kappa 0.4
    a = ["y"] * 10 + ["n"] * 10
    b = ["y"] * 7 + ["n"] * 3 + ["y"] * 3 + ["n"] * 7
    assert abs(cohen_kappa(a, b) - 0.4) < 1e-9
    assert cohen_kappa(["y", "y"], ["y", "y"]) is None


def test_agreement_per_stance_and_speaker_on_a_training_article():
    corpus = load_corpus(ANNOTATIONS)
    first = corpus.spans_of("igen-fr")
    assert measure_agreement(corpus, first, first)["stances"]["national_security"]["kappa"] == 1.0
    changed = [Span(s.article, s.start, s.end, s.text, "other", s.stance) for s in first]
    result = measure_agreement(corpus, first, changed)
    assert result["speaker"]["observed"] < 1.0
    assert all(r["observed"] == 1.0 for r in result["stances"].values())
