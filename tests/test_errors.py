"""The input matrix: odd but valid input is handled, bad input gets one line and an exit code,
and nothing is ever half-written. Every case runs the real CLI as a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import ANNOTATIONS
from procs import one_line_error, run


def rows_of(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


# -- valid but odd input ---------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  \n"])
def test_empty_and_blank_articles_give_no_sentences(tiny_model, tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    result = run("tag", str(path), "--model", str(tiny_model))
    assert rows_of(result) == [] and result.stderr.decode() == ""


def test_crlf_offsets_index_the_file_as_stored(tiny_model, tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Le titre\r\n\r\nPremi\xc3\xa8re phrase. Deuxi\xc3\xa8me phrase.\r\n")
    text = open(path, encoding="utf-8", newline="").read()
    rows = rows_of(run("tag", str(path), "--model", str(tiny_model)))
    assert [r["text"] for r in rows] == ["Le titre", "Première phrase.", "Deuxième phrase."]
    assert all(text[r["start"]:r["end"]] == r["text"] for r in rows)


def test_cp1252_article_is_decoded_with_a_warning(tiny_model, tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes("« Pékin dément », a déclaré le ministère. L’été fut long.".encode("cp1252"))
    result = run("tag", str(path), "--model", str(tiny_model))
    rows = rows_of(result)
    assert rows[0]["text"] == "« Pékin dément », a déclaré le ministère."
    warning = result.stderr.decode()
    assert warning.count("\n") == 1 and "legacy.txt" in warning and "cp1252" in warning


def test_five_megabyte_line_without_punctuation_finishes_in_bounded_memory(tiny_model, tmp_path):
    path = tmp_path / "blob.txt"
    path.write_text(("motsansponctuation " * 280_000)[:5_000_000], encoding="utf-8")
    out = tmp_path / "blob.jsonl"
    # A wrapper process reports the peak memory of its one child: the real CLI on this input.
    wrapper = ("import resource, subprocess, sys; "
               "code = subprocess.run([sys.executable, '-m', 'stance.cli', *sys.argv[1:]]).returncode; "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", wrapper, "tag", str(path), "--model", str(tiny_model),
                             "--output", str(out)], capture_output=True, timeout=600)
    assert result.returncode == 0, result.stderr.decode()
    peak_mb = int(result.stdout.decode().split()[-1]) / 1024
    lengths = []
    with open(out, encoding="utf-8") as handle:
        for line in handle:
            lengths.append(len(json.loads(line)["text"]))
    assert sum(lengths) >= 4_900_000 and max(lengths) <= 2000
    assert peak_mb < 2500, f"peak memory {peak_mb:.0f} MB for a 5 MB input"


def test_other_languages_are_tagged_without_error(tiny_model, tmp_path):
    path = tmp_path / "other.txt"
    path.write_text("TikTok 在美国面临禁令。Экспортный контроль Китая. Die Regierung äußerte sich nicht. 🎵",
                    encoding="utf-8")
    assert len(rows_of(run("tag", str(path), "--model", str(tiny_model)))) >= 2


# -- bad input: one line on stderr, non-zero exit ----------------------------------------------

def test_binary_article(tiny_model, tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "image.txt: looks like binary data" in one_line_error(run("tag", str(path), "--model", str(tiny_model)))


def test_directory_without_txt_files(tiny_model, tmp_path):
    assert "no .txt, .html or .htm files" in one_line_error(run("tag", str(tmp_path), "--model", str(tiny_model)))


def test_missing_article(tiny_model, tmp_path):
    assert "missing.txt: no such file" in one_line_error(run("tag", str(tmp_path / "missing.txt"), "--model", str(tiny_model)))


def test_directory_given_as_output_or_config(tiny_model, small_corpus, tmp_path):
    article = ANNOTATIONS / "articles" / "igen-fr.txt"
    err = one_line_error(run("tag", str(article), "--model", str(tiny_model), "--output", str(tmp_path)), code=2)
    assert "is a directory" in err
    err = one_line_error(run("train", "--corpus", str(small_corpus), "--config", str(tmp_path)), code=2)
    assert "is a directory" in err


def test_unknown_format_and_bad_threshold(tiny_model):
    article = str(ANNOTATIONS / "articles" / "igen-fr.txt")
    assert "unknown --format 'xml'" in one_line_error(run("tag", article, "--format", "xml"), code=2)
    assert "between 0 and 1" in one_line_error(run("tag", article, "--threshold", "7"), code=2)
    assert "invalid float value" in one_line_error(run("tag", article, "--threshold", "high"), code=2)


def test_missing_and_broken_model_directories(tiny_model, tmp_path):
    article = str(ANNOTATIONS / "articles" / "igen-fr.txt")
    assert "no model here" in one_line_error(run("tag", article, "--model", str(tmp_path / "nothing")))
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").unlink()
    assert "missing model.safetensors" in one_line_error(run("tag", article, "--model", str(broken)))
    shutil.copy(tiny_model / "model.safetensors", broken)
    with open(broken / "model.safetensors", "r+b") as handle:
        handle.seek(8)
        handle.write(b"\xff" * 64)
    assert "corrupted weights" in one_line_error(run("tag", article, "--model", str(broken)))


def test_base_encoder_checksum_mismatch(tiny_model, tiny_encoder, tmp_path):
    encoder = tmp_path / "encoder"
    shutil.copytree(tiny_encoder, encoder)
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    info = json.loads((model / "encoder.json").read_text())
    (model / "encoder.json").write_text(json.dumps({**info, "name": str(encoder)}))
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(encoder / "model.safetensors"))
    next(iter(tensors.values())).add_(1.0)
    save_file(tensors, str(encoder / "model.safetensors"), metadata={"format": "pt"})
    err = one_line_error(run("tag", str(ANNOTATIONS / "articles" / "igen-fr.txt"), "--model", str(model)))
    assert "sha256" in err and "retrain" in err


def test_model_trained_with_another_schema(tiny_model, small_corpus, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    schema = json.loads((corpus / "schema.json").read_text(encoding="utf-8"))
    schema["stances"].append({"name": "support", "definition": "backs the measure"})
    (corpus / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    err = one_line_error(run("evaluate", "--model", str(tiny_model), "--corpus", str(corpus)))
    assert "trained with schema" in err


def test_invalid_config_file(small_corpus, tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"epochs": "ten"}', encoding="utf-8")
    err = one_line_error(run("train", "--corpus", str(small_corpus), "--config", str(config), "--output", str(tmp_path / "m")))
    assert "epochs = 'ten'" in err and not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "line, expected",
    [
        ('{"article": "igen-fr", "start": 0, "end": 99999, "text": "x", "speaker": "oracle", "stance": "denial"}',
         "outside the text"),
        ('{"article": "igen-fr", "start": 0, "end": 6, "text": "Oracle", "speaker": "oracle", "stance": "joy"}',
         "stance 'joy'"),
        ('{"article": "igen-fr", "start": 0, "en', "not valid JSON"),
    ],
)
def test_bad_annotations_stop_training_with_file_and_line(small_corpus, tmp_path, line, expected):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    count = len((corpus / "spans.jsonl").read_text(encoding="utf-8").splitlines())
    with open(corpus / "spans.jsonl", "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    err = one_line_error(run("train", "--corpus", str(corpus), "--output", str(tmp_path / "m")))
    assert f"spans.jsonl:{count + 1}: " in err and expected in err and not (tmp_path / "m").exists()
    validate = run("validate", str(corpus))
    assert validate.returncode == 1 and f"spans.jsonl:{count + 1}: " in validate.stderr.decode()


def test_debug_shows_the_traceback(tmp_path):
    result = run("--debug", "tag", str(tmp_path / "missing.txt"))
    assert result.returncode != 0 and "Traceback" in result.stderr.decode()


# -- nothing lost, nothing half-written --------------------------------------------------------

def test_training_cli_with_a_local_encoder_and_a_corpus_without_split(tiny_encoder, small_corpus, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(small_corpus, corpus)
    (corpus / "split.json").unlink()
    (corpus / "spans.jsonl").unlink()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"epochs": 1}), encoding="utf-8")
    result = run("train", "--corpus", str(corpus), "--config", str(config), "--encoder", str(tiny_encoder),
                 "--output", str(tmp_path / "model"))
    assert result.returncode == 0, result.stderr.decode()
    assert "no spans" in result.stderr.decode() and "nothing to evaluate" in result.stderr.decode()
    saved = json.loads((tmp_path / "model" / "training_config.json").read_text())
    assert saved["encoder"] == str(tiny_encoder) and saved["epochs"] == 1
