"""Invariants of the demo data (oims/data/demo/*.toml), checked against the
app's own vocabulary, so the demo cannot drift from what forms and workflow accept."""

from __future__ import annotations

import re
import tomllib
from collections import Counter

import pytest

from oims.core import reference as ref
from oims.core.vocabulary import PUBLIC_NEED_STATUSES, NeedStatus, Party, ProposalStage, Role
from oims.demo import data as d
from oims.proposals import demo as proposals_demo
from oims.proposals.workflow import TRANSITIONS

ORGS = {o["key"]: o for o in d.ORGANISATIONS}
NEEDS = {n["key"]: n for n in d.NEEDS}


def codes(choices) -> set[str]:
    return {c.code for c in choices}


def test_keys_are_unique_and_references_resolve():
    for rows in (d.ORGANISATIONS, d.NEEDS):
        keys = Counter(r["key"] for r in rows)
        assert not [k for k, n in keys.items() if n > 1], "duplicate keys"
    assert all(re.fullmatch(r"[a-z0-9_]+", k) for k in ORGS)
    assert all(n["owner"] in ORGS for n in d.NEEDS)
    assert all(p["need"] in NEEDS and p["org"] in ORGS for p in d.PROPOSALS)
    assert all(u["org"] in ORGS for u in d.DEMO_USERS)
    pairs = Counter((p["need"], p["org"]) for p in d.PROPOSALS)
    assert not [k for k, n in pairs.items() if n > 1], "one proposal per organisation and need"


@pytest.mark.parametrize("org", d.ORGANISATIONS, ids=lambda o: o["key"])
def test_organisation_uses_the_apps_vocabulary(org):
    assert org["kind"] in codes(ref.ORG_KINDS)
    assert org["prefecture"] in codes(ref.PREFECTURES)
    assert org["industry"] in codes(ref.INDUSTRIES)
    assert org["employee_band"] in codes(ref.EMPLOYEE_BANDS)
    assert set(org["certifications"]) <= set(ref.CERTIFICATIONS)
    assert re.fullmatch(r"https://example\.(jp|com)/[a-z0-9\-/]+", org["website"])
    assert 150 <= len(org["profile"]) <= 400
    assert 3 <= len(org["technologies"]) <= 6 and len(org["patents"]) <= 3
    assert org["name"] and org["name_kana"] and org["name_en"]


@pytest.mark.parametrize("need", d.NEEDS, ids=lambda n: n["key"])
def test_need_uses_the_apps_vocabulary(need):
    assert ORGS[need["owner"]]["kind"] in ref.OWNER_KINDS
    assert need["status"] in set(NeedStatus)
    assert 1 <= len(need["partnership_types"]) <= 3
    assert set(need["partnership_types"]) <= codes(ref.PARTNERSHIP_TYPES)
    assert set(need["regions"]) <= codes(ref.BUREAUS)
    assert 3 <= len(need["keywords"]) <= 6
    assert isinstance(need["anonymous"], bool) and isinstance(need["deadline_days"], int)
    assert 80 <= len(need["summary"]) <= 200
    assert 150 <= len(need["background"]) <= 400
    assert 100 <= len(need["sought"]) <= 300
    if need["status"] == NeedStatus.PUBLISHED:
        assert 10 <= need["deadline_days"] <= 60
    if need["status"] in (NeedStatus.CLOSED, NeedStatus.FULFILLED):
        assert need["deadline_days"] < 0


@pytest.mark.parametrize("proposal", d.PROPOSALS, ids=lambda p: f"{p['need']}-{p['org']}")
def test_proposal_is_possible(proposal):
    need = NEEDS[proposal["need"]]
    assert ORGS[proposal["org"]]["kind"] in ref.PROPOSER_KINDS
    assert proposal["org"] != need["owner"]
    assert need["status"] in PUBLIC_NEED_STATUSES
    assert proposal["stage"] in set(ProposalStage)
    assert 60 <= len(proposal["summary"]) <= 150
    assert 150 <= len(proposal["solution"]) <= 350
    assert 60 <= len(proposal["track_record"]) <= 200


