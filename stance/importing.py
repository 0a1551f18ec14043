"""Bring a doccano or Label Studio export into a corpus, as one transaction.

Tools may hold an older or re-saved copy of an article (CRLF line ends, edited text), so spans are
converted and repaired, but never shifted without saying so, and refused rather than guessed when
a span's text cannot be found. Everything (ids as file names, text as UTF-8, offsets, labels) is
checked before anything is written; then the new articles, the spans and the backup of the old
spans are published together (:func:`stance.outputs.write_files`): a refused import, a full disk,
Ctrl-C or SIGTERM leaves the corpus exactly as it was.
"""

from __future__ import annotations

import bisect
import difflib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .corpus import ARTICLES_DIR, ARTICLES_FILE, SCHEMA_FILE, SPANS_FILE, SpanLedger, not_utf8, read_article
from .errors import AnnotationError, InputError, UsageError
from .interchange import ToolDocument, check_format, format_label, parse_label, read_export
from .io import loads, text_files
from .outputs import write_files
from .records import Span
from .schema import Schema
from .written import EXAMPLES_FILE

#: Below this word-level similarity a document is another text, not an edited copy of the article.
MIN_SIMILARITY = 0.5
#: Longest file name (bytes, ``.txt`` included) that common file systems accept (NAME_MAX).
NAME_MAX = 255
#: Ids listed in a warning before the rest is only counted.
SHOWN_IDS = 5


@dataclass
class ImportResult:
    """What an import did, for the CLI to report: counts, warnings, and where the old spans went."""

    documents: int
    spans: int
    warnings: list[str] = field(default_factory=list)
    backup: Path | None = None


def import_annotations(path: str | Path, corpus_dir: str | Path, fmt: str | None = None,
                       *, force: bool = False, language: str | None = None) -> ImportResult:
    """Replace the spans of the exported articles in ``corpus_dir/spans.jsonl`` with the spans of
    a doccano or Label Studio export; spans of other articles stay as they were, and documents
    that are not articles of the corpus yet become new article files with their line in
    ``articles.jsonl``, in ``language`` or the detected one (see :mod:`stance.language`)."""
    path, root = Path(path), Path(corpus_dir)
    if fmt is not None:
        check_format(fmt, "", path)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory; expected an annotation folder with {SCHEMA_FILE}")
    schema = Schema.load(root / SCHEMA_FILE)
    spans_path = root / SPANS_FILE
    old = spans_path.read_bytes() if spans_path.exists() else b""
    if old.strip() and not force:
        raise UsageError(f"{spans_path} already holds spans; pass --force to replace it (a backup is kept)")
    docs, warnings = read_export(path, fmt)
    examples = [doc for doc in docs if doc.choices is not None]
    docs = [doc for doc in docs if doc.choices is None]
    existing = _existing_articles(root, warnings)
    new_articles: dict[str, str] = {}
    owners: dict[str, str] = {}
    spans: list[Span] = []
    for doc in docs:
        _check_unicode(doc)
        aid = _article_id(doc, existing)
        if aid in owners:
            raise AnnotationError(f"{doc.name} and {owners[aid]} are both article {aid!r}; keep one of them")
        owners[aid] = doc.name
        if aid not in existing:
            new_articles[aid] = doc.text
        spans.extend(_place(doc, aid, existing.get(aid, doc.text), schema, warnings))
    spans = _unique(spans, warnings)
    files = {f"{ARTICLES_DIR}/{aid}.txt": text.encode("utf-8") for aid, text in new_articles.items()}
    if new_articles:
        files[ARTICLES_FILE] = _with_metadata(root / ARTICLES_FILE, new_articles, language, warnings)
    backup = None
    others: list[bytes] = []
    if old.strip():
        backup = _backup_path(spans_path)
        files[backup.name] = old
        lines = [line for line in old.split(b"\n") if line.strip()]  # "\n" only: JSON may hold U+2028
        warnings.append(f"the previous {SPANS_FILE} ({len(lines)} spans) was kept as {backup}")
        others = [line for line in lines if _line_article(line) not in owners]
        if others:
            warnings.append(f"{len(others)} spans of articles absent from {path.name} were kept as they were")
    if examples:
        files.update(_with_examples(root / EXAMPLES_FILE, examples, schema, language, force, warnings))
    files[SPANS_FILE] = b"".join(line + b"\n" for line in others) + "".join(
        json.dumps(span.to_dict(), ensure_ascii=False) + "\n" for span in spans).encode("utf-8")
    write_files(root, files)
    return ImportResult(documents=len(docs), spans=len(spans), warnings=warnings, backup=backup)


