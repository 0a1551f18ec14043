"""What is at an output path is respected (issue 13, cases 1-4) and a failed or interrupted write
leaves the previous state byte for byte (issue 14). Every case runs the real CLI as a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ANNOTATIONS
from hypothesis import given
from hypothesis import strategies as st
from procs import one_line_error, run, snapshot, start, temporaries, wait_for

from stance.formats import neutralise, restore

ARTICLE = ANNOTATIONS / "articles" / "igen-fr.txt"


def _device(path: Path) -> Path:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the same device as /dev/null
    except PermissionError:
        pytest.skip("mknod is not permitted here (needs root or CAP_MKNOD); the device case cannot run")
    return path


def test_a_character_device_is_written_in_place(tiny_model, small_corpus, tmp_path):
    null = _device(tmp_path / "n")
    commands = [("dataset", "--corpus", str(ANNOTATIONS), "--output", str(null)),
                ("tag", str(ARTICLE), "--model", str(tiny_model), "--output", str(null)),
                ("export", str(null), "--format", "doccano", "--corpus", str(small_corpus)),
                ("evaluate", "--model", str(tiny_model), "--corpus", str(small_corpus), "--json", str(null))]
    for command in commands:
        result = run(*command)
        assert result.returncode == 0, (command, result.stderr.decode())
        assert stat.S_ISCHR(null.lstat().st_mode), f"{command[0]} replaced the device node"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n"]


def test_a_fifo_is_written_in_place(tiny_model, tmp_path):
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run("tag", str(ARTICLE), "--model", str(tiny_model), "--output", str(fifo))
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    rows = [json.loads(line) for line in received[0].decode().splitlines()]
    assert len(rows) > 10 and rows[0]["article"] == "igen-fr"


def test_a_symlinked_output_writes_its_target_and_stays_a_link(tiny_model, tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real.name)
    assert run("dataset", "--corpus", str(ANNOTATIONS), "--output", str(link)).returncode == 0
    assert link.is_symlink() and os.readlink(link) == real.name
    assert json.loads(real.read_text(encoding="utf-8").splitlines()[0])["article"]
    dangling = tmp_path / "tags.jsonl"
    dangling.symlink_to("made-by-tag.jsonl")
    result = run("tag", str(ARTICLE), "--model", str(tiny_model), "--output", str(dangling))
    assert result.returncode == 0, result.stderr.decode()
    assert dangling.is_symlink() and (tmp_path / "made-by-tag.jsonl").stat().st_size > 0
    assert not list(tmp_path.glob("*.partial"))


def test_train_refuses_a_folder_that_is_not_a_model_before_training(small_corpus, tmp_path):
    corpus = tmp_path / "cy"
    shutil.copytree(small_corpus, corpus)
    (corpus / "MY_NOTES.txt").write_text("x\n", encoding="utf-8")
    before = snapshot(tmp_path)
    err = one_line_error(run("train", "--corpus", str(corpus), "--output", str(corpus)), code=2)
    assert "is a folder that is not a stance model" in err and "MY_NOTES.txt" in err
    assert snapshot(tmp_path) == before
    (tmp_path / "afile").write_text("x\n", encoding="utf-8")
    err = one_line_error(run("train", "--corpus", str(corpus), "--output", str(tmp_path / "afile" / "model")), code=2)
    assert "afile is a file, not a folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    err = one_line_error(run("train", "--corpus", str(corpus), "--output", ".", cwd=empty), code=2)
    assert "is the current folder" in err


def test_older_models_and_marked_folders_may_be_replaced(tiny_model, tmp_path):
    from stance.bundle import MARKER_NAME, check_model_output
    from stance.errors import UsageError

    older = tmp_path / "older"
    shutil.copytree(tiny_model, older)
    assert (older / MARKER_NAME).is_file()
    (older / MARKER_NAME).unlink()  # a model written before the marker existed
    assert check_model_output(older) == older.resolve()
    (tmp_path / "marked").mkdir()
    (tmp_path / "marked" / MARKER_NAME).write_text("{}", encoding="utf-8")
    assert check_model_output(tmp_path / "marked")
    (older / "model.safetensors").unlink()
    with pytest.raises(UsageError, match="not a stance model"):
        check_model_output(older)


def test_an_output_that_is_an_input_or_a_corpus_file_is_refused(tiny_model, small_corpus, tmp_path):
    article = tmp_path / "a.txt"
    shutil.copy(ARTICLE, article)
    folder = tmp_path / "dir"
    folder.mkdir()
    shutil.copy(ARTICLE, folder / "b.txt")
    corpus = tmp_path / "c"
    shutil.copytree(small_corpus, corpus)
    before = snapshot(tmp_path)
    err = one_line_error(run("tag", str(article), "--model", str(tiny_model), "--output", str(article)), code=2)
    assert "a.txt: is also an input" in err
    err = one_line_error(run("tag", str(folder), "--model", str(tiny_model), "--output", str(folder / "tags.txt")),
                         code=2)
    assert "is inside the input folder" in err
    err = one_line_error(run("export", str(corpus / "spans.jsonl"), "--format", "doccano", "--corpus", str(corpus)),
                         code=2)
    assert "is a file of the corpus" in err
    err = one_line_error(run("dataset", "--corpus", str(corpus), "--output", str(corpus / "articles" / "new.txt")),
                         code=2)
    assert "is a file of the corpus" in err
    err = one_line_error(run("evaluate", "--model", str(tiny_model), "--corpus", str(corpus),
                             "--json", str(corpus / "split.json")), code=2)
    assert "is a file of the corpus" in err
    assert snapshot(tmp_path) == before


@given(st.text(max_size=8))
def test_neutralised_cells_give_the_value_back(cell):
    assert restore(neutralise(cell)) == cell
    assert not neutralise(cell).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_cells_that_look_like_formulas_are_neutralised(tiny_model, tmp_path):
    path = tmp_path / "=HYPERLINK.txt"
    path.write_text("=cmd|' /C calc'!A0\n+plus\n-minus\n@at\n'quoted\nPlain words.\n", encoding="utf-8")
    result = run("tag", str(path), "--model", str(tiny_model), "--format", "csv")
    assert result.returncode == 0, result.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode("utf-8-sig"))))
    assert [r["text"] for r in rows] == ["'=cmd|' /C calc'!A0", "'+plus", "'-minus", "'@at", "''quoted", "Plain words."]
    assert {r["article"] for r in rows} == {"'=HYPERLINK"}


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_failing_write_leaves_the_previous_file_and_folder(tiny_model, tiny_encoder, small_corpus, tmp_path):
    previous = tmp_path / "sentences.jsonl"
    previous.write_text("the previous table\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "stance.cli", "dataset", "--corpus", str(ANNOTATIONS),
                             "--output", str(previous)], capture_output=True, preexec_fn=_file_size_limit(20_000))
    err = one_line_error(result)
    assert "sentences.jsonl: cannot be written (File too large" in err and "unchanged" in err
    assert previous.read_text(encoding="utf-8") == "the previous table\n"
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"epochs": 1}), encoding="utf-8")
    before = snapshot(tmp_path)
    # The tiny model's tokenizer.json (17 MB) is written past the limit, after training.
    result = subprocess.run([sys.executable, "-m", "stance.cli", "train", "--corpus", str(small_corpus), "--output",
                             str(model), "--encoder", str(tiny_encoder), "--config", str(config)],
                            capture_output=True, preexec_fn=_file_size_limit(1_000_000))
    assert "model: cannot be written (File too large" in one_line_error(result)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_write_leaves_the_previous_file(small_corpus, tmp_path, sig, code):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "articles").mkdir()
    shutil.copy(small_corpus / "schema.json", corpus)
    # 150,000 one-line sentences: writing the table takes seconds, a window the signal cannot miss.
    (corpus / "articles" / "long.txt").write_text("".join(f"Ligne {i}.\n" for i in range(150_000)), encoding="utf-8")
    output = tmp_path / "sentences.jsonl"
    output.write_text("the previous table\n", encoding="utf-8")
    process = start("dataset", "--corpus", str(corpus), "--output", str(output))
    assert wait_for(lambda: bool(temporaries(tmp_path, "sentences.jsonl")), process), process.communicate()
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err.decode()
    assert output.read_text(encoding="utf-8") == "the previous table\n"
    assert not temporaries(tmp_path, "sentences.jsonl")


def test_html_of_an_article_written_in_pieces_is_the_html_of_the_whole(small_corpus):
    from stance.formats import HtmlWriter
    from stance.predict import TaggedArticle
    from stance.records import TaggedSentence
    from stance.schema import Schema

    schema = Schema.load(small_corpus / "schema.json")
    text = " Un. Deux.\n\nTrois. "
    spans = [(1, 4), (5, 10), (12, 18)]
    rows = [TaggedSentence(s, e, text[s:e], "a", i, (), "none", None, 0.9) for i, (s, e) in enumerate(spans)]

    def page(pieces: list[TaggedArticle]) -> str:
        buffer = io.StringIO()
        writer = HtmlWriter(buffer, schema)
        for piece in pieces:
            writer.write(piece)
        writer.close()
        return buffer.getvalue()

    whole = page([TaggedArticle("a", text, rows)])
    pieces = page([TaggedArticle("a", text, rows[:1], last=False),
                   TaggedArticle("a", text, rows[1:2], first=False, last=False),
                   TaggedArticle("a", text, rows[2:], first=False)])
    assert pieces == whole and whole.count('class="s"') == 3 and "\n\n<span" in whole
