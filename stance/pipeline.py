"""Use cases, composed from the library: train a tagger, evaluate one, train-evaluate-save.

The CLI and the Python API both call these, so ``stance train`` and ``train(load_corpus(...))``
cannot drift apart; the fitting (:mod:`stance.training`) and the scoring
(:mod:`stance.evaluation`) never import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .baselines import MajorityBaseline, TfidfBaseline
from .bundle import check_model_output, model_card
from .config import TrainConfig
from .corpus import SPLIT_FILE, Corpus
from .dataset import article_rows, positions_of
from .device import resolve_device
from .errors import SchemaError, StanceError, UsageError
from .evaluation import (
    MODEL,
    SECTIONS,
    Scores,
    cross_validate,
    evaluate_systems,
    section_title,
    split_articles,
    table_rows,
)
from .model import StanceTagger
from .predict import collect_documents, tag_documents
from .records import TaggedSentence
from .summary import Summary, article_dates, is_tag_output, read_tag_output, summarize
from .training import Progress, TrainingSet, cached_fitter, fit_tagger, training_rows
from .written import EXAMPLES_FILE

#: What ``split`` may ask :func:`evaluate` for, and the sections each gives.
SPLITS = {"all": SECTIONS[:3], "heldout": SECTIONS[:1], "dev": SECTIONS[1:3]}


@dataclass(frozen=True)
class Section:
    """One part of an evaluation: which articles (none for cross-validation), and each system's scores."""

    name: str
    articles: tuple[str, ...]
    systems: dict[str, Scores]

    @property
    def title(self) -> str:
        return section_title(self.name, self.articles)

    @property
    def model(self) -> Scores:
        return self.systems[MODEL]

    def table(self, stances: list[str]) -> list[list[str]]:
        """Header and one row per system, as the CLI and the model card print them."""
        return table_rows(self.systems, stances)


