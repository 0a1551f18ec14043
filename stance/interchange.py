"""Export spans to annotation tools (doccano, Label Studio) and import their exports back.

Annotators work in a tool, the tagger learns from ``spans.jsonl``: every offset crosses this
border. Tools count differently (doccano in code points, Label Studio in UTF-16 units, as
JavaScript does) and may hold an older or re-saved copy of an article (CRLF line ends, edited
text), so the import converts and repairs offsets but never shifts a span without saying so,
and refuses rather than guesses when a span's text cannot be found.
"""

from __future__ import annotations

import bisect
import difflib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .corpus import ARTICLES_DIR, SCHEMA_FILE, SPANS_FILE, Corpus
from .errors import AnnotationError, InputError, UsageError
from .io import atomic_file, read_text
from .records import Span
from .schema import Schema

#: A tool label is ``"<stance>:<speaker>"``: tools know one label per region, we need two.
LABEL_SEPARATOR = ":"
DOCCANO = "doccano"
LABEL_STUDIO = "label-studio"
FORMATS = (DOCCANO, LABEL_STUDIO)
#: Below this word-level similarity a document is another text, not an edited copy of the article.
MIN_SIMILARITY = 0.5


@dataclass
class ImportResult:
    """What an import did, for the CLI to report: counts, warnings, and where the old spans went."""

    documents: int
    spans: int
    warnings: list[str] = field(default_factory=list)
    backup: Path | None = None


@dataclass(frozen=True)
class _Mark:
    """One labelled region as the tool stored it, offsets already in code points of the tool's text."""

    start: int
    end: int
    text: str
    label: str
    note: str | None = None


@dataclass
class _Document:
    """A tool document, reduced to what both formats share."""

    name: str
    key: Any
    article: str | None
    text: str
    marks: list[_Mark]


def format_label(speaker: str, stance: str) -> str:
    """The single tool label that carries a position."""
    return f"{stance}{LABEL_SEPARATOR}{speaker}"


def parse_label(label: Any, schema: Schema) -> tuple[str, str]:
    """``(speaker, stance)`` of a tool label; a typo in the tool must not become a new label."""
    stance, sep, speaker = label.partition(LABEL_SEPARATOR) if isinstance(label, str) else ("", "", "")
    if sep and stance in schema.stance_names and speaker in schema.speaker_names:
        return speaker, stance
    valid = ", ".join(format_label(sp, st) for st in schema.stance_names for sp in schema.speaker_names)
    raise AnnotationError(f"unknown label {label!r}; labels are '<stance>{LABEL_SEPARATOR}<speaker>': {valid}")


def utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every code-point offset of ``text`` (length ``len(text) + 1``)."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


def _from_utf16(offsets: list[int], unit: int) -> int | None:
    """Code-point offset of a UTF-16 offset; ``None`` when it falls inside a surrogate pair."""
    index = bisect.bisect_left(offsets, unit)
    return index if index < len(offsets) and offsets[index] == unit else None


def _lf(text: str) -> str:
    """Text with Windows line ends made Unix ones: tools and editors silently convert them."""
    return text.replace("\r\n", "\n")


def _lf_offsets(text: str) -> list[int]:
    """For every offset of ``text``, the offset in ``_lf(text)``: how CRLF and LF copies line up."""
    offsets = [0] * (len(text) + 1)
    removed = 0
    for index, char in enumerate(text):
        if char == "\r" and text.startswith("\n", index + 1):
            removed += 1
        offsets[index + 1] = index + 1 - removed
    return offsets


# --- export -------------------------------------------------------------------------------------


def export_doccano(corpus: Corpus, path: str | Path) -> list[str]:
    """Write one doccano JSONL document per article; doccano counts code points, as we do."""
    notes = 0
    with atomic_file(path) as handle:
        for number, aid in enumerate(sorted(corpus.articles), start=1):
            spans = corpus.spans_of(aid)
            notes += sum(1 for span in spans if span.note)
            labels = [[s.start, s.end, format_label(s.speaker, s.stance)] for s in spans]
            doc = {"id": number, "text": corpus.articles[aid].text, "label": labels, "article": aid}
            handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return [f"{notes} span notes were not exported: doccano has no per-span note"] if notes else []


