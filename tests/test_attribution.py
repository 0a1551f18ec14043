"""The attribution step: who speaks in each sentence, with the exact source mention.

Every text here is written for these tests; none comes from an evaluation or development article.
"""

from pathlib import Path

import pytest

from stance.attribution import attribute
from stance.quotes import find_quotes
from stance.records import Attribution, Source
from stance.schema import Schema
from stance.segment import split_sentences

SCHEMA = Schema.load(Path(__file__).resolve().parents[1] / "annotations" / "schema.json")


def attributions(text: str, language: str | None = None) -> list[Attribution]:
    return attribute(text, split_sentences(text), SCHEMA, language)


def mention(text: str, words: str, speaker: str | None, nth: int = 1) -> Source:
    """The expected source: the ``nth`` occurrence of ``words`` in ``text``."""
    start = -1
    for _ in range(nth):
        start = text.index(words, start + 1)
    return Source(start, start + len(words), words, speaker)


# The three articles of issue 9, which must come out as the issue states.

def test_a_company_spokeswoman_outside_the_schema_speaks_both_quote_sentences():
    text = ('Shein rejected the accusation within hours. "The allegations are baseless. We have never given '
            'customer data to any government, in China or anywhere else," a company spokeswoman said.')
    first, second, third = attributions(text, "en")
    spokeswoman = mention(text, "a company spokeswoman", "other")
    assert second == Attribution(spokeswoman, quoted=True, carried=False)
    assert third == Attribution(spokeswoman, quoted=True, carried=False)
    assert first.source == mention(text, "Shein", "other")


def test_a_minister_outside_the_schema_is_the_catch_all():
    text = ("« Nous ne laisserons pas une puissance étrangère accéder aux informations de millions de Canadiens », "
            "a déclaré le ministre de l'Industrie lors d'une conférence de presse.")
    [only] = attributions(text, "fr")
    assert only == Attribution(mention(text, "le ministre de l'Industrie", "other"), quoted=True)


def test_another_government_is_the_catch_all_not_the_nearest_known_name():
    text = ("India's Ministry of Electronics and Information Technology said on Tuesday that it would extend its ban "
            "on WeChat and 58 other Chinese apps, arguing that they \"engage in activities prejudicial to the "
            "sovereignty and integrity of India, defence of India and security of the state\".")
    [only] = attributions(text, "en")
    assert only.source == mention(text, "India's Ministry of Electronics and Information Technology", "other")
    assert only.quoted


# Direct quotes in every mark, over several sentences, attributed in the first, a middle or the last.

@pytest.mark.parametrize("opening, closing", [("“", "”"), ('"', '"'), ("«", "»"), ("« ", " »"), ("‘", "’"),
                                               ("'", "'")])
def test_every_quotation_mark(opening, closing):
    text = f"{opening}The order is unlawful and we will fight it,{closing} TikTok said."
    [only] = attributions(text)
    assert only == Attribution(mention(text, "TikTok", "bytedance_tiktok"), quoted=True)


def test_apostrophes_and_short_titles_are_not_quotes():
    text = "TikTok’s lawyers called it a 'pretext' and l'entreprise « partenaire » of Oracle's."
    assert [q for q in find_quotes(text) if q.direct] == []


def test_quote_attributed_in_its_first_sentence():
    text = ("The Commerce Department said in a statement: “The app collects vast amounts of data on Americans. "
            "That data could be reached by Beijing.”")
    first, second = attributions(text, "en")
    department = mention(text, "The Commerce Department", "trump_administration")
    assert first == Attribution(department, quoted=True, carried=False)
    assert second == Attribution(department, quoted=True, carried=True)


def test_quote_attributed_in_a_middle_sentence_carries_to_the_next_quote():
    text = ("“This order is unlawful. It exceeds the president’s powers,” TikTok’s lawyers wrote. "
            "“The government never showed any evidence.”")
    first, second, third = attributions(text, "en")
    lawyers = mention(text, "TikTok’s lawyers", "bytedance_tiktok")
    assert first == Attribution(lawyers, quoted=True, carried=False)
    assert second == Attribution(lawyers, quoted=True, carried=False)
    assert third == Attribution(lawyers, quoted=True, carried=True)


