"""The tagger: a pretrained encoder, mean pooling, a multi-label stance head and a speaker head.

The speaker head predicts, for every stance, who holds it (a softmax over the schema's speakers),
so one sentence can carry an accusation by one stakeholder and its denial by another.

A saved model stores only what training changed (heads, and the top encoder layers when they were
fine-tuned) plus the sha256 of the base encoder: the frozen 250k-token embedding matrix is loaded
from the verified base instead of being copied into every model directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import __version__
from .attribution import Attribution, attribute
from .baselines import TfidfBaseline, load_baseline
from .calibration import Calibration
from .config import TrainConfig
from .device import native_bfloat16
from .encoder import BASE_ENCODER_NAME, base_encoder_dir, load_encoder_model, load_tokenizer, weights_sha256
from .errors import ModelError, UsageError
from .features import ATTRIBUTION_FLAGS, alias_patterns, attribution_matrix, cue_patterns, matches
from .io import loads, write_json
from .outputs import check_parent
from .records import Sentence
from .schema import Schema

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "training_config.json"
SCHEMA_NAME = "schema.json"
ENCODER_INFO_NAME = "encoder.json"
METRICS_NAME = "metrics.json"
CARD_NAME = "README.md"
CALIBRATION_NAME = "calibration.json"
#: The baselines trained beside the model; the TF-IDF one is also part of the model's blend.
BASELINES_DIR = "baselines"
TFIDF_DIR = f"{BASELINES_DIR}/tfidf"
REQUIRED_FILES = (WEIGHTS_NAME, CONFIG_NAME, SCHEMA_NAME, ENCODER_INFO_NAME, "tokenizer.json")
#: Written into every model folder: what makes a folder ours to replace (``stance train --output``).
MARKER_NAME = "stance-model.json"
MARKER = {"format": "stance-model", "format_version": 1, "stance_version": __version__}


class StanceNet(nn.Module):
    """Encoder plus two heads. The stance head reads the sentence vector and ``stance_extra``
    features (cue words, attribution); the speaker head reads it with ``speaker_extra`` (aliases
    named, attribution), so who *says* a sentence can outweigh who it *mentions*."""

    def __init__(self, encoder: nn.Module, n_stances: int, n_speakers: int, dropout: float,
                 stance_extra: int = 0, speaker_extra: int = 0, stance_hidden: int = 0) -> None:
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.n_stances, self.n_speakers = n_stances, n_speakers
        self.dropout = nn.Dropout(dropout)
        width = hidden + stance_extra
        self.stance_head: nn.Module = (
            nn.Linear(width, n_stances) if stance_hidden == 0 else
            nn.Sequential(nn.Linear(width, stance_hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(stance_hidden, n_stances)))
        self.speaker_head = nn.Linear(hidden + speaker_extra, n_stances * n_speakers)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean of the last hidden states over real tokens: the pooling e5 was trained with."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def heads(self, pooled: torch.Tensor, stance_extra: torch.Tensor,
              speaker_extra: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.dropout(pooled)
        stance_logits = self.stance_head(torch.cat([pooled, stance_extra], dim=-1))
        speaker_logits = self.speaker_head(torch.cat([pooled, speaker_extra], dim=-1))
        return stance_logits, speaker_logits.view(-1, self.n_stances, self.n_speakers)

    def head_parameters(self) -> list[nn.Parameter]:
        return [*self.stance_head.parameters(), *self.speaker_head.parameters()]

    def trained_parameter_names(self, trainable_layers: int) -> list[str]:
        """Names of the tensors training changes, i.e. what a model directory must store."""
        layers = encoder_layers(self.encoder)
        tuned = {f"encoder.{prefix}" for prefix in _layer_prefixes(self.encoder, layers, trainable_layers)}
        return [name for name, _ in self.named_parameters()
                if not name.startswith("encoder.") or any(name.startswith(p) for p in tuned)]


def feature_widths(schema: Schema, config: TrainConfig) -> tuple[int, int]:
    """Widths of the stance and speaker heads' extra features under a config."""
    attribution = len(schema.speakers) + len(ATTRIBUTION_FLAGS) if config.attribution else 0
    stance = (len(schema.stances) if config.stance_cues else 0) + attribution
    speaker = (len(schema.speakers) if config.speaker_cues else 0) + attribution
    return stance, speaker


def build_net(encoder: nn.Module, schema: Schema, config: TrainConfig) -> StanceNet:
    """Heads sized for this schema and config on an encoder, initialised under the current seed."""
    stance_extra, speaker_extra = feature_widths(schema, config)
    return StanceNet(encoder, len(schema.stances), len(schema.speakers), config.dropout,
                     stance_extra, speaker_extra, config.stance_hidden)