def export_label_studio(corpus: Corpus, path: str | Path) -> list[str]:
    """Write a Label Studio JSON task list, offsets in UTF-16 units and notes in each region's meta."""
    tasks = []
    for number, aid in enumerate(sorted(corpus.articles), start=1):
        text = corpus.articles[aid].text
        units = utf16_offsets(text)
        results = []
        for index, span in enumerate(corpus.spans_of(aid), start=1):
            value = {"start": units[span.start], "end": units[span.end], "text": span.text,
                     "labels": [format_label(span.speaker, span.stance)]}
            result: dict[str, Any] = {"id": f"s{index}", "from_name": "label", "to_name": "text",
                                      "type": "labels", "value": value}
            if span.note:
                result["meta"] = {"text": [span.note]}
            results.append(result)
        tasks.append({"id": number, "data": {"text": text, "article": aid},
                      "annotations": [{"id": number, "result": results}]})
    with atomic_file(path) as handle:
        handle.write(json.dumps(tasks, ensure_ascii=False, indent=2) + "\n")
    return []


# --- reading tool files -------------------------------------------------------------------------


def _check_format(fmt: str | None, content: str, path: Path) -> str:
    """The canonical format name; sniffed from content when not given (a list is Label Studio)."""
    if fmt is not None:
        name = fmt.lower().replace("_", "-").replace("labelstudio", LABEL_STUDIO)
        if name not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return name
    head = content.lstrip("\ufeff \t\r\n")[:1]
    if head == "[":
        return LABEL_STUDIO
    if head == "{":
        return DOCCANO
    raise UsageError(f"{path}: cannot tell the format (neither a JSON list nor JSONL); pass the format")


def _span_text(text: str, start: Any, end: Any, where: str) -> str:
    """The marked text, or an error: offsets outside the tool's own text mean a broken export."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end))
    if not ints or not 0 <= start < end <= len(text):
        raise AnnotationError(f"{where}: offsets {start!r}-{end!r} are outside the document text (0-{len(text)})")
    return text[start:end]


def _article_hint(*sources: Any) -> str | None:
    """An explicit article id: ours on export, or one a user put in the tool's metadata."""
    for source in sources:
        if isinstance(source, dict):
            for key in ("article", "article_id"):
                if isinstance(source.get(key), str) and source[key]:
                    return source[key]
    return None


def _read_doccano(content: str, path: Path) -> list[_Document]:
    """Split on LF only: U+2028 inside a text is not a line end for JSONL."""
    docs = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = " (a JSON list is a Label Studio export)" if line.lstrip().startswith("[") else ""
            raise AnnotationError(f"{where}: not valid JSON ({exc.msg}){hint}") from None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise AnnotationError(f"{where}: expected a doccano object with a string 'text'")
        name = f"{where} (id {data.get('id', number)})"
        entries = data.get("label", data.get("labels", []))
        marks = []
        for index, entry in enumerate(entries if isinstance(entries, list) else [None], start=1):
            if isinstance(entry, dict):
                entry = [entry.get("start_offset"), entry.get("end_offset"), entry.get("label")]
            if not isinstance(entry, list) or len(entry) != 3:
                raise AnnotationError(f"{name}: label {index} is {entry!r}; expected [start, end, \"LABEL\"]")
            start, end, label = entry
            text = _span_text(data["text"], start, end, f"{name}: label {index}")
            marks.append(_Mark(start, end, text, label))
        docs.append(_Document(name, data.get("id", number), _article_hint(data, data.get("meta")),
                              data["text"], marks))
    return docs


def _read_label_studio(content: str, path: Path, warnings: list[str]) -> list[_Document]:
    try:
        tasks = json.loads(content)
    except json.JSONDecodeError as exc:
        hint = " (one object per line is a doccano export)" if exc.msg == "Extra data" else ""
        raise AnnotationError(f"{path.name}:{exc.lineno}: not valid JSON ({exc.msg}){hint}") from None
    if not isinstance(tasks, list):
        raise AnnotationError(f"{path.name}: expected a JSON list of Label Studio tasks")
    docs = []
    for number, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise AnnotationError(f"{path.name}: task {number} has no string data.text")
        name = f"{path.name}: task {task.get('id', number)}"
        annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if len(annotations) > 1:
            warnings.append(f"{name}: {len(annotations)} annotations; only the last one was imported")
        units = utf16_offsets(data["text"])
        marks, skipped = [], 0
        for result in annotations[-1].get("result", []) if annotations else []:
            value = result.get("value") or {}
            if result.get("type") != "labels" or "start" not in value or "end" not in value:
                skipped += 1
                continue
            where = f"{name}: region {result.get('id')!r}"
            start, end = (_from_utf16(units, value[k]) if type(value[k]) is int else None
                          for k in ("start", "end"))
            if start is None or end is None:
                raise AnnotationError(f"{where}: UTF-16 offsets {value['start']!r}-{value['end']!r} "
                                      f"do not fall between characters of the task text")
            text = _span_text(data["text"], start, end, where)
            text = value["text"] if isinstance(value.get("text"), str) and value["text"] else text
            notes = (result.get("meta") or {}).get("text") or []
            note = "\n".join(map(str, notes)) if isinstance(notes, list) else str(notes)
            for label in value.get("labels") or [None]:
                marks.append(_Mark(start, end, text, label, note or None))
        if skipped:
            warnings.append(f"{name}: {skipped} results that are not text labels were not imported")
        docs.append(_Document(name, task.get("id", number), _article_hint(data, task.get("meta"), data.get("meta")),
                              data["text"], marks))
    return docs


