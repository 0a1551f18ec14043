"""Split French and English news text into sentences with exact character offsets.

Measured on nyt-fr, igen-fr, frtech-fr, nyt-en (per article) and one 5 MB line of words without punctuation:
syntok 1.4.4: 3-17 ms, 5 MB in 23.5 s/197 MB; splits at ";" (byline), orphans a closing "»", merges "TikTok ». Le".
pysbd 0.3.4: 6-38 ms, 5 MB in 81 s/737 MB; splits "Microsoft. dans" and "100. million", emits ".." as a sentence.
nupunkt 0.8.0: 0.3-6 ms, 5 MB in 0.01 s but as one unbounded sentence; ignores "\\n\\n", splits "Microsoft. dans".
This splitter: 0.2-0.7 ms per article, 5 MB in 0.3 s (6 MB peak), none of those mistakes on these articles.

Why rules and not a model: the stance tagger needs sentences whose offsets index the article as
stored (``text[start:end]``), that never drop a character, and that stay bounded on scraped junk.
Every step is a single pass of regexes that cannot backtrack more than linearly, so the cost is
linear in the input and memory is bounded by the output.

Rules, in order:
1. Every line break (``\\n``, ``\\r``, ``\\u2028`` ...) is a boundary: headlines, captions, bylines
   and footer junk ("Leave a Reply") have no final punctuation but are their own sentences.
   A line break always wins, so a line that starts with "»" keeps it.
2. Inside a line, a run of ``. ? ! …`` followed by whitespace ends a sentence, together with the
   closing quotes and brackets that follow it (``fausse. »``, ``interests.”``, ``données.)``), so a
   sentence never starts with a closing quote.
3. It is not a boundary when the next word starts with a lowercase letter (``etc. et``,
   ``», a déclaré``, the typos ``Microsoft. dans``/``100. million``) or with ``, ; :`` or more
   terminal punctuation (``? !``), nor after a single ``.`` that ends an abbreviation: titles
   (M., MM., Mme, Mr., Dr., St. ...), initials (``David E. Sanger``), dotted acronyms (U.S.,
   U.K., e.g., J.-L.; also before a capital, so "in the U.S. The" is not split), and ``No.``,
   ``p.``, month names before a number. Decimals (``3.5``) never qualify: no whitespace follows.
4. A sentence longer than ``MAX_SENTENCE_CHARS`` is cut into chunks (see the constant).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .records import Sentence

#: Upper bound on a sentence's length in code points, so downstream models never see an
#: unbounded input (a scraped page can be one 5 MB line). A longer sentence is cut at the first
#: whitespace after ``SOFT_SENTENCE_CHARS`` characters, or hard-cut at exactly this length when
#: that stretch has no whitespace. Real sentences in our articles are under 600 characters.
MAX_SENTENCE_CHARS = 2000
#: Where the search for a whitespace cut starts inside an over-long sentence (see above).
SOFT_SENTENCE_CHARS = 1000

_TERMINALS = ".?!…"
_HARD_CLOSERS = "»”›)]"  # always close what precedes them, even after a space (« ... fausse. »)
_CLOSERS = _HARD_CLOSERS + "\"’'"  # the last three also open or are apostrophes: need context
_OPENERS = "«“‘\"'([{‹¿¡"
_NO_BREAK_BEFORE = ",;:" + _TERMINALS

# \s (str.isspace) plus the BOM, which scraped text carries and which must not edge a sentence.
_WS = r"\s\ufeff"
_LINE_BREAKS = r"\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# A line stripped of edge whitespace; the optional group backtracks only over trailing spaces.
_LINE = re.compile(rf"[^{_WS}](?:[^{_LINE_BREAKS}]*[^{_WS}])?")
# A terminal run (plus adjacent closers) followed by whitespace or the end of the line. The
# lookbehind starts matches only at the head of a run, so a long run of dots stays linear.
_CANDIDATE = re.compile(rf"(?<![{_TERMINALS}])[{_TERMINALS}]+[{re.escape(_CLOSERS)}]*(?=[{_WS}]|\Z)")
_SPACES = re.compile(rf"[{_WS}]*")
_CLOSER_RUN = re.compile(rf"[{re.escape(_CLOSERS)}]+")
_WORD_END = re.compile(rf"[^{_WS}][{_WS}]")
_DOTTED_PARTS = re.compile(r"[.\-]+")

# Followed by a period, these never end a sentence (case-sensitive: "Me" is Maître, not "me").
_TITLES = frozenset(
    ["M", "MM", "Mme", "Mmes", "Mlle", "Mlles", "Mgr", "Me", "Dr", "Drs", "Pr", "Prof", "Mr", "Mrs", "Ms", "Messrs", "St", "Ste", "Sen", "Rep", "Gov", "Gen", "Lt", "Col", "Sgt", "Capt", "Cmdr", "Adm", "Rev", "Hon", "Pres", "vs", "cf"]
)
# These do not end a sentence when a number follows ("No. 1", "p. 12", "Oct. 4").
_BEFORE_NUMBER = frozenset(
    ["No", "no", "Nos", "nos", "p", "pp", "vol", "Vol", "art", "Art", "fig", "Fig", "ch", "chap", "env", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "janv", "févr", "avr", "juil", "déc"]
)
_MAX_ABBREVIATION_CHARS = 40


def split_sentences(text: str) -> list[Sentence]:
    """Return the sentences of ``text`` in order; whitespace between them belongs to none."""
    sentences: list[Sentence] = []
    for line in _LINE.finditer(text):
        for start, end in _split_line(text, line.start(), line.end()):
            for s, e in _bounded(text, start, end):
                sentences.append(Sentence(start=s, end=e, text=text[s:e]))
    return sentences


def _split_line(text: str, a: int, b: int) -> Iterator[tuple[int, int]]:
    """Yield the sentence spans of the stripped line ``text[a:b]`` (rules 2 and 3)."""
    start = a
    for match in _CANDIDATE.finditer(text, a, b):
        end, nxt = _absorb_closers(text, match.end(), b)
        if nxt >= b:
            break  # nothing but closers left on the line: the line end closes the sentence
        if not _is_boundary(text, match, end, nxt, a):
            continue
        yield start, end
        start = nxt
    yield start, b


def _absorb_closers(text: str, end: int, b: int) -> tuple[int, int]:
    """Extend a sentence ending at ``end`` over closing quotes that follow after spaces.

    Returns the new end and the position of the next non-whitespace character (``b`` if none).
    A straight quote or ’ after a space closes only when no word is glued to it; otherwise it
    opens the next sentence (``. "Next``) or is an apostrophe (``. ’90s``).
    """
    while True:
        nxt = _skip_spaces(text, end, b)
        run = _CLOSER_RUN.match(text, nxt, b)
        if nxt >= b or run is None:
            return end, nxt
        glued = run.end() < b and not _is_space(text[run.end()])
        if text[nxt] not in _HARD_CLOSERS and glued:
            return end, nxt
        end = run.end()


def _is_boundary(text: str, match: re.Match[str], end: int, nxt: int, a: int) -> bool:
    """Decide whether the terminal run ``match`` (closed at ``end``) ends a sentence (rule 3)."""
    following = text[nxt]
    if following.islower() or following in _NO_BREAK_BEFORE:
        return False
    run_start = match.start()
    if match.group() != "." or end != match.end():
        # an elided passage "[…]" or "(...)" is not the end of a sentence
        return not (run_start > a and text[run_start - 1] in "[(")
    return not _is_abbreviation(_word_before(text, run_start, a), following)


def _word_before(text: str, i: int, a: int) -> str:
    """Return the word glued before position ``i`` without leading openers ("" if too long)."""
    k = i
    lowest = max(a, i - _MAX_ABBREVIATION_CHARS)
    while k > lowest and not _is_space(text[k - 1]):
        k -= 1
    if k == lowest and k > a and not _is_space(text[k - 1]):
        return ""
    return text[k:i].lstrip(_OPENERS)


def _is_abbreviation(word: str, following: str) -> bool:
    """True when ``word`` + "." is an abbreviation rather than the end of a sentence."""
    if word in _TITLES or (following.isdigit() and word in _BEFORE_NUMBER):
        return True
    if len(word) == 1 and word.isupper() and word != "I":  # initials; "I." mostly ends a sentence
        return True
    if "." not in word:
        return False
    parts = _DOTTED_PARTS.split(word)
    return all(part.isalpha() and len(part) <= 3 for part in parts)


def _bounded(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Cut ``text[s:e]`` (stripped) into stripped chunks of at most ``MAX_SENTENCE_CHARS``."""
    while e - s > MAX_SENTENCE_CHARS:
        gap = _WORD_END.search(text, s + SOFT_SENTENCE_CHARS - 1, s + MAX_SENTENCE_CHARS + 1)
        cut = gap.start() + 1 if gap else s + MAX_SENTENCE_CHARS
        end = cut
        while _is_space(text[end - 1]):  # only after a hard cut inside a long run of spaces
            end -= 1
        yield s, end
        s = _skip_spaces(text, cut, e)
    yield s, e


def _skip_spaces(text: str, i: int, b: int) -> int:
    """Return the first position at or after ``i`` (before ``b``) that is not whitespace, else ``b``."""
    found = _SPACES.match(text, i, b)  # always matches (starred)
    return found.end() if found else i


def _is_space(char: str) -> bool:
    """Whitespace as the sentence edges see it: ``str.isspace`` plus the U+FEFF BOM."""
    return char.isspace() or char == "\ufeff"
