from pathlib import Path

from stance.corpus import load_corpus
from stance.dataset import EXAMPLES_ID, article_rows, project, sentence_table
from stance.records import Position, Sentence, Span

ANNOTATIONS = Path(__file__).resolve().parents[1] / "annotations"


def _span(start, end, speaker="microsoft", stance="national_security"):
    return Span("a", start, end, "x" * (end - start), speaker, stance)


def test_projection_rule_any_shared_character():
    sentences = [Sentence(0, 10, "x" * 10), Sentence(12, 20, "x" * 8), Sentence(22, 30, "x" * 8)]
    spans = [_span(9, 10), _span(15, 25, "journalist", "political_motive"), _span(16, 18, "oracle")]
    held = project(sentences, spans)
    assert held[0] == [Position("microsoft", "national_security")]
    assert held[1] == [Position("journalist", "political_motive"), Position("oracle", "national_security")]
    assert held[2] == [Position("journalist", "political_motive")]
    assert project(sentences, [_span(10, 12)]) == [[], [], []]  # only the gap between sentences


def test_every_span_of_the_corpus_lands_on_a_sentence():
    corpus = load_corpus(ANNOTATIONS)
    rows = article_rows(corpus)
    for span in corpus.spans:
        hit = [r for r in rows if r["article"] == span.article and r["start"] < span.end and span.start < r["end"]]
        assert any(span.position.to_dict() in r["positions"] for r in hit), span


def test_sentence_table_is_a_dataset_with_examples_apart():
    corpus = load_corpus(ANNOTATIONS)
    table = sentence_table(corpus, include_examples=True)
    assert set(table.column_names) >= {"article", "language", "start", "end", "text", "positions"}
    examples = table.filter(lambda row: row["article"] == EXAMPLES_ID)
    assert len(examples) == len(corpus.examples)
    nyt = table.filter(lambda row: row["article"] == "nyt-fr")
    text = corpus.articles["nyt-fr"].text
    assert all(text[row["start"]:row["end"]] == row["text"] for row in nyt)
    assert set(table.filter(lambda row: row["article"] == "nyt-en")["story"]) == {corpus.articles["nyt-fr"].translation_of}
