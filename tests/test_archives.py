"""Archives (issue 12): web pages, tables, worker processes and devices, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ANNOTATIONS
from test_cli import one_line_error, run

from stance.segment import split_sentences

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Port strike ends after talks | The Daily Example</title>
<script>var tracker = {id: "UA-000"}; function consent() { document.cookie = "ok=1"; }</script>
<style>body { font-family: sans-serif }</style></head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience. Accept all cookies?</p>
<button onclick="consent()">Accept</button></div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<main><article><h1>Port strike ends after talks</h1>
<p>The dockers' union said on Tuesday that the strike at the port would end after three weeks of talks.</p>
<p>"We have won a fair deal for our members," the union's leader told reporters outside the gates.</p>
<p>The employers' federation denied that it had given in, saying the deal kept wages within its budget.</p>
<p>Shipping companies welcomed the news and said traffic would return to normal within a week.</p>
</article></main>
<footer><p>Copyright 2026 The Daily Example. Privacy policy. Terms of use.</p></footer>
<script>consent();</script></body></html>
"""


def rows_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def short_articles(count: int = 200) -> list[tuple[str, str]]:
    """``count`` articles of two or three real news sentences, deterministically."""
    sentences = [s.text for aid in ("frtech-fr", "igen-fr", "nyt-fr")
                 for s in split_sentences((ANNOTATIONS / "articles" / f"{aid}.txt").read_text(encoding="utf-8"))
                 if len(s.text) > 30]
    return [(f"a{i:03d}", " ".join(sentences[(5 * i + k) % len(sentences)] for k in range(2 + i % 2)))
            for i in range(count)]


def write_parquet(path: Path, articles: list[tuple[str, str]], id_column: str = "id", text_column: str = "text") -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({id_column: [a for a, _ in articles], text_column: [t for _, t in articles],
                             "source": ["test"] * len(articles)}), path)
    return path


def test_an_html_page_yields_its_article_text_and_names_itself(tiny_model, tmp_path):
    folder = tmp_path / "archive"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "strike.html").write_text(PAGE, encoding="utf-8")
    (folder / "note.txt").write_text("The union met on Monday. It said nothing.", encoding="utf-8")
    (folder / "README.md").write_text("what this folder is", encoding="utf-8")
    (folder / "export.csv").write_text("id,text\n1,A table in a folder is not read.\n", encoding="utf-8")
    texts, out = tmp_path / "texts", tmp_path / "tags.csv"
    result = run("tag", str(folder), "--model", str(tiny_model), "--save-text", str(texts), "--device", "cpu")
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert f"warning: {folder}: 2 file(s) not read" in err and "README.md, export.csv" in err
    rows = rows_of(result.stdout.decode())
    page = [r for r in rows if r["article"] == "2026/strike"]
    extracted = (texts / "2026%2Fstrike.txt").read_text(encoding="utf-8")
    assert [r["text"] for r in page] == [extracted[r["start"]:r["end"]] for r in page]
    assert page[0]["text"] == "Port strike ends after talks" and len(page) == 5
    assert {r["page"] for r in page} == {str(folder / "2026" / "strike.html")}
    for junk in ("cookie", "Accept", "Home", "Politics", "tracker", "font-family", "Copyright", "<"):
        assert junk not in extracted
    note = [r for r in rows if r["article"] == "note"]
    assert len(note) == 2 and all(r["page"] is None for r in note)
    assert (texts / "note.txt").read_text(encoding="utf-8") == (folder / "note.txt").read_text(encoding="utf-8")
    # the CSV output names the page in its last column, empty for a text file
    result = run("tag", str(folder / "2026" / "strike.html"), str(folder / "note.txt"), "--model", str(tiny_model),
                 "--format", "csv", "--output", str(out))
    assert result.returncode == 0, result.stderr.decode()
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].endswith(",score,source_text,source_start,source_end,page") and lines[1].endswith(f",{folder / '2026' / 'strike.html'}")
    assert lines[-1].endswith(",")


def test_a_parquet_table_tags_like_the_same_texts_as_files(tiny_model, tmp_path):
    articles = short_articles()
    folder = tmp_path / "files"
    folder.mkdir()
    for key, text in articles:
        (folder / f"{key}.txt").write_text(text, encoding="utf-8")
    table = write_parquet(tmp_path / "articles.parquet", articles, "doc", "body")
    from_table = run("tag", str(table), "--model", str(tiny_model), "--precision", "float32",
                     "--id-column", "doc", "--text-column", "body")
    from_files = run("tag", str(folder), "--model", str(tiny_model), "--precision", "float32")
    assert from_table.returncode == 0 and from_files.returncode == 0, from_table.stderr.decode()
    assert from_table.stdout == from_files.stdout
    assert {r["article"] for r in rows_of(from_table.stdout.decode())} == {key for key, _ in articles}
    # CSV and JSONL tables, ids read as text
    (tmp_path / "t.csv").write_text('id,text\n007,"One sentence here. And, a second one."\n', encoding="utf-8")
    (tmp_path / "t.jsonl").write_text('{"id": 8, "text": "Another sentence."}\n', encoding="utf-8")
    both = run("tag", str(tmp_path / "t.csv"), str(tmp_path / "t.jsonl"), "--model", str(tiny_model))
    assert both.returncode == 0, both.stderr.decode()
    assert [(r["article"], r["text"]) for r in rows_of(both.stdout.decode())] == [
        ("007", "One sentence here."), ("007", "And, a second one."), ("8", "Another sentence.")]


