import json
from pathlib import Path

import pytest

from stance.agreement import agreement_between, cohen_kappa, measure_agreement
from stance.corpus import load_corpus
from stance.dataset import article_rows
from stance.errors import AnnotationError
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
    assert measure_agreement(corpus, first, first, ["igen-fr"])["stances"]["national_security"]["kappa"] == 1.0
    changed = [Span(s.article, s.start, s.end, s.text, "other", s.stance) for s in first]
    result = measure_agreement(corpus, first, changed, ["igen-fr"])
    assert result["speaker"]["observed"] < 1.0
    assert all(r["observed"] == 1.0 for r in result["stances"].values())


def test_whole_corpus_file_is_compared_on_the_second_pass_articles_only(tmp_path):
    corpus = load_corpus(ANNOTATIONS)
    second = tmp_path / "second.jsonl"
    # a second pass over igen-fr that misses its last position
    kept = corpus.spans_of("igen-fr")[:-1]
    second.write_text("".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in kept), encoding="utf-8")
    result = agreement_between(corpus, ANNOTATIONS / "spans.jsonl", second)
    assert result["articles"] == ["igen-fr"]
    assert result["sentences"] == len([r for r in article_rows(corpus, ["igen-fr"])])
    assert sum(r["first"] - r["second"] for r in result["stances"].values()) == 1


def test_bad_second_pass_is_reported_with_line(tmp_path):
    corpus = load_corpus(ANNOTATIONS)
    second = tmp_path / "second.jsonl"
    second.write_text('{"article": "igen-fr", "start": "0", "end": 5, "text": "Oracl", "speaker": "oracle", '
                      '"stance": "denial"}\n', encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"second.jsonl:1: start and end must be integers"):
        agreement_between(corpus, ANNOTATIONS / "spans.jsonl", second)
