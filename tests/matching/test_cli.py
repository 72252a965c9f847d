"""`python -m matching rank|evaluate` on a tiny corpus, checked line by line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching.cli import InputError, main, read_jsonl

ROOT = Path(__file__).resolve().parents[2]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path, Path]:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [
        {"id": "d1", "text": "金属加工の自動化ロボットを開発しています。"},
        {"id": "d2", "texts": ["冷凍食品の物流。", "食品の冷凍保存技術。"]},
        {"id": "d3", "text": "農業用ドローンによる農薬散布。"},
    ])
    queries = write_jsonl(tmp_path / "queries.jsonl", [
        {"id": "q1", "text": "冷凍食品を保存する技術"},
        {"id": "q2", "text": "金属加工を自動化したい"},
    ])
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td1\t1\n", encoding="utf-8")
    return corpus, queries, qrels


def test_rank_writes_trec_run(tiny, tmp_path: Path, e5) -> None:
    corpus, queries, _ = tiny
    out = tmp_path / "run.tsv"
    assert main(["rank", "--corpus", str(corpus), "--queries", str(queries), "--top-k", "2",
                 "--out", str(out), "--quiet"]) == 0
    lines = [ln.split(" ") for ln in out.read_text().splitlines()]
    assert len(lines) == 4
    assert [ln[0] for ln in lines] == ["q1", "q1", "q2", "q2"]
    assert all(ln[1] == "Q0" and ln[5] == "oims" for ln in lines)
    assert [ln[3] for ln in lines] == ["1", "2", "1", "2"]
    assert lines[0][2] == "d2" and lines[2][2] == "d1"
    assert float(lines[0][4]) >= float(lines[1][4])


def test_evaluate_prints_metrics(tiny, capsys, e5) -> None:
    corpus, queries, qrels = tiny
    assert main(["evaluate", "--corpus", str(corpus), "--queries", str(queries),
                 "--qrels", str(qrels), "--quiet"]) == 0
    metrics = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert set(metrics) == {"nDCG@10", "Recall@10", "Recall@100", "MRR@10"}
    assert float(metrics["MRR@10"]) == 1.0


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "ok"}\n{"id": "b", "text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: invalid JSON"):
        read_jsonl(bad, "corpus")
    bad.write_text('{"id": "a", "text": "ok"}\n\n{"id": "c"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:3: needs a non-empty"):
        read_jsonl(bad, "corpus")


def test_empty_corpus_is_an_error(tmp_path: Path, tiny, capsys) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    _, queries, _ = tiny
    code = main(["rank", "--corpus", str(empty), "--queries", str(queries),
                 "--out", str(tmp_path / "r.tsv"), "--quiet"])
    assert code == 2 and "corpus is empty" in capsys.readouterr().err


def test_module_entry_point_reports_errors(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "matching", "rank", "--corpus",
                           str(tmp_path / "missing.jsonl"), "--queries", "x", "--out", "y"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "cannot open corpus file" in proc.stderr
