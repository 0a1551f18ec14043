"""The language of an imported article that nobody named: the features read aliases and cue words
per language, so ``und`` (unknown) would silently switch them off for that article."""

from __future__ import annotations

#: The detector, named in the warning so a user knows what guessed (and can check it).
DETECTOR = "langdetect"
UNKNOWN = "und"


def detect_language(text: str) -> str:
    """An ISO 639-1 code (``und`` for text with no letters). langdetect samples at random: a fixed
    seed makes the same article always get the same answer."""
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    try:
        code: str = detect(text)
        return code
    except LangDetectException:
        return UNKNOWN