def test_quote_attributed_in_its_last_sentence_fr():
    text = ("« Nous n'avons jamais partagé de données avec Pékin. Toute affirmation contraire est fausse », "
            "a déclaré un porte-parole de TikTok.")
    first, second = attributions(text, "fr")
    spokesman = mention(text, "un porte-parole de TikTok", "bytedance_tiktok")
    assert first == second == Attribution(spokesman, quoted=True, carried=False)


def test_quote_attributed_before_a_colon_fr():
    text = ("Le ministère chinois du Commerce a réagi : « C'est de l'intimidation pure et simple. "
            "Nous prendrons les mesures nécessaires pour défendre nos entreprises. »")
    first, second = attributions(text, "fr")
    ministry = mention(text, "Le ministère chinois du Commerce", "chinese_government")
    assert first.source == second.source == ministry and second.carried


def test_incise_inside_a_quote_fr():
    text = ("« C'est une décision purement politique, a déclaré Zhao Lijian. Les États-Unis n'ont jamais "
            "présenté la moindre preuve. »")
    first, second = attributions(text, "fr")
    zhao = mention(text, "Zhao Lijian", "chinese_government")
    assert first == Attribution(zhao, quoted=True, carried=False)
    assert second == Attribution(zhao, quoted=True, carried=True)


def test_guillemets_without_spaces_and_apposition_after_an_inverted_verb_fr():
    text = ("«Cette décision est une intimidation politique», a déclaré le porte-parole de la diplomatie chinoise, "
            "Zhao Lijian, lors d'un point presse.")
    [only] = attributions(text, "fr")
    expected = mention(text, "le porte-parole de la diplomatie chinoise, Zhao Lijian", "chinese_government")
    assert only == Attribution(expected, quoted=True)


def test_quote_over_two_paragraphs():
    text = ("Zhao Lijian said on Monday:\n“Washington is abusing state power to suppress foreign companies.\n"
            "“This is pure bullying, and China will respond.”")
    first, second, third = attributions(text, "en")
    zhao = mention(text, "Zhao Lijian", "chinese_government")
    assert first == Attribution(zhao)
    assert second == Attribution(zhao, quoted=True, carried=True)
    assert third == Attribution(zhao, quoted=True, carried=True)


def test_unattributed_quote_with_no_speaker_before_it_has_no_source():
    text = "“We will not be bullied by anyone, ever.”\nThe app has 100 million users in the United States."
    first, second = attributions(text, "en")
    assert first == Attribution(None, quoted=True) and second == Attribution(None)


# Headlines with a colon.

def test_headline_with_a_colon():
    text = "Beijing: the TikTok ban is bullying\nRead also: TikTok and Oracle sign their deal"
    headline, label = attributions(text, "en")
    assert headline.source == mention(text, "Beijing", "chinese_government")
    assert label.source is None


def test_headline_with_a_colon_fr():
    text = "Pékin : l'interdiction de TikTok relève de l'intimidation\nÀ lire aussi : le dossier TikTok"
    headline, label = attributions(text, "fr")
    assert headline.source == mention(text, "Pékin", "chinese_government")
    assert label.source is None


# Reported speech in English.

