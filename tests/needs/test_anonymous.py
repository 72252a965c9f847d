"""Anonymous needs never show their owner to proposers: pages, search,
attachments, e-mails, error messages."""

from __future__ import annotations

import io

from sqlalchemy import select

from oims.models import Attachment, Need, Notification, OutboxMessage

from ..rows import last_id, rows_after
from .conftest import need_form

OWNER_NAMES = ("東都モビリティ", "Toto Mobility", "鈴木 一郎")


def _assert_no_owner(text: str) -> None:
    for name in OWNER_NAMES:
        assert name not in text, name


def _anonymous_need(as_user, cast, db, **kw):
    """Create, submit and publish an anonymous need through the pages."""
    c = as_user(cast.owner)
    assert c.post("/needs/new", data=need_form(anonymous="y", action="submit", **kw)).status_code == 302
    need = db.session.scalar(select(Need).order_by(Need.id.desc()))
    c = as_user(cast.coordinator)
    data = {"pub-" + k: v for k, v in need_form(anonymous="y", **kw).items()}
    assert c.post(f"/needs/{need.id}/review", data=data | {"action": "publish"}).status_code == 302
    db.session.expire_all()
    return db.session.get(Need, need.id)


def test_each_anonymous_need_gets_its_own_alias(cast, as_user, factory, db):
    need = _anonymous_need(as_user, cast, db)
    second = _anonymous_need(as_user, cast, db, title="二件目の匿名ニーズ")
    assert need.alias != second.alias and need.alias_en != second.alias_en   # not linkable
    assert "・案件" in need.alias and ", case " in need.alias_en
    assert need.alias[-4:] == need.alias_en[-4:]
    _assert_no_owner(need.alias + need.alias_en)


def test_proposer_pages_never_show_owner(cast, as_user, factory, db):
    need = _anonymous_need(as_user, cast, db)
    c = as_user(cast.proposer)
    for url in (f"/needs/{need.id}", "/needs/", "/needs/?q=軽量化", "/needs/?keyword=CFRP",
                f"/needs/{need.id}/versions", "/dashboard"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        body = resp.get_data(as_text=True)
        _assert_no_owner(body)
    assert need.alias in c.get(f"/needs/{need.id}").get_data(as_text=True)
    # searching for the firm's name does not find the anonymous need
    for q in ("東都モビリティ", "toto mobility"):
        assert need.title not in c.get("/needs/", query_string={"q": q}).get_data(as_text=True)
    # refused actions do not name the owner either
    for url in (f"/needs/{need.id}/withdraw", f"/needs/{need.id}/fulfil", f"/needs/{need.id}/submit"):
        resp = c.post(url)
        assert resp.status_code == 403  # the need is visible to the proposer, the action is not its
        _assert_no_owner(resp.get_data(as_text=True))
    # in English too
    c.post("/lang/en")
    body = c.get(f"/needs/{need.id}").get_data(as_text=True)
    _assert_no_owner(body)
    assert need.alias_en in body


def test_owner_and_staff_see_the_name(cast, as_user, db):
    need = _anonymous_need(as_user, cast, db)
    for user in (cast.owner, cast.coordinator):
        c = as_user(user)
        assert "東都モビリティ" in c.get(f"/needs/{need.id}").get_data(as_text=True)


def test_owner_disclosed_after_meeting_agreed(cast, as_user, factory, db):
    need = _anonymous_need(as_user, cast, db)
    proposal = factory.proposal(need, cast.proposer, stage="meeting_scheduled")
    c = as_user(cast.proposer)
    _assert_no_owner(c.get(f"/needs/{need.id}").get_data(as_text=True))
    proposal.owner_disclosed = True
    db.session.commit()
    assert "東都モビリティ" in c.get(f"/needs/{need.id}").get_data(as_text=True)


def _png_with_text() -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Toto Mobility Ltd.")
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _pdf(author: bytes = b"Toto Mobility") -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    if author:
        pdf.docinfo["/Author"] = author.decode()
        pdf.docinfo["/Creator"] = f"Word ({author.decode()})"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_attachments_renamed_and_scrubbed_for_proposers(cast, as_user, factory, db):
    need = _anonymous_need(as_user, cast, db)
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": [
        (io.BytesIO(_pdf()), "東都モビリティ_仕様書.pdf"), (io.BytesIO(_png_with_text()), "toto-mobility-photo.png")]},
        content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    atts = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [a.filename for a in atts] == ["東都モビリティ_仕様書.pdf", "toto-mobility-photo.png"]
    # the owner sees and downloads its own names
    owner_page = c.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "東都モビリティ_仕様書.pdf" in owner_page
    resp = c.get(f"/needs/attachments/{atts[0].id}")
    assert "filename*=UTF-8''%E6%9D%B1" in resp.headers["Content-Disposition"]
    c = as_user(cast.proposer)
    page = c.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "attachment-1.pdf" in page and "attachment-2.png" in page
    _assert_no_owner(page)
    assert "toto" not in page.lower().replace("totomobility", "")
    pdf = c.get(f"/needs/attachments/{atts[0].id}")
    assert pdf.status_code == 200 and "attachment-1.pdf" in pdf.headers["Content-Disposition"]
    assert b"Toto" not in pdf.data and pdf.data.startswith(b"%PDF-")
    png = c.get(f"/needs/attachments/{atts[1].id}")
    assert "attachment-2.png" in png.headers["Content-Disposition"]
    assert b"tEXt" not in png.data and b"Toto" not in png.data and png.data.startswith(b"\x89PNG")
    # a proposer cannot fetch the files of a need it may not see
    draft = factory.need(cast.owner, status="draft")
    c = as_user(cast.owner)
    c.post(f"/needs/{draft.id}/attachments", data={"attachments": [(io.BytesIO(_pdf(b"")), "x.pdf")]},
           content_type="multipart/form-data")
    draft_att = db.session.scalar(select(Attachment).where(Attachment.need_id == draft.id))
    c = as_user(cast.proposer)
    assert c.get(f"/needs/attachments/{draft_att.id}").status_code == 404


