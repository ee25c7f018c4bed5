"""Lexical similarity shared by both engines: the same analysis and Lucene's BM25, in Python.

Elasticsearch scores `queries.similar_body` with BM25 over title and body; the database
fallback finds the threads sharing a word (FTS5 / tsvector) and scores them here with the same
formula, field boosts and query terms, so an outage changes the order little. Duplicate pairs use
a bounded score (TF-IDF cosine of title and body) so one threshold fits every community.
"""
import math
import re
from collections import Counter
from dataclasses import dataclass

import snowballstemmer

from search.queries import ENGLISH_STOP_WORDS

# Field boosts of the similarity query (both engines; README "Related and similar threads"). Replies
# are not scored: they cost most of the query on a large index (every reply's words on the thread
# document) for a dev MAP within 0.001 of scoring them (benchmarks/similarity_benchmark.py).
TITLE_BOOST, BODY_BOOST = 2.0, 1.0
# Lucene's BM25 defaults, as Elasticsearch uses them.
K1, B = 1.2, 0.75
# The draft's first distinct significant words: bounds the query's cost on a large index.
MAX_QUERY_TERMS = 64

_WORD = re.compile(r"\w+")
_stemmer = snowballstemmer.stemmer("porter")


def analyze(text: str) -> list[str]:
    """Lowercased words without English stop words, Porter-stemmed (the `content` analyzer's idea)."""
    return _stemmer.stemWords([w for w in _WORD.findall(text.lower())
                               if len(w) > 1 and w not in ENGLISH_STOP_WORDS])


def query_words(text: str) -> list[str]:
    """The draft's distinct significant words (one per stem), in order, at most MAX_QUERY_TERMS."""
    chosen: dict[str, str] = {}
    for word in _WORD.findall(text.lower()):
        if word in ENGLISH_STOP_WORDS or len(word) < 2:
            continue
        chosen.setdefault(_stemmer.stemWord(word), word)
        if len(chosen) == MAX_QUERY_TERMS:
            break
    return list(chosen.values())


@dataclass
class Candidate:
    thread_id: int
    title: str
    body: str


def bm25(query: list[str], candidates: list[Candidate], total_threads: int) -> dict[int, float]:
    """Lucene BM25 summed over title and body with their boosts; df from the candidates.

    The candidates are every thread of the scope sharing a word with the query (or the best of
    them), so their document frequencies are the scope's for the query's terms.
    """
    terms = list(dict.fromkeys(analyze(" ".join(query))))
    fields = {"title": TITLE_BOOST, "body": BODY_BOOST}
    analyzed = {name: [Counter(analyze(getattr(c, name))) for c in candidates] for name in fields}
    scores = {c.thread_id: 0.0 for c in candidates}
    for name, boost in fields.items():
        docs = analyzed[name]
        lengths = [sum(d.values()) for d in docs]
        with_field = sum(1 for n in lengths if n) or 1
        average = (sum(lengths) / with_field) or 1.0
        documents = max(total_threads, with_field)
        for term in terms:
            df = sum(1 for d in docs if term in d)
            if not df:
                continue
            idf = math.log(1 + (documents - df + 0.5) / (df + 0.5))
            for candidate, doc, length in zip(candidates, docs, lengths):
                tf = doc.get(term, 0)
                if tf:
                    scores[candidate.thread_id] += boost * idf * tf / (
                        tf + K1 * (1 - B + B * length / average))
    return scores


# Weight of the embedding cosine against BM25 once both are min-max normalised over the candidates;
# tuned on SemEval-2016 3B train-part2 (0.4-0.8 all beat either signal alone), checked on dev.
SEMANTIC_WEIGHT = 0.6


def _normalised(scores: dict[int, float], ids: list[int], missing: float) -> dict[int, float]:
    values = {i: scores.get(i, missing) for i in ids}
    low, high = min(values.values()), max(values.values())
    span = high - low
    return {i: (v - low) / span if span > 0 else 0.0 for i, v in values.items()}


