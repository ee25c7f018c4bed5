"""Similarity benchmark: how well related threads and similar drafts rank real, human-labelled questions.

    python benchmarks/similarity_benchmark.py [DATA_DIR] [--split dev|train-part2]
        [--es URL | --start-es] [--seeds 20] [--no-comments] [--database URL]

DATA_DIR (default ../shared/data/semeval2016-3b, relative to the repository) holds SemEval-2016
Task 3 subtask B (Qatar Living): for each original question, 10 candidate questions labelled
PerfectMatch / Relevant / Irrelevant. The benchmark loads the split into a fresh instance through
the public API (one community per original; each candidate a thread, its comments as posts),
then asks the shipped endpoints, on Elasticsearch and on the database fallback:

- similar: `POST /communities/{slug}/threads/similar` and `/ideas/similar` with the original as a
  draft (before it is posted);
- related: `GET /threads/{id}/related` with the original posted as a thread.

Scoring follows the data README (the official scorer's rules): MAP (a query without relevant
candidates scores 0 and counts), MRR, P@1; candidates an endpoint did not return are ranked last in
random order (mean over --seeds). Beside them, computed in the same run: the IR baseline (the
given RELQ_RANKING_ORDER), random order (mean of 200 seeds) and plain BM25 over each original's 10
candidates. The texts stay in the benchmark's temporary database; nothing is written elsewhere.
Not part of the test run.
"""
import argparse
import math
import random
import re
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collab import create_app  # noqa: E402
from collab.db import db  # noqa: E402
from collab.people import service as people  # noqa: E402
from collab.similarity import ranking  # noqa: E402
from search import client as search_client  # noqa: E402
from search import embeddings, indexer  # noqa: E402
from search.queries import ENGLISH_STOP_WORDS  # noqa: E402

SPLITS = {"dev": "SemEval2016-Task3-CQA-QL-dev.xml",
          "train-part2": "SemEval2016-Task3-CQA-QL-train-part2.xml"}
RELEVANT = {"PerfectMatch", "Relevant"}
DEFAULT_DATA = "../shared/data/semeval2016-3b"


def data_file(data: str, split: str) -> Path:
    """The split's XML under `data`, read relative to the working directory, else to the repository."""
    for base in (Path(data), ROOT / data, ROOT.parent / data):
        if (base / SPLITS[split]).is_file():
            return base / SPLITS[split]
    raise SystemExit(f"{SPLITS[split]} not found under {data} (pass the data directory)")


@dataclass
class Candidate:
    id: str
    order: int
    label: str
    subject: str
    body: str
    comments: list[str]
    thread_id: int | None = None

    @property
    def relevant(self) -> bool:
        return self.label in RELEVANT


@dataclass
class Original:
    id: str
    subject: str
    body: str
    candidates: list[Candidate] = field(default_factory=list)
    slug: str = ""
    thread_id: int | None = None


def _text(element, tag: str) -> str:
    found = element.find(tag)
    return " ".join((found.text or "").split()) if found is not None else ""


def load_split(path: Path) -> list[Original]:
    """Originals with their 10 candidates, in file order."""
    root = ElementTree.parse(path).getroot()
    originals = []
    for question in root.iter("OrgQuestion"):
        original_id = question.get("ORGQ_ID")
        if not originals or originals[-1].id != original_id:
            originals.append(Original(original_id, _text(question, "OrgQSubject"),
                                      _text(question, "OrgQBody")))
        thread = question.find("Thread")
        related = thread.find("RelQuestion")
        originals[-1].candidates.append(Candidate(
            related.get("RELQ_ID"), int(related.get("RELQ_RANKING_ORDER")),
            related.get("RELQ_RELEVANCE2ORGQ"), _text(related, "RelQSubject"),
            _text(related, "RelQBody"),
            [" ".join((c.findtext("RelCText") or "").split()) for c in thread.iter("RelComment")]))
    return originals


