"""Direct quotations in news text: where each quote opens and closes, whatever marks the outlet uses.

Why a scanner and not one regex per mark: “ ” « » ‘ ’ pair unambiguously, but a straight ``"`` opens
and closes with the same character, and ``'`` and ``’`` are mostly apostrophes (TikTok’s,
l'entreprise). So each mark is classified from its neighbours and pairing keeps a stack per line.
The scan is one pass over the text: linear, with no backtracking.

Rules:
1. A line (a paragraph) is scanned left to right. « “ ‘ open; » ” close their own family; a closer
   pops back to the nearest opener of its family and drops strays left open above it.
2. A straight ``"`` closes when one is open, else opens. ``'`` and ``’`` between two letters are
   apostrophes; otherwise ``'`` opens after a space or the line start and before a letter, and
   ``'``/``’`` close an open quote of their family when no letter follows.
3. A quote still open at the end of its line runs to the line end when the next line opens with a
   mark of the same family: the news convention for a quote over several paragraphs, where only the
   last paragraph closes it. Any other unclosed mark is a stray and is ignored.
4. Only outermost quotes are kept: a quote inside a quote belongs to the same speaker.
5. A quote of fewer than ``MIN_QUOTE_WORDS`` words is a title or a scare quote (« désinformation »,
   a “great company”), not somebody's statement; callers use :attr:`Quote.direct` to tell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Quotes shorter than this many words are titles or scare quotes, not reported statements.
MIN_QUOTE_WORDS = 4

_FAMILY = {"«": "«", "»": "«", "“": "“", "”": "“", "‘": "‘", "’": "‘", '"': '"', "'": "'"}
_MARKS = re.compile("[«»“”‘’\"']")
_LINES = re.compile(r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Quote:
    """A quotation: ``text[start:end]`` runs from the opening mark to the closing one (inclusive)."""

    start: int
    end: int
    words: int

    @property
    def direct(self) -> bool:
        """Long enough to be somebody's words rather than a title or a scare quote (rule 5)."""
        return self.words >= MIN_QUOTE_WORDS


def find_quotes(text: str) -> list[Quote]:
    """Every outermost quotation of ``text``, in order (rules 1-4)."""
    lines = [(m.start(), m.end()) for m in _LINES.finditer(text)]
    quotes: list[Quote] = []
    for index, (a, b) in enumerate(lines):
        stack: list[tuple[str, int]] = []
        for mark in _MARKS.finditer(text, a, b):
            i = mark.start()
            family = _FAMILY[text[i]]
            role = _role(text, i, a, b, any(f == family for f, _ in stack))
            if role == "open":
                stack.append((family, i))
            elif role == "close":
                depth = max(k for k, (f, _) in enumerate(stack) if f == family)
                if depth == 0:
                    quotes.append(_quote(text, stack[0][1], i + 1))
                del stack[depth:]
        if stack and index + 1 < len(lines):
            following = text[lines[index + 1][0]:lines[index + 1][1]].lstrip()
            if following and _FAMILY.get(following[0]) == stack[0][0] and following[0] not in "»”’":
                quotes.append(_quote(text, stack[0][1], b))
    return quotes


def _role(text: str, i: int, a: int, b: int, family_open: bool) -> str | None:
    """Whether the mark at ``i`` opens, closes or is neither (an apostrophe or a stray)."""
    char = text[i]
    before = text[i - 1] if i > a else " "
    after = text[i + 1] if i + 1 < b else " "
    if char in "«“":
        return "open"
    if char in "»”":
        return "close" if family_open else None
    if char == '"':
        return "close" if family_open else "open"
    if before.isalpha() and after.isalpha():
        return None  # an apostrophe: TikTok’s, l'entreprise
    if char == "‘" or (char == "'" and (before.isspace() or before in "([—–-") and after.isalpha()):
        return "open"
    return "close" if family_open and not after.isalnum() else None


def _quote(text: str, start: int, end: int) -> Quote:
    return Quote(start=start, end=end, words=len(_WORDS.findall(text, start, end)))
