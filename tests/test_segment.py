"""Tests of the sentence splitter: real sentences from the training articles, the abbreviation and
quote rules as small strings, the offset invariants as properties, and the bounded long line.

The held-out article guardian-en.txt is deliberately never read here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stance.records import Sentence
from stance.segment import MAX_SENTENCE_CHARS, SOFT_SENTENCE_CHARS, split_sentences

ARTICLES = Path(__file__).resolve().parents[1] / "annotations" / "articles"
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
HARD_CLOSERS = "»”›)]"


def is_ws(char: str) -> bool:
    """Whitespace as the splitter must see it at sentence edges (str.isspace plus the BOM)."""
    return char.isspace() or char == "\ufeff"


def read_article(name: str) -> str:
    """Read an article exactly as stored, so offsets index the file's text."""
    assert name != "guardian-en.txt", "held-out evaluation article"
    with open(ARTICLES / name, encoding="utf-8", newline="") as handle:
        return handle.read()


def texts(text: str) -> list[str]:
    """The sentence texts of ``text``, after checking every invariant."""
    sentences = split_sentences(text)
    check_invariants(text, sentences)
    return [s.text for s in sentences]


def check_invariants(text: str, sentences: list[Sentence]) -> None:
    """In order, non-overlapping, exact offsets, stripped edges, nothing but whitespace dropped."""
    pos = 0
    for sentence in sentences:
        assert isinstance(sentence, Sentence)
        assert pos <= sentence.start < sentence.end <= len(text)
        assert text[sentence.start : sentence.end] == sentence.text
        assert not is_ws(sentence.text[0]) and not is_ws(sentence.text[-1])
        assert all(is_ws(c) for c in text[pos : sentence.start]), "non-whitespace dropped"
        assert not any(c in LINE_BREAKS for c in sentence.text), "a line break is always a boundary"
        assert sentence.end - sentence.start <= MAX_SENTENCE_CHARS
        pos = sentence.end
    assert all(is_ws(c) for c in text[pos:]), "non-whitespace dropped at the end"


def assert_consecutive(sentences: list[str], *expected: str) -> None:
    """``expected`` are whole sentences that follow each other in ``sentences``."""
    assert expected[0] in sentences, f"missing {expected[0]!r}"
    first = sentences.index(expected[0])
    assert sentences[first : first + len(expected)] == list(expected)


# --- real sentences from the training articles ------------------------------------------------


@pytest.mark.parametrize("name", ["nyt-fr.txt", "nyt-en.txt", "igen-fr.txt", "frtech-fr.txt"])
def test_articles_keep_invariants(name: str) -> None:
    assert len(texts(read_article(name))) > 10


def test_nyt_fr_titles_quotes_and_byline() -> None:
    sentences = texts(read_article("nyt-fr.txt"))
    assert_consecutive(
        sentences,
        "Oracle choisi comme partenaire technique de TikTok, l’offre de Microsoft étant rejetée",
        "WASHINGTON – Le propriétaire chinois de TikTok a choisi Oracle comme partenaire technologique de "
        "l’application pour ses opérations aux États-Unis et a rejeté une offre d’acquisition de Microsoft, "
        "selon des responsables de Microsoft et d’autres personnes impliquées dans les négociations, car le "
        "temps presse sur un ordre exécutif de Le président Trump menace d’interdire l’application populaire "
        "à moins que ses opérations américaines ne soient vendues.",
    )
    assert_consecutive(
        sentences,
        "Le mois dernier, M. Trump a déclaré qu’il soutiendrait l’achat d’Oracle TikTok.",
        "Il a qualifié Oracle de «grande entreprise» et a déclaré que l’entreprise, spécialisée dans les "
        "logiciels d’entreprise, pourrait exécuter avec succès TikTok.",
        "«Je pense qu’Oracle serait certainement quelqu’un qui pourrait le gérer», a-t-il déclaré.",
    )
    # "Microsoft. dans" is a typo in the data: the lowercase continuation keeps one sentence.
    assert_consecutive(
        sentences,
        "“ByteDance nous a fait savoir aujourd’hui qu’ils ne vendraient pas les opérations américaines de "
        "TikTok à Microsoft”, a déclaré Microsoft. dans un rapport.",
        "«Nous sommes convaincus que notre proposition aurait été bonne pour les utilisateurs de TikTok, tout "
        "en protégeant les intérêts de sécurité nationale.»",
        "ByteDance a refusé de commenter.",
    )
    assert_consecutive(
        sentences,
        "Lors d’un appel pour discuter des bénéfices d’Oracle la semaine dernière, Mme Catz a prévenu les "
        "analystes qu’elle et M. Ellison ne discuteraient pas des rapports sur leur offre sur TikTok.",
    )
    smith = [s for s in sentences if s.endswith("a déclaré M. Smith.")]
    assert len(smith) == 2 and all(not s.startswith("Smith") for s in sentences)
    assert any(s.endswith("le code et les algorithmes..") for s in sentences)
    assert_consecutive(
        sentences,
        "David E. Sanger et David McCabe ont rapporté de Washington; Erin Griffith a rapporté de San Francisco.",
        "Leave a Reply",
        "Your email address will not be published.",
        "Required fields are marked *",
    )


