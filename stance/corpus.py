"""Reading an annotation folder, checking every record against its text and the schema.

Reading and validating are one pass: a corpus that loads is a corpus that validates, and every
problem is reported as ``file:line: what is wrong`` so users can go straight to it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AnnotationError, InputError, Problem
from .io import read_jsonl, text_files
from .records import Article, Example, Passage, Position, Span
from .schema import Schema, line_of, read_schema
from .written import EXAMPLES_FILE, PASSAGES_FILE, read_examples, read_passages

SCHEMA_FILE = "schema.json"
ARTICLES_DIR = "articles"
ARTICLES_FILE = "articles.jsonl"
SPANS_FILE = "spans.jsonl"
SPLIT_FILE = "split.json"

SPAN_KEYS = frozenset({"article", "start", "end", "text", "speaker", "stance"})
SPAN_OPTIONAL_KEYS = frozenset({"note", "source"})
#: The lists ``split.json`` may hold: evaluation-only articles, never trained on.
SPLIT_KEYS = ("heldout", "dev", "dev_reporting")


@dataclass(frozen=True)
class Split:
    """Evaluation-only articles from ``split.json``.

    ``heldout`` is the final test; ``dev`` is the development set recipes are steered by, itself
    cut by story into a selection half (chosen on) and ``dev_reporting`` (only ever reported), so
    the figure a recipe is chosen by is never the figure that is published.
    """

    heldout: tuple[str, ...] = ()
    dev: tuple[str, ...] = ()
    dev_reporting: tuple[str, ...] = ()

    @property
    def dev_selection(self) -> tuple[str, ...]:
        return tuple(aid for aid in self.dev if aid not in self.dev_reporting)

    @property
    def evaluation(self) -> tuple[str, ...]:
        return self.heldout + self.dev


@dataclass(frozen=True)
class Corpus:
    """Articles, their spans, written examples and passages, and the evaluation split, all checked."""

    root: Path
    schema: Schema
    articles: dict[str, Article]
    spans: tuple[Span, ...] = ()
    examples: tuple[Example, ...] = ()
    split: Split = Split()
    passages: tuple[Passage, ...] = ()

    def spans_of(self, article_id: str) -> list[Span]:
        return [span for span in self.spans if span.article == article_id]

    @property
    def heldout(self) -> tuple[str, ...]:
        return self.split.heldout

    @property
    def training_ids(self) -> list[str]:
        """Articles a model may learn from: in no story of a held-out or development article
        (a translation of an evaluation article would leak its labels)."""
        evaluation = set(self.split.evaluation)
        excluded = {aid for members in self.stories().values() if set(members) & evaluation for aid in members}
        return [aid for aid in self.articles if aid not in excluded]

    def stories(self) -> dict[str, list[str]]:
        """Group articles with their translations: a translation leaks its original's labels,
        so cross-validation must hold a whole story out at once."""
        parent = {aid: aid for aid in self.articles}

        def root(aid: str) -> str:
            while parent[aid] != aid:
                aid = parent[aid]
            return aid

        for article in self.articles.values():
            if article.translation_of in parent:
                parent[root(article.id)] = root(article.translation_of)
        groups: dict[str, list[str]] = {}
        for aid in self.articles:
            groups.setdefault(root(aid), []).append(aid)
        return groups


@dataclass
class Validation:
    """What ``stance validate`` reports: the problems, and the counts when there are none."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    corpus: Corpus | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.corpus is None:
            return f"{len(self.problems)} problem(s)"
        corpus = self.corpus
        span_counts = Counter(span.stance for span in corpus.spans)
        example_counts = Counter(p.stance for ex in corpus.examples for p in ex.positions)
        negatives = sum(1 for ex in corpus.examples if not ex.positions)
        per_stance = ", ".join(
            f"{name} {span_counts[name]}/{example_counts[name]}" for name in corpus.schema.stance_names
        )
        dev = f", {len(corpus.split.dev)} dev ({len(corpus.split.dev_reporting)} reporting)" if corpus.split.dev else ""
        return (
            f"{len(corpus.articles)} articles ({len(corpus.heldout)} held out{dev}), "
            f"{len(corpus.spans)} spans, {len(corpus.examples)} examples "
            f"({negatives} {corpus.schema.none}), {len(corpus.passages)} passages; "
            f"spans/examples per stance: {per_stance}"
        )


