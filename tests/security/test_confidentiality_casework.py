"""The confidentiality sweep for h8's data: sections a proposer discloses
after the NDA, and a proposer's private report to the bureau, never show to
the need owner (or a competitor, or another bureau) on any page, API answer
or export."""

from __future__ import annotations

import pytest

from oims.models import FairDealingReport

from .test_confidentiality import _assert_absent

STAGED = "段階開示の秘密ソリューションΩ"
REPORT = "無償PoCを強要されているという内部報告"


@pytest.fixture
def scene(db, cast, factory):
    """The cast's proposer marks its solution "after NDA" on one proposal and reports
    a problem privately on a case at the NDA stage (both to the cast's owner)."""
    owner, proposer, rival, coord_other = cast.owner, cast.proposer, cast.other_proposer, cast.other_coordinator
    need = factory.need(owner=owner)
    staged = factory.proposal(need, proposer=proposer, stage="shortlisted", solution=STAGED,
                              after_nda=["solution"])
    need2 = factory.need(owner=owner)
    met = factory.proposal(need2, proposer=proposer, stage="nda", owner_disclosed=True)
    db.session.add(FairDealingReport(proposal_id=met.id, reporter_id=proposer.id, category="unpaid_poc", body=REPORT))
    db.session.commit()
    return {"owner": owner, "proposer": proposer, "rival": rival, "coord_other": coord_other, "need": need,
            "staged": staged, "met": met}


def test_staged_sections_and_reports_never_reach_the_owner(app, db, scene):
    s, m = scene["staged"], scene["met"]
    urls = [f"/proposals/{s.id}", f"/proposals/{s.id}/receipt", f"/proposals/{s.id}/receipt?format=txt",
            f"/brokerage/case/{s.id}", f"/proposals/need/{s.need_id}", f"/brokerage/case/{m.id}",
            f"/proposals/{m.id}", "/brokerage/inbox", "/dashboard", "/notifications", "/insight/",
            "/insight/export/proposals.csv", "/fair-dealing/reports"]
    api = ["/api/v1/proposals", f"/api/v1/proposals/{s.id}", f"/api/v1/proposals/{m.id}"]
    _assert_absent(app, db, scene["owner"], [STAGED, REPORT], urls, api)
    _assert_absent(app, db, scene["rival"], [STAGED, REPORT], urls, api)
    _assert_absent(app, db, scene["coord_other"], [STAGED, REPORT], urls + ["/brokerage/workspace"], api)


def test_controls_the_proposer_sees_both(app, db, scene):
    from ..factories import login

    client = app.test_client()
    assert login(client, scene["proposer"]).status_code == 302
    assert STAGED in client.get(f"/proposals/{scene['staged'].id}").get_data(as_text=True)
    assert REPORT in client.get(f"/brokerage/case/{scene['met'].id}").get_data(as_text=True)
