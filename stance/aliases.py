"""Which schema speaker a source mention names, from the schema's aliases found inside it.

An alias written with a capital is a name ("Beijing", "Zhao Lijian", "Commerce Department") and
identifies its speaker wherever it appears; the longest name in the mention wins. An alias written in
lowercase is a role ("foreign ministry spokesman", "embassy", « ministère des Affaires étrangères »):
any state or company may have one, so it names its speaker only when the mention names no other owner
next to it. The owner is a name before the role ("India's foreign ministry", "the Indian embassy"),
after it through "of"/« de » ("the embassy of India", « l'ambassade du Canada »), or, for a French
role, an adjective after it (« le président français »). An owner that is itself an alias gives its
own speaker (« le président de Microsoft »); any other owner makes the mention the catch-all's. This is
how a schema names, as data, "the company" of this saga or Beijing's spokespeople without capturing
every other government's.

A name directly followed by another capitalised word is part of a longer name and does not count
("Washington Post", "China Mobile"), unless that word is a role or a company suffix ("Microsoft
President Brad Smith", "Oracle Corp").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .mentions import PERSON_NOUNS, is_function, is_noun, tokens, word_set
from .schema import Schema

_PARTICIPLE = re.compile(r"ée?s?$")
_CORPORATE = word_set("inc ltd corp co llc sa plc group")
_NEXT_WORD = re.compile(r"\s+(\S+)")
_OWNER_AFTER = re.compile(r"\s+(?:of|de|du|des|for)\s+(?:(?:the|la|le|les)\s+|l['’])?(?=[A-ZÀ-ÖØ-Þ])"
                          r"|\s*d['’](?=[A-ZÀ-ÖØ-Þ])")


def _key(alias: str) -> str:
    return " ".join(alias.lower().replace("’", "'").split())


@dataclass(frozen=True)
class _Alias:
    speaker: str
    #: Written in lowercase: an office any state or company may have.
    role: bool
    #: Listed for French only: an adjective after it names another owner.
    french: bool


class SpeakerAliases:
    """The schema's aliases, compiled once per article into one overlapping-match regex."""

    def __init__(self, schema: Schema) -> None:
        self.other = schema.other
        self.aliases: dict[str, _Alias] = {}
        for label in schema.speakers:
            for language, words in label.aliases.items():
                for word in words:
                    known = self.aliases.get(_key(word))
                    if known is None or known.speaker == label.name:
                        french = language == "fr" and (known is None or known.french)
                        self.aliases[_key(word)] = _Alias(label.name, word[:1].islower(), french)
        alternatives = "|".join(re.escape(key).replace("'", "['’]").replace(r"\ ", r"\s+")
                                for key in sorted(self.aliases, key=len, reverse=True))
        # A lookahead finds every alias start, so overlapping aliases are all seen.
        self.pattern = re.compile(rf"(?=(?<!\w)({alternatives})(?!\w))", re.IGNORECASE) if self.aliases else None

    def speaker(self, text: str) -> str | None:
        """The speaker the mention ``text`` names: by its longest name alias, else by its longest role
        alias (the catch-all when another owner is named next to it); ``None`` when it holds no alias."""
        if self.pattern is None:
            return None
        found = [(m.start(1), m.end(1), self.aliases[_key(m.group(1))]) for m in self.pattern.finditer(text)]
        names = [f for f in found if not f[2].role and not self._glued(text, f[1], found)]
        if names:
            return max(names, key=lambda f: f[1] - f[0])[2].speaker
        roles = [f for f in found if f[2].role]
        if not roles:
            return None
        start, end, alias = max(roles, key=lambda f: f[1] - f[0])
        owner = self._owner(text, start, end, alias)
        if owner is None:
            return alias.speaker
        return next((f[2].speaker for f in found if f[0] <= owner < f[1]), self.other)

    @staticmethod
    def _glued(text: str, end: int, found: list[tuple[int, int, _Alias]]) -> bool:
        """A name alias followed by another capitalised word is part of a longer name ("Washington Post")."""
        following = _NEXT_WORD.match(text, end)
        if following is None or any(f[0] <= following.start(1) < f[1] for f in found):
            return False
        word = tokens(text, following.start(1), following.end(1))[0]
        return word.capitalised and not is_noun(word, PERSON_NOUNS) and word.head not in _CORPORATE

    @staticmethod
    def _owner(text: str, start: int, end: int, alias: _Alias) -> int | None:
        """Where a role alias's owner is named: a name before it ("India's foreign ministry"), "of X" /
        « de X » after it, or for French roles an adjective after it; ``None`` when nothing is."""
        previous = tokens(text, 0, start)[-1:]
        if previous and previous[0].word and previous[0].capitalised:
            return previous[0].start
        named_after = _OWNER_AFTER.match(text, end)
        if named_after:
            return named_after.end()
        following = tokens(text, end, len(text))[:1]
        if alias.french and following and following[0].word and not is_function(following[0]) \
                and not _PARTICIPLE.search(following[0].text):  # « les responsables du renseignement cités »
            return following[0].start
        return None
