"""More attribution patterns, each with its exact source offsets: plural subjects and pronouns, verbs that
report speech only in an incise, references to a document or a nickname, and long French titles.

Every text here is written for these tests; none comes from an evaluation or development article.
"""

from test_attribution import attributions, mention

from stance.records import Attribution


def test_a_plural_subject_with_a_present_verb_en():
    text = "Lawyers for the app argue that the order oversteps the law. The lawyers say no evidence was shown."
    first, second = attributions(text, "en")
    lawyers = mention(text, "Lawyers for the app", "other")
    assert first.source == lawyers and second.source == lawyers


def test_he_is_never_a_group_of_officials():
    text = ("Peter Novak, the Czech digital minister, spoke on Friday. Officials warned that the app could leak data. "
            "Speaking in Prague, he argued that the ban was about trade.")
    *_, third = attributions(text, "en")
    assert third.source == mention(text, "Peter Novak, the Czech digital minister", "other")


def test_they_and_ils_prefer_a_group():
    text = ("Twelve senators wrote to Mr. Ratliff on Monday. Mr. Ratliff did not reply. "
            "“The deal solves nothing,” they wrote.")
    *_, last = attributions(text, "en")
    assert last == Attribution(mention(text, "Twelve senators", "other"), quoted=True, carried=True)
    texte = ("Plusieurs députés ont écrit à M. Garnier. M. Garnier n'a pas répondu. "
             "« L'accord ne règle rien », écrivent-ils.")
    *_, dernier = attributions(texte, "fr")
    assert dernier == Attribution(mention(texte, "Plusieurs députés", "other"), quoted=True, carried=True)


def test_a_statement_or_an_editorial_is_its_author():
    text = ("The Chinese embassy in Ottawa issued a statement on Sunday. "
            "The statement called the ban “a political manoeuvre dressed up as security.”")
    _, second = attributions(text, "en")
    assert second.source == mention(text, "The Chinese embassy", "chinese_government")


def test_the_software_giant_is_the_earlier_company_its_alias_names():
    text = ("Microsoft said on Friday that it had made an offer. ByteDance turned it down. The software giant said "
            "its bid would have kept American data safe.")
    *_, last = attributions(text, "en")
    assert last.source == mention(text, "Microsoft", "microsoft")
    unnamed = "ByteDance turned down the offer. The software giant said its bid would have kept data safe."
    _, second = attributions(unnamed, "en")
    assert second.source == mention(unnamed, "The software giant", "microsoft")


def test_incise_only_verbs_and_a_quote_carried_to_the_next_sentence_fr():
    text = ("« Ce compromis ne protège personne », a lancé le sénateur Paul Girard en ouvrant l'audition. "
            "« Le Parti communiste gardera la main sur les données. » "
            "« Rien n'a changé », a-t-il poursuivi.")
    first, second, third = attributions(text, "fr")
    senator = mention(text, "le sénateur Paul Girard", "other")
    assert first == Attribution(senator, quoted=True)
    assert second == Attribution(senator, quoted=True, carried=True)
    assert third == Attribution(senator, quoted=True, carried=True)


def test_a_mention_stops_before_its_verb_and_a_ministry_is_the_earlier_one_fr():
    text = ("Le ministère indien de l'Électronique a annoncé le blocage de vingt applications. "
            "Dans son communiqué, le ministère jugeait que ces applications menaçaient la souveraineté du pays. "
            "Il évoquait aussi des transferts de données vers l'étranger.")
    _, second, third = attributions(text, "fr")
    ministry = mention(text, "Le ministère indien de l'Électronique", "other")
    assert second.source == ministry and third.source == ministry


def test_lui_aussi_and_selon_lui_fr():
    text = "Le sénateur Marc Duval a lui aussi critiqué l'accord, qui laisse selon lui ByteDance aux commandes."
    [only] = attributions(text, "fr")
    assert only.source == mention(text, "Le sénateur Marc Duval", "other")


def test_a_subject_after_a_leading_clause_is_what_il_refers_to_fr():
    text = ("Interrogé mardi, le porte-parole du ministère chinois des Affaires étrangères, Wang Wenbin, "
            "a été invité à réagir. « Certains pays invoquent la sécurité comme prétexte », a-t-il déclaré.")
    _, second = attributions(text, "fr")
    spokesman = mention(text, "le porte-parole du ministère chinois des Affaires étrangères, Wang Wenbin",
                        "chinese_government")
    assert second == Attribution(spokesman, quoted=True, carried=True)


def test_a_relative_clause_does_not_name_the_holder():
    text = "Pakistan, which blocked TikTok twice last year, said the app spread indecent content."
    [only] = attributions(text, "en")
    assert only.source == mention(text, "Pakistan", "other")


def test_a_possessive_role_with_a_name_outside_the_schema_is_its_owner_fr():
    text = ("Le ministère chinois du Commerce a réagi jeudi. « Ces règles visent nos entreprises », a déclaré "
            "son porte-parole, Li Ming.")
    _, second = attributions(text, "fr")
    assert second.source == mention(text, "son porte-parole, Li Ming", "chinese_government")


def test_a_participle_after_a_french_role_is_no_owner():
    text = "Selon des responsables du renseignement cités par le journal, l'application collecte trop de données."
    [only] = attributions(text, "fr")
    assert only.source.speaker == "us_security_agencies"


def test_a_dateline_is_nobody():
    text = "WASHINGTON — Oracle signed the deal and rejected the claims that TikTok data would reach Beijing."
    [only] = attributions(text, "en")
    assert only.source == mention(text, "Oracle", "oracle")
