"""Ranked lists cached per (query version, index generation), served stale while
a background thread refreshes them.

In Redis when OIMS_REDIS_URL is set (shared by every host), else in the
process's memory. Nothing here is needed for correctness: a miss computes the
list from the in-memory index and the stored query vector.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

TTL_SECONDS = 7 * 24 * 3600


class MemoryBackend:
    def __init__(self, size: int = 1024) -> None:
        self._data: OrderedDict[str, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str) -> str | None:
        try:
            value = self._redis.get(key)
        except Exception:
            log.warning("result cache unavailable", exc_info=True)
            return None
        return value.decode() if value is not None else None

    def set(self, key: str, value: str) -> None:
        try:
            self._redis.set(key, value, ex=TTL_SECONDS)
        except Exception:
            log.warning("result cache unavailable", exc_info=True)


def backend_for(url: str | None):
    return RedisBackend(url) if url else MemoryBackend()


def _dump(results: list) -> list:
    out = []
    for r in results:
        out.append({"id": r.id, "score": r.score, "probability": r.probability, "band": r.band,
                    "reasons": [dataclasses.asdict(x) for x in r.reasons]})
    return out


def _load(payload: list) -> list:
    from matching import Reason, Result

    return [Result(d["id"], d["score"], [Reason(**x) for x in d["reasons"]], d["probability"], d["band"])
            for d in payload]


class ResultCache:
    def __init__(self, backend, *, prefix: str = "oims:rank:v2:") -> None:  # v2: results carry probability and band
        self.backend = backend
        self.prefix = prefix
        self._refreshing: set[str] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oims-rank-refresh")
        # Decoded lists by key, with the stored text they came from: a page view reads two
        # lists of up to 100 results with their reasons; decoding them again on every view
        # cost more than the rest of the lookup. Results are never modified by their readers.
        self._decoded: OrderedDict[str, tuple[str, int, list]] = OrderedDict()
        self._decoded_size = 512

    def key(self, *parts) -> str:
        raw = json.dumps(parts, sort_keys=True, default=sorted, ensure_ascii=False)
        return self.prefix + hashlib.sha1(raw.encode()).hexdigest()

    def get_or_compute(self, key: str, generation: int, compute: Callable[[], list], *,
                       allow_stale: bool = True) -> list:
        """Fresh when cached at this generation or newer; stale ones are returned
        at once (allow_stale) and refreshed in the background."""
        raw = self.backend.get(key)
        if raw is not None:
            stored_generation, results = self._decode(key, raw)
            if stored_generation >= generation:
                return results
            if allow_stale:
                self._refresh(key, generation, compute)
                return results
        results = compute()
        self.backend.set(key, json.dumps({"g": generation, "r": _dump(results)}, ensure_ascii=False))
        return results

    def _decode(self, key: str, raw: str) -> tuple[int, list]:
        with self._lock:
            hit = self._decoded.get(key)
            if hit is not None and (hit[0] is raw or hit[0] == raw):
                self._decoded.move_to_end(key)
                return hit[1], hit[2]
        entry = json.loads(raw)
        results = _load(entry["r"])
        with self._lock:
            self._decoded[key] = (raw, entry["g"], results)
            self._decoded.move_to_end(key)
            while len(self._decoded) > self._decoded_size:
                self._decoded.popitem(last=False)
        return entry["g"], results

    def _refresh(self, key: str, generation: int, compute: Callable[[], list]) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def run():
            try:
                results = compute()
                self.backend.set(key, json.dumps({"g": generation, "r": _dump(results)},
                                                 ensure_ascii=False))
            except Exception:
                log.warning("background refresh of a ranked list failed", exc_info=True)
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        self._pool.submit(run)
