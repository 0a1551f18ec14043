"""Every hyperparameter in one typed record, loadable from JSON and saved beside the model."""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, UsageError
from .io import loads


@dataclass(frozen=True)
class TrainConfig:
    """How a tagger is trained. Defaults are the recipe chosen by leave-one-story-out CV (README)."""

    #: Local Hugging Face checkpoint (safetensors); ``None`` is the built-in multilingual-e5-small.
    encoder: str | None = None
    #: Prepended to every sentence: e5 models were trained with "query: " / "passage: " prefixes.
    text_prefix: str = "query: "
    max_length: int = 128
    #: Top encoder layers fine-tuned after the heads are trained; 0 keeps the encoder frozen.
    trainable_layers: int = 0
    #: Epochs of head training on frozen sentence vectors.
    epochs: int = 60
    #: Epochs of fine-tuning the top layers (with the heads) afterwards, when trainable_layers > 0.
    finetune_epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 3e-3
    encoder_learning_rate: float = 2e-5
    weight_decay: float = 1e-2
    dropout: float = 0.1
    #: Weight positive sentences of each stance by (negatives/positives) ** balance (0 = unweighted).
    class_balance: float = 0.5
    #: Train on ``examples.jsonl`` too (the ablation switch reported in the README).
    use_examples: bool = True
    #: Feed the speaker head a vector of which speakers' schema aliases occur in the sentence.
    speaker_cues: bool = True
    #: Feed the stance head a vector of which stances' schema cue words occur in the sentence.
    stance_cues: bool = True
    #: Feed both heads who the attribution step says is speaking (source speaker, quote, carried).
    attribution: bool = True
    #: Where the speaker head's weight on the attribution's holder of each stance starts (learned from
    #: there): the attribution is the main evidence of who holds a position, mentions refine it.
    #: ``None``: no such weight (models saved before it existed).
    holder_weight: float | None = 5.0
    #: Width of the stance head's hidden layer (0: a linear head on the features).
    stance_hidden: int = 256
    #: Weight of the TF-IDF baseline's stance probabilities in the model's (0: the network alone).
    tfidf_weight: float = 0.3
    #: Folds of out-of-fold predictions that fit per-stance calibration and thresholds (0: none,
    #: every stance at ``threshold``).
    calibration_folds: int = 5
    #: Probability at or above which a stance is reported when the model has no fitted thresholds.
    threshold: float = 0.5
    seed: int = 13

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "config") -> TrainConfig:
        """Build a config, rejecting unknown keys and wrong types with the field named."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object of training settings, got {type(data).__name__}")
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown setting(s) {unknown}; valid settings are {sorted(known)}")
        for key, value in data.items():
            if not _fits(value, hints[key]):
                raise ConfigError(f"{source}: {key} = {value!r} is not of type {_type_name(hints[key])}")
        config = cls(**data)
        config.check(source)
        return config

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        path = Path(path)
        if path.is_dir():
            raise UsageError(f"{path}: is a directory; expected a JSON config file")
        try:
            data = loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid UTF-8 at byte {exc.start}; save it as UTF-8") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected an object such as "
                              f"{{\"epochs\": 30}}") from None
        return cls.from_dict(data, str(path))

    def check(self, source: str = "config") -> None:
        """Reject values that would only fail minutes later inside torch, naming the value.

        Infinity and NaN pass every comparison that matters here yet train a useless model (and
        NaN scores are not JSON), so non-finite numbers are refused first.
        """
        for name, value in self.to_dict().items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{source}: {name} = {value} is not a finite number; "
                                  f"use a number such as {getattr(TrainConfig, name)}")
        rules = [
            (self.epochs >= 1, f"epochs = {self.epochs} must be at least 1"),
            (self.batch_size >= 1, f"batch_size = {self.batch_size} must be at least 1"),
            (8 <= self.max_length <= 512, f"max_length = {self.max_length} must be between 8 and 512 tokens"),
            (0.0 < self.threshold < 1.0, f"threshold = {self.threshold} must be between 0 and 1 (exclusive)"),
            (self.trainable_layers >= 0, f"trainable_layers = {self.trainable_layers} must be 0 or more"),
            (self.finetune_epochs >= 0, f"finetune_epochs = {self.finetune_epochs} must be 0 or more"),
            (self.learning_rate > 0, f"learning_rate = {self.learning_rate} must be positive"),
            (self.encoder_learning_rate > 0, f"encoder_learning_rate = {self.encoder_learning_rate} must be positive"),
            (self.weight_decay >= 0, f"weight_decay = {self.weight_decay} must be 0 or more"),
            (0.0 <= self.dropout < 1.0, f"dropout = {self.dropout} must be in [0, 1)"),
            (self.class_balance >= 0, f"class_balance = {self.class_balance} must be 0 or more"),
            (self.holder_weight is None or self.holder_weight >= 0,
             f"holder_weight = {self.holder_weight} must be 0 or more (or null for none)"),
            (self.stance_hidden >= 0, f"stance_hidden = {self.stance_hidden} must be 0 or more"),
            (0.0 <= self.tfidf_weight < 1.0, f"tfidf_weight = {self.tfidf_weight} must be in [0, 1)"),
            (self.calibration_folds == 0 or self.calibration_folds >= 2,
             f"calibration_folds = {self.calibration_folds} must be 0 (off) or at least 2"),
            (0 <= self.seed < 2**32, f"seed = {self.seed} must be between 0 and 2**32 - 1"),
        ]
        for ok, message in rules:
            if not ok:
                raise ConfigError(f"{source}: {message}; fix it in the config file or on the command line")


def _fits(value: Any, hint: Any) -> bool:
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    args = typing.get_args(hint)
    if args:
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
