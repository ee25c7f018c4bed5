"""Sentence embeddings for similarity: WordLlama (static token embeddings), CPU only, no runtime.

The model is a table of token vectors: WordLlama `l2_supercat` at 256 dimensions (MIT), whose
weights (`weights/l2_supercat_256.safetensors`, 16 MB) and tokenizer (the Llama 2 SentencePiece
BPE vocabulary, 32,000 tokens, `tokenizers/l2_supercat_tokenizer_config.json`) come inside the
`wordllama` package; nothing is downloaded at run time. The package is not imported (its loader
looks for the tokenizer in a folder the wheel does not have and would then try to download it):
only its two files are read, with `safetensors` and `tokenizers`. The pipeline is the model's own
(`WordLlamaInference.embed`): tokens without special tokens, the mean of their vectors, L2
normalisation, so a dot product is the cosine. A text costs a table lookup and a mean (well under
a millisecond), so the whole title and body are embedded, up to MAX_TOKENS tokens. Without the
packages `available()` is False and similarity stays lexical.
"""
import hashlib
import importlib.util
import threading
from contextlib import contextmanager
from pathlib import Path

MODEL_ID = "wordllama-l2-supercat-256"
DIMENSIONS = 256
# Bounds a request's cost on a very long draft; the SemEval questions (title and body) are shorter.
MAX_TOKENS = 512
WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"

_lock = threading.Lock()
_state: dict = {}


def _files() -> tuple[Path, Path] | None:
    spec = importlib.util.find_spec("wordllama")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    weights, tokenizer = root / WEIGHTS, root / TOKENIZER
    return (weights, tokenizer) if weights.is_file() and tokenizer.is_file() else None


def available() -> bool:
    if "available" not in _state:
        try:
            import numpy  # noqa: F401
            import safetensors  # noqa: F401
            import tokenizers  # noqa: F401
            _state["available"] = _files() is not None
        except ImportError:
            _state["available"] = False
    return _state["available"]


@contextmanager
def switched_off():
    """Without the semantic signal while inside (the search benchmark's anchor)."""
    saved = available()
    _state["available"] = False
    try:
        yield
    finally:
        _state["available"] = saved


def _load():
    if "table" in _state:
        return _state["tokenizer"], _state["table"]
    with _lock:
        if "table" not in _state:
            import numpy as np
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
            weights, tokenizer_file = _files()
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            table = np.ascontiguousarray(load_file(str(weights))["embedding.weight"],
                                         dtype=np.float32)
            _state["tokenizer"] = tokenizer
            _state["table"] = table
    return _state["tokenizer"], _state["table"]


def thread_text(title: str, body: str) -> str:
    """What is embedded for a thread or a draft: its title, then its body."""
    return f"{title}\n{body or ''}"


def content_hash(text: str) -> str:
    """Names the vector of this text by this model and truncation (a change of either re-embeds)."""
    return hashlib.sha256(f"{MODEL_ID}/{MAX_TOKENS}\n{text}".encode()).hexdigest()


def encode(texts: list[str]):
    """Unit vectors (numpy float32, len(texts) x DIMENSIONS): the mean of each text's first
    MAX_TOKENS token vectors, normalised (a text without tokens gets the zero vector)."""
    import numpy as np
    tokenizer, table = _load()
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return vectors
    for row, encoded in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        ids = np.clip(np.asarray(encoded.ids[:MAX_TOKENS], dtype=np.int64), 0, len(table) - 1)
        if len(ids):
            mean = table[ids].mean(axis=0)
            vectors[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return vectors


def to_bytes(vector) -> bytes:
    import numpy as np
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes):
    import numpy as np
    return np.frombuffer(blob, dtype="<f4")
