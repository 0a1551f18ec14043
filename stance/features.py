"""Schema-driven features beside the sentence vector: which speakers' aliases a sentence names, which
stances' cue words it uses, and who the attribution step says is speaking.

Attribution ("said Microsoft", « a déclaré M. Smith ») is the strongest evidence of who holds a
position, and cue words ("pretext", « sans fondement ») are strong evidence of which position; both
come from the schema or from rules over it, so the features generalise to a user's own labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .schema import Label, Schema

if TYPE_CHECKING:
    from .records import Attribution

#: Columns the attribution block adds after one per speaker: no source (the article's own voice),
#: inside a direct quote, source carried over from an earlier sentence.
ATTRIBUTION_FLAGS = ("no_source", "quoted", "carried")


def word_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word pattern; a trailing ``*`` lets a word take any ending."""
    alternatives = []
    for word in sorted(set(words), key=len, reverse=True):
        stem = word.removesuffix("*")
        body = re.sub("['’]", "['’]", re.escape(stem))
        alternatives.append(body + (r"\w*" if word.endswith("*") else ""))
    if not alternatives:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def _patterns(labels: Sequence[Label], key: str) -> list[re.Pattern[str] | None]:
    return [word_pattern(w for words in getattr(label, key).values() for w in words) for label in labels]


def alias_patterns(schema: Schema) -> list[re.Pattern[str] | None]:
    """One pattern per speaker (``None`` for a speaker without aliases)."""
    return _patterns(schema.speakers, "aliases")


def cue_patterns(schema: Schema) -> list[re.Pattern[str] | None]:
    """One pattern per stance (``None`` for a stance without cue words)."""
    return _patterns(schema.stances, "cues")


def matches(texts: Sequence[str], patterns: Sequence[re.Pattern[str] | None]) -> np.ndarray:
    """A ``(len(texts), len(patterns))`` float32 matrix: 1 where the sentence matches the pattern."""
    out = np.zeros((len(texts), len(patterns)), dtype=np.float32)
    for row, text in enumerate(texts):
        for column, pattern in enumerate(patterns):
            if pattern is not None and pattern.search(text):
                out[row, column] = 1.0
    return out


def attribution_matrix(attributions: Sequence[Attribution], schema: Schema) -> np.ndarray:
    """Per sentence: one-hot of the attributed source's speaker, then :data:`ATTRIBUTION_FLAGS`."""
    index = {name: i for i, name in enumerate(schema.speaker_names)}
    width = len(index)
    out = np.zeros((len(attributions), width + len(ATTRIBUTION_FLAGS)), dtype=np.float32)
    for row, attribution in enumerate(attributions):
        source = attribution.source
        speaker = index.get(source.speaker) if source is not None and source.speaker is not None else None
        out[row, width if speaker is None else speaker] = 1.0
        out[row, width + 1] = float(attribution.quoted)
        out[row, width + 2] = float(attribution.carried)
    return out


def holder_matrix(attributions: Sequence[Attribution], schema: Schema) -> np.ndarray:
    """``(n, stances, speakers)``: per sentence and stance, 1 at the speaker of the source the attribution
    gives that stance's position (a sentence may report two holders); zeros where it names none."""
    index = {name: i for i, name in enumerate(schema.speaker_names)}
    out = np.zeros((len(attributions), len(schema.stances), len(index)), dtype=np.float32)
    for row, attribution in enumerate(attributions):
        for stance in range(len(schema.stances)):
            source = attribution.source_of(stance)
            if source is not None and source.speaker in index:
                out[row, stance, index[source.speaker]] = 1.0
    return out
