"""Issue 12, submission cost: a submission POST issues a bounded number of SQL
statements, the same whether one or many people are told (the proposing
organisation's users and the coordinators of the need's bureau), and every
row of the submission is still written in its one transaction."""

from __future__ import annotations

import threading

from sqlalchemy import event, func, select

from oims.models import AuditLog, Notification, OutboxMessage, Proposal, ProposalEvent, ProposalReceipt

from .conftest import proposal_form

# 5 reads (user, organisation, need, active proposal, invitation), the proposal's
# INSERT with its ORM hooks, the recipients, the stage UPDATE with event, receipt
# and audit rows, one INSERT each for notifications and e-mails. Was 29 with
# one coordinator and one proposer user, growing by 2 per person told.
MAX_STATEMENTS = 20


class Statements:
    """Counts the SQL statements this thread sends while active."""

    def __init__(self, engine):
        self.engine, self.thread, self.sql = engine, threading.get_ident(), []

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == self.thread:
            self.sql.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _submit(client, db, proposer, need, title: str) -> tuple[int, Proposal]:
    with Statements(db.engine) as seen:
        resp = client.post(f"/proposals/new?need_id={need.id}", data=proposal_form(title=title))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    db.session.expire_all()
    [p] = db.session.scalars(select(Proposal).where(Proposal.title == title)).all()
    assert resp.headers["Location"].endswith(f"/proposals/{p.id}")
    return len(seen.sql), p


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_submission_statements_do_not_grow_with_the_people_told(cast, need, factory, as_user, db):
    f = factory
    # Warm-up (first-request work of the app is not the submission's).
    warm = f.user("proposer")
    _submit(as_user(warm), db, warm, need, "準備の提案")

    # Few people told: one proposer user; the cast's Kanto coordinator.
    few_statements, few = _submit(as_user(cast.proposer), db, cast.proposer, need, "少人数への通知")

    # Many: five users in the proposing organisation (one disabled), six more
    # Kanto coordinators (one disabled), and coordinators of another bureau.
    lead = f.user("proposer")
    colleagues = [f.user("proposer", org=lead.organisation) for _ in range(4)]
    f.user("proposer", org=lead.organisation, status="disabled")
    coordinators = [f.user("coordinator") for _ in range(6)]
    f.user("coordinator", status="disabled")
    f.user("coordinator", prefecture="23")
    many_statements, many = _submit(as_user(lead), db, lead, need, "大人数への通知")

    assert few_statements <= MAX_STATEMENTS
    assert many_statements == few_statements

    # Nothing left out: each active person told in-app and by e-mail, once.
    kanto = [cast.coordinator, *coordinators]
    for proposal, told in ((few, [cast.proposer, cast.coordinator]), (many, [lead, *colleagues, *kanto])):
        url = f"/proposals/{proposal.id}"
        notes = db.session.scalars(select(Notification).where(Notification.url == url)).all()
        assert sorted(n.user_id for n in notes) == sorted(u.id for u in told)
        kinds = {n.user_id: n.kind for n in notes}
        assert {kinds[u.id] for u in kanto if u in told} <= {"proposal_submitted"}
        assert kinds[told[0].id] == "proposal_stage"
        for user in told:
            [mail] = db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.to == user.email, OutboxMessage.body_text.contains(proposal.title))).all()
            assert mail.status == "pending" and proposal.receipt_hash in mail.body_text
        assert _count(db, ProposalEvent, ProposalEvent.proposal_id == proposal.id) == 1
        assert _count(db, ProposalReceipt, ProposalReceipt.proposal_id == proposal.id) == 1
        actions = sorted(db.session.scalars(select(AuditLog.action).where(
            AuditLog.object_type == "proposal", AuditLog.object_id == proposal.id)))
        assert actions == ["proposal.created", "proposal.submitted"]
