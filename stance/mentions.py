"""The words that name a source: noun phrases next to a reporting verb, found with a small grammar.

A mention is what GUIDELINES.md section 5b calls a source: "a company spokeswoman", « le ministre de
l'Industrie », "India's Ministry of Electronics and Information Technology", "Zhao Lijian, a foreign
ministry spokesman". Without a parser, a mention is read token by token from the reporting verb
outwards (backwards for a subject, forwards after an inverted verb, "by", "according to", « selon »):
names (capitalised words, honorifics, acronyms), determiners, nouns and adjectives, linked by "of"
or « de/du/des/d' » into a name, a determiner or a noun (not a verb), stopping at punctuation, a
clause word ("that", « qui »), a preposition that starts an adjunct ("on", « lors »), a time word, or
after ``MAX_WORDS`` words. One apposition between commas is kept ("Brad Smith, Microsoft's president,
said"), because a role next to a name is one mention (5b).

The word lists are closed classes (determiners, pronouns, prepositions, clause words) plus the nouns
that tell a person ("spokeswoman", « porte-parole »), an institution ("ministry", « ambassade ») or a
company ("company", « groupe ») apart, which the resolution of "he", "the company" or « le groupe »
needs. English and French lists are merged: no word of one is a content word of the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property


def word_set(text: str) -> frozenset[str]:
    """A word list written as one string, as a set."""
    return frozenset(text.split())


#: Longest mention in words, apposition included: sources are short, a runaway phrase is an error.
MAX_WORDS = 12

DETERMINERS = word_set("the a an this these those its his her their some several many other one two three "
                       "le la les l un une des ce cet cette ces son sa ses leur leurs plusieurs certains")
DEFINITE = word_set("the this these those le la les l ce cet cette ces")
POSSESSIVE = word_set("its his her their son sa ses leur leurs")
PRONOUNS = word_set("he she it they il elle ils elles lui eux")
PERSON_PRONOUNS = word_set("he she")
THING_PRONOUNS = word_set("it")
PLURAL_PRONOUNS = word_set("they ils elles eux")
_CLAUSE = word_set("that which who whom whose whether if because since while when although though as but or so "
                   "than where until unless is are was were be been being will would can could should may might must "
                   "do does did to not never has have had also however meanwhile then there here yet still just only "
                   "even already instead que qu qui dont où lorsque quand car mais ou si comme puisque alors tandis "
                   "parce est sont était a ont avait ne n pas plus aussi également encore déjà toutefois cependant "
                   "pourtant ainsi y")
_ADJUNCT = word_set("in on during after before by to with into over about against under through within without "
                    "across among around near via dans lors en à au aux sur pour par avec contre selon après avant "
                    "pendant depuis devant face sans sous vers entre")
_TIME = word_set("monday tuesday wednesday thursday friday saturday sunday january february march april may june "
                 "july august september october november december yesterday today tonight last next week month year "
                 "earlier later lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai "
                 "juin juillet août septembre octobre novembre décembre hier aujourd demain semaine mois année soir "
                 "matin")
#: "of"/« de » go on into a name, a determiner or a noun, not a verb ("Ministry of Electronics",
#: « ministre de l'Industrie », not "accused by Washington of sharing"); « du/des » into any word.
_LINKS = word_set("of for from de d chez")
#: Backwards only, "at", "in", "to", "with" and « en » also link ("an analyst at Wedbush", "the Chinese
#: embassy in New Delhi", "people close to the talks", « chercheurs en cybersécurité »); forwards they
#: start an adjunct ("said Mr Smith in an interview").
_LINKS_BEFORE = _LINKS | word_set("at in to with en")
_CONTRACTED = word_set("du des")
_AND = word_set("and et &")
_STOP_WORDS = _CLAUSE | _ADJUNCT | _TIME
_NOT_NAMES = DETERMINERS | PRONOUNS | _STOP_WORDS
_FUNCTION_WORDS = DETERMINERS | _STOP_WORDS | _LINKS | _CONTRACTED | _AND
HONORIFICS = word_set("mr mr. mrs mrs. ms ms. dr dr. m. mme mme. mlle mgr sen. rep. gov. gen. judge juge senator")
PERSON_NOUNS = word_set(
    "spokesman spokeswoman spokesperson spokespeople minister secretary senator lawmaker representative judge "
    "lawyer attorney president chairman chairwoman chief executive ceo founder director official analyst "
    "researcher expert ambassador diplomat commissioner critic adviser advisor officer economist professor "
    "people person source editor columnist leader head porte-parole ministre secrétaire sénateur sénatrice "
    "député députée juge avocat avocate président présidente directeur directrice fondateur fondatrice "
    "dirigeant dirigeante responsable analyste chercheur chercheuse ambassadeur diplomate commissaire "
    "conseiller conseillère patron patronne économiste professeur éditorialiste personne juriste spécialiste "
    "expert experte")
INSTITUTION_NOUNS = word_set(
    "ministry department government administration embassy agency command court commission committee congress "
    "senate office bureau council authorities authority regulator watchdog media newspaper journal times post "
    "daily outlet parliament ministère gouvernement ambassade agence tribunal cour comité congrès sénat "
    "autorités autorité régulateur média médias quotidien diplomatie parlement")
COMPANY_NOUNS = word_set("company firm group corporation giant entreprise société groupe firme géant")
NOUNS = PERSON_NOUNS | INSTITUTION_NOUNS | COMPANY_NOUNS
#: What a source issues: "the statement" or « le communiqué » stands for whoever issued it last.
#: What a holder answers ("a charge Tencent rejected", « une accusation que Pékin dément »).
CLAIMS = word_set("charge claim accusation allegation argument assertion allégation affirmation thèse")
#: Dashes that end a dateline ("WASHINGTON —") or a mention.
DASHES = frozenset("—–-")
DOCUMENTS = word_set("statement editorial letter filing communiqué éditorial lettre courrier")

_UPPER = "A-ZÀ-ÖØ-Þ"
TOKEN = re.compile(rf"(?:Mr|Mrs|Ms|Dr|Mme|Mlle|Mgr|M|St|Sen|Rep|Gov|Gen|Jr)\.(?=\s)|(?:[{_UPPER}]\.){{2,}}"
                   r"|[^\W_](?:[\w\-]|['’](?=\w))*|\S")
_ELISION = re.compile(r"(?i)^(l|d|qu|n|s|c|j|aujourd)['’](?=\w)")


@dataclass(frozen=True)
class Token:
    """A word or one punctuation character, with its offsets in the article."""

    start: int
    end: int
    text: str

    @property
    def word(self) -> bool:
        return self.text[0].isalnum()

    @cached_property
    def head(self) -> str:
        """The lowercased word without an elided article or preposition (« l'Industrie » -> industrie)."""
        return _ELISION.sub("", self.text, count=1).lower().replace("’", "'")

    @cached_property
    def lead(self) -> str:
        """The word as a function word: the elided part alone (« l'Industrie » -> l, « qu'il » -> qu)."""
        elided = _ELISION.match(self.text)
        return elided.group(1).lower() if elided else self.text.lower().replace("’", "'")

    @cached_property
    def capitalised(self) -> bool:
        """Part of a name: capitalised, and not a function word that opens a sentence ("The", « Le »)."""
        if _ELISION.match(self.text):
            return _ELISION.sub("", self.text, count=1)[:1].isupper()
        return self.text[:1].isupper() and self.head not in _NOT_NAMES


def tokens(text: str, start: int, end: int) -> list[Token]:
    return [Token(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text, start, end)]


def is_noun(token: Token, nouns: frozenset[str]) -> bool:
    """``token`` is one of ``nouns``, singular or plural ("officials", « chercheurs »)."""
    word = token.head
    return word in nouns or (word.endswith(("s", "x")) and word[:-1] in nouns)


def _stops(token: Token) -> bool:
    """A token no mention runs through: punctuation, clause and adjunct words, time words, and an English
    past form ("TikTok sued the government, arguing ...": the subject is "TikTok")."""
    if not token.word or token.lead in _STOP_WORDS or token.head in _TIME:
        return True
    return token.text.islower() and token.text.endswith("ed") and not is_noun(token, NOUNS)


_VERB_FORM = re.compile(r"(?:er|ir|re|oir|ing)$")


def _links(token: Token, following: Token | None) -> bool:
    """Whether "of"/« de » (or « d'… ») goes on into a name, a determiner or a noun, rather than into a
    verb ("accused by Washington of sharing", « accusée par Pékin de vouloir », « d'avoir cédé »)."""
    if token.lead != token.head:  # « d'État », « d'avoir »: the word is in the token
        return token.capitalised or not _VERB_FORM.search(token.head)
    return following is not None and following.word and (
        following.capitalised or following.lead in DETERMINERS
        or not (_VERB_FORM.search(following.head) or _stops(following)))


def _through(toks: list[Token], i: int, links: frozenset[str]) -> bool:
    """Whether a mention may contain ``toks[i]``, given its neighbours."""
    token = toks[i]
    following = toks[i + 1] if i + 1 < len(toks) else None
    if token.lead in links:
        return i > 0 and _links(token, following)
    if token.lead in _AND:  # "ByteDance and TikTok", « l'Électronique et des Technologies », not "the ban and X"
        if following is not None and following.lead in DETERMINERS | _CONTRACTED and i + 2 < len(toks):
            following = toks[i + 2]
        return 0 < i and following is not None and toks[i - 1].capitalised and following.capitalised
    if token.lead in _CONTRACTED and following is not None and following.capitalised:
        return i > 0  # « ministère chinois des Affaires étrangères »: "des" is "de les" before a name
    if token.lead in DETERMINERS:  # a determiner opens a mention or follows a link
        return i == 0 or toks[i - 1].lead in links | _CONTRACTED
    return token.lead in _CONTRACTED or not _stops(token)


def before(toks: list[Token]) -> tuple[int, int] | None:
    """The mention that ends ``toks`` (a subject just before its verb), as token indices ``[i, j)``."""
    j = len(toks)
    i = j
    while i > 0 and i > j - MAX_WORDS:
        if i < j and toks[i].capitalised and is_noun(toks[i - 1], CLAIMS):
            break  # "a charge Tencent rejected": the holder is the name after the claim
        if toks[i - 1].lead in _CONTRACTED and i > 1 and toks[i - 2].word and not _stops(toks[i - 2]):
            i -= 1  # « ministère indien des Affaires étrangères »: "des" is "de les" here, not an article
        elif toks[i - 1].lead in DETERMINERS:  # opens the mention, unless a link or "and" comes before it
            i -= 1
            if i == 0 or not (toks[i - 1].lead in _LINKS_BEFORE | _CONTRACTED
                              or (toks[i - 1].lead in _AND and _through(toks, i - 1, _LINKS_BEFORE))):
                break
        elif _through(toks, i - 1, _LINKS_BEFORE):
            i -= 1
        else:
            break
    while i < j and toks[i].lead in _LINKS_BEFORE:
        i += 1
    return (i, j) if i < j else None


def after(toks: list[Token], clause: bool = False, subject: bool = False) -> tuple[int, int] | None:
    """The mention that starts ``toks`` (after an inverted verb, "by", « selon »), apposition included.
    With ``clause``, the mention must end its clause, as an inverted subject does (", said Mr Smith.",
    « , a déclaré le ministre lors de ... »), not run into a verb (", said the arrangement looked").
    With ``subject`` (the phrase opening a sentence), two unknown lowercase words in a row end it, since
    the second is most likely the verb (« Le décret interdit ... », "The ban took effect"), or the first
    when a name comes before them (« ByteDance veut expliquer »)."""
    j = 0
    while j < len(toks) and j < MAX_WORDS and _through(toks, j, _LINKS):
        if subject and j > 1 and _plain(toks[j]) and _plain(toks[j - 1]) and not is_noun(toks[j - 1], NOUNS):
            break
        if subject and j == 1 and toks[0].capitalised and _plain(toks[j]) and not is_noun(toks[j], NOUNS) \
                and j + 1 < len(toks) and _plain(toks[j + 1]):
            break  # « ByteDance veut expliquer »: after an opening name, a word before another is its verb
        j += 1
    if not j:
        return None
    if j + 1 < len(toks) and toks[j].text == "," and _apposes(toks[j + 1]):
        k = j + 1
        while k < len(toks) and toks[k].word and k - j <= MAX_WORDS // 2:
            k += 1
        phrase = toks[j + 1:k]  # a role or a name ("Dan Ives, an analyst at Wedbush"), not the next clause
        if (k == len(toks) or toks[k].text in ",.;:)!?") and any(t.capitalised or is_noun(t, NOUNS) for t in phrase):
            j = k
    if clause and j < len(toks) and toks[j].word and toks[j].lead not in _STOP_WORDS:
        return None
    return 0, j


def _plain(token: Token) -> bool:
    """A lowercase content word: a noun, an adjective or a verb, which the grammar cannot tell apart."""
    return token.word and token.text[:1].islower() and not is_function(token)


def _apposes(token: Token) -> bool:
    """A phrase after a mention and a comma may be its apposition: a name, a determiner or a role."""
    return token.word and (token.capitalised or token.lead in DETERMINERS or is_noun(token, PERSON_NOUNS))


def apposition(toks: list[Token]) -> tuple[int, int] | None:
    """"Brad Smith, Microsoft's president," or "TikTok, which did not send a witness," before a verb: a
    mention (with a parenthesis: "Sen. X (D-Conn.)"), a comma, a phrase and a comma end ``toks``;
    returns the token indices from the mention to the end of the phrase. The mention or the phrase
    must hold a name, so a clause before a comma is not taken for a speaker."""
    if len(toks) < 3 or toks[-1].text != ",":
        return None
    comma = next((i for i in range(len(toks) - 2, 0, -1) if toks[i].text == ","), 0)
    if not comma or len(toks) - comma > 2 * MAX_WORDS or any(t.text in ";:" for t in toks[comma + 1:-1]):
        return None
    end = comma
    if toks[end - 1].text == ")":
        end = next((i for i in range(end - 1, -1, -1) if toks[i].text == "("), 0)
    name = before(toks[:end]) if end else None
    if name is None or not named(toks[name[0]:end]):
        return None
    if not any(t.capitalised for t in toks[name[0]:end]) and not toks[comma + 1].capitalised:
        return None
    return name[0], len(toks) - 1


def relative(toks: list[Token]) -> list[Token]:
    """The tokens before "who"/« qui » when a relative clause without commas separates a subject from its
    verb ("Some researchers who have taken the app apart have said"); else ``toks``."""
    last = next((i for i in range(len(toks) - 1, -1, -1) if not toks[i].word), -1)
    rel = next((i for i in range(len(toks) - 1, last, -1) if toks[i].head in ("who", "qui")), None)
    return toks[:rel] if rel and toks[rel - 1].word else toks


def skip_adjuncts(toks: list[Token]) -> list[Token]:
    """``toks`` without the time words or the short adjunct that may sit between an inverted verb and its
    subject (« a assuré mardi son porte-parole », « a affirmé devant les députés le ministre »)."""
    k = 0
    while k < len(toks) and toks[k].word and toks[k].head in _TIME:
        k += 1
    if k < len(toks) and toks[k].lead in _ADJUNCT:
        following = next((i for i in range(k + 2, min(len(toks), k + 7)) if toks[i].lead in DETERMINERS
                          and toks[i - 1].word and toks[i - 1].lead not in _LINKS | DETERMINERS), None)
        k = following if following is not None else k
    return toks[k:]


def named(toks: list[Token]) -> bool:
    """Whether tokens can name a source: a name, a role or institution noun, a pronoun, or "the/a" + noun."""
    if len(toks) == 1 and toks[0].head in PRONOUNS:
        return True
    return any(t.capitalised or is_noun(t, NOUNS) for t in toks) or (len(toks) > 1 and toks[0].lead in DETERMINERS)


def kind(toks: list[Token]) -> str:
    """What a pronoun or a generic reference may point to: "person", "institution", "company", "name"
    (capitalised words only: "Shein", "Washington") or "phrase" (« le décret », "the talks"). A mention
    with an apposition is what its first part is ("Hu Xijin, editor of the Global Times")."""
    comma = next((i for i, t in enumerate(toks) if t.text == ","), len(toks))
    toks = toks[:comma] if comma else toks
    if any(t.text.lower() in HONORIFICS or is_noun(t, PERSON_NOUNS) for t in toks):
        return "person"
    if any(is_noun(t, INSTITUTION_NOUNS) for t in toks):
        return "institution"
    if any(is_noun(t, COMPANY_NOUNS) for t in toks):
        return "company"
    words = [t for t in toks if t.word and not is_function(t)]
    if words and all(t.capitalised for t in words):  # "Brad Smith" is a person, "SAN FRANCISCO" no one
        return "person" if 1 < len(words) <= 3 and not all(t.text.isupper() for t in words) else "name"
    return "phrase"


def is_function(token: Token) -> bool:
    """A closed-class word (determiner, link, clause or adjunct word): never a name nor an owner."""
    return token.lead in _FUNCTION_WORDS


def undated(toks: list[Token]) -> list[Token]:
    """``toks`` without a dateline ("WASHINGTON —", « PÉKIN – »): a place in capitals is nobody's voice."""
    dash = next((i for i, t in enumerate(toks[:4]) if t.text in DASHES), None)
    if dash and all(t.text.isupper() or not t.word for t in toks[:dash]):
        return toks[dash + 1:]
    return toks
