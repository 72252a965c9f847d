"""The confidentiality sweep for h13's themed calls: a call page lists an
anonymous need under its alias; the owner's firm never shows there (to
visitors, proposers or another bureau's coordinator), nor the call's KPI to
anyone but those who run the call."""

from __future__ import annotations

from oims.models import ThemedCall, ThemedCallNeed

from ..factories import login
from .test_confidentiality import OWNER_NAME, SECRET_FIRM, SECRET_FIRM_EN, _assert_absent


def _call(db, sc, cast):
    coord = cast.coordinator
    call = ThemedCall(title="水素社会実装テーマ募集", deadline=sc["need"].deadline, bureau=coord.bureau,
                      org_id=coord.organisation_id, created_by_id=coord.id)
    db.session.add(call)
    db.session.flush()
    db.session.add(ThemedCallNeed(call_id=call.id, need_id=sc["need"].id, added_by_id=coord.id))
    db.session.commit()
    return call, coord


def test_call_pages_hide_the_anonymous_owner_and_the_kpi(app, db, scene, cast):
    call, coord = _call(db, scene, cast)
    urls = [f"/calls/{call.id}", "/calls/", "/", "/needs/"]
    for who in ("p1", "p2"):
        _assert_absent(app, db, scene[who], [SECRET_FIRM, SECRET_FIRM_EN, OWNER_NAME, "call-kpi"], urls, [])
    _assert_absent(app, db, scene["coord_other"], ["call-kpi"], urls[:1], [])
    anon = app.test_client()
    for url in urls[:3]:
        text = anon.get(url).get_data(as_text=True)
        assert SECRET_FIRM not in text and SECRET_FIRM_EN not in text and "call-kpi" not in text
    # controls: the page does list the need (by alias), and the bureau's coordinator sees the KPI
    page = anon.get(f"/calls/{call.id}").get_data(as_text=True)
    assert scene["need"].title in page and scene["need"].alias in page
    client = app.test_client()
    assert login(client, coord).status_code == 302
    assert "call-kpi" in client.get(f"/calls/{call.id}").get_data(as_text=True)


def test_fairness_badge_never_on_the_anonymous_need_and_no_single_rating_shows(app, db, scene, factory):
    from oims.models import OwnerRating

    owner, need = scene["owner"], scene["need"]
    named = factory.need(owner=owner, title="実名ニーズ：接合技術")
    for i in range(5):
        proposer = factory.user("proposer")
        p = factory.proposal(named, proposer=proposer, stage="declined")
        db.session.add(OwnerRating(proposal_id=p.id, need_id=named.id, owner_org_id=owner.organisation_id,
                                   rater_user_id=proposer.id, decision="declined", clear_reason=1 + i % 5,
                                   on_time=2, respectful=3))
    db.session.commit()
    _assert_absent(app, db, scene["p2"], ["fairness-badge"], [f"/needs/{need.id}"], [])
    client = app.test_client()
    assert login(client, scene["p2"]).status_code == 302
    results = client.get("/needs/").get_data(as_text=True)
    anon_card = next(c for c in results.split("card-need")[1:] if need.title in c)
    assert "fairness-badge" not in anon_card
    named_page = client.get(f"/needs/{named.id}").get_data(as_text=True)
    assert "fairness-badge" in named_page  # control: the named need has it (average 3.0 of 1..5)
    badge = named_page.split("fairness-badge", 1)[1].split("</span></span>", 1)[0]
    assert "3.0" in badge and "2.0" in badge
