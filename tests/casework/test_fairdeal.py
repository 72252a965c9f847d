"""Fair dealing: key terms recorded by the parties once the case reaches the
NDA/PoC stage, shown to both and the coordinator, with the guideline's
warnings; a proposer's private report reaches the bureau only."""

from __future__ import annotations

from sqlalchemy import select

from oims.models import (
    AuditLog,
    CaseTerms,
    FairDealingReport,
    Notification,
    OutboxMessage,
    Proposal,
)
from oims.proposals.workflow import change_stage

from ..rows import last_id, rows_after

TERMS = {"terms-nda_term_months": "", "terms-nda_mutual": "no", "terms-nda_scope": "試作データのみ",
         "terms-poc_scope": "試作20個の評価", "terms-poc_weeks": "12", "terms-poc_paid": "no",
         "terms-poc_fee_yen": "", "terms-ip_owner": "owner"}
REPORT_TEXT = "契約前に無償で試作20個を求められています"


def _to_nda(db, cast, case):
    """The parties sign the NDA: the coordinator records the stage, as on the case page."""
    change_stage(case.proposal, "nda", cast.coordinator)
    db.session.commit()


def test_terms_cannot_be_recorded_before_the_nda_stage(db, cast, case, signed_in):
    resp = signed_in(cast.proposer).post(f"/fair-dealing/case/{case.proposal.id}/terms", data=TERMS)
    assert resp.status_code == 400
    assert db.session.scalar(select(CaseTerms)) is None


def test_terms_recorded_by_one_party_are_shown_to_the_other_and_the_coordinator_with_warnings(db, cast, case, signed_in):
    _to_nda(db, cast, case)
    resp = signed_in(cast.proposer).post(f"/fair-dealing/case/{case.proposal.id}/terms", data=TERMS)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    terms = db.session.scalar(select(CaseTerms).where(CaseTerms.proposal_id == case.proposal.id))
    assert terms.poc_paid is False and terms.nda_term_months is None and terms.ip_owner == "owner"
    assert terms.poc_weeks == 12 and terms.nda_mutual is False
    for user in (cast.owner, cast.coordinator, cast.proposer):
        page = signed_in(user).get(f"/brokerage/case/{case.proposal.id}").get_data(as_text=True)
        assert "試作20個の評価" in page
        for code in ("unpaid_poc", "one_sided_ip", "nda_no_term", "one_way_nda"):
            assert f"fair-warning-{code}" in page, (user, code)
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "case.terms_recorded"))
    assert set(audit.detail["warnings"]) == {"unpaid_poc", "one_sided_ip", "nda_no_term", "one_way_nda"}
    # the owner corrects them: paid, with a term, joint ownership -> no warnings left
    fixed = TERMS | {"terms-nda_term_months": "24", "terms-nda_mutual": "yes", "terms-poc_paid": "yes",
                     "terms-poc_fee_yen": "3000000", "terms-ip_owner": "joint"}
    assert signed_in(cast.owner).post(f"/fair-dealing/case/{case.proposal.id}/terms", data=fixed).status_code == 302
    page = signed_in(cast.proposer).get(f"/brokerage/case/{case.proposal.id}").get_data(as_text=True)
    assert "fair-warning-" not in page and "3,000,000" in page


def test_bad_terms_are_refused_with_messages_and_nothing_saved(db, cast, case, signed_in):
    _to_nda(db, cast, case)
    bad = TERMS | {"terms-poc_weeks": "十二", "terms-poc_paid": "yes", "terms-ip_owner": "everyone"}
    resp = signed_in(cast.owner).post(f"/fair-dealing/case/{case.proposal.id}/terms", data=bad)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "is-invalid" in html and "十二" in html  # the input is kept
    assert db.session.scalar(select(CaseTerms)) is None


def test_outsiders_cannot_record_terms(db, cast, factory, case, signed_in):
    _to_nda(db, cast, case)
    stranger = factory.user("proposer")
    assert signed_in(stranger).post(f"/fair-dealing/case/{case.proposal.id}/terms", data=TERMS).status_code == 404
    assert signed_in(cast.other_coordinator).post(f"/fair-dealing/case/{case.proposal.id}/terms",
                                            data=TERMS).status_code == 404
    assert db.session.scalar(select(CaseTerms)) is None


def test_private_report_reaches_the_bureau_and_never_the_owner(db, cast, case, signed_in):
    client = signed_in(cast.proposer)
    mark = last_id(db, OutboxMessage)
    resp = client.post(f"/fair-dealing/case/{case.proposal.id}/report",
                       data={"report-category": "unpaid_poc", "report-body": REPORT_TEXT})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    (report,) = db.session.scalars(select(FairDealingReport)).all()
    assert report.reporter_id == cast.proposer.id and report.category == "unpaid_poc"
    # the Kanto coordinator is told (in-app and e-mail), nobody else
    assert db.session.scalar(select(Notification).where(Notification.user_id == cast.coordinator.id,
                                                        Notification.kind == "fair_dealing_report"))
    [mail] = rows_after(db, OutboxMessage, mark)
    assert mail.to == cast.coordinator.email and REPORT_TEXT not in mail.body_text
    assert REPORT_TEXT in signed_in(cast.coordinator).get(f"/brokerage/case/{case.proposal.id}").get_data(as_text=True)
    assert REPORT_TEXT in signed_in(cast.coordinator).get("/fair-dealing/reports").get_data(as_text=True)
    assert REPORT_TEXT in client.get(f"/brokerage/case/{case.proposal.id}").get_data(as_text=True)
    owner = signed_in(cast.owner)
    for url in (f"/brokerage/case/{case.proposal.id}", f"/proposals/{case.proposal.id}", "/notifications",
                "/dashboard", "/brokerage/inbox"):
        assert REPORT_TEXT not in owner.get(url).get_data(as_text=True), url
    assert owner.get("/fair-dealing/reports").status_code == 403
    assert REPORT_TEXT not in signed_in(cast.other_coordinator).get("/fair-dealing/reports").get_data(as_text=True)
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "case.problem_reported"))
    assert REPORT_TEXT not in str(audit.detail)


def test_only_the_proposer_reports_and_an_empty_report_is_refused(db, cast, case, signed_in):
    assert signed_in(cast.owner).post(f"/fair-dealing/case/{case.proposal.id}/report",
                                      data={"report-category": "other", "report-body": "x"}).status_code == 403
    resp = signed_in(cast.proposer).post(f"/fair-dealing/case/{case.proposal.id}/report",
                                         data={"report-category": "", "report-body": ""})
    assert resp.status_code == 400
    assert db.session.scalar(select(FairDealingReport)) is None
    assert db.session.get(Proposal, case.proposal.id).stage == "met"