@pytest.mark.parametrize("text, words, speaker", [
    ("Microsoft told investors that the deal would protect American users.", "Microsoft", "microsoft"),
    ("Brad Smith added that the code would move to the United States.", "Brad Smith", "microsoft"),
    ("Lawyers for TikTok argued that the order exceeded the emergency powers law.", "Lawyers for TikTok",
     "bytedance_tiktok"),
    ("ByteDance has denied sharing any data with the Chinese government.", "ByteDance", "bytedance_tiktok"),
    ("Oracle insisted that all the data would stay in Texas.", "Oracle", "oracle"),
    ("U.S. intelligence officials warned that the app could be used to track federal employees.",
     "U.S. intelligence officials", "us_security_agencies"),
    ("The app is a threat to national security, according to a Pentagon memo.", "a Pentagon memo",
     "us_security_agencies"),
    ("In a statement, the Chinese embassy called the order an abuse of state power.", "the Chinese embassy",
     "chinese_government"),
    ("TikTok claims it has never shared user data with Beijing.", "TikTok", "bytedance_tiktok"),
    ("Senator Josh Hawley says the app is a Trojan horse.", "Senator Josh Hawley", "other"),
    ("The ban is about the election, said Dan Ives, an analyst at Wedbush.", "Dan Ives, an analyst at Wedbush",
     "other"),
    ("Zhao Lijian, a foreign ministry spokesman, said the order was bullying.",
     "Zhao Lijian, a foreign ministry spokesman", "chinese_government"),
    ("A foreign ministry spokeswoman said Washington had no evidence.", "A foreign ministry spokeswoman",
     "chinese_government"),
    ("India's foreign ministry spokesman said the ban protected the sovereignty of India.",
     "India's foreign ministry spokesman", "other"),
    ("Beijing has repeatedly rejected the charge, the Global Times wrote.", "the Global Times",
     "chinese_government"),
    ("The ban has nothing to do with security, according to The Washington Post.", "The Washington Post", "other"),
    ("TikTok, which has 100 million American users, said it would sue.", "TikTok", "bytedance_tiktok"),
])
def test_reported_speech_en(text, words, speaker):
    [only] = attributions(text, "en")
    assert only == Attribution(mention(text, words, speaker))


def test_passive_agent_en():
    text = "TikTok is suspected by Washington of sharing user data with Beijing."
    [only] = attributions(text, "en")
    assert only.source == mention(text, "Washington", "trump_administration")


def test_own_voice_negation_and_infinitive_have_no_source():
    text = ("The app has 100 million users in the United States. Oracle has not said what it would do with the "
            "code. ByteDance declined to say whether it would appeal. Oracle has maintained close ties to the "
            "White House.")
    assert [a.source for a in attributions(text, "en")] == [None, None, None, None]


# Reported speech in French.

@pytest.mark.parametrize("text, words, speaker", [
    ("Microsoft a affirmé que son offre aurait protégé la sécurité nationale.", "Microsoft", "microsoft"),
    ("Pékin a dénoncé une décision politique.", "Pékin", "chinese_government"),
    ("TikTok a assuré n'avoir jamais transmis de données à Pékin.", "TikTok", "bytedance_tiktok"),
    ("Selon Washington, l'application menace la sécurité nationale.", "Washington", "trump_administration"),
    ("D'après des chercheurs de l'université de Toronto, l'application n'envoie aucune donnée vers la Chine.",
     "des chercheurs de l'université de Toronto", "other"),
    ("Le ministre canadien de l'Industrie estime que l'application pose un risque.",
     "Le ministre canadien de l'Industrie", "other"),
    ("Le juge Carl Nichols juge que le décret outrepasse la loi.", "Le juge Carl Nichols", "other"),
    ("Pékin accuse Washington d'intimidation.", "Pékin", "chinese_government"),
    ("Oracle a indiqué que les données resteraient au Texas.", "Oracle", "oracle"),
    ("Le secrétaire d'État américain Mike Pompeo a précisé que l'interdiction visait le Parti communiste.",
     "Le secrétaire d'État américain Mike Pompeo", "trump_administration"),
    ("La porte-parole de la diplomatie chinoise, Hua Chunying, a accusé Washington de politiser le commerce.",
     "La porte-parole de la diplomatie chinoise, Hua Chunying", "chinese_government"),
    ("Pour plusieurs analystes, cette interdiction relève du protectionnisme.", "plusieurs analystes", "other"),
    ("Le ministère indien des Affaires étrangères a déclaré que la souveraineté du pays était en jeu.",
     "Le ministère indien des Affaires étrangères", "other"),
])
def test_reported_speech_fr(text, words, speaker):
    [only] = attributions(text, "fr")
    assert only == Attribution(mention(text, words, speaker))


def test_passive_agent_fr():
    text = "TikTok est accusé par Washington de transmettre des données à Pékin."
    [only] = attributions(text, "fr")
    assert only.source == mention(text, "Washington", "trump_administration")


