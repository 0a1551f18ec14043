"""Tagging speed against a plain transformers loop and against the machine's float32 peak.

Measured in one process on the same weights and the same sentences (sentences of the training
articles, repeated): the naive loop (eval mode, ``torch.no_grad``, default threads, one
sentence per call, tokenized per call, same encoder and heads), the predictor as ``stance tag``
ships it (segmentation excluded from both), and a 2048^3 float32 matmul. Those rates are timed
three times, interleaved, and their medians reported; every other figure says whether it is a
median or a single run. Peak memory and per-sentence time are measured in child processes at 1x,
4x and 16x the input, and for the real CLI tagging one 50 MB article (the goal is under 2 GB).
Agreement with float32 is measured on distinct held-out and dev sentences, for the reported
positions and, separately, as the largest score difference. The last two lines are ``speedup <X>x`` and
``efficiency <Y>`` (achieved useful FLOP/s of the predictor over the float32 matmul peak). The
predictor runs as shipped: its encoder in bfloat16 where the CPU has native bfloat16, which the
benchmark states together with the share of sentences whose answers equal float32's.

    python benchmarks/bench_tag.py [--quick] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 3


def corpus_sentences(count: int) -> list[str]:
    from stance.corpus import load_corpus
    from stance.dataset import article_rows

    corpus = load_corpus(REPO / "annotations")
    texts = [row["text"] for row in article_rows(corpus, corpus.training_ids)]
    return [texts[i % len(texts)] for i in range(count)]


def ensure_model(model: str | None) -> Path:
    if model:
        return Path(model)
    from stance.config import TrainConfig
    from stance.corpus import load_corpus
    from stance.pipeline import train_and_save

    directory = Path(tempfile.mkdtemp(prefix="stance-bench-")) / "model"
    train_and_save(load_corpus(REPO / "annotations"), TrainConfig(epochs=5), directory)
    return directory


def naive(tagger, texts: list[str]) -> None:
    """The baseline exactly as a first script would write it."""
    import torch

    tagger.net.eval()
    with torch.no_grad():
        for text in texts:
            encoded = tagger.tokenizer(tagger.config.text_prefix + text, truncation=True,
                                       max_length=tagger.config.max_length, return_tensors="pt")
            pooled = tagger.net.embed(encoded["input_ids"], encoded["attention_mask"])
            stance_logits, speaker_logits = tagger.net.heads(pooled, *tagger.extras([text], None))
            torch.sigmoid(stance_logits), torch.softmax(speaker_logits, -1)


def predictor(tagger, texts: list[str]) -> None:
    """What `stance tag` runs on the sentences of its bounded windows."""
    from stance.predict import WINDOW

    for first in range(0, len(texts), WINDOW):
        tagger.predict_all(texts[first:first + WINDOW])


def matmul_peak(repeats: int = 5) -> float:
    """float32 GFLOP/s of a 2048^3 matmul, averaged over a few calls so one hiccup does not count."""
    import torch

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return repeats * 2 * 2048 ** 3 / (time.perf_counter() - started)


def evaluation_sentences() -> list[str]:
    """Distinct sentences no model was trained on: the held-out and development articles."""
    from stance.corpus import load_corpus
    from stance.dataset import article_rows

    corpus = load_corpus(REPO / "annotations")
    return list(dict.fromkeys(row["text"] for row in article_rows(corpus, corpus.split.evaluation)))


def agreement(tagger, texts: list[str], precision: str) -> tuple[float, float]:
    """Share of sentences whose reported positions (stances at their thresholds, and their
    speakers) are identical in ``precision`` and in float32, and the largest score difference."""
    from stance.evaluation import predicted_positions

    def positions(probs, speakers):
        return [tuple((s, k) for s, k, _ in held) for held in predicted_positions(probs, speakers, tagger.thresholds)]

    shipped = tagger.predict_all(texts)
    tagger.set_precision("float32")
    reference = tagger.predict_all(texts)
    tagger.set_precision(precision)
    same = sum(a == b for a, b in zip(positions(*shipped), positions(*reference))) / len(texts)
    return same, float(abs(shipped[0] - reference[0]).max())


def flops_per_sentence(tagger, texts: list[str]) -> float:
    """Useful FLOPs of the encoder from real (unpadded) token counts; the heads are negligible."""
    config = tagger.net.encoder.config
    h, ffn, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    total = 0.0
    for ids in tagger.tokenize(texts):
        t = len(ids)
        total += layers * (t * (8 * h * h + 4 * h * ffn) + 4 * t * t * h)
    return total / len(texts)


def startup_seconds(*args: str) -> float:
    """Median wall time of the CLI answering without a model (help text, argument errors)."""
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stance.cli", *args], capture_output=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def child(model: Path, count: int) -> None:
    """Run in a fresh process: tag ``count`` sentences, report peak RSS and time per sentence."""
    from stance.model import StanceTagger

    tagger = StanceTagger.from_pretrained(model)
    tagger.set_precision("auto")
    texts = corpus_sentences(count)
    started = time.perf_counter()
    predictor(tagger, texts)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"sentences": count, "peak_rss_mb": peak, "ms_per_sentence": 1000 * seconds / count}))


def big_article_memory(model: Path, megabytes: int = 50, windows: int = 8) -> tuple[float, float, float]:
    """``stance tag`` on one article of ``megabytes`` MB, as users run it: peak RSS once the first
    full window of rows is written and again ``windows`` windows later, then the run is stopped with
    Ctrl-C. Reading and splitting the whole article happen before the first row, and each window is
    scored, written and freed in turn, so equal peaks at both points show memory no longer grows;
    scoring all ~500,000 sentences would take hours on a laptop. Returns (MB, MB, seconds to the
    first row)."""
    from stance.predict import WINDOW

    folder = Path(tempfile.mkdtemp(prefix="stance-bench-article-"))
    article, output = folder / "article.txt", folder / "tags.jsonl"
    sentences = corpus_sentences(2000)
    with open(article, "w", encoding="utf-8") as handle:
        written, first = 0, 0
        while written < megabytes * 1_000_000:  # paragraphs of eight sentences, as in the articles
            written += handle.write(" ".join(sentences[(first + k) % len(sentences)] for k in range(8)) + "\n")
            first += 8
    process = subprocess.Popen([sys.executable, "-m", "stance.cli", "tag", str(article), "--model", str(model),
                                "--output", str(output)], stderr=subprocess.DEVNULL)
    partial = folder / "tags.jsonl.partial"
    started = time.perf_counter()
    peaks, first = [], 0.0
    batch = 32  # the first window is one batch, so rows appear right after the model loads
    for target in (1, batch + WINDOW, batch + (1 + windows) * WINDOW):
        while not partial.exists() or _lines(partial) < target:
            if process.poll() is not None:
                raise RuntimeError("stance tag ended before the benchmark could measure it")
            time.sleep(0.05)
        first = first or time.perf_counter() - started
        peaks.append(_peak_rss_mb(process.pid))
    process.send_signal(signal.SIGINT)
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)
    return peaks[1], peaks[2], first


def _lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a running process so far (Linux ``VmHWM``)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller inputs (under 3 minutes)")
    parser.add_argument("--model", help="model directory (default: train a small one first)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.model), args.child)
        return 0

    import torch

    from stance.model import StanceTagger

    model = ensure_model(args.model)
    started = time.perf_counter()
    tagger = StanceTagger.from_pretrained(model)
    load_seconds = time.perf_counter() - started
    precision = tagger.set_precision("auto")  # what `stance tag` uses by default
    naive_count, predictor_count = (300, 1000) if args.quick else (2000, 2000)
    naive_texts, predictor_texts = corpus_sentences(naive_count), corpus_sentences(predictor_count)
    flops = flops_per_sentence(tagger, predictor_texts)
    tagger.predict_all(predictor_texts[:64])  # warm-up: first calls allocate and pick kernels
    naive(tagger, naive_texts[:8])

    times: dict[str, list[float]] = {"naive": [], "predictor": [], "float32": [], "peak": []}
    for _ in range(RUNS):
        started = time.perf_counter()
        naive(tagger, naive_texts)
        times["naive"].append(naive_count / (time.perf_counter() - started))
        started = time.perf_counter()
        predictor(tagger, predictor_texts)
        times["predictor"].append(predictor_count / (time.perf_counter() - started))
        if precision != "float32":  # the same predictor kept in float32, for comparison
            tagger.set_precision("float32")
            started = time.perf_counter()
            predictor(tagger, predictor_texts)
            times["float32"].append(predictor_count / (time.perf_counter() - started))
            tagger.set_precision(precision)
        times["peak"].append(matmul_peak())
    naive_rate, predictor_rate, peak = (statistics.median(times[k]) for k in ("naive", "predictor", "peak"))

    held_out = evaluation_sentences()
    same, largest = agreement(tagger, held_out, precision)
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"predictor precision: {precision} encoder (naive loop: float32); on {len(held_out)} distinct held-out and "
          f"dev sentences no model was trained on, reported positions identical to float32 on {100 * same:.1f}%, "
          f"largest stance-score difference {largest:.4f} (single run)")
    print(f"start-up: `stance --help` {startup_seconds('--help'):.2f} s, argument error "
          f"{startup_seconds('tag', '--format', 'xml', '-'):.2f} s (median of {RUNS}; torch is not imported)")
    print(f"model load time: {load_seconds:.2f} s (single run)")
    print(f"naive loop: {naive_rate:.1f} sentences/s (runs: {', '.join(f'{r:.1f}' for r in times['naive'])}; "
          f"{naive_count} sentences)")
    print(f"predictor: {predictor_rate:.1f} sentences/s (runs: {', '.join(f'{r:.1f}' for r in times['predictor'])}; "
          f"{predictor_count} sentences)")
    if times["float32"]:
        rate = statistics.median(times["float32"])
        print(f"predictor kept in float32: {rate:.1f} sentences/s (runs: {', '.join(f'{r:.1f}' for r in times['float32'])}); "
              f"speedup {rate / naive_rate:.2f}x, efficiency {flops * rate / peak:.2f}")
    print(f"float32 matmul peak: {peak / 1e9:.1f} GFLOP/s (runs: {', '.join(f'{r / 1e9:.1f}' for r in times['peak'])})")
    print(f"model FLOPs per sentence: {flops / 1e9:.3f} GFLOP (real token counts, no padding)")
    print(f"achieved: {flops * predictor_rate / 1e9:.1f} GFLOP/s predictor, {flops * naive_rate / 1e9:.1f} GFLOP/s naive")

    scales = (250, 1000, 4000) if args.quick else (500, 2000, 8000)
    for count in scales:
        out = subprocess.run([sys.executable, __file__, "--model", str(model), "--child", str(count)],
                             capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"memory at {count} sentences (single run): peak RSS {figures['peak_rss_mb']:.0f} MB, "
              f"{figures['ms_per_sentence']:.2f} ms/sentence")
    first, later, seconds = big_article_memory(model)
    print(f"one 50 MB article through `stance tag` (single run): first rows after {seconds:.0f} s; peak RSS "
          f"{first:.0f} MB after one window of 512 rows, {later:.0f} MB eight windows later (goal: under 2,000 MB)")
    print(f"speedup {predictor_rate / naive_rate:.2f}x")
    if precision != "float32":
        print(f"note: efficiency compares {precision} throughput with the float32 peak, so it can exceed 1")
    print(f"efficiency {flops * predictor_rate / peak:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