def fuse(lexical: dict[int, float], semantic: dict[int, float],
         weight: float | None = None) -> list[tuple[int, float]]:
    """Candidates of either list, best first, by a weighted blend of min-max normalised scores.

    A candidate missing from the BM25 list shares no word (or ranks below its pool): BM25 0. One
    missing from the semantic list is at most as near as the list's last: its lowest cosine. The
    blend lies in [0, 1]; ties go to the newer thread.
    """
    ids = list(dict.fromkeys([*lexical, *semantic]))
    if not ids:
        return []
    if weight is None:
        weight = SEMANTIC_WEIGHT
    if not semantic:
        weight = 0.0
    lex = _normalised(lexical, ids, 0.0)
    sem = _normalised(semantic, ids, min(semantic.values()) if semantic else 0.0)
    blended = {i: (1 - weight) * lex[i] + weight * sem[i] for i in ids}
    return sorted(blended.items(), key=lambda p: (-p[1], -p[0]))


def tfidf_vectors(texts: dict[int, str]) -> dict[int, dict[str, float]]:
    """Unit TF-IDF vectors of these texts (log tf, IDF over these texts)."""
    bags = {i: Counter(analyze(t)) for i, t in texts.items()}
    n = len(bags)
    df = Counter(term for bag in bags.values() for term in bag)
    vectors = {}
    for i, bag in bags.items():
        weights = {t: (1 + math.log(tf)) * math.log(1 + n / df[t]) for t, tf in bag.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors[i] = {t: w / norm for t, w in weights.items()}
    return vectors


def _tfidf_pairs(vectors: dict[int, dict[str, float]], threshold: float) -> dict[tuple[int, int], float]:
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, vector in vectors.items():
        for term, weight in vector.items():
            postings.setdefault(term, []).append((i, weight))
    pairs = {}
    for i, vector in vectors.items():
        dots: Counter = Counter()
        for term, weight in vector.items():
            for j, other in postings[term]:
                if j > i:
                    dots[j] += weight * other
        pairs.update({(i, j): score for j, score in dots.items() if score >= threshold})
    return pairs


def cosine_pairs(texts: dict[int, str], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs of threads whose TF-IDF cosine (IDF over these threads) is at least `threshold`."""
    pairs = _tfidf_pairs(tfidf_vectors(texts), threshold)
    return sorted(((i, j, s) for (i, j), s in pairs.items()), key=lambda p: (-p[2], p[0], p[1]))


def duplicate_pairs(texts: dict[int, str], vectors: dict | None,
                    threshold: float) -> list[tuple[int, int, float]]:
    """Pairs whose duplicate score is at least `threshold`, best first.

    score = (TF-IDF cosine + embedding cosine) / 2, floored at 0; TF-IDF alone without vectors.
    A pair at or above the threshold has one of its two cosines at or above it, so only those
    pairs are scored (the embedding cosines of the window are one matrix product). A thread whose
    vector is not stored yet is scored by its TF-IDF cosine alone.
    """
    if vectors is None:
        return cosine_pairs(texts, threshold)
    import numpy as np
    lexical = tfidf_vectors(texts)
    pairs = _tfidf_pairs(lexical, threshold)
    ids = sorted(texts)
    width = len(next(iter(vectors.values()))) if vectors else 1
    missing = np.zeros(width, dtype=np.float32)
    matrix = (np.stack([vectors.get(i, missing) for i in ids]) if ids
              else np.zeros((0, 1), dtype=np.float32))
    semantic = matrix @ matrix.T
    rows, columns = np.nonzero(np.triu(semantic >= threshold, k=1))
    for a, b in zip(rows.tolist(), columns.tolist()):
        key = (ids[a], ids[b])
        if key not in pairs:
            small, large = sorted((lexical[key[0]], lexical[key[1]]), key=len)
            pairs[key] = sum(w * large.get(t, 0.0) for t, w in small.items())
    position = {i: n for n, i in enumerate(ids)}
    scored = []
    for (i, j), lexical_score in pairs.items():
        if i in vectors and j in vectors:
            score = max(0.0, (lexical_score + float(semantic[position[i], position[j]])) / 2)
        else:
            score = lexical_score
        if score >= threshold:
            scored.append((i, j, min(score, 1.0)))
    return sorted(scored, key=lambda p: (-p[2], p[0], p[1]))


# Duplicate pairs: the blended score at or above this (TF-IDF cosine alone: LEXICAL_DUPLICATE_...);
# the F1-best thresholds for PerfectMatch pairs on SemEval-2016 3B train-part2
# (benchmarks/similarity_benchmark.py reports precision and recall).
DUPLICATE_THRESHOLD = 0.39
LEXICAL_DUPLICATE_THRESHOLD = 0.14
