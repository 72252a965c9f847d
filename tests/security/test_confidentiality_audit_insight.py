"""Confidentiality sweep over the h11 pages (audit screens, regional
strength, declines): the anonymous owner stays hidden from proposers, an
unforwarded proposal from the owner, and one bureau's trail from another."""

from __future__ import annotations

from ..factories import login
from .test_confidentiality import SECRET_FIRM, SECRET_FIRM_EN, SECRET_PROPOSAL, _assert_absent, scene  # noqa: F401

H11_PAGES = ["/audit/", "/audit/trail.csv", "/audit/proposal-views", "/insight/strength", "/insight/strength/orgs.csv",
             "/insight/strength/gap.csv", "/insight/declines", "/insight/declines.csv", "/proposals/mine"]


def _forwarded_and_viewed(app, factory, scene):  # noqa: F811 - the imported fixture
    prop = factory.proposal(scene["need"], proposer=scene["p2"], stage="shortlisted", title="転送済みの提案")
    owner = app.test_client()
    assert login(owner, scene["owner"]).status_code == 302
    assert owner.get(f"/proposals/{prop.id}").status_code == 200  # audited: 秘密 太郎 viewed it
    return prop


def test_proposer_learns_when_but_not_who(app, db, factory, scene):  # noqa: F811
    prop = _forwarded_and_viewed(app, factory, scene)
    urls = [f"/proposals/{prop.id}", *H11_PAGES]
    _assert_absent(app, db, scene["p2"], [SECRET_FIRM, SECRET_FIRM_EN, "秘密 太郎"], urls, [])
    client = app.test_client()
    assert login(client, scene["p2"]).status_code == 302
    assert "ニーズ保有者がこの提案を初めて開いた日時" in client.get(f"/proposals/{prop.id}").get_data(as_text=True)


def test_other_bureau_and_owner_see_nothing_of_it(app, db, factory, scene):  # noqa: F811
    _forwarded_and_viewed(app, factory, scene)
    _assert_absent(app, db, scene["coord_other"], ["秘密 太郎", SECRET_PROPOSAL, "転送済みの提案"], H11_PAGES, [])
    _assert_absent(app, db, scene["owner"], [SECRET_PROPOSAL, "提案 一郎"], H11_PAGES, [])
    # Control: the need's own bureau sees the owner's view in its trail.
    coord = factory.user("coordinator", prefecture="13")
    client = app.test_client()
    assert login(client, coord).status_code == 302
    assert "秘密 太郎" in client.get("/audit/?action=proposal.viewed_by_owner").get_data(as_text=True)
    assert "秘密 太郎" in client.get("/audit/trail.csv").get_data().decode("utf-8-sig")
