"""Attachments of needs and proposals: checking, scrubbing, storing, serving.

- The type is sniffed from the bytes (the `filetype` package), never taken
  from the name or the browser: PDF, PNG and JPEG only.
- Size is limited to OIMS_MAX_UPLOAD_MB per file.
- Bytes are stored in the database (`StoredFile`, bytea on PostgreSQL, BLOB
  on SQLite), so every app host serves every file and no instance folder
  holds any; attachments with identical bytes (same SHA-256) share one row.
  The original name is kept (sanitised) for the people who may know it.
- Files are rebuilt by maintained libraries (`cleaning`: Pillow for images,
  pikepdf for PDF), never searched with patterns: every image of a need is
  re-encoded from its pixels; every PDF of an anonymous need is rewritten
  without document info, XMP, annotation authors, embedded files, scripts or
  object streams. A file that cannot be rebuilt is refused with a message.
  When a need becomes anonymous (edit, coordinator publication) its existing
  files are rebuilt the same way (`clean_for_anonymity`); the bytes before
  cleaning are deleted unless another attachment has the very same bytes.
- For anonymous needs, people who may not know the owner download the file
  as "attachment-<n>.<ext>".

Bytes follow the transaction like every other row: a refused form or a
rollback leaves nothing behind, and a StoredFile no attachment refers to is
deleted in the transaction that removes its last attachment.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote

import filetype
from flask import Response, abort, current_app, request, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from oims.core.exceptions import ValidationFailed
from oims.extensions import db
from oims.models import Attachment, Need, Proposal, StoredFile, User
from oims.needs import cleaning

ALLOWED = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
MAX_FILENAME = 120
# Files larger than this are sent in pieces of this size, each read from the database
# when the client is ready for it (a worker never holds a whole 10 MB file, twice over
# as PostgreSQL's hex text, in memory).
CHUNK_BYTES = 1024 * 1024


# --- configuration -------------------------------------------------------------

def max_bytes() -> int:
    mb = current_app.config.get("OIMS_MAX_UPLOAD_MB")
    if mb is None:
        return int(current_app.config.get("MAX_CONTENT_LENGTH") or 10 * 1024 * 1024)
    return int(float(mb) * 1024 * 1024)


# --- names -------------------------------------------------------------------------

def sanitise_filename(name: str, ext: str) -> str:
    """A safe display name: no path, no control or shell-special characters,
    Japanese kept, the extension matching the sniffed type."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = "".join(ch for ch in stem if unicodedata.category(ch)[0] not in ("C",))
    stem = re.sub(r'[<>:"/|?*;\x00-\x1f]+', "_", stem).strip(" ._") or "file"
    stem = stem[: MAX_FILENAME - len(ext) - 1]
    return f"{stem}.{ext}"


# --- cleaning --------------------------------------------------------------------------

def scrub(data: bytes, content_type: str, *, anonymous: bool) -> bytes:
    """The bytes to store: images are always rebuilt from their pixels; for an
    anonymous need PDFs are rebuilt too (`cleaning.clean_pdf`). A file that
    cannot be rebuilt is refused with ValidationFailed (field "attachments")."""
    if content_type == "application/pdf" and not anonymous:
        return data
    try:
        return cleaning.clean(data, content_type)
    except cleaning.CannotClean as exc:
        raise ValidationFailed({"attachments": [str(exc)]}) from exc


# --- checking and storing ------------------------------------------------------------