# Scoring (the official scorer's rules) -------------------------------------------------

def average_precision(ranked: list[bool]) -> float:
    hits, total = 0, 0.0
    for position, relevant in enumerate(ranked[:10], start=1):
        if relevant:
            hits += 1
            total += hits / position
    return total / hits if hits else 0.0


def reciprocal_rank(ranked: list[bool]) -> float:
    return next((1.0 / p for p, r in enumerate(ranked[:10], start=1) if r), 0.0)


def scores(rankings: list[list[bool]]) -> tuple[float, float, float]:
    n = len(rankings)
    return (sum(map(average_precision, rankings)) / n, sum(map(reciprocal_rank, rankings)) / n,
            sum(1.0 for r in rankings if r and r[0]) / n)


def completed(original: Original, returned_ids: list[int], rng: random.Random) -> list[bool]:
    """The endpoint's order, then the candidates it did not return in random order."""
    by_thread = {c.thread_id: c for c in original.candidates}
    seen = [by_thread[i] for i in dict.fromkeys(returned_ids) if i in by_thread]
    rest = [c for c in original.candidates if c not in seen]
    rng.shuffle(rest)
    return [c.relevant for c in seen + rest]


def mean_over_seeds(originals: list[Original], returned: dict[str, list[int]],
                    seeds: int) -> tuple[float, float, float]:
    totals = [0.0, 0.0, 0.0]
    for seed in range(seeds):
        rng = random.Random(seed)
        figures = scores([completed(o, returned.get(o.id, []), rng) for o in originals])
        totals = [t + f for t, f in zip(totals, figures)]
    return tuple(t / seeds for t in totals)


_WORD = re.compile(r"\w+")


def tokens(value: str) -> list[str]:
    return [w for w in _WORD.findall(value.lower()) if w not in ENGLISH_STOP_WORDS]


def bm25_order(original: Original, k1: float = 1.2, b: float = 0.75) -> list[Candidate]:
    """Plain BM25 of the original (subject and body) over its 10 candidates (IDF over the 10)."""
    docs = [Counter(tokens(f"{c.subject} {c.body}")) for c in original.candidates]
    lengths = [sum(d.values()) for d in docs]
    average = sum(lengths) / len(docs) or 1.0
    n = len(docs)
    query = tokens(f"{original.subject} {original.body}")

    def score(i: int) -> float:
        total = 0.0
        for term in query:
            df = sum(1 for d in docs if term in d)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = docs[i][term]
            total += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / average))
        return total

    order = sorted(range(n), key=lambda i: (-score(i), original.candidates[i].order))
    return [original.candidates[i] for i in order]


# Loading through the API --------------------------------------------------------------

def progress(label: str, done: int, total: int, began: float) -> None:
    rate = done / max(time.perf_counter() - began, 1e-9)
    end = "\n" if done == total else ""
    print(f"\r{label}: {done}/{total} ({rate:.1f}/s)", end=end, file=sys.stderr, flush=True)


class Api:
    def __init__(self, app, token: str):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, url: str, expect=(200, 201), **kwargs) -> dict:
        response = self.client.open(f"/api/v1{url}", method=method, headers=self.headers, **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.get_data(True)[:300]}")
        return response.get_json() if response.data else {}


def _title(value: str) -> str:
    return (value or "(no subject)")[:200]


def _body(value: str) -> str:
    return (value or "(no text)")[:100_000]


def load(api: Api, originals: list[Original], comments: bool, kind: str) -> None:
    began = time.perf_counter()
    for done, original in enumerate(originals, start=1):
        original.slug = f"semeval-{original.id.lower()}"
        api.call("POST", "/communities", json={
            "slug": original.slug, "name": f"SemEval {original.id}", "purpose": "benchmark",
            "visibility": "open", "audiences": ["employee"], "organizations": []})
        for candidate in original.candidates:
            thread = api.call("POST", f"/communities/{original.slug}/threads", json={
                "kind": kind, "title": _title(candidate.subject), "body": _body(candidate.body)})
            candidate.thread_id = thread["id"]
            for comment in candidate.comments if comments else []:
                if comment:
                    api.call("POST", f"/threads/{thread['id']}/posts", json={"body": comment})
        progress("loading candidates (communities)", done, len(originals), began)