def test_the_demo_covers_what_a_new_user_should_see():
    kinds = Counter(o["kind"] for o in d.ORGANISATIONS)
    assert kinds["support"] >= 3 and kinds["large"] >= 5 and kinds["sme"] >= 30 and kinds["startup"] >= 6
    assert kinds["university"] + kinds["institute"] >= 5
    assert len({o["prefecture"] for o in d.ORGANISATIONS if o["kind"] == "sme"}) >= 12
    assert sum(o["kind"] == "sme" and o["profile"].isascii() for o in d.ORGANISATIONS) >= 3, "English profiles"
    assert len(d.NEEDS) >= 24 and sum(n["anonymous"] for n in d.NEEDS) >= 6
    assert len(d.PROPOSALS) >= 110
    assert {p["stage"] for p in d.PROPOSALS} == set(ProposalStage), "every stage appears"
    assert sum(p["title"].isascii() for p in d.PROPOSALS) >= 5, "English proposals"


def test_demo_users():
    emails = Counter(u["email"] for u in d.DEMO_USERS)
    assert not [e for e, n in emails.items() if n > 1]
    for u in d.DEMO_USERS:
        assert re.fullmatch(r"[a-z0-9.\-]+@example\.jp", u["email"])
        assert u["role"] in set(Role) and u["role"] in codes(ref.ROLES) and u["language"] in codes(ref.LANGUAGES)
    first: dict[str, str] = {}
    for u in d.DEMO_USERS:
        first.setdefault(u["role"], u["email"])
    assert first == {Role.NEED_OWNER: "owner@example.jp", Role.PROPOSER: "proposer@example.jp",
                     Role.COORDINATOR: "coordinator@example.jp", Role.ADMIN: "admin@example.jp"}
    orgs_by_role: dict[str, set[str]] = {}
    for u in d.DEMO_USERS:
        orgs_by_role.setdefault(u["role"], set()).add(u["org"])
    assert {k for k, o in ORGS.items() if o["kind"] == "large"} <= orgs_by_role[Role.NEED_OWNER]
    assert {n["owner"] for n in d.NEEDS} <= orgs_by_role[Role.NEED_OWNER]
    assert {p["org"] for p in d.PROPOSALS} <= orgs_by_role[Role.PROPOSER]
    assert {"kanto_meti", "chubu_meti"} <= orgs_by_role[Role.COORDINATOR] and "kanto_meti" in orgs_by_role[Role.ADMIN]


# Every value under these keys, in every demo file, must be a member of the vocabulary.
VOCABULARY_KEYS = {"status": NeedStatus, "stage": ProposalStage, "role": Role}


def _values(node, found: dict[str, list]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in VOCABULARY_KEYS and isinstance(value, str):
                found[key].append(value)
            else:
                _values(value, found)
    elif isinstance(node, list):
        for item in node:
            _values(item, found)


def test_every_status_stage_and_role_in_the_demo_files_is_a_vocabulary_member():
    found: dict[str, list] = {key: [] for key in VOCABULARY_KEYS}
    for path in sorted(d.DEMO_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            _values(tomllib.load(fh), found)
    for key, vocabulary in VOCABULARY_KEYS.items():
        assert found[key], f"no {key} in the demo files: the check would pass on nothing"
        stray = sorted(set(found[key]) - {m.value for m in vocabulary})
        assert not stray, f"{key} values that are not {vocabulary.__name__} members: {stray}"


def test_the_finder_catches_a_stray_value():
    found: dict[str, list] = {key: [] for key in VOCABULARY_KEYS}
    _values({"needs": [{"status": "open", "nested": {"stage": "forwarded"}}]}, found)
    assert found["status"] == ["open"] and found["stage"] == ["forwarded"]
    assert "open" not in {m.value for m in NeedStatus} and "forwarded" not in {m.value for m in ProposalStage}


@pytest.mark.parametrize("stage", list(ProposalStage), ids=str)
def test_the_demo_history_of_each_stage_follows_the_workflow(stage):
    """The demo loader writes each proposal's event history itself: every step must be a
    transition of the workflow, made by a party the workflow allows, and end at the stage."""
    path = proposals_demo.PATHS[stage]
    previous = ProposalStage.DRAFT
    for to_stage in path:
        allowed = TRANSITIONS.get((previous, to_stage))
        assert allowed is not None, f"{previous} -> {to_stage} is not a workflow transition"
        assert proposals_demo.ACTOR[to_stage] in allowed and isinstance(proposals_demo.ACTOR[to_stage], Party)
        previous = to_stage
    assert previous == stage
