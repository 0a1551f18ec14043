"""`stance suggest`: the query strategies on scores whose right answer is known, and the real CLI
writing pre-annotated tasks for two articles the corpus does not hold (accented French with emoji)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from conftest import ANNOTATIONS

from stance import suggest
from stance.cli import suggest as suggest_command
from stance.errors import UsageError
from stance.schema import Schema
from stance.suggest import SentenceScores, pick, uncertainty

NEW_ARTICLES = Path(__file__).resolve().parent / "data" / "suggest"


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "stance.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600, check=False)


def scores(stance: list[list[float]], vectors: list[list[float]] | None = None, texts: list[str] | None = None,
           tfidf: list[list[float]] | None = None) -> SentenceScores:
    """Two stances (thresholds 0.5 and 0.3), two speakers the model is sure about."""
    probs = np.asarray(stance, np.float32)
    n = len(probs)
    speakers = np.tile(np.asarray([1.0, 0.0], np.float32), (n, 2, 1))
    return SentenceScores(probs, np.asarray([0.5, 0.3], np.float32), speakers, probs,
                          None if tfidf is None else np.asarray(tfidf, np.float32),
                          None if tfidf is None else speakers[:, 0, :], 0.25,
                          np.asarray(vectors if vectors is not None else np.eye(n), np.float32),
                          tuple(texts or [f"sentence {i}" for i in range(n)]))


def test_uncertainty_puts_scores_at_their_own_threshold_first() -> None:
    table = scores([[0.02, 0.01], [0.5, 0.0], [0.9, 0.3], [0.98, 0.99], [0.3, 0.01]])
    assert [row for row, _ in pick(table, "uncertainty", n=5)] == [1, 2, 4, 0, 3]
    assert uncertainty(table)[1] == pytest.approx(1.0) and uncertainty(table)[3] < 0.1


def test_uncertainty_counts_an_unknown_speaker_of_a_likely_stance() -> None:
    table = scores([[0.95, 0.0], [0.95, 0.0]])
    table.speakers[1, 0] = [0.5, 0.5]  # held for sure, by either speaker
    assert [row for row, _ in pick(table, "uncertainty", n=1)] == [1]


def test_diverse_takes_one_sentence_per_cluster_where_uncertainty_takes_near_duplicates() -> None:
    # six uncertain variants of one quote, and two other kinds of sentence the model is less sure of
    vectors = [[1, 0, 0]] * 6 + [[0, 1, 0], [0, 0, 1]]
    table = scores([[0.5 + i / 100, 0.0] for i in range(6)] + [[0.2, 0.0], [0.8, 0.0]], vectors,
                   [f"variant {i}" for i in range(6)] + ["other", "third"])
    assert sorted(row for row, _ in pick(table, "uncertainty", n=3)) == [0, 1, 2]
    assert sorted(row for row, _ in pick(table, "diverse", n=3)) == [0, 6, 7]


def test_a_text_repeated_in_two_articles_is_suggested_once() -> None:
    table = scores([[0.5, 0.0], [0.5, 0.0], [0.45, 0.0]], texts=["Same  words.", "same words.", "Other."])
    assert [row for row, _ in pick(table, "uncertainty", n=2)] == [0, 2]


def test_disagreement_ranks_the_gap_between_network_and_tfidf() -> None:
    table = scores([[0.5, 0.1], [0.5, 0.1], [0.5, 0.1]], tfidf=[[0.5, 0.1], [0.9, 0.1], [0.6, 0.1]])
    assert [row for row, _ in pick(table, "disagreement", n=3)] == [1, 2, 0]
    with pytest.raises(UsageError, match="needs a model with a TF-IDF part"):
        pick(scores([[0.5, 0.1]]), "disagreement")


def test_unknown_strategy_and_zero_sentences_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown strategy 'random'; expected one of uncertainty"):
        pick(scores([[0.5, 0.1]]), "random")
    with pytest.raises(UsageError, match="expected at least 1"):
        pick(scores([[0.5, 0.1]]), "uncertainty", n=0)


def test_the_cli_offers_the_library_strategies() -> None:
    assert suggest_command.STRATEGIES == suggest.STRATEGIES
    assert suggest_command.DEFAULT_STRATEGY == suggest.DEFAULT_STRATEGY


@pytest.mark.parametrize("fmt", ["label-studio", "doccano"])
def test_suggest_writes_pre_annotated_tasks_whose_offsets_match_the_text(tiny_model: Path, tmp_path: Path,
                                                                         fmt: str) -> None:
    output, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    result = run("suggest", str(NEW_ARTICLES), "--model", str(tiny_model), "--n", "4", "--format", fmt,
                 "--output", str(output), "--label-config", str(config))
    assert result.returncode == 0, result.stderr
    assert "4 of 8 sentences picked (uncertainty)" in result.stderr
    lines = output.read_text(encoding="utf-8")
    tasks = json.loads(lines) if fmt == "label-studio" else [json.loads(line) for line in lines.splitlines()]
    articles = {name.stem: name.read_text(encoding="utf-8") for name in NEW_ARTICLES.glob("*.txt")}
    picked = regions = 0
    for task in tasks:
        data = task["data"] if fmt == "label-studio" else task
        text = articles[data["article"]]
        assert data["text"] == text
        for sentence in data["suggested"]:
            assert text[sentence["start"]:sentence["end"]] == sentence["text"]
            picked += 1
        if fmt == "label-studio":
            (prediction,) = task["predictions"]
            assert prediction["model_version"].startswith("tiny-")
            found = [(r["value"]["start"], r["value"]["end"], r["value"]["text"], r["value"]["labels"][0], r["score"])
                     for r in prediction["result"]]
        else:
            found = [(start, end, text[start:end], label, None) for start, end, label in task["label"]]
        for start, end, words, label, score in found:
            assert text[start:end] == words and label.count(":") == 1
            assert score is None or 0.0 <= score <= 1.0
        for sentence in data["suggested"]:
            assert sentence["likely"].count(":") == 1 and 0.0 <= sentence["score"] <= 1.0
        regions += len(found)
    assert picked == 4 and regions >= 4
    assert "🚫" in articles["annonce-fr"] and any(t for t in tasks if "annonce-fr" in json.dumps(t))
    assert len(ElementTree.parse(config).getroot().find("Labels")) == 24


def test_export_writes_the_label_config_of_the_schema(tmp_path: Path) -> None:
    config = tmp_path / "config.xml"
    result = run("export", str(tmp_path / "tasks.json"), "--format", "label-studio", "--corpus", str(ANNOTATIONS),
                 "--label-config", str(config))
    assert result.returncode == 0, result.stderr
    schema = Schema.load(ANNOTATIONS / "schema.json")
    root = ElementTree.parse(config).getroot()
    expected = sorted(f"{st}:{sp}" for st in schema.stance_names for sp in schema.speaker_names)
    for block, item in (("Labels", "Label"), ("Choices", "Choice")):
        element = root.find(block)
        assert element.get("toName") == root.find("Text").get("name") == "text"
        assert sorted(child.get("value") for child in element.findall(item)) == expected
    assert root.find("Choices").get("choice") == "multiple"


def test_inputs_without_a_sentence_are_one_line_error(tiny_model: Path, tmp_path: Path) -> None:
    (tmp_path / "blank.txt").write_text(" \n\n", encoding="utf-8")
    result = run("suggest", str(tmp_path / "blank.txt"), "--model", str(tiny_model), "--format", "doccano",
                 "--output", str(tmp_path / "tasks.jsonl"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "no sentences in 1 input(s)" in result.stderr and not (tmp_path / "tasks.jsonl").exists()


def test_evaluation_articles_of_a_corpus_are_never_suggested(tiny_model: Path, tmp_path: Path) -> None:
    """Pointed at the corpus's own articles, suggest leaves out the held-out and dev ones (labelling
    them would train on what the tagger is scored on), and refuses when nothing else is left."""
    split = json.loads((ANNOTATIONS / "split.json").read_text(encoding="utf-8"))
    evaluation = [ANNOTATIONS / "articles" / f"{aid}.txt" for aid in split["heldout"] + split["dev"][:1]]
    output = tmp_path / "tasks.jsonl"
    result = run("suggest", *map(str, evaluation), "--model", str(tiny_model), "--format", "doccano",
                 "--output", str(output))
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "held-out or dev article of its corpus" in result.stderr and not output.exists()

    training = sorted(set((ANNOTATIONS / "articles").glob("*.txt"))
                      - {ANNOTATIONS / "articles" / f"{aid}.txt" for aid in split["heldout"] + split["dev"]})
    result = run("suggest", *map(str, evaluation), str(training[0]), "--model", str(tiny_model), "--n", "2",
                 "--format", "doccano", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert f"left out {len(evaluation)} held-out or dev article(s)" in result.stderr
    articles = {json.loads(line)["article"] for line in output.read_text(encoding="utf-8").splitlines()}
    assert articles == {training[0].stem}
