"""Fitting the tagger and its baselines on a corpus, deterministically under a seed.

With a frozen encoder (``trainable_layers = 0``) sentence vectors are computed once and only the
heads train, which is identical to running the encoder every step and takes seconds; with
``trainable_layers > 0`` the top layers are fine-tuned on every batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .attribution import attribute
from .baselines import MajorityBaseline, TfidfBaseline
from .bundle import encoder_info_for
from .calibration import Calibration, fit_calibration
from .config import TrainConfig
from .corpus import Corpus
from .dataset import EXAMPLES_ID, SentenceRow, article_rows, label_arrays, positions_of, row_attributions, written_rows
from .device import resolve_device
from .encoder import base_encoder_dir, load_encoder
from .errors import StanceError
from .model import StanceTagger
from .net import StanceNet, build_net, encoder_layers
from .records import Attribution, Position, Sentence
from .schema import Schema

#: Reports ``(what, done, total)`` for progress bars; library code never prints.
Progress = Callable[[str, int, int], None]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Torch's random state set to ``seed`` inside and given back after, so training is
    reproducible without the library changing the caller's random streams."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def new_tagger(schema: Schema, config: TrainConfig, device: str = "cpu") -> StanceTagger:
    """An untrained tagger on the config's encoder, heads initialised from torch's random state
    (:func:`fit_tagger` seeds it) on the CPU, then moved to ``device``, so a seed gives the same start
    on every device."""
    base = Path(config.encoder) if config.encoder else base_encoder_dir()
    tokenizer, encoder = load_encoder(base)
    return StanceTagger(build_net(encoder, schema, config), tokenizer, schema, config,
                        encoder_info_for(base, builtin=config.encoder is None)).to(resolve_device(device))


@dataclass(frozen=True)
class TrainingSet:
    """Sentences with their gold positions, who speaks in each, and the group each belongs to
    (its article, passage or example), so out-of-fold splits never cut an article in two."""

    texts: list[str]
    labels: list[list[Position]]
    attributions: list[Attribution]
    groups: list[str]

    @classmethod
    def from_rows(cls, rows: Sequence[SentenceRow], corpus: Corpus) -> TrainingSet:
        return cls([row["text"] for row in rows], [positions_of(row) for row in rows], row_attributions(rows, corpus),
                   [f"{row['article']}/{row['index']}" if row["article"] == EXAMPLES_ID else row["article"] for row in rows])

    @classmethod
    def from_texts(cls, texts: Sequence[str], labels: Sequence[Sequence[Position]], schema: Schema) -> TrainingSet:
        """Standalone sentences: each is its own article and its own group."""
        attributions = [attribute(text, [Sentence(0, len(text), text)], schema)[0] for text in texts]
        return cls(list(texts), [list(p) for p in labels], attributions, [str(i) for i in range(len(texts))])

    def subset(self, keep: Sequence[int]) -> TrainingSet:
        return TrainingSet([self.texts[i] for i in keep], [self.labels[i] for i in keep],
                           [self.attributions[i] for i in keep], [self.groups[i] for i in keep])


def fit_tagger(data: TrainingSet, schema: Schema, config: TrainConfig, progress: Progress | None = None,
               pooled: torch.Tensor | None = None, device: str = "cpu") -> StanceTagger:
    """Train a tagger on sentences and their gold positions (``[]`` for none).

    The heads train on frozen sentence vectors (computed once; ``pooled`` may pass them in, so
    recipes compare without re-encoding), the top layers are fine-tuned after when the config asks,
    the TF-IDF model joins the blend, and out-of-fold predictions fit the calibration.
    """
    if not data.texts:
        raise StanceError("no training sentences: add spans or examples.jsonl to the corpus")
    with seeded(config.seed):
        return _fit_tagger(data, schema, config, progress, pooled, device)


def _fit_tagger(data: TrainingSet, schema: Schema, config: TrainConfig, progress: Progress | None,
                pooled: torch.Tensor | None, device: str) -> StanceTagger:
    tagger = new_tagger(schema, config, device)
    net = tagger.net
    token_ids = tagger.tokenize(data.texts)
    vectors = pooled if pooled is not None else tagger.embed(token_ids)
    folds = _fold_of(data.groups, config) if config.calibration_folds else None
    tuned = _unfreeze_top_layers(net, config.trainable_layers)
    steps = (config.epochs * (1 + (config.calibration_folds if folds is not None else 0))
             + (config.finetune_epochs if tuned else 0)) * _steps(len(data.texts), config)
    counter = _Counter(progress, steps)
    _fit_heads(tagger, data, vectors, config, counter)
    if tuned:
        _finetune(tagger, data, token_ids, tuned, config, counter)
    if config.tfidf_weight > 0:
        tagger.tfidf = TfidfBaseline(schema.stance_names, schema.speaker_names).fit(data.texts, data.labels)
    if folds is not None:
        tagger.calibration = _calibrate(tagger, data, vectors, folds, config, counter)
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        raise StanceError(f"training diverged (the weights are no longer finite numbers) with learning_rate = "
                          f"{config.learning_rate}; lower it in the config file")
    return tagger


class _Counter:
    """Steps done, reported to the progress callback as ``training``."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def step(self) -> None:
        self.done += 1
        if self.progress:
            self.progress("training", self.done, self.total)


