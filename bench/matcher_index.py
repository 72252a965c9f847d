"""Index speed at 100k and 1M vectors: exact numpy, FAISS exact, FAISS HNSW (ours).

Prints latency (one query, top-10), recall@10 against exact search, memory and
build time. The 100k set is made of *real* encoder vectors (sentences and sentence
pairs from ../shared/eval encoded by the packaged USE encoder, cached in
~/.cache/oims-bench); the 1M set adds noise-perturbed copies of them, since 1M real
texts are not available offline — memory does not depend on the distribution.

    python bench/matcher_index.py [--sizes 100000 1000000] [--queries 200]
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
from matching.encoders import get_encoder, l2_normalise  # noqa: E402
from matching.index import VectorIndex  # noqa: E402
from matching.text import split_sentences  # noqa: E402

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
CACHE = Path(os.environ.get("OIMS_BENCH_CACHE", Path.home() / ".cache" / "oims-bench"))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_texts(n: int) -> list[str]:
    sents: list[str] = []
    for path in sorted(EVAL.rglob("*.jsonl")):
        for line in open(path, encoding="utf-8"):
            obj = json.loads(line)
            for text in obj.get("texts", [obj.get("text", "")]):
                sents.extend(s for s in split_sentences(text) if len(s) > 8)
    sents = sorted(set(sents))
    rng = np.random.default_rng(0)
    out = list(sents)
    while len(out) < n:  # sentence pairs: new real texts, still on-topic
        i, j = rng.integers(0, len(sents), 2)
        out.append(sents[i] + " " + sents[j])
    return out[:n]


def real_vectors(n: int) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"use_{n}.npy"
    if path.exists():
        return np.load(path)
    texts = real_texts(n)
    enc = get_encoder("use-multilingual")
    t = time.perf_counter()
    vecs = np.concatenate([enc.encode_documents(texts[i : i + 2048])
                           for i in range(0, len(texts), 2048)])
    print(f"encoded {n} real texts with {enc.name} in {time.perf_counter() - t:.0f}s")
    np.save(path, vecs)
    return vecs


def timeit(fn, queries: np.ndarray) -> tuple[float, np.ndarray]:
    fn(queries[:1])
    out, t = [], time.perf_counter()
    for q in queries:
        out.append(fn(q[None, :]))
    return (time.perf_counter() - t) / len(queries) * 1000, np.concatenate(out)


def bench(vecs: np.ndarray, queries: np.ndarray, k: int = 10) -> None:
    import faiss  # noqa: PLC0415

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
    args = ap.parse_args()
    base = real_vectors(100_000)
    rng = np.random.default_rng(1)
    qidx = rng.choice(len(base), args.queries, replace=False)
    queries = l2_normalise(base[qidx] + 0.05 * rng.normal(size=(args.queries, base.shape[1])))
    for n in args.sizes:
        if n <= len(base):
            vecs = np.ascontiguousarray(base[:n])
        else:
            # 1M: perturbed copies of the real vectors, randomly projected to e5's 384
            # dimensions (the default encoder's size is what the memory target is about).
            proj = np.linalg.qr(rng.normal(size=(base.shape[1], 384)))[0].astype(np.float32)
            small = l2_normalise(base @ proj)
            reps = [small] + [l2_normalise(small + 0.02 * rng.normal(size=small.shape)
                                           .astype(np.float32)) for _ in range(n // len(base) - 1)]
            vecs = np.concatenate(reps)[:n]
            del reps
            bench(vecs, l2_normalise(queries @ proj))
            continue
        bench(vecs, queries)
        del vecs
        gc.collect()


if __name__ == "__main__":
    main()
