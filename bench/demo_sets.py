"""Evaluation sets built from the demo data and the judgments and translations written for it.

Sources (all in this repository):
- `oims/data/demo/*.toml`: needs, proposals and organisations (read without the app);
- `bench/data/demo_judgments.tsv`: graded judgments (0-3) written by hand for every demo need
  against every demo proposal and every proposer organisation (see docs/matcher.md);
- `bench/data/en_profiles.jsonl`, `bench/data/en_needs.jsonl`: English translations, written
  for this set, of 25 organisation profiles and 10 needs (the cross-lingual dev set).

Each set is `(corpus, queries, qrels)` in the shapes `matching.cli.rank` and
`matching.evaluation` use. Sets:
- `ja-orgs`: Japanese needs -> organisation profiles, all in Japanese (the 3 organisations that
  only have an English profile stay English);
- `ja-en-orgs`: the same needs -> the same organisations with the 25 translated ones in English;
  only needs with at least one relevant English profile are queries (the issue's "Japanese
  need, partner profile in English" case);
- `en-ja-orgs`: the 10 English needs -> Japanese profiles;
- `ja-proposals`: Japanese needs -> all proposals (title+summary, solution, track record);
- `orgs-needs`: organisation profile -> Japanese needs ("needs for you");
- `seed-need-partner` / `seed-partner-need`: 7 collaboration cases written from the seed
  document's case pages (`bench/data/seed_cases.jsonl`: what one side needed, who supplied
  it), each need ranked over its partner plus the 46 demo profiles, and each partner over
  the 7 case needs plus the 24 demo needs (MRR@10 is the figure).
"""

from __future__ import annotations

import csv
import json
import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
PROPOSER_KINDS = {"sme", "university", "institute", "startup"}


@lru_cache(maxsize=1)
def demo() -> dict:
    out = {}
    for name, key in (("organisations", "ORGANISATIONS"), ("needs", "NEEDS"), ("proposals", "PROPOSALS")):
        with (ROOT / "oims" / "data" / "demo" / f"{name}.toml").open("rb") as fh:
            out[key] = tomllib.load(fh)[name]
    return out


def need_text(n: dict) -> str:
    """What `Need.matching_text()` gives the matcher."""
    parts = [n["title"], n["summary"], n["background"], n["sought"], " ".join(n["keywords"])]
    return "\n".join(p for p in parts if p)


def proposal_texts(p: dict) -> list[str]:
    parts = ["\n".join(x for x in (p["title"], p["summary"]) if x), p.get("solution", ""),
             p.get("track_record", "")]
    return [t for t in parts if t.strip()]


def org_texts(o: dict) -> list[str]:
    return [t for t in [o["profile"], *o.get("technologies", []), *o.get("patents", [])] if t]


def _jsonl(name: str) -> dict[str, dict]:
    with open(DATA / name, encoding="utf-8") as fh:
        return {row["key"]: row for row in map(json.loads, filter(str.strip, fh))}


@lru_cache(maxsize=1)
def judgments() -> dict[tuple[str, str], dict[str, int]]:
    """{(kind, need_key): {candidate: grade}}."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    with open(DATA / "demo_judgments.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            out.setdefault((row["kind"], row["need"]), {})[row["candidate"]] = int(row["grade"])
    return out


def _qrels(kind: str, needs: list[str], corpus_ids: set[str], min_grade: int = 1
           ) -> dict[str, dict[str, float]]:
    out = {}
    for nk in needs:
        rel = {c: float(g) for c, g in judgments().get((kind, nk), {}).items()
               if g >= min_grade and c in corpus_ids}
        if rel:
            out[nk] = rel
    return out


def org_corpus(english: bool) -> list[dict]:
    en = _jsonl("en_profiles.jsonl") if english else {}
    return [{"id": o["key"], "texts": en[o["key"]]["texts"] if o["key"] in en else org_texts(o)}
            for o in demo()["ORGANISATIONS"] if o["kind"] in PROPOSER_KINDS]


def build(name: str) -> tuple[list[dict], list[dict], dict[str, dict[str, float]]]:
    d = demo()
    needs = {n["key"]: n for n in d["NEEDS"]}
    if name in ("ja-orgs", "ja-en-orgs"):
        corpus = org_corpus(english=name == "ja-en-orgs")
        qrels = _qrels("org", list(needs), {c["id"] for c in corpus})
        if name == "ja-en-orgs":
            en = set(_jsonl("en_profiles.jsonl"))
            qrels = {q: r for q, r in qrels.items() if any(c in en and g >= 2 for c, g in r.items())}
        queries = [{"id": k, "texts": [need_text(needs[k])]} for k in qrels]
        return corpus, queries, qrels
    if name == "en-ja-orgs":
        corpus = org_corpus(english=False)
        en_needs = _jsonl("en_needs.jsonl")
        qrels = _qrels("org", list(en_needs), {c["id"] for c in corpus})
        return corpus, [{"id": k, "texts": [en_needs[k]["text"]]} for k in qrels], qrels
    if name == "ja-proposals":
        corpus = [{"id": f"{p['need']}|{p['org']}", "texts": proposal_texts(p)}
                  for p in d["PROPOSALS"]]
        qrels = _qrels("proposal", list(needs), {c["id"] for c in corpus})
        return corpus, [{"id": k, "texts": [need_text(needs[k])]} for k in qrels], qrels
    if name == "orgs-needs":
        corpus = [{"id": k, "texts": [need_text(n)]} for k, n in needs.items()]
        orgs = {c["id"]: c for c in org_corpus(english=False)}
        qrels: dict[str, dict[str, float]] = {}
        for (kind, nk), rel in judgments().items():
            if kind == "org":
                for ok, g in rel.items():
                    if g >= 1 and ok in orgs:
                        qrels.setdefault(ok, {})[nk] = float(g)
        queries = [{"id": k, "texts": ["\n".join(orgs[k]["texts"])]} for k in qrels]
        return corpus, queries, qrels
    if name in ("seed-need-partner", "seed-partner-need"):
        cases = _jsonl("seed_cases.jsonl")
        if name == "seed-need-partner":
            corpus = [{"id": k, "texts": [c["partner"]]} for k, c in cases.items()]
            corpus += org_corpus(english=False)
            queries = [{"id": k, "texts": [c["need"]]} for k, c in cases.items()]
        else:
            corpus = [{"id": k, "texts": [c["need"]]} for k, c in cases.items()]
            corpus += [{"id": k, "texts": [need_text(n)]} for k, n in needs.items()]
            queries = [{"id": k, "texts": [c["partner"]]} for k, c in cases.items()]
        return corpus, queries, {k: {k: 1.0} for k in cases}
    raise ValueError(f"unknown demo set {name!r}")


SETS = ("ja-orgs", "ja-en-orgs", "en-ja-orgs", "ja-proposals", "orgs-needs", "seed-need-partner",
        "seed-partner-need")
