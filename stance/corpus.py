"""Reading an annotation folder, checking every record against its text and the schema.

Reading and validating are one pass: a corpus that loads is a corpus that validates, and every
problem is reported as ``file:line: what is wrong`` so users can go straight to it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AnnotationError, InputError
from .io import loads, read_jsonl, text_files
from .records import Article, Example, Position, Span
from .schema import Schema, schema_problems

SCHEMA_FILE = "schema.json"
ARTICLES_DIR = "articles"
ARTICLES_FILE = "articles.jsonl"
SPANS_FILE = "spans.jsonl"
EXAMPLES_FILE = "examples.jsonl"
SPLIT_FILE = "split.json"

SPAN_KEYS = frozenset({"article", "start", "end", "text", "speaker", "stance"})
SPAN_OPTIONAL_KEYS = frozenset({"note"})
EXAMPLE_KEYS = frozenset({"text", "language", "positions"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the annotations, located precisely enough to fix by hand."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Corpus:
    """Articles, their spans, written examples and the held-out split, all checked."""

    root: Path
    schema: Schema
    articles: dict[str, Article]
    spans: tuple[Span, ...] = ()
    examples: tuple[Example, ...] = ()
    heldout: tuple[str, ...] = ()

    def spans_of(self, article_id: str) -> list[Span]:
        return [span for span in self.spans if span.article == article_id]

    @property
    def training_ids(self) -> list[str]:
        """Articles a model may learn from: not held out, and not in a held-out article's story
        (a translation of the held-out article would leak its labels)."""
        stories = self.stories().values()
        excluded = {aid for members in stories if set(members) & set(self.heldout) for aid in members}
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
        return (
            f"{len(corpus.articles)} articles ({len(corpus.heldout)} held out), "
            f"{len(corpus.spans)} spans, {len(corpus.examples)} examples "
            f"({negatives} {corpus.schema.none}); spans/examples per stance: {per_stance}"
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
    heldout = _read_split(root, articles, result.problems)
    examples = _read_examples(root, schema, [articles[a].text for a in heldout if a in articles], result.problems)
    if not result.problems:
        result.corpus = Corpus(root, schema, articles, tuple(spans), tuple(examples), tuple(heldout))
    return result


def load_corpus(root: str | Path) -> Corpus:
    """A checked corpus, or an ``AnnotationError`` whose ``problems`` say what to fix."""
    result = validate_corpus(root)
    if result.corpus is None:
        first = result.problems[0]
        more = f" (and {len(result.problems) - 1} more; run `stance validate {root}`)" if len(result.problems) > 1 else ""
        raise AnnotationError(f"{first}{more}", [str(p) for p in result.problems])
    return result.corpus


def _read_schema(root: Path, problems: list[Problem]) -> Schema | None:
    path = root / SCHEMA_FILE
    if not path.exists():
        problems.append(Problem(str(path), 1, f"missing; an annotation folder needs {SCHEMA_FILE}"))
        return None
    try:
        text = path.read_text(encoding="utf-8")
        data = loads(text)
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(path), 1, f"not valid UTF-8 at byte {exc.start}; save it as UTF-8"))
        return None
    except json.JSONDecodeError as exc:
        problems.append(Problem(str(path), exc.lineno, f"not valid JSON ({exc.msg})"))
        return None
    found = schema_problems(data)
    for message in found:
        quoted = re.search(r"'([^']+)'", message)
        problems.append(Problem(str(path), _line_of(text, quoted.group(1) if quoted else ""), message))
    return None if found else Schema.from_dict(data, str(path))


def _line_of(text: str, needle: str) -> int:
    index = text.find(f'"{needle}"') if needle else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


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
        with open(path, encoding="utf-8", newline="") as handle:
            try:
                text = handle.read()
            except UnicodeDecodeError as exc:
                problems.append(Problem(str(path), 1, f"not valid UTF-8 at byte {exc.start}; save it as UTF-8"))
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
    by_key: dict[tuple[Any, ...], int] = {}
    by_offsets: dict[tuple[str, int, int], tuple[int, Position]] = {}
    for line, data, error in read_jsonl(path):
        where = str(path)
        message = error or span_problem(data, schema, articles)
        if message:
            problems.append(Problem(where, line, message))
            continue
        span = Span.from_dict(data)
        key = (span.article, span.start, span.end, span.speaker, span.stance)
        offsets = (span.article, span.start, span.end)
        if key in by_key:
            problems.append(Problem(where, line, f"duplicate of line {by_key[key]}"))
            continue
        if offsets in by_offsets and by_offsets[offsets][1] != span.position:
            first, position = by_offsets[offsets]
            problems.append(
                Problem(where, line, f"same offsets as line {first} ({position.speaker}/{position.stance}) "
                        f"with different labels; mark each position on the words that hold it")
            )
            continue
        by_key[key] = line
        by_offsets.setdefault(offsets, (line, span.position))
        spans.append(span)
    return sorted(spans, key=lambda s: (s.article, s.start, s.end, s.stance, s.speaker))


def span_problem(data: Any, schema: Schema, articles: dict[str, Article]) -> str | None:
    """What is wrong with one span record (keys, types, offsets, text, labels), or ``None``."""
    if not isinstance(data, dict):
        return "expected a JSON object"
    keys = set(data)
    if not SPAN_KEYS <= keys or keys - SPAN_KEYS - SPAN_OPTIONAL_KEYS:
        return f"keys are {sorted(keys)}; expected {sorted(SPAN_KEYS)} plus optional 'note'"
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
    return _label_problem(data, schema)


def _label_problem(data: dict[str, Any], schema: Schema) -> str | None:
    if data.get("stance") not in schema.stance_names:
        return f"stance {data.get('stance')!r} is not in the schema {schema.stance_names}"
    if data.get("speaker") not in schema.speaker_names:
        return f"speaker {data.get('speaker')!r} is not in the schema {schema.speaker_names}"
    return None


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _read_split(root: Path, articles: dict[str, Article], problems: list[Problem]) -> list[str]:
    path = root / SPLIT_FILE
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(path), 1, f"not valid UTF-8 at byte {exc.start}; save it as UTF-8"))
        return []
    except json.JSONDecodeError as exc:
        problems.append(Problem(str(path), exc.lineno, f"not valid JSON ({exc.msg})"))
        return []
    heldout = data.get("heldout") if isinstance(data, dict) else None
    if not isinstance(heldout, list) or not all(isinstance(a, str) for a in heldout):
        problems.append(Problem(str(path), 1, "expected {\"heldout\": [article ids]}"))
        return []
    for aid in heldout:
        if aid not in articles:
            problems.append(Problem(str(path), _line_of(text, aid), f"held-out article {aid!r} has no file"))
    if len(set(heldout)) != len(heldout):
        problems.append(Problem(str(path), 1, "an article is listed twice in 'heldout'; list each once"))
    return list(dict.fromkeys(aid for aid in heldout if aid in articles))


#: Word runs this long shared with a held-out article mark an example as copied or paraphrased.
LEAK_WORDS = 6
_WORD = re.compile(r"\w+")


def _word_runs(text: str) -> set[str]:
    words = _WORD.findall(text.casefold())
    return {" ".join(words[i:i + LEAK_WORDS]) for i in range(len(words) - LEAK_WORDS + 1)}


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _read_examples(root: Path, schema: Schema, heldout_texts: list[str], problems: list[Problem]) -> list[Example]:
    path = root / EXAMPLES_FILE
    if not path.exists():
        return []
    examples: list[Example] = []
    seen: dict[str, int] = {}
    heldout_runs = set().union(*map(_word_runs, heldout_texts))
    for line, data, error in read_jsonl(path):
        message = error or _example_problem(data, schema)
        if not message:
            norm = _normalise(data["text"])
            if norm in seen:
                message = f"same text as line {seen[norm]}"
            elif shared := sorted(_word_runs(data["text"]) & heldout_runs):
                message = (f"shares the words {shared[0]!r} with a held-out article; examples must never "
                           f"copy or paraphrase evaluation text")
        if message:
            problems.append(Problem(str(path), line, message))
            continue
        seen[norm] = line
        examples.append(Example.from_dict(data))
    return examples


def _example_problem(data: Any, schema: Schema) -> str | None:
    if not isinstance(data, dict) or set(data) != EXAMPLE_KEYS:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        return f"keys are {got}; expected {sorted(EXAMPLE_KEYS)}"
    if not isinstance(data["text"], str) or not data["text"].strip():
        return "'text' must be a non-empty string"
    if not isinstance(data["language"], str) or not data["language"]:
        return "'language' must be a language code such as 'en' or 'fr'"
    positions = data["positions"]
    if not isinstance(positions, list):
        return "'positions' must be a list of {\"speaker\", \"stance\"} objects ([] for none)"
    for item in positions:
        if not isinstance(item, dict) or set(item) != {"speaker", "stance"}:
            return f"position {item!r} must have exactly the keys 'speaker' and 'stance'"
        message = _label_problem(item, schema)
        if message:
            return message
    if len({(p["speaker"], p["stance"]) for p in positions}) != len(positions):
        return "the same position is listed twice"
    return None