def test_unreadable_pdf_is_refused_for_anonymous_need(cast, as_user, factory, db):
    import zlib

    need = factory.need(cast.owner, status="draft", anonymous=True)
    hidden = zlib.compress(b"<< /Author (Toto Mobility) >>")
    pdf = (b"%PDF-1.5\n4 0 obj\n<< /Type /ObjStm /Filter /FlateDecode /Length " + str(len(hidden)).encode()
           + b" >>\nstream\n" + hidden + b"\nendstream\nendobj\n%%EOF\n")
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": [(io.BytesIO(pdf), "spec.pdf")]},
                  content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "PDFを読み取れませんでした" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Attachment)) is None
    # the same file is fine on a named need (nothing to hide there)
    named = factory.need(cast.owner, status="draft")
    resp = c.post(f"/needs/{named.id}/attachments", data={"attachments": [(io.BytesIO(pdf), "spec.pdf")]},
                  content_type="multipart/form-data")
    assert resp.status_code == 302


def test_emails_to_proposers_use_the_alias(cast, as_user, factory, db):
    need = _anonymous_need(as_user, cast, db)
    factory.proposal(need, cast.proposer, stage="submitted")
    factory.proposal(need, cast.other_proposer, stage="draft")
    cast.other_proposer.language = "en"
    db.session.commit()
    mails_mark, notes_mark = last_id(db, OutboxMessage), last_id(db, Notification)
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/edit", data=need_form(anonymous="y", sought="CFRPとアルミの異材接合の量産技術。"))
    assert resp.status_code == 302
    proposer_emails = {cast.proposer.email, cast.other_proposer.email}
    mails = rows_after(db, OutboxMessage, mails_mark, OutboxMessage.to.in_(proposer_emails))
    assert {m.to for m in mails} == proposer_emails
    notes = rows_after(db, Notification, notes_mark,
                       Notification.user_id.in_([cast.proposer.id, cast.other_proposer.id]))
    assert notes
    for m in mails:
        _assert_no_owner(m.subject + m.body_text + m.body_html)
        alias = need.alias_en if m.to == cast.other_proposer.email else need.alias
        assert alias in m.body_text and alias in m.body_text.split("\n")[2]
    for n in notes:
        _assert_no_owner(n.text)


def test_deadline_reminders_use_the_alias(cast, factory, runner, db):
    need = factory.need(cast.owner, status="published", anonymous=True, deadline_days=5)
    factory.proposal(need, cast.proposer, stage="draft")
    mark = last_id(db, OutboxMessage)
    assert runner.invoke(args=["oims", "remind-deadlines"]).exit_code == 0
    mine = rows_after(db, OutboxMessage, mark, OutboxMessage.to == cast.proposer.email)
    assert len(mine) == 1
    _assert_no_owner(mine[0].subject + mine[0].body_text)
    assert need.alias in mine[0].body_text