# References resolved to the most recent compatible named source before them.

def test_he_added_after_a_quote_en():
    text = ("Mike Pompeo said the app was a threat. "
            "“It feeds data directly to the Chinese Communist Party,” he added.")
    first, second = attributions(text, "en")
    pompeo = mention(text, "Mike Pompeo", "trump_administration")
    assert first == Attribution(pompeo)
    assert second == Attribution(pompeo, quoted=True, carried=True)


def test_she_skips_a_company_for_a_person():
    text = "Safra Catz said Oracle would protect the data. Microsoft said it had lost. She said the deal was fair."
    *_, third = attributions(text, "en")
    assert third == Attribution(mention(text, "Safra Catz", "oracle"), carried=True)


def test_the_spokeswoman_and_the_company_en():
    text = ("A foreign ministry spokeswoman, Hua Chunying, said the ban was bullying. "
            "Oracle said it would host the data. The company added that it would review the code. "
            "The spokeswoman added that Washington had no evidence.")
    _, oracle, company, spokeswoman = attributions(text, "en")
    assert oracle.source == mention(text, "Oracle", "oracle")
    assert company == Attribution(mention(text, "Oracle", "oracle"), carried=True)
    expected = mention(text, "A foreign ministry spokeswoman, Hua Chunying", "chinese_government")
    assert spokeswoman == Attribution(expected, carried=True)


def test_the_company_without_a_named_company_is_the_schema_alias():
    text = "The company said it would never hand user data to Beijing."
    [only] = attributions(text, "en")
    assert only.source == mention(text, "The company", "bytedance_tiktok")


def test_a_company_spokeswoman_takes_the_speaker_of_the_company_named_before():
    text = "TikTok rejected the claims. A company spokeswoman said the data was stored in Virginia."
    _, second = attributions(text, "en")
    assert second == Attribution(mention(text, "A company spokeswoman", "bytedance_tiktok"))


def test_il_elle_le_porte_parole_le_groupe_fr():
    text = ("Donald Trump a déclaré que TikTok était une menace. « Ils prennent nos données », a-t-il ajouté. "
            "Safra Catz a assuré que les données resteraient aux États-Unis. Elle a ajouté que le code serait "
            "vérifié. Huawei a démenti ces accusations. Le groupe a précisé qu'il n'avait jamais espionné "
            "personne. Un porte-parole de la diplomatie chinoise a dénoncé une manipulation. Le porte-parole a "
            "ajouté que Pékin riposterait.")
    trump, added, catz, elle, huawei, groupe, spokesman, porte_parole = attributions(text, "fr")
    assert trump.source == mention(text, "Donald Trump", "trump_administration")
    assert added == Attribution(trump.source, quoted=True, carried=True)
    assert catz.source == mention(text, "Safra Catz", "oracle") and elle == Attribution(catz.source, carried=True)
    assert huawei.source == mention(text, "Huawei", "other") and groupe == Attribution(huawei.source, carried=True)
    expected = mention(text, "Un porte-parole de la diplomatie chinoise", "chinese_government")
    assert spokesman.source == expected and porte_parole == Attribution(expected, carried=True)


def test_inverted_present_with_its_pronoun_fr():
    text = "Safra Catz a défendu l'accord. « Les données resteront aux États-Unis », estime-t-elle."
    _, second = attributions(text, "fr")
    assert second == Attribution(mention(text, "Safra Catz", "oracle"), quoted=True, carried=True)


def test_a_surname_alone_keeps_the_speaker_of_the_full_name():
    text = "Commerce Secretary Wilbur Ross said the app was a threat. Later, Ross told reporters the ban would stand."
    _, second = attributions(text, "en")
    assert second.source == mention(text, "Ross", "trump_administration", nth=2)


def test_a_pronoun_with_no_antecedent_goes_to_the_catch_all():
    text = "“This is a political decision,” he said."
    [only] = attributions(text, "en")
    assert only == Attribution(mention(text, "he", "other"), quoted=True)