def validate_corpus(root: str | Path) -> Validation:
    """Read and check every file of an annotation folder; never raises for bad annotations."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory; expected an annotation folder with {SCHEMA_FILE}")
    result = Validation(root)
    schema = _read_schema(root, result.problems)
    if schema is None:
        return result
    articles = _read_articles(root, result.problems)
    spans = _read_spans(root, schema, articles, result.problems)
    split = _read_split(root, articles, result.problems)
    evaluation = [articles[a].text for a in split.evaluation]
    examples = read_examples(root / EXAMPLES_FILE, schema, evaluation, result.problems)
    passages = read_passages(root / PASSAGES_FILE, schema, evaluation, result.problems)
    if not result.problems:
        corpus = Corpus(root, schema, articles, tuple(spans), tuple(examples), split, tuple(passages))
        result.problems += _halves_problems(corpus)
        result.corpus = None if result.problems else corpus
    return result


def _halves_problems(corpus: Corpus) -> list[Problem]:
    """The dev halves are cut by story: a translation on the other side would leak the reported half."""
    reporting = set(corpus.split.dev_reporting)
    return [Problem(str(corpus.root / SPLIT_FILE), 1, f"story {sorted(members)} is split between the dev halves; "
                    f"list all of its articles in 'dev_reporting' or none")
            for members in corpus.stories().values()
            if 0 < len(reporting & set(members)) and set(members) & set(corpus.split.dev_selection)]


def load_corpus(root: str | Path) -> Corpus:
    """A checked corpus, or an ``AnnotationError`` whose ``problems`` say what to fix."""
    result = validate_corpus(root)
    if result.corpus is None:
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more; validate the folder to list them all)" if len(result.problems) > 1 else ""
        raise AnnotationError(f"{first}{more}", [str(p) for p in result.problems])
    return result.corpus


def _read_schema(root: Path, problems: list[Problem]) -> Schema | None:
    schema, found = read_schema(root / SCHEMA_FILE)
    problems.extend(found)
    return schema


def read_article(path: Path) -> str:
    """An article file exactly as stored: strict UTF-8 and line ends kept (``newline=""``), since
    span offsets index this text. The corpus and import both read articles here, so import can
    never place offsets on a decoding the corpus would then refuse. Raises ``UnicodeDecodeError``;
    :func:`not_utf8` says it as a problem."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def not_utf8(path: Path, error: UnicodeDecodeError) -> Problem:
    return Problem(str(path), 1, f"not valid UTF-8 at byte {error.start}; save it as UTF-8")


def _read_articles(root: Path, problems: list[Problem]) -> dict[str, Article]:
    folder = root / ARTICLES_DIR
    files, refused = text_files(folder, root) if folder.is_dir() else ([], [])
    problems.extend(Problem(str(path), 1, reason) for path, reason in refused)
    texts = {p.stem: p for p in files}
    meta_path = root / ARTICLES_FILE
    metadata: dict[str, dict[str, Any]] = {}
    if meta_path.exists():
        for line, data, error in read_jsonl(meta_path):
            where = str(meta_path)
            message = error or _metadata_problem(data)
            if message:
                problems.append(Problem(where, line, message))
                continue
            if data["id"] in metadata:
                problems.append(Problem(where, line, f"article id {data['id']!r} is listed twice"))
            elif data["id"] not in texts:
                problems.append(Problem(where, line, f"no text file {folder / (data['id'] + '.txt')}"))
            else:
                metadata[data["id"]] = data
    articles: dict[str, Article] = {}
    for aid, path in texts.items():
        try:
            text = read_article(path)
        except UnicodeDecodeError as error:
            problems.append(not_utf8(path, error))
            continue
        data = metadata.get(aid, {})
        articles[aid] = Article(
            id=aid,
            text=text,
            language=data.get("language", "und"),
            outlet=data.get("outlet"),
            date=data.get("date"),
            translation_of=data.get("translation_of"),
            extra={k: v for k, v in data.items() if k not in {"id", "language", "outlet", "date", "translation_of"}},
        )
    for line, data, _ in read_jsonl(meta_path) if meta_path.exists() else ():
        target = data.get("translation_of") if isinstance(data, dict) else None
        if isinstance(target, str) and target not in texts:
            problems.append(Problem(str(meta_path), line, f"translation_of {target!r} is not an article id"))
    return articles


