"""Uploaded files live in the database (issue 12): a second app host with its own,
empty instance folder serves every file; bytes follow the transaction; identical
bytes are stored once; downloads carry an ETag (SHA-256) and answer If-None-Match
with 304 only after the access check. On SQLite, and on PostgreSQL when
OIMS_TEST_DATABASE_URL is set (the second app shares the suite's database)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy import text as sa_text

from oims.models import Attachment, Need, Proposal, StoredFile
from oims.needs import uploads

from ..factories import login
from ..security.test_uploads import EXE, PDF
from ..security.world import PNG


def _stored(db) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(StoredFile.sha256)))


def _upload(client, need, *files):
    return client.post(f"/needs/{need.id}/attachments",
                       data={"attachments": [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data")


def _files_under(folder: Path) -> dict[str, bytes]:
    """Every file of an instance folder but the suite's SQLite database (which is the database)."""
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".sqlite3" not in p.name}


def test_second_host_with_its_own_instance_folder_serves_the_upload(app, client, db, cast, factory, variant_app):
    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    assert login(client, owner).status_code == 302
    big_pdf = PDF + b"%" + b"x" * 50_000 + b"\n"  # a named need's PDF is stored as uploaded
    assert _upload(client, need, ("仕様書.pdf", big_pdf)).status_code == 302
    att = db.session.scalars(select(Attachment).where(Attachment.need_id == need.id)).one()

    second = variant_app()  # another instance folder, the same database
    assert second.instance_path != app.instance_path
    assert second.config["OIMS_UPLOAD_DIR"] != app.config["OIMS_UPLOAD_DIR"]
    other = second.test_client()
    assert login(other, owner).status_code == 302
    resp = other.get(f"/needs/attachments/{att.id}")
    assert resp.status_code == 200
    assert resp.data == big_pdf and resp.mimetype == "application/pdf"
    assert resp.headers["ETag"] == f'"{hashlib.sha256(big_pdf).hexdigest()}"'
    # Neither host keeps the bytes on its disk.
    for folder in (Path(app.instance_path), Path(second.instance_path)):
        assert not any(big_pdf[-1000:] in data for data in _files_under(folder).values())


def test_second_host_serves_a_proposal_file(app, client, db, cast, factory, variant_app):
    need = factory.need()
    proposer = cast.proposer
    assert login(client, proposer).status_code == 302
    form = {"title": "提案", "summary": "概要", "solution": "解決策",
            "attachments": [(io.BytesIO(PNG), "図面.png")]}
    assert client.post(f"/proposals/new?need_id={need.id}", data=form,
                       content_type="multipart/form-data").status_code == 302
    prop = db.session.scalars(select(Proposal).where(Proposal.need_id == need.id)).one()
    att = db.session.scalars(select(Attachment).where(Attachment.proposal_id == prop.id)).one()
    other = variant_app().test_client()
    assert login(other, proposer).status_code == 302
    resp = other.get(f"/proposals/{prop.id}/files/{att.id}")
    assert resp.status_code == 200 and resp.data == PNG  # proposals' files are kept as uploaded
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''%E5%9B%B3%E9%9D%A2.png" in resp.headers["Content-Disposition"]
    assert resp.headers["Content-Disposition"].startswith("attachment;")


def test_a_refused_form_leaves_no_stored_bytes(app, client, db, cast, factory):
    need = factory.need()
    proposer = cast.proposer
    assert login(client, proposer).status_code == 302
    form = {"title": "提案", "summary": "概要", "solution": "解決策", "submit": "1",
            "attachments": [(io.BytesIO(PNG), "ok.png"), (io.BytesIO(EXE), "b.pdf")]}
    resp = client.post(f"/proposals/new?need_id={need.id}", data=form, content_type="multipart/form-data")
    assert resp.status_code == 400  # the PNG was stored (flushed) before the EXE was refused
    assert _stored(db) == [] and db.session.scalar(select(func.count(Attachment.id))) == 0


