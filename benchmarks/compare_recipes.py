"""Choose the training recipe by leave-one-story-out cross-validation on the training articles.

The held-out article is never read. Recipes share one pass of the frozen encoder over every
sentence (vectors cached per prefix), so a dozen recipes compare in a couple of minutes; the
fine-tuning stage of a recipe that tunes layers runs the encoder as training does.

    python benchmarks/compare_recipes.py [--corpus annotations] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from stance.baselines import MajorityBaseline, TfidfBaseline
from stance.config import TrainConfig
from stance.corpus import load_corpus
from stance.dataset import positions_of
from stance.evaluate import cross_validate
from stance.train import fit_tagger, new_tagger

RECIPES: dict[str, dict] = {
    "default": {},
    "no examples (ablation)": {"use_examples": False},
    "no speaker cues": {"speaker_cues": False},
    "no class balance": {"class_balance": 0.0},
    "full class balance": {"class_balance": 1.0},
    "30 epochs": {"epochs": 30},
    "150 epochs": {"epochs": 150},
    "lr 1e-2": {"learning_rate": 1e-2},
    "lr 1e-3": {"learning_rate": 1e-3},
    "weight decay 0.1": {"weight_decay": 0.1},
    "dropout 0.3": {"dropout": 0.3},
    "passage prefix": {"text_prefix": "passage: "},
    "no prefix": {"text_prefix": ""},
    "150 epochs, lr 1e-2": {"epochs": 150, "learning_rate": 1e-2},
    "fine-tune top 2 layers, 3 epochs after the heads": {"trainable_layers": 2, "finetune_epochs": 3},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="annotations")
    parser.add_argument("--only", nargs="*", help="recipe names to run (default: all)")
    parser.add_argument("--json", help="write all figures here")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    schema = corpus.schema
    vectors: dict[str, dict[str, torch.Tensor]] = {}
    results = {}
    for name, overrides in RECIPES.items():
        if args.only and name not in args.only:
            continue
        config = replace(TrainConfig(), **overrides)
        cache = vectors.setdefault(config.text_prefix, {})

        def fit_systems(rows, config=config, cache=cache):
            texts = [row["text"] for row in rows]
            labels = [positions_of(row) for row in rows]
            pooled = None
            if cache is not None:
                missing = [t for t in dict.fromkeys(texts) if t not in cache]
                if missing:
                    tagger = new_tagger(schema, config)
                    cache.update(zip(missing, tagger.embed(tagger.tokenize(missing))))
                pooled = torch.stack([cache[t] for t in texts])
            systems = {"model": fit_tagger(texts, labels, schema, config, pooled=pooled)}
            if name == "default" or name.startswith("no examples"):
                systems["tfidf"] = TfidfBaseline(schema.stance_names, schema.speaker_names).fit(texts, labels)
                systems["majority"] = MajorityBaseline(schema.stance_names, schema.speaker_names).fit(texts, labels)
            return systems

        started = time.perf_counter()
        result = cross_validate(corpus, config, fit_systems)
        seconds = time.perf_counter() - started
        results[name] = {system: {"macro_f1": r["macro_f1"], "low": r["macro_f1_low"], "high": r["macro_f1_high"],
                                  "speaker_accuracy": r["speaker_accuracy"], "folds": r["folds"],
                                  "f1": {s: r["per_stance"][s]["f1"] for s in schema.stance_names}}
                         for system, r in result.items()}
        for system, r in results[name].items():
            folds = " ".join(f"{k}={v:.2f}" for k, v in r["folds"].items())
            f1 = " ".join(f"{v:.2f}" for v in r["f1"].values())
            print(f"{name:36s} {system:8s} macro-F1 {r['macro_f1']:.3f} [{r['low']:.2f},{r['high']:.2f}] "
                  f"speaker {r['speaker_accuracy']:.2f}  F1 {f1}  folds {folds}  ({seconds:.0f}s)", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