def _metadata_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return "expected an object with a string 'id' (the article's file name without .txt)"
    for key in ("language", "outlet", "date", "translation_of"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"{key} = {data[key]!r} must be a string or null"
    return None


def _read_spans(root: Path, schema: Schema, articles: dict[str, Article], problems: list[Problem]) -> list[Span]:
    path = root / SPANS_FILE
    if not path.exists():
        return []
    spans: list[Span] = []
    ledger = SpanLedger()
    for line, data, error in read_jsonl(path):
        where = str(path)
        message = error or span_problem(data, schema, articles)
        if message:
            problems.append(Problem(where, line, message))
            continue
        span = Span.from_dict(data)
        clash = ledger.add(span, f"line {line}")
        if clash is not None:
            problems.append(Problem(where, line, clash.message))
            continue
        spans.append(span)
    return sorted(spans, key=lambda s: (s.article, s.start, s.end, s.stance, s.speaker))


@dataclass(frozen=True)
class Clash:
    """A span meeting one seen before: the same position again (``duplicate``), or other labels on
    the same offsets (``conflict``)."""

    kind: str
    first: str
    position: Position

    @property
    def message(self) -> str:
        if self.kind == "duplicate":
            return f"duplicate of {self.first}"
        return (f"same offsets as {self.first} ({self.position.speaker}/{self.position.stance}) with different "
                f"labels; mark each position on the words that hold it")


class SpanLedger:
    """The one rule for spans that meet, applied by the validator and by import alike."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int, int], tuple[str, Position]] = {}
        self._exact: dict[tuple[str, int, int, Position], str] = {}

    def add(self, span: Span, where: str) -> Clash | None:
        """Record a span (``where`` names it in messages), or say how it clashes with an earlier one."""
        offsets = (span.article, span.start, span.end)
        if (*offsets, span.position) in self._exact:
            return Clash("duplicate", self._exact[(*offsets, span.position)], span.position)
        if offsets in self._seen and self._seen[offsets][1] != span.position:
            first, position = self._seen[offsets]
            return Clash("conflict", first, position)
        self._exact[(*offsets, span.position)] = where
        self._seen.setdefault(offsets, (where, span.position))
        return None


def span_problem(data: Any, schema: Schema, articles: dict[str, Article]) -> str | None:
    """What is wrong with one span record (keys, types, offsets, text, labels), or ``None``."""
    if not isinstance(data, dict):
        return "expected a JSON object"
    keys = set(data)
    if not SPAN_KEYS <= keys or keys - SPAN_KEYS - SPAN_OPTIONAL_KEYS:
        return f"keys are {sorted(keys)}; expected {sorted(SPAN_KEYS)} plus optional 'note' and 'source'"
    for key in ("article", "text", "speaker", "stance"):
        if not isinstance(data[key], str):
            return f"{key} = {data[key]!r} must be a string"
    if data.get("note") is not None and not isinstance(data["note"], str):
        return f"note = {data['note']!r} must be a string"
    if data["article"] not in articles:
        return f"article {data['article']!r} has no file in {ARTICLES_DIR}/"
    start, end = data["start"], data["end"]
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        return f"start and end must be integers, got {start!r} and {end!r}"
    text = articles[data["article"]].text
    if start == end:
        return f"empty span (start = end = {start}); a span must mark at least one character: fix its end"
    if not 0 <= start < end <= len(text):
        return f"offsets {start}-{end} are outside the text of {data['article']} (0-{len(text)})"
    if data["text"] != text[start:end]:
        return f"text {_clip(data['text'])!r} does not match the article at {start}-{end}: {_clip(text[start:end])!r}"
    if data.get("source") is not None:
        message = _source_problem(data["source"], text, data["article"])
        if message:
            return message
    return schema.label_problem(data)


def _source_problem(source: Any, text: str, article: str) -> str | None:
    """The optional source mention must index the same article, like the span itself."""
    if not isinstance(source, dict) or set(source) != {"start", "end", "text"}:
        return f"source = {source!r} must be an object with exactly 'start', 'end' and 'text' (or null)"
    start, end = source["start"], source["end"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)) or not isinstance(source["text"], str):
        return f"source offsets must be integers and its text a string, got {start!r}, {end!r}"
    if not 0 <= start < end <= len(text):
        return f"source offsets {start}-{end} are outside the text of {article} (0-{len(text)})"
    if source["text"] != text[start:end]:
        return (f"source text {_clip(source['text'])!r} does not match the article at {start}-{end}: "
                f"{_clip(text[start:end])!r}")
    return None


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _read_split(root: Path, articles: dict[str, Article], problems: list[Problem]) -> Split:
    path = root / SPLIT_FILE
    if not path.exists():
        return Split()
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(path), 1, f"not valid UTF-8 at byte {exc.start}; save it as UTF-8"))
        return Split()
    except json.JSONDecodeError as exc:
        problems.append(Problem(str(path), exc.lineno, f"not valid JSON ({exc.msg})"))
        return Split()
    expected = 'expected {"heldout": [article ids]}, optionally with "dev" and "dev_reporting" lists'
    if not isinstance(data, dict):
        problems.append(Problem(str(path), 1, expected))
        return Split()
    lists: dict[str, list[str]] = {}
    for key in SPLIT_KEYS:
        ids = data.get(key, [] if key != "heldout" else None)
        if not isinstance(ids, list) or not all(isinstance(a, str) for a in ids):
            problems.append(Problem(str(path), line_of(text, key), f"'{key}' is not a list of article ids; {expected}"))
            ids = []
        for aid in ids:
            if aid not in articles:
                problems.append(Problem(str(path), line_of(text, aid), f"{key} article {aid!r} has no file"))
        if len(set(ids)) != len(ids):
            problems.append(Problem(str(path), line_of(text, key), f"an article is listed twice in '{key}'; list each once"))
        lists[key] = list(dict.fromkeys(aid for aid in ids if aid in articles))
    for aid in sorted(set(lists["heldout"]) & set(lists["dev"])):
        problems.append(Problem(str(path), line_of(text, aid), f"{aid!r} is both held out and dev; choose one"))
    for aid in sorted(set(lists["dev_reporting"]) - set(lists["dev"])):
        problems.append(Problem(str(path), line_of(text, aid), f"dev_reporting article {aid!r} is not in 'dev'"))
    return Split(*(tuple(lists[key]) for key in SPLIT_KEYS))
