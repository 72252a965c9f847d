"""Atomic on-disk format of a collection: one .npz (vectors + items) and a manifest.

Both files are written to a temporary name, fsynced and renamed, so a reader never
sees a half-written index. The manifest carries the encoder name, dimension, item
count, a content checksum and a generation counter; the checksum is verified on
load, so a truncated, edited or foreign file is detected instead of silently used.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "oims-matching/1"
DATA_FILE = "index.npz"
MANIFEST_FILE = "manifest.json"


class StaleIndexError(RuntimeError):
    """The on-disk index is corrupt, from another format, or built by another encoder."""


def checksum(vectors: np.ndarray, rows: np.ndarray, items_json: bytes) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(vectors).tobytes())
    h.update(np.ascontiguousarray(rows, dtype=np.int64).tobytes())
    h.update(items_json)
    return h.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Serialise writers from several processes on one directory."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_manifest(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write(directory: Path, vectors: np.ndarray, rows: np.ndarray, items: dict[str, Any],
          encoder: str, dim: int) -> dict[str, Any]:
    items_json = json.dumps(items, ensure_ascii=False, sort_keys=True).encode("utf-8")
    with locked(directory):
        previous = read_manifest(directory) or {}
        manifest = {
            "format": FORMAT, "encoder": encoder, "dim": dim, "count": len(items["ids"]),
            "vectors": len(rows), "checksum": checksum(vectors, rows, items_json),
            "generation": int(previous.get("generation", 0)) + 1, "saved_at": time.time(),
        }
        buf = io.BytesIO()
        np.savez(buf, vectors=vectors, rows=rows,
                 items=np.frombuffer(items_json, dtype=np.uint8),
                 manifest=np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8))
        _atomic_write(directory / DATA_FILE, buf.getvalue())
        _atomic_write(directory / MANIFEST_FILE, json.dumps(manifest, indent=1).encode())
    return manifest


def read(directory: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray, dict[str, Any]] | None:
    """(manifest, vectors, rows, items) or None when nothing was saved yet."""
    path = directory / DATA_FILE
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            manifest = json.loads(z["manifest"].tobytes())
            vectors, rows = z["vectors"], z["rows"]
            items_json = z["items"].tobytes()
    except Exception as exc:  # zipfile/json/KeyError: all mean "not a usable index"
        raise StaleIndexError(f"{path} is unreadable: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise StaleIndexError(f"{path} has format {manifest.get('format')!r}, expected {FORMAT}")
    if checksum(vectors, rows, items_json) != manifest.get("checksum"):
        raise StaleIndexError(f"{path} fails its checksum (corrupt or edited)")
    return manifest, vectors, rows, json.loads(items_json)


def fingerprint(directory: Path) -> tuple[int, int, int]:
    """Cheap change detector (one stat): differs after every save by any process."""
    try:
        st = os.stat(directory / DATA_FILE)
    except FileNotFoundError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_ino, st.st_size)
