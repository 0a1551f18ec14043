"""Tagging articles: sentences in, one row per sentence out, streamed in bounded windows.

Sentences of consecutive articles are pooled into windows of up to ``WINDOW`` sentences, so small
articles still make full batches; a longer article is scored a window at a time. Rows come out as
soon as their window is scored, so memory stays flat on archives of any size and on one huge
article alike, and an interrupted run keeps every row already written.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .archives import FOLDER_SUFFIXES, ID_COLUMN, TEXT_COLUMN, is_page, is_table, read_page, read_table, unread_files
from .errors import InputError, UsageError
from .io import SNIFF_BYTES, file_kind, os_reason, read_stream, read_text, refuse_binary, text_files
from .records import Attribution, Mention, Reported, Sentence, TaggedSentence
from .segment import split_sentences

#: Sentences scored together: large enough to sort into similar-length batches, small enough
#: that memory does not grow with the input.
WINDOW = 512

STDIN = "-"


@dataclass(frozen=True)
class Document:
    """An input to tag: its id in the output (the file name without ``.txt``, relative to the
    directory given; ``stdin`` for standard input; a table's id column), its path (``None`` for
    standard input), a note about it (a file name that is not UTF-8 is escaped), its ``text`` when
    already in memory (a table's row, the Python API; never read again from a path or standard
    input) and, for a web page, the ``page`` its rows name (its path)."""

    id: str
    path: Path | None
    note: str | None = None
    text: str | None = None
    page: str | None = None


@dataclass(frozen=True)
class TaggedArticle:
    """Rows of one article as they are scored: the whole article, or a piece of a long one
    (``first`` and ``last`` say which); ``warning`` comes with the first piece."""

    id: str
    text: str
    rows: list[TaggedSentence]
    warning: str | None = None
    first: bool = True
    last: bool = True
    page: str | None = None


def collect_documents(paths: Sequence[str], skipped: list[str] | None = None,
                      columns: tuple[str, str] = (TEXT_COLUMN, ID_COLUMN),
                      unread: list[str] | None = None) -> list[Document]:
    """Resolve the command line's inputs before any model loads, so mistakes fail in a second.

    In a directory, ``*.txt``, ``*.html`` and ``*.htm`` entries that are not regular files or that
    resolve outside it are never read: they are described in ``skipped`` when a list is given, else
    the first is an error; ``unread`` gets a warning naming the directory's other files. A table
    named explicitly gives one document per row from its ``columns`` (text, id). FIFOs and devices
    given by name (``<(...)``, ``/dev/stdin``) are read as streams.
    """
    documents: list[Document] = []
    for given in paths or [STDIN]:
        if given == STDIN:
            documents.append(Document("stdin", None))
            continue
        path = Path(given)
        mode = _mode(path)
        if mode is None:
            raise InputError(f"{path}: no such file or directory")
        if stat.S_ISDIR(mode):
            files, refused = text_files(path, path, recursive=True, suffixes=FOLDER_SUFFIXES)
            entries = [f"{entry}: {reason}" for entry, reason in refused]
            if entries and (skipped is None or not files):
                more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
                raise InputError(f"{entries[0]}{more}")
            if not files:
                raise InputError(f"{path}: directory has no .txt, .html or .htm files; expected articles saved as "
                                 f"text or web pages (a table is read only when named: stance tag {path}/TABLE.csv)")
            (skipped if skipped is not None else []).extend(entries)
            (unread if unread is not None else []).extend(filter(None, [unread_files(path)]))
            documents += [_document(p.relative_to(path).with_suffix("").as_posix(), p) for p in files]
        elif stat.S_ISREG(mode) and is_table(path):
            documents += [Document(key, path, note, text) for key, text, note in read_table(path, *columns)]
        elif stat.S_ISREG(mode):
            _sniff(path)
            documents.append(_document(path.stem, path))
        elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            documents.append(_document(path.stem, path))  # a stream: sniffed as it is read
        else:
            raise InputError(f"{path}: is a {file_kind(mode)}; expected a text file, a directory or a pipe")
    seen: set[str] = set()
    for document in documents:
        if document.id in seen:
            raise UsageError(f"two inputs are both named {document.id!r}; rename one so rows can be told apart")
        seen.add(document.id)
    return documents


def _mode(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({os_reason(exc)})") from None


def _document(name: str, path: Path) -> Document:
    """A document whose id is valid UTF-8 even when the file name is not, so every output stays
    valid UTF-8: undecodable bytes are written ``\\xNN``, and the note says so."""
    escaped = _escape(name)
    note = None if escaped == name else (f"{_escape(str(path))}: file name is not valid UTF-8; its rows use "
                                         f"the id {escaped} (bytes that are not UTF-8 written as \\xNN)")
    return Document(escaped, path, note, page=_escape(str(path)) if is_page(path) else None)


def _escape(name: str) -> str:
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _sniff(path: Path) -> None:
    """Refuse unreadable or binary inputs up front, before minutes go into loading and tagging."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({os_reason(exc)})") from None
    refuse_binary(head, str(path))


def read_document(document: Document) -> tuple[str, str | None]:
    """The text of a document and a warning about how it was decoded, if any."""
    if document.text is not None:
        return document.text, None
    if document.page is not None and document.path is not None:
        return read_page(document.path)
    if document.path is None:
        if sys.stdin is None:
            raise InputError("standard input is closed; pipe text in or give files")
        return read_stream(sys.stdin.buffer, "stdin")
    return read_text(document.path)