def test_nyt_en_statement_abbreviations_and_captions() -> None:
    sentences = texts(read_article("nyt-en.txt"))
    assert_consecutive(
        sentences,
        "“ByteDance informed us today that they would not sell TikTok’s U.S. operations to Microsoft,” "
        "Microsoft said in a statement.",
        "“We are convinced that our proposal would have been good for TikTok users while protecting "
        "national security interests.”",
    )
    assert_consecutive(
        sentences,
        "That’s a major concern of U.S. intelligence agencies, led by the National Security Agency and U.S. "
        "Cyber Command, which warned internally that whoever manages the computer code could channel – or "
        "censor – a range of politically sensitive information to specific users.",
    )
    assert_consecutive(
        sentences,
        "During a call to discuss Oracle’s earnings last week, Ms. Catz preemptively told analysts that she "
        "and Mr. Ellison would not discuss reports on their bid for TikTok.",
    )
    assert_consecutive(
        sentences,
        "“I think Oracle would definitely be someone who can handle it,” he said.",
        "The lobby of TikTok's office in Culver City, California.",
        "The lobby of TikTok’s office in Culver City, California.",
    )
    assert_consecutive(sentences, "Source: nytimes", "Published on", "Oct 4, 2020")


def test_igen_fr_spaced_guillemets_and_junk_lines() -> None:
    sentences = texts(read_article("igen-fr.txt"))
    headline = "Oracle devient «\xa0partenaire technique\xa0» de TikTok US, Microsoft abandonne 🆕"
    assert_consecutive(sentences, headline, "Mickaël Bazoge\xa0|")
    quote = (
        "«\xa0ByteDance nous a fait savoir aujourd'hui [dimanche, donc] qu'ils ne vendront pas les opérations "
        "américaines de TikTok\xa0»."
    )
    assert quote in sentences
    assert sentences[sentences.index(quote) + 1].startswith("Le propriétaire chinois du réseau social")
    assert "Image\xa0: Open Grid Scheduler (CC0 1.0)." in sentences


def test_frtech_fr_quoted_paragraph_keeps_its_closing_guillemet() -> None:
    sentences = texts(read_article("frtech-fr.txt"))
    assert_consecutive(
        sentences,
        "TikTok n’est pas disponible en Chine.",
        "Les données des utilisateurs américains sont stockées en Virginie avec une sauvegarde à Singapour et "
        "des contrôles stricts sur l’accès des employés.",
    )
    assert_consecutive(
        sentences,
        "Toute allégation contraire est sans fondement et manifestement fausse. »",
        "Le site Web regorge de liens vers des sources d’information et des experts soutenant les principaux "
        "points que l’entreprise souhaite promouvoir : TikTok n’est pas une menace pour la cybersécurité "
        "américaine ; l’entreprise prend très au sérieux la désinformation sur sa plateforme ; la plateforme "
        "elle-même est une aubaine pour les libertés civiles.",
    )
    assert "TikTok" in sentences and sentences[-1] == "Partager un commentaire"


