"""A small mutation check, run by hand (not in CI): plant one bug at a time in a scratch copy of
the repository and see whether the tests that should guard that code fail.

The mutants are the bugs that matter most to the project's promises: the rule that turns
probabilities into reported positions, the figures evaluation reports, the data training may
see (never an evaluation story), and the writes that must never leave half a file or folder.
A mutant "survives" when its tests still pass: a hole in the suite.

    python benchmarks/mutation_check.py [--repo DIR] [--only NAME ...] [--list]

``--repo`` points at another checkout (an older commit, say) to compare survival rates; a mutant
whose original text is not in that checkout is reported "not applicable", and one whose guarding
test files do not exist there survives.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: (name, file, original text, mutated text, tests that should catch it)
MUTANTS = [
    ("threshold >= becomes >", "stance/predict.py", "np.flatnonzero(probs >= threshold)", "np.flatnonzero(probs > threshold)",
     ["tests/test_evaluation.py"]),
    ("positions not sorted by probability", "stance/predict.py", "key=lambda s: -probs[s]", "key=lambda s: s",
     ["tests/test_evaluation.py"]),
    ("none row scores the top stance", "stance/predict.py", "round(1.0 - float(probs.max(initial=0.0)), 4)",
     "round(float(probs.max(initial=0.0)), 4)", ["tests/test_predict.py"]),
    ("training reads every article", "stance/training.py", "article_rows(corpus, corpus.training_ids) if corpus.spans",
     "article_rows(corpus) if corpus.spans", ["tests/test_training.py"]),
    ("CV keeps evaluation stories", "stance/evaluation.py", "training = set(corpus.training_ids)",
     "training = set(corpus.articles) - set(corpus.heldout)", ["tests/test_training.py"]),
    ("dev stories leak into training", "stance/corpus.py", "evaluation = set(self.split.evaluation)",
     "evaluation = set(self.split.heldout)", ["tests/test_training.py", "tests/test_corpus.py"]),
    ("speaker accuracy ignores the speaker", "stance/evaluation.py",
     "right += (index[p.stance], speaker_index[p.speaker]) in pairs", "right += bool(predicted[row, index[p.stance]])",
     ["tests/test_evaluation.py"]),
    ("attribution accuracy counts every gold position", "stance/evaluation.py",
     "found += bool(predicted[row, index[p.stance]])", "found += 1", ["tests/test_evaluation.py"]),
    ("undefined F1 counted as 0", "stance/evaluation.py", "out=np.full(np.shape(tp), np.nan)",
     "out=np.zeros(np.shape(tp))", ["tests/test_evaluation.py"]),
    ("paired lead compares a system with itself", "stance/evaluation.py",
     "decided = [_decided(ours, our_threshold), _decided(theirs, their_threshold)]",
     "decided = [_decided(ours, our_threshold), _decided(ours, our_threshold)]", ["tests/test_evaluation.py"]),
    ("calibration thresholds ignored", "stance/model.py", "return np.asarray(self.calibration.thresholds, np.float32)",
     "return np.full(len(self.stances), self.config.threshold, np.float32)", ["tests/test_predict.py"]),
    ("model folder written in place", "stance/io.py",
     'tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))',
     "tmp = target; target.mkdir(exist_ok=True)",
     ["tests/test_outputs.py", "tests/test_interrupts.py", "tests/test_errors.py"]),
    ("output file written in place", "stance/outputs.py", "            os.replace(name, self.path)\n",
     "            open(self.path, 'wb').write(open(name, 'rb').read())\n            os.unlink(name)\n",
     ["tests/test_outputs.py", "tests/test_interrupts.py"]),
    ("long line cut inside a word", "stance/segment.py", "cut = gap.start() + 1 if gap", "cut = gap.start() if gap",
     ["tests/test_segment.py"]),
]


def _copy(repo: Path, scratch: Path) -> None:
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis")
    shutil.copytree(repo, scratch, ignore=ignore, dirs_exist_ok=True)


def run(mutant: tuple[str, str, str, str, list[str]], repo: Path = REPO) -> str:
    _name, file, original, mutated, tests = mutant
    with tempfile.TemporaryDirectory(prefix="mutant-") as folder:
        scratch = Path(folder) / "repo"
        _copy(repo, scratch)
        tests = [test for test in tests if (scratch / test).exists()]
        path = scratch / file
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if text.count(original) != 1:
            return "not applicable"
        if not tests:  # an older checkout without the guarding test files: nothing can catch it
            return "SURVIVED"
        path.write_text(text.replace(original, mutated), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(scratch)}
        result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                                cwd=scratch, env=env, capture_output=True, text=True)
        return "killed" if result.returncode != 0 else "SURVIVED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="names of mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout to mutate (default: this one)")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m[0] in args.only]
    if args.list:
        print("\n".join(m[0] for m in chosen))
        return 0
    outcomes = []
    for mutant in chosen:
        started = time.perf_counter()
        outcome = run(mutant, args.repo)
        outcomes.append(outcome)
        print(f"{outcome:15s} {mutant[0]}  ({time.perf_counter() - started:.0f}s)", flush=True)
    applied = [o for o in outcomes if o != "not applicable"]
    survived = applied.count("SURVIVED")
    print(f"{survived} of {len(applied)} applicable mutants survived ({survived / max(len(applied), 1):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
