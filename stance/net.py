"""The network: a pretrained encoder, mean pooling, a multi-label stance head and a speaker head.

The speaker head predicts, for every stance, who holds it (a softmax over the schema's speakers),
so one sentence can carry an accusation by one stakeholder and its denial by another; a learned weight
per stance adds the speaker of the holder the attribution gives that stance to its logits.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from .config import TrainConfig
from .errors import ModelError
from .features import ATTRIBUTION_FLAGS
from .schema import Schema


class StanceNet(nn.Module):
    """Encoder plus two heads. The stance head reads the sentence vector and ``stance_extra``
    features (cue words, attribution); the speaker head reads it with ``speaker_extra`` (aliases
    named, attribution), so who *says* a sentence can outweigh who it *mentions*."""

    def __init__(self, encoder: nn.Module, n_stances: int, n_speakers: int, dropout: float,
                 stance_extra: int = 0, speaker_extra: int = 0, stance_hidden: int = 0, holder_weight: float | None = None) -> None:
        super().__init__()
        hidden = self.hidden_size = int(cast(Any, encoder).config.hidden_size)
        self.encoder = encoder
        self.n_stances, self.n_speakers = n_stances, n_speakers
        self.dropout = nn.Dropout(dropout)
        width = hidden + stance_extra
        self.stance_head: nn.Module = (
            nn.Linear(width, n_stances) if stance_hidden == 0 else
            nn.Sequential(nn.Linear(width, stance_hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(stance_hidden, n_stances)))
        self.speaker_head = nn.Linear(hidden + speaker_extra, n_stances * n_speakers)
        #: Per stance, how far the attributed holder's speaker is preferred: the attribution is the main
        #: evidence of who holds a position, the sentence vector and the mentions refine it.
        self.holder_weight = None if holder_weight is None else nn.Parameter(torch.full((n_stances,), holder_weight))

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean of the last hidden states over real tokens: the pooling e5 was trained with."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled: torch.Tensor = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return pooled

    def heads(self, pooled: torch.Tensor, stance_extra: torch.Tensor, speaker_extra: torch.Tensor,
              holders: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stance logits ``(n, S)`` and speaker logits ``(n, S, K)``; ``holders`` is the attribution's
        speaker per stance (:func:`stance.features.holder_matrix`)."""
        pooled = self.dropout(pooled)
        stance_logits = self.stance_head(torch.cat([pooled, stance_extra], dim=-1))
        speaker_logits = self.speaker_head(torch.cat([pooled, speaker_extra], dim=-1)).view(-1, self.n_stances, self.n_speakers)
        if self.holder_weight is not None:
            speaker_logits = speaker_logits + self.holder_weight[:, None] * holders
        return stance_logits, speaker_logits

    def head_parameters(self) -> list[nn.Parameter]:
        extra = [] if self.holder_weight is None else [self.holder_weight]
        return [*self.stance_head.parameters(), *self.speaker_head.parameters(), *extra]

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
                     stance_extra, speaker_extra, config.stance_hidden,
                     holder_weight=config.holder_weight if config.attribution else None)


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
