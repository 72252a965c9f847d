"""Index speed at 100k and 1M vectors: exact numpy, FAISS exact, FAISS HNSW (ours).

Prints latency (one query, top-10), recall@10 against exact search, memory and
build time, on vectors grown from real e5-small vectors (see `real_vectors`);
queries are held-out real vectors.

    python bench/matcher_index.py [--sizes 100000 1000000] [--queries 200] [--base-vectors X.npy]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matching.encoders import get_encoder, l2_normalise
from matching.index import VectorIndex

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
CACHE = Path(os.environ.get("OIMS_BENCH_CACHE", Path.home() / ".cache" / "oims-bench"))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_texts(limit: int) -> list[str]:
    out: list[str] = []
    for path in sorted(EVAL.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            out.extend(obj.get("texts", [obj.get("text", "")]))
    return sorted(set(out))[:limit]


def real_vectors(n: int, base_files: list[Path], n_real: int) -> tuple[np.ndarray, int]:
    """n vectors from real encoder output: the real ones, then mixtures of two real ones.

    Encoding 100k texts with e5-small takes hours on 2 cores, so the real vectors
    (the eval texts encoded by the default encoder, or given .npy files) are the
    seeds; each further vector is a normalised mix of two random seeds plus a little
    noise, which keeps the anisotropic shape of real embeddings that uniform random
    or synthetic-cluster data lacks.
    """
    if base_files:
        seeds = l2_normalise(np.concatenate([np.load(f) for f in base_files]))
    else:
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"e5_seeds_{n_real}.npy"
        if not path.exists():
            np.save(path, get_encoder().encode_documents(real_texts(n_real)))
        seeds = np.load(path)
    seeds = np.unique(seeds.round(5), axis=0).astype(np.float32)
    rng = np.random.default_rng(0)
    extra = max(0, n - len(seeds))
    i, j = rng.integers(0, len(seeds), (2, extra))
    a = rng.uniform(0.5, 1.0, (extra, 1)).astype(np.float32)
    mixed = l2_normalise(a * seeds[i] + (1 - a) * seeds[j]
                         + 0.01 * rng.normal(size=(extra, seeds.shape[1])).astype(np.float32))
    return np.concatenate([seeds, mixed])[:n], len(seeds)


def timeit(fn, queries: np.ndarray) -> tuple[float, np.ndarray]:
    fn(queries[:1])
    out, t = [], time.perf_counter()
    for q in queries:
        out.append(fn(q[None, :]))
    return (time.perf_counter() - t) / len(queries) * 1000, np.concatenate(out)


def bench(vecs: np.ndarray, queries: np.ndarray, k: int = 10) -> None:
    import faiss

    n, dim = vecs.shape
    print(f"\n## {n:,} vectors x {dim}")
    print("| method | build s | ms/query | recall@10 | memory MB |")
    print("|---|---|---|---|---|")

    def exact_np(q: np.ndarray) -> np.ndarray:
        s = vecs @ q[0]
        top = np.argpartition(-s, k)[:k]
        return top[np.argsort(-s[top])][None, :]

    ms_np, truth = timeit(exact_np, queries)
    print(f"| exact numpy | 0 | {ms_np:.2f} | 1.000 | {vecs.nbytes / 2**20:.0f} |")

    before = rss_mb()
    t = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(vecs)
    build = time.perf_counter() - t
    ms, got = timeit(lambda q: flat.search(q, k)[1], queries)
    rec = np.mean([len(set(a) & set(b)) / k for a, b in zip(got, truth, strict=True)])
    print(f"| FAISS IndexFlatIP | {build:.1f} | {ms:.2f} | {rec:.3f} | {rss_mb() - before:.0f} |")
    flat.reset()
    gc.collect()

    before = rss_mb()
    t = time.perf_counter()
    index = VectorIndex(dim, kind="hnsw")
    index.add(np.arange(n), vecs)
    index.search(queries[:1], k)  # builds the graph
    build = time.perf_counter() - t
    mem = rss_mb() - before
    for ef in (64, 128, 256):
        index.ef_search = ef
        ms, got = timeit(lambda q: index.search(q, k)[1], queries)
        rec = np.mean([len(set(a) & set(b)) / k for a, b in zip(got, truth, strict=True)])
        print(f"| HNSW-SQ8 M=32 efC=128 efS={ef} + fp16 re-score (ours) | {build:.0f} | "
              f"{ms:.2f} | {rec:.3f} | {mem:.0f} |")
    print(f"speed-up over exact numpy at efS=256: {ms_np / ms:.1f}x; process RSS {rss_mb():.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--base-vectors", type=Path, nargs="*", default=[],
                    help=".npy files of real encoder vectors (default: encode the eval texts)")
    ap.add_argument("--real", type=int, default=5000, help="eval texts to encode as seeds")
    args = ap.parse_args()
    for n in args.sizes:
        vecs, n_seeds = real_vectors(n + args.queries, args.base_vectors, args.real)
        rng = np.random.default_rng(1)
        qidx = rng.choice(n_seeds, args.queries, replace=False)  # queries: real vectors
        queries = vecs[qidx].copy()
        vecs = np.delete(vecs, qidx, axis=0)[:n]
        print(f"\n{n_seeds} real seed vectors; queries are {args.queries} held-out real ones")
        bench(np.ascontiguousarray(vecs), queries)
        del vecs
        gc.collect()


if __name__ == "__main__":
    main()
