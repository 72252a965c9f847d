"""Bad input is answered with 400 and a message, and nothing is saved."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from oims.models import Attachment, Need, StoredFile

from .conftest import need_form


def _png() -> bytes:
    """A real 1×1 image: uploads are re-encoded from their pixels, so they must have some."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 0, 0)).save(out, "PNG")
    return out.getvalue()


PNG = _png()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run"


def _count(db, model):
    return db.session.scalar(select(func.count(model.id)))


def _stored_files(db):
    return sorted(db.session.scalars(select(StoredFile.sha256)))


BAD_NEED_INPUT = [
    ("title", "長" * 201, "200文字以内"),
    ("summary", "あ" * 2001, "2000文字以内"),
    ("background", "x" * 5001, "5000文字以内"),
    ("title", "", "必須"),
    ("summary", "  ", "必須"),
    ("deadline", "", "必須"),
    ("deadline", (date.today() - timedelta(days=1)).isoformat(), "明日以降"),
    ("deadline", date.today().isoformat(), "明日以降"),
    ("deadline", (date.today() + timedelta(days=1000)).isoformat(), "2年以内"),
    ("partnership_types", [], "1つ以上"),
    ("partnership_types", ["joint_rnd", "bribery"], "不明な連携形態"),
    ("regions", ["mars"], "不明な地域"),
    ("keywords", ", ".join(f"語{i}" for i in range(20)), "15個まで"),
]


def test_bad_need_input(cast, as_user, db):
    c = as_user(cast.owner)
    for field, value, message in BAD_NEED_INPUT:
        resp = c.post("/needs/new", data=need_form(**{field: value}, action="submit"))
        assert resp.status_code == 400, field
        body = resp.get_data(as_text=True)
        assert message in body, (field, value)
        assert _count(db, Need) == 0
        if field != "title":
            assert "車体の軽量化部材の共同開発" in body  # what was typed is kept


def test_bad_edit_keeps_the_need_unchanged(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published", title="元のタイトル")
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/edit", data=need_form(title="x" * 300))
    assert resp.status_code == 400
    db.session.expire_all()
    need = db.session.get(Need, need.id)
    assert need.title == "元のタイトル" and need.version == 1 and need.versions == []


def test_exe_renamed_pdf_is_refused(cast, as_user, db, app):
    before = _stored_files(db)
    c = as_user(cast.owner)
    resp = c.post("/needs/new", data=need_form(attachments=[(io.BytesIO(EXE), "仕様書.pdf")]),
                  content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "PDF・PNG・JPEG" in resp.get_data(as_text=True)
    assert _count(db, Need) == 0 and _count(db, Attachment) == 0
    assert _stored_files(db) == before


def test_second_bad_file_leaves_no_stored_bytes(cast, as_user, db, app):
    before = _stored_files(db)
    c = as_user(cast.owner)
    resp = c.post("/needs/new", data=need_form(attachments=[(io.BytesIO(PNG), "ok.png"), (io.BytesIO(EXE), "b.pdf")]),
                  content_type="multipart/form-data")
    assert resp.status_code == 400
    assert _count(db, Need) == 0 and _count(db, Attachment) == 0
    assert _stored_files(db) == before


def test_oversize_file_is_refused(cast, as_user, factory, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "OIMS_MAX_UPLOAD_MB", 0.01)  # about 10 KB
    need = factory.need(cast.owner, status="draft")
    big = PNG[:-12] + b"\x00" * 20_000 + PNG[-12:]
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": [(io.BytesIO(big), "big.png")]},
                  content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "MB" in resp.get_data(as_text=True) and "big" in resp.get_data(as_text=True)
    assert _count(db, Attachment) == 0


def test_good_upload_is_stored_with_random_name_and_safe_filename(cast, as_user, factory, db, app):
    need = factory.need(cast.owner, status="draft")
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/attachments",
                  data={"attachments": [(io.BytesIO(PNG), "../../etc/<写真>.png")]}, content_type="multipart/form-data")
    assert resp.status_code == 302
    att = db.session.scalar(select(Attachment))
    assert att.filename == "写真.png" and att.content_type == "image/png"
    assert _stored_files(db) == [att.sha256]  # the bytes are a row, not a file in the instance folder
    download = c.get(f"/needs/attachments/{att.id}")
    assert download.headers["X-Content-Type-Options"] == "nosniff" and att.size == len(download.data)
    from PIL import (
        Image,  # re-encoded from its pixels (oims.needs.cleaning), same picture
    )
    assert Image.open(io.BytesIO(download.data)).size == Image.open(io.BytesIO(PNG)).size
    # removing it deletes the bytes too
    assert c.post(f"/needs/{need.id}/attachments/{att.id}/delete").status_code == 302
    assert _stored_files(db) == []


def test_upload_refused_for_others(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published")
    for user, code in ((cast.proposer, 403), (cast.coordinator, 403), (cast.other_owner, 403)):
        c = as_user(user)
        resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": [(io.BytesIO(PNG), "a.png")]},
                      content_type="multipart/form-data")
        assert resp.status_code == code
    assert _count(db, Attachment) == 0


def test_jpeg_exif_is_stripped(cast, as_user, factory, db):
    from .identifying_files import jpeg_with_exif

    need = factory.need(cast.owner, status="draft")
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": [(io.BytesIO(jpeg_with_exif("Toto Mobility")),
                                                                          "p.jpg")]},
                  content_type="multipart/form-data")
    assert resp.status_code == 302
    att = db.session.scalar(select(Attachment))
    data = c.get(f"/needs/attachments/{att.id}").data
    assert b"Toto" not in data and b"Exif" not in data and data.startswith(b"\xff\xd8")
    assert data.endswith(b"\xff\xd9")  # nothing after the end of the image


def test_attachment_count_is_limited(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="draft")
    c = as_user(cast.owner)
    files = [(io.BytesIO(PNG), f"p{i}.png") for i in range(11)]
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": files}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "10個まで" in resp.get_data(as_text=True)
    assert _count(db, Attachment) == 0