def encoder_layers(encoder: nn.Module) -> nn.ModuleList | None:
    """The transformer blocks of BERT/XLM-R-style encoders (``encoder.layer``), if the model has them."""
    inner = getattr(encoder, "encoder", None)
    layers = getattr(inner, "layer", None)
    return layers if isinstance(layers, nn.ModuleList) else None


def _layer_prefixes(encoder: nn.Module, layers: nn.ModuleList | None, count: int) -> list[str]:
    if count == 0:
        return []
    if layers is None or count > len(layers):
        raise ModelError(
            f"trainable_layers = {count}, but this encoder exposes "
            f"{0 if layers is None else len(layers)} fine-tunable layers (encoder.layer); lower trainable_layers"
        )
    return [f"encoder.layer.{i}." for i in range(len(layers) - count, len(layers))]


PRECISIONS = ("auto", "float32", "bfloat16")
#: Sentences per forward pass: on 2-4 cores, 32 balances matrix sizes against padding.
BATCH_SIZE = 32


class StanceTagger:
    """Predicts, for each sentence, one probability per stance and who holds each stance.

    Answers to the same ``predict_all`` / ``predict_article`` contract as the baselines. Stance
    probabilities are the network's, blended with the TF-IDF model's (``tfidf_weight``), then
    calibrated per stance when the model carries a :class:`Calibration` (whose thresholds decide
    what is reported). Training and evaluation run in float32; tagging may run the encoder in
    bfloat16 where the hardware has native support (``set_precision``). The network runs on
    ``device`` (:meth:`to`); features, TF-IDF and calibration stay on the CPU.
    """

    def __init__(self, net: StanceNet, tokenizer: Any, schema: Schema, config: TrainConfig,
                 encoder_info: dict[str, Any], tfidf: TfidfBaseline | None = None,
                 calibration: Calibration | None = None) -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.schema = schema
        self.config = config
        self.encoder_info = encoder_info
        self.tfidf = tfidf
        self.calibration = calibration
        self.precision = "float32"
        self.device = torch.device("cpu")
        self.batch_size = BATCH_SIZE
        self._aliases = alias_patterns(schema)
        self._cues = cue_patterns(schema)

    def to(self, device: torch.device | str) -> StanceTagger:
        self.net.to(device)
        self.device = torch.device(device)
        return self

    def set_precision(self, precision: str) -> str:
        """Choose the encoder's inference precision; ``auto`` is bfloat16 only where it is native."""
        if precision not in PRECISIONS:
            raise UsageError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        self.precision = ("bfloat16" if native_bfloat16(self.device) else "float32") if precision == "auto" else precision
        return self.precision

    def tag(self, documents: Iterable[Any], threshold: Any = None, done: Mapping[str, int] | None = None) -> Iterator[Any]:
        """:func:`stance.predict.tag_documents` with this tagger: the call pools of taggers answer too."""
        from .predict import tag_documents

        return tag_documents(self, documents, threshold, done=done)

    @property
    def stances(self) -> list[str]:
        return self.schema.stance_names

    @property
    def speakers(self) -> list[str]:
        return self.schema.speaker_names

    @property
    def thresholds(self) -> np.ndarray:
        """Per-stance decision thresholds on the scores ``predict_all`` returns."""
        if self.calibration is not None:
            return np.asarray(self.calibration.thresholds, np.float32)
        return np.full(len(self.stances), self.config.threshold, np.float32)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per sentence, unpadded, so batches can be padded to their own longest."""
        prefixed = [self.config.text_prefix + text for text in texts]
        return self.tokenizer(prefixed, truncation=True, max_length=self.config.max_length)["input_ids"]

    def attribute(self, text: str, sentences: Sequence[Sentence], language: str | None = None) -> list[Attribution]:
        """Who speaks in each sentence, read over the whole article (see :mod:`stance.attribution`)."""
        return attribute(text, sentences, self.schema, language)

    def extras(self, texts: Sequence[str], attributions: Sequence[Attribution] | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The heads' extra features; sentences without an article are attributed on their own."""
        if attributions is None:
            attributions = [attribute(t, [Sentence(0, len(t), t)], self.schema)[0] for t in texts]
        blocks: dict[str, list[np.ndarray]] = {"stance": [], "speaker": []}
        if self.config.stance_cues:
            blocks["stance"].append(matches(texts, self._cues))
        if self.config.speaker_cues:
            blocks["speaker"].append(matches(texts, self._aliases))
        if self.config.attribution:
            matrix = attribution_matrix(attributions, self.schema)
            blocks["stance"].append(matrix)
            blocks["speaker"].append(matrix)
        empty = np.zeros((len(texts), 0), np.float32)
        stance, speaker = (torch.from_numpy(np.concatenate(blocks[k] or [empty], axis=1)) for k in ("stance", "speaker"))
        return stance, speaker

    def embed(self, token_ids: Sequence[Sequence[int]], batch_size: int | None = None) -> torch.Tensor:
        """Pooled sentence vectors, computed in length-sorted batches with dynamic padding."""
        batch_size = batch_size or self.batch_size
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        pooled = torch.empty(len(token_ids), self.net.encoder.config.hidden_size)
        reduced = self.precision == "bfloat16"
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=reduced):
            for first in range(0, len(order), batch_size):
                chunk = order[first:first + batch_size]
                pooled[chunk] = self.net.embed(*self.pad([token_ids[i] for i in chunk])).float().cpu()
        return pooled

    def pad(self, rows: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids padded to the longest row, and the attention mask, on the network's device."""
        width = max(len(row) for row in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = torch.tensor(row)
            mask[index, : len(row)] = 1
        return ids.to(self.device), mask.to(self.device)

    def predict_all(self, texts: Sequence[str], attributions: Sequence[Attribution] | None = None,
                    batch_size: int | None = None, calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Stance scores ``(n, S)`` and speaker probabilities per stance ``(n, S, K)``.

        ``attributions`` come from :meth:`attribute` over the sentences' article; without them each
        sentence is read on its own (a quote continued from an earlier sentence is then unknown).
        ``calibrated=False`` gives the blended probabilities before calibration (for measuring it).
        """
        if not texts:
            return np.zeros((0, len(self.stances)), np.float32), np.zeros((0, len(self.stances), len(self.speakers)), np.float32)
        pooled = self.embed(self.tokenize(texts), batch_size)
        return self.predict_pooled(pooled, texts, attributions, calibrated)

    def predict_pooled(self, pooled: torch.Tensor, texts: Sequence[str], attributions: Sequence[Attribution] | None,
                       calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_all` from sentence vectors already computed (training reuses them)."""
        stance_extra, speaker_extra = self.extras(texts, attributions)
        with torch.inference_mode():
            stance_logits, speaker_logits = self.net.heads(*(t.to(self.device) for t in (pooled, stance_extra, speaker_extra)))
            stance = torch.sigmoid(stance_logits).cpu().numpy()
            speakers = torch.softmax(speaker_logits, dim=-1).cpu().numpy()
        if self.tfidf is not None:
            weight = self.config.tfidf_weight
            stance = ((1.0 - weight) * stance + weight * self.tfidf.predict_proba(texts)).astype(np.float32)
        if calibrated and self.calibration is not None:
            stance = self.calibration.apply(stance)
        return stance, speakers

    def predict_article(self, text: str, sentences: Sequence[Sentence], language: str | None = None,
                        calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Scores of an article's sentences, attributed over the whole article."""
        return self.predict_all([s.text for s in sentences], self.attribute(text, sentences, language),
                                calibrated=calibrated)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_all(texts)[0]

    def predict_speaker_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_all(texts)[1]

    def save_pretrained(self, directory: str | Path, metrics: dict[str, Any] | None = None, card: str = "") -> None:
        """Write the model into an existing, empty directory (callers make it atomic)."""
        from safetensors.torch import save_file

        directory = Path(directory)
        names = set(self.net.trained_parameter_names(self.config.trainable_layers))
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items() if k in names}
        save_file(tensors, str(directory / WEIGHTS_NAME), metadata={"format": "pt"})
        write_json(directory / MARKER_NAME, MARKER)
        write_json(directory / CONFIG_NAME, self.config.to_dict())
        write_json(directory / SCHEMA_NAME, self.schema.to_dict())
        write_json(directory / ENCODER_INFO_NAME, self.encoder_info)
        if self.tfidf is not None:
            self.tfidf.save(directory / TFIDF_DIR)
        if self.calibration is not None:
            write_json(directory / CALIBRATION_NAME, self.calibration.to_dict())
        if metrics is not None:
            write_json(directory / METRICS_NAME, metrics)
        self.tokenizer.save_pretrained(str(directory))
        (directory / CARD_NAME).write_text(card, encoding="utf-8")

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> StanceTagger:
        """Restore the exact predictor; only JSON and safetensors are read (never pickle)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        directory = Path(directory)
        check_model_dir(directory)
        config = TrainConfig.from_dict(_read_json(directory / CONFIG_NAME), str(directory / CONFIG_NAME))
        schema = Schema.from_dict(_read_json(directory / SCHEMA_NAME), str(directory / SCHEMA_NAME))
        info = _read_json(directory / ENCODER_INFO_NAME)
        tfidf = load_baseline(directory / TFIDF_DIR) if config.tfidf_weight > 0 else None
        calibration = None
        if config.calibration_folds:
            try:
                calibration = Calibration.from_dict(_read_json(directory / CALIBRATION_NAME))
            except (OSError, KeyError, TypeError, ValueError) as exc:
                raise ModelError(f"{directory / CALIBRATION_NAME}: missing or corrupted ({exc}); retrain with `stance train`") from None
        encoder = load_encoder_model(resolve_base(info, directory))  # its tokenizer is the model's own
        tokenizer = load_tokenizer(directory)
        net = build_net(encoder, schema, config)
        try:
            tensors = load_file(str(directory / WEIGHTS_NAME))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelError(f"{directory / WEIGHTS_NAME}: corrupted weights ({exc}); retrain with `stance train`") from None
        expected = set(net.trained_parameter_names(config.trainable_layers))
        if not all(bool(torch.isfinite(t).all()) for t in tensors.values()):
            raise ModelError(f"{directory / WEIGHTS_NAME}: holds non-finite weights (training diverged); "
                             f"retrain with a lower learning_rate")
        if set(tensors) != expected:
            raise ModelError(f"{directory / WEIGHTS_NAME}: holds {len(tensors)} tensors, expected {len(expected)} "
                             f"for this config; the directory is inconsistent, retrain with `stance train`")
        try:
            net.load_state_dict(tensors, strict=False)
        except RuntimeError as exc:
            raise ModelError(f"{directory / WEIGHTS_NAME}: tensors do not fit the model ({str(exc).splitlines()[0]})") from None
        return cls(net, tokenizer, schema, config, info, tfidf, calibration)


def encoder_info_for(path: Path, builtin: bool) -> dict[str, Any]:
    """What a saved model records to find and verify its base encoder again."""
    return {"name": BASE_ENCODER_NAME if builtin else str(path.resolve()), "builtin": builtin,
            "sha256": weights_sha256(path)}


def resolve_base(info: dict[str, Any], directory: Path) -> Path:
    """The base encoder folder a model was trained on, verified by the sha256 of its weights."""
    path = base_encoder_dir() if info.get("builtin") else Path(str(info.get("name")))
    if not path.is_dir():
        raise ModelError(f"{directory}: base encoder {path} not found; it must be the checkpoint the model was trained on")
    actual = weights_sha256(path)
    if actual != info.get("sha256"):
        raise ModelError(f"{directory}: base encoder {path} has sha256 {actual[:12]}…, the model expects "
                         f"{str(info.get('sha256'))[:12]}…; use the encoder it was trained on or retrain")
    return path


def check_model_dir(directory: Path) -> None:
    """Fail fast, before anything heavy loads, when a model directory is missing or incomplete."""
    if not directory.exists():
        raise ModelError(f"{directory}: no model here; train one with `stance train --output {directory}`")
    if not directory.is_dir():
        raise ModelError(f"{directory}: is a file; expected a model directory written by `stance train`")
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise ModelError(f"{directory}: not a complete model directory (missing {', '.join(missing)}); retrain with `stance train`")


def check_model_output(directory: str | Path) -> Path:
    """Where a model may be written, checked before any training: a new path, an empty folder or
    a model folder (ours to replace). Anything else is somebody's data, which replacing would
    delete, so it is refused. Returns the folder with symlinks resolved."""
    given = os.fspath(directory)
    target = Path(os.path.realpath(given))
    if target == Path.cwd():
        raise UsageError(f"{given}: is the current folder; give the model its own folder, such as models/mine")
    check_parent(target, given, "--output")
    if not target.exists():
        return target
    if not target.is_dir():
        raise UsageError(f"{given}: is a file; expected a folder for the model (a new path, an empty folder "
                         f"or a model written by `stance train`)")
    entries = sorted(os.listdir(target))
    if not entries or MARKER_NAME in entries or set(REQUIRED_FILES) <= set(entries):
        return target
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    raise UsageError(f"{given}: is a folder that is not a stance model (it holds {shown}), and training would "
                     f"replace it; choose a new or empty folder, or remove this one yourself")


def _read_json(path: Path) -> Any:
    try:
        return loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: corrupted ({exc}); retrain with `stance train`") from None
