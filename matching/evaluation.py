"""Retrieval metrics (nDCG@10, Recall@k, MRR@10) and the reviewer-matching Kendall loss."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

Run = Mapping[str, Mapping[str, float]]  # qid -> docid -> score
Qrels = Mapping[str, Mapping[str, float]]  # qid -> docid -> graded relevance


def read_qrels(path: Path | str) -> dict[str, dict[str, float]]:
    """Read a `query-id<TAB>corpus-id<TAB>score` file (header optional)."""
    qrels: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not row or (lineno == 1 and row[0] == "query-id"):
                continue
            if len(row) < 3:
                raise ValueError(f"{path}:{lineno}: expected 3 tab-separated columns")
            try:
                qrels.setdefault(row[0], {})[row[1]] = float(row[2])
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: score is not a number: {row[2]!r}") from exc
    return qrels


def _ranked(scores: Mapping[str, float]) -> list[str]:
    return [d for d, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def ndcg_at(run: Run, qrels: Qrels, k: int = 10) -> float:
    total = 0.0
    for qid, rels in qrels.items():
        ranked = _ranked(run.get(qid, {}))[:k]
        dcg = sum((2 ** rels.get(d, 0.0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked))
        ideal = sorted(rels.values(), reverse=True)[:k]
        idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
        total += dcg / idcg if idcg > 0 else 0.0
    return total / max(len(qrels), 1)


def recall_at(run: Run, qrels: Qrels, k: int) -> float:
    total = 0.0
    for qid, rels in qrels.items():
        relevant = {d for d, r in rels.items() if r > 0}
        if not relevant:
            continue
        ranked = set(_ranked(run.get(qid, {}))[:k])
        total += len(relevant & ranked) / len(relevant)
    return total / max(len(qrels), 1)


def mrr_at(run: Run, qrels: Qrels, k: int = 10) -> float:
    total = 0.0
    for qid, rels in qrels.items():
        for i, d in enumerate(_ranked(run.get(qid, {}))[:k]):
            if rels.get(d, 0.0) > 0:
                total += 1.0 / (i + 1)
                break
    return total / max(len(qrels), 1)


def weighted_kendall_loss(run: Run, qrels: Qrels) -> tuple[float, float]:
    """Stelmakh et al.'s loss over qrels given as paper -> researcher -> expertise.

    For every researcher and every pair of their judged papers with expertise
    difference d, add |d| when the predicted (paper, researcher) scores order the pair
    the other way and |d|/2 when they tie. Returns (sum of losses, sum of |d|) so
    several samples can be pooled; the loss is their ratio.
    """
    by_researcher: dict[str, list[tuple[float, float]]] = {}
    for paper, rels in qrels.items():
        for researcher, expertise in rels.items():
            predicted = run.get(paper, {}).get(researcher, float("-inf"))
            by_researcher.setdefault(researcher, []).append((expertise, predicted))
    loss = weight = 0.0
    for pairs in by_researcher.values():
        for i in range(len(pairs)):
            ei, pi = pairs[i]
            for j in range(i + 1, len(pairs)):
                ej, pj = pairs[j]
                d = abs(ei - ej)
                if d == 0:
                    continue
                weight += d
                if pi == pj:
                    loss += d / 2
                elif (pi - pj) * (ei - ej) < 0:
                    loss += d
    return loss, weight


def is_graded(qrels: Qrels) -> bool:
    return any(r not in (0.0, 1.0) for rels in qrels.values() for r in rels.values())


def summary(run: Run, qrels: Qrels) -> dict[str, float]:
    out = {
        "nDCG@10": ndcg_at(run, qrels, 10),
        "Recall@10": recall_at(run, qrels, 10),
        "Recall@100": recall_at(run, qrels, 100),
        "MRR@10": mrr_at(run, qrels, 10),
    }
    if is_graded(qrels):
        loss, weight = weighted_kendall_loss(run, qrels)
        out["weighted_kendall_loss"] = loss / weight if weight else float("nan")
    return out