def test_one_attribution_per_sentence_and_none_for_an_empty_article():
    text = "TikTok said it would sue. The app is popular. Beijing: the ban is bullying"
    assert len(attributions(text)) == len(split_sentences(text)) == 3
    assert attribute("", [], SCHEMA) == []


def test_source_round_trips_as_a_mention():
    source = Source(4, 10, "TikTok", "bytedance_tiktok")
    assert source.to_dict() == {"text": "TikTok", "start": 4, "end": 10}
    assert Source.from_dict(source.to_dict(), "bytedance_tiktok") == source


def test_without_a_catch_all_an_unknown_source_has_no_speaker():
    schema = Schema.from_dict({"name": "s", "stances": [{"name": "a"}], "speakers": [{"name": "b"}]})
    text = "Canada's industry minister said the app was a risk."
    [only] = attribute(text, split_sentences(text), schema, "en")
    assert only.source == mention(text, "Canada's industry minister", None)


# Two holders in one sentence: each stance's position gets the source of the clause holding its cue words.

STANCES = {name: i for i, name in enumerate(SCHEMA.stance_names)}


def holders(attribution: Attribution) -> dict[str, str | None]:
    return {name: (s.text if (s := attribution.source_of(i)) else None) for name, i in STANCES.items()}


@pytest.mark.parametrize("text, language, accuser, denier", [
    ("The Commerce Department says the app lets Beijing spy on Americans, a charge TikTok has always rejected.",
     "en", ("The Commerce Department", "trump_administration"), ("TikTok", "bytedance_tiktok")),
    ("Washington accuse l'application d'espionner ses utilisateurs, ce que Pékin dément.",
     "fr", ("Washington", "trump_administration"), ("Pékin", "chinese_government")),
    ("Huawei, que Washington soupçonne d'espionnage, a toujours nié ces accusations.",
     "fr", ("Washington", "trump_administration"), ("Huawei", "other")),
])
def test_an_accusation_and_its_denial_by_two_holders(text, language, accuser, denier):
    [only] = attributions(text, language)
    accusing, denying = mention(text, *accuser), mention(text, *denier)
    assert only.source_of(STANCES["national_security"]) == accusing
    assert only.source_of(STANCES["denial"]) == denying
    assert set(only.sources) == {accusing, denying}


def test_a_contrast_names_a_second_holder_en():
    text = "New Delhi says the apps threaten its sovereignty, while Beijing calls the ban a political move."
    [only] = attributions(text, "en")
    assert holders(only) == {"national_security": "New Delhi", "denial": "New Delhi", "political_motive": "Beijing"}
    assert only.source_of(STANCES["political_motive"]) == mention(text, "Beijing", "chinese_government")


@pytest.mark.parametrize("text, language", [
    ("TikTok rejected the charge and said the ban was political, according to Reuters.", "en"),
    ("TikTok denied the accusations, saying the ban was political.", "en"),
    ("The judge wrote that the government had not shown the security threat it described.", "en"),
    ("Pékin dénonce une décision politique, selon le Global Times.", "fr"),
])
def test_one_holder_when_the_later_cue_opens_no_clause(text, language):
    """"According to" reports the whole sentence, a participle continues its clause, and a verb with no
    clause break before it ("the threat it described") is part of the first holder's words."""
    [only] = attributions(text, language)
    assert only.by_stance == ()


def test_a_partial_quote_is_its_subject_s_words_and_the_next_quote_continues_it_fr():
    text = ("Avec ce nouveau site, ByteDance veut expliquer « ce que l'application stocke vraiment ». "
            "« Les rumeurs se multiplient. TikTok n'a jamais transmis de données à Pékin. »")
    first, second, third = attributions(text, "fr")
    bytedance = mention(text, "ByteDance", "bytedance_tiktok")
    assert first == Attribution(bytedance, quoted=True)
    assert second == third == Attribution(bytedance, quoted=True, carried=True)


def test_an_imperfect_verb_of_saying_before_an_infinitive_fr():
    text = "Alors que Microsoft affirmait vouloir « renforcer la sécurité », TikTok a préféré Oracle."
    [only] = attributions(text, "fr")
    assert only.source == mention(text, "Microsoft", "microsoft")
