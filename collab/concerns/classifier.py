"""How worrying a text is: VADER sentiment (vaderSentiment, made for short social texts) plus
complaint and risk words. The weights and the threshold live here, in one place."""
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache

THRESHOLD = 0.5    # a thread at or above opens a concern
FLAG_WEIGHT = 0.5  # each member's explicit "concern" flag
SENTIMENT_WEIGHT = 0.8  # times the negative part of VADER's compound score (0..1)
RISK_WEIGHT, RISK_CAP = 0.5, 0.8  # one risk word alone opens a concern
# Words and stems that signal a complaint or a risk whatever the tone (matched as word prefixes).
RISK_TERMS = (
    "unacceptable", "complain", "complaint", "frustrat", "disappoint", "furious", "angry",
    "escalat", "lawsuit", "legal action", "lawyer", "sue ", "breach", "leak", "exposed",
    "data loss", "lost data", "outage", "down again", "still broken", "broken again", "unsafe",
    "injur", "harass", "discriminat", "threat", "fraud", "cancel our", "cancel my", "churn",
    "refund", "compensation", "violat", "gdpr", "non-compliant", "noncompliant", "burnout",
    "burned out", "quit", "resign", "toxic", "ignored", "no response", "nobody answers",
    "weeks without", "deadline missed", "penalt", "fine us",
)
_RISK = re.compile(r"\b(" + "|".join(re.escape(t.strip()) for t in RISK_TERMS) + r")", re.I)
_RISK_STEMS = tuple(t.strip().lower() for t in RISK_TERMS)


def risk_terms(text: str) -> list[str]:
    """The risk terms `text` holds (sorted, lower-case). An ASCII text that holds none of them
    as a substring (lower-cased) cannot match, so the regular expression is not run: re.I's
    case folding equals str.lower's on ASCII (not on all Unicode: "ſ" matches "s")."""
    if text.isascii():
        lower = text.lower()
        if not any(stem in lower for stem in _RISK_STEMS):
            return []
    return sorted({match.lower() for match in _RISK.findall(text)})


@dataclass
class Assessment:
    score: float
    negativity: float  # the negative part of VADER's compound score, 0..1
    risk_terms: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _known_vader() -> bool:
    """The skips below follow vaderSentiment 3.3.2's source (pinned); another version runs
    VADER's own polarity_scores on every text until they are checked against it."""
    from importlib.metadata import version

    return version("vaderSentiment") == "3.3.2"


@lru_cache(maxsize=1)
def _negative_tokens() -> frozenset[str]:
    """Every token through which VADER (vaderSentiment 3.3.2) can give a word a negative valence.

    A lexicon word's valence starts at its (non-zero) lexicon value and only turns negative
    through: a negative lexicon value; "no" before it (itself a negative word); a negation word
    within three before it (NEGATE, or any token with "n't", checked apart); "least" before it;
    a decrement booster within three before it ("almost", "kinda", ..., and the bigrams
    "kind of", "sort of", "just enough": "kind", "sort", "enough"); the negative special cases
    ("yeah right", "kiss of death": "yeah", "kiss"). Everything else VADER does keeps a positive
    valence positive (increment boosters, ALL CAPS, "never so", the other special cases) or
    scales every valence by a positive factor (a "but" clause), and "!"/"?" only amplify the
    sum's sign; so without these tokens the compound score is >= 0 and its negative part 0.
    """
    from vaderSentiment import vaderSentiment as vader

    lexicon = _analyzer().lexicon
    decrements = {word for phrase, value in vader.BOOSTER_DICT.items() if value < 0
                  for word in phrase.split()} - {"of", "just"}
    return frozenset({word for word, value in lexicon.items() if value <= 0}
                     | set(vader.NEGATE) | decrements | {"least", "kind", "sort", "enough",
                                                         "yeah", "kiss", "no"})


def _tokens(text: str):
    """VADER's tokens, lower-cased (SentiText: split, strip punctuation unless that leaves two
    characters or fewer)."""
    for token in text.lower().split():
        stripped = token.strip(string.punctuation)
        yield stripped if len(stripped) > 2 else token


def cannot_be_negative(text: str) -> bool:
    """True when VADER's compound score of `text` is provably >= 0 (no need to run it): ASCII
    (VADER replaces emoji by descriptions; no emoji is ASCII) and no token of _negative_tokens."""
    return (_known_vader() and text.isascii() and "n't" not in text.lower()
            and _negative_tokens().isdisjoint(_tokens(text)))


def compound(text: str) -> float:
    """VADER's compound score (SentimentIntensityAnalyzer.polarity_scores), without its first
    pass on ASCII text: that pass copies the text character by character to replace emoji by
    their descriptions, and no emoji is ASCII."""
    analyzer = _analyzer()
    if not (text.isascii() and _known_vader()):
        return analyzer.polarity_scores(text)["compound"]
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    text = text.strip()
    sentitext = SentiText(text)
    sentiments = []
    words = sentitext.words_and_emoticons
    for i, item in enumerate(words):
        lower = item.lower()
        if lower in BOOSTER_DICT or (i < len(words) - 1 and lower == "kind"
                                     and words[i + 1].lower() == "of"):
            sentiments.append(0)
            continue
        sentiments = analyzer.sentiment_valence(0, sentitext, item, i, sentiments)
    sentiments = analyzer._but_check(words, sentiments)
    return analyzer.score_valence(sentiments, text)["compound"]


def negativity(text: str) -> float:
    """The negative part of VADER's compound score (0..1); VADER runs only when it can be > 0."""
    if cannot_be_negative(text):
        return 0.0
    return max(0.0, -compound(text))


def assess(text: str) -> Assessment:
    text = text[:5000]
    negative = negativity(text)
    terms = risk_terms(text)
    score = SENTIMENT_WEIGHT * negative + min(RISK_CAP, RISK_WEIGHT * len(terms))
    return Assessment(round(score, 4), negative, terms)