def _with_metadata(path: Path, articles: dict[str, str], language: str | None, warnings: list[str]) -> bytes:
    """``articles.jsonl`` with a line for each new article: an article without one is read as
    language ``und``, which no language-aware feature recognises."""
    from .language import DETECTOR, detect_language

    old = path.read_bytes() if path.exists() else b""
    listed = {_line_article(line, "id") for line in old.split(b"\n")}
    lines = {aid: {"id": aid, "language": language or detect_language(text), "outlet": None, "date": None,
                   "translation_of": None} for aid, text in sorted(articles.items()) if aid not in listed}
    if not lines:
        return old
    how = "given by --language" if language else f"detected by {DETECTOR}; correct it there if it is wrong"
    found = _some([f"{aid} ({line['language']})" for aid, line in lines.items()])
    warnings.append(f"{len(lines)} new articles written to {ARTICLES_DIR}/ and listed in {ARTICLES_FILE} "
                    f"with their language {how}: {found}")
    separator = b"\n" if old and not old.endswith(b"\n") else b""
    return old + separator + "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines.values()).encode()


def _with_examples(path: Path, docs: list[ToolDocument], schema: Schema, language: str | None, force: bool,
                   warnings: list[str]) -> dict[str, bytes]:
    """``examples.jsonl`` (and its backup) with the tool's examples: an example of the same text is
    replaced, since its positions were corrected in the tool; a new one is appended."""
    from .language import detect_language

    old = path.read_bytes() if path.exists() else b""
    if old.strip() and not force:
        raise UsageError(f"{path} already holds examples; pass --force to update them (a backup is kept)")
    imported: dict[str, dict[str, Any]] = {}
    for doc in docs:
        try:
            held = sorted({parse_label(label, schema) for label in doc.choices or []})
        except AnnotationError as exc:
            raise AnnotationError(f"{doc.name}: {exc}") from None
        imported[_words(doc.text)] = {"text": doc.text, "language": doc.language or language or detect_language(doc.text),
                                      "positions": [{"speaker": sp, "stance": st} for sp, st in held]}
    lines, changed, total = [], 0, len(imported)
    for line in (line for line in old.split(b"\n") if line.strip()):  # in place: order may matter to training
        new = imported.pop(_words(_line_article(line, "text") or ""), None)
        if new is not None and _held(new) != _held(loads(line.decode("utf-8"))):
            line, changed = json.dumps(new, ensure_ascii=False).encode("utf-8"), changed + 1
        lines.append(line)
    lines += [json.dumps(example, ensure_ascii=False).encode("utf-8") for example in imported.values()]
    warnings.append(f"{total} examples imported into {EXAMPLES_FILE}: {changed} changed, {len(imported)} added")
    files = {EXAMPLES_FILE: b"".join(line + b"\n" for line in lines)}
    if old.strip():
        files[_backup_path(path).name] = old
    return files


def _held(example: dict[str, Any]) -> tuple[Any, ...]:
    return example.get("language"), sorted((p.get("speaker"), p.get("stance")) for p in example.get("positions", []))


def _words(text: str) -> str:
    """An example's identity: its words, whatever the tool did to spaces and case."""
    return " ".join(text.split()).casefold()


def _some(ids: list[str]) -> str:
    """The first few ids and a count of the rest: 20,000 ids do not make a readable warning."""
    more = f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    return ", ".join(ids[:SHOWN_IDS]) + more


