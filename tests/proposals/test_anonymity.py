"""An anonymous need never shows its owner to proposers: not on proposal
pages, lists, the dashboard or in e-mails — until the owner agrees to meet."""

from __future__ import annotations

from sqlalchemy import select

from oims.brokerage.shortlist import forward_shortlist
from oims.models import Notification, OutboxMessage

from .conftest import proposal_form, proposals_of

SECRETS = ("東都モビリティ工業株式会社", "鈴木 一郎")  # the cast's owner firm and user


def _assert_hidden(text: str):
    for secret in SECRETS:
        assert secret not in text


def test_anonymous_owner_is_never_shown_to_the_proposer(cast, factory, as_user, db):
    factory.need(owner=cast.owner, anonymous=True)  # the owner's other need, on the dashboard too
    need = factory.need(owner=cast.owner, anonymous=True)
    client = as_user(cast.proposer)
    pages = [client.get(f"/proposals/new?need_id={need.id}").get_data(as_text=True)]
    client.post(f"/proposals/new?need_id={need.id}", data=proposal_form())
    [p] = proposals_of(db, cast.proposer.organisation_id)
    # The proposal moves along; the owner acts (forwarded, declines later).
    as_user(cast.coordinator).post(f"/proposals/{p.id}/screen")
    forward_shortlist(need, [p], actor=cast.coordinator, comment="")
    db.session.commit()
    as_user(cast.owner).get(f"/proposals/{p.id}")
    as_user(cast.owner).post(f"/proposals/{p.id}/decline", data={"reason": "need_changed", "note": "方針変更のため"})
    client = as_user(cast.proposer)
    client.post("/lang/ja")
    for url in (f"/proposals/{p.id}", "/proposals/mine", "/dashboard", f"/proposals/{p.id}/receipt",
                f"/proposals/{p.id}/receipt?format=txt", f"/proposals/new?need_id={need.id}"):
        pages.append(client.get(url).get_data(as_text=True))
    client.post("/lang/en")
    pages += [client.get(f"/proposals/{p.id}").get_data(as_text=True),
              client.get("/proposals/mine").get_data(as_text=True)]
    for html in pages:
        _assert_hidden(html)
    assert need.alias in pages[1]  # the alias stands in for the name
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == cast.proposer.email)).all()
    assert len(mails) == 4  # submitted, screening, shortlisted, declined
    for mail in mails:
        _assert_hidden(mail.subject + mail.body_text + mail.body_html)
    notes = db.session.scalars(select(Notification).where(Notification.user_id == cast.proposer.id)).all()
    for note in notes:
        _assert_hidden(note.text)
    # The coordinators and the owner do know who the owner is.
    assert SECRETS[0] in as_user(cast.coordinator).get(f"/proposals/{p.id}").get_data(as_text=True)


def test_owner_is_shown_once_disclosed(cast, factory, as_user, db):
    need = factory.need(owner=cast.owner, anonymous=True)
    p = factory.proposal(need, cast.proposer, stage="meeting_scheduled")
    client = as_user(cast.proposer)
    assert SECRETS[0] not in client.get(f"/proposals/{p.id}").get_data(as_text=True)
    p.owner_disclosed = True
    db.session.commit()
    assert SECRETS[0] in client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert SECRETS[0] in client.get("/proposals/mine").get_data(as_text=True)


def test_named_need_shows_its_owner(cast, need, factory, as_user):
    p = factory.proposal(need, cast.proposer, stage="submitted")
    assert SECRETS[0] in as_user(cast.proposer).get(f"/proposals/{p.id}").get_data(as_text=True)
