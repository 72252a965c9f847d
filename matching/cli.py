"""`python -m matching rank|evaluate`: TREC runs and metrics from JSONL corpora."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .cache import maybe_cached
from .collection import Matcher
from .encoders import EncoderUnavailable, get_encoder
from .evaluation import read_qrels, summary
from .ranking import AGGREGATIONS, Weights

logger = logging.getLogger(__name__)


class InputError(ValueError):
    """A malformed input file; the message names the file and line."""


def read_jsonl(path: Path | str, kind: str) -> list[dict[str, Any]]:
    """Read `{"id", "text"}` / `{"id", "texts": [...]}` lines; errors carry the line number."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{path}: cannot open {kind} file: {exc.strerror}") from exc
    with fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict) or "id" not in obj:
                raise InputError(f"{path}:{lineno}: expected an object with an \"id\"")
            texts = obj.get("texts", [obj["text"]] if "text" in obj else None)
            if (not isinstance(texts, list) or not texts
                    or not all(isinstance(t, str) for t in texts)
                    or not any(t.strip() for t in texts)):
                raise InputError(f"{path}:{lineno}: needs a non-empty \"text\" string "
                                 "or \"texts\" list of strings")
            qid = str(obj["id"])
            if qid in seen:
                raise InputError(f"{path}:{lineno}: duplicate id {qid!r}")
            seen.add(qid)
            rows.append({"id": qid, "texts": texts})
    if not rows:
        raise InputError(f"{path}: the {kind} is empty")
    return rows


def rank(corpus: list[dict[str, Any]], queries: list[dict[str, Any]], top_k: int,
         encoder_name: str | None, weights: Weights | None = None,
         progress: bool = True) -> dict[str, list[tuple[str, float]]]:
    encoder = maybe_cached(get_encoder(encoder_name))
    with tempfile.TemporaryDirectory(prefix="oims-rank-") as tmp:
        matcher = Matcher(Path(tmp), encoder, weights=weights)
        matcher.upsert_many(((i, doc["texts"], {}) for i, doc in enumerate(corpus)),
                            progress=progress)
        qtexts = [" ".join(q["texts"]) for q in queries]
        qvecs = np.zeros((len(qtexts), encoder.dim), dtype=np.float32)
        long_q = np.array([matcher.weights.is_long(t) for t in qtexts], dtype=bool)
        for mask, encode in ((long_q, encoder.encode_documents),
                             (~long_q, encoder.encode_queries)):
            if mask.any():
                qvecs[mask] = encode([t for t, m in zip(qtexts, mask, strict=True) if m])
        iterator = range(len(queries))
        if progress:
            from tqdm import tqdm

            iterator = tqdm(iterator, desc="ranking", unit="query")
        run: dict[str, list[tuple[str, float]]] = {}
        for qi in iterator:
            results = matcher._search(qtexts[qi], qvecs[qi], top_k, None, None, False)
            run[queries[qi]["id"]] = [(corpus[r.id]["id"], r.score) for r in results]
    return run


def write_trec(run: dict[str, list[tuple[str, float]]], out: Path | str, tag: str) -> None:
    with open(out, "w", encoding="utf-8") as fh:
        for qid, results in run.items():
            fh.writelines(f"{qid} Q0 {docid} {rank_} {score:.6f} {tag}\n" for rank_, (docid, score) in enumerate(results, start=1))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m matching", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("rank", "evaluate"):
        s = sub.add_parser(name)
        s.add_argument("--corpus", required=True, type=Path)
        s.add_argument("--queries", required=True, type=Path)
        s.add_argument("--top-k", type=int, default=100)
        s.add_argument("--encoder", default=None, help="default: $OIMS_ENCODER or e5-small")
        s.add_argument("--lexical-weight", type=float, default=Weights().lexical)
        s.add_argument("--prf-weight", type=float, default=Weights().prf)
        s.add_argument("--aggregation", choices=AGGREGATIONS, default=Weights().aggregation)
        s.add_argument("--quiet", action="store_true", help="no progress bars")
        if name == "rank":
            s.add_argument("--out", required=True, type=Path)
            s.add_argument("--tag", default="oims")
        else:
            s.add_argument("--qrels", required=True, type=Path)
            s.add_argument("--out", type=Path, default=None, help="also write the TREC run")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        corpus = read_jsonl(args.corpus, "corpus")
        queries = read_jsonl(args.queries, "queries")
        qrels = read_qrels(args.qrels) if args.command == "evaluate" else None
        top_k = max(args.top_k, len(corpus)) if qrels is not None and len(corpus) <= 1000 \
            else args.top_k
        weights = Weights(args.lexical_weight, args.prf_weight, args.aggregation)
        run = rank(corpus, queries, top_k, args.encoder, weights, progress=not args.quiet)
    except (InputError, ValueError, EncoderUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        write_trec(run, args.out, getattr(args, "tag", "oims"))
    if qrels is not None:
        scores = {q: dict(res) for q, res in run.items()}
        for metric, value in summary(scores, qrels).items():
            print(f"{metric}\t{value:.4f}")
    return 0
