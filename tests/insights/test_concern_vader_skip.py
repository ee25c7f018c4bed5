"""The classifier skips VADER only where its compound score provably cannot be negative, and the
risk terms' regular expression where no term is in the text: the skips must give exactly the
assessment of VADER and the regular expression, on generated and realistic texts."""
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment import vaderSentiment as vader

from collab.concerns import classifier

analyzer = classifier._analyzer()
LEXICON = sorted(analyzer.lexicon)
POSITIVE = [w for w in LEXICON if analyzer.lexicon[w] > 0]
NEGATIVE = [w for w in LEXICON if analyzer.lexicon[w] < 0]
BOOSTERS = sorted(vader.BOOSTER_DICT)
SPECIAL = sorted(vader.SPECIAL_CASES) + sorted(vader.SENTIMENT_LADEN_IDIOMS)
STRUCTURE = ["but", "BUT", "never", "so", "this", "at", "least", "very", "no", "or", "nor",
             "without", "doubt", "kind", "of", "sort", "just", "enough", "yeah", "right", "kiss",
             "death", "bus", "stop", "the", "isn't", "don't", "wasn't", "aint", "n't", "won't"]
RISK = [t.strip() for t in classifier.RISK_TERMS] + ["quite", "leaks", "Sue", "GDPR", "ſue",
                                                    "threats", "resigned", "K"]
NEUTRAL = ["export", "report", "team", "the", "a", "we", "it", "is", "to", "quarterly", "csv",
           "release", "meeting", "roadmap", "and", "with", "for", "on", "today", "I'm"]
EMOJI = ["😀", "😡", "💘", "😢", "👍", "😭", "é", "—"]
PUNCTUATION = ["!", "?", "!!", "???", "!!!!!", ".", ",", ":)", ":(", ";)", ":-(", "...", "'", '"']


def vader_assessment(text: str) -> classifier.Assessment:
    """The assessment with VADER always run (what the classifier did before the skip)."""
    text = text[:5000]
    compound = analyzer.polarity_scores(text)["compound"]
    terms = sorted({m.lower() for m in classifier._RISK.findall(text)})
    score = (classifier.SENTIMENT_WEIGHT * max(0.0, -compound)
             + min(classifier.RISK_CAP, classifier.RISK_WEIGHT * len(terms)))
    return classifier.Assessment(round(score, 4), max(0.0, -compound), terms)


def shaped(word: str, shape: int) -> str:
    return (word, word.upper(), word.capitalize(), word + "!", "(" + word + ")",
            word + ",", "'" + word + "'")[shape]


def texts(pools, max_size=25):
    word = st.tuples(st.sampled_from(pools), st.integers(0, 6)).map(lambda p: shaped(*p))
    separator = st.sampled_from([" ", "  ", "\n", " - ", ", "])
    return st.lists(st.tuples(word, separator), min_size=0, max_size=max_size).map(
        lambda parts: "".join(w + s for w, s in parts))


MOSTLY_SAFE = POSITIVE[:400] + NEUTRAL * 20 + BOOSTERS + STRUCTURE + PUNCTUATION
EVERYTHING = MOSTLY_SAFE + NEGATIVE[:400] + SPECIAL + EMOJI + RISK


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts(MOSTLY_SAFE))
def test_skip_gives_vaders_assessment_on_mostly_positive_texts(text):
    assert classifier.assess(text) == vader_assessment(text)
    assert classifier.compound(text) == analyzer.polarity_scores(text)["compound"]
    if classifier.cannot_be_negative(text):
        assert analyzer.polarity_scores(text)["compound"] >= 0


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts(EVERYTHING))
def test_skip_gives_vaders_assessment_on_any_words(text):
    assert classifier.assess(text) == vader_assessment(text)
    assert classifier.compound(text) == analyzer.polarity_scores(text)["compound"]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=string.printable + "😀😡éſK", max_size=200))
def test_skip_gives_vaders_assessment_on_arbitrary_characters(text):
    assert classifier.assess(text) == vader_assessment(text)
    assert classifier.compound(text) == analyzer.polarity_scores(text)["compound"]


REALISTIC = [
    "Great work on the release, the new dashboard is really helpful. Thanks!",
    "How do I export the quarterly report to CSV? Thanks!",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "Love it :) see you at the meeting",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "Yeah right, that will work.",
    "It was the kiss of death for the project.",
    "This is unacceptable. The export has been broken for three weeks.",
    "Not bad at all",
    "Sentiment analysis has never been this good!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "It is almost good enough, just enough for now.",
    "No good deed",
    "I can't stand it",
    "Catch utf-8 emoji such as 💘 and 😡",
    "The bus stop is nice",
    "Sure, happy to help with the roadmap review on Friday.",
    "",
    "!!!",
]


def test_skip_on_realistic_texts():
    skipped = [text for text in REALISTIC if classifier.cannot_be_negative(text)]
    for text in REALISTIC:
        assert classifier.assess(text) == vader_assessment(text), text
        assert classifier.compound(text) == analyzer.polarity_scores(text)["compound"], text
    # The skip is taken where it can be, and refused wherever VADER could turn negative.
    assert "Great work on the release, the new dashboard is really helpful. Thanks!" in skipped
    assert "Sure, happy to help with the roadmap review on Friday." in skipped
    for text in ("Yeah right, that will work.", "It was the kiss of death for the project.",
                 "At least it isn't a horrible book.", "The book was only kind of good.",
                 "Roger Dodger is one of the least compelling variations on this theme.",
                 "It is almost good enough, just enough for now.", "No good deed",
                 "Catch utf-8 emoji such as 💘 and 😡", "Not bad at all"):
        assert text not in skipped, text


def test_every_token_that_can_turn_a_valence_negative_refuses_the_skip():
    for token in [*vader.NEGATE, "least", "kind", "sort", "enough", "yeah", "kiss", "no",
                  "kinda", "sorta", "barely", "hardly", "almost", "slightly", "don't", "Isn't",
                  *NEGATIVE[:300]]:
        if list(classifier._tokens(token)) != [token.lower()]:
            continue  # e.g. "^urs": VADER's tokens never hold it (stripped to "urs")
        assert not classifier.cannot_be_negative(f"good {token} great"), token


@settings(max_examples=2000, deadline=None)
@given(texts(RISK + NEUTRAL + POSITIVE[:100], max_size=12))
def test_risk_terms_skip_gives_the_regular_expressions_terms(text):
    expected = sorted({match.lower() for match in classifier._RISK.findall(text)})
    assert classifier.risk_terms(text) == expected


def test_risk_terms_found_whatever_the_case():
    assert classifier.risk_terms("We will SUE you. Data Loss again!") == ["data loss", "sue"]
    assert classifier.risk_terms("Thanks, the export works fine") == []
    assert classifier.risk_terms("quite") == ["quit"]  # terms match as a word's start
    assert classifier.risk_terms("ſue them") == classifier._RISK.findall("ſue them") != []


def test_no_emoji_is_ascii():
    """What the skip and the emoji pass's removal rest on: VADER leaves ASCII text as it is."""
    assert analyzer.emojis and not any(emoji.isascii() for emoji in analyzer.emojis)
    assert classifier._known_vader()