def check_upload(file_storage) -> tuple[bytes, str, str]:
    """Read and check an upload: (bytes, content type, extension) or ValidationFailed."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise ValidationFailed({"attachments": [_("Choose a file to upload.")]})
    limit = max_bytes()
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed({"attachments": [_(
            "The file “%(name)s” is larger than %(mb)s MB.",
            name=sanitise_filename(file_storage.filename, "")[:-1], mb=_mb_label(limit))]})
    if not data:
        raise ValidationFailed({"attachments": [_("The file is empty.")]})
    kind = filetype.guess(data)
    mime = kind.mime if kind else ""
    if mime not in ALLOWED:
        raise ValidationFailed({"attachments": [_(
            "Only PDF, PNG and JPEG files can be attached; “%(name)s” is not one of them.",
            name=sanitise_filename(file_storage.filename, "")[:-1])]})
    return data, mime, ALLOWED[mime]


def _mb_label(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return f"{mb:g}" if mb >= 1 else f"{mb:.2f}"


def store_bytes(data: bytes, content_type: str) -> StoredFile:
    """The StoredFile holding `data`: the existing row with the same SHA-256, or a
    new one. Rows are immutable, so attachments may share them.

    Safe against a concurrent transaction storing the same bytes or deleting the
    row (`release_file`): the insert is INSERT ... ON CONFLICT DO NOTHING (not a
    savepoint: on SQLite one opened before any write commits on release), and the
    row is then read FOR KEY SHARE on PostgreSQL, so it cannot be deleted before
    this transaction commits; on SQLite the insert already holds the write lock."""
    digest = hashlib.sha256(data).hexdigest()
    values = {"sha256": digest, "size": len(data), "content_type": content_type, "data": data}
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        found = db.session.scalar(select(StoredFile).where(StoredFile.sha256 == digest))
        if found is None:
            found = StoredFile(**values)
            db.session.add(found)
            db.session.flush()
        return found
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    query = select(StoredFile).where(StoredFile.sha256 == digest).with_for_update(key_share=True)
    for _attempt in range(3):
        db.session.execute(insert(StoredFile).values(**values).on_conflict_do_nothing(index_elements=["sha256"]))
        found = db.session.scalar(query)
        if found is not None:
            return found
    raise RuntimeError("could not store a file: its row kept being deleted")


def release_file(file_id: int | None) -> None:
    """Delete the StoredFile `file_id` if no attachment refers to it any more
    (call after the referring rows are flushed). If another transaction has just
    started to use it, the foreign key refuses the delete and the row stays."""
    if file_id is None:
        return
    try:
        with db.session.begin_nested():
            db.session.execute(StoredFile.__table__.delete().where(
                StoredFile.id == file_id, ~exists().where(Attachment.file_id == file_id)))
    except IntegrityError:
        pass


def file_bytes(att: Attachment) -> bytes | None:
    """The stored bytes of `att` (None if they were lost before files moved into the database)."""
    if att.file_id is None:
        return None
    return db.session.scalar(select(StoredFile.data).where(StoredFile.id == att.file_id))


def save_upload(file_storage, *, need: Need | None = None, proposal: Proposal | None = None,
                actor: User) -> Attachment:
    """Check, scrub and store one uploaded file for `need` or `proposal`.

    Raises ValidationFailed (field "attachments") with a message for the
    user; nothing is written then. Flushes; the caller commits (a rollback
    removes the stored bytes with the row).
    """
    if (need is None) == (proposal is None):
        raise ValueError("attach to exactly one of need or proposal")
    data, mime, ext = check_upload(file_storage)
    anonymised = False
    if need is not None:
        data = scrub(data, mime, anonymous=need.anonymous)
        anonymised = need.anonymous or mime != "application/pdf"
    stored = store_bytes(data, mime)
    att = Attachment(
        need_id=need.id if need is not None else None,
        proposal_id=proposal.id if proposal is not None else None,
        filename=sanitise_filename(file_storage.filename, ext),
        file_id=stored.id, content_type=mime, size=stored.size,
        sha256=stored.sha256, uploaded_by_id=actor.id, anonymised=anonymised,
    )
    db.session.add(att)
    db.session.flush()
    return att


def delete_attachment(att: Attachment) -> None:
    """Remove the row, and its bytes unless another attachment has the same ones."""
    file_id = att.file_id
    db.session.delete(att)
    db.session.flush()
    release_file(file_id)


def clean_for_anonymity(need: Need) -> int:
    """Rebuild the need's stored files as for an anonymous need; returns how many changed.

    Each rebuilt file is stored as new bytes and the row pointed at them; the
    old bytes are deleted in the same transaction unless another attachment
    still has them. ValidationFailed names a file that cannot be rebuilt.
    """
    changed = 0
    for att in attachments_of(need):
        if att.anonymised:
            continue
        data = file_bytes(att)
        if data is None:
            continue
        try:
            cleaned = cleaning.clean(data, att.content_type)
        except cleaning.CannotClean as exc:
            raise ValidationFailed({"": [_("“%(name)s”: %(problem)s", name=att.filename,
                                                      problem=str(exc))]}) from exc
        att.anonymised = True
        if cleaned == data:
            continue
        old_id = att.file_id
        stored = store_bytes(cleaned, att.content_type)
        att.file_id, att.size, att.sha256 = stored.id, stored.size, stored.sha256
        db.session.flush()
        release_file(old_id)
        changed += 1
    db.session.flush()
    return changed


def attachments_of(need: Need) -> list[Attachment]:
    return list(db.session.scalars(
        select(Attachment).where(Attachment.need_id == need.id).order_by(Attachment.id)))


def display_name(att: Attachment, viewer: User | None) -> str:
    """The file name `viewer` may see: the real one, or attachment-<n>.<ext>
    for an anonymous need's attachment seen by someone who may not know its owner."""
    from oims.policy import sees_owner

    if att.need_id is not None:
        need = db.session.get(Need, att.need_id)
        if need is not None and not sees_owner(viewer, need):
            ids = [a.id for a in attachments_of(need)]
            n = ids.index(att.id) + 1 if att.id in ids else 1
            ext = ALLOWED.get(att.content_type, "bin")
            return f"attachment-{n}.{ext}"
    return att.filename


