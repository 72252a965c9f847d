"""Anonymous needs never show their owner to proposers: pages, search,
attachments, e-mails, error messages."""

from __future__ import annotations

import io

from sqlalchemy import select

from oims.models import Attachment, Need, Notification, OutboxMessage

from .conftest import need_form

OWNER_NAMES = ("東都モビリティ", "Toto Mobility", "鈴木 一郎")


def _assert_no_owner(text: str) -> None:
    for name in OWNER_NAMES:
        assert name not in text, name


def _anonymous_need(as_user, people, db, **kw):
    """Create, submit and publish an anonymous need through the pages."""
    c = as_user(people.owner)
    assert c.post("/needs/new", data=need_form(anonymous="y", action="submit", **kw)).status_code == 302
    need = db.session.scalar(select(Need).order_by(Need.id.desc()))
    c = as_user(people.coordinator)
    data = {"pub-" + k: v for k, v in need_form(anonymous="y", **kw).items()}
    assert c.post(f"/needs/{need.id}/review", data=data | {"action": "publish"}).status_code == 302
    db.session.expire_all()
    return db.session.get(Need, need.id)


def test_alias_from_industry_and_size_and_stable_per_owner(people, as_user, factory, db):
    need = _anonymous_need(as_user, people, db)
    assert need.alias == "大手製造業A社" and need.alias_en == "Major manufacturer A"
    second = _anonymous_need(as_user, people, db, title="二件目の匿名ニーズ")
    assert second.alias == "大手製造業A社"   # the same owner keeps its letter
    rival = factory.user("need_owner", org=factory.org(kind="large", industry="E"))
    c = as_user(rival)
    c.post("/needs/new", data=need_form(anonymous="y", title="他社の匿名ニーズ"))
    third = db.session.scalar(select(Need).where(Need.title == "他社の匿名ニーズ"))
    assert third.alias == "大手製造業B社"     # another owner gets another letter


def test_proposer_pages_never_show_owner(people, as_user, factory, db):
    need = _anonymous_need(as_user, people, db)
    c = as_user(people.proposer)
    for url in (f"/needs/{need.id}", "/needs/", "/needs/?q=軽量化", "/needs/?keyword=CFRP",
                f"/needs/{need.id}/versions", "/dashboard"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        body = resp.get_data(as_text=True)
        _assert_no_owner(body)
    assert "大手製造業A社" in c.get(f"/needs/{need.id}").get_data(as_text=True)
    # searching for the firm's name does not find the anonymous need
    for q in ("東都モビリティ", "toto mobility"):
        assert need.title not in c.get("/needs/", query_string={"q": q}).get_data(as_text=True)
    # refused actions do not name the owner either
    for url in (f"/needs/{need.id}/withdraw", f"/needs/{need.id}/fulfil", f"/needs/{need.id}/submit"):
        resp = c.post(url)
        assert resp.status_code in (403, 400)
        _assert_no_owner(resp.get_data(as_text=True))
    # in English too
    c.post("/lang/en")
    body = c.get(f"/needs/{need.id}").get_data(as_text=True)
    _assert_no_owner(body)
    assert "Major manufacturer A" in body


def test_owner_and_staff_see_the_name(people, as_user, db):
    need = _anonymous_need(as_user, people, db)
    for user in (people.owner, people.coordinator):
        c = as_user(user)
        assert "東都モビリティ" in c.get(f"/needs/{need.id}").get_data(as_text=True)


def test_owner_disclosed_after_meeting_agreed(people, as_user, factory, db):
    need = _anonymous_need(as_user, people, db)
    proposal = factory.proposal(need, people.proposer, stage="meeting_scheduled")
    c = as_user(people.proposer)
    _assert_no_owner(c.get(f"/needs/{need.id}").get_data(as_text=True))
    proposal.owner_disclosed = True
    db.session.commit()
    assert "東都モビリティ" in c.get(f"/needs/{need.id}").get_data(as_text=True)


PNG_WITH_TEXT = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
                 + b"\x90wS\xde" + b"\x00\x00\x00\x1btEXtAuthor\x00Toto Mobility Ltd.xx" + b"\x00\x00\x00\x00"
                 + b"\x00\x00\x00\x00IEND\xaeB`\x82")


def _pdf(author: bytes = b"Toto Mobility") -> bytes:
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
            b"3 0 obj\n<< /Author (" + author + b") /Creator (Word \\(Toto\\)) /Title <FEFF0041> >>\nendobj\n"
            b"trailer\n<< /Root 1 0 R /Info 3 0 R >>\n%%EOF\n")


