"""How worrying a text is: VADER sentiment (vaderSentiment, made for short social texts) plus
complaint and risk words. The weights and the threshold live here, in one place."""
import re
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


@dataclass
class Assessment:
    score: float
    sentiment: float  # VADER compound, -1..1
    risk_terms: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def assess(text: str) -> Assessment:
    text = text[:5000]
    compound = _analyzer().polarity_scores(text)["compound"]
    terms = sorted({match.lower() for match in _RISK.findall(text)})
    score = SENTIMENT_WEIGHT * max(0.0, -compound) + min(RISK_CAP, RISK_WEIGHT * len(terms))
    return Assessment(round(score, 4), compound, terms)
