"""Small immutable records of character offsets (end exclusive) that every module passes around.

Offsets are Python string indices (code points) into the text as stored on disk, read with
``newline=""``, so ``text[start:end]`` is always the covered text and no tool needs to guess.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Position:
    """Who holds a stance: the unit of labelling (a sentence may hold several)."""

    speaker: str
    stance: str

    def to_dict(self) -> dict[str, str]:
        return {"speaker": self.speaker, "stance": self.stance}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Position":
        return cls(speaker=data["speaker"], stance=data["stance"])


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

    @property
    def position(self) -> Position:
        return Position(self.speaker, self.stance)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.note is None:
            del data["note"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Span":
        return cls(
            article=data["article"],
            start=data["start"],
            end=data["end"],
            text=data["text"],
            speaker=data["speaker"],
            stance=data["stance"],
            note=data.get("note"),
        )


@dataclass(frozen=True)
class Sentence:
    """A sentence of an article: ``text`` is ``article_text[start:end]``."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Sentence":
        return cls(start=data["start"], end=data["end"], text=data["text"])


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
    def from_dict(cls, data: dict[str, Any]) -> "Example":
        return cls(
            text=data["text"],
            language=data["language"],
            positions=tuple(Position.from_dict(p) for p in data["positions"]),
        )


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
