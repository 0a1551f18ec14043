"""The use cases the CLI and the Python API share: the README's snippet runs as written, a model
saved from Python is one `stance evaluate` accepts, and evaluation never loads a model twice."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Use from Python"):]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_readme_python_snippet_runs_as_written(trained_model, stance_home_dir, tmp_path):
    """The snippet loads the default model: the test's small model is copied there."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(stance_home_dir / "encoders", home / "encoders")
    shutil.copytree(trained_model, home / "models" / "default")
    result = subprocess.run([sys.executable, "-c", readme_snippet()], cwd=REPO, capture_output=True, text=True,
                            env={"STANCE_HOME": str(home), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("0 34 Beijing called the order bullying.") and lines[1].startswith("35 ")
    assert lines[-1].endswith("['heldout', 'dev_selection', 'dev_reporting']")


def test_tag_gives_rows_whose_dict_is_the_cli_row(trained_model):
    from stance import StanceTagger, TaggedSentence

    tagger = StanceTagger.from_pretrained(trained_model)
    text = "Washington calls TikTok a threat to national security.\n\nByteDance denies sharing any data."
    rows = tagger.tag(text)
    assert [text[r.start:r.end] for r in rows] == [r.text for r in rows] and len(rows) == 2
    assert all(r.article == "text" and TaggedSentence.from_dict(r.to_dict()) == r for r in rows)
    batch = tagger.tag([text, ""], ids=["a", "b"])
    assert [[r.to_dict() for r in rows] for rows in batch] == [[{**r.to_dict(), "article": "a"} for r in rows], []]
    with pytest.raises(Exception, match="one id per text"):
        tagger.tag([text], ids=["a", "b"])


def test_a_model_saved_from_python_is_evaluated_by_the_cli(trained_model, small_corpus, tmp_path):
    """save_pretrained writes what from_pretrained and `stance evaluate` read, marker included; the
    baselines missing from it are refitted on the corpus."""
    from stance import StanceTagger, evaluate, load_corpus
    from stance.bundle import MARKER_NAME

    tagger = StanceTagger.from_pretrained(trained_model)
    saved = tagger.save_pretrained(tmp_path / "copy")
    assert (saved / MARKER_NAME).is_file()
    again = StanceTagger.from_pretrained(saved)
    text = "Beijing denies the accusations of spying."
    assert again.tag(text) == tagger.tag(text)
    report = evaluate(again, load_corpus(small_corpus))
    assert [s.name for s in report] == ["heldout"] and set(report["heldout"].systems) == {"model", "tfidf", "majority"}
    result = subprocess.run([sys.executable, "-m", "stance.cli", "evaluate", "--model", str(saved), "--corpus",
                             str(small_corpus), "--json", str(tmp_path / "figures.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    import json

    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    assert figures["heldout"]["model"]["macro_f1"] == report["heldout"].model["macro_f1"]
    assert "confusion matrix" in result.stdout


def test_cross_validation_with_nothing_to_cross_validate_says_so(tmp_path, small_corpus):
    """A corpus of written examples only has no annotated story to leave out."""
    import shutil

    from stance import StanceError, load_corpus
    from stance.config import TrainConfig
    from stance.evaluation import cross_validate

    corpus = tmp_path / "examples-only"
    shutil.copytree(small_corpus, corpus)
    (corpus / "spans.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(StanceError, match="nothing to cross-validate"):
        cross_validate(load_corpus(corpus), TrainConfig(), lambda rows: {})