@dataclass(frozen=True)
class EvaluationReport:
    """Sections by name (``heldout``, ``dev_selection``, ``dev_reporting``, ``cv``), in that order."""

    sections: dict[str, Section] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Section:
        return self.sections[name]

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections.values())

    def __len__(self) -> int:
        return len(self.sections)

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``stance evaluate --json`` writes: every figure, keyed by section and system."""
        return {name: dict(s.systems) for name, s in self.sections.items()}


def train(corpus: Corpus, config: TrainConfig | None = None, progress: Progress | None = None,
          device: str = "cpu") -> StanceTagger:
    """A tagger fitted on the corpus minus its held-out and dev articles (and their translations),
    the network on ``device`` (auto, cpu, cuda or mps)."""
    config = config or TrainConfig()
    rows, written = training_rows(corpus, config)
    if not rows + written:
        raise StanceError(f"{corpus.root}: nothing to train on; add articles with spans or {EXAMPLES_FILE}")
    return fit_tagger(TrainingSet.from_rows(rows + written, corpus), corpus.schema, config, progress,
                      device=str(resolve_device(device)))


def evaluate(tagger: StanceTagger, corpus: Corpus, split: str = "all", cv: bool = False,
             progress: Progress | None = None) -> EvaluationReport:
    """The tagger and both baselines on the corpus's evaluation articles (``split``: the held-out
    ones, the two dev halves, or all that exist), and optionally leave-one-story-out
    cross-validation, which refits model and baselines per fold with the tagger's own config.

    The baselines are fitted here on the same training sentences as the tagger (its TF-IDF part
    is the TF-IDF baseline when it has one), so a tagger from anywhere is compared fairly."""
    if split not in SPLITS:
        raise StanceError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    trained = tagger.schema
    if (trained.stance_names, trained.speaker_names) != (corpus.schema.stance_names, corpus.schema.speaker_names):
        raise SchemaError(f"the model was trained with schema {trained.name!r} ({', '.join(trained.stance_names)}), "
                          f"not the schema of {corpus.root}; evaluate it on its own corpus or retrain it on this one")
    sections = {}
    wanted = [s for s in SPLITS[split] if split_articles(corpus, s)] if corpus.spans else []
    if wanted:
        systems = _with_baselines(tagger, corpus)
        for name in wanted:
            articles = split_articles(corpus, name)
            sections[name] = Section(name, articles, evaluate_systems(systems, article_rows(corpus, articles), corpus))
    if cv:
        results = cross_validate(corpus, tagger.config, cached_fitter(corpus, tagger.config), progress)
        sections["cv"] = Section("cv", (), results)
    if not sections:
        reason = "has no spans" if not corpus.spans else (
            f"lists no {'evaluation' if split == 'all' else split} article in {SPLIT_FILE}")
        raise StanceError(f"{corpus.root}: {reason}, so there is nothing to evaluate on; add one "
                          f"(\"heldout\" or \"dev\" in {SPLIT_FILE}) or cross-validate")
    return EvaluationReport(sections)


def _with_baselines(tagger: StanceTagger, corpus: Corpus) -> dict[str, Any]:
    rows, written = training_rows(corpus, tagger.config)
    texts = [row["text"] for row in rows + written]
    labels = [positions_of(row) for row in rows + written]
    stances, speakers = corpus.schema.stance_names, corpus.schema.speaker_names
    return {MODEL: tagger,
            "tfidf": tagger.tfidf or TfidfBaseline(stances, speakers).fit(texts, labels),
            "majority": MajorityBaseline(stances, speakers).fit(texts, labels)}


@dataclass(frozen=True)
class TrainReport:
    """What ``stance train`` did: where the model is, its evaluation, what it could not do."""

    output: Path
    sentences: int
    examples: int
    evaluation: EvaluationReport
    notes: list[str] = field(default_factory=list)


def train_and_save(corpus: Corpus, config: TrainConfig, output: str | Path,
                   progress: Callable[[str, int, int], None] | None = None, device: str = "cpu") -> TrainReport:
    """Train, evaluate on the held-out and dev articles, and save the model with its figures and
    card: the output is checked before any training, so a refused folder costs nothing."""
    target = check_model_output(output)
    rows, written = training_rows(corpus, config)
    notes = []
    if not corpus.spans:
        notes.append(f"the corpus has no spans: trained on {EXAMPLES_FILE} alone, articles left out")
    if not corpus.split.evaluation:
        notes.append(f"no held-out or dev article declared in {SPLIT_FILE}: nothing to evaluate on")
    elif not corpus.spans:
        notes.append("the evaluation articles have no spans: their scores would be meaningless, so none are given")
    tagger = train(corpus, config, progress, device)
    report = evaluate(tagger, corpus) if corpus.spans and corpus.split.evaluation else EvaluationReport()
    metrics = {"split": {s.name: list(s.articles) for s in report},
               "evaluation": {s.name: s.systems for s in report},
               "training": {"articles": corpus.training_ids, "sentences": len(rows), "written": len(written)}}
    card = model_card(corpus, config, metrics, {s.name: s.table(corpus.schema.stance_names) for s in report},
                      {s.name: s.title for s in report})
    tagger.save_pretrained(target, metrics=metrics, card=card)
    return TrainReport(target, len(rows), len(written), report, notes)


def summarize_inputs(paths: Sequence[str], model: str | Path | None = None, metadata: str | Path | None = None,
                     warnings: list[str] | None = None) -> Summary:
    """Who holds which position in ``paths``: ``stance tag`` JSONL output read as it is, anything
    else tagged on the fly with ``model``. Dates come from ``metadata`` (an ``articles.jsonl``),
    else from the ``articles.jsonl`` of the annotation folder an input lies in."""
    tagged = [p for p in paths if is_tag_output(Path(p))]
    articles: list[tuple[str, list[TaggedSentence]]] = [item for p in tagged for item in read_tag_output(Path(p))]
    others = [p for p in paths if p not in tagged]
    if others:
        if model is None:
            raise UsageError(f"{others[0]}: is not `stance tag` output, so it must be tagged: give a model folder")
        tagger = StanceTagger.from_pretrained(model)
        for piece in tag_documents(tagger, collect_documents(others, warnings)):
            if piece.first:
                articles.append((piece.id, []))
            articles[-1][1].extend(piece.rows)
    return summarize(articles, article_dates([Path(p) for p in paths], metadata))
