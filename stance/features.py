"""Schema-driven cues: which speakers' aliases a sentence names.

Attribution ("said Microsoft", « a déclaré M. Smith ») is the strongest evidence of who holds a
position, and the aliases are data in the schema, so the cue generalises to a user's own labels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .schema import Schema


def alias_patterns(schema: Schema) -> list[re.Pattern[str] | None]:
    """One case-insensitive whole-word pattern per speaker (``None`` for a speaker without aliases)."""
    patterns: list[re.Pattern[str] | None] = []
    for speaker in schema.speakers:
        words = sorted({w for words in speaker.aliases.values() for w in words}, key=len, reverse=True)
        if not words:
            patterns.append(None)
            continue
        alternatives = "|".join(re.escape(w).replace("\\'", "['’]") for w in words)
        patterns.append(re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE))
    return patterns


def speaker_cues(texts: Sequence[str], patterns: list[re.Pattern[str] | None]) -> np.ndarray:
    """A ``(len(texts), n_speakers)`` float32 matrix: 1 where the sentence names the speaker."""
    cues = np.zeros((len(texts), len(patterns)), dtype=np.float32)
    for row, text in enumerate(texts):
        for column, pattern in enumerate(patterns):
            if pattern is not None and pattern.search(text):
                cues[row, column] = 1.0
    return cues