def test_attachments_renamed_and_scrubbed_for_proposers(people, as_user, factory, db):
    need = _anonymous_need(as_user, people, db)
    c = as_user(people.owner)
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": [
        (io.BytesIO(_pdf()), "東都モビリティ_仕様書.pdf"), (io.BytesIO(PNG_WITH_TEXT), "toto-mobility-photo.png")]},
        content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    atts = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [a.filename for a in atts] == ["東都モビリティ_仕様書.pdf", "toto-mobility-photo.png"]
    # the owner sees and downloads its own names
    owner_page = c.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "東都モビリティ_仕様書.pdf" in owner_page
    resp = c.get(f"/needs/attachments/{atts[0].id}")
    assert "filename*=UTF-8''%E6%9D%B1" in resp.headers["Content-Disposition"]
    c = as_user(people.proposer)
    page = c.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "attachment-1.pdf" in page and "attachment-2.png" in page
    _assert_no_owner(page)
    assert "toto" not in page.lower().replace("totomobility", "")
    pdf = c.get(f"/needs/attachments/{atts[0].id}")
    assert pdf.status_code == 200 and "attachment-1.pdf" in pdf.headers["Content-Disposition"]
    assert b"Toto" not in pdf.data and pdf.data.startswith(b"%PDF-1.4")
    assert len(pdf.data) == len(_pdf())  # blanked in place, offsets unchanged
    png = c.get(f"/needs/attachments/{atts[1].id}")
    assert "attachment-2.png" in png.headers["Content-Disposition"]
    assert b"tEXt" not in png.data and b"Toto" not in png.data and png.data.startswith(b"\x89PNG")
    # a proposer cannot fetch the files of a need it may not see
    draft = factory.need(people.owner, status="draft")
    c = as_user(people.owner)
    c.post(f"/needs/{draft.id}/attachments", data={"attachments": [(io.BytesIO(_pdf(b"")), "x.pdf")]},
           content_type="multipart/form-data")
    draft_att = db.session.scalar(select(Attachment).where(Attachment.need_id == draft.id))
    c = as_user(people.proposer)
    assert c.get(f"/needs/attachments/{draft_att.id}").status_code == 404


def test_pdf_with_compressed_author_is_refused_for_anonymous_need(people, as_user, factory, db):
    import zlib

    need = factory.need(people.owner, status="draft", anonymous=True)
    hidden = zlib.compress(b"<< /Author (Toto Mobility) >>")
    pdf = (b"%PDF-1.5\n4 0 obj\n<< /Type /ObjStm /Filter /FlateDecode /Length " + str(len(hidden)).encode()
           + b" >>\nstream\n" + hidden + b"\nendstream\nendobj\n%%EOF\n")
    c = as_user(people.owner)
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": [(io.BytesIO(pdf), "spec.pdf")]},
                  content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "プロパティ" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Attachment)) is None
    # the same file is fine on a named need (nothing to hide there)
    named = factory.need(people.owner, status="draft")
    resp = c.post(f"/needs/{named.id}/attachments", data={"attachments": [(io.BytesIO(pdf), "spec.pdf")]},
                  content_type="multipart/form-data")
    assert resp.status_code == 302


def test_emails_to_proposers_use_the_alias(people, as_user, factory, db):
    need = _anonymous_need(as_user, people, db)
    factory.proposal(need, people.proposer, stage="submitted")
    factory.proposal(need, people.other_proposer, stage="draft")
    people.other_proposer.language = "en"
    db.session.commit()
    c = as_user(people.owner)
    resp = c.post(f"/needs/{need.id}/edit", data=need_form(anonymous="y", sought="CFRPとアルミの異材接合の量産技術。"))
    assert resp.status_code == 302
    proposer_emails = {people.proposer.email, people.other_proposer.email}
    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to.in_(proposer_emails))).all()
    assert {m.to for m in mails} == proposer_emails
    notes = db.session.scalars(select(Notification).where(
        Notification.user_id.in_([people.proposer.id, people.other_proposer.id]))).all()
    assert notes
    for m in mails:
        _assert_no_owner(m.subject + m.body_text + m.body_html)
        alias = "Major manufacturer A" if m.to == people.other_proposer.email else "大手製造業A社"
        assert alias in m.body_text and alias in m.body_text.split("\n")[2]
    for n in notes:
        _assert_no_owner(n.text)


def test_deadline_reminders_use_the_alias(people, factory, runner, db):
    need = factory.need(people.owner, status="published", anonymous=True, deadline_days=5)
    factory.proposal(need, people.proposer, stage="draft")
    assert runner.invoke(args=["oims", "remind-deadlines"]).exit_code == 0
    mine = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == people.proposer.email)).all()
    assert len(mine) == 1
    _assert_no_owner(mine[0].subject + mine[0].body_text)
    assert "大手製造業A社" in mine[0].body_text


def test_pdf_metadata_detector():
    import zlib

    from oims.needs.uploads import pdf_has_identifying_metadata, strip_pdf

    def compressed(obj: bytes) -> bytes:
        return b"%PDF-1.5\n1 0 obj\n<< /Filter /FlateDecode >>\nstream\n" + zlib.compress(obj) + b"\nendstream\nendobj\n"

    info = b"<< /Title (Toto spec.docx) /Producer (Word) /CreationDate (D:20260101) >>"
    bookmark = b"<< /Title (Chapter 1) /Parent 3 0 R /Next 5 0 R >>"
    xmp = b"<x:xmpmeta><dc:creator>Suzuki</dc:creator></x:xmpmeta>"
    assert pdf_has_identifying_metadata(compressed(info))
    assert pdf_has_identifying_metadata(compressed(xmp))
    assert not pdf_has_identifying_metadata(compressed(bookmark))
    plain = b"%PDF-1.4\n" + info + b"\n" + xmp + b"\n%%EOF\n"
    cleaned = strip_pdf(plain)
    assert len(cleaned) == len(plain) and b"Toto" not in cleaned and b"Suzuki" not in cleaned
    assert not pdf_has_identifying_metadata(cleaned)
