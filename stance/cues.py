"""Reporting cues in English and French: the words that say a sentence reports someone's words.

Each cue is a regex match whose named group says where its source is:
- ``verb``: a reporting verb (said, told, denied, argued; « a déclaré », « estime que », « accuse »);
  the source is its subject before it, or after it when the verb is inverted (", said Mr Smith",
  « », a déclaré le ministre »).
- ``inverted``: a French verb with its pronoun (« a-t-il ajouté », « estime-t-elle »).
- ``by``: the source follows ("suspected by Washington", « accusée par Pékin », "according to",
  « selon », « d'après », "in a statement,").
- ``for``: « Pour X, ... » opening a sentence: X's view, when X names someone.
- ``participle``: ", arguing that", « en affirmant »: the source is the subject of the sentence.

Verbs that also report plain facts ("Oracle has maintained close ties", "China has added rules") count
only before "that" or at the end of a clause; French verbs of saying in the present count only before
« que », a colon, a quote or an auxiliary infinitive (« dit avoir reçu », « affirme vouloir »), or as an incise after a comma.
English verbs are matched in lowercase only, so a capitalised name is never taken for a verb.
"""

from __future__ import annotations

import re

from .mentions import word_set

#: Quote interiors are masked with this character before cues are searched, so words inside a quote are
#: never a cue for the sentence around it, and a closing quote before an incise is still seen (« », dit-il »).
MASK = "¤"

def _alternatives(words: str) -> str:
    return "|".join(sorted(words.split(), key=len, reverse=True))


_EN_VERBS = _alternatives(
    "said says say told tells argued argues denied denies insisted insists warned warns claimed claims "
    "wrote writes accused accuses alleged alleges contended contends countered counters rejected rejects dismissed "
    "dismisses described describes criticized criticised criticizes criticises condemned condemns slammed slams "
    "blasted urged urges vowed vows responded replied replies testified tweeted charged found finds called calls "
    "argue insist warn claim deny contend allege accuse counter reject dismiss criticize criticise condemn urge")
#: Verbs that also report plain facts ("Oracle has maintained close ties"): a cue only before "that" or
#: at the end of a clause (", the ministry noted.").
_EN_THAT_VERBS = _alternatives(
    "added adds stated noted explained explains maintained maintains stressed stresses announced confirmed confirms "
    "believes believe fears asserted asserts declared declares acknowledged admitted suggested suggests concluded "
    "concludes pledged promised")
_EN_PASSIVES = _alternatives(
    "suspected accused seen considered described viewed regarded criticized criticised denounced blamed labelled "
    "labeled branded deemed condemned called judged perceived targeted")
_EN_PARTICIPLES = _alternatives(
    "arguing saying adding warning insisting claiming citing calling accusing denying describing stressing noting "
    "asserting contending alleging")
_FR_PARTICIPLES_PAST = _alternatives(
    "déclaré affirmé dénoncé assuré indiqué précisé ajouté expliqué souligné estimé jugé accusé averti martelé "
    "répondu réagi fustigé démenti nié rejeté déploré insisté rappelé prévenu dit écrit annoncé confirmé réfuté "
    "qualifié critiqué condamné soutenu plaidé argué reconnu contesté répliqué commenté tweeté promis observé "
    "noté regretté considéré maintenu justifié invoqué exhorté appelé réaffirmé répété renchéri relevé défendu "
    "salué évoqué demandé"
) + r"|mis\s+en\s+garde|fait\s+(?:valoir|savoir)|laissé\s+entendre"
#: Participles that report speech only with their pronoun after them (« a-t-il poursuivi », « avait-elle
#: lancé »); with a subject before them they mostly report acts (« Pékin a lancé une enquête »).
_FR_INCISE_ONLY = _alternatives("poursuivi lancé conclu tranché résumé enchaîné interrogé")
#: French present and imperfect verbs of saying: a cue before « que », a colon, a quote or an infinitive
#: (« le ministère dit avoir reçu »), or in an incise after a comma (« ..., estime le ministre »).
_FR_SAY = _alternatives(
    "estime estiment estimait juge jugent jugeait affirme affirment affirmait assure assurent assurait déclare "
    "déclarent déclarait indique indiquent indiquait précise précisent précisait souligne soulignent soulignait "
    "explique expliquent expliquait considère considèrent considérait soutient soutiennent soutenait craint "
    "craignent craignait prévient préviennent prévenait martèle martèlent martelait insiste insistent insistait "
    "rappelle rappellent rappelait ajoute ajoutent ajoutait avertit avertissent avertissait plaide plaident "
    "plaidait reconnaît reconnaissent reconnaissait dit disent disait écrit écrivent écrivait répond répondent "
    "répondait réplique répliquent répliquait pense pensent pensait regrette regrettent regrettait raconte "
    "racontent racontait confie confient confiait témoigne témoignent témoignait résume résument résumait "
    "observe observent observait note notent notait relève relèvent relevait")
