"""Tagging speed against a plain transformers loop, a sentence-transformers peer and the machine's
matmul peak of the precision the predictor uses.

Measured in one process on the same weights and the same sentences (sentences of the training
articles, repeated): the naive loop (eval mode, ``torch.no_grad``, default threads, one sentence
per call, tokenized per call, same encoder and heads), the predictor as ``stance tag`` ships it
(segmentation excluded from both), the same checkpoint through sentence-transformers' ``encode``
(what a SetFit user runs: mean pooling, its default batch of 32, the same threads; it computes the
sentence vectors only, no heads), and 2048^3 matmuls in float32 and in bfloat16. Those rates are
timed three times, interleaved, and their medians reported; every other figure says whether it is
a median or a single run. Then whole articles through the engines of ``stance tag`` (one process,
``--workers 2``, and a local Ray with ``--ray``), segmentation and attribution included; a profile
of the predictor (where its time goes); peak memory and per-sentence time in child processes at 1x,
4x and 16x the input, and for the real CLI tagging one 50 MB article (the goal is under 2 GB).
Agreement with float32 is measured on distinct held-out and dev sentences. The last two lines are
``speedup <X>x`` (predictor over naive loop) and ``efficiency <Y>``: achieved useful FLOP/s of the
predictor over the matmul peak of the precision it computes in (bfloat16 where the CPU has it
natively, else float32), both peaks measured in this run.

    python benchmarks/bench_tag.py [--quick] [--model DIR]

Needs the ``bench`` extra (``pip install -e ".[bench,ray]"``) for the peer and Ray lines.
"""

from __future__ import annotations

import argparse
import json
import os
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


def peer_model(tagger):
    """The tagger's own encoder and tokenizer saved as a plain checkpoint and loaded as a SetFit user
    loads one: ``SentenceTransformer(folder)``, which adds mean pooling (e5's pooling) to a plain
    checkpoint, with the tagger's maximum length."""
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory(prefix="stance-bench-peer-") as folder:
        tagger.net.encoder.save_pretrained(folder)
        tagger.tokenizer.save_pretrained(folder)
        model = SentenceTransformer(folder, device="cpu")
    model.max_seq_length = tagger.config.max_length
    return model


def peer(model, tagger, texts: list[str]) -> None:
    """sentence-transformers' ``encode`` with its defaults, on the same prefixed sentences."""
    model.encode([tagger.config.text_prefix + text for text in texts], show_progress_bar=False)


def articles(texts: list[str], size: int = 10) -> list:
    """The sentences as articles of ``size`` sentences, as a table's rows would give them."""
    from stance.predict import Document

    return [Document(f"a{first}", None, text=" ".join(texts[first:first + size]))
            for first in range(0, len(texts), size)]


def engine_rate(make, documents: list) -> tuple[float, int]:
    """Sentences/s of one engine of ``stance tag`` over whole articles (a single run, after a warm-up
    that starts its processes and loads the model in each), and the rows it gave."""
    with make() as tagger:
        list(tagger.tag_documents(documents[:40]))
        started = time.perf_counter()
        rows = sum(len(piece.rows) for piece in tagger.tag_documents(documents))
        return rows / (time.perf_counter() - started), rows


def engines(model: Path, texts: list[str], precision: str) -> list[tuple[str, float, int]]:
    """The engines ``stance tag`` offers on this machine: one process, two worker processes, Ray."""
    import importlib.util

    from stance.workers import tagging

    documents = articles(texts)
    runs = [(f"--workers {n}", lambda n=n: tagging(model, n, precision)) for n in (1, 2)]
    if importlib.util.find_spec("ray") is not None:
        from stance.cluster import RayTagger

        runs.append((f"--ray (local Ray, {os.cpu_count()} CPUs; actors load the model on each call)",
                     lambda: RayTagger(model, None, precision)))
    return [(name, *engine_rate(make, documents)) for name, make in runs]


