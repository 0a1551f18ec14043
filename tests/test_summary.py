"""`stance summarize`: counts per speaker and stance that add up, the strongest sentence with its
offsets, per month when dated, a terminal table that fits 100 columns, and an HTML page whose every
count links to its sentences in a real browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from conftest import ANNOTATIONS
from procs import run

from stance.records import Reported, TaggedSentence
from stance.summary import summarize
from stance.summary_views import WIDTH, render


def row(article: str, index: int, text: str, *positions: tuple[str, str, float]) -> TaggedSentence:
    held = tuple(Reported(speaker, stance, score) for speaker, stance, score in positions)
    top = held[0] if held else Reported("", "none", 0.9)
    return TaggedSentence(index * 100, index * 100 + len(text), text, article, index, held, top.stance,
                          top.speaker or None, top.score)


ARTICLES = [
    ("a", [row("a", 0, "Washington calls the app a threat.", ("us_government", "national_security", 0.9)),
           row("a", 1, "The company denies it and calls the order political " + "very " * 30 + "loudly.",
               ("bytedance", "denial", 0.8), ("bytedance", "political_motive", 0.6)),
           row("a", 2, "Shares fell.")]),
    ("b", [row("b", 0, "ByteDance again rejects the claims.", ("bytedance", "denial", 0.95))]),
]


def test_cells_count_sentences_and_keep_the_strongest_first():
    summary = summarize(ARTICLES, {"a": "2020-08-06", "b": "2020-09-14"})
    overall = {(c.speaker, c.stance): c for c in summary.overall.cells}
    assert {k: c.count for k, c in overall.items()} == {("bytedance", "denial"): 2, ("us_government", "national_security"): 1,
                                                       ("bytedance", "political_motive"): 1}
    denial = overall[("bytedance", "denial")]
    assert denial.strongest.article == "b" and denial.mean_score == pytest.approx(0.875)
    assert summary.overall.sentences == 4 and [p.sentences for p in summary.articles] == [3, 1]
    assert summary.by_month == {"2020-08": {"us_government:national_security": 1, "bytedance:denial": 1,
                                            "bytedance:political_motive": 1}, "2020-09": {"bytedance:denial": 1}}


def test_every_format_renders_and_the_table_fits_the_terminal():
    summary = summarize(ARTICLES, {"a": "2020-08-06"})
    table = render(summary, "table")
    assert max(len(line) for line in table.splitlines()) <= WIDTH and "…" in table
    assert "all articles (4 sentences)" in table and "b:0-35 ByteDance again rejects" in table
    assert json.loads(render(summary, "json"))["overall"]["cells"][0]["sentences"] == 2
    assert "| bytedance | denial | 2 | 0.88 |" in render(summary, "markdown")


def test_summarize_built_in_articles_and_their_tag_output(trained_model, tmp_path):
    articles = tmp_path / "corpus" / "articles"
    articles.mkdir(parents=True)
    for aid in ("igen-fr", "frtech-fr"):
        shutil.copy(ANNOTATIONS / "articles" / f"{aid}.txt", articles)
    (tmp_path / "corpus" / "articles.jsonl").write_text(
        '{"id": "igen-fr", "language": "fr", "date": "2020-08-03"}\n{"id": "frtech-fr", "language": "fr"}\n')
    direct = run("summarize", str(articles), "--model", str(trained_model))
    assert direct.returncode == 0, direct.stderr.decode()
    text = direct.stdout.decode()
    assert "all articles (" in text and "igen-fr (" in text and "2020-08-03" in text
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    tags = tmp_path / "tags.jsonl"
    assert run("tag", str(articles), "--model", str(trained_model), "--output", str(tags)).returncode == 0
    again = run("summarize", str(tags), "--metadata", str(tmp_path / "corpus" / "articles.jsonl"))
    assert again.returncode == 0 and again.stdout.decode() == text  # no model needed for tag output


def test_html_report_links_every_count_to_its_sentences_in_a_real_browser(tmp_path):
    page = tmp_path / "summary.html"
    page.write_text(render(summarize(ARTICLES, {}), "html"), encoding="utf-8")
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no headless Chromium installed (Debian package chromium); `bash .ci/run` installs it")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-500:]
    links = re.findall(r'href="#([^"]+)"', dom.stdout)
    ids = set(re.findall(r'id="([^"]+)"', dom.stdout))
    assert links and set(links) <= ids
    assert dom.stdout.count('class="bar"') == 3  # one bar per speaker x stance pair overall
    assert "ByteDance again rejects the claims." in dom.stdout.split('id="all-bytedance--denial"')[1]
