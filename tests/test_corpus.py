"""The shipped corpus validates, and each kind of annotation error is caught with file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stance.corpus import load_corpus, validate_corpus
from stance.errors import AnnotationError

ANNOTATIONS = Path(__file__).resolve().parents[1] / "annotations"


def test_shipped_corpus_is_valid_and_complete():
    result = validate_corpus(ANNOTATIONS)
    assert result.ok, [str(p) for p in result.problems]
    corpus = result.corpus
    assert corpus.heldout == ("guardian-en",)
    for stance in corpus.schema.stance_names:
        articles = {s.article for s in corpus.spans if s.stance == stance}
        assert len(articles) >= 2, f"{stance} has spans in {articles} only"
    assert len(corpus.examples) >= 200
    assert sum(not e.positions for e in corpus.examples) >= 80


def test_shipped_articles_are_the_seeds_byte_for_byte():
    seeds = ANNOTATIONS.parents[1] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"{seeds} is not beside this checkout")
    meta = [json.loads(line) for line in (ANNOTATIONS / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    scraped = [item for item in meta if "source" in item]  # the others were written for the project
    assert len(scraped) == 5
    for item in scraped:
        assert (ANNOTATIONS / "articles" / f"{item['id']}.txt").read_bytes() == (seeds / item["source"]).read_bytes()


def test_translations_form_one_story():
    stories = load_corpus(ANNOTATIONS).stories()
    assert sorted(stories["nyt-en"]) == ["nyt-en", "nyt-fr"]


def test_a_translation_of_a_heldout_article_is_never_trained_on(tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(ANNOTATIONS, root, ignore=shutil.ignore_patterns("agreement"))
    split = json.loads((root / "split.json").read_text(encoding="utf-8"))
    (root / "split.json").write_text(json.dumps({**split, "heldout": ["nyt-en"]}), encoding="utf-8")
    corpus = load_corpus(root)
    assert "nyt-fr" not in corpus.training_ids and "nyt-en" not in corpus.training_ids
    assert sorted(corpus.training_ids) == ["frtech-fr", "guardian-en", "igen-fr"]


def test_nyt_versions_carry_the_same_positions_or_explain():
    corpus = load_corpus(ANNOTATIONS)
    en = {s.position for s in corpus.spans_of("nyt-en")}
    fr = {s.position for s in corpus.spans_of("nyt-fr")}
    explained = {s.position for s in corpus.spans if s.note and s.article.startswith("nyt")}
    assert en ^ fr <= explained


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    (target / "articles").mkdir(parents=True)
    shutil.copy(ANNOTATIONS / "schema.json", target)
    for aid in ("igen-fr", "nyt-en"):
        shutil.copy(ANNOTATIONS / "articles" / f"{aid}.txt", target / "articles")
    text = (target / "articles" / "igen-fr.txt").read_text(encoding="utf-8")
    start = text.index("partenaire technique de confiance")
    span = {"article": "igen-fr", "start": start, "end": start + 33, "text": text[start:start + 33],
            "speaker": "oracle", "stance": "national_security"}
    (target / "spans.jsonl").write_text(json.dumps(span, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def _append(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _problems(corpus_dir: Path) -> list[str]:
    return [str(p) for p in validate_corpus(corpus_dir).problems]


def test_small_corpus_is_valid(corpus_dir):
    assert _problems(corpus_dir) == []


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"text": "partenaire technique de confiancX"}, "does not match the article"),
        ({"start": 10**6, "end": 10**6 + 3}, "outside the text"),
        ({"stance": "sarcasm"}, "stance 'sarcasm' is not in the schema"),
        ({"speaker": "nobody"}, "speaker 'nobody' is not in the schema"),
        ({"article": "missing"}, "has no file"),
        ({"extra": 1}, "expected ["),
    ],
)
def test_bad_span_is_reported_with_file_and_line(corpus_dir, change, expected):
    span = json.loads((corpus_dir / "spans.jsonl").read_text(encoding="utf-8"))
    _append(corpus_dir / "spans.jsonl", json.dumps({**span, **change}, ensure_ascii=False))
    problems = _problems(corpus_dir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{corpus_dir / 'spans.jsonl'}:2: ") and expected in problems[0]


def test_duplicates_and_conflicting_labels_are_reported(corpus_dir):
    span = json.loads((corpus_dir / "spans.jsonl").read_text(encoding="utf-8"))
    _append(corpus_dir / "spans.jsonl", json.dumps(span, ensure_ascii=False))
    _append(corpus_dir / "spans.jsonl", json.dumps({**span, "speaker": "journalist"}, ensure_ascii=False))
    problems = _problems(corpus_dir)
    assert problems[0].endswith(":2: duplicate of line 1")
    assert ":3: same offsets as line 1" in problems[1]


def test_partial_overlap_is_allowed(corpus_dir):
    span = json.loads((corpus_dir / "spans.jsonl").read_text(encoding="utf-8"))
    text = (corpus_dir / "articles" / "igen-fr.txt").read_text(encoding="utf-8")
    start, end = span["start"] + 11, span["end"] + 5
    _append(corpus_dir / "spans.jsonl", json.dumps({**span, "start": start, "end": end, "text": text[start:end],
                                                    "speaker": "journalist"}, ensure_ascii=False))
    assert _problems(corpus_dir) == []


def test_truncated_json_line(corpus_dir):
    _append(corpus_dir / "spans.jsonl", '{"article": "igen-fr", "start": 3')
    assert "spans.jsonl:2: not valid JSON" in _problems(corpus_dir)[0]


def test_bad_schema_is_reported(corpus_dir):
    schema = json.loads((corpus_dir / "schema.json").read_text(encoding="utf-8"))
    schema["voice"] = "narrator"
    schema["stances"].append({"name": "none", "definition": "clash"})
    (corpus_dir / "schema.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")
    problems = _problems(corpus_dir)
    assert any("'none' label" in p for p in problems) and any("'narrator'" in p for p in problems)
    assert all(p.startswith(str(corpus_dir / "schema.json") + ":") for p in problems)


def test_examples_are_checked(corpus_dir):
    lines = [
        {"text": "Beijing called the ban a political stunt.", "language": "en",
         "positions": [{"speaker": "chinese_government", "stance": "political_motive"}]},
        {"text": "Beijing called the ban a political stunt.", "language": "en", "positions": []},
        {"text": "An example.", "language": "en", "positions": [{"speaker": "x", "stance": "denial"}]},
        {"text": "No positions key.", "language": "en"},
    ]
    (corpus_dir / "examples.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    problems = _problems(corpus_dir)
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4"]
    assert "same text as line 1" in problems[0] and "speaker 'x'" in problems[1] and "keys are" in problems[2]


def test_examples_copying_a_heldout_article_are_refused(corpus_dir):
    (corpus_dir / "split.json").write_text('{"heldout": ["nyt-en"]}', encoding="utf-8")
    copied = "Microsoft engineers began to see a second potential vulnerability, people said."
    (corpus_dir / "examples.jsonl").write_text(json.dumps({"text": copied, "language": "en", "positions": []}) + "\n",
                                               encoding="utf-8")
    problems = _problems(corpus_dir)
    assert len(problems) == 1 and "evaluation (held-out or dev) article" in problems[0]


def test_load_corpus_raises_with_every_problem(corpus_dir):
    _append(corpus_dir / "spans.jsonl", "not json")
    _append(corpus_dir / "spans.jsonl", "[]")
    with pytest.raises(AnnotationError) as info:
        load_corpus(corpus_dir)
    assert len(info.value.problems) == 2 and "and 1 more" in str(info.value)


from hypothesis import given
from hypothesis import strategies as st

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=6),
    max_leaves=12,
)
_span_like = st.fixed_dictionaries(
    {"article": st.sampled_from(["igen-fr", "nyt-en"]) | _json, "start": st.integers(-5, 4000) | _json,
     "end": st.integers(-5, 4000) | _json, "text": st.text(max_size=10) | _json,
     "speaker": st.sampled_from(["oracle", "?"]) | _json, "stance": st.sampled_from(["denial", "none"]) | _json,
     "language": _json, "positions": st.lists(st.fixed_dictionaries({"speaker": _json, "stance": _json}), max_size=2) | _json},
    optional={"note": _json, "id": st.just("igen-fr") | _json, "translation_of": _json, "outlet": _json},
)


@given(lines=st.lists(_json | _span_like | st.text(max_size=30), max_size=8))
def test_validator_never_crashes_on_arbitrary_json_lines(tmp_path_factory, lines):
    import shutil

    root = tmp_path_factory.mktemp("fuzz")
    (root / "articles").mkdir()
    shutil.copy(ANNOTATIONS / "schema.json", root)
    shutil.copy(ANNOTATIONS / "articles" / "igen-fr.txt", root / "articles")
    content = "".join((line if isinstance(line, str) else json.dumps(line)).replace("\n", " ") + "\n" for line in lines)
    for name in ("spans.jsonl", "examples.jsonl", "articles.jsonl"):
        (root / name).write_text(content, encoding="utf-8")
    result = validate_corpus(root)
    assert all(isinstance(p.line, int) and p.line >= 1 and p.message for p in result.problems)
    assert result.ok == (result.corpus is not None)
