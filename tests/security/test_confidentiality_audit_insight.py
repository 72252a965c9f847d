"""Confidentiality sweep over the h11 pages (audit screens, regional
strength, declines): the anonymous owner stays hidden from proposers, an
unforwarded proposal from the owner, and one bureau's trail from another."""

from __future__ import annotations

from ..factories import login
from .test_confidentiality import OWNER_NAME, SECRET_FIRM, SECRET_FIRM_EN, SECRET_PROPOSAL, _assert_absent

H11_PAGES = ["/audit/", "/audit/trail.csv", "/audit/proposal-views", "/insight/strength", "/insight/strength/orgs.csv",
             "/insight/strength/gap.csv", "/insight/declines", "/insight/declines.csv", "/proposals/mine"]


def _forwarded_and_viewed(app, factory, scene):
    prop = factory.proposal(scene["need"], proposer=scene["p2"], stage="shortlisted", title="転送済みの提案")
    owner = app.test_client()
    assert login(owner, scene["owner"]).status_code == 302
    assert owner.get(f"/proposals/{prop.id}").status_code == 200  # audited: the owner viewed it
    return prop


def test_proposer_learns_when_but_not_who(app, db, factory, scene):
    prop = _forwarded_and_viewed(app, factory, scene)
    urls = [f"/proposals/{prop.id}", *H11_PAGES]
    _assert_absent(app, db, scene["p2"], [SECRET_FIRM, SECRET_FIRM_EN, OWNER_NAME], urls, [])
    client = app.test_client()
    assert login(client, scene["p2"]).status_code == 302
    assert "ニーズ保有者がこの提案を初めて開いた日時" in client.get(f"/proposals/{prop.id}").get_data(as_text=True)


def test_other_bureau_and_owner_see_nothing_of_it(app, db, cast, factory, scene):
    _forwarded_and_viewed(app, factory, scene)
    _assert_absent(app, db, scene["coord_other"], [OWNER_NAME, SECRET_PROPOSAL, "転送済みの提案"], H11_PAGES, [])
    _assert_absent(app, db, scene["owner"], [SECRET_PROPOSAL, scene["p1"].name], H11_PAGES, [])
    # Control: the need's own bureau sees the owner's view in its trail.
    client = app.test_client()
    assert login(client, cast.coordinator).status_code == 302
    assert OWNER_NAME in client.get("/audit/?action=proposal.viewed_by_owner").get_data(as_text=True)
    assert OWNER_NAME in client.get("/audit/trail.csv").get_data().decode("utf-8-sig")
