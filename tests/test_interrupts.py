"""Interruptions keep finished work and nothing else; exit codes 70, 130, 141 and 143 each mean what
the README says (issue 13, cases 5, 7, 8 and 10; issue 14). Every case runs the real CLI, and every
signal is sent only once the staging folder, temporary path or rows it aims at exist."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ANNOTATIONS
from procs import one_line_error, run, snapshot, start, temporaries, wait_for

ARTICLE = ANNOTATIONS / "articles" / "igen-fr.txt"
SIGNALS = [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]


def rows(path: Path) -> list[str]:
    """Complete lines of a JSONL output (a line being written is not one yet)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return text.splitlines(keepends=True)[: text.count("\n")]


# -- import: everything checked first, one transaction -------------------------------------------

@pytest.mark.parametrize("document", [
    {"text": "Texte.", "label": [], "article": "a\u0000b"},
    {"text": "Texte.", "label": [], "article": "x" * 300},
    {"text": "Texte \ud800.", "label": [], "article": "surrogate"},
])
def test_a_refused_import_writes_nothing(small_corpus, tmp_path, document):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    export = tmp_path / "export.jsonl"
    good = {"text": "Un nouvel article.", "label": [], "article": "new-article"}
    export.write_text(json.dumps(good) + "\n" + json.dumps(document) + "\n", encoding="utf-8")
    before = snapshot(corpus)
    err = one_line_error(run("import", str(export), "--corpus", str(corpus), "--force"))
    assert "export.jsonl:2" in err
    assert snapshot(corpus) == before


def test_a_label_studio_note_that_is_not_text_writes_nothing(small_corpus, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    region = {"id": "r1", "type": "labels", "value": {"start": 0, "end": 6, "labels": ["denial:oracle"]},
              "meta": {"text": ["note \ud800"]}}
    tasks = [{"id": 1, "data": {"text": "Oracle dément.", "article": "new"}, "annotations": [{"result": [region]}]}]
    export = tmp_path / "tasks.json"
    export.write_text(json.dumps(tasks), encoding="utf-8")
    before = snapshot(corpus)
    err = one_line_error(run("import", str(export), "--corpus", str(corpus), "--force"))
    assert "note of span 1 holds '\\ud800'" in err
    assert snapshot(corpus) == before


@pytest.mark.parametrize("sig, code, word", SIGNALS)
def test_an_interrupted_import_leaves_the_corpus_as_it_was(small_corpus, tmp_path, sig, code, word):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps({"text": f"Article numéro {i}.", "label": [], "article": f"doc-{i:05}"}) + "\n"
                              for i in range(20_000)), encoding="utf-8")
    before = snapshot(corpus)
    process = start("import", str(export), "--corpus", str(corpus), "--force")
    assert wait_for(lambda: bool(temporaries(corpus, "stance-staging-")), process), process.communicate()
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code and err.decode() == f"stance: {word}\n", err.decode()
    assert snapshot(corpus) == before


def test_a_large_import_summarises_its_warnings(small_corpus, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps({"text": f"Article {i}.", "label": [], "article": f"doc-{i:04}"}) + "\n"
                              for i in range(1000)), encoding="utf-8")
    result = run("import", str(export), "--corpus", str(corpus), "--force")
    assert result.returncode == 0, result.stderr.decode()
    (warning,) = [line for line in result.stderr.decode().splitlines() if "new articles" in line]
    assert warning.startswith("warning: 1000 new articles written to articles/ and listed in articles.jsonl")
    assert "doc-0000 (" in warning and "doc-0004 (" in warning and warning.endswith(" and 995 more")
    assert len(list((corpus / "articles").glob("doc-*.txt"))) == 1000


# -- tagging: rows as they are scored, kept on interruption, continued by --resume ---------------

@pytest.mark.parametrize("sig, code, word", SIGNALS)
def test_a_long_article_streams_rows_and_resume_continues_it(tiny_model, tmp_path, sig, code, word):
    """130/143 for tag --output, then --resume on the .partial the interruption really left.

    Standard input is the second document and stays open, so the process is still reading its
    input, with the first windows of the long article written, when the signal comes."""
    article = tmp_path / "long.txt"
    article.write_text(" ".join(f"Phrase numéro {i} de l'article." for i in range(1000)), encoding="utf-8")
    output = tmp_path / "tags.jsonl"
    partial = tmp_path / "tags.jsonl.partial"
    process = start("tag", str(article), "-", "--model", str(tiny_model), "--output", str(output),
                    stdin=subprocess.PIPE)
    written = 32 + 512  # the first window is one batch, then windows of 512 sentences
    assert wait_for(lambda: len(rows(partial)) >= written, process), process.communicate()
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code and err.decode().startswith(f"stance: error: {word}; finished rows are kept in")
    kept = rows(partial)
    assert [json.loads(line)["index"] for line in kept] == list(range(written)) and not output.exists()
    resumed = run("tag", str(article), "-", "--model", str(tiny_model), "--output", str(output), "--resume",
                  stdin="Une dernière phrase.".encode())
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert f"kept {written} rows of the interrupted run, wrote {1000 - written + 1} more" in resumed.stderr.decode()
    final = rows(output)
    assert final[:written] == kept and not partial.exists()
    assert [(json.loads(line)["article"], json.loads(line)["index"]) for line in final] == \
        [("long", i) for i in range(1000)] + [("stdin", 0)]