def can_download(att: Attachment, viewer: User) -> bool:
    from oims.policy import can_view_need, can_view_proposal

    if att.need_id is not None:
        need = db.session.get(Need, att.need_id)
        return need is not None and can_view_need(viewer, need)
    if att.proposal_id is not None:
        proposal = db.session.get(Proposal, att.proposal_id)
        from oims.policy import attachment_withheld

        return (proposal is not None and can_view_proposal(viewer, proposal)
                and not attachment_withheld(viewer, att, proposal))
    return False


def content_disposition(download_name: str) -> str:
    """`attachment` with the name as `filename` (ASCII) and, when it is not ASCII,
    `filename*` (RFC 5987, UTF-8), as werkzeug's send_file writes it."""
    from werkzeug.http import dump_options_header

    try:
        download_name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple, "filename*": "UTF-8''" + quote(download_name, safe="!#$&+-.^_`|~")}
    else:
        names = {"filename": download_name}
    return dump_options_header("attachment", names)


def send_attachment(att: Attachment, viewer: User):
    """A download response for `att`, after checking `viewer` may see it (404 otherwise).

    The bytes come from the database; the ETag is their SHA-256, so a client
    revalidating (If-None-Match) gets 304 without the bytes, after the same check."""
    if att is None or not can_download(att, viewer):
        abort(404)
    meta = db.session.execute(select(StoredFile.id, StoredFile.sha256, StoredFile.size)
                              .where(StoredFile.id == att.file_id)).first() if att.file_id else None
    if meta is None:
        abort(404)
    file_id, digest, size = meta
    if request.if_none_match.contains_weak(digest):
        response = Response(status=304)
    elif size <= CHUNK_BYTES:
        response = Response(db.session.scalar(select(StoredFile.data).where(StoredFile.id == file_id)))
    else:
        response = Response(stream_with_context(_chunks(file_id, size)), direct_passthrough=True)
        response.content_length = size
    response.mimetype = att.content_type
    response.set_etag(digest)
    response.headers["Content-Disposition"] = content_disposition(display_name(att, viewer))
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Stored by the browser but revalidated on every use, so the access check runs each time.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _chunks(file_id: int, size: int):
    """The bytes of a StoredFile in CHUNK_BYTES pieces, one query each (the row never changes)."""
    for start in range(0, size, CHUNK_BYTES):
        piece = db.session.scalar(select(func.substr(StoredFile.data, start + 1, CHUNK_BYTES))
                                  .where(StoredFile.id == file_id))
        if not piece:  # deleted meanwhile: end the body short rather than send anything else
            return
        yield bytes(piece)
