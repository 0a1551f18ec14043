"""What training may learn from: never a held-out or development article, nor a translation of one.

Tested by behaviour: changing every label of the evaluation articles must leave the trained
weights (and the cross-validation figures) byte-identical, while changing a training article's
labels must change them (so the test can fail).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ANNOTATIONS

from stance.baselines import MajorityBaseline, TfidfBaseline
from stance.config import TrainConfig
from stance.corpus import load_corpus
from stance.dataset import positions_of
from stance.errors import StanceError
from stance.evaluation import cross_validate
from stance.pipeline import train_and_save

DEV_TEXT = ("Beijing calls the order bullying\n"
            "The foreign ministry said the measure was pure political manipulation. "
            "Analysts noted the app had 100 million users. The company denied sharing any data.\n")
TRAINING = ("igen-fr", "frtech-fr")
EVALUATION = ("nyt-en", "nyt-fr", "dev-a", "dev-a-fr")


def _span(article: str, text: str, needle: str, speaker: str, stance: str) -> dict:
    start = text.index(needle)
    return {"article": article, "start": start, "end": start + len(needle), "text": needle,
            "speaker": speaker, "stance": stance}


@pytest.fixture
def split_corpus(tmp_path: Path) -> Path:
    """Two training articles; a held-out article with its translation; a dev article with its
    translation (listed in no split: only the story ties it to dev)."""
    root = tmp_path / "corpus"
    (root / "articles").mkdir(parents=True)
    shutil.copy(ANNOTATIONS / "schema.json", root)
    for aid in TRAINING + EVALUATION[:2]:
        shutil.copy(ANNOTATIONS / "articles" / f"{aid}.txt", root / "articles")
    for aid in ("dev-a", "dev-a-fr"):
        (root / "articles" / f"{aid}.txt").write_text(DEV_TEXT, encoding="utf-8")
    meta = [json.loads(line) for line in (ANNOTATIONS / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    meta = [m for m in meta if m["id"] in TRAINING + EVALUATION[:2]]
    meta += [{"id": "dev-a", "language": "en"}, {"id": "dev-a-fr", "language": "fr", "translation_of": "dev-a"}]
    (root / "articles.jsonl").write_text("".join(json.dumps(m) + "\n" for m in meta), encoding="utf-8")
    spans = [line for line in (ANNOTATIONS / "spans.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(line)["article"] in TRAINING + EVALUATION[:2]]
    for aid in ("dev-a", "dev-a-fr"):
        spans.append(json.dumps(_span(aid, DEV_TEXT, "pure political manipulation", "chinese_government",
                                      "political_motive")))
    (root / "spans.jsonl").write_text("\n".join(spans) + "\n", encoding="utf-8")
    examples = (ANNOTATIONS / "examples.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    (root / "examples.jsonl").write_text("\n".join(examples) + "\n", encoding="utf-8")
    (root / "split.json").write_text('{"heldout": ["nyt-en"], "dev": ["dev-a"]}', encoding="utf-8")
    return root


def _relabel(root: Path, articles: tuple[str, ...]) -> None:
    """Every span of these articles becomes journalist/denial, and one more span is added to each."""
    lines = [json.loads(line) for line in (root / "spans.jsonl").read_text(encoding="utf-8").splitlines()]
    for span in lines:
        if span["article"] in articles:
            span.update(speaker="journalist", stance="denial")
    for aid in articles:
        text = (root / "articles" / f"{aid}.txt").read_text(encoding="utf-8")
        first = text.split("\n")[0].strip()
        lines.append(_span(aid, text, first, "oracle", "national_security"))
    (root / "spans.jsonl").write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in lines), encoding="utf-8")


def _weights(model: Path) -> dict[str, bytes]:
    files = ["model.safetensors", "baselines/tfidf/arrays.safetensors", "calibration.json"]
    return {name: (model / name).read_bytes() for name in files}


def test_evaluation_articles_and_their_translations_never_reach_training(split_corpus, tiny_encoder, tmp_path):
    config = TrainConfig(encoder=str(tiny_encoder), epochs=2)
    corpus = load_corpus(split_corpus)
    assert sorted(corpus.training_ids) == sorted(TRAINING)
    train_and_save(corpus, config, tmp_path / "before")
    _relabel(split_corpus, EVALUATION)
    train_and_save(load_corpus(split_corpus), config, tmp_path / "after")
    assert _weights(tmp_path / "before") == _weights(tmp_path / "after")
    _relabel(split_corpus, ("igen-fr",))  # the control: training labels do move the weights
    train_and_save(load_corpus(split_corpus), config, tmp_path / "control")
    assert _weights(tmp_path / "control")["model.safetensors"] != _weights(tmp_path / "after")["model.safetensors"]


def _baseline_fitter(schema):
    """Real baselines as the systems cross-validation retrains per fold (fast, deterministic)."""
    def fit(rows):
        texts, labels = [r["text"] for r in rows], [positions_of(r) for r in rows]
        return {"tfidf": TfidfBaseline(schema.stance_names, schema.speaker_names).fit(texts, labels),
                "majority": MajorityBaseline(schema.stance_names, schema.speaker_names).fit(texts, labels)}
    return fit


def test_cross_validation_folds_hold_training_stories_only(split_corpus):
    corpus = load_corpus(split_corpus)
    fit, seen = _baseline_fitter(corpus.schema), []
    before = cross_validate(corpus, TrainConfig(), lambda rows: seen.append({r["article"] for r in rows}) or fit(rows))
    assert [sorted(s - {"examples"}) for s in seen] == [["igen-fr"], ["frtech-fr"]]  # one fold per training story
    assert before["tfidf"]["folds"].keys() == {"frtech-fr", "igen-fr"}
    _relabel(split_corpus, EVALUATION)
    after = cross_validate(load_corpus(split_corpus), TrainConfig(), fit)
    assert json.dumps(before, sort_keys=True) == json.dumps(after, sort_keys=True)
    _relabel(split_corpus, ("igen-fr",))  # the control: training labels do move the figures
    control = cross_validate(load_corpus(split_corpus), TrainConfig(), fit)
    assert json.dumps(control, sort_keys=True) != json.dumps(after, sort_keys=True)


def test_cross_validation_with_one_training_story_says_so(split_corpus):
    (split_corpus / "split.json").write_text('{"heldout": ["nyt-en"], "dev": ["dev-a", "frtech-fr"]}', encoding="utf-8")
    corpus = load_corpus(split_corpus)
    with pytest.raises(StanceError, match="at least two training stories"):
        cross_validate(corpus, TrainConfig(), _baseline_fitter(corpus.schema))


def test_the_model_learns_the_real_corpus_across_stories(base_encoder, tmp_path):
    """Story CV on the real training articles (the written sentences on the training side): the
    model must beat the majority baseline by at least 0.3 macro-F1 and get most speakers right.
    Sentence vectors are computed once and shared by the folds."""
    from stance.training import cached_fitter

    root = tmp_path / "corpus"
    shutil.copytree(ANNOTATIONS, root, ignore=shutil.ignore_patterns("agreement"))
    written = (root / "examples.jsonl").read_text(encoding="utf-8").splitlines()
    (root / "examples.jsonl").write_text("\n".join(written[::4]) + "\n", encoding="utf-8")  # every 4th, for speed
    (root / "passages.jsonl").unlink()
    corpus = load_corpus(root)
    config = TrainConfig(calibration_folds=0)
    result = cross_validate(corpus, config, cached_fitter(corpus, config))
    assert result["model"]["macro_f1"] >= result["majority"]["macro_f1"] + 0.3, result["model"]["macro_f1"]
    assert result["model"]["attribution_accuracy"] >= 0.6
