"""Attachments of needs and proposals: checking, scrubbing, storing, serving.

- The type is sniffed from the bytes (the `filetype` package), never taken
  from the name or the browser: PDF, PNG and JPEG only.
- Size is limited to OIMS_MAX_UPLOAD_MB per file.
- Bytes are stored under OIMS_UPLOAD_DIR with a random name; the original
  name is kept (sanitised) for the people who may know it.
- Files are rebuilt by maintained libraries (`cleaning`: Pillow for images,
  pikepdf for PDF), never searched with patterns: every image of a need is
  re-encoded from its pixels; every PDF of an anonymous need is rewritten
  without document info, XMP, annotation authors, embedded files, scripts or
  object streams. A file that cannot be rebuilt is refused with a message.
  When a need becomes anonymous (edit, coordinator publication) its existing
  files are rebuilt the same way (`clean_for_anonymity`).
- For anonymous needs, people who may not know the owner download the file
  as "attachment-<n>.<ext>".

Files written in a transaction that is rolled back are deleted again, so a
refused form leaves nothing behind on disk either.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from pathlib import Path

import filetype
from flask import abort, current_app, send_file
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from oims.core.exceptions import ValidationFailed
from oims.extensions import db
from oims.models import Attachment, Need, Proposal, User
from oims.needs import cleaning

ALLOWED = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
MAX_FILENAME = 120
_PENDING_KEY = "oims_new_upload_paths"


# --- configuration -------------------------------------------------------------

def upload_dir() -> Path:
    path = Path(current_app.config["OIMS_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


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


def save_upload(file_storage, *, need: Need | None = None, proposal: Proposal | None = None,
                actor: User) -> Attachment:
    """Check, scrub and store one uploaded file for `need` or `proposal`.

    Raises ValidationFailed (field "attachments") with a message for the
    user; nothing is written then. Flushes; the caller commits (a rollback
    removes the stored file again).
    """
    if (need is None) == (proposal is None):
        raise ValueError("attach to exactly one of need or proposal")
    data, mime, ext = check_upload(file_storage)
    anonymised = False
    if need is not None:
        data = scrub(data, mime, anonymous=need.anonymous)
        anonymised = need.anonymous or mime != "application/pdf"
    stored_name = secrets.token_hex(16) + "." + ext
    path = upload_dir() / stored_name
    path.write_bytes(data)
    _track_new_file(path)
    att = Attachment(
        need_id=need.id if need is not None else None,
        proposal_id=proposal.id if proposal is not None else None,
        filename=sanitise_filename(file_storage.filename, ext),
        stored_name=stored_name, content_type=mime, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=actor.id, anonymised=anonymised,
    )
    db.session.add(att)
    db.session.flush()
    return att


def delete_attachment(att: Attachment) -> None:
    """Remove the row now and the bytes once the transaction commits."""
    path = upload_dir() / att.stored_name
    db.session.delete(att)
    db.session.flush()
    db.session.info.setdefault("oims_delete_on_commit", []).append(str(path))


def clean_for_anonymity(need: Need) -> int:
    """Rebuild the need's stored files as for an anonymous need; returns how many changed.

    Each rebuilt file is written under a new name and the row updated; the old
    bytes are deleted once the transaction commits (a rollback removes the new
    ones instead). ValidationFailed names a file that cannot be rebuilt.
    """
    changed = 0
    for att in attachments_of(need):
        path = upload_dir() / att.stored_name
        if att.anonymised or not path.exists():
            continue
        data = path.read_bytes()
        try:
            cleaned = cleaning.clean(data, att.content_type)
        except cleaning.CannotClean as exc:
            raise ValidationFailed({"": [_("“%(name)s”: %(problem)s", name=att.filename,
                                                      problem=str(exc))]}) from exc
        att.anonymised = True
        digest = hashlib.sha256(cleaned).hexdigest()
        if cleaned == data:
            continue
        stored_name = secrets.token_hex(16) + "." + ALLOWED.get(att.content_type, "bin")
        new_path = upload_dir() / stored_name
        new_path.write_bytes(cleaned)
        _track_new_file(new_path)
        db.session.info.setdefault("oims_delete_on_commit", []).append(str(path))
        att.stored_name, att.size, att.sha256 = stored_name, len(cleaned), digest
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


def send_attachment(att: Attachment, viewer: User):
    """A download response for `att`, after checking `viewer` may see it (404 otherwise)."""
    if att is None or not can_download(att, viewer):
        abort(404)
    path = upload_dir() / att.stored_name
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=att.content_type, as_attachment=True,
                         download_name=display_name(att, viewer), max_age=0, conditional=False, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- files follow the transaction -------------------------------------------------------

def _track_new_file(path: Path) -> None:
    db.session.info.setdefault(_PENDING_KEY, []).append(str(path))


def _after_commit(session) -> None:
    session.info.pop(_PENDING_KEY, None)
    for path in session.info.pop("oims_delete_on_commit", []):
        Path(path).unlink(missing_ok=True)


def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint; the outer transaction decides
        return
    for path in session.info.pop(_PENDING_KEY, []):
        Path(path).unlink(missing_ok=True)
    session.info.pop("oims_delete_on_commit", None)


_registered = False


def register_events() -> None:
    """Files written in a transaction are removed if it rolls back, and files
    replaced are removed once it commits (called once from `create_app`)."""
    global _registered
    if _registered:
        return
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    _registered = True
