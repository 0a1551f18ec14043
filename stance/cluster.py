"""Tagging on a Ray cluster with Ray Data: the engine a lab may already run, not one of ours.

The driver (the machine running ``stance tag --ray``) resolves the inputs exactly as a plain run
does and reads each article's text (files, pages and table rows exist only on the driver), so ids
and texts cannot differ from a local run. Ray Data carries ``(id, text)`` records to a pool of
actors, each holding one :class:`~stance.workers.ChunkTagger` (the model loaded once per actor),
and gives their rows back in input order; the driver turns them into the same pieces of rows the
writers take, so ``--output`` is byte for byte what a local run writes.

Rows travel as JSON strings: a row's nested positions and optional fields would otherwise have to
fit one Arrow schema across batches, and a batch where every ``source`` is null would not.

Ray is imported inside functions only: it is an optional extra, and ``import stance`` or
``stance --help`` must not pay for it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

from .errors import StanceError, UsageError
from .predict import Document, TaggedArticle, read_noted
from .records import TaggedSentence

#: Articles per batch sent to an actor: a few seconds of work, so the pool stays busy and balanced
#: (the same size as a process pool's chunk, :data:`stance.workers.CHUNK_ARTICLES`).
BATCH_ARTICLES = 16
INSTALL = 'pip install -e ".[ray]"'
#: Not supported: continuing would mean sending each actor the rows already written of its
#: articles (as :class:`~stance.workers.TaggerPool` does); refused rather than silently starting over.
RESUME_REFUSED = ("--resume cannot be combined with --ray; rerun without --resume (a Ray run starts over), "
                  "or continue an interrupted local run with --resume alone")


class TaggerActor:
    """One model per Ray actor: Ray Data calls it with batches of records (``id``, ``text``)."""

    def __init__(self, model: str, precision: str, device: str) -> None:
        from .workers import ChunkTagger

        self.tagger = ChunkTagger(model, precision, device)

    def __call__(self, batch: dict[str, Any], threshold: Any = None) -> dict[str, Any]:
        import numpy as np

        rows = self.tagger.rows(zip(batch["id"].tolist(), batch["text"].tolist(), strict=True), threshold)
        return {"row": np.array([json.dumps(row, ensure_ascii=False) for row in rows], dtype=object)}


def check_ray(address: str | None) -> None:
    """Fail in a second, before inputs are read, when the optional extra is missing or the address
    is a Ray Client one (``ray://``): Ray Data does not run through Ray Client (Ray 2.60 fails
    inside Ray Data; ray-project/ray#48682), so the driver must run on a node of the cluster."""
    if importlib.util.find_spec("ray") is None:
        raise UsageError(f"--ray needs Ray, which is not installed; install it with: {INSTALL}")
    if address is not None and address.startswith("ray://"):
        raise UsageError(f"--ray-address {address}: Ray Data cannot run through Ray Client (ray://); run stance on a "
                         "node of the cluster with --ray-address HEAD:6379 (or auto), or submit it with `ray job "
                         "submit`")


class RayTagger:
    """A tagger to :func:`stance.formats.write_tags` that runs on Ray: a local Ray started for the
    run (``address`` ``None``), or an existing cluster (``HEAD:6379``, ``auto``), left running."""

    def __init__(self, model: str | Path, address: str | None = None, precision: str = "auto",
                 device: str = "auto") -> None:
        from .bundle import SCHEMA_NAME
        from .schema import Schema

        self.schema = Schema.load(Path(model) / SCHEMA_NAME)
        self.model = str(Path(model).resolve())
        self.precision = precision
        self.device = device
        check_ray(address)
        import ray

        try:
            with warnings.catch_warnings(action="ignore"):  # Ray's timeout advice: the error below says it all
                ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                         runtime_env=None if address else _local_env())
        except (ConnectionError, ValueError, RuntimeError) as error:
            reason = str(error).strip().splitlines()[0]
            if address is None:
                raise StanceError(f"a local Ray could not start ({reason}); rerun without --ray, or start one with "
                                  "`ray start --head` and give --ray-address") from None
            raise UsageError(f"--ray-address {address}: cannot connect ({reason}); expected the address of a "
                             "running cluster, e.g. HEAD:6379 from a node of it (see `ray start --head`)") from None
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        import ray

        ray.shutdown()  # for a cluster, this disconnects the driver and leaves the cluster running

    def tag_documents(self, documents: Iterable[Document], threshold: Any = None,
                      done: Mapping[str, int] | None = None) -> Iterator[TaggedArticle]:
        """Pieces of rows, one per article, in input order."""
        if done:
            raise UsageError(RESUME_REFUSED)
        import ray
        from ray.data import ActorPoolStrategy, DataContext

        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its plan and timings, still in Ray's log files

        articles = [_read(document) for document in documents]
        records = [{"id": article.id, "text": article.text} for article in articles]
        if not records:
            return
        context = DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        dataset = ray.data.from_items(records, override_num_blocks=-(-len(records) // BATCH_ARTICLES))
        tagged = dataset.map_batches(TaggerActor, batch_size=BATCH_ARTICLES, batch_format="numpy",
                                     compute=ActorPoolStrategy(size=min(self.cpus, -(-len(records) // BATCH_ARTICLES))),
                                     num_cpus=1, num_gpus=1 if self.device == "cuda" else None,
                                     fn_kwargs={"threshold": threshold},
                                     fn_constructor_kwargs={"model": self.model, "precision": self.precision,
                                                            "device": self.device})
        rows = (json.loads(record["row"]) for record in _results(tagged))
        yield from _pieces(articles, rows)


def _read(document: Document) -> TaggedArticle:
    """A document's text read on the driver, with its warning: an article without rows yet."""
    text, note = read_noted(document)
    return TaggedArticle(document.id, text, [], note, page=document.page)


def _results(dataset: Any) -> Iterator[dict[str, Any]]:
    """The dataset's rows; a failure inside an actor (a model that cannot load, an unknown device)
    becomes the same one-line error a local run gives, instead of Ray's remote traceback."""
    import ray

    try:
        yield from dataset.iter_rows()
    except ray.exceptions.RayError as error:
        cause = _stance_cause(error)
        if cause is not None:
            raise cause from None
        raise StanceError(f"Ray could not tag the articles ({str(error).strip().splitlines()[-1]}); "
                          "rerun without --ray to see whether the inputs or the cluster are at fault") from None


def _stance_cause(error: BaseException) -> StanceError | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StanceError):
            return seen
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else seen.__cause__
    return None


def _pieces(articles: Sequence[TaggedArticle], rows: Iterator[dict[str, Any]]) -> Iterator[TaggedArticle]:
    """Rows regrouped into their articles: rows come in input order, each article's rows together."""
    pending = next(rows, None)
    for article in articles:
        mine: list[TaggedSentence] = []
        while pending is not None and pending["article"] == article.id:
            mine.append(TaggedSentence.from_dict({**pending, "page": article.page}))
            pending = next(rows, None)
        yield replace(article, rows=mine)
    if pending is not None:
        raise StanceError(f"Ray returned a row of article {pending['article']!r} out of input order; "
                          "rerun without --ray")


def _local_env() -> dict[str, Any]:
    """A local Ray's workers import this very copy of ``stance`` (a checkout on PYTHONPATH too, not
    only an installed one), so the actors run the code the driver runs."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return {"env_vars": {"PYTHONPATH": path}}