# --- matching documents to articles -------------------------------------------------------------


def _existing_articles(folder: Path, warnings: list[str]) -> dict[str, str]:
    articles = {}
    for file in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        articles[file.stem], warning = read_text(file)
        if warning:
            warnings.append(warning)
    return articles


def _article_id(doc: _Document, existing: dict[str, str]) -> str:
    """The article a document belongs to: said explicitly, else the article with the same text."""
    aid = doc.article
    if aid is None:
        same = [a for a, text in existing.items() if text == doc.text]
        same = same or [a for a, text in existing.items() if _lf(text) == _lf(doc.text)]
        aid = same[0] if same else f"doc-{doc.key}"
    if Path(aid).name != aid or aid.startswith(".") or "\\" in aid:
        raise AnnotationError(f"{doc.name}: article id {aid!r} cannot be a file name in {ARTICLES_DIR}/")
    return aid


def _similarity(a: str, b: str) -> float:
    """Share of words in common: an edited article stays high, another article falls low."""
    return difflib.SequenceMatcher(None, a.split(), b.split()).ratio()


def _variants(text: str) -> list[str]:
    """The span text as it may be stored with either line-end convention."""
    lf = _lf(text)
    return list(dict.fromkeys([text, lf, lf.replace("\n", "\r\n")]))


def _nearest(article: str, text: str, near: int) -> tuple[int, int] | None:
    """The occurrence of ``text`` closest to where the tool had it: edits shift text locally."""
    best: tuple[int, int] | None = None
    for needle in _variants(text):
        pos = article.find(needle)
        while pos >= 0:
            if best is None or abs(pos - near) < abs(best[0] - near):
                best = (pos, pos + len(needle))
            pos = article.find(needle, pos + 1)
    return best


def _place(doc: _Document, aid: str, article: str, schema: Schema, warnings: list[str]) -> list[Span]:
    """Spans of ``doc`` on the article text as stored, converting or moving offsets only when the
    span's own text proves where it belongs."""
    crlf = doc.text != article and _lf(doc.text) == _lf(article)
    if doc.text != article and not crlf:
        similarity = _similarity(doc.text, article)
        if similarity < MIN_SIMILARITY:
            raise AnnotationError(
                f"{doc.name}: text is entirely different from {ARTICLES_DIR}/{aid}.txt "
                f"({similarity:.0%} of words in common); give the document another article id")
    doc_lf, article_lf = (_lf_offsets(doc.text), _lf_offsets(article)) if crlf else ([], [])
    spans, converted, moved = [], 0, 0
    for index, mark in enumerate(doc.marks, start=1):
        try:
            speaker, stance = parse_label(mark.label, schema)
        except AnnotationError as exc:
            raise AnnotationError(f"{doc.name}: span {index}: {exc}") from None
        start, end = mark.start, mark.end
        if crlf:
            start = bisect.bisect_left(article_lf, doc_lf[start])
            end = bisect.bisect_left(article_lf, doc_lf[end])
        if _lf(article[start:end]) != _lf(mark.text):
            found = _nearest(article, mark.text, start)
            if found is None:
                raise AnnotationError(
                    f"{doc.name}: span {index} ({mark.label}, {mark.start}-{mark.end}) marks {mark.text!r}, "
                    f"which is not in {ARTICLES_DIR}/{aid}.txt; fix the span in the tool or restore the article")
            (start, end), moved = found, moved + 1
        elif (start, end) != (mark.start, mark.end):
            converted += 1
        spans.append(Span(aid, start, end, article[start:end], speaker, stance, mark.note))
    if crlf:
        warnings.append(f"{doc.name}: line ends differ from {ARTICLES_DIR}/{aid}.txt (CRLF vs LF); "
                        f"offsets converted, {converted} spans moved")
    if moved:
        warnings.append(f"{doc.name}: {moved} spans moved to match their text in {ARTICLES_DIR}/{aid}.txt")
    return spans