def test_rollback_after_a_flushed_upload_leaves_no_row(app, db, cast, factory):
    from werkzeug.datastructures import FileStorage

    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    att = uploads.save_upload(FileStorage(io.BytesIO(PDF), "a.pdf"), need=need, actor=owner)
    assert att.file_id is not None and _stored_in_tx(db) == 1
    db.session.rollback()
    assert _stored(db) == [] and db.session.scalar(select(func.count(Attachment.id))) == 0


def _stored_in_tx(db) -> int:
    return db.session.scalar(select(func.count(StoredFile.id)))


def test_identical_bytes_are_stored_once_and_kept_while_used(app, client, db, cast, factory):
    owner = cast.owner
    first = factory.need(owner=owner, status="draft")
    second = factory.need(owner=owner, status="draft")
    assert login(client, owner).status_code == 302
    assert _upload(client, first, ("a.pdf", PDF)).status_code == 302
    assert _upload(client, second, ("b.pdf", PDF)).status_code == 302
    a, b = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert a.file_id == b.file_id and _stored(db) == [hashlib.sha256(PDF).hexdigest()]
    assert client.post(f"/needs/{first.id}/attachments/{a.id}/delete").status_code == 302
    assert _stored(db) == [b.sha256]  # still used by the other need
    assert client.get(f"/needs/attachments/{b.id}").data == PDF
    assert client.post(f"/needs/{second.id}/attachments/{b.id}/delete").status_code == 302
    assert _stored(db) == []


def test_making_a_need_anonymous_keeps_bytes_another_attachment_shares(app, client, db, cast, factory):
    from .identifying_files import rich_pdf

    owner = cast.owner
    named = factory.need(owner=owner, status="draft")
    other = factory.need(owner=owner, status="draft")
    raw = rich_pdf(("東都モビリティ", "Toto Mobility"))
    assert login(client, owner).status_code == 302
    assert _upload(client, named, ("a.pdf", raw)).status_code == 302
    assert _upload(client, other, ("a.pdf", raw)).status_code == 302
    need = db.session.get(Need, named.id)
    need.anonymous = True
    assert uploads.clean_for_anonymity(need) == 1
    db.session.commit()
    cleaned, kept = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert cleaned.sha256 != kept.sha256 and set(_stored(db)) == {cleaned.sha256, kept.sha256}
    assert uploads.file_bytes(kept) == raw and uploads.file_bytes(cleaned) != raw