# --- rules as small strings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M. Trump est là. Il parle.", ["M. Trump est là.", "Il parle."]),
        ("MM. Dupont et Durand sont venus. Mme Catz aussi.", ["MM. Dupont et Durand sont venus.", "Mme Catz aussi."]),
        ("Mr. and Mrs. Smith met Ms. Jones and Dr. Who at St. Paul. Then they left.",
         ["Mr. and Mrs. Smith met Ms. Jones and Dr. Who at St. Paul.", "Then they left."]),
        ("U.S. Cyber Command warned. The U.K. Government agreed.",
         ["U.S. Cyber Command warned.", "The U.K. Government agreed."]),
        ("Use tools, e.g. Word, i.e. an editor. Fine.", ["Use tools, e.g. Word, i.e. an editor.", "Fine."]),
        ("Apples, pears, etc. are fruit. Etc. is Latin.", ["Apples, pears, etc. are fruit.", "Etc. is Latin."]),
        ("Ils ont cité J.-L. Mélenchon hier. Voilà.", ["Ils ont cité J.-L. Mélenchon hier.", "Voilà."]),
        ("David E. Sanger et David McCabe ont écrit.", ["David E. Sanger et David McCabe ont écrit."]),
        ("It is No. 1 in sales. See p. 12 for more.", ["It is No. 1 in sales.", "See p. 12 for more."]),
        ("It grew 3.5 percent. Then it fell.", ["It grew 3.5 percent.", "Then it fell."]),
        ("Quoi ?! Vraiment ? Oui… Bon.. Fin...", ["Quoi ?!", "Vraiment ?", "Oui…", "Bon..", "Fin..."]),
        ("Attendez... je réfléchis.", ["Attendez... je réfléchis."]),
        ("« Nous partons. » Ils sont partis.", ["« Nous partons. »", "Ils sont partis."]),
        ("«Nous partons.» Ils sont partis.", ["«Nous partons.»", "Ils sont partis."]),
        ("« Nous partons. » » Puis rien.", ["« Nous partons. » »", "Puis rien."]),
        ("“We left.” Then we came back.", ["“We left.”", "Then we came back."]),
        ("“We left. ” Then we came back.", ["“We left. ”", "Then we came back."]),
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ('He said: stop. "Then" he left.', ["He said: stop.", '"Then" he left.']),
        ("He said ‘stop.’ Then he left.", ["He said ‘stop.’", "Then he left."]),
        ("Il a dit « non ! », a déclaré Microsoft. Fin.", ["Il a dit « non ! », a déclaré Microsoft.", "Fin."]),
        ("« Oui. » a-t-il dit.", ["« Oui. » a-t-il dit."]),
        ("(Il est parti.) Puis il est revenu.", ["(Il est parti.)", "Puis il est revenu."]),
        ("Il a dit (voir p. 12) oui. Fin.", ["Il a dit (voir p. 12) oui.", "Fin."]),
        ("Titre sans point\nUne phrase. Une autre.\n\nLeave a Reply\nImage\xa0: légende (CC0 1.0).",
         ["Titre sans point", "Une phrase.", "Une autre.", "Leave a Reply", "Image\xa0: légende (CC0 1.0)."]),
        ("Une ligne\u2028une autre", ["Une ligne", "une autre"]),
        ("\ufeff\xa0Bonjour.\xa0 \ufeff", ["Bonjour."]),
    ],
)
def test_rules(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_crlf_offsets_index_the_text_as_given() -> None:
    text = "Titre\r\nPremière phrase. Deuxième phrase.\r\n\r\nFin"
    sentences = split_sentences(text)
    check_invariants(text, sentences)
    assert [(s.start, s.end, s.text) for s in sentences] == [
        (0, 5, "Titre"),
        (7, 23, "Première phrase."),
        (24, 40, "Deuxième phrase."),
        (44, 47, "Fin"),
    ]


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\r\n\xa0\ufeff\u2028 "])
def test_empty_and_whitespace_only_have_no_sentence(text: str) -> None:
    assert split_sentences(text) == []


def test_five_megabyte_line_without_punctuation_is_cut_into_bounded_chunks() -> None:
    text = ("mot " * 1_250_001)[:5_000_000]
    sentences = split_sentences(text)
    check_invariants(text, sentences)
    assert len(sentences) >= 5_000_000 // MAX_SENTENCE_CHARS
    assert all(s.end - s.start >= SOFT_SENTENCE_CHARS for s in sentences[:-1])
    assert re.sub(r"\s", "", "".join(s.text for s in sentences)) == text.replace(" ", "")


def test_an_over_long_line_is_cut_between_words_never_inside_one() -> None:
    words = [f"word{i}" for i in range(2_000)]
    text = " ".join(words)
    pieces = split_sentences(text)
    assert len(pieces) > 1
    assert [w for piece in pieces for w in piece.text.split(" ")] == words
    assert all(text[piece.end] == " " for piece in pieces[:-1])


def test_five_megabyte_line_without_whitespace_is_hard_cut() -> None:
    text = "x" * 5_000_000
    sentences = split_sentences(text)
    check_invariants(text, sentences)
    assert all(s.end - s.start == MAX_SENTENCE_CHARS for s in sentences)
    assert "".join(s.text for s in sentences) == text


# --- properties -------------------------------------------------------------------------------

WORDS = ["Le", "la", "Trump", "said", "état", "Microsoft", "3.5", "100", "a-t-il", "É", "x"]
ABBREVIATIONS = ["M.", "MM.", "Mme", "Mr.", "Mrs.", "Dr.", "St.", "U.S.", "U.K.", "e.g.", "i.e.", "etc.", "J.-L.",
                 "E.", "No.", "p."]
PUNCTUATION = [".", "?", "!", "…", "..", "...", "?!", ",", ";", ":", "–"]
QUOTES = ["«", "»", "“", "”", '"', "‘", "’", "'", "(", ")", "[", "]", "›"]
SEPARATORS = ["", " ", " ", " ", "  ", "\xa0", "\ufeff", "\t", "\n", "\r\n", "\n\n", "\u2028", "\r"]

mixed_text = st.lists(
    st.tuples(st.sampled_from(WORDS + ABBREVIATIONS + PUNCTUATION + QUOTES), st.sampled_from(SEPARATORS)),
    max_size=80,
).map(lambda pairs: "".join(token + sep for token, sep in pairs))


@given(st.text())
def test_any_text_keeps_invariants(text: str) -> None:
    check_invariants(text, split_sentences(text))


@settings(max_examples=400)
@given(mixed_text)
def test_news_like_text_keeps_invariants(text: str) -> None:
    sentences = split_sentences(text)
    check_invariants(text, sentences)
    for sentence in sentences:
        if sentence.text[0] in HARD_CLOSERS:  # only a line break may leave a closing quote first
            before = text[: sentence.start].rstrip(" \t\xa0\ufeff")
            assert before == "" or before[-1] in LINE_BREAKS, (text, sentence)