def _steps(n: int, config: TrainConfig) -> int:
    return (n + config.batch_size - 1) // config.batch_size


def _fit_heads(tagger: StanceTagger, data: TrainingSet, vectors: torch.Tensor, config: TrainConfig,
               counter: _Counter) -> None:
    """Stage 1: the heads on frozen vectors; dropout only in the heads."""
    net = tagger.net
    optimizer = torch.optim.AdamW(net.head_parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    extras = tagger.extras(data.texts, data.attributions)
    net.train()
    net.encoder.eval()
    _run(tagger, data, config.epochs, optimizer, counter, lambda batch: vectors[batch], extras)


def _finetune(tagger: StanceTagger, data: TrainingSet, token_ids: list[list[int]], tuned: list[nn.Parameter],
              config: TrainConfig, counter: _Counter) -> None:
    """Stage 2, only when layers are tuned: continues from the trained heads, so fine-tuning starts
    from a good probe, not from noise."""
    net = tagger.net
    optimizer = torch.optim.AdamW([{"params": net.head_parameters(), "lr": config.encoder_learning_rate * 10},
                                   {"params": tuned, "lr": config.encoder_learning_rate}],
                                  weight_decay=config.weight_decay)
    extras = tagger.extras(data.texts, data.attributions)
    net.train()
    net.encoder.eval()
    _run(tagger, data, config.finetune_epochs, optimizer, counter,
         lambda batch: net.embed(*tagger.pad([token_ids[i] for i in batch.tolist()])), extras)


def _run(tagger: StanceTagger, data: TrainingSet, epochs: int, optimizer: torch.optim.Optimizer, counter: _Counter,
         pooled_of: Callable[[torch.Tensor], torch.Tensor], extras: tuple[torch.Tensor, ...]) -> None:
    net, config, device = tagger.net, tagger.config, tagger.device
    stance_targets, speaker_targets = (torch.from_numpy(a).to(device) for a in label_arrays(data.labels, tagger.schema))
    positives = stance_targets.sum(0)
    pos_weight = ((len(data.texts) - positives).clamp(min=1) / positives.clamp(min=1)) ** config.class_balance
    stance_loss = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(epochs):
        order = torch.randperm(len(data.texts), generator=generator)
        for first in range(0, len(order), config.batch_size):
            batch = order[first:first + config.batch_size]
            stance_logits, speaker_logits = net.heads(*(t.to(device) for t in (pooled_of(batch), *(e[batch] for e in extras))))
            batch = batch.to(device)
            loss = stance_loss(stance_logits, stance_targets[batch]) + _speaker_loss(speaker_logits, speaker_targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            counter.step()


def _fold_of(groups: Sequence[str], config: TrainConfig) -> list[int]:
    """A fold per row: whole groups dealt round-robin in a seeded random order."""
    unique = sorted(set(groups))
    order = np.random.default_rng(config.seed).permutation(len(unique))
    fold = {unique[g]: rank % config.calibration_folds for rank, g in enumerate(order)}
    return [fold[g] for g in groups]


def _calibrate(tagger: StanceTagger, data: TrainingSet, vectors: torch.Tensor, folds: list[int], config: TrainConfig,
               counter: _Counter) -> Calibration:
    """Out-of-fold blended scores (fresh heads and TF-IDF per fold, on the frozen vectors), then
    Platt scaling and thresholds fitted on them."""
    schema = tagger.schema
    oof = np.zeros((len(data.texts), len(schema.stances)), np.float32)
    for fold in range(config.calibration_folds):
        train = [i for i, f in enumerate(folds) if f != fold]
        test = [i for i, f in enumerate(folds) if f == fold]
        if not train or not test:
            continue
        part = data.subset(train)
        with seeded(config.seed + 1 + fold):
            fold_tagger = StanceTagger(build_net(tagger.net.encoder, schema, config), tagger.tokenizer, schema,
                                       config, tagger.encoder_info).to(tagger.device)
            _fit_heads(fold_tagger, part, vectors[train], config, counter)
        fold_tagger.net.eval()
        if config.tfidf_weight > 0:
            fold_tagger.tfidf = TfidfBaseline(schema.stance_names, schema.speaker_names).fit(part.texts, part.labels)
        oof[test] = fold_tagger.predict_pooled(vectors[test], [data.texts[i] for i in test],
                                               [data.attributions[i] for i in test], calibrated=False)[0]
    return fit_calibration(oof, label_arrays(data.labels, schema)[0])


def _unfreeze_top_layers(net: StanceNet, count: int) -> list[nn.Parameter]:
    for parameter in net.encoder.parameters():
        parameter.requires_grad_(False)
    if count == 0:
        return []
    layers = encoder_layers(net.encoder)
    net.trained_parameter_names(count)  # raises a clear error when the encoder has too few layers
    assert layers is not None  # trained_parameter_names raised otherwise
    tuned = [p for layer in layers[len(layers) - count:] for p in layer.parameters()]
    for parameter in tuned:
        parameter.requires_grad_(True)
    return tuned


def _speaker_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over speakers, only where the stance is held (split between co-holders)."""
    held = targets.sum(-1)
    if not bool((held > 0).any()):
        return logits.sum() * 0.0
    log_probs = torch.log_softmax(logits, dim=-1)
    share = targets / held.clamp(min=1).unsqueeze(-1)
    return -(share * log_probs).sum() / (held > 0).sum()


def fit_systems(data: TrainingSet, schema: Schema, config: TrainConfig, progress: Progress | None = None,
                pooled: torch.Tensor | None = None, device: str = "cpu") -> dict[str, Any]:
    """The model and both baselines, trained on the same sentences (the model's TF-IDF part is
    the TF-IDF baseline itself, so the two can never drift apart)."""
    stances, speakers = schema.stance_names, schema.speaker_names
    model = fit_tagger(data, schema, config, progress, pooled, device)
    return {
        "model": model,
        "tfidf": model.tfidf or TfidfBaseline(stances, speakers).fit(data.texts, data.labels),
        "majority": MajorityBaseline(stances, speakers).fit(data.texts, data.labels),
    }


def cached_fitter(corpus: Corpus, config: TrainConfig,
                  cache: dict[str, torch.Tensor] | None = None) -> Callable[[Sequence[SentenceRow]], dict[str, Any]]:
    """``fit_systems`` over corpus rows that encodes each distinct sentence once, for the many fits
    of cross-validation and recipe comparison (the frozen vectors do not depend on the heads).
    ``cache`` may be shared between configs that use the same encoder and prefix."""
    vectors = {} if cache is None else cache
    encoder = new_tagger(corpus.schema, config)

    def fit(rows: Sequence[SentenceRow]) -> dict[str, Any]:
        texts = [row["text"] for row in rows]
        missing = [text for text in dict.fromkeys(texts) if text not in vectors]
        if missing:
            vectors.update(zip(missing, encoder.embed(encoder.tokenize(missing))))
        pooled = torch.stack([vectors[text] for text in texts])
        return fit_systems(TrainingSet.from_rows(rows, corpus), corpus.schema, config, pooled=pooled)

    return fit


def training_rows(corpus: Corpus, config: TrainConfig) -> tuple[list[SentenceRow], list[SentenceRow]]:
    """The article sentences and written sentences a model may learn from: never a held-out or
    development article, nor a translation of one (``Corpus.training_ids``)."""
    # Without any span the articles are not annotated yet: their sentences are unknown, not none.
    rows = article_rows(corpus, corpus.training_ids) if corpus.spans else []
    return rows, written_rows(corpus) if config.use_examples else []
