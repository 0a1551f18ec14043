"""The real `stance` command as a subprocess: outputs, formats, and the errors users get."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ANNOTATIONS
from procs import one_line_error, run

ARTICLE = ANNOTATIONS / "articles" / "igen-fr.txt"
#: An article whose speakers are named in reported speech and quotes, some over several sentences.
QUOTED = ANNOTATIONS / "articles" / "nyt-fr.txt"


def test_help_does_not_import_torch():
    code = ("import sys, stance, stance.cli; stance.cli.build_parser().format_help(); "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert run("--help").returncode == 0


def test_tag_jsonl_contract(trained_model):
    result = run("tag", str(ARTICLE), "--model", str(trained_model))
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    text = ARTICLE.read_text(encoding="utf-8")
    stances = [s["name"] for s in json.loads((trained_model / "schema.json").read_text())["stances"]]
    thresholds = dict(zip(stances, json.loads((trained_model / "calibration.json").read_text())["thresholds"]))
    assert [r["index"] for r in rows] == list(range(len(rows))) and len(rows) > 10
    for row in rows:
        assert row["article"] == "igen-fr" and text[row["start"]:row["end"]] == row["text"]
        assert {"positions", "stance", "speaker", "score"} <= set(row)
        if row["positions"]:
            top = row["positions"][0]
            assert (row["stance"], row["speaker"], row["score"], row["source"]) == \
                (top["stance"], top["speaker"], top["score"], top["source"])
            assert all(p["score"] >= thresholds[p["stance"]] for p in row["positions"])
        else:
            assert row["stance"] == "none" and row["speaker"] is None and 0.0 <= row["score"] <= 1.0
            assert row["source"] is None


def test_tag_threshold_stdin_and_csv(trained_model, tmp_path):
    low = run("tag", "-", "--model", str(trained_model), "--threshold", "0.01", stdin=ARTICLE.read_bytes())
    rows = [json.loads(line) for line in low.stdout.decode().splitlines()]
    assert rows[0]["article"] == "stdin" and all(r["positions"] for r in rows)
    sourced = run("tag", "-", "--model", str(trained_model), "--threshold", "0.01", stdin=QUOTED.read_bytes())
    rows = [json.loads(line) for line in sourced.stdout.decode().splitlines()]
    text = QUOTED.read_text(encoding="utf-8")
    sources = [p["source"] for r in rows for p in r["positions"] if p["source"]]
    assert sources and all(text[s["start"]:s["end"]] == s["text"] for s in sources)
    assert any(not (r["start"] <= s["start"] < r["end"]) for r in rows for p in r["positions"]
               if (s := p["source"])), "a quote's source named in another sentence"

    out = tmp_path / "tags.csv"
    result = run("tag", str(ARTICLE), "--model", str(trained_model), "--format", "csv", "--output", str(out))
    assert result.returncode == 0, result.stderr.decode()
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(table[0]) == ["article", "index", "start", "end", "text", "positions", "stance", "speaker", "score",
                              "source_text", "source_start", "source_end", "page"]
    assert isinstance(json.loads(table[0]["positions"]), list)
    low_rows = run("tag", str(QUOTED), "--model", str(trained_model), "--threshold", "0.01", "--format", "csv")
    cells = list(csv.DictReader(io.StringIO(low_rows.stdout.decode("utf-8-sig"))))
    tops = [(r["source"] or {}) for r in rows]
    assert [(c["source_text"], c["source_start"], c["source_end"]) for c in cells] == \
        [(t.get("text", ""), str(t.get("start", "")), str(t.get("end", ""))) for t in tops]
    assert not list(tmp_path.glob("*.partial"))


def test_tag_directory_and_resume(trained_model, tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    for aid in ("igen-fr", "frtech-fr", "nyt-fr"):
        (folder / f"{aid}.txt").write_bytes((ANNOTATIONS / "articles" / f"{aid}.txt").read_bytes())
    out = tmp_path / "tags.jsonl"
    full = run("tag", str(folder), "--model", str(trained_model), "--output", str(out))
    assert full.returncode == 0, full.stderr.decode()
    expected = out.read_text(encoding="utf-8")
    # An interrupted run leaves <output>.partial with whole articles and a cut last line.
    lines = expected.splitlines(keepends=True)
    first_two = [line for line in lines if json.loads(line)["article"] in ("frtech-fr", "igen-fr")]
    out.unlink()
    (tmp_path / "tags.jsonl.partial").write_text("".join(first_two) + lines[-1][:20], encoding="utf-8")
    resumed = run("tag", str(folder), "--model", str(trained_model), "--output", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr.decode()
    # Same rows; scores may move in the last digits, as the resumed run batches sentences differently.
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    want = [json.loads(line) for line in lines]
    assert [_key(row) for row in got] == [_key(row) for row in want]
    assert max(abs(a["score"] - b["score"]) for a, b in zip(got, want)) < 0.02
    assert not (tmp_path / "tags.jsonl.partial").exists()
    # The finished articles were kept, not tagged again: a marker put in them survives.
    marked = [json.dumps({**json.loads(line), "score": 0.123456}) + "\n" for line in first_two]
    out.unlink()
    (tmp_path / "tags.jsonl.partial").write_text("".join(marked), encoding="utf-8")
    again = run("tag", str(folder), "--model", str(trained_model), "--output", str(out), "--resume")
    assert again.returncode == 0, again.stderr.decode()
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["score"] for r in rows if r["article"] == "frtech-fr"] == [0.123456] * sum(
        1 for r in want if r["article"] == "frtech-fr")
    assert [_key(row) for row in rows if row["article"] == "nyt-fr"] == [_key(row) for row in want if row["article"] == "nyt-fr"]


def _key(row: dict) -> tuple:
    return row["article"], row["index"], row["start"], row["end"], row["stance"], row["speaker"]


def test_html_output_renders_in_a_real_browser(trained_model, tmp_path):
    out = tmp_path / "tags.html"
    result = run("tag", str(ARTICLE), str(QUOTED), "--model", str(trained_model), "--format", "html",
                 "--output", str(out), "--threshold", "0.2")
    assert result.returncode == 0, result.stderr.decode()
    page = out.read_text(encoding="utf-8")
    assert 'id="legend"' in page and "national_security" in page and 'title="' in page
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if _which(b)), None)
    if browser is None:
        pytest.skip("no headless Chromium installed (Debian package chromium); the page was checked as text only")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", out.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-500:]
    assert dom.stdout.count('class="s"') == page.count('class="s"') > 10
    assert 'data-stance="' in dom.stdout and "partenaire technique" in dom.stdout
    # Speakers and sources are on the page as text after their sentence, not only in a tooltip.
    tagged = page.count('class="s" data-stance="') - page.count('class="s" data-stance="none"')
    assert dom.stdout.count('class="who"') == tagged > 0
    shown = re.findall(r'<span class="who">\[(.*?)\]</span>', dom.stdout)
    speakers = {s["name"] for s in json.loads((trained_model / "schema.json").read_text())["speakers"]}
    assert all(entry.split(" <q")[0] in speakers for who in shown for entry in who.split("; "))
    assert "<q data-start=" in dom.stdout, "a source mention shown in a tagged sentence's label"


def _which(name: str) -> bool:
    import shutil

    return shutil.which(name) is not None


def test_evaluate_prints_model_and_baselines(trained_model, small_corpus, tmp_path):
    out = tmp_path / "report.json"
    result = run("evaluate", "--model", str(trained_model), "--corpus", str(small_corpus), "--json", str(out))
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert "held-out (nyt-en)" in text and all(name in text for name in ("model", "tfidf", "majority"))
    assert "confusion matrix of the model" in text and "attribution acc" in text
    report = json.loads(out.read_text())
    figures = report["heldout"]["model"]
    assert 0.0 <= figures["macro_f1_low"] <= figures["macro_f1"] <= figures["macro_f1_high"] <= 1.0
    assert len(figures["confusion"]["matrix"]) == 4


def test_validate_reports_problems_and_counts(tmp_path):
    ok = run("validate", str(ANNOTATIONS))
    assert ok.returncode == 0 and "spans" in ok.stdout.decode() and "national_security" in ok.stdout.decode()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "schema.json").write_text('{"name": "x"', encoding="utf-8")
    result = run("validate", str(bad))
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"{bad / 'schema.json'}:1: not valid JSON")


def test_dataset_writes_jsonl_and_parquet(tmp_path):
    import pyarrow.parquet as pq

    jsonl, parquet = tmp_path / "sentences.jsonl", tmp_path / "sentences.parquet"
    assert run("dataset", "--corpus", str(ANNOTATIONS), "--output", str(jsonl), "--examples").returncode == 0
    assert run("dataset", "--corpus", str(ANNOTATIONS), "--output", str(parquet)).returncode == 0
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    table = pq.read_table(parquet).to_pylist()
    assert {r["story"] for r in rows} - {r["story"] for r in table} == {"examples", "passages"}
    assert [r["text"] for r in table] == [r["text"] for r in rows if r["story"] not in ("examples", "passages")]
    assert oct(parquet.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    err = one_line_error(run("dataset", "--corpus", str(ANNOTATIONS), "--format", "parquet"), code=2)
    assert "needs --output" in err


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_version_and_every_option_has_help_with_its_default():
    from stance import __version__
    from stance.cli import build_parser

    result = run("--version")
    assert result.returncode == 0 and result.stdout.decode().strip() == f"stance {__version__}"
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in commands.items():
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"stance {name} {action.option_strings[0]} has no help"
                help_text = sub.formatter_class(name)._get_help_string(action)
                shown = action.default in (None, False) or "default" in help_text
                assert shown, f"stance {name} {action.option_strings[0]} does not show its default"


def test_the_corpus_defaults_to_annotations_here_and_says_how_to_point_at_one(tmp_path):
    """From the repository root ./annotations is found; elsewhere the error says what to do."""
    here = run("validate", cwd=ANNOTATIONS.parent)
    assert here.returncode == 0, here.stderr.decode()
    elsewhere = one_line_error(run("dataset", cwd=tmp_path), 2)
    assert "no ./annotations folder here" in elsewhere and "--corpus DIR" in elsewhere