def profile(tagger, texts: list[str]) -> tuple[list[tuple[str, float]], float]:
    """Where the predictor's time goes: the largest torch operators by share of wall time (single
    run), and the share spent outside torch operators (tokenizing, attribution, cue features)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as run:
        started = time.perf_counter()
        predictor(tagger, texts)
        wall = time.perf_counter() - started
    totals: dict[str, float] = {}
    for event in run.key_averages():
        totals[event.key] = totals.get(event.key, 0.0) + event.self_cpu_time_total / 1e6
    shares = sorted(((name, seconds / wall) for name, seconds in totals.items()), key=lambda item: -item[1])
    return shares[:6], max(0.0, 1.0 - sum(totals.values()) / wall)


def matmul_peak(dtype: str, repeats: int = 5) -> float:
    """FLOP/s of a 2048^3 matmul in ``dtype``, averaged over a few calls so one hiccup does not count."""
    import torch

    kind = getattr(torch, dtype)
    a, b = torch.randn(2048, 2048, dtype=kind), torch.randn(2048, 2048, dtype=kind)
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


def child(model: Path, sentences: Path) -> None:
    """Run in a fresh process: tag the sentences of a JSON file, report peak RSS and time per
    sentence. The parent writes the file, so the child's peak is the tagger's, not the corpus's."""
    from stance.model import StanceTagger

    texts = json.loads(sentences.read_text(encoding="utf-8"))
    tagger = StanceTagger.from_pretrained(model)
    tagger.set_precision("auto")
    started = time.perf_counter()
    predictor(tagger, texts)
    seconds = time.perf_counter() - started
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent through fork
    # and exec, so a child of a large parent would report the parent's size
    peak = _peak_rss_mb(os.getpid())
    print(json.dumps({"sentences": len(texts), "peak_rss_mb": peak, "ms_per_sentence": 1000 * seconds / len(texts)}))


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
    try:
        for target in (1, batch + WINDOW, batch + (1 + windows) * WINDOW):
            while not partial.exists() or _lines(partial) < target:
                if process.poll() is not None:
                    raise RuntimeError("stance tag ended before the benchmark could measure it")
                time.sleep(0.05)
            first = first or time.perf_counter() - started
            peaks.append(_peak_rss_mb(process.pid))
    finally:
        if process.poll() is None:
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
    parser.add_argument("--quick", action="store_true", help="smaller inputs (about 9 minutes on 2 cores)")
    parser.add_argument("--model", help="model directory (default: train a small one first)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.model), Path(args.child))
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
    peers = {"float32": peer_model(tagger)}
    if precision != "float32":  # sentence-transformers in our precision: its weights cast, as its docs show
        peers[precision] = peer_model(tagger).to(getattr(torch, precision))
    tagger.predict_all(predictor_texts[:64])  # warm-up: first calls allocate and pick kernels
    naive(tagger, naive_texts[:8])
    for model_peer in peers.values():
        peer(model_peer, tagger, predictor_texts[:64])

    rates: dict[str, list[float]] = {"naive": [], "predictor": [], "float32": [],
                                     **{f"peer {name}": [] for name in peers}}
    peaks: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(RUNS):
        rates["naive"].append(_rate(naive, tagger, naive_texts))
        rates["predictor"].append(_rate(predictor, tagger, predictor_texts))
        if precision != "float32":  # the same predictor kept in float32, for comparison
            tagger.set_precision("float32")
            rates["float32"].append(_rate(predictor, tagger, predictor_texts))
            tagger.set_precision(precision)
        for name, model_peer in peers.items():
            rates[f"peer {name}"].append(_rate(lambda _, texts, m=model_peer: peer(m, tagger, texts), tagger,
                                               predictor_texts))
        for dtype, runs in peaks.items():
            runs.append(matmul_peak(dtype))
    rate = {name: statistics.median(runs) for name, runs in rates.items() if runs}
    peak = {dtype: statistics.median(runs) for dtype, runs in peaks.items()}

    held_out = evaluation_sentences()
    same, largest = agreement(tagger, held_out, precision)
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"predictor precision: {precision} encoder (naive loop: float32); on {len(held_out)} distinct held-out and "
          f"dev sentences no model was trained on, reported positions identical to float32 on {100 * same:.1f}%, "
          f"largest stance-score difference {largest:.4f} (single run)")
    print(f"start-up: `stance --help` {startup_seconds('--help'):.2f} s, argument error "
          f"{startup_seconds('tag', '--format', 'xml', '-'):.2f} s (median of {RUNS}; torch is not imported)")
    print(f"model load time: {load_seconds:.2f} s (single run)")
    print(f"naive loop: {_runs(rate, rates, 'naive')} ({naive_count} sentences)")
    print(f"predictor: {_runs(rate, rates, 'predictor')} ({predictor_count} sentences): "
          f"speedup {rate['predictor'] / rate['naive']:.2f}x")
    if "float32" in rate:
        print(f"predictor kept in float32: {_runs(rate, rates, 'float32')}; speedup "
              f"{rate['float32'] / rate['naive']:.2f}x, efficiency {flops * rate['float32'] / peak['float32']:.2f} "
              f"of the float32 peak")
    for name in peers:
        ours = rate["predictor" if name == precision else "float32"]
        print(f"sentence-transformers encode, {name} (vectors only, no heads): {_runs(rate, rates, f'peer {name}')}; "
              f"our predictor in {name} is {ours / rate[f'peer {name}']:.2f}x it")
    for dtype, value in peak.items():
        print(f"{dtype} matmul peak (2048^3): {value / 1e9:.1f} GFLOP/s "
              f"(runs: {', '.join(f'{r / 1e9:.1f}' for r in peaks[dtype])})")
    print(f"model FLOPs per sentence: {flops / 1e9:.3f} GFLOP (real token counts, no padding)")
    print(f"achieved: {flops * rate['predictor'] / 1e9:.1f} GFLOP/s predictor, {flops * rate['naive'] / 1e9:.1f} "
          f"GFLOP/s naive ({flops * rate['naive'] / peak['float32']:.2f} of the float32 peak, so at most "
          f"{peak['float32'] / (flops * rate['naive']):.1f}x is left to gain in float32)")
    shares, outside = profile(tagger, predictor_texts[:256])
    print("where the predictor's time goes (torch profiler, single run): "
          + ", ".join(f"{name} {100 * share:.0f}%" for name, share in shares)
          + f"; outside torch operators (tokenizing, attribution, cue words, TF-IDF) {100 * outside:.0f}%")

    for name, engine_rate_, rows in engines(model, corpus_sentences(2000), precision):
        print(f"`stance tag` engine {name}: {engine_rate_:.1f} sentences/s over {rows} sentences in articles of 10 "
              f"(segmentation and attribution included; single run): {engine_rate_ / rate['naive']:.2f}x the naive "
              f"loop, {engine_rate_ / os.cpu_count():.1f} sentences/s per core")

    scales = (250, 1000, 4000) if args.quick else (500, 2000, 8000)
    for count in scales:
        sentences = Path(tempfile.mkdtemp(prefix="stance-bench-")) / "sentences.json"
        sentences.write_text(json.dumps(corpus_sentences(count)), encoding="utf-8")
        out = subprocess.run([sys.executable, __file__, "--model", str(model), "--child", str(sentences)],
                             capture_output=True, text=True, check=True)
        shutil.rmtree(sentences.parent)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"memory at {count} sentences (single run): peak RSS {figures['peak_rss_mb']:.0f} MB, "
              f"{figures['ms_per_sentence']:.2f} ms/sentence")
    first, later, seconds = big_article_memory(model)
    print(f"one 50 MB article through `stance tag` (single run): first rows after {seconds:.0f} s; peak RSS "
          f"{first:.0f} MB after one window of 512 rows, {later:.0f} MB eight windows later (goal: under 2,000 MB)")
    print(f"speedup {rate['predictor'] / rate['naive']:.2f}x")
    print(f"efficiency {flops * rate['predictor'] / peak[precision]:.2f}")
    return 0


def _rate(run, tagger, texts: list[str]) -> float:
    started = time.perf_counter()
    run(tagger, texts)
    return len(texts) / (time.perf_counter() - started)


def _runs(rate: dict[str, float], rates: dict[str, list[float]], name: str) -> str:
    return f"{rate[name]:.1f} sentences/s (median; runs {', '.join(f'{r:.1f}' for r in rates[name])})"


if __name__ == "__main__":
    sys.exit(main())
