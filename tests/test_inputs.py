"""Hostile or careless input gets exit 1 or 2 and one line naming the path and what to do, never
exit 70, never a hang (issue 13, cases 6, 9, 11-14). Every case runs the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ANNOTATIONS
from procs import one_line_error, run, start

ARTICLE = ANNOTATIONS / "articles" / "igen-fr.txt"
LONG_PATH = "a/" * 3000 + "x.txt"  # longer than PATH_MAX (4096)


def texts(result: subprocess.CompletedProcess) -> list[str]:
    return [json.loads(line)["text"] for line in result.stdout.decode().splitlines()]


def finished(process: subprocess.Popen, timeout: float = 120) -> subprocess.CompletedProcess:
    """The result of a background command, failing the test if it hangs."""
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture()
def odd_corpus(small_corpus, tmp_path) -> Path:
    """A corpus whose articles/ holds every entry that cannot be read safely."""
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    articles = corpus / "articles"
    os.mkfifo(articles / "pipe.txt")
    (articles / "folder.txt").mkdir()
    (articles / "loop.txt").symlink_to("loop.txt")
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY\n", encoding="utf-8")
    (articles / "secret.txt").symlink_to(secret)
    return corpus


def test_articles_that_are_not_regular_files_inside_the_corpus_are_refused(odd_corpus, tmp_path):
    result = finished(start("validate", str(odd_corpus)))
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "pipe.txt:1: is a FIFO (named pipe), not a regular file" in err
    assert "folder.txt:1: is a folder" in err and "loop.txt:1: cannot be read (Too many levels of symbolic links" in err
    assert f"secret.txt:1: links to {tmp_path / 'id_rsa'}, outside {odd_corpus}" in err
    export = tmp_path / "export.jsonl"
    for command in (("export", str(export), "--format", "doccano", "--corpus", str(odd_corpus)),
                    ("train", "--corpus", str(odd_corpus), "--output", str(tmp_path / "model"))):
        assert "folder.txt:1: is a folder" in one_line_error(finished(start(*command)))
    assert not export.exists() and not (tmp_path / "model").exists()


def test_a_folder_with_unreadable_entries_tags_the_rest_and_exits_1(tiny_model, odd_corpus):
    result = finished(start("tag", str(odd_corpus / "articles"), "--model", str(tiny_model)))
    err = result.stderr.decode()
    assert result.returncode == 1, err
    tagged = {json.loads(line)["article"] for line in result.stdout.decode().splitlines()}
    assert tagged == {"igen-fr", "frtech-fr", "nyt-en"}
    skipped = [line for line in err.splitlines() if line.startswith("warning: skipped ")]
    assert [line.split()[2].rstrip(":").rsplit("/", 1)[1] for line in skipped] == [
        "folder.txt", "loop.txt", "pipe.txt", "secret.txt"]
    assert err.splitlines()[-1] == "stance: error: 4 input(s) skipped (listed above); the other articles were tagged"


def test_fifos_process_substitution_and_devices_are_read_as_streams(tiny_model, tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("Une phrase. Une autre phrase.\n", encoding="utf-8"))
    writer.start()
    result = subprocess.run(["bash", "-c", (f'"{sys.executable}" -m stance.cli tag "{fifo}" <(printf "Hello there.") '
                             f'--model "{tiny_model}"')], capture_output=True, timeout=300)
    writer.join(timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert texts(result) == ["Une phrase.", "Une autre phrase.", "Hello there."]
    assert json.loads(result.stdout.decode().splitlines()[0])["article"] == "pipe"
    assert "/dev/zero: looks like binary data" in one_line_error(run("tag", "/dev/zero", "--model", str(tiny_model)))
    with open("/dev/zero", "rb") as zero:
        process = start("tag", "-", "--model", str(tiny_model), stdin=zero)
        assert "stdin: looks like binary data" in one_line_error(finished(process, timeout=120))


def test_a_file_name_that_is_not_utf8_gets_an_escaped_id(tiny_model, tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"Une phrase. Une autre.")
    result = run("tag", str(folder), "--model", str(tiny_model))
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert {row["article"] for row in rows} == {"caf\\xe9"}
    assert "file name is not valid UTF-8; its rows use the id caf\\xe9" in result.stderr.decode()
    output = tmp_path / "tags.jsonl"
    result = run("tag", str(folder), "--model", str(tiny_model), "--output", str(output))
    assert result.returncode == 0, result.stderr.decode()
    assert len(output.read_text(encoding="utf-8").splitlines()) == 2 and not list(tmp_path.glob("*.partial"))


def test_utf16_with_a_byte_order_mark_is_decoded_with_a_warning(tiny_model, tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("Pékin dément. Deuxième phrase.".encode("utf-16"))
    result = run("tag", str(path), "--model", str(tiny_model))
    assert texts(result) == ["Pékin dément.", "Deuxième phrase."]
    assert "windows.txt: UTF-16 text, decoded" in result.stderr.decode()


def test_non_finite_config_values_and_weights_are_refused(tiny_model, small_corpus, tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"learning_rate": Infinity}', encoding="utf-8")
    model = tmp_path / "m"
    err = one_line_error(run("train", "--corpus", str(small_corpus), "--config", str(config), "--output", str(model)))
    assert "learning_rate = inf is not a finite number" in err and not model.exists()
    from safetensors.torch import load_file, save_file

    model = tmp_path / "diverged"
    shutil.copytree(tiny_model, model)
    tensors = load_file(str(model / "model.safetensors"))
    tensors["speaker_head.bias"][0] = float("nan")
    save_file(tensors, str(model / "model.safetensors"), metadata={"format": "pt"})
    err = one_line_error(run("tag", str(ARTICLE), "--model", str(model)))
    assert "non-finite weights" in err and "lower learning_rate" in err


def test_environment_errors_are_exit_1_or_2_with_the_path(tiny_model, small_corpus, tmp_path):
    model = str(tiny_model)
    assert "cannot be read (File name too long" in one_line_error(run("tag", LONG_PATH, "--model", model), code=1)
    err = one_line_error(run("tag", str(ARTICLE), "--model", model, "--output", LONG_PATH), code=2)
    assert "File name too long" in err
    assert "File name too long" in one_line_error(run("validate", LONG_PATH), code=1)
    assert "File name too long" in one_line_error(run("import", LONG_PATH, "--corpus", str(small_corpus), "--force"))
    closed = subprocess.run([sys.executable, "-m", "stance.cli", "tag", "-", "--model", model], capture_output=True,
                            preexec_fn=lambda: os.close(0), timeout=300)
    assert "standard input is closed" in one_line_error(closed)
    err = one_line_error(run("dataset", "--corpus", str(small_corpus), "--output", str(ARTICLE / "x.jsonl")), code=2)
    assert "igen-fr.txt is a file, not a folder" in err
    for command in (("tag", str(ARTICLE), "--model", model, "--output", "."), ("dataset", "--output", ".")):
        assert ".: is a directory" in one_line_error(run(*command), code=2)


@pytest.mark.parametrize("content, expected", [
    ("1" * 5000, "an integer has more than 4300 digits"),
    ("[" * 100_000, "arrays or objects nested too deeply"),
])
def test_json_over_python_limits_is_exit_1(small_corpus, tmp_path, content, expected):
    config = tmp_path / "config.json"
    config.write_text('{"epochs": ' + content + "}", encoding="utf-8")
    assert expected in one_line_error(run("train", "--corpus", str(small_corpus), "--config", str(config)))
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    with open(corpus / "spans.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"article": "igen-fr", "start": ' + content + "}\n")
    validate = run("validate", str(corpus))
    assert validate.returncode == 1 and expected in validate.stderr.decode()
    export = tmp_path / "export.jsonl"
    export.write_text('{"text": "x", "label": [[0, ' + content + ', "a:b"]]}\n', encoding="utf-8")
    assert expected in one_line_error(run("import", str(export), "--corpus", str(corpus), "--force"))


def test_schema_and_span_messages_say_what_is_wrong(small_corpus, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    schema = json.loads((corpus / "schema.json").read_text(encoding="utf-8"))
    (corpus / "schema.json").write_text(json.dumps({**schema, "voice": ["narrator"]}), encoding="utf-8")
    result = run("validate", str(corpus))
    assert result.returncode == 1 and "'voice' must be the name of one speaker" in result.stderr.decode()
    (corpus / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    with open(corpus / "spans.jsonl", "a", encoding="utf-8") as handle:
        span = {"article": "igen-fr", "start": 5, "end": 5, "text": "", "speaker": "oracle", "stance": "denial"}
        handle.write(json.dumps(span) + "\n")
    result = run("validate", str(corpus))
    assert result.returncode == 1 and "empty span (start = end = 5)" in result.stderr.decode()


def test_every_model_file_gets_the_usual_permissions(tiny_model):
    mask = os.umask(0)
    os.umask(mask)
    modes = {p.relative_to(tiny_model).as_posix(): oct(p.stat().st_mode & 0o777)
             for p in tiny_model.rglob("*") if p.is_file()}
    assert set(modes.values()) == {oct(0o666 & ~mask)}, modes
