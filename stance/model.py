"""The tagger: sentence scores from the network, blended with TF-IDF and calibrated, behind the
same ``predict_all`` / ``predict_article`` contract as the baselines, and the public ``tag`` API.

A saved model stores only what training changed (heads, and the top encoder layers when they were
fine-tuned) plus the sha256 of the base encoder (see :mod:`stance.bundle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import torch

from .attribution import attribute
from .baselines import TfidfBaseline
from .calibration import Calibration
from .config import TrainConfig
from .device import native_bfloat16
from .errors import UsageError
from .features import alias_patterns, attribution_matrix, cue_patterns, holder_matrix, matches
from .net import StanceNet
from .predict import Document, TaggedArticle, tag_documents
from .records import Attribution, Sentence, TaggedSentence
from .schema import Schema

PRECISIONS = ("auto", "float32", "bfloat16")
#: Sentences per forward pass: on 2-4 cores, 32 balances matrix sizes against padding.
BATCH_SIZE = 32


class StanceTagger:
    """Predicts, for each sentence, one probability per stance and who holds each stance.

    Answers to the same ``predict_all`` / ``predict_article`` contract as the baselines. Stance
    probabilities are the network's, blended with the TF-IDF model's (``tfidf_weight``), then
    calibrated per stance when the model carries a :class:`Calibration` (whose thresholds decide
    what is reported). Training and evaluation run in float32; tagging may run the encoder in
    bfloat16 where the hardware has native support (``set_precision``). The network runs on
    ``device`` (:meth:`to`); features, TF-IDF and calibration stay on the CPU.
    """

    def __init__(self, net: StanceNet, tokenizer: Any, schema: Schema, config: TrainConfig,
                 encoder_info: dict[str, Any], tfidf: TfidfBaseline | None = None,
                 calibration: Calibration | None = None) -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.schema = schema
        self.config = config
        self.encoder_info = encoder_info
        self.tfidf = tfidf
        self.calibration = calibration
        self.precision = "float32"
        self.device = torch.device("cpu")
        self.batch_size = BATCH_SIZE
        self._aliases = alias_patterns(schema)
        self._cues = cue_patterns(schema)

    def to(self, device: torch.device | str) -> StanceTagger:
        self.net.to(device)
        self.device = torch.device(device)
        return self

    def set_precision(self, precision: str) -> str:
        """Choose the encoder's inference precision; ``auto`` is bfloat16 only where it is native."""
        if precision not in PRECISIONS:
            raise UsageError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        self.precision = ("bfloat16" if native_bfloat16(self.device) else "float32") if precision == "auto" else precision
        return self.precision

    def tag_documents(self, documents: Iterable[Document], threshold: Any = None,
                      done: Mapping[str, int] | None = None) -> Iterator[TaggedArticle]:
        """:func:`stance.predict.tag_documents` with this tagger: the call pools of taggers answer too."""
        return tag_documents(self, documents, threshold, done=done)

    @property
    def stances(self) -> list[str]:
        return self.schema.stance_names

    @property
    def speakers(self) -> list[str]:
        return self.schema.speaker_names

    @property
    def thresholds(self) -> np.ndarray:
        """Per-stance decision thresholds on the scores ``predict_all`` returns."""
        if self.calibration is not None:
            return np.asarray(self.calibration.thresholds, np.float32)
        return np.full(len(self.stances), self.config.threshold, np.float32)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per sentence, unpadded, so batches can be padded to their own longest."""
        prefixed = [self.config.text_prefix + text for text in texts]
        ids: list[list[int]] = self.tokenizer(prefixed, truncation=True, max_length=self.config.max_length)["input_ids"]
        return ids

    def attribute(self, text: str, sentences: Sequence[Sentence], language: str | None = None) -> list[Attribution]:
        """Who speaks in each sentence, read over the whole article (see :mod:`stance.attribution`)."""
        return attribute(text, sentences, self.schema, language)

    def extras(self, texts: Sequence[str],
               attributions: Sequence[Attribution] | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The heads' extra features (stance head, speaker head, holder per stance); sentences without
        an article are attributed on their own."""
        if attributions is None:
            attributions = [attribute(t, [Sentence(0, len(t), t)], self.schema)[0] for t in texts]
        blocks: dict[str, list[np.ndarray]] = {"stance": [], "speaker": []}
        if self.config.stance_cues:
            blocks["stance"].append(matches(texts, self._cues))
        if self.config.speaker_cues:
            blocks["speaker"].append(matches(texts, self._aliases))
        if self.config.attribution:
            matrix = attribution_matrix(attributions, self.schema)
            blocks["stance"].append(matrix)
            blocks["speaker"].append(matrix)
        empty = np.zeros((len(texts), 0), np.float32)
        stance, speaker = (torch.from_numpy(np.concatenate(blocks[k] or [empty], axis=1)) for k in ("stance", "speaker"))
        holders = holder_matrix(attributions, self.schema) if self.config.attribution else \
            np.zeros((len(texts), len(self.stances), len(self.speakers)), np.float32)
        return stance, speaker, torch.from_numpy(holders)

    def embed(self, token_ids: Sequence[Sequence[int]], batch_size: int | None = None) -> torch.Tensor:
        """Pooled sentence vectors, computed in length-sorted batches with dynamic padding."""
        batch_size = batch_size or self.batch_size
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        pooled = torch.empty(len(token_ids), self.net.hidden_size)
        reduced = self.precision == "bfloat16"
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=reduced):
            for first in range(0, len(order), batch_size):
                chunk = order[first:first + batch_size]
                pooled[chunk] = self.net.embed(*self.pad([token_ids[i] for i in chunk])).float().cpu()
        return pooled

    def pad(self, rows: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids padded to the longest row, and the attention mask, on the network's device."""
        width = max(len(row) for row in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = torch.tensor(row)
            mask[index, : len(row)] = 1
        return ids.to(self.device), mask.to(self.device)

    def predict_all(self, texts: Sequence[str], attributions: Sequence[Attribution] | None = None,
                    batch_size: int | None = None, calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Stance scores ``(n, S)`` and speaker probabilities per stance ``(n, S, K)``.

        ``attributions`` come from :meth:`attribute` over the sentences' article; without them each
        sentence is read on its own (a quote continued from an earlier sentence is then unknown).
        ``calibrated=False`` gives the blended probabilities before calibration (for measuring it).
        """
        if not texts:
            return np.zeros((0, len(self.stances)), np.float32), np.zeros((0, len(self.stances), len(self.speakers)), np.float32)
        pooled = self.embed(self.tokenize(texts), batch_size)
        return self.predict_pooled(pooled, texts, attributions, calibrated)

    def predict_pooled(self, pooled: torch.Tensor, texts: Sequence[str], attributions: Sequence[Attribution] | None,
                       calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_all` from sentence vectors already computed (training reuses them)."""
        extras = self.extras(texts, attributions)
        with torch.inference_mode():
            stance_logits, speaker_logits = self.net.heads(*(t.to(self.device) for t in (pooled, *extras)))
            stance = torch.sigmoid(stance_logits).cpu().numpy()
            speakers = torch.softmax(speaker_logits, dim=-1).cpu().numpy()
        if self.tfidf is not None:
            weight = self.config.tfidf_weight
            stance = ((1.0 - weight) * stance + weight * self.tfidf.predict_proba(texts)).astype(np.float32)
        if calibrated and self.calibration is not None:
            stance = self.calibration.apply(stance)
        return stance, speakers

    def predict_article(self, text: str, sentences: Sequence[Sentence], language: str | None = None,
                        calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Scores of an article's sentences, attributed over the whole article."""
        return self.predict_all([s.text for s in sentences], self.attribute(text, sentences, language),
                                calibrated=calibrated)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_all(texts)[0]

    def predict_speaker_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_all(texts)[1]

    @overload
    def tag(self, texts: str, ids: None = None, threshold: float | None = None) -> list[TaggedSentence]: ...

    @overload
    def tag(self, texts: list[str] | tuple[str, ...], ids: Sequence[str] | None = None,
            threshold: float | None = None) -> list[list[TaggedSentence]]: ...

    def tag(self, texts: str | Sequence[str], ids: Sequence[str] | None = None,
            threshold: float | None = None) -> list[TaggedSentence] | list[list[TaggedSentence]]:
        """Tag in-memory articles as ``stance tag`` tags files: one :class:`TaggedSentence` per
        sentence, offsets into the text given. One text gives its rows; a list gives one list of
        rows per text, named by ``ids`` (default ``"0"``, ``"1"``, …) in each row's ``article``."""
        single = isinstance(texts, str)
        items = [texts] if isinstance(texts, str) else list(texts)
        if not all(isinstance(text, str) for text in items):
            raise UsageError("tag() takes a text or a list of texts (str); decode bytes first")
        names = ["text"] if single and ids is None else [str(i) for i in range(len(items))] if ids is None else list(ids)
        if len(names) != len(items):
            raise UsageError(f"tag() got {len(items)} texts but {len(names)} ids; give one id per text")
        documents = [Document(name, None, text=text) for name, text in zip(names, items)]
        articles: list[list[TaggedSentence]] = []
        for piece in tag_documents(self, documents, threshold):
            if piece.first:
                articles.append([])
            articles[-1].extend(piece.rows)
        return articles[0] if single else articles

    def save_pretrained(self, directory: str | Path, metrics: dict[str, Any] | None = None, card: str = "") -> Path:
        """Write the model to ``directory`` atomically (a new path, an empty folder or a model
        folder it replaces); :meth:`from_pretrained` reads back exactly this."""
        from . import bundle

        return bundle.save(directory, bundle.Parts(self.net, self.tokenizer, self.schema, self.config,
                                                    self.encoder_info, self.tfidf, self.calibration),
                           metrics=metrics, card=card)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> StanceTagger:
        """Restore the exact predictor; only JSON and safetensors are read (never pickle)."""
        from . import bundle

        parts = bundle.load(directory)
        return cls(parts.net, parts.tokenizer, parts.schema, parts.config, parts.encoder_info, parts.tfidf,
                   parts.calibration)
