"""Matcher: upsert/remove, filters, profiles, persistence, stale detection, reload."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matching import Matcher, Result, StaleIndexError
from matching.ranking import aggregate
from matching.store import DATA_FILE, MANIFEST_FILE

ITEMS = [
    (1, ["金属加工の自動化ロボット", "溶接の検査装置"], {"prefecture": "愛知県", "kind": "company",
                                              "partnership_types": ["joint_rd"]}),
    (2, "冷凍食品の物流と保存技術", {"prefecture": "岐阜県", "kind": "company",
                              "partnership_types": ["licensing"]}),
    (3, ["農業用ロボットの研究", "画像認識による収穫"], {"prefecture": "愛知県",
                                             "kind": "university",
                                             "partnership_types": ["joint_rd", "licensing"]}),
    (4, "Laser welding of thin steel sheets", {"prefecture": "三重県", "kind": "company"}),
]


@pytest.fixture
def matcher(tmp_path: Path, hash_encoder) -> Matcher:
    m = Matcher(tmp_path / "idx", hash_encoder)
    m.upsert_many(ITEMS)
    return m


def test_search_shape_and_order(matcher: Matcher) -> None:
    results = matcher.search("金属加工を自動化したい", k=3)
    assert all(isinstance(r, Result) for r in results)
    assert results[0].id == 1
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert results[0].reasons and "金属加工" in results[0].reasons[0].terms
    assert matcher.search("   ") == []


def test_filters_apply_during_search(matcher: Matcher) -> None:
    got = matcher.search("ロボット", k=10, filters={"prefecture": "愛知県"})
    assert {r.id for r in got} == {1, 3}
    got = matcher.search("ロボット", k=10, filters={"kind": ["university"],
                                                 "partnership_types": "joint_rd"})
    assert [r.id for r in got] == [3]
    got = matcher.search("ロボット", k=10, filters={"partnership_types": ["licensing"]})
    assert {r.id for r in got} == {2, 3}
    got = matcher.search("ロボット", k=10, exclude_ids={1, 3})
    assert {r.id for r in got} <= {2, 4}
    assert matcher.search("ロボット", filters={"prefecture": "北海道"}) == []
    assert len(matcher.search("ロボット", filters={"prefecture": "", "kind": []})) == 4


def test_upsert_replaces_and_remove(matcher: Matcher) -> None:
    matcher.upsert(2, "金属加工の自動化ロボット 金属加工", {"prefecture": "岐阜県"})
    assert matcher.meta(2) == {"prefecture": "岐阜県"}
    assert 2 in {r.id for r in matcher.search("金属加工", k=2)}
    assert matcher.remove(1) and not matcher.remove(1)
    assert matcher.ids() == [2, 3, 4]
    assert all(r.id != 1 for r in matcher.search("溶接の検査", k=10))
    with pytest.raises(ValueError):
        matcher.upsert(9, ["", "  "], {})


def test_profile_scored_from_its_documents(matcher: Matcher) -> None:
    # item 3's second document is the one that matches
    best = matcher.search("画像認識による収穫", k=1)[0]
    assert best.id == 3 and best.reasons[0].document == 1
    assert aggregate(np.array([0.9, 0.1, 0.5]), "max") == pytest.approx(0.9)
    assert aggregate(np.array([0.9, 0.1, 0.5]), "top2") == pytest.approx(0.7)
    assert aggregate(np.array([0.9, 0.1, 0.5]), "mean") == pytest.approx(0.5)
    assert 0.5 < aggregate(np.array([0.9, 0.1, 0.5]), "softmax") <= 0.9


def test_save_load_roundtrip(matcher: Matcher, hash_encoder) -> None:
    manifest = matcher.save()
    assert manifest["count"] == 4 and manifest["encoder"] == "hash-test"
    assert manifest["dim"] == 64 and len(manifest["checksum"]) == 64
    assert json.loads((matcher.directory / MANIFEST_FILE).read_text())["generation"] == 1
    again = Matcher(matcher.directory, hash_encoder)
    assert again.ids() == [1, 2, 3, 4] and again.meta(3)["kind"] == "university"
    a = matcher.search("ロボット", k=4)
    b = again.search("ロボット", k=4)
    assert [(r.id, round(r.score, 5)) for r in a] == [(r.id, round(r.score, 5)) for r in b]
    assert not list(matcher.directory.glob("*.tmp"))


def test_other_process_change_is_detected(matcher: Matcher, hash_encoder) -> None:
    matcher.save()
    reader = Matcher(matcher.directory, hash_encoder)
    fp = reader.fingerprint
    assert not reader.changed_on_disk() and not reader.reload_if_changed()
    matcher.upsert(5, "新しい案件", {})
    matcher.save()
    assert reader.changed_on_disk()
    assert reader.reload_if_changed() and 5 in reader.ids() and reader.fingerprint != fp


def test_corrupt_index_detected(matcher: Matcher, hash_encoder) -> None:
    matcher.save()
    path = matcher.directory / DATA_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StaleIndexError):
        Matcher(matcher.directory, hash_encoder, on_stale="raise")
    dropped = Matcher(matcher.directory, hash_encoder)
    assert dropped.needs_rebuild and len(dropped) == 0


def test_foreign_encoder_index_is_rebuilt(matcher: Matcher) -> None:
    matcher.save()
    from tests.matching.conftest import HashEncoder

    other = HashEncoder(dim=32, name="another-model")
    rebuilt = Matcher(matcher.directory, other)
    assert rebuilt.ids() == [1, 2, 3, 4] and not rebuilt.needs_rebuild
    assert rebuilt.search("冷凍食品", k=1)[0].id == 2
    assert rebuilt.save()["encoder"] == "another-model"


def test_approximate_mode_agrees_with_exact(tmp_path: Path, hash_encoder) -> None:
    words = ["金属", "加工", "食品", "冷凍", "ロボット", "農業", "検査", "溶接", "物流", "電池"]
    rng = np.random.default_rng(0)
    items = [(i, "".join(rng.choice(words, 4)) + "の技術",
              {"prefecture": "愛知県" if i % 3 else "岐阜県"}) for i in range(600)]
    exact = Matcher(tmp_path / "exact", hash_encoder)
    approx = Matcher(tmp_path / "approx", hash_encoder, hnsw_threshold=100)
    exact.upsert_many(items)
    approx.upsert_many(items)
    approx._vectors.exact_scan_below = 10  # force the graph path on this small set
    assert approx._vectors.approximate and not exact._vectors.approximate
    for query in ["金属加工の検査", "冷凍食品の物流"]:
        a = exact.search(query, k=5, with_reasons=False)
        b = approx.search(query, k=5, with_reasons=False)
        assert a[0].score == pytest.approx(b[0].score, abs=0.05)
        got = approx.search(query, k=10, filters={"prefecture": "岐阜県"})
        assert got and all(r.id % 3 == 0 for r in got)
    assert approx._vectors._ann is not None  # the HNSW graph was used
