"""Source precision and recall, hand-computed on a short article written for this test."""

from pathlib import Path

from stance.attribution import attribute
from stance.evaluation import table_rows
from stance.records import Mention, Span
from stance.schema import Schema
from stance.segment import split_sentences
from stance.sources import SourceCounts, count_sources

SCHEMA = Schema.load(Path(__file__).resolve().parents[1] / "annotations" / "schema.json")
TEXT = ("The Commerce Department said the app was a threat. TikTok denied it. "
        "Critics warned that the ban was political, and Beijing called it bullying. The app has many users.")


def span(sentence: str, speaker: str, stance: str, source: str | None) -> Span:
    start = TEXT.index(sentence)
    mention = None if source is None else Mention(TEXT.index(source), TEXT.index(source) + len(source), source)
    return Span("a", start, start + len(sentence), sentence, speaker, stance, source=mention)


def test_overlap_counts_precision_over_sentences_and_recall_over_mentions():
    sentences = split_sentences(TEXT)
    spans = [span("The Commerce Department said the app was a threat.", "trump_administration",
                  "national_security", "Commerce Department"),  # overlaps "The Commerce Department": right
             span("TikTok denied it.", "bytedance_tiktok", "denial", None),  # a source where gold has none
             span("Critics warned that the ban was political", "other", "political_motive", "Critics"),
             span("Beijing called it bullying", "chinese_government", "political_motive", "Beijing")]
    attributions = attribute(TEXT, sentences, SCHEMA, "en")
    assert [a.source.text if a.source else None for a in attributions] == \
        ["The Commerce Department", "TikTok", "Critics", None]
    counts = count_sources(sentences, spans, attributions)
    # Three sentences hold a position and each got a source: two overlap a gold mention (precision 2/3);
    # three gold mentions, two found (the third sentence's second holder is missed: recall 2/3).
    assert counts == SourceCounts(predicted=3, right=2, gold=3, found=2)
    figures = counts.figures()
    assert round(figures["precision"], 4) == round(figures["recall"], 4) == round(figures["f1"], 4) == 0.6667


def test_no_recorded_source_gives_no_figures_and_no_column():
    assert SourceCounts(predicted=4, right=0, gold=0, found=0).figures() is None
    result = {"macro_f1": 0.5, "macro_f1_low": 0.4, "macro_f1_high": 0.6, "speaker_accuracy": 0.5,
              "attribution_accuracy": 0.7, "per_stance": {"s": {"f1": 0.5}}}
    assert "source P/R/F1" not in table_rows({"model": {**result, "source": None}}, ["s"])[0]
    sourced = {"precision": 0.9, "recall": 0.8, "f1": 0.85}
    rows = table_rows({"model": {**result, "source": sourced}, "tfidf": result}, ["s"])
    column = rows[0].index("source P/R/F1")
    assert [row[column] for row in rows[1:]] == ["0.90/0.80/0.85", ""]


def test_a_sentence_with_two_holders_finds_both_mentions():
    text = "Washington accuses the app of spying on Americans, a charge TikTok has always rejected."
    sentences = split_sentences(text)
    spans = [Span("a", 0, 49, text[:49], "trump_administration", "national_security",
                  source=Mention(0, 10, "Washington")),
             Span("a", 51, len(text) - 1, text[51:-1], "bytedance_tiktok", "denial",
                  source=Mention(text.index("TikTok"), text.index("TikTok") + 6, "TikTok"))]
    counts = count_sources(sentences, spans, attribute(text, sentences, SCHEMA, "en"))
    assert counts == SourceCounts(predicted=2, right=2, gold=2, found=2)
