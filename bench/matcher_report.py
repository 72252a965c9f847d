"""Every matcher quality figure in one run, as Markdown tables (docs/matcher.md quotes them).

    OIMS_EMBED_CACHE=~/.cache/oims-emb python bench/matcher_report.py [--encoder NAME]
        [--sections demo calibration dev analyser speed] [--fit]

- dev: the dev halves in ../shared/eval (JaQuAD nDCG@10 etc.; reviewers weighted Kendall loss);
- demo: the sets in bench/demo_sets.py: all-Japanese needs -> profiles, Japanese needs ->
  English profiles, English needs -> Japanese profiles, needs -> proposals, profile -> needs;
- calibration: the reliability table (predicted vs observed per band) on the held-out half
  of the demo needs (odd positions in sorted order), and the ranking figures per band;
  `--fit` refits the logistic parameters on the other half (and on the JaQuAD dev half for
  short queries) and writes matching/data/calibration.json;
- analyser: milliseconds to analyse a 2,000-character draft; JaQuAD BM25-only with the
  analyser's words vs the old character bigrams.

Encoding is the slow part: set OIMS_EMBED_CACHE to reuse embeddings between runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import os

from demo_sets import SETS, build

from matching import calibration
from matching.cache import maybe_cached
from matching.cli import rank, read_jsonl
from matching.encoders import get_encoder
from matching.evaluation import read_qrels, summary, weighted_kendall_loss

# ../shared/eval next to the checkout (a worktree sits one level deeper); or $OIMS_EVAL_DIR.
_ROOT = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("OIMS_EVAL_DIR") or next(
    (p / "shared" / "eval" for p in (_ROOT.parent, _ROOT.parent.parent)
     if (p / "shared" / "eval").exists()), _ROOT.parent / "shared" / "eval"))
SHORT_SET: str | None = None
LABELS = {"ja-orgs": "JA need → JA profiles (all Japanese)",
          "ja-en-orgs": "JA need → profiles, relevant ones in English",
          "en-ja-orgs": "EN need → JA profiles",
          "ja-proposals": "JA need → proposals",
          "orgs-needs": "profile → needs (needs for you)",
          "seed-need-partner": "seed cases: need → partner",
          "seed-partner-need": "seed cases: partner → need"}


def _run(corpus, queries, encoder, k=None):
    return rank(corpus, queries, k or len(corpus), encoder, progress=False)


def dev(encoder: str | None) -> None:
    print("\n### Dev halves (../shared/eval)\n")
    d = EVAL / "jaquad"
    if d.exists():
        corpus, queries = read_jsonl(d / "corpus.jsonl", "c"), read_jsonl(d / "queries.jsonl", "q")
        run = _run(corpus, queries, encoder, 100)
        s = summary({q: dict(r) for q, r in run.items()}, read_qrels(d / "qrels.tsv"))
        print(f"JaQuAD dev: nDCG@10 {s['nDCG@10']:.4f}, Recall@10 {s['Recall@10']:.4f}, "
              f"Recall@100 {s['Recall@100']:.4f}, MRR@10 {s['MRR@10']:.4f}", flush=True)
    loss = weight = 0.0
    for sd in sorted((EVAL / "reviewers").glob("sample*")):
        corpus = read_jsonl(sd / "corpus.jsonl", "corpus")
        queries = read_jsonl(sd / "queries.jsonl", "queries")
        run = _run(corpus, queries, encoder)
        lo, we = weighted_kendall_loss({q: dict(r) for q, r in run.items()},
                                       read_qrels(sd / "qrels.tsv"))
        loss, weight = loss + lo, weight + we
    if weight:
        print(f"Reviewers dev: weighted Kendall loss {loss / weight:.4f}", flush=True)


def demo(encoder: str | None) -> None:
    print("\n### Demo-data sets (bench/demo_sets.py; judgments and translations in bench/data)\n")
    print("| set | queries | nDCG@10 | MRR@10 | Recall@10 |")
    print("|---|---|---|---|---|")
    for name in SETS:
        corpus, queries, qrels = build(name)
        run = _run(corpus, queries, encoder)
        s = summary({q: dict(r) for q, r in run.items()}, qrels)
        print(f"| {LABELS[name]} | {len(queries)} | {s['nDCG@10']:.4f} | {s['MRR@10']:.4f} | "
              f"{s['Recall@10']:.4f} |", flush=True)


def _pairs(encoder: str | None, half: int | None, top: int = 20, kind: str | None = None):
    """(score, label) for the candidates a coordinator sees on the demo sets, for queries of
    one calibration kind (`calibration.query_kind`; None: all)."""
    xs, ys = [], []
    for name in SETS:
        if name.startswith("seed"):  # no graded judgments: one known partner per case
            continue
        corpus, queries, qrels = build(name)
        keys = sorted(q["id"] for q in queries)
        keep = {k for i, k in enumerate(keys) if half is None or i % 2 == half}
        queries = [q for q in queries if q["id"] in keep
                   and (kind is None or calibration.query_kind(" ".join(q["texts"])) == kind)]
        if not queries:
            continue
        run = _run(corpus, queries, encoder)
        for qid, results in run.items():
            if name == "ja-proposals":  # the app lists a need's own proposals only
                results = [r for r in results if r[0].startswith(qid + "|")]
            for doc, score in results[:top]:
                xs.append(score)
                ys.append(1.0 if qrels.get(qid, {}).get(doc, 0) >= 2 else 0.0)
    return np.array(xs), np.array(ys)


def _jaquad_pairs(encoder: str | None, top: int = 20, d: Path | None = None,
                  half: int | None = None):
    """(score, label) of the top 20 per question; `half`: even (0) / odd (1) questions
    in (length, id) order of their ids (the whole collection is searched either way)."""
    d = d or EVAL / "jaquad"
    corpus, queries = read_jsonl(d / "corpus.jsonl", "c"), read_jsonl(d / "queries.jsonl", "q")
    qrels = read_qrels(d / "qrels.tsv")
    if half is not None:
        keys = sorted((q["id"] for q in queries), key=lambda k: (len(k), k))
        keep = {k for i, k in enumerate(keys) if i % 2 == half}
        queries = [q for q in queries if q["id"] in keep]
    run = _run(corpus, queries, encoder, top)
    xs = [s for q, r in run.items() for _, s in r]
    ys = [1.0 if qrels.get(q, {}).get(doc, 0) > 0 else 0.0 for q, r in run.items() for doc, _ in r]
    return np.array(xs), np.array(ys)


def calibrate(encoder: str | None, fit: bool) -> None:
    name = maybe_cached(get_encoder(encoder)).name
    if fit:
        entry: dict = {"fitted_on": ""}
        notes = []
        for kind, label in (("long", "demo judgments, needs (300+ characters)"),
                            ("medium", "demo judgments, profiles (100-299 characters)")):
            x, y = _pairs(encoder, half=0, kind=kind)
            if len(x) and y.sum() >= 10:
                entry[kind] = list(calibration.fit_logistic(x, y))
                notes.append(f"{kind}: {label}, even half of the queries ({len(x)} candidates, "
                             f"{int(y.sum())} relevant)")
        short_dir = Path(SHORT_SET) if SHORT_SET else EVAL / "jaquad"
        if short_dir.exists() and "--no-jaquad" not in sys.argv:
            xj, yj = _jaquad_pairs(encoder, d=short_dir, half=0)
            entry["short"] = list(calibration.fit_logistic(xj, yj))
            notes.append(f"short: {short_dir.name}, even half of the questions, top 20 "
                         f"({len(xj)} candidates, {int(yj.sum())} relevant)")
        table = json.loads(calibration.PARAMS.read_text()) if calibration.PARAMS.exists() else {}
        old = table.get(name, {})
        if "short" not in entry and "short queries: " in old.get("fitted_on", ""):
            notes.append("short: " + old["fitted_on"].split("short queries: ", 1)[1])
        entry = {**{k: v for k, v in old.items() if k in calibration.QUERY_KINDS}, **entry}
        entry["fitted_on"] = "; ".join(notes) or old.get("fitted_on", "")
        table[name] = entry
        if name == maybe_cached(get_encoder(None)).name:  # the default encoder
            table["fallback"] = entry
        calibration.PARAMS.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
        calibration._table.cache_clear()
        print(f"fitted {name}: {entry}")
    short_dir = Path(SHORT_SET) if SHORT_SET else EVAL / "jaquad"
    for kind in ("long", "medium", "short"):
        if kind == "short":
            if not short_dir.exists() or "--no-jaquad" in sys.argv:
                continue
            x, y = _jaquad_pairs(encoder, d=short_dir, half=1)
        else:
            x, y = _pairs(encoder, half=1, kind=kind)
        if not len(x):
            continue
        p = np.array([calibration.probability(s, name, kind) for s in x])
        where = (f"{short_dir.name}, odd half of the questions; relevant = in the qrels"
                 if kind == "short" else "held-out half of the demo queries; relevant = judged "
                 "grade ≥ 2")
        print(f"\n### Calibration, {kind} queries ({where}; {len(x)} shown candidates, top 20 "
              f"per list)\n")
        print("| band | candidates | mean predicted | observed relevant |")
        print("|---|---|---|---|")
        for row in calibration.reliability(p, y):
            print(f"| {row['band']} | {row['n']} | {row['predicted']:.3f} | {row['observed']:.3f} |")
        brier = float(np.mean((p - y) ** 2))
        base = float(np.mean((y.mean() - y) ** 2))
        print(f"\nBrier score {brier:.4f} (always predicting the base rate {y.mean():.3f}: "
              f"{base:.4f})")


def analyser() -> None:
    from matching.analysis import analyse
    from matching.text import bigram_tokens, tokens

    print("\n### Analyser\n")
    d = EVAL / "jaquad"
    with open(d / "corpus.jsonl", encoding="utf-8") as fh:
        docs = [json.loads(line)["text"] for line in fh]
    draft = "".join(docs[:60])[:2000]
    analyse("warm up")
    t, c = time.perf_counter(), time.process_time()
    for i in range(20):
        analyse(draft + str(i))  # defeat the cache
    print(f"2,000-character draft: {(time.perf_counter() - t) / 20 * 1000:.1f} ms per analysis "
          f"(CPU {(time.process_time() - c) / 20 * 1000:.1f} ms)")
    from matching import lexical

    corpus, queries = read_jsonl(d / "corpus.jsonl", "c"), read_jsonl(d / "queries.jsonl", "q")
    qrels = read_qrels(d / "qrels.tsv")
    for label, fn in (("analyser words", tokens), ("character bigrams (before)", bigram_tokens)):
        lexical.tokens = fn
        idx = lexical.BM25Index()
        for i, doc in enumerate(corpus):
            idx.add(i, " ".join(doc["texts"]))
        run = {}
        for q in queries:
            s = idx.scores(" ".join(q["texts"]), len(corpus))
            top = np.argsort(-s)[:100]
            run[q["id"]] = {corpus[j]["id"]: float(s[j]) for j in top}
        res = summary(run, qrels)
        print(f"JaQuAD dev BM25 only, {label}: nDCG@10 {res['nDCG@10']:.4f}, "
              f"MRR@10 {res['MRR@10']:.4f}")
    lexical.tokens = tokens


def speed(encoder: str | None) -> None:
    """Per query on the demo organisation profiles: encoding and ranking, default vs e5 alone."""
    import tempfile

    from matching import Matcher

    corpus, queries, _ = build("ja-en-orgs")
    print("\n### Per-query time, 23 needs over 46 profiles (ms, median)\n")
    print("| encoder | encode query | rank + reasons |")
    print("|---|---|---|")
    for name in (encoder, "e5-small"):
        enc = maybe_cached(get_encoder(name))
        with tempfile.TemporaryDirectory() as tmp:
            m = Matcher(Path(tmp), enc)
            m.upsert_many([(i, c["texts"], {}) for i, c in enumerate(corpus)])
            inner = get_encoder(name)
            te, tr = [], []
            for q in queries:
                text = q["texts"][0]
                t = time.perf_counter()
                inner.encode_documents([text])
                te.append(time.perf_counter() - t)
                qvec = m.encode_query(text)
                t = time.perf_counter()
                m._search(text, qvec, 20, None, None, True)
                tr.append(time.perf_counter() - t)
            print(f"| {enc.name} | {np.median(te) * 1000:.0f} | {np.median(tr) * 1000:.0f} |",
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", default=None)
    ap.add_argument("--sections", nargs="+",
                    default=["demo", "calibration", "dev", "analyser", "speed"])
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--no-jaquad", action="store_true")
    ap.add_argument("--short-set", default=None,
                    help="corpus/queries/qrels folder for the short-query fit (default: JaQuAD dev)")
    args = ap.parse_args()
    global SHORT_SET
    SHORT_SET = args.short_set
    if "demo" in args.sections:
        demo(args.encoder)
    if "calibration" in args.sections:
        calibrate(args.encoder, args.fit)
    if "dev" in args.sections:
        dev(args.encoder)
    if "analyser" in args.sections:
        analyser()
    if "speed" in args.sections:
        speed(args.encoder)


if __name__ == "__main__":
    main()
