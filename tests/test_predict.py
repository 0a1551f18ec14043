"""Batching and windows never change answers; the row contract holds for every sentence."""

from __future__ import annotations

import numpy as np
from conftest import ANNOTATIONS

from stance.model import StanceTagger
from stance.predict import Document, collect_documents, sentence_rows, tag_documents
from stance.records import Attribution, Sentence, Source


def test_windows_and_batches_do_not_change_answers(trained_model):
    tagger = StanceTagger.from_pretrained(trained_model)
    documents = [Document(aid, ANNOTATIONS / "articles" / f"{aid}.txt") for aid in ("igen-fr", "frtech-fr")]
    default = [row for article in tag_documents(tagger, documents) for row in article.rows]
    small = [row for article in tag_documents(tagger, documents, window=3) for row in article.rows]
    assert [(r.article, r.index, r.stance, r.speaker) for r in small] == \
        [(r.article, r.index, r.stance, r.speaker) for r in default]
    np.testing.assert_allclose([r.score for r in small], [r.score for r in default], atol=2e-4)
    texts = [r.text for r in default]
    one_by_one = np.concatenate([tagger.predict_all([t])[0] for t in texts[:12]])
    np.testing.assert_allclose(tagger.predict_all(texts[:12], batch_size=5)[0], one_by_one, atol=1e-5)


def test_row_contract_for_positions_and_none():
    sentences = [Sentence(0, 3, "abc"), Sentence(4, 7, "def")]
    probs = np.array([[0.9, 0.2, 0.6], [0.1, 0.3, 0.2]], np.float32)
    speakers = np.zeros((2, 3, 2), np.float32)
    speakers[0, 0, 1] = speakers[0, 2, 0] = 1.0
    rows = sentence_rows("a", sentences, probs, speakers, ["s1", "s2", "s3"], ["p", "q"], "none", 0.5)
    assert [p.to_dict() for p in rows[0].positions] == [{"speaker": "q", "stance": "s1", "score": 0.9, "source": None},
                                                        {"speaker": "p", "stance": "s3", "score": 0.6, "source": None}]
    assert (rows[0].stance, rows[0].speaker, rows[0].score) == ("s1", "q", 0.9)
    assert (rows[1].stance, rows[1].speaker, rows[1].score) == ("none", None, 0.7)
    assert rows[0].source is None and rows[1].source is None
    assert [type(r).from_dict(r.to_dict()) for r in rows] == rows


def test_positions_take_the_source_that_names_their_speaker():
    """A position shows the attributed mention only when it names that position's speaker."""
    sentences = [Sentence(0, 3, "abc"), Sentence(4, 7, "def")]
    probs = np.array([[0.9, 0.2, 0.6], [0.8, 0.3, 0.2]], np.float32)
    speakers = np.zeros((2, 3, 2), np.float32)
    speakers[0, 0, 1] = speakers[0, 2, 0] = speakers[1, 0, 0] = 1.0
    quoted = Source(start=4, end=7, text="def", speaker="q")
    attributions = [Attribution(source=quoted, quoted=True), Attribution(source=None)]
    rows = sentence_rows("a", sentences, probs, speakers, ["s1", "s2", "s3"], ["p", "q"], "none", 0.5,
                         first_index=3, attributions=attributions)
    assert [p.to_dict()["source"] for p in rows[0].positions] == [{"text": "def", "start": 4, "end": 7}, None]
    assert rows[0].to_dict()["source"] == {"text": "def", "start": 4, "end": 7} and rows[0].index == 3
    assert rows[1].positions[0].source is None and rows[1].source is None
    assert [type(r).from_dict(r.to_dict()) for r in rows] == rows


def test_each_position_takes_the_source_of_its_own_stance():
    """"X accuses ..., which Y denies": the accusation shows X, the denial Y, in the same row."""
    sentences = [Sentence(0, 9, "abc d efg")]
    probs = np.array([[0.9, 0.8, 0.1]], np.float32)
    speakers = np.zeros((1, 3, 2), np.float32)
    speakers[0, 0, 0] = speakers[0, 1, 1] = speakers[0, 2, 0] = 1.0
    accuser, denier = Source(0, 3, "abc", "p"), Source(6, 9, "efg", "q")
    attributions = [Attribution(source=accuser, by_stance=(accuser, denier, accuser))]
    [row] = sentence_rows("a", sentences, probs, speakers, ["s1", "s2", "s3"], ["p", "q"], "none", 0.5,
                          attributions=attributions)
    assert [(p.stance, p.speaker, p.to_dict()["source"]) for p in row.positions] == [
        ("s1", "p", {"text": "abc", "start": 0, "end": 3}), ("s2", "q", {"text": "efg", "start": 6, "end": 9})]
    assert row.source == row.positions[0].source


def test_collect_documents_names_and_errors(tmp_path):
    import pytest

    from stance.errors import InputError

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("One.", encoding="utf-8")
    (tmp_path / "a" / "notes.md").write_text("ignored", encoding="utf-8")
    assert [d.id for d in collect_documents([str(tmp_path / "a")])] == ["x"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .txt, .html or .htm files"):
        collect_documents([str(tmp_path / "empty")])
    with pytest.raises(InputError, match="no such file"):
        collect_documents([str(tmp_path / "missing.txt")])


def test_bfloat16_encoder_gives_the_float32_answers(trained_model):
    tagger = StanceTagger.from_pretrained(trained_model)
    texts = [line for line in (ANNOTATIONS / "articles" / "nyt-en.txt").read_text(encoding="utf-8").splitlines()
             if line.strip()][:30]
    reference = tagger.predict_all(texts)
    assert tagger.set_precision("bfloat16") == "bfloat16"
    reduced = tagger.predict_all(texts)
    threshold = tagger.config.threshold
    same = ((reduced[0] >= threshold) == (reference[0] >= threshold)).all(1).mean()
    assert same >= 0.96 and np.abs(reduced[0] - reference[0]).max() < 0.05
    assert tagger.set_precision("auto") in ("float32", "bfloat16")


def test_tagging_reports_each_stance_at_the_models_calibrated_threshold(trained_model):
    """The thresholds fitted out of fold travel with the model and decide what `tag` reports."""
    from dataclasses import replace

    tagger = StanceTagger.from_pretrained(trained_model)
    assert tagger.calibration is not None
    np.testing.assert_allclose(tagger.thresholds, tagger.calibration.thresholds)
    document = [Document("frtech-fr", ANNOTATIONS / "articles" / "frtech-fr.txt")]

    def reported(threshold=None):
        return sorted(p.score for a in tag_documents(tagger, document, threshold) for r in a.rows for p in r.positions)

    every = reported(threshold=0.0)  # every stance of every sentence
    # Rows round scores to 4 decimals: cut halfway between two distinct middle scores, never on one.
    low = next(i for i in range(len(every) // 2, len(every) - 1) if every[i + 1] - every[i] >= 2e-4)
    cut = (every[low] + every[low + 1]) / 2
    tagger.calibration = replace(tagger.calibration, thresholds=(cut,) * len(tagger.stances))
    assert reported() == [s for s in every if s >= cut] and 0 < len(reported()) < len(every)
