"""Uploads on the need and proposal forms: the type is sniffed from the bytes,
size is limited with a clear message, file names cannot reach the file system."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from oims.models import Attachment, StoredFile

from ..factories import login
from .world import PNG

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
HTML = b"<html><script>alert(1)</script></html>"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _count(db) -> int:
    return db.session.scalar(select(func.count(Attachment.id)))


def _stored_files(db) -> set[str]:
    return set(db.session.scalars(select(StoredFile.sha256)))


@pytest.fixture
def owner_need(client, factory):
    owner = factory.user("need_owner")
    need = factory.need(owner=owner, status="draft")
    assert login(client, owner).status_code == 302
    return need


def _upload_to_need(client, need, name, data):
    return client.post(f"/needs/{need.id}/attachments",
                       data={"attachments": [(io.BytesIO(data), name)]}, content_type="multipart/form-data")


@pytest.mark.parametrize("name,data", [("仕様書.pdf", EXE), ("drawing.png", HTML), ("plan.pdf", b"")],
                         ids=["exe-as-pdf", "html-as-png", "empty"])
def test_need_upload_refuses_what_the_bytes_are_not(app, client, db, owner_need, name, data):
    before, stored = _count(db), _stored_files(db)
    resp = _upload_to_need(client, owner_need, name, data)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "PDF" in page  # the message names what is allowed
    assert _count(db) == before
    assert _stored_files(db) == stored


def test_need_upload_accepts_a_real_pdf_with_a_wrong_name(app, client, db, owner_need):
    resp = _upload_to_need(client, owner_need, "scan.exe", PDF)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    att = db.session.scalars(select(Attachment).where(Attachment.need_id == owner_need.id)).one()
    assert att.content_type == "application/pdf" and att.filename.endswith(".pdf")


@pytest.mark.parametrize("name", ["../../../../etc/passwd.png", "..\\..\\windows\\system32\\x.png",
                                  "/abs/path/図面.png", "a\x00b.png", "<script>.png", "....//x.png"])
def test_need_upload_file_names_are_sanitised(app, client, db, owner_need, name):
    resp = _upload_to_need(client, owner_need, name, PNG)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    att = db.session.scalars(select(Attachment).where(Attachment.need_id == owner_need.id)
                             .order_by(Attachment.id.desc())).first()
    for bad in ("/", "\\", "..", "\x00", "<", ">"):
        assert bad not in att.filename, att.filename
    assert att.file_id is not None and att.file.sha256 == att.sha256  # the name never reaches a file system


def test_oversized_request_gets_413_with_a_message(app, client, owner_need):
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = _upload_to_need(client, owner_need, "big.pdf", PDF + b"0" * (limit + 1))
    assert resp.status_code == 413
    page = resp.get_data(as_text=True)
    assert "ファイル" in page or "File" in page  # a human message, not a bare status


def test_file_over_the_per_file_limit_is_refused_with_its_name(variant_app, db, cast, factory):
    app = variant_app(OIMS_MAX_UPLOAD_MB=0.01)  # 10 KiB per file; the request limit stays large
    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    client = app.test_client()
    assert login(client, owner).status_code == 302
    resp = _upload_to_need(client, need, "大きな図面.pdf", PDF + b"%" * 20_000)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "大きな図面" in page and "MB" in page
    assert db.session.scalar(select(func.count(Attachment.id)).where(Attachment.need_id == need.id)) == 0


def test_proposal_form_refuses_an_exe_and_saves_nothing(app, client, db, cast, factory):
    need = factory.need()
    proposer = cast.proposer
    assert login(client, proposer).status_code == 302
    data = {"title": "提案", "summary": "概要", "solution": "解決策", "submit": "1",
            "attachments": [(io.BytesIO(EXE), "提案書.pdf")]}
    from oims.models import Proposal

    before = db.session.scalar(select(func.count(Proposal.id)))
    resp = client.post(f"/proposals/new?need_id={need.id}", data=data, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "PDF" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Proposal.id))) == before  # nothing half-saved
    assert _count(db) == 0


def test_proposal_attachment_name_is_sanitised(app, client, db, cast, factory):
    need = factory.need()
    proposer = cast.proposer
    assert login(client, proposer).status_code == 302
    data = {"title": "提案", "summary": "概要", "solution": "解決策",
            "attachments": [(io.BytesIO(PNG), "../../../tmp/evil.png")]}
    resp = client.post(f"/proposals/new?need_id={need.id}", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    att = db.session.scalars(select(Attachment).where(Attachment.proposal_id.isnot(None))).one()
    assert "/" not in att.filename and ".." not in att.filename
    assert att.file is not None and att.file.size == att.size


def test_downloads_are_attachments_with_nosniff(app, client, db, owner_need):
    assert _upload_to_need(client, owner_need, "図.png", PNG).status_code == 302
    att = db.session.scalars(select(Attachment)).one()
    resp = client.get(f"/needs/attachments/{att.id}")
    assert resp.status_code == 200
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.mimetype == "image/png"
