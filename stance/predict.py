"""Tagging articles: sentences in, one row per sentence out, streamed in bounded windows.

Sentences from consecutive articles are pooled into windows of up to ``WINDOW`` sentences (an
article longer than that is scored alone, in one window of its own) so small articles still make
full batches, while memory stays flat on archives of any size and each article's rows are
yielded as soon as its window is done.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, UsageError
from .io import SNIFF_BYTES, decode_text, read_text, refuse_binary
from .records import Sentence
from .segment import split_sentences

#: Sentences scored together: large enough to sort into similar-length batches, small enough
#: that memory does not grow with the input.
WINDOW = 512

STDIN = "-"


@dataclass(frozen=True)
class Document:
    """An input to tag: its id in the output (the file name without ``.txt``, relative to the
    directory given; ``stdin`` for standard input) and its path (``None`` for standard input)."""

    id: str
    path: Path | None


@dataclass(frozen=True)
class TaggedArticle:
    id: str
    text: str
    rows: list[dict[str, Any]]
    warning: str | None = None


def collect_documents(paths: Sequence[str]) -> list[Document]:
    """Resolve the command line's inputs before any model loads, so mistakes fail in a second."""
    documents: list[Document] = []
    for given in paths or [STDIN]:
        if given == STDIN:
            documents.append(Document("stdin", None))
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if not files:
                raise InputError(f"{path}: directory has no .txt files; expected articles saved as .txt")
            documents += [Document(_doc_id(p, path), p) for p in files]
        elif path.is_file():
            documents.append(Document(path.stem, path))
        else:
            raise InputError(f"{path}: no such file or directory")
    for document in documents:
        if document.path is not None:
            _sniff(document.path)
    seen: set[str] = set()
    for document in documents:
        if document.id in seen:
            raise UsageError(f"two inputs are both named {document.id!r}; rename one so rows can be told apart")
        seen.add(document.id)
    return documents


def _sniff(path: Path) -> None:
    """Refuse unreadable or binary inputs up front, before minutes go into loading and tagging."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    refuse_binary(head, str(path))


def _doc_id(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def read_document(document: Document) -> tuple[str, str | None]:
    if document.path is None:
        return decode_text(sys.stdin.buffer.read(), "stdin")
    return read_text(document.path)


def held_positions(probs: np.ndarray, speaker_probs: np.ndarray,
                   threshold: float | np.ndarray) -> list[tuple[int, int, float]]:
    """(stance, most probable speaker, probability) for each stance at or above the threshold,
    most probable first: the one rule that turns probabilities into reported positions."""
    held = sorted(np.flatnonzero(probs >= threshold), key=lambda s: -probs[s])
    return [(int(s), int(np.argmax(speaker_probs[s])), float(probs[s])) for s in held]


def sentence_rows(article: str, sentences: list[Sentence], stance_probs: np.ndarray, speaker_probs: np.ndarray,
                  stances: Sequence[str], speakers: Sequence[str], none: str,
                  threshold: float | np.ndarray) -> list[dict[str, Any]]:
    """The output contract: held positions (probability >= threshold) plus the top one repeated."""
    rows = []
    for index, (sentence, probs, speaker) in enumerate(zip(sentences, stance_probs, speaker_probs)):
        positions = [{"speaker": speakers[k], "stance": stances[s], "score": round(p, 4)}
                     for s, k, p in held_positions(probs, speaker, threshold)]
        top = positions[0] if positions else {"speaker": None, "stance": none,
                                              "score": round(1.0 - float(probs.max(initial=0.0)), 4)}
        rows.append({"article": article, "index": index, "start": sentence.start, "end": sentence.end,
                     "text": sentence.text, "positions": positions, **{k: top[k] for k in ("stance", "speaker", "score")}})
    return rows


def tag_documents(tagger: Any, documents: Iterable[Document], threshold: float | None = None,
                  window: int = WINDOW) -> Iterator[TaggedArticle]:
    """Tag documents in order, yielding each article as soon as its sentences are scored."""
    threshold = tagger.thresholds if threshold is None else threshold
    pending: list[tuple[Document, str, str | None, list[Sentence]]] = []
    count = 0
    limit = min(window, tagger.batch_size)  # the first rows appear after one batch, not a full window

    def flush() -> Iterator[TaggedArticle]:
        texts = [s.text for *_, sentences in pending for s in sentences]
        attributions = [a for _, text, _, sentences in pending for a in tagger.attribute(text, sentences)]
        stance_probs, speaker_probs = tagger.predict_all(texts, attributions)
        offset = 0
        for document, text, warning, sentences in pending:
            end = offset + len(sentences)
            rows = sentence_rows(document.id, sentences, stance_probs[offset:end], speaker_probs[offset:end],
                                 tagger.stances, tagger.speakers, tagger.schema.none, threshold)
            offset = end
            yield TaggedArticle(document.id, text, rows, warning)

    for document in documents:
        text, warning = read_document(document)
        sentences = split_sentences(text)
        if pending and count + len(sentences) > limit:
            yield from flush()
            pending, count, limit = [], 0, window
        pending.append((document, text, warning, sentences))
        count += len(sentences)
    if pending:
        yield from flush()
