"""How many labels each suggestion strategy saves: the annotation loop, simulated on the corpus.

Start from 50 written examples (a seeded sample), then repeatedly let a strategy pick 20 sentences
of the training articles, add their gold labels, retrain the heads (the default recipe, frozen
encoder, out-of-fold calibration included) and score stance macro-F1 and speaker accuracy on the
development set (both halves; never the held-out article). Every strategy of ``stance suggest`` and
random choice, over several seeds (the initial sample, random order and clustering change with it).
Sentence vectors are computed once, so each round costs a heads fit.

    python benchmarks/learning_curve.py [--seeds 3] [--step 20] [--start 50] [--plot curve.png] [--json out.json]

Prints a table (mean over seeds per number of added labels) and, per strategy, the labels it needed
to reach random choice's final dev score.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stance.config import TrainConfig
from stance.corpus import load_corpus
from stance.dataset import SentenceRow, article_rows, positions_of, row_attributions, written_rows
from stance.evaluation import score
from stance.suggest import STRATEGIES, pick, score_sentences
from stance.training import TrainingSet, fit_tagger, new_tagger

RANDOM = "random"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(REPO / "annotations"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--start", type=int, default=50, help="written examples to start from")
    parser.add_argument("--step", type=int, default=20, help="sentences labelled per round")
    parser.add_argument("--plot", help="write the curves here (PNG)")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    config = TrainConfig()
    written = [r for r in written_rows(corpus) if r["article"] == "examples"]
    pool = article_rows(corpus, corpus.training_ids)
    dev = article_rows(corpus, corpus.split.dev)
    encoder = new_tagger(corpus.schema, config)
    started = time.perf_counter()
    vectors = {name: encoder.embed(encoder.tokenize([r["text"] for r in rows]))
               for name, rows in (("written", written), ("pool", pool), ("dev", dev))}
    print(f"encoded {sum(len(v) for v in vectors.values())} sentences in {time.perf_counter() - started:.0f} s; "
          f"pool of {len(pool)} training-article sentences, dev {len(dev)} sentences", flush=True)
    attributions = {"written": row_attributions(written, corpus), "pool": row_attributions(pool, corpus),
                    "dev": row_attributions(dev, corpus)}
    dev_gold = [positions_of(r) for r in dev]
    curves: dict[str, list[list[dict[str, float]]]] = {}
    for seed in range(args.seeds):
        start = list(np.random.default_rng(seed).choice(len(written), size=args.start, replace=False))
        for strategy in (RANDOM, *STRATEGIES):
            curve = simulate(corpus, replace(config, seed=config.seed + seed), written, pool, dev, vectors,
                             attributions, dev_gold, start, strategy, args.step, seed)
            curves.setdefault(strategy, []).append(curve)
            last = curve[-1]
            print(f"seed {seed} {strategy:12s} " + " ".join(f"{p['labels']}:{p['macro_f1']:.3f}" for p in curve)
                  + f"  (final speaker acc {last['speaker_accuracy']:.3f})", flush=True)
    report(curves, args.step)
    if args.json:
        Path(args.json).write_text(json.dumps(curves, indent=2), encoding="utf-8")
    if args.plot:
        plot(curves, Path(args.plot))
    return 0


def simulate(corpus, config, written, pool, dev, vectors, attributions, dev_gold, start, strategy, step, seed):
    """One learning curve: dev figures after each round of ``step`` picked sentences."""
    import torch

    labelled: list[int] = []
    order = list(np.random.default_rng(1000 + seed).permutation(len(pool)))
    curve = []
    while True:
        rows: list[SentenceRow] = [written[i] for i in start] + [pool[i] for i in labelled]
        data = TrainingSet([r["text"] for r in rows], [positions_of(r) for r in rows],
                           [attributions["written"][i] for i in start] + [attributions["pool"][i] for i in labelled],
                           [f"examples/{i}" for i in start] + [pool[i]["article"] for i in labelled])
        pooled = torch.cat([vectors["written"][start], vectors["pool"][labelled]]) if labelled else vectors["written"][start]
        tagger = fit_tagger(data, corpus.schema, config, pooled=pooled)
        stance, speakers = tagger.predict_pooled(vectors["dev"], [r["text"] for r in dev], attributions["dev"])
        figures = score(dev_gold, stance, speakers, corpus.schema, tagger.thresholds)
        curve.append({"labels": len(labelled), "macro_f1": figures["macro_f1"] or 0.0,
                      "speaker_accuracy": figures["speaker_accuracy"] or 0.0})
        remaining = [i for i in range(len(pool)) if i not in set(labelled)]
        if not remaining:
            return curve
        if strategy == RANDOM:
            chosen = [i for i in order if i in set(remaining)][:step]
        else:
            texts = [pool[i]["text"] for i in remaining]
            scores = score_sentences(tagger, texts, [attributions["pool"][i] for i in remaining],
                                     pooled=vectors["pool"][remaining])
            chosen = [remaining[row] for row, _ in pick(scores, strategy, min(step, len(remaining)), seed)]
            # a repeated text is one decision: its copies are labelled with it
            texts_chosen = {" ".join(pool[i]["text"].split()).casefold() for i in chosen}
            chosen += [i for i in remaining if i not in chosen
                       and " ".join(pool[i]["text"].split()).casefold() in texts_chosen]
        labelled += chosen


def report(curves, step):
    """Mean per number of labels, and the labels each strategy needs to reach random's final score."""
    means = {name: _mean(runs) for name, runs in curves.items()}
    print("\nmean dev macro-F1 over seeds (labels added -> score)")
    for name, points in means.items():
        print(f"{name:12s} " + " ".join(f"{labels}:{value:.3f}" for labels, value in points))
    target = means[RANDOM][-1][1]
    print(f"\nrandom choice's final dev macro-F1: {target:.3f} with {means[RANDOM][-1][0]} labels")
    for name, points in means.items():
        reached = next((labels for labels, value in points if value >= target), None)
        print(f"{name:12s} reaches it with {reached if reached is not None else 'more than ' + str(points[-1][0])} labels")


def _mean(runs):
    """Mean macro-F1 per label count, over the runs that have that count."""
    by_count: dict[int, list[float]] = {}
    for run in runs:
        for point in run:
            by_count.setdefault(point["labels"], []).append(point["macro_f1"])
    return [(labels, float(np.mean(values))) for labels, values in sorted(by_count.items())]


def plot(curves, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, runs in curves.items():
        points = _mean(runs)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=name)
    ax.set_xlabel("training-article sentences labelled (after 50 written examples)")
    ax.set_ylabel("dev stance macro-F1 (mean over seeds)")
    ax.set_title("Learning curve of the annotation loop")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