def test_etag_and_if_none_match_after_the_access_check(app, client, db, cast, factory):
    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    assert login(client, owner).status_code == 302
    assert _upload(client, need, ("a.pdf", PDF)).status_code == 302
    att = db.session.scalars(select(Attachment)).one()
    first = client.get(f"/needs/attachments/{att.id}")
    etag = first.headers["ETag"]
    assert etag == f'"{att.sha256}"' and "no-cache" in first.headers["Cache-Control"]
    again = client.get(f"/needs/attachments/{att.id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    changed = client.get(f"/needs/attachments/{att.id}", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200 and changed.data == PDF
    stranger = cast.proposer
    outsider = app.test_client()
    assert login(outsider, stranger).status_code == 302  # a draft is the owner's alone
    assert outsider.get(f"/needs/attachments/{att.id}", headers={"If-None-Match": etag}).status_code == 404


def test_large_files_are_sent_in_pieces(app, client, db, cast, factory, monkeypatch):
    monkeypatch.setattr(uploads, "CHUNK_BYTES", 1000)
    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    body = PDF + b"%" + bytes(range(256)) * 40 + b"\n"  # 10 KB: eleven pieces, every byte value
    assert login(client, owner).status_code == 302
    assert _upload(client, need, ("big.pdf", body)).status_code == 302
    att = db.session.scalars(select(Attachment)).one()
    resp = client.get(f"/needs/attachments/{att.id}")
    assert resp.status_code == 200 and resp.is_streamed
    assert int(resp.headers["Content-Length"]) == len(body) and resp.data == body


def _wait_until_blocked(db, pid_holder: dict) -> None:
    """Until the other thread's statement waits for a lock this transaction holds (PostgreSQL)."""
    import time

    deadline = time.monotonic() + 10
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            if pid_holder.get("pid") and watcher.execute(sa_text(
                    "SELECT cardinality(pg_blocking_pids(:pid)) > 0"), {"pid": pid_holder["pid"]}).scalar():
                return
            if pid_holder.get("done"):
                raise AssertionError("the other transaction did not wait")
            time.sleep(0.02)
    raise AssertionError("the other transaction never blocked")


def _in_thread(app, work):
    import threading

    state: dict = {}

    def run():
        from oims.extensions import db as _db

        with app.app_context():
            try:
                state["pid"] = _db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
                work(_db)
                _db.session.commit()
            except BaseException as exc:  # reported by the test
                state["error"] = exc
            finally:
                state["done"] = True
                _db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, state


def _pg_only(db):
    import pytest

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks between transactions: PostgreSQL (SQLite serialises writers)")


def test_deleting_the_last_user_while_another_transaction_shares_the_bytes(app, db, cast, factory):
    """B reuses the stored bytes (and holds them FOR KEY SHARE); A removes the last
    other attachment meanwhile: A waits, the foreign key refuses its delete, the bytes stay."""
    _pg_only(db)
    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    first = uploads.store_bytes(PDF, "application/pdf")
    old = Attachment(need_id=need.id, filename="a.pdf", file_id=first.id, content_type="application/pdf",
                     size=first.size, sha256=first.sha256, uploaded_by_id=owner.id)
    db.session.add(old)
    db.session.commit()
    old_id, file_id = old.id, first.id

    shared = uploads.store_bytes(PDF, "application/pdf")  # B: the same row, locked until B commits
    assert shared.id == file_id
    db.session.add(Attachment(need_id=need.id, filename="b.pdf", file_id=shared.id, content_type="application/pdf",
                              size=shared.size, sha256=shared.sha256, uploaded_by_id=owner.id))
    db.session.flush()
    thread, state = _in_thread(app, lambda s: uploads.delete_attachment(s.session.get(Attachment, old_id)))
    _wait_until_blocked(db, state)
    db.session.commit()
    thread.join(10)
    assert state.get("done") and "error" not in state, state.get("error")
    db.session.expire_all()
    assert _stored(db) == [hashlib.sha256(PDF).hexdigest()]
    [left] = db.session.scalars(select(Attachment)).all()
    assert left.file_id == file_id and uploads.file_bytes(left) == PDF


def test_storing_bytes_another_transaction_is_deleting(app, db, cast, factory):
    """A deletes the bytes' last attachment and row (not committed); B stores the
    same bytes: B waits, then stores them anew; nothing dangles."""
    _pg_only(db)
    owner = cast.owner
    need = factory.need(owner=owner, status="draft")
    first = uploads.store_bytes(PDF, "application/pdf")
    old = Attachment(need_id=need.id, filename="a.pdf", file_id=first.id, content_type="application/pdf",
                     size=first.size, sha256=first.sha256, uploaded_by_id=owner.id)
    db.session.add(old)
    db.session.commit()
    old_id, need_id, owner_id, first_id = old.id, need.id, owner.id, first.id

    # A in this thread: delete, not committed yet. B in another thread: store the same bytes.
    uploads.delete_attachment(db.session.get(Attachment, old_id))

    def store(s):
        row = uploads.store_bytes(PDF, "application/pdf")
        s.session.add(Attachment(need_id=need_id, filename="b.pdf", file_id=row.id, content_type="application/pdf",
                                 size=row.size, sha256=row.sha256, uploaded_by_id=owner_id))
        s.session.flush()

    thread, state = _in_thread(app, store)
    _wait_until_blocked(db, state)
    db.session.commit()
    thread.join(10)
    assert state.get("done") and "error" not in state, state.get("error")
    db.session.expire_all()
    [left] = db.session.scalars(select(Attachment)).all()
    assert left.file_id is not None and left.file_id != first_id and uploads.file_bytes(left) == PDF
    assert _stored(db) == [hashlib.sha256(PDF).hexdigest()]
