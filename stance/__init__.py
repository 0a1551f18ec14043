"""stance: tag every sentence of news articles with who speaks and what stance they take.

The public API is re-exported here lazily, so ``import stance`` (and the CLI's ``--help``) does
not import torch or transformers until a model is actually used::

    from stance import StanceTagger, load_corpus, train, evaluate
    tagger = train(load_corpus("annotations"))        # or StanceTagger.from_pretrained("path/to/model")
    rows = tagger.tag("Beijing called the order bullying.")
    report = evaluate(tagger, load_corpus("annotations"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .agreement import measure_agreement
    from .baselines import MajorityBaseline, TfidfBaseline
    from .config import TrainConfig
    from .corpus import Corpus, load_corpus, validate_corpus
    from .dataset import sentence_table
    from .encoder import base_encoder_dir
    from .errors import StanceError
    from .evaluation import cross_validate, evaluate_systems
    from .importing import import_annotations
    from .interchange import export_doccano, export_label_studio
    from .model import StanceTagger
    from .pipeline import EvaluationReport, Section, TrainReport, evaluate, train, train_and_save
    from .predict import collect_documents, tag_documents
    from .records import Article, Example, Position, Reported, Sentence, Span, TaggedSentence
    from .schema import Schema
    from .segment import split_sentences
    from .training import fit_tagger

_EXPORTS = {
    "Article": "records", "Example": "records", "Position": "records", "Sentence": "records", "Span": "records",
    "Reported": "records", "TaggedSentence": "records",
    "Schema": "schema", "TrainConfig": "config",
    "Corpus": "corpus", "load_corpus": "corpus", "validate_corpus": "corpus",
    "split_sentences": "segment", "sentence_table": "dataset",
    "StanceTagger": "model", "fit_tagger": "training",
    "train": "pipeline", "evaluate": "pipeline", "train_and_save": "pipeline",
    "EvaluationReport": "pipeline", "Section": "pipeline", "TrainReport": "pipeline",
    "MajorityBaseline": "baselines", "TfidfBaseline": "baselines",
    "tag_documents": "predict", "collect_documents": "predict",
    "evaluate_systems": "evaluation", "cross_validate": "evaluation",
    "export_doccano": "interchange", "export_label_studio": "interchange", "import_annotations": "importing",
    "measure_agreement": "agreement", "base_encoder_dir": "encoder",
    "StanceError": "errors",
}

__all__ = [
    "Article", "Corpus", "EvaluationReport", "Example", "MajorityBaseline", "Position", "Reported", "Schema",
    "Section", "Sentence", "Span", "StanceError", "StanceTagger", "TaggedSentence", "TfidfBaseline", "TrainConfig",
    "TrainReport", "base_encoder_dir", "collect_documents", "cross_validate", "evaluate", "evaluate_systems",
    "export_doccano", "export_label_studio", "fit_tagger", "import_annotations", "load_corpus",
    "measure_agreement", "sentence_table", "split_sentences", "tag_documents", "train", "train_and_save",
    "validate_corpus",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