def test_resume_refuses_a_partial_output_of_another_format(tiny_model, tmp_path):
    output = tmp_path / "tags.csv"
    partial = tmp_path / "tags.csv.partial"
    row = {"article": "igen-fr", "index": 0, "start": 0, "end": 5, "text": "x", "positions": [], "stance": "none",
           "speaker": None, "score": 0.5}
    partial.write_text(json.dumps(row) + "\n", encoding="utf-8")
    err = one_line_error(run("tag", str(ARTICLE), "--model", str(tiny_model), "--output", str(output),
                             "--format", "csv", "--resume"), code=2)
    assert "holds jsonl rows but --format is csv; resume with --format jsonl" in err
    assert partial.read_text(encoding="utf-8") == json.dumps(row) + "\n"
    for first in ("[]", "null"):
        odd = tmp_path / f"odd-{first}.jsonl"
        Path(f"{odd}.partial").write_text(first + "\n", encoding="utf-8")
        err = one_line_error(run("tag", str(ARTICLE), "--model", str(tiny_model), "--output", str(odd), "--resume"),
                             code=2)
        assert "is not a jsonl or csv output of stance" in err


def test_csv_resume_keeps_rows_whose_cells_hold_line_breaks(tiny_model, tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    shutil.copy(ANNOTATIONS / "articles" / "nyt-en.txt", folder / "a\nb.txt")  # 67 sentences
    shutil.copy(ARTICLE, folder / "z.txt")
    full = tmp_path / "full.csv"
    assert run("tag", str(folder), "--model", str(tiny_model), "--output", str(full), "--format", "csv").returncode == 0
    data = full.read_bytes()
    cut = data[: data.index(b'"a\nb",40,')]  # cut inside the 41st row of the article named with a line break
    output = tmp_path / "resumed.csv"
    Path(f"{output}.partial").write_bytes(cut + b'"a\nb",40,12')
    result = run("tag", str(folder), "--model", str(tiny_model), "--output", str(output), "--format", "csv", "--resume")
    assert result.returncode == 0, result.stderr.decode()
    assert "kept 40 rows" in result.stderr.decode()
    assert output.read_bytes().startswith(cut)
    keys = [line.split(b",")[:4] for line in (full.read_bytes(), output.read_bytes())]
    assert keys[0] == keys[1]


# -- SIGTERM everywhere, and the exit codes ------------------------------------------------------

def test_sigterm_during_the_encoder_conversion_leaves_no_temporary_folder(small_corpus, tmp_path):
    home = tmp_path / "home"
    stale = home / "encoders" / "multilingual-e5-small"
    stale.mkdir(parents=True)
    (stale / "stance_provenance.json").write_text('{"converter_version": 0}', encoding="utf-8")
    (stale / "config.json").write_text("{}", encoding="utf-8")
    before = snapshot(home)
    process = start("train", "--corpus", str(small_corpus), "--output", str(tmp_path / "model"),
                    env={"STANCE_HOME": str(home)})
    assert wait_for(lambda: bool(temporaries(stale.parent, stale.name)), process), process.communicate()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143 and err.decode() == "stance: terminated\n", err.decode()
    assert snapshot(home) == before and not (tmp_path / "model").exists()


def test_exit_141_when_the_reader_of_standard_output_goes_away(tiny_model):
    # nyt-en has more sentences than the first window (32): those rows come before stdin is read.
    article = ANNOTATIONS / "articles" / "nyt-en.txt"
    process = start("tag", str(article), "-", "--model", str(tiny_model), stdin=subprocess.PIPE)
    assert process.stdout.readline().startswith(b'{"article": "nyt-en"')
    process.stdout.close()  # like `| head -1`: nobody reads the remaining rows
    _, err = process.communicate(input=b"Encore une phrase.", timeout=300)
    assert process.returncode == 141 and err == b"", err.decode()


def test_exit_70_only_for_a_bug_with_one_line_and_the_way_to_see_more(tmp_path):
    planted = ("import sys, stance.cli, stance.schema; "
               "stance.schema.schema_problems = lambda data: 1 / 0; "  # a bug, planted
               f"sys.exit(stance.cli.main(['validate', {str(ANNOTATIONS)!r}]))")
    result = subprocess.run([sys.executable, "-c", planted], capture_output=True, timeout=300)
    err = one_line_error(result, code=70)
    assert err.startswith("stance: internal error: ZeroDivisionError") and "--debug" in err
