"""Written training text: example sentences (``examples.jsonl``) and short passages (``passages.jsonl``).

They are authored for training, not scraped, so two extra checks apply: no duplicates, and no run
of :data:`LEAK_WORDS` words shared with an evaluation article (held-out or development), since a
copied or paraphrased evaluation sentence would make every figure a lie.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import Problem
from .io import read_jsonl
from .records import Example, Passage
from .schema import Schema

EXAMPLES_FILE = "examples.jsonl"
PASSAGES_FILE = "passages.jsonl"
EXAMPLE_KEYS = frozenset({"text", "language", "positions"})
PASSAGE_KEYS = frozenset({"language", "sentences"})
#: Sentences a passage may hold: enough for "he said" to point back, few enough to stay a passage.
PASSAGE_SENTENCES = (2, 4)
#: Word runs this long shared with an evaluation article mark written text as copied or paraphrased.
#: Six words flagged set phrases ("une menace pour la sécurité nationale") once the dev set arrived.
LEAK_WORDS = 8
_WORD = re.compile(r"\w+")


def word_runs(text: str) -> set[str]:
    words = _WORD.findall(text.casefold())
    return {" ".join(words[i:i + LEAK_WORDS]) for i in range(len(words) - LEAK_WORDS + 1)}


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Checker:
    """Duplicate and leak checks shared by examples and passages (one text seen once, anywhere)."""

    def __init__(self, evaluation_texts: Iterable[str]) -> None:
        self.evaluation_runs = set().union(*map(word_runs, evaluation_texts))
        self.seen: dict[str, str] = {}

    def problem(self, text: str, where: str) -> str | None:
        norm = _normalise(text)
        if norm in self.seen:
            return f"same text as {self.seen[norm]}"
        if shared := sorted(word_runs(text) & self.evaluation_runs):
            return (f"shares the words {shared[0]!r} with an evaluation (held-out or dev) article; written "
                    f"training text must never copy or paraphrase evaluation text")
        self.seen[norm] = where
        return None


def sentence_problem(data: Any, schema: Schema, keys: frozenset[str]) -> str | None:
    """What is wrong with one written sentence (keys, text, labels), or ``None``."""
    if not isinstance(data, dict) or set(data) != keys:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        return f"keys are {got}; expected {sorted(keys)}"
    if not isinstance(data["text"], str) or not data["text"].strip():
        return "'text' must be a non-empty string"
    if "language" in keys and (not isinstance(data["language"], str) or not data["language"]):
        return "'language' must be a language code such as 'en' or 'fr'"
    positions = data["positions"]
    if not isinstance(positions, list):
        return "'positions' must be a list of {\"speaker\", \"stance\"} objects ([] for none)"
    for item in positions:
        if not isinstance(item, dict) or set(item) != {"speaker", "stance"}:
            return f"position {item!r} must have exactly the keys 'speaker' and 'stance'"
        message = schema.label_problem(item)
        if message:
            return message
    if len({(p["speaker"], p["stance"]) for p in positions}) != len(positions):
        return "the same position is listed twice"
    return None


def read_examples(path: Path, schema: Schema, evaluation_texts: list[str], problems: list[Problem]) -> list[Example]:
    if not path.exists():
        return []
    checker = _Checker(evaluation_texts)
    examples: list[Example] = []
    for line, data, error in read_jsonl(path):
        message = error or sentence_problem(data, schema, EXAMPLE_KEYS) or checker.problem(data["text"], f"line {line}")
        if message:
            problems.append(Problem(str(path), line, message))
            continue
        examples.append(Example.from_dict(data))
    return examples


def read_passages(path: Path, schema: Schema, evaluation_texts: list[str], problems: list[Problem]) -> list[Passage]:
    if not path.exists():
        return []
    checker = _Checker(evaluation_texts)
    passages: list[Passage] = []
    low, high = PASSAGE_SENTENCES
    for line, data, error in read_jsonl(path):
        message = error
        if message is None and (not isinstance(data, dict) or set(data) != PASSAGE_KEYS):
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            message = f"keys are {got}; expected {sorted(PASSAGE_KEYS)}"
        if message is None and (not isinstance(data["language"], str) or not data["language"]):
            message = "'language' must be a language code such as 'en' or 'fr'"
        if message is None and (not isinstance(data["sentences"], list) or not low <= len(data["sentences"]) <= high):
            message = f"'sentences' must be a list of {low} to {high} {{\"text\", \"positions\"}} objects"
        for number, sentence in enumerate(data["sentences"] if message is None else [], start=1):
            found = sentence_problem(sentence, schema, frozenset({"text", "positions"}))
            found = found or checker.problem(sentence["text"], f"line {line}")
            if found:
                message = f"sentence {number}: {found}"
                break
        if message:
            problems.append(Problem(str(path), line, message))
            continue
        passages.append(Passage.from_dict(data))
    return passages
