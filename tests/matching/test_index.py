"""Every index type against exact brute force on random data; add/update/remove."""

from __future__ import annotations

import numpy as np
import pytest

from matching.encoders import l2_normalise
from matching.index import VectorIndex


def brute(vecs: np.ndarray, rows: np.ndarray, q: np.ndarray, k: int) -> list[list[int]]:
    sims = q @ vecs.T
    return [rows[np.argsort(-s, kind="stable")[:k]].tolist() for s in sims]


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    return l2_normalise(centres[rng.integers(0, 20, n)] + 0.6 * rng.normal(size=(n, dim)))


@pytest.mark.parametrize("kind", ["exact", "flat", "hnsw", "auto"])
def test_index_matches_brute_force(kind: str) -> None:
    dim, n, k = 32, 6000, 10
    vecs = clustered(n, dim)
    rows = np.arange(1000, 1000 + n)
    index = VectorIndex(dim, kind=kind, hnsw_threshold=3000)
    index.add(rows, vecs)
    queries = clustered(50, dim, seed=1)
    _, got = index.search(queries, k)
    want = brute(vecs, rows, queries, k)
    recall = np.mean([len(set(g) & set(w)) / k for g, w in zip(got.tolist(), want, strict=True)])
    assert recall >= (1.0 if kind in {"exact", "flat"} else 0.97)


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_add_update_remove_without_rebuild(kind: str) -> None:
    dim = 16
    vecs = clustered(7000, dim)
    index = VectorIndex(dim, kind=kind)
    index.add(np.arange(7000), vecs)
    index.search(vecs[:1], 5)  # builds the graph for hnsw
    target = vecs[3]
    # update: row 5 becomes an exact copy of row 3's vector
    index.add([5], target[None, :])
    _, got = index.search(target[None, :], 2)
    assert set(got[0].tolist()) == {3, 5}
    index.remove([3])
    assert 3 not in index and len(index) == 6999
    _, got = index.search(target[None, :], 1)
    assert got[0, 0] == 5
    index.add([99999], -target[None, :])
    assert 99999 in index and len(index) == 7000


def test_allowed_mask_applies_during_search() -> None:
    dim, n = 16, 8000
    vecs = clustered(n, dim)
    index = VectorIndex(dim, kind="hnsw")
    index.add(np.arange(n), vecs)
    allowed = np.zeros(n, dtype=bool)
    allowed[::97] = True  # ~1% of rows: a selective filter must still return k rows
    _, got = index.search(vecs[:3], 10, allowed)
    assert (got >= 0).all() and allowed[got].all()
    want = brute(vecs[allowed], np.nonzero(allowed)[0], vecs[:3], 10)
    assert got.tolist() == want
    allowed[:] = True
    allowed[::2] = False  # half the rows: the HNSW path with a selector
    _, got = index.search(vecs[:20], 10, allowed)
    assert allowed[got[got >= 0]].all()


def test_state_roundtrip_and_empty() -> None:
    index = VectorIndex(8)
    _, r = index.search(np.ones((1, 8), np.float32), 3)
    assert (r == -1).all()
    vecs = clustered(50, 8)
    index.add(np.arange(50) * 3, vecs)
    index.remove([0, 3])
    state = index.state()
    again = VectorIndex.from_state(8, state["vectors"], state["rows"])
    assert sorted(again.rows().tolist()) == sorted(index.rows().tolist())
    assert np.allclose(again.search(vecs[5:6], 5)[0], index.search(vecs[5:6], 5)[0])


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError):
        VectorIndex(4).add([1, 1], np.ones((2, 4), np.float32))
