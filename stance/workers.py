"""Tagging on every core of one machine, and the unit of work any other engine can schedule.

:class:`ChunkTagger` loads a model once and tags a batch of ``(id, text)`` articles into rows:
what a worker process calls here, and what an actor of a cluster engine (Ray) can call. The
:class:`TaggerPool` runs N such workers: the parent reads the inputs and deals them out in chunks
of whole articles, and yields the rows back in input order, a bounded number of chunks ahead, so
output streams and memory stays flat. A resumed run gives each chunk the rows already written of
its articles, so tagging continues exactly where the single-process run would.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Self

from .errors import StanceError, UsageError
from .predict import Document, TaggedArticle, read_noted

#: Articles per chunk, and characters: a chunk is worth sending to a process (a few seconds of
#: work), yet small enough that N workers share out a folder of a few dozen articles.
CHUNK_ARTICLES = 16
CHUNK_CHARS = 64_000


class ChunkTagger:
    """A model loaded once, tagging batches of articles: build one per process or actor."""

    def __init__(self, model: str | Path, precision: str = "auto", device: str = "auto") -> None:
        from .device import resolve_device
        from .model import StanceTagger

        self.tagger = StanceTagger.from_pretrained(Path(model)).to(resolve_device(device))
        self.tagger.set_precision(precision)

    def tag_documents(self, documents: Sequence[Document], threshold: Any = None,
            done: Mapping[str, int] | None = None) -> list[TaggedArticle]:
        """Every piece of rows of these documents, in order (see :func:`stance.predict.tag_documents`)."""
        return list(self.tagger.tag_documents(documents, threshold, done))

    def rows(self, articles: Iterable[tuple[str, str]], threshold: Any = None) -> list[dict[str, Any]]:
        """The rows of ``(id, text)`` articles, in order, as JSONL-row dicts: the call for an engine's
        batch of records."""
        pieces = self.tag_documents([Document(str(key), None, text=text) for key, text in articles], threshold)
        return [row.to_dict() for piece in pieces for row in piece.rows]


_worker: ChunkTagger | StanceError | None = None


def _start_worker(model: str, precision: str, device: str, threads: int) -> None:
    """Load the model once per process. Ctrl-C is the parent's to handle: a worker ignores it and
    finishes its chunk, so the terminal shows one message, not a traceback per process. A model
    that cannot load is reported with the first chunk (an initialiser that raises would only say
    that the pool broke)."""
    global _worker
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)  # the cores are shared out: N processes of all threads would thrash
    try:
        _worker = ChunkTagger(model, precision, device)
    except StanceError as error:
        _worker = error


def _tag_chunk(documents: list[Document], threshold: Any, done: dict[str, int]) -> list[TaggedArticle]:
    if isinstance(_worker, StanceError):
        raise _worker
    assert _worker is not None, "the pool initialiser loads the model"
    return _worker.tag_documents(documents, threshold, done)


class TaggerPool:
    """N worker processes, each with the model loaded once; a tagger to :func:`stance.formats.write_tags`."""

    def __init__(self, model: str | Path, workers: int, precision: str = "auto", device: str = "auto") -> None:
        from .bundle import SCHEMA_NAME
        from .schema import Schema

        if workers < 1:
            raise UsageError(f"--workers {workers}: expected 1 or more processes")
        self.schema = Schema.load(Path(model) / SCHEMA_NAME)
        self.workers = workers
        threads = max(1, len(os.sched_getaffinity(0)) // workers)
        # spawn, not fork: a forked copy of a parent with threads (tokenizers, OpenMP) can deadlock
        self.executor = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                            initargs=(str(model), precision, device, threads))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def tag_documents(self, documents: Iterable[Document], threshold: Any = None,
            done: Mapping[str, int] | None = None) -> Iterator[TaggedArticle]:
        """Pieces of rows in input order; at most two chunks per worker are read ahead."""
        done = done or {}
        pending: deque[Future[list[TaggedArticle]]] = deque()
        try:
            for chunk in _chunks(documents):
                pending.append(self.executor.submit(_tag_chunk, chunk, threshold,
                                                    {d.id: done[d.id] for d in chunk if d.id in done}))
                while len(pending) > 2 * self.workers or (pending and pending[0].done()):
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        except BrokenProcessPool:
            raise StanceError("a tagging worker died (out of memory?); finished rows are kept: rerun with fewer "
                              "--workers, and --resume to continue") from None


def _chunks(documents: Iterable[Document]) -> Iterator[list[Document]]:
    """Documents in chunks of whole articles. The parent reads text files and standard input
    (cheap, and only it has the standard input); web pages go unread, for the workers to extract."""
    chunk: list[Document] = []
    size = 0
    for document in documents:
        if document.page is None:
            text, note = read_noted(document)
            document = replace(document, text=text, note=note)
        chunk.append(document)
        size += len(document.text or "")
        if len(chunk) >= CHUNK_ARTICLES or size >= CHUNK_CHARS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


@contextlib.contextmanager
def tagging(model: str | Path, workers: int = 1, precision: str = "auto", device: str = "auto") -> Iterator[Any]:
    """The tagger ``stance tag`` writes with: the model in this process, or a pool of ``workers``
    processes; the device is checked first, so a missing GPU is reported before anything loads."""
    from .device import resolve_device

    resolve_device(device)
    if workers == 1:
        yield ChunkTagger(model, precision, device).tagger
        return
    with TaggerPool(model, workers, precision, device) as pool:
        yield pool
