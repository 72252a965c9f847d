"""Proposal attachments: a thin layer over the shared upload code of the needs
feature (`oims.needs.uploads`: type and size checks, bytes stored in the
database and shared by SHA-256, sending with safe headers and an ETag)."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from oims.audit.log import audit
from oims.core.exceptions import ValidationFailed
from oims.extensions import db
from oims.models import Attachment, Proposal, User

MAX_FILES_PER_PROPOSAL = 10


def _uploads():
    try:
        from oims.needs import uploads
    except ImportError:
        return None
    return uploads


def _real_files(files) -> list:
    return [f for f in (files or []) if f is not None and getattr(f, "filename", "")]


def mark_after_nda(ids, proposal: Proposal, *, actor: User) -> None:
    """Staged disclosure: exactly the attachments in `ids` are disclosed after the NDA only."""
    wanted = {int(i) for i in ids or []}
    for att in db.session.query(Attachment).filter(Attachment.proposal_id == proposal.id):
        if att.after_nda != (att.id in wanted):
            att.after_nda = att.id in wanted
            audit(actor, "proposal.attachment_disclosure", proposal, filename=att.filename, after_nda=att.after_nda)
    db.session.flush()


def save_all(files, proposal: Proposal, *, actor: User, after_nda: bool = False) -> list[Attachment]:
    """Store the uploaded files on the proposal (ValidationFailed on a wrong type or size)."""
    files = _real_files(files)
    if not files:
        return []
    uploads = _uploads()
    if uploads is None:
        raise ValidationFailed({"attachments": [_("Attachments cannot be uploaded at the moment.")]})
    existing = db.session.query(Attachment).filter(Attachment.proposal_id == proposal.id).count()
    if existing + len(files) > MAX_FILES_PER_PROPOSAL:
        raise ValidationFailed({"attachments": [
            _("At most %(max)d files can be attached to a proposal.", max=MAX_FILES_PER_PROPOSAL)]})
    saved = []
    for storage in files:
        try:
            saved.append(uploads.save_upload(storage, proposal=proposal, actor=actor))
            saved[-1].after_nda = bool(after_nda)
        except ValidationFailed as exc:
            # Put every upload problem next to the file field.
            raise ValidationFailed({"attachments": [m for ms in exc.errors.values() for m in ms]}) from exc
    db.session.flush()
    return saved


def remove(ids: list[int], proposal: Proposal, *, actor: User) -> int:
    """Remove files from the proposal."""
    if not ids:
        return 0
    removed = 0
    for att in db.session.query(Attachment).filter(Attachment.proposal_id == proposal.id,
                                                   Attachment.id.in_(ids)):
        uploads = _uploads()
        audit(actor, "proposal.attachment_removed", proposal, filename=att.filename, sha256=att.sha256)
        if uploads is not None:
            uploads.delete_attachment(att)  # and its bytes, unless another attachment shares them
        else:
            db.session.delete(att)
        removed += 1
    db.session.flush()
    return removed


def send(att: Attachment, viewer: User):
    uploads = _uploads()
    if uploads is None:
        abort(404)
    return uploads.send_attachment(att, viewer)