#: French present and imperfect verbs whose object is the position itself (« Pékin dénonce une décision
#: politique », « New Delhi accuse ces applications de... »): always a cue.
_FR_STANCE = _alternatives(
    "accuse accusent accusait dénonce dénoncent dénonçait fustige fustigent fustigeait dément démentent démentait "
    "nie nient niait conteste contestent contestait réfute réfutent réfutait rejette rejettent rejetait critique "
    "critiquent critiquait condamne condamnent condamnait qualifie qualifient qualifiait justifie justifient "
    "justifiait invoque invoquent invoquait déplore déplorent déplorait soupçonne soupçonnent soupçonnait "
    "évoque évoquent évoquait"
) + r"|met(?:tent|tait)?\s+en\s+garde"
#: Adverbs between « a » and its participle (« a également déclaré », « a pour sa part dénoncé »).
_FR_ADVERBS = (r"(?:(?:également|aussi|encore|déjà|pourtant|notamment|ensuite|alors|même|toutefois|néanmoins"
               r"|d['’]ailleurs|récemment|publiquement|clairement|vivement|fermement|toujours"
               r"|pour\s+(?:sa|leur)\s+part|de\s+(?:son|leur)\s+côté|(?:lui|elle|eux|elles)\s+aussi)\s+)?")
_FR_PASSIVES = _alternatives(
    "accusé soupçonné considéré jugé perçu vu dénoncé critiqué qualifié désigné visé décrit présenté taxé "
    "pointé")
_FR_PARTICIPLES = _alternatives(
    "estimant affirmant assurant dénonçant jugeant accusant expliquant soulignant arguant ajoutant rappelant "
    "précisant niant démentant invoquant qualifiant déclarant martelant fustigeant avertissant")

#: One regex per language; the name of the group that matched is the cue's kind (see the module docstring).
CUES = {lang: re.compile(pattern) for lang, pattern in {
    "en": (rf"(?P<verb>\b(?:{_EN_VERBS})\b(?<!so-called)|\b(?:{_EN_THAT_VERBS})(?=\s+that\b|\s*[,.;:]|\s*$))"
           rf"|(?P<by>\b(?:{_EN_PASSIVES})\s+by\s+|(?i:\baccording\s+to\s+(?!(?:our|us)\b)"
           r"|\bin\s+(?:a|its|their|the)\s+(?:joint\s+)?statement\s*,\s*))"
           rf"|(?P<participle>,\s*(?:{_EN_PARTICIPLES})\b)"),
    "fr": (rf"(?P<inverted>\b(?:(?:a|ont|avait|avaient|aurait)-t?-?(?:il|elle|ils|elles)\s+{_FR_ADVERBS}"
           rf"(?:{_FR_PARTICIPLES_PAST}|{_FR_INCISE_ONLY})|(?:{_FR_SAY}|{_FR_STANCE})-(?:t-)?(?:il|elle|ils|elles))\b)"
           rf"|(?P<verb>\b(?:a|ont|avait|avaient|aurait|auraient|aura)\s+{_FR_ADVERBS}(?:{_FR_PARTICIPLES_PAST})\b"
           rf"|\b(?:{_FR_SAY})(?=\s*{_FR_ADVERBS}(?:que\b|qu['’]|:|«|“|(?:n['’])?(?:avoir|être|vouloir|pouvoir|devoir)\b|ne\b))"
           rf"|(?:(?<=[,»”\"{MASK}])|(?<=[,»”\"{MASK}]\s))(?:{_FR_SAY}|(?:a|avait|ont|avaient)\s+(?:{_FR_INCISE_ONLY}))\b(?!-)"
           rf"|\b(?:{_FR_STANCE})\b(?!-)|\bs['’]est\s+(?:dite?|déclarée?|félicitée?|inquiétée?|indignée?|montrée?)\b)"
           rf"|(?P<by>\b(?:{_FR_PASSIVES})e?s?(?:\s+[^\s,.;:]+){{0,4}}?\s+par\s+|(?i:\bselon\s+"
           r"(?!(?:toute|tous|nos|notre|les\s+cas|que|qu)\b)|\bd['’]après\s+|\baux\s+yeux\s+d(?:e|u|es)\s+"
           r"|\bdans\s+(?:un|son|leur)\s+communiqué\s*,\s*))"
           r"|(?P<for>\bPour\s+(?=[^,.;:«»]{2,60},))"
           rf"|(?P<participle>(?:,\s*|\ben\s+)(?:{_FR_PARTICIPLES})\b)"),
}.items()}


#: The pronoun inside an ``inverted`` cue (« a-t-il ajouté » -> il).
INVERTED_PRONOUN = re.compile(r"-(?:t-)?(il|elle|ils|elles)\b")
#: Words between a subject and its verb ("Microsoft on Tuesday said", "has long argued").
SKIP = word_set("has have had also later then again previously repeatedly separately earlier once already long "
                "always often consistently publicly privately recently now still on monday tuesday wednesday "
                "thursday friday")
#: A verb right after these is negated or an infinitive ("has not said", "declined to say"): no cue.
NEGATIONS = word_set("not never cannot to")
#: A verb right after these has the phrase before them as its subject ("TikTok, which said").
RELATIVES = word_set("who which qui")
#: A verb right after these shares the subject of the sentence ("He called Oracle great and said").
AND = word_set("and et")
#: Page labels that look like a headline source ("Read also: ...", « Publié : ... »).
BOILERPLATE = word_set("read lire source sources image photo photos crédit credit credits update updated màj mise "
                       "video vidéo related watch listen note correction exclusive exclusif breaking live direct "
                       "analysis analyse opinion tribune interview entretien légende caption see voir also aussi "
                       "by par publié published posted share partager")
