"""Saving a `Matcher` collection to its directory and loading it back (`matching.store`
holds the file format). A mixin: `Matcher` keeps the state, this module the disk."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import store
from .index import VectorIndex
from .text import is_japanese

logger = logging.getLogger("matching.collection")  # the messages' historical logger


@dataclass
class _Item:
    texts: list[str]
    meta: dict[str, Any]
    rows: list[int]


class Persisted:
    """`save`, `reload` and change detection for a collection with a `directory`."""

    def save(self) -> dict[str, Any]:
        """Write the collection atomically; returns the manifest."""
        with self._lock:
            ids = sorted(self._items)
            rows: list[int] = []
            texts, metas, counts = [], [], []
            for item_id in ids:
                item = self._items[item_id]
                rows.extend(item.rows)
                texts.append(item.texts)
                metas.append(item.meta)
                counts.append(len(item.rows))
            vectors = (self._vectors.get(rows) if rows
                       else np.zeros((0, self.encoder.dim), np.float32))
            items = {"ids": ids, "texts": texts, "meta": metas, "counts": counts}
            manifest = store.write(self.directory, vectors.astype(np.float32),
                                   np.arange(len(rows), dtype=np.int64), items,
                                   self.encoder.name, self.encoder.dim)
            self._fingerprint = store.fingerprint(self.directory)
            return manifest

    @property
    def fingerprint(self) -> tuple[int, int, int]:
        """What this instance last loaded or saved; compare with `store.fingerprint(dir)`."""
        return self._fingerprint

    def changed_on_disk(self) -> bool:
        if self.directory is None:
            return False
        return store.fingerprint(self.directory) != self._fingerprint

    def reload(self) -> bool:
        """Load the saved collection (re-encoding it if another encoder built it)."""
        with self._lock:
            fp = store.fingerprint(self.directory)
            data = store.read(self.directory)
            if data is None:
                return False
            manifest, vectors, _rows, items = data
            self._reset()
            foreign = (manifest["encoder"], manifest["dim"]) != (self.encoder.name,
                                                                 self.encoder.dim)
            if foreign:
                logger.warning("index in %s was built by %s/%s; re-encoding with %s",
                               self.directory, manifest["encoder"], manifest["dim"],
                               self.encoder.name)
                self.upsert_many(zip(items["ids"], items["texts"], items["meta"], strict=True))
            else:
                offset = 0
                for item_id, texts, meta, n in zip(items["ids"], items["texts"], items["meta"],
                                                   items["counts"], strict=True):
                    rows = list(range(offset, offset + n))
                    self._row_item.extend([int(item_id)] * n)
                    self._row_doc.extend(range(n))
                    self._row_ja.extend(is_japanese(t) for t in texts)
                    for row, text in zip(rows, texts, strict=True):
                        self._lexicon.add(row, text)
                    self._items[int(item_id)] = _Item(list(texts), dict(meta), rows)
                    offset += n
                self._vectors = VectorIndex.from_state(
                    self.encoder.dim, vectors, np.arange(len(vectors), dtype=np.int64),
                    hnsw_threshold=self.hnsw_threshold)
            self._fingerprint = fp
            self.version = int(manifest.get("generation", 0))
            return True

    def reload_if_changed(self) -> bool:
        return self.reload() if self.changed_on_disk() else False