def _check_unicode(doc: ToolDocument) -> None:
    """Text that cannot be written as UTF-8 (a lone surrogate, which JSON's ``\\ud800`` escape can
    produce) is refused here, before any file is written."""
    for what, value in [("text", doc.text)] + [(f"note of span {i}", m.note) for i, m in enumerate(doc.marks, 1)]:
        try:
            (value or "").encode("utf-8")
        except UnicodeEncodeError as exc:
            raise AnnotationError(f"{doc.name}: {what} holds {exc.object[exc.start]!r} at character {exc.start}, "
                                  f"half of a surrogate pair, which is not text; fix it in the tool and export "
                                  f"again") from None


def _backup_path(spans_path: Path) -> Path:
    """A fresh name for the spans about to be replaced: hand labels are hours of work."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = spans_path.with_name(f"{spans_path.name}.bak-{stamp}")
    number = 1
    while backup.exists():
        number += 1
        backup = spans_path.with_name(f"{spans_path.name}.bak-{stamp}-{number}")
    return backup


def _line_article(line: bytes, key: str = "article") -> str | None:
    try:
        data = loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data.get(key) if isinstance(data, dict) else None


# --- matching documents to articles -------------------------------------------------------------


def _existing_articles(root: Path, warnings: list[str]) -> dict[str, str]:
    """The corpus's articles; an entry that is not a regular file inside the corpus is refused,
    as every command that reads the corpus refuses it."""
    folder = root / ARTICLES_DIR
    files, refused = text_files(folder, root) if folder.is_dir() else ([], [])
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise AnnotationError(f"{refused[0][0]}: {refused[0][1]}{more}")
    articles = {}
    for file in files:
        try:
            articles[file.stem] = read_article(file)
        except UnicodeDecodeError as error:
            raise AnnotationError(str(not_utf8(file, error))) from None
    return articles


def _article_id(doc: ToolDocument, existing: dict[str, str]) -> str:
    """The article a document belongs to: said explicitly, else the article with the same text."""
    aid = doc.article
    if aid is None:
        same = [a for a, text in existing.items() if text == doc.text]
        same = same or [a for a, text in existing.items() if _lf(text) == _lf(doc.text)]
        aid = same[0] if same else f"doc-{doc.key}"
    problem = _file_name_problem(aid)
    if problem:
        shown = repr(aid if len(aid) <= 60 else aid[:57] + "...")
        raise AnnotationError(f"{doc.name}: article id {shown} cannot be a file name in {ARTICLES_DIR}/ ({problem}); "
                              f"give the document another article id in the tool")
    return aid


def _file_name_problem(aid: str) -> str | None:
    """Why ``<aid>.txt`` cannot be an article file, or ``None``."""
    if not aid or aid.startswith("."):
        return "it starts with a dot, which makes a hidden file"
    if "/" in aid or "\\" in aid:
        return "it holds a path separator"
    if any(ord(char) < 32 or ord(char) == 127 for char in aid):
        return "it holds a control character such as NUL or a line break"
    try:
        size = len(f"{aid}.txt".encode())
    except UnicodeEncodeError:
        return "it is not valid Unicode"
    return f"{size} bytes as a file name; at most {NAME_MAX} fit" if size > NAME_MAX else None


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


def _place(doc: ToolDocument, aid: str, article: str, schema: Schema, warnings: list[str]) -> list[Span]:
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
    by the validator's own rule (:class:`SpanLedger`)."""
    ledger, kept = SpanLedger(), []
    for span in spans:
        clash = ledger.add(span, format_label(span.speaker, span.stance))
        if clash is not None and clash.kind == "conflict":
            raise AnnotationError(
                f"{span.article} {span.start}-{span.end} {span.text!r} has two labels "
                f"({clash.first}, {format_label(span.speaker, span.stance)}); mark each position on the words that hold it")
        if clash is None:
            kept.append(span)
    if len(kept) < len(spans):
        warnings.append(f"{len(spans) - len(kept)} duplicate spans were dropped")
    return sorted(kept, key=lambda s: (s.article, s.start, s.end, s.stance, s.speaker))
