"""Small immutable records of character offsets (end exclusive) that every module passes around.

Offsets are Python string indices (code points) into the text as stored on disk, read with
``newline=""``, so ``text[start:end]`` is always the covered text and no tool needs to guess.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Self


@dataclass(frozen=True, order=True)
class Position:
    """Who holds a stance: the unit of labelling (a sentence may hold several)."""

    speaker: str
    stance: str

    def to_dict(self) -> dict[str, str]:
        return {"speaker": self.speaker, "stance": self.stance}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        return cls(speaker=data["speaker"], stance=data["stance"])


@dataclass(frozen=True)
class Sentence:
    """A sentence of an article: ``text`` is ``article_text[start:end]``."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(start=data["start"], end=data["end"], text=data["text"])


@dataclass(frozen=True)
class Mention(Sentence):
    """Words of an article naming who holds a position (its source), possibly in another sentence:
    the same offsets record as a sentence, named for what it marks."""


@dataclass(frozen=True)
class Span:
    """A hand-labelled stretch of an article that holds one position."""

    article: str
    start: int
    end: int
    text: str
    speaker: str
    stance: str
    note: str | None = None
    #: Who holds the position, as the article names them; recorded in the development set.
    source: Mention | None = None

    @property
    def position(self) -> Position:
        return Position(self.speaker, self.stance)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("note", "source"):
            if data[key] is None:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        return cls(
            article=data["article"],
            start=data["start"],
            end=data["end"],
            text=data["text"],
            speaker=data["speaker"],
            stance=data["stance"],
            note=data.get("note"),
            source=_read_mention(data.get("source")),
        )


@dataclass(frozen=True)
class Example:
    """A written, labelled sentence that is not part of any article (``examples.jsonl``)."""

    text: str
    language: str
    positions: tuple[Position, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "positions": [p.to_dict() for p in self.positions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        return cls(
            text=data["text"],
            language=data["language"],
            positions=tuple(Position.from_dict(p) for p in data["positions"]),
        )


@dataclass(frozen=True)
class Passage:
    """Two to four consecutive written sentences (``passages.jsonl``), so context and "he said"
    attributions can be learned from text that is not an article."""

    language: str
    sentences: tuple[Example, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"language": self.language,
                "sentences": [{"text": s.text, "positions": [p.to_dict() for p in s.positions]} for s in self.sentences]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        language = data["language"]
        return cls(language=language, sentences=tuple(
            Example.from_dict({"language": language, **sentence}) for sentence in data["sentences"]))


@dataclass(frozen=True)
class Article:
    """An article's text with its metadata from ``articles.jsonl``."""

    id: str
    text: str
    language: str
    outlet: str | None = None
    date: str | None = None
    translation_of: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Reported:
    """A position the tagger reports on a sentence, with its calibrated score."""

    speaker: str
    stance: str
    score: float
    #: The words naming who holds it, possibly in another sentence; ``None`` in the article's own voice.
    source: Mention | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "stance": self.stance, "score": self.score, "source": _mention(self.source)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reported:
        return cls(speaker=data["speaker"], stance=data["stance"], score=data["score"],
                   source=_read_mention(data.get("source")))

    @property
    def position(self) -> Position:
        return Position(self.speaker, self.stance)


@dataclass(frozen=True)
class TaggedSentence(Sentence):
    """One sentence as ``stance tag`` reports it: offsets into its article, every position held
    (most probable first), and the top one repeated (``stance`` is the schema's ``none``, with
    ``speaker`` ``None``, when nothing is held; ``score`` is then the confidence in that).
    :meth:`to_dict` is exactly one JSONL row."""

    article: str = ""
    index: int = 0
    positions: tuple[Reported, ...] = ()
    stance: str = ""
    speaker: str | None = None
    score: float = 0.0
    source: Mention | None = None
    #: The web page the article was extracted from (its path as given); ``None`` for text.
    page: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"article": self.article, "index": self.index, "start": self.start, "end": self.end,
                "text": self.text, "positions": [p.to_dict() for p in self.positions],
                "stance": self.stance, "speaker": self.speaker, "score": self.score, "source": _mention(self.source),
                "page": self.page}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaggedSentence:
        return cls(start=data["start"], end=data["end"], text=data["text"], article=data["article"],
                   index=data["index"], positions=tuple(Reported.from_dict(p) for p in data["positions"]),
                   stance=data["stance"], speaker=data["speaker"], score=data["score"],
                   source=_read_mention(data.get("source")), page=data.get("page"))


@dataclass(frozen=True)
class Source:
    """A mention in the article naming who holds a position (code-point offsets, end exclusive)."""

    start: int
    end: int
    text: str
    #: The schema speaker it names; ``None`` when read back from a file (files store the mention only)
    #: or when the schema names no catch-all speaker for sources outside it.
    speaker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: dict[str, Any], speaker: str | None = None) -> Source:
        return cls(start=data["start"], end=data["end"], text=data["text"], speaker=speaker)


@dataclass(frozen=True)
class Attribution:
    """Whose words or position one sentence reports."""

    #: The source, or ``None`` for the article's own voice.
    source: Source | None
    #: The sentence is, at least partly, inside a direct quote.
    quoted: bool = False
    #: The source mention lies in an earlier sentence (a continued quote, a pronoun, "the spokeswoman").
    carried: bool = False
    #: When the sentence reports two holders ("X accuses ..., which Y denies"), the source of each schema
    #: stance's position, in schema order; empty when one source holds the whole sentence.
    by_stance: tuple[Source | None, ...] = ()

    def source_of(self, stance: int) -> Source | None:
        """The source of the position on the schema's ``stance``-th stance."""
        return self.by_stance[stance] if self.by_stance else self.source

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every holder the sentence reports, its main source first."""
        return tuple(dict.fromkeys(s for s in (self.source, *self.by_stance) if s is not None))


def _mention(source: Mention | None) -> dict[str, Any] | None:
    """A source as output rows carry it: text first, then its offsets."""
    return None if source is None else {"text": source.text, "start": source.start, "end": source.end}


def _read_mention(data: dict[str, Any] | None) -> Mention | None:
    """The optional source mention of a span or a row, as :func:`_mention` and spans write it."""
    return None if data is None else Mention.from_dict(data)
