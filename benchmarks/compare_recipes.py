"""Choose the training recipe on the development set's selection half and by leave-one-story-out
cross-validation on the training articles. Each recipe's figures on the reporting half are printed
on a separate line, once every recipe has been scored, for the README's table: they are reported,
never chosen on. The held-out article is never read here.

Recipes share one pass of the frozen encoder over every sentence (vectors cached per prefix), so
they differ only in the heads, the features, the blend and the calibration; each line gives the
dev-selection macro-F1 with its interval, speaker and attribution accuracy, the same on story CV,
and the training time of one full fit on all training data. A recipe that fine-tunes the encoder
fine-tunes it again in every fold (about 5 minutes per fit on 2 CPU cores).

    python benchmarks/compare_recipes.py [--corpus annotations] [--only NAME ...] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from stance.config import TrainConfig
from stance.corpus import load_corpus
from stance.dataset import article_rows
from stance.evaluation import cross_validate, evaluate_systems
from stance.training import cached_fitter, new_tagger, training_rows

#: The recipe as it was before the development set (frozen linear heads, mentions only), the
#: candidates the development-set issue lists, and the default with one part removed at a time.
RECIPES: dict[str, dict] = {
    "default": {},
    "previous recipe: linear heads, alias mentions only": {
        "stance_cues": False, "attribution": False, "stance_hidden": 0, "tfidf_weight": 0.0, "calibration_folds": 0},
    "without cue words": {"stance_cues": False},
    "without attribution": {"attribution": False},
    "holder weight starting at 0 (learned)": {"holder_weight": 0.0},
    "linear stance head": {"stance_hidden": 0},
    "without the TF-IDF blend": {"tfidf_weight": 0.0},
    "without calibration (threshold 0.5)": {"calibration_folds": 0},
    "fine-tune all 12 encoder layers (embeddings frozen), 3 epochs": {"trainable_layers": 12},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="annotations")
    parser.add_argument("--only", nargs="*", help="recipe names to run (default: all)")
    parser.add_argument("--json", help="write all figures here")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    selection = article_rows(corpus, corpus.split.dev_selection)
    reporting = article_rows(corpus, corpus.split.dev_reporting)
    vectors: dict[str, dict[str, torch.Tensor]] = {}
    results = {}
    for name, overrides in RECIPES.items():
        if args.only and name not in args.only:
            continue
        config = replace(TrainConfig(), **overrides)
        cache = vectors.setdefault(config.text_prefix, {})
        fit = cached_fitter(corpus, config, cache)
        rows, written = training_rows(corpus, config)
        if not cache:  # encode once, outside the timing
            encoder = new_tagger(corpus.schema, config)
            texts = list(dict.fromkeys(row["text"] for row in rows + written))
            cache.update(zip(texts, encoder.embed(encoder.tokenize(texts))))
        started = time.perf_counter()
        systems = fit(rows + written)
        seconds = time.perf_counter() - started
        dev = evaluate_systems(systems, selection, corpus)
        report = evaluate_systems(systems, reporting, corpus)
        cv = cross_validate(corpus, config, fit)
        results[name] = {"dev_selection": _figures(dev), "cv": _figures(cv), "fit_seconds": seconds,
                         "dev_reporting": _figures(report)}
        d, c = results[name]["dev_selection"]["model"], results[name]["cv"]["model"]
        print(f"{name:52s} dev-sel {d['macro_f1']:.3f} [{d['low']:.2f}, {d['high']:.2f}] speaker {d['speaker']:.2f} "
              f"attribution {d['attribution']:.2f} | CV {c['macro_f1']:.3f} [{c['low']:.2f}, {c['high']:.2f}] "
              f"speaker {c['speaker']:.2f} | fit {seconds:.0f} s (vectors cached)", flush=True)
    print("\nthe same recipes on the dev reporting half (reported, not chosen on):")
    for name, figures in results.items():
        r = figures["dev_reporting"]["model"]
        print(f"{name:52s} dev-rep {r['macro_f1']:.3f} [{r['low']:.2f}, {r['high']:.2f}] speaker {r['speaker']:.2f} "
              f"attribution {r['attribution']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def _figures(report: dict) -> dict:
    return {system: {"macro_f1": r["macro_f1"], "low": r["macro_f1_low"], "high": r["macro_f1_high"],
                     "speaker": r["speaker_accuracy"], "attribution": r["attribution_accuracy"]}
            for system, r in report.items()}


if __name__ == "__main__":
    sys.exit(main())
