"""Optional on-disk cache of document/query embeddings (OIMS_EMBED_CACHE=directory).

Keyed by encoder name, side and a hash of the text, so repeated evaluation runs
and rebuilds skip the slow encoder. Never used unless the variable is set.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from .encoders import Encoder

logger = logging.getLogger(__name__)


class CachedEncoder:
    def __init__(self, inner: Encoder, directory: Path | str) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._mem: dict[str, dict[str, np.ndarray]] = {}

    def _file(self, side: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.name)
        return self.directory / f"{safe}.{side}.npz"

    def _table(self, side: str) -> dict[str, np.ndarray]:
        if side not in self._mem:
            table: dict[str, np.ndarray] = {}
            path = self._file(side)
            if path.exists():
                with np.load(path) as z:
                    table = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
            self._mem[side] = table
        return self._mem[side]

    def _encode(self, texts: list[str], side: str) -> np.ndarray:
        table = self._table(side)
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in table}.items())
        if todo:
            fn = self.inner.encode_queries if side == "q" else self.inner.encode_documents
            vecs = fn([t for _, t in todo])
            for (k, _), v in zip(todo, vecs, strict=True):
                table[k] = v
            tmp = self._file(side).with_suffix(".tmp.npz")
            np.savez(tmp, keys=np.array(list(table)), vectors=np.stack(list(table.values())))
            os.replace(tmp, self._file(side))
            logger.info("cached %d new %s embeddings", len(todo), side)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([table[k] for k in keys]).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "q")

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "d")


def maybe_cached(encoder: Encoder) -> Encoder:
    directory = os.environ.get("OIMS_EMBED_CACHE")
    if not directory:
        return encoder
    from .encoders import CombinedEncoder

    if isinstance(encoder, CombinedEncoder):  # cache each part: mixes reuse them
        return CombinedEncoder([(CachedEncoder(e, directory), w) for e, w in encoder.parts],
                               name=encoder.name)
    return CachedEncoder(encoder, directory)