def _unique(spans: list[Span], warnings: list[str]) -> list[Span]:
    """Drop exact duplicates (with a warning); refuse one region holding two different positions,
    which the corpus validator would reject anyway."""
    kept: dict[tuple[Any, ...], Span] = {}
    labels: dict[tuple[str, int, int], Span] = {}
    for span in spans:
        key = (span.article, span.start, span.end, span.speaker, span.stance)
        other = labels.setdefault((span.article, span.start, span.end), span)
        if other.position != span.position:
            raise AnnotationError(
                f"{span.article} {span.start}-{span.end} {span.text!r} has two labels "
                f"({format_label(other.speaker, other.stance)}, {format_label(span.speaker, span.stance)}); "
                f"mark each position on the words that hold it")
        kept.setdefault(key, span)
    if len(kept) < len(spans):
        warnings.append(f"{len(spans) - len(kept)} duplicate spans were dropped")
    return sorted(kept.values(), key=lambda s: (s.article, s.start, s.end, s.stance, s.speaker))


# --- import -------------------------------------------------------------------------------------


def _backup(spans_path: Path) -> Path:
    """Copy the spans about to be replaced under a fresh name: hand labels are hours of work."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = spans_path.with_name(f"{spans_path.name}.bak-{stamp}")
    number = 1
    while backup.exists():
        number += 1
        backup = spans_path.with_name(f"{spans_path.name}.bak-{stamp}-{number}")
    shutil.copy2(spans_path, backup)
    return backup


def _line_article(line: str) -> str | None:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    return data.get("article") if isinstance(data, dict) else None


def import_annotations(path: str | Path, corpus_dir: str | Path, fmt: str | None = None,
                       *, force: bool = False) -> ImportResult:
    """Replace the spans of the exported articles in ``corpus_dir/spans.jsonl`` with the spans of
    a doccano or Label Studio export; spans of other articles stay as they were.

    Everything is read and checked before anything is written, so a refused import leaves the
    corpus untouched; new article files and the spans are each written atomically.
    """
    path, root = Path(path), Path(corpus_dir)
    if fmt is not None:
        _check_format(fmt, "", path)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory; expected an annotation folder with {SCHEMA_FILE}")
    schema = Schema.load(root / SCHEMA_FILE)
    spans_path = root / SPANS_FILE
    if spans_path.exists() and not force and spans_path.read_bytes().strip():
        raise UsageError(f"{spans_path} already holds spans; pass --force to replace it (a backup is kept)")
    content, decoding = read_text(path)
    content = content.removeprefix("\ufeff")
    warnings = [decoding] if decoding else []
    if not content.strip():
        raise InputError(f"{path}: is empty; expected a {' or '.join(FORMATS)} export")
    fmt = _check_format(fmt, content, path)
    try:
        docs = _read_doccano(content, path) if fmt == DOCCANO else _read_label_studio(content, path, warnings)
    except (AttributeError, TypeError, KeyError) as exc:  # a field of the wrong JSON type somewhere
        raise AnnotationError(f"{path}: not a well-formed {fmt} export ({type(exc).__name__}: {exc}); "
                              f"export it again from the tool") from None
    folder = root / ARTICLES_DIR
    existing = _existing_articles(folder, warnings)
    new_articles: dict[str, str] = {}
    owners: dict[str, str] = {}
    spans: list[Span] = []
    for doc in docs:
        aid = _article_id(doc, existing)
        if aid in owners:
            raise AnnotationError(f"{doc.name} and {owners[aid]} are both article {aid!r}; keep one of them")
        owners[aid] = doc.name
        if aid not in existing:
            new_articles[aid] = doc.text
        spans.extend(_place(doc, aid, existing.get(aid, doc.text), schema, warnings))
    spans = _unique(spans, warnings)
    folder.mkdir(exist_ok=True)
    for aid, text in new_articles.items():
        with atomic_file(folder / f"{aid}.txt") as handle:
            handle.write(text)
    if new_articles:
        warnings.append(f"{len(new_articles)} new article files written ({', '.join(sorted(new_articles))}); "
                        f"add their metadata to articles.jsonl")
    backup = None
    others: list[str] = []
    old = spans_path.read_text(encoding="utf-8") if spans_path.exists() else ""
    if old.strip():
        backup = _backup(spans_path)
        lines = [line for line in old.split("\n") if line.strip()]  # "\n" only: JSON may hold U+2028
        warnings.append(f"the previous {SPANS_FILE} ({len(lines)} spans) was kept as {backup}")
        others = [line for line in lines if _line_article(line) not in owners]
        if others:
            warnings.append(f"{len(others)} spans of articles absent from {path.name} were kept as they were")
    with atomic_file(spans_path) as handle:
        for line in others:
            handle.write(line + "\n")
        for span in spans:
            handle.write(json.dumps(span.to_dict(), ensure_ascii=False) + "\n")
    return ImportResult(documents=len(docs), spans=len(spans), warnings=warnings, backup=backup)
