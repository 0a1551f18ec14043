"""Import/export with doccano and Label Studio on real files: hand-written exports in each tool's
format, the real French article with an emoji, CRLF copies and edited (stale) articles."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance.corpus import Corpus, load_corpus, validate_corpus
from stance.errors import AnnotationError, UsageError
from stance.importing import ImportResult, import_annotations
from stance.interchange import LABEL_SEPARATOR, export_doccano, export_label_studio, format_label
from stance.records import Article, Span
from stance.schema import Schema

REPO = Path(__file__).resolve().parents[1]
ANNOTATIONS = REPO / "annotations"
DATA = Path(__file__).resolve().parent / "data"
DOCCANO_SAMPLE = DATA / "doccano_fr_en.jsonl"
LABEL_STUDIO_SAMPLE = DATA / "label_studio_fr.json"
ARTICLES = ("igen-fr", "nyt-en")


def read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def write(path: Path, text: str) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


def make_corpus(root: Path, articles: tuple[str, ...] = ARTICLES) -> Path:
    """An annotation folder with the real schema and a couple of real article files."""
    (root / "articles").mkdir(parents=True)
    shutil.copy(ANNOTATIONS / "schema.json", root / "schema.json")
    for aid in articles:
        shutil.copy(ANNOTATIONS / "articles" / f"{aid}.txt", root / "articles" / f"{aid}.txt")
    return root


def igen() -> str:
    return read(ANNOTATIONS / "articles" / "igen-fr.txt")


def nyt() -> str:
    return read(ANNOTATIONS / "articles" / "nyt-en.txt")


def span(aid: str, text: str, quote: str, speaker: str, stance: str, note: str | None = None) -> Span:
    start = text.index(quote)
    return Span(aid, start, start + len(quote), quote, speaker, stance, note)


def igen_spans() -> list[Span]:
    text = igen()
    return [
        span("igen-fr", text, "Oracle devient «\u00a0partenaire technique\u00a0» de TikTok US", "journalist", "national_security"),
        span("igen-fr", text, "Le groupe de Larry Ellison, par ailleurs soutien affiché de Donald Trump", "journalist",
             "political_motive", note="allusion, pas une accusation"),
        span("igen-fr", text, "ByteDance nous a fait savoir aujourd'hui", "microsoft", "denial"),
        span("igen-fr", text, "protégeant les intérêts de sécurité nationale", "microsoft", "national_security"),
    ]


def nyt_spans() -> list[Span]:
    text = nyt()
    return [
        span("nyt-en", text, "We are convinced that our proposal would have been good for TikTok users while "
             "protecting national security interests", "microsoft", "national_security", note="quoted statement"),
        span("nyt-en", text, "Oracle has been chosen as TikTok’s technical partner", "journalist", "national_security"),
    ]


def write_spans(root: Path, spans: list[Span]) -> None:
    write(root / "spans.jsonl", "".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in spans))


def doccano_line(doc_id: int, text: str, spans: list[tuple[int, int, str]], **extra: object) -> str:
    return json.dumps({"id": doc_id, "text": text, "label": [list(s) for s in spans], **extra}, ensure_ascii=False)


def spans_of(root: Path) -> list[Span]:
    return list(load_corpus(root).spans)


def key(s: Span, note: bool = True) -> tuple[object, ...]:
    return (s.article, s.start, s.end, s.text, s.speaker, s.stance, s.note if note else None)


# --- hand-written tool exports ------------------------------------------------------------------


@pytest.mark.parametrize("sample", [DOCCANO_SAMPLE, LABEL_STUDIO_SAMPLE])
def test_samples_import_into_a_valid_corpus(tmp_path: Path, sample: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    result = import_annotations(sample, root, fmt=None)
    assert isinstance(result, ImportResult) and result.backup is None
    validation = validate_corpus(root)
    assert validation.ok, [str(p) for p in validation.problems]
    fr = read(root / "articles" / "brief-fr.txt")
    assert "🆕" in fr and "«\u00a0manipulation politique\u00a0»" in fr
    assert read(root / "articles" / "doc-9.txt" if sample == DOCCANO_SAMPLE else root / "articles" / "doc-13.txt") \
        == "Un texte sans étiquette.\n"
    assert read(root / "articles" / "igen-fr.txt") == igen()  # untouched
    texts = {s.text for s in validation.corpus.spans}
    assert "n’avoir «\u00a0jamais partagé de données\u00a0» avec le gouvernement chinois" in texts
    (warning,) = [w for w in result.warnings if "new articles" in w]
    assert "listed in articles.jsonl with their language detected by langdetect" in warning
    assert {a.id: a.language for a in validation.corpus.articles.values()}["brief-fr"] == "fr"


def test_language_given_for_new_articles_is_written_as_given(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    write(root / "articles.jsonl", '{"id": "igen-fr", "language": "fr"}')  # no final line end
    result = import_annotations(LABEL_STUDIO_SAMPLE, root, language="de")
    lines = [json.loads(line) for line in read(root / "articles.jsonl").splitlines()]
    assert [(line["id"], line["language"]) for line in lines] == [("igen-fr", "fr"), ("brief-fr", "de"),
                                                                  ("doc-13", "de")]
    assert any("language given by --language" in w for w in result.warnings)
    assert validate_corpus(root).ok


def test_doccano_sample_reads_old_labels_key_and_meta_article(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    result = import_annotations(DOCCANO_SAMPLE, root, "doccano")
    assert (result.documents, result.spans) == (3, 5)
    english = [s for s in spans_of(root) if s.article == "brief-en"]
    assert [(s.start, s.end, s.speaker, s.stance) for s in english] == [
        (15, 76, "microsoft", "national_security"), (104, 138, "other", "political_motive")]


def test_both_tools_agree_on_the_french_sample(tmp_path: Path) -> None:
    doccano = make_corpus(tmp_path / "d")
    studio = make_corpus(tmp_path / "l")
    import_annotations(DOCCANO_SAMPLE, doccano, "doccano")
    import_annotations(LABEL_STUDIO_SAMPLE, studio, "label-studio")
    french = [[key(s, note=False) for s in spans_of(root) if s.article == "brief-fr"] for root in (doccano, studio)]
    assert french[0] == french[1] and len(french[0]) == 3
    notes = [s.note for s in spans_of(studio) if s.note]
    assert notes == ["citation du ministère, reprise par l’agence"]


# --- offsets in code points -------------------------------------------------------------------


def test_label_studio_offsets_count_the_emoji_as_one_code_point(tmp_path: Path) -> None:
    # Label Studio's editor stores code points (its emoji tests expect them), not JavaScript's UTF-16
    root = make_corpus(tmp_path / "corpus")
    write_spans(root, igen_spans())
    export_label_studio(load_corpus(root), tmp_path / "ls.json")
    tasks = json.loads(read(tmp_path / "ls.json"))
    task = next(t for t in tasks if t["data"]["article"] == "igen-fr")
    values = [r["value"] for r in task["annotations"][0]["result"]]
    text = igen()
    assert any(s.start > text.index("🆕") for s in igen_spans())
    for value, original in zip(values, igen_spans(), strict=True):
        assert (value["start"], value["end"]) == (original.start, original.end)
        assert text[value["start"]:value["end"]] == value["text"] == original.text


# --- repairs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["doccano", "label-studio"])
def test_crlf_copy_of_the_article_is_converted_with_a_count(tmp_path: Path, fmt: str) -> None:
    # the tool holds a copy saved with Windows line ends, its offsets counted in that copy
    windows = make_corpus(tmp_path / "windows", articles=())
    crlf = write(windows / "articles" / "igen-fr.txt", igen().replace("\n", "\r\n"))
    write_spans(windows, [span("igen-fr", read(crlf), s.text, s.speaker, s.stance) for s in igen_spans()])
    export = tmp_path / "export"
    (export_doccano if fmt == "doccano" else export_label_studio)(load_corpus(windows), export)
    root = make_corpus(tmp_path / "corpus")
    result = import_annotations(export, root, fmt)
    assert [key(s, note=False) for s in spans_of(root) if s.article == "igen-fr"] == \
        [key(s, note=False) for s in igen_spans()]
    # the headline span sits before the first line end; the other three move
    assert any("CRLF vs LF" in w and "igen-fr" in w and "3 spans moved" in w for w in result.warnings)
    assert read(root / "articles" / "igen-fr.txt") == igen()


def test_lf_copy_of_a_crlf_article_is_converted(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus", articles=())
    crlf = igen().replace("\n", "\r\n")
    write(root / "articles" / "igen-fr.txt", crlf)
    quote = "Microsoft a confirmé la nouvelle de son retrait de la course"
    start = igen().index(quote)
    doc = doccano_line(1, igen(), [(start, start + len(quote), "denial:microsoft")], article="igen-fr")
    result = import_annotations(write(tmp_path / "doccano_lf.jsonl", doc + "\n"), root, "doccano")
    (found,) = spans_of(root)
    assert found.text == quote and found.start == crlf.index(quote)
    assert any("1 spans moved" in w for w in result.warnings)


def test_stale_text_spans_move_to_their_text(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    old = igen()
    quotes = ["ByteDance nous a fait savoir aujourd'hui", "Oracle devient «\u00a0partenaire technique\u00a0» de TikTok US"]
    doc = doccano_line(3, old, [(old.index(q), old.index(q) + len(q), "denial:microsoft") for q in quotes],
                       article="igen-fr")
    edited = old.replace("Mickaël Bazoge\u00a0|", "Mickaël Bazoge\u00a0| 20 septembre 2020, mis à jour à 17\u00a0h")
    write(root / "articles" / "igen-fr.txt", edited)
    result = import_annotations(write(tmp_path / "doccano_stale.jsonl", doc + "\n"), root)
    moved = [s for s in spans_of(root) if s.text == quotes[0]]
    assert moved[0].start == edited.index(quotes[0]) != old.index(quotes[0])
    assert any("1 spans moved to match their text" in w for w in result.warnings)


def test_stale_text_picks_the_nearest_occurrence(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus", articles=())
    write(root / "articles" / "a.txt", "TikTok said no. Much later, TikTok said no.\n")
    doc = doccano_line(1, "Intro. TikTok said no. Much later, TikTok said no.\n", [(35, 49, "denial:bytedance_tiktok")],
                       article="a")
    result = import_annotations(write(tmp_path / "doccano_a.jsonl", doc + "\n"), root)
    (found,) = spans_of(root)
    assert (found.start, found.end) == (28, 42)  # 7 characters away, not 35
    assert any("1 spans moved to match their text" in w for w in result.warnings)


def test_stale_text_that_is_gone_is_refused(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    old = igen()
    quote = "Bref, dans ce bras de fer géopolitique"
    doc = doccano_line(4, old, [(old.index(quote), old.index(quote) + len(quote), "political_motive:journalist")],
                       article="igen-fr")
    write(root / "articles" / "igen-fr.txt", old.replace("Bref, dans", "En somme, dans"))
    with pytest.raises(AnnotationError, match=r"id 4.*span 1 .*Bref, dans ce bras de fer"):
        import_annotations(write(tmp_path / "doccano_gone.jsonl", doc + "\n"), root)
    assert not (root / "spans.jsonl").exists()


def test_entirely_different_text_is_refused(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    doc = doccano_line(5, nyt(), [], article="igen-fr")
    with pytest.raises(AnnotationError, match="entirely different from articles/igen-fr.txt"):
        import_annotations(write(tmp_path / "doccano_wrong.jsonl", doc + "\n"), root)


def test_article_found_by_its_text(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    quote = "Microsoft semblait bien parti"
    start = igen().index(quote)
    doc = doccano_line(6, igen(), [(start, start + len(quote), "national_security:microsoft")])
    result = import_annotations(write(tmp_path / "doccano_nometa.jsonl", doc + "\n"), root)
    assert [s.article for s in spans_of(root)] == ["igen-fr"]
    assert not any("new article" in w for w in result.warnings)
    assert sorted(p.name for p in (root / "articles").iterdir()) == ["igen-fr.txt", "nyt-en.txt"]


def test_unknown_label_lists_the_valid_ones(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    doc = doccano_line(1, "TikTok denies it.\n", [(0, 6, "denial:tiktok")])
    with pytest.raises(AnnotationError, match=r"span 1: unknown label 'denial:tiktok'.*denial:bytedance_tiktok"):
        import_annotations(write(tmp_path / "doccano_label.jsonl", doc + "\n"), root)
    assert format_label("microsoft", "denial") == f"denial{LABEL_SEPARATOR}microsoft"


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    with pytest.raises(UsageError, match="doccano, label-studio"):
        import_annotations(DOCCANO_SAMPLE, root, "brat")


# --- overwriting --------------------------------------------------------------------------------


def test_existing_spans_need_force_and_are_backed_up(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    write_spans(root, igen_spans())
    before = read(root / "spans.jsonl")
    with pytest.raises(UsageError, match="--force"):
        import_annotations(DOCCANO_SAMPLE, root, "doccano")
    assert read(root / "spans.jsonl") == before and not (root / "articles" / "brief-fr.txt").exists()
    result = import_annotations(DOCCANO_SAMPLE, root, "doccano", force=True)
    assert result.backup is not None and result.backup.name.startswith("spans.jsonl.bak-")
    assert read(result.backup) == before
    assert any(str(result.backup) in w for w in result.warnings)
    assert result.spans == 5
    # Spans of articles the export does not contain are kept, never dropped.
    assert len(spans_of(root)) == 5 + len(igen_spans())
    assert {key(s) for s in igen_spans()} <= {key(s) for s in spans_of(root)}
    assert any("absent from" in w for w in result.warnings)
    again = import_annotations(DOCCANO_SAMPLE, root, "doccano", force=True)
    assert again.backup != result.backup and result.backup.exists()


def test_empty_spans_file_is_replaced_without_force(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    write(root / "spans.jsonl", "\n")
    assert import_annotations(DOCCANO_SAMPLE, root).backup is None


# --- round trips --------------------------------------------------------------------------------


def test_doccano_round_trip_warns_about_notes(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    spans = igen_spans() + nyt_spans()
    write_spans(root, spans)
    warnings = export_doccano(load_corpus(root), tmp_path / "doccano_out.jsonl")
    assert warnings == ["2 span notes were not exported: doccano has no per-span note"]
    fresh = make_corpus(tmp_path / "fresh", articles=())
    result = import_annotations(tmp_path / "doccano_out.jsonl", fresh)
    assert (result.documents, result.spans) == (2, 6)
    assert [key(s, note=False) for s in spans_of(fresh)] == [key(s, note=False) for s in spans_of(root)]
    for aid in ARTICLES:
        assert (fresh / "articles" / f"{aid}.txt").read_bytes() == (root / "articles" / f"{aid}.txt").read_bytes()


def test_label_studio_round_trip_keeps_notes(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    write_spans(root, igen_spans() + nyt_spans())
    assert export_label_studio(load_corpus(root), tmp_path / "label_studio_out.json") == []
    fresh = make_corpus(tmp_path / "fresh", articles=())
    import_annotations(tmp_path / "label_studio_out.json", fresh)
    assert [key(s) for s in spans_of(fresh)] == [key(s) for s in spans_of(root)]
    assert read(fresh / "spans.jsonl") == "".join(
        json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in spans_of(root))


PIECES = ["a", "é", " ", "\xa0", "«", "»", "🆕", "😀", "\r\n", "\n", "TikTok"]
SCHEMA = Schema.load(ANNOTATIONS / "schema.json")
LABELS = [(sp, st) for st in SCHEMA.stance_names for sp in SCHEMA.speaker_names]


@st.composite
def texts_with_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=30)))
    pairs = draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text)))
                          .filter(lambda p: p[0] != p[1]).map(sorted), max_size=6, unique_by=tuple))
    spans = []
    for start, end in pairs:
        speaker, stance = draw(st.sampled_from(LABELS))
        note = draw(st.one_of(st.none(), st.sampled_from(["vu", "« citation » 🆕"])))
        spans.append(Span("doc", start, end, text[start:end], speaker, stance, note))
    return text, spans


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_with_spans(), st.sampled_from(["doccano", "label-studio"]))
def test_round_trip_keeps_offsets_and_labels(case: tuple[str, list[Span]], fmt: str) -> None:
    text, spans = case
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp), SCHEMA, {"doc": Article("doc", text, "fr")}, tuple(spans))
        out = Path(tmp) / "export"
        (export_doccano if fmt == "doccano" else export_label_studio)(corpus, out)
        fresh = make_corpus(Path(tmp) / "fresh", articles=())
        result = import_annotations(out, fresh, fmt)
        assert read(fresh / "articles" / "doc.txt") == text
        got = sorted(key(s, note=fmt != "doccano") for s in spans_of(fresh))
        assert got == sorted(key(s, note=fmt != "doccano") for s in spans)
        assert result.spans == len(spans)


@pytest.mark.parametrize("content", [
    '[{"data": {"text": "Oracle"}, "annotations": ["not an object"]}]',
    '[{"data": {"text": "Oracle"}, "annotations": [{"result": [{"type": "labels", "value": 5}]}]}]',
])
def test_malformed_label_studio_export_is_refused_in_one_line(tmp_path: Path, content: str) -> None:
    root = make_corpus(tmp_path / "corpus")
    with pytest.raises(AnnotationError, match="not a well-formed label-studio export"):
        import_annotations(write(tmp_path / "broken.json", content), root, "label-studio")


def test_examples_travel_as_label_studio_choices_and_update_in_place(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus")
    examples = (ANNOTATIONS / "examples.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    write(root / "examples.jsonl", "\n".join(examples) + "\n")
    export_label_studio(load_corpus(root), tmp_path / "ls.json", examples=True)
    tasks = json.loads(read(tmp_path / "ls.json"))
    chosen = [t for t in tasks if t["data"].get("example")]
    assert [t["data"]["text"] for t in chosen] == [json.loads(line)["text"] for line in examples]
    import_annotations(tmp_path / "ls.json", root, force=True)
    assert read(root / "examples.jsonl") == "\n".join(examples) + "\n"  # a round trip changes nothing
    chosen[1]["annotations"][0]["result"] = [{"type": "choices", "from_name": "positions", "to_name": "text",
                                              "value": {"choices": ["denial:chinese_government"]}}]
    tasks.append({"data": {"text": "Un exemple écrit à la main.", "example": True},
                  "annotations": [{"result": []}]})
    result = import_annotations(write(tmp_path / "edited.json", json.dumps(tasks)), root, force=True, language="fr")
    lines = [json.loads(line) for line in read(root / "examples.jsonl").splitlines()]
    assert [line["text"] for line in lines[:5]] == [json.loads(line)["text"] for line in examples]
    assert lines[1]["positions"] == [{"speaker": "chinese_government", "stance": "denial"}]
    assert lines[5] == {"text": "Un exemple écrit à la main.", "language": "fr", "positions": []}
    assert "6 examples imported into examples.jsonl: 1 changed, 1 added" in result.warnings
    assert sorted(p.stem for p in (root / "articles").iterdir()) == sorted(ARTICLES) and validate_corpus(root).ok