def test_a_missing_table_column_is_one_line_listing_the_columns(tiny_model, tmp_path):
    table = write_parquet(tmp_path / "articles.parquet", short_articles(3), "doc", "body")
    err = one_line_error(run("tag", str(table), "--model", str(tiny_model)), code=2)
    assert f"{table}: no column 'id'; its columns are doc, body, source; name the right one with --id-column" in err
    err = one_line_error(run("tag", str(table), "--model", str(tiny_model), "--id-column", "doc"), code=2)
    assert "no column 'text'; its columns are doc, body, source" in err and "--text-column" in err
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "text": "a"}\nnot json\n', encoding="utf-8")
    err = one_line_error(run("tag", str(tmp_path / "bad.jsonl"), "--model", str(tiny_model)))
    assert "bad.jsonl: cannot be read as a jsonl table" in err


def test_two_workers_give_the_answers_of_one_in_input_order(trained_model, tmp_path):
    table = write_parquet(tmp_path / "articles.parquet", short_articles())
    runs = {}
    for workers in ("1", "2"):
        result = run("tag", str(table), "--model", str(trained_model), "--precision", "float32", "--workers", workers)
        assert result.returncode == 0, result.stderr.decode()
        runs[workers] = rows_of(result.stdout.decode())
    one, two = runs["1"], runs["2"]
    assert [(r["article"], r["index"], r["stance"], r["speaker"], [p["stance"] for p in r["positions"]]) for r in two] == \
        [(r["article"], r["index"], r["stance"], r["speaker"], [p["stance"] for p in r["positions"]]) for r in one]
    assert max(abs(a["score"] - b["score"]) for a, b in zip(one, two)) <= 1e-3
    # an interrupted output (whole articles, then a cut row) resumes exactly with workers
    out = tmp_path / "tags.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in one]
    cut = next(i for i, r in enumerate(one) if r["article"] == "a150")
    (tmp_path / "tags.jsonl.partial").write_text("".join(lines[:cut + 1]) + lines[cut + 1][:25], encoding="utf-8")
    resumed = run("tag", str(table), "--model", str(trained_model), "--precision", "float32", "--workers", "2",
                  "--resume", "--output", str(out))
    assert resumed.returncode == 0, resumed.stderr.decode()
    got = rows_of(out.read_text(encoding="utf-8"))
    assert [(r["article"], r["index"], r["stance"]) for r in got] == [(r["article"], r["index"], r["stance"]) for r in one]
    assert got[:cut + 1] == one[:cut + 1]


def test_device_option_on_a_machine_without_a_gpu(tiny_model, small_corpus, tmp_path):
    import torch

    from stance.device import resolve_device

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: the no-GPU error cannot be shown here")
    assert resolve_device("auto") == torch.device("cpu")
    for command in (("tag", "-", "--model", str(tiny_model)), ("evaluate", "--model", str(tiny_model)),
                    ("train", "--corpus", str(small_corpus), "--output", str(tmp_path / "model"))):
        err = one_line_error(run(*command, "--device", "cuda", stdin=b"One sentence."), code=2)
        assert "--device cuda: this torch is built without CUDA" in err or "no CUDA GPU is visible" in err
    assert not (tmp_path / "model").exists()


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="no CUDA GPU on this machine")
def test_cuda_tags_like_the_cpu(trained_model):
    article = ANNOTATIONS / "articles" / "igen-fr.txt"
    cpu, cuda = (run("tag", str(article), "--model", str(trained_model), "--precision", "float32", "--device", device)
                 for device in ("cpu", "cuda"))
    assert cpu.returncode == 0 and cuda.returncode == 0, cuda.stderr.decode()
    one, other = rows_of(cpu.stdout.decode()), rows_of(cuda.stdout.decode())
    assert [r["stance"] for r in one] == [r["stance"] for r in other]
    assert max(abs(a["score"] - b["score"]) for a, b in zip(one, other)) <= 1e-3


def test_folders_give_text_files_and_pages_and_name_the_rest(tmp_path):
    from stance.archives import text_file_name
    from stance.predict import collect_documents

    (tmp_path / "sub").mkdir()
    for name in ("a.txt", "sub/b.html", "c.htm", "notes.md", "sub/data.parquet"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    unread: list[str] = []
    documents = collect_documents([str(tmp_path)], [], unread=unread)
    assert [(d.id, d.page) for d in documents] == [("a", None), ("c", str(tmp_path / "c.htm")),
                                                    ("sub/b", str(tmp_path / "sub" / "b.html"))]
    assert unread == [(f"{tmp_path}: 2 file(s) not read, as only .txt, .html, .htm are read from a folder: notes.md, "
                       f"sub/data.parquet (name a .csv, .jsonl or .parquet table explicitly to tag its rows)")]
    assert text_file_name("sub/b") == "sub%2Fb.txt" and text_file_name("https://x.org/a%20b") == "https:%2F%2Fx.org%2Fa%2520b.txt"


def test_a_chunk_tagger_turns_id_text_pairs_into_the_rows_of_files(tiny_model, tmp_path):
    """The unit a worker process or a cluster's actor calls: (id, text) pairs in, rows out."""
    from stance.predict import Document
    from stance.workers import ChunkTagger

    articles = short_articles(5)
    for key, text in articles:
        (tmp_path / f"{key}.txt").write_text(text, encoding="utf-8")
    chunk = ChunkTagger(tiny_model, "float32", "cpu")
    files = [Document(key, tmp_path / f"{key}.txt") for key, _ in articles]
    assert chunk.rows(articles) == [row for piece in chunk.tag_documents(files) for row in (r.to_dict() for r in piece.rows)]
    assert [r["article"] for r in chunk.rows(articles[:1])] == ["a000"] * len(split_sentences(articles[0][1]))