def post_originals(api: Api, originals: list[Original], kind: str) -> None:
    for original in originals:
        thread = api.call("POST", f"/communities/{original.slug}/threads", json={
            "kind": kind, "title": _title(original.subject), "body": _body(original.body)})
        original.thread_id = thread["id"]


def sync(app) -> None:
    app.extensions["similarity_embedder"].wait()  # vectors of the threads just written
    if not app.config.get("ELASTICSEARCH_URL"):
        return
    with app.app_context():
        stats = indexer.drain(app)
        search_client.client(app).indices.refresh(index=search_client.settings(app).alias)
        db.session.remove()
    print(f"indexed {stats.documents} thread documents", file=sys.stderr)


def use_engine(app, engine: str, es_url: str | None) -> None:
    app.config["ELASTICSEARCH_URL"] = es_url if engine == "elasticsearch" else None
    app.extensions.pop("search_known_aliases", None)
    with app.app_context():
        search_client.breaker(app).reset()


def ask(api: Api, originals: list[Original], endpoint: str, engine: str,
        app=None) -> dict[str, list[int]]:
    """Each original's ranking from one endpoint: the returned thread ids, best first.

    An answer from the other engine (Elasticsearch timed out on a loaded machine and the request
    fell back) is asked again once the breaker is reset, up to 3 times; the count is printed.
    """
    returned, engines, began, retried = {}, Counter(), time.perf_counter(), 0
    for done, original in enumerate(originals, start=1):
        draft = {"title": _title(original.subject), "body": original.body, "limit": 10}
        for attempt in range(4):
            if endpoint == "related":
                answer = api.call("GET", f"/threads/{original.thread_id}/related",
                                  query_string={"limit": 10})
            elif endpoint == "threads/similar":
                answer = api.call("POST", f"/communities/{original.slug}/threads/similar", json=draft)
            else:
                answer = api.call("POST", f"/communities/{original.slug}/ideas/similar", json=draft)
            if answer["engine"] == engine or app is None or attempt == 3:
                break
            retried += 1
            with app.app_context():
                search_client.breaker(app).reset()
        engines[answer["engine"]] += 1
        returned[original.id] = [item["thread"]["id"] for item in answer["items"]]
        progress(f"{endpoint} on {engine}", done, len(originals), began)
    if retried:
        print(f"{endpoint} on {engine}: {retried} answers from the other engine asked again",
              file=sys.stderr)
    if set(engines) != {engine}:
        raise RuntimeError(f"{endpoint}: asked {engine}, answered by {dict(engines)}")
    return returned


def duplicate_scores(api: Api, originals: list[Original]) -> list[tuple[float, bool]]:
    """(score, PerfectMatch?) of every original-candidate pair from GET /duplicates (threshold 0)."""
    pairs, began = [], time.perf_counter()
    for done, original in enumerate(originals, start=1):
        answer = api.call("GET", f"/communities/{original.slug}/duplicates",
                          query_string={"threshold": 0.0, "limit": 100})
        scored = {}
        for item in answer["items"]:
            ends = {item["thread"]["id"], item["duplicate_of"]["id"]}
            if original.thread_id in ends:
                scored[(ends - {original.thread_id}).pop()] = item["score"]
        pairs += [(scored.get(c.thread_id, 0.0), c.label == "PerfectMatch")
                  for c in original.candidates]
        progress("duplicates", done, len(originals), began)
    return pairs


