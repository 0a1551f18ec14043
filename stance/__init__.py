"""stance: tag every sentence of news articles with who speaks and what stance they take.

The public API is re-exported here lazily, so ``import stance`` (and the CLI's ``--help``) does
not import torch or transformers until a model is actually used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Article": "records", "Example": "records", "Position": "records", "Sentence": "records", "Span": "records",
    "Schema": "schema", "TrainConfig": "config",
    "Corpus": "corpus", "load_corpus": "corpus", "validate_corpus": "corpus",
    "split_sentences": "segment", "sentence_table": "dataset",
    "StanceTagger": "model", "fit_tagger": "train", "train_model": "train", "load_systems": "train",
    "MajorityBaseline": "baselines", "TfidfBaseline": "baselines",
    "tag_documents": "predict", "collect_documents": "predict",
    "evaluate_model": "evaluate", "evaluate_systems": "evaluate", "cross_validate": "evaluate",
    "export_doccano": "interchange", "export_label_studio": "interchange", "import_annotations": "importing",
    "measure_agreement": "agreement", "base_encoder_dir": "encoder",
    "StanceError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
