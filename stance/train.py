"""Fitting the tagger and its baselines on a corpus, deterministically under a seed.

With a frozen encoder (``trainable_layers = 0``) sentence vectors are computed once and only the
heads train, which is identical to running the encoder every step and takes seconds; with
``trainable_layers > 0`` the top layers are fine-tuned on every batch.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .baselines import MajorityBaseline, TfidfBaseline, load_baseline
from .config import TrainConfig
from .corpus import EXAMPLES_FILE, SPLIT_FILE, Corpus
from .dataset import article_rows, example_rows, label_arrays, positions_of
from .encoder import base_encoder_dir, load_encoder
from .errors import StanceError
from .evaluate import evaluate_systems, heldout_rows, table_rows
from .io import atomic_directory
from .model import StanceNet, StanceTagger, check_model_output, encoder_info_for, encoder_layers
from .records import Position
from .schema import Schema

#: Reports ``(what, done, total)`` for progress bars; library code never prints.
Progress = Callable[[str, int, int], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def new_tagger(schema: Schema, config: TrainConfig) -> StanceTagger:
    """An untrained tagger on the config's encoder, heads initialised under the config's seed."""
    seed_everything(config.seed)
    base = Path(config.encoder) if config.encoder else base_encoder_dir()
    tokenizer, encoder = load_encoder(base)
    net = StanceNet(encoder, len(schema.stances), len(schema.speakers), config.dropout, config.speaker_cues)
    return StanceTagger(net, tokenizer, schema, config, encoder_info_for(base, builtin=config.encoder is None))


def fit_tagger(
    texts: Sequence[str],
    labels: Sequence[Sequence[Position]],
    schema: Schema,
    config: TrainConfig,
    progress: Progress | None = None,
    pooled: torch.Tensor | None = None,
) -> StanceTagger:
    """Train a tagger on sentences and their gold positions (``[]`` for none).

    ``pooled`` may hold the sentence vectors of ``texts`` already computed with this config's
    encoder and prefix, so recipes can be compared without re-encoding.
    """
    if not texts:
        raise StanceError("no training sentences: add spans or examples.jsonl to the corpus")
    tagger = new_tagger(schema, config)
    net = tagger.net
    token_ids = tagger.tokenize(texts)
    cues = torch.from_numpy(tagger.cues(texts))
    stance_targets, speaker_targets = (torch.from_numpy(a) for a in label_arrays(labels, schema))
    positives = stance_targets.sum(0)
    pos_weight = ((len(texts) - positives).clamp(min=1) / positives.clamp(min=1)) ** config.class_balance
    stance_loss = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = (len(texts) + config.batch_size - 1) // config.batch_size
    tuned = _unfreeze_top_layers(net, config.trainable_layers)
    finetune_epochs = config.finetune_epochs if tuned else 0
    total = (config.epochs + finetune_epochs) * steps_per_epoch
    done = 0

    def run(epochs: int, optimizer: torch.optim.Optimizer, vectors: torch.Tensor | None) -> None:
        nonlocal done
        for _ in range(epochs):
            order = torch.randperm(len(texts), generator=generator)
            for step in range(steps_per_epoch):
                batch = order[step * config.batch_size:(step + 1) * config.batch_size]
                pooled_batch = vectors[batch] if vectors is not None else net.embed(*tagger.pad([token_ids[i] for i in batch.tolist()]))
                stance_logits, speaker_logits = net.heads(pooled_batch, cues[batch])
                loss = stance_loss(stance_logits, stance_targets[batch])
                loss = loss + _speaker_loss(speaker_logits, speaker_targets[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                done += 1
                if progress:
                    progress("training", done, total)

    heads = [*net.stance_head.parameters(), *net.speaker_head.parameters()]
    net.train()
    net.encoder.eval()  # frozen layers keep inference behaviour; dropout only in the heads
    # Stage 1 trains the heads on frozen vectors (computed once); stage 2, only when layers are
    # tuned, continues from those heads, so fine-tuning starts from a good probe, not from noise.
    vectors = pooled if pooled is not None else tagger.embed(token_ids)
    run(config.epochs, torch.optim.AdamW(heads, lr=config.learning_rate, weight_decay=config.weight_decay), vectors)
    if tuned:
        optimizer = torch.optim.AdamW([{"params": heads, "lr": config.encoder_learning_rate * 10},
                                       {"params": tuned, "lr": config.encoder_learning_rate}],
                                      weight_decay=config.weight_decay)
        run(finetune_epochs, optimizer, None)
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        raise StanceError(f"training diverged (the weights are no longer finite numbers) with learning_rate = "
                          f"{config.learning_rate}; lower it in the config file")
    return tagger


def _unfreeze_top_layers(net: StanceNet, count: int) -> list[nn.Parameter]:
    for parameter in net.encoder.parameters():
        parameter.requires_grad_(False)
    if count == 0:
        return []
    layers = encoder_layers(net.encoder)
    net.trained_parameter_names(count)  # raises a clear error when the encoder has too few layers
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


BASELINES_DIR = "baselines"


@dataclass
class TrainReport:
    """What ``stance train`` did: where the model is, its held-out figures, what it could not do."""

    output: Path
    sentences: int
    examples: int
    heldout: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


def fit_systems(rows: Sequence[dict[str, Any]], schema: Schema, config: TrainConfig,
                progress: Progress | None = None) -> dict[str, Any]:
    """The model and both baselines, trained on the same sentence rows."""
    texts = [row["text"] for row in rows]
    labels = [positions_of(row) for row in rows]
    stances, speakers = schema.stance_names, schema.speaker_names
    return {
        "model": fit_tagger(texts, labels, schema, config, progress),
        "tfidf": TfidfBaseline(stances, speakers).fit(texts, labels),
        "majority": MajorityBaseline(stances, speakers).fit(texts, labels),
    }


def train_model(corpus: Corpus, config: TrainConfig, output: str | Path, progress: Progress | None = None) -> TrainReport:
    """Train on the corpus minus its held-out articles, evaluate on them, save atomically."""
    output = check_model_output(output)  # before any training: never replace somebody's folder
    # Without any span the articles are not annotated yet: their sentences are unknown, not none.
    rows = article_rows(corpus, corpus.training_ids) if corpus.spans else []
    examples = example_rows(corpus) if config.use_examples else []
    notes = []
    if not corpus.spans:
        notes.append(f"the corpus has no spans: trained on {EXAMPLES_FILE} alone, articles left out")
    if not corpus.heldout:
        notes.append(f"no held-out article declared in {SPLIT_FILE}: nothing to evaluate on")
    elif not corpus.spans:
        notes.append("the held-out article has no spans: its scores would be meaningless, so none are given")
    if not rows + examples:
        raise StanceError(f"{corpus.root}: nothing to train on; add articles with spans or {EXAMPLES_FILE}")
    systems = fit_systems(rows + examples, corpus.schema, config, progress)
    heldout = None
    if corpus.heldout and corpus.spans:
        heldout = evaluate_systems(systems, heldout_rows(corpus), corpus.schema, config.threshold)
    metrics = {"heldout_articles": list(corpus.heldout), "heldout": heldout,
               "training": {"articles": corpus.training_ids, "sentences": len(rows), "examples": len(examples)}}
    with atomic_directory(output) as tmp:
        systems["model"].save_pretrained(tmp, metrics=metrics, card=model_card(corpus, config, metrics))
        for name in ("tfidf", "majority"):
            systems[name].save(tmp / BASELINES_DIR / name)
    return TrainReport(Path(output), len(rows), len(examples), heldout, notes)


def load_systems(directory: str | Path) -> dict[str, Any]:
    """A saved model and the baselines saved beside it."""
    directory = Path(directory)
    systems: dict[str, Any] = {"model": StanceTagger.from_pretrained(directory)}
    for name in ("tfidf", "majority"):
        systems[name] = load_baseline(directory / BASELINES_DIR / name)
    return systems


def model_card(corpus: Corpus, config: TrainConfig, metrics: dict[str, Any]) -> str:
    """A human-readable README for the model directory, with the held-out figures."""
    lines = [
        f"# Stance tagger trained on `{corpus.root.name}` (schema `{corpus.schema.name}`)",
        "",
        f"Base encoder: `{config.encoder or 'multilingual-e5-small (built in)'}`; fine-tuned top layers: "
        f"{config.trainable_layers}; seed {config.seed}. Trained on {metrics['training']['sentences']} sentences "
        f"of {len(corpus.training_ids)} articles and {metrics['training']['examples']} written examples.",
        "",
        f"Stances: {', '.join(corpus.schema.stance_names)}. Speakers: {', '.join(corpus.schema.speaker_names)}.",
        "",
    ]
    if metrics["heldout"]:
        rows = table_rows(metrics["heldout"], corpus.schema.stance_names)
        lines += [f"## Held-out evaluation ({', '.join(metrics['heldout_articles'])})", "",
                  "| " + " | ".join(rows[0]) + " |", "|---" * len(rows[0]) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    else:
        lines.append("No held-out article was declared: this model has no held-out evaluation.")
    return "\n".join(lines) + "\n"
