"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from stance.home import HOME_ENV


@pytest.fixture(scope="session", autouse=True)
def stance_home_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point STANCE_HOME at a per-session folder, so tests never read or fill the user's cache."""
    home = tmp_path_factory.mktemp("stance_home")
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    yield home
    if previous is None:
        os.environ.pop(HOME_ENV, None)
    else:
        os.environ[HOME_ENV] = previous


@pytest.fixture(scope="session")
def base_encoder(stance_home_dir: Path) -> Path:
    """The converted multilingual-e5-small folder, built once per session (a few seconds)."""
    from stance.encoder import base_encoder_dir

    return base_encoder_dir()


ANNOTATIONS = Path(__file__).resolve().parents[1] / "annotations"
#: Training settings for the shared test model: the real recipe, fewer epochs.
QUICK = {"epochs": 8, "seed": 7}


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built-in corpus cut down for speed: two training articles, a third held out,
    and the first 80 written examples (the real held-out article is not needed by these tests)."""
    import json
    import shutil

    root = tmp_path_factory.mktemp("corpus")
    (root / "articles").mkdir()
    keep = ("igen-fr", "frtech-fr", "nyt-en")
    for name in ("schema.json",):
        shutil.copy(ANNOTATIONS / name, root / name)
    for aid in keep:
        shutil.copy(ANNOTATIONS / "articles" / f"{aid}.txt", root / "articles")
    meta = [line for line in (ANNOTATIONS / "articles.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(line)["id"] in keep]
    (root / "articles.jsonl").write_text("\n".join(meta) + "\n", encoding="utf-8")
    spans = [line for line in (ANNOTATIONS / "spans.jsonl").read_text(encoding="utf-8").splitlines()
             if json.loads(line)["article"] in keep]
    (root / "spans.jsonl").write_text("\n".join(spans) + "\n", encoding="utf-8")
    examples = (ANNOTATIONS / "examples.jsonl").read_text(encoding="utf-8").splitlines()[:80]
    (root / "examples.jsonl").write_text("\n".join(examples) + "\n", encoding="utf-8")
    (root / "split.json").write_text('{"heldout": ["nyt-en"]}\n', encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def trained_model(base_encoder: Path, small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small model shared by every test that needs a trained tagger."""
    from stance.config import TrainConfig
    from stance.corpus import load_corpus
    from stance.pipeline import train_and_save

    output = tmp_path_factory.mktemp("models") / "small"
    train_and_save(load_corpus(small_corpus), TrainConfig(**QUICK), output)
    return output


@pytest.fixture(scope="session")
def tiny_encoder(base_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer BERT with the real tokenizer, saved as a local safetensors checkpoint.

    It exercises ``--encoder`` (any local Hugging Face checkpoint) and keeps the tests that push
    megabytes of text through the whole CLI fast; its answers are meaningless by design.
    """
    import torch
    from transformers import BertConfig, BertModel

    from stance.encoder import load_tokenizer

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-encoder")
    vocab = BertConfig.from_pretrained(base_encoder).vocab_size
    config = BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=514, pad_token_id=1)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    load_tokenizer(base_encoder).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_model(tiny_encoder: Path, small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model on the tiny encoder: for input-robustness tests where only the plumbing matters."""
    from stance.config import TrainConfig
    from stance.corpus import load_corpus
    from stance.pipeline import train_and_save

    output = tmp_path_factory.mktemp("models") / "tiny"
    train_and_save(load_corpus(small_corpus), TrainConfig(encoder=str(tiny_encoder), epochs=2), output)
    return output


# Property-based tests replay the same examples on every run and machine, so CI is repeatable.
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("repeatable")