def precision_recall(pairs: list[tuple[float, bool]], threshold: float) -> tuple[float, float, float]:
    tp = sum(1 for s, y in pairs if s >= threshold and y)
    fp = sum(1 for s, y in pairs if s >= threshold and not y)
    fn = sum(1 for s, y in pairs if s < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def endpoint_exists(app, endpoint: str) -> bool:
    return any(rule.rule == f"/api/v1/communities/<slug>/{endpoint}" for rule in app.url_map.iter_rules())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--max-tokens", type=int, default=embeddings.MAX_TOKENS,
                        help="tokens of title and body embedded (search/embeddings.py MAX_TOKENS)")
    parser.add_argument("--es", help="Elasticsearch URL (else only the database engine runs)")
    parser.add_argument("--start-es", action="store_true",
                        help="start a dev node (python -m search.devnode) on a free port")
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database (default: temp SQLite)")
    parser.add_argument("--seeds", type=int, default=20,
                        help="seeds for the random order of unreturned candidates")
    parser.add_argument("--no-comments", action="store_true", help="candidates without their replies")
    parser.add_argument("--kind", default="idea", help="kind of the loaded threads (ideas/similar needs idea)")
    parser.add_argument("--weights", type=lambda v: [float(w) for w in v.split(",")],
                        help="also rank with these semantic weights (e.g. 0.3,0.5,0.7; "
                             "collab/similarity/ranking.py SEMANTIC_WEIGHT): tune on train-part2")
    parser.add_argument("--duplicate-thresholds", type=lambda v: [float(t) for t in v.split(",")],
                        help="also print duplicates' precision and recall at these thresholds")
    parser.add_argument("--model", choices=("minilm", "distilled"), default="minilm",
                        help="distilled: the static table distilled from MiniLM "
                             "(benchmarks/distilled_embeddings.py), swapped in for this run only")
    args = parser.parse_args()
    embeddings.MAX_TOKENS = args.max_tokens
    if args.model == "distilled":
        import distilled_embeddings
        distilled_embeddings.use(max_tokens=args.max_tokens)

    originals = load_split(data_file(args.data, args.split))
    print(f"{args.split}: {len(originals)} originals, "
          f"{sum(len(o.candidates) for o in originals)} candidates", file=sys.stderr)
    es_url, started = args.es, None
    if args.start_es and not es_url:
        from search.devnode import start_node, stop_node
        from tests.es_node import free_port
        port, data_dir = free_port(), tempfile.mkdtemp(prefix="similarity-es-")
        es_url, started = start_node(port, data_dir, heap="768m"), (port, data_dir)
    database = args.database or f"sqlite:///{tempfile.mkdtemp()}/similarity.db"
    prefix = f"similarity-{int(time.time())}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "AUTO_MIGRATE": True,
                      "ELASTICSEARCH_URL": es_url, "SEARCH_INDEX_PREFIX": prefix,
                      "SEARCH_SYNC_IN_PROCESS": False,
                      "RATELIMIT_ENABLED": False})  # one caller sends everything
    try:
        with app.app_context():
            user = people.create_user(None, handle="bench", email="bench@bench.test",
                                      audience="employee")
            _, token = people.issue_token(None, user.id, "similarity benchmark")
            db.session.remove()
        api = Api(app, token)
        load(api, originals, comments=not args.no_comments, kind=args.kind)
        sync(app)
        engines = ["elasticsearch", "database"] if es_url else ["database"]
        similar_endpoints = [e for e in ("threads/similar", "ideas/similar")
                             if endpoint_exists(app, e)]
        results: dict[tuple[str, str], dict[str, list[int]]] = {}
        # The shipped weight, then each of --weights (threads/similar and related only).
        weights = [None, *(args.weights or [])]

        def rank_with(endpoints: list[str]) -> None:
            shipped = ranking.SEMANTIC_WEIGHT
            try:
                for weight in weights:
                    ranking.SEMANTIC_WEIGHT = shipped if weight is None else weight
                    for engine in engines:
                        use_engine(app, engine, es_url)
                        for endpoint in endpoints if weight is None else endpoints[:1]:
                            label = endpoint if weight is None else f"{endpoint} (weight {weight:.2f})"
                            results[(label, engine)] = ask(api, originals, endpoint, engine, app)
            finally:
                ranking.SEMANTIC_WEIGHT = shipped

        rank_with(similar_endpoints)
        use_engine(app, "elasticsearch" if es_url else "database", es_url)
        post_originals(api, originals, args.kind)
        sync(app)
        rank_with(["related"])
        duplicates = duplicate_scores(api, originals)
    finally:
        if es_url:
            use_engine(app, "elasticsearch", es_url)
            with app.app_context():
                es = search_client.client(app)
                names = list(es.indices.get(index=f"{prefix}-content-v*", allow_no_indices=True))
                if names:
                    es.indices.delete(index=",".join(names))
        if started:
            from search.devnode import stop_node
            stop_node(*started)

    print(f"\nembedding: {args.model if args.model != 'minilm' else embeddings.MODEL_ID}, first {embeddings.MAX_TOKENS} tokens of title and body; "
          f"shipped semantic weight {ranking.SEMANTIC_WEIGHT}")
    print(f"\nSemEval-2016 3B {args.split}: {len(originals)} originals x 10 candidates "
          f"({'without' if args.no_comments else 'with'} replies); unreturned candidates ranked "
          f"last at random, mean of {args.seeds} seeds")
    print(f"{'ranking':46} {'MAP':>6} {'MRR':>6} {'P@1':>6} {'returned':>9} {'empty':>6}")
    reference = {
        "IR baseline (given order)": {o.id: [c for c in sorted(o.candidates, key=lambda c: c.order)]
                                      for o in originals},
        "BM25 over the 10 candidates": {o.id: bm25_order(o) for o in originals},
    }
    for name, orders in reference.items():
        figures = scores([[c.relevant for c in orders[o.id]] for o in originals])
        print(f"{name:46} {figures[0]:6.4f} {figures[1]:6.4f} {figures[2]:6.4f}")
    figures = mean_over_seeds(originals, {}, 200)
    print(f"{'random order (200 seeds)':46} {figures[0]:6.4f} {figures[1]:6.4f} {figures[2]:6.4f}")
    for (endpoint, engine), returned in results.items():
        figures = mean_over_seeds(originals, returned, args.seeds)
        counts = [len(set(returned[o.id]) & {c.thread_id for c in o.candidates}) for o in originals]
        print(f"{endpoint + ' on ' + engine:46} {figures[0]:6.4f} {figures[1]:6.4f} "
              f"{figures[2]:6.4f} {sum(counts) / len(counts):9.1f} "
              f"{sum(1 for c in counts if not c):6d}")
    default = ranking.DUPLICATE_THRESHOLD
    precision, recall, f1 = precision_recall(duplicates, default)
    print(f"\nduplicates (PerfectMatch = duplicate; original-candidate pairs from GET /duplicates):")
    print(f"  at the shipped threshold {default:.2f}: precision {precision:.3f}  recall {recall:.3f}"
          f"  F1 {f1:.3f}")
    for threshold in args.duplicate_thresholds or []:
        precision, recall, f1 = precision_recall(duplicates, threshold)
        print(f"  at {threshold:.2f}: precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    best = max((precision_recall(duplicates, t / 100)[2], t / 100) for t in range(1, 100))
    print(f"  F1-best threshold on this split: {best[1]:.2f} (F1 {best[0]:.3f}); calibrate on "
          f"train-part2, check on dev")
    print(f"(positives: {sum(c.relevant for o in originals for c in o.candidates)} of "
          f"{sum(len(o.candidates) for o in originals)}; PerfectMatch "
          f"{sum(c.label == 'PerfectMatch' for o in originals for c in o.candidates)})")


if __name__ == "__main__":
    main()
