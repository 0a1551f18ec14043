"""What "he", "the company", « le groupe » or "they" may stand for among the sources an article named
before them: the kinds of source each reference accepts, in order of preference.

Kept apart from :mod:`stance.attribution`, which reads the article and decides when a mention is a
reference; this module only says which earlier source fits it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .mentions import NOUNS, PERSON_PRONOUNS, PLURAL_PRONOUNS, THING_PRONOUNS, Token, is_noun

if TYPE_CHECKING:
    from .records import Source


@dataclass(frozen=True)
class Known:
    """A source seen earlier in the article, as references look it up."""

    source: Source
    kind: str
    heads: frozenset[str]
    #: Names several holders ("officials", « les analystes »): never what "he" or « le porte-parole » means.
    plural: bool = False


def stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


Filter = Callable[[Known], bool]


def plural(words: list[Token]) -> bool:
    """Whether a mention ends on a plural role or institution noun ("officials", « les analystes »)."""
    last = words[-1] if words else None
    return last is not None and (last.head == "people" or (last.head not in NOUNS and is_noun(last, NOUNS)))


def company(known: Known) -> bool:
    """What "the company" or « le groupe » may refer to: a company, or a bare name (Shein, TikTok)."""
    return known.kind in ("company", "name")


def accepts(word: str) -> tuple[Filter, ...]:
    """What a pronoun or a possessive may point to, in order of preference: "he" a person, else a bare
    name (a surname); "it" anything but a person; "they", « ils » several holders, else anything; « il »,
    « elle » anything."""
    if word in PERSON_PRONOUNS or word in ("his", "her"):
        return (lambda k: k.kind == "person" and not k.plural), (lambda k: k.kind == "name")
    if word in THING_PRONOUNS or word == "its":
        return ((lambda k: k.kind != "person"),)
    if word in PLURAL_PRONOUNS:
        return (lambda k: k.plural), (lambda k: True)
    return ((lambda k: True),)
