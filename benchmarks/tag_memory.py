"""Peak resident memory of each process of a `stance tag` run (the parent and its workers).

    python benchmarks/tag_memory.py -- tag INPUT --model DIR --workers 2 --output /tmp/tags.jsonl

runs the command, samples every process of its tree every 20 ms (psutil), and prints one line per
process: its peak RSS, and how much of it was file-backed at that moment (memory-mapped weights,
shared between processes through the page cache) versus anonymous (private to the process).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import psutil


def measure(command: list[str]) -> tuple[int, dict[int, tuple[str, int, int]]]:
    """The command's exit code and, per process, (role, peak RSS, anonymous part at the peak)."""
    process = subprocess.Popen([sys.executable, "-m", "stance.cli", *command], stdout=subprocess.DEVNULL)
    root = psutil.Process(process.pid)
    peaks: dict[int, tuple[str, int, int]] = {}
    while process.poll() is None:
        for member in [root, *root.children(recursive=True)]:
            try:
                info = member.memory_info()
                role = "parent" if member.pid == root.pid else "worker"
                if info.rss > peaks.get(member.pid, ("", 0, 0))[1]:
                    peaks[member.pid] = (role, info.rss, info.rss - info.shared)
            except psutil.Error:
                continue
        time.sleep(0.02)
    return process.returncode, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="arguments of `stance` after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    code, peaks = measure(command)
    for pid, (role, rss, anonymous) in sorted(peaks.items()):
        if rss > 100 * 2**20:  # the resource tracker and other helpers of multiprocessing are not of interest
            print(f"{role} {pid}: peak RSS {rss / 2**20:,.0f} MB ({anonymous / 2**20:,.0f} MB anonymous, "
                  f"{(rss - anonymous) / 2**20:,.0f} MB file-backed)")
    print(f"exit code {code}")


if __name__ == "__main__":
    main()