def read_noted(document: Document) -> tuple[str, str | None]:
    """The text of a document and everything to warn about it: its own note (an escaped file name)
    and the reading's warning, joined, as the first rows of the article carry them."""
    text, warning = read_document(document)
    return text, "; ".join(w for w in (document.note, warning) if w) or None


def held_positions(probs: np.ndarray, speaker_probs: np.ndarray,
                   threshold: float | np.ndarray) -> list[tuple[int, int, float]]:
    """(stance, most probable speaker, probability) for each stance at or above the threshold,
    most probable first: the one rule that turns probabilities into reported positions."""
    held = sorted(np.flatnonzero(probs >= threshold), key=lambda s: -probs[s])
    return [(int(s), int(np.argmax(speaker_probs[s])), float(probs[s])) for s in held]


def position_source(attribution: Attribution | None, stance: int, speaker: str) -> Mention | None:
    """The mention a position is reported from: the source the attribution gives the position's
    stance, else another holder the sentence reports, when it names the position's speaker; ``None``
    otherwise (the article's own voice, or a speaker the model took from elsewhere than the
    attribution), so a row never shows a source for someone else's position."""
    if attribution is None:
        return None
    candidates = (attribution.source_of(stance), *attribution.sources)
    source = next((s for s in candidates if s is not None and s.speaker == speaker), None)
    return None if source is None else Mention(source.start, source.end, source.text)


def sentence_rows(article: str, sentences: list[Sentence], stance_probs: np.ndarray, speaker_probs: np.ndarray,
                  stances: Sequence[str], speakers: Sequence[str], none: str,
                  threshold: float | np.ndarray, first_index: int = 0,
                  attributions: Sequence[Attribution] | None = None, page: str | None = None) -> list[TaggedSentence]:
    """The output contract: held positions (probability >= threshold) plus the top one repeated.
    ``first_index`` is the index of the first sentence given, when rows come a piece at a time;
    ``attributions`` (one per sentence given) give each position its source mention; ``page`` is
    the web page the article was extracted from (``None`` for text)."""
    rows = []
    for offset, (sentence, probs, speaker) in enumerate(zip(sentences, stance_probs, speaker_probs)):
        attribution = attributions[offset] if attributions is not None else None
        positions = tuple(Reported(speakers[k], stances[s], round(p, 4), position_source(attribution, s, speakers[k]))
                          for s, k, p in held_positions(probs, speaker, threshold))
        top = positions[0] if positions else Reported("", none, round(1.0 - float(probs.max(initial=0.0)), 4))
        rows.append(TaggedSentence(sentence.start, sentence.end, sentence.text, article, first_index + offset,
                                   positions, top.stance, top.speaker or None, top.score, top.source, page))
    return rows


@dataclass
class _Article:
    """An article being tagged: its sentences, and the first one this run tags (after a resume)."""

    document: Document
    text: str
    warning: str | None
    sentences: list[Sentence]
    attributions: list[Attribution]
    start: int


def tag_documents(tagger: Any, documents: Iterable[Document], threshold: float | np.ndarray | None = None,
                  window: int = WINDOW, done: Mapping[str, int] | None = None) -> Iterator[TaggedArticle]:
    """Tag documents in order, yielding rows as soon as their window is scored.

    ``done`` maps an article id to the number of its rows a previous, interrupted run already
    wrote: tagging continues from the next sentence, and an article with every row done is skipped.
    Attribution reads each article whole when it is read, so scoring it in windows changes nothing.
    """
    threshold = tagger.thresholds if threshold is None else threshold
    done = done or {}
    pending: list[tuple[_Article, int, int]] = []  # (article, first sentence, end) awaiting scores
    count = 0
    limit = min(window, tagger.batch_size)  # the first rows appear after one batch, not a full window

    def score() -> Iterator[TaggedArticle]:
        texts = [s.text for article, a, b in pending for s in article.sentences[a:b]]
        attributions = [x for article, a, b in pending for x in article.attributions[a:b]]
        stance_probs, speaker_probs = tagger.predict_all(texts, attributions)
        offset = 0
        for article, a, b in pending:
            end = offset + b - a
            rows = sentence_rows(article.document.id, article.sentences[a:b], stance_probs[offset:end],
                                 speaker_probs[offset:end], tagger.stances, tagger.speakers, tagger.schema.none,
                                 threshold, first_index=a, attributions=article.attributions[a:b],
                                 page=article.document.page)
            offset = end
            first = a == article.start
            yield TaggedArticle(article.document.id, article.text, rows, article.warning if first else None,
                                first, b == len(article.sentences), article.document.page)

    for document in documents:
        text, warning = read_noted(document)
        sentences = split_sentences(text)
        start = min(done.get(document.id, 0), len(sentences))
        if start and start == len(sentences):
            continue
        article = _Article(document, text, warning, sentences, tagger.attribute(text, sentences), start)
        if not sentences:
            pending.append((article, 0, 0))
        while start < len(sentences):
            end = min(len(sentences), start + limit - count)
            pending.append((article, start, end))
            count += end - start
            start = end
            if count >= limit:
                yield from score()
                pending, count, limit = [], 0, window
    if pending:
        yield from score()
