"""``stance tag --ray``: the same rows as a plain run, from a local Ray of two CPUs.

Ray is an optional extra; CI installs it (``.ci/run``), so this module skips only where it is
missing, and the skip is listed with its reason at the end of the log.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.procs import one_line_error, run

SPEAKERS = ["The minister", "The union", "A spokesperson", "Critics"]
VERBS = ["said", "argued", "warned", "insisted"]


def _table(path: Path, count: int = 200) -> Path:
    """A Parquet table of short articles: one to three sentences, some quoted, one empty."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = []
    for i in range(count):
        quote = f'"We will {"support" if i % 2 else "oppose"} plan {i}," {SPEAKERS[i % 4].lower()} {VERBS[i % 3]}.'
        sentences = [quote, f"{SPEAKERS[(i + 1) % 4]} {VERBS[i % 4]} that the vote was close."]
        texts.append(" ".join(sentences[: 1 + i % 3]) if i != 7 else "")
    pq.write_table(pa.table({"id": [f"a{i:03d}" for i in range(count)], "text": texts}), path)
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_ray_tags_a_table_like_the_plain_run(tiny_model: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason='Ray is an optional extra: pip install -e ".[ray]"')
    table = _table(tmp_path / "articles.parquet")
    common = ("tag", str(table), "--model", str(tiny_model), "--precision", "float32")
    plain = run(*common, "--output", str(tmp_path / "plain.jsonl"))
    assert plain.returncode == 0, plain.stderr.decode()
    # Ray is started for the run with every CPU of this machine; the test machine has two
    ray = run(*common, "--ray", "--output", str(tmp_path / "ray.jsonl"))
    assert ray.returncode == 0, ray.stderr.decode()
    expected, got = _rows(tmp_path / "plain.jsonl"), _rows(tmp_path / "ray.jsonl")
    assert len(expected) > 200 and len(got) == len(expected)
    assert [r["article"] for r in got] == [r["article"] for r in expected]  # input order, every row
    for mine, theirs in zip(got, expected, strict=True):
        assert len(mine["positions"]) == len(theirs["positions"]), (mine, theirs)
        for a, b in zip([mine, *mine["positions"]], [theirs, *theirs["positions"]], strict=True):
            assert math.isclose(a.pop("score"), b.pop("score"), abs_tol=1e-3), (mine, theirs)
        assert mine == theirs  # labels, speakers, offsets, sources: identical


def test_ray_refuses_resume_and_addresses_it_cannot_use(tiny_model: Path, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("The minister said the plan is good.\n", encoding="utf-8")
    common = ("tag", str(article), "--model", str(tiny_model))
    err = one_line_error(run(*common, "--ray", "--resume", "--output", str(tmp_path / "o.jsonl")), code=2)
    assert "--resume cannot be combined with --ray" in err
    err = one_line_error(run(*common, "--ray-address", "head:6379"), code=2)
    assert "needs --ray" in err
    err = one_line_error(run(*common, "--ray", "--ray-address", "ray://head:10001"), code=2)
    assert "cannot run through Ray Client" in err


def test_ray_missing_says_how_to_install(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from stance.cli import main

    article = tmp_path / "a.txt"
    article.write_text("The minister said the plan is good.\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    assert main(["tag", str(article), "--model", str(tiny_model), "--ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[ray]"' in err, err
