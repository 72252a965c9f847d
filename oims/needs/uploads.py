"""Attachments of needs and proposals: checking, scrubbing, storing, serving.

- The type is sniffed from the bytes (the `filetype` package), never taken
  from the name or the browser: PDF, PNG and JPEG only.
- Size is limited to OIMS_MAX_UPLOAD_MB per file.
- Bytes are stored under OIMS_UPLOAD_DIR with a random name; the original
  name is kept (sanitised) for the people who may know it.
- Metadata that could reveal who made a file is removed: JPEG EXIF/XMP/IPTC/
  comments and PNG text/EXIF/time chunks are dropped from every need
  attachment. For *anonymous* needs, PDF document properties (/Author,
  /Title, /Creator ...) and XMP packets are also blanked in place (same
  length, so the PDF stays valid); when an author/company entry remains that
  we cannot blank (inside compressed object streams) the upload is REFUSED
  with a message telling the owner to remove the document properties first.
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
import zlib
from pathlib import Path

import filetype
from flask import abort, current_app, send_file
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Attachment, Need, Proposal, User
from ..services import ValidationFailed

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


# --- metadata scrubbing ---------------------------------------------------------------

def strip_jpeg(data: bytes) -> bytes:
    """Drop APP1..APP15 except ICC (APP2 "ICC_PROFILE") and Adobe (APP14), and COM."""
    if data[:2] != b"\xff\xd8":
        return data
    out = bytearray(b"\xff\xd8")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan / end: copy the rest as is
            out += data[i:]
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[i:i + 2]
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        segment = data[i:i + 2 + length]
        keep = True
        if marker == 0xFE:  # comment
            keep = False
        elif 0xE1 <= marker <= 0xEF:
            payload = segment[4:]
            keep = (marker == 0xE2 and payload.startswith(b"ICC_PROFILE")) or marker == 0xEE
        if keep:
            out += segment
        i += 2 + length
    out += data[i:]
    return bytes(out)


_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def strip_png(data: bytes) -> bytes:
    sig = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(sig):
        return data
    out = bytearray(sig)
    i = len(sig)
    while i + 8 <= len(data):
        length = int.from_bytes(data[i:i + 4], "big")
        ctype = data[i + 4:i + 8]
        end = i + 12 + length
        if ctype not in _PNG_DROP:
            out += data[i:end]
        i = end
        if ctype == b"IEND":
            break
    return bytes(out)


_PDF_KEYS = rb"Author|Title|Subject|Keywords|Creator|Producer|Company|Manager|SourceModified|AuthorTitle"
_PDF_PROP = re.compile(rb"/(" + _PDF_KEYS + rb")\s*([(<])")
_XMP = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>", re.DOTALL)
# What must not remain anywhere (also inside compressed streams) for anonymous needs.
_FILLED = rb"\s*[(<](?!\s*[)>])"  # a string that is not blank
_PDF_LEFTOVER = re.compile(
    rb"/(Author|Company|Manager)" + _FILLED + rb"|<(dc:creator|dc:title|pdf:Author)\b"
    # a /Title in the document-information dictionary (next to its dates or producer),
    # which often repeats the original file name; bookmark titles are left alone
    rb"|/Title" + _FILLED + rb"[^>]{0,2000}?/(CreationDate|ModDate|Producer|Creator)\b"
    rb"|/(CreationDate|ModDate|Producer|Creator)\b[^>]{0,2000}?/Title" + _FILLED, re.DOTALL)


def _blank_pdf_string(buf: bytearray, start: int) -> None:
    """Blank the PDF string starting at buf[start] ('(' or '<') in place."""
    if buf[start:start + 1] == b"<":
        end = buf.find(b">", start)
        if end != -1:
            buf[start + 1:end] = b" " * (end - start - 1)
        return
    depth, i = 0, start
    while i < len(buf):
        ch = buf[i]
        if ch == 0x5C:  # backslash escape
            i += 2
            continue
        if ch == 0x28:
            depth += 1
        elif ch == 0x29:
            depth -= 1
            if depth == 0:
                buf[start + 1:i] = b" " * (i - start - 1)
                return
        i += 1


def strip_pdf(data: bytes) -> bytes:
    """Blank document properties and XMP packets without moving any byte."""
    buf = bytearray(data)
    for m in list(_PDF_PROP.finditer(data)):
        _blank_pdf_string(buf, m.start(2))
    for m in _XMP.finditer(bytes(buf)):
        buf[m.start():m.end()] = b" " * (m.end() - m.start())
    return bytes(buf)


def _inflated_streams(data: bytes):
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        if end == -1:
            continue
        try:
            yield zlib.decompressobj().decompress(data[m.end():end], 2_000_000)
        except zlib.error:
            continue


def pdf_has_identifying_metadata(data: bytes) -> bool:
    if _PDF_LEFTOVER.search(data):
        return True
    return any(_PDF_LEFTOVER.search(chunk) for chunk in _inflated_streams(data))


def scrub(data: bytes, content_type: str, *, anonymous: bool) -> bytes:
    """Remove identifying metadata; ValidationFailed if an anonymous need's PDF keeps some."""
    if content_type == "image/jpeg":
        return strip_jpeg(data)
    if content_type == "image/png":
        return strip_png(data)
    if not anonymous:
        return data
    cleaned = strip_pdf(data)
    if pdf_has_identifying_metadata(cleaned):
        raise ValidationFailed({"attachments": [_(
            "This PDF carries document properties (author, title, company …) that could reveal your "
            "organisation, and they cannot be removed automatically. Remove the document properties "
            "(e.g. “Inspect document” or print to PDF) and upload it again.")]})
    return cleaned


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
    if need is not None:
        data = scrub(data, mime, anonymous=need.anonymous)
    stored_name = secrets.token_hex(16) + "." + ext
    path = upload_dir() / stored_name
    path.write_bytes(data)
    _track_new_file(path)
    att = Attachment(
        need_id=need.id if need is not None else None,
        proposal_id=proposal.id if proposal is not None else None,
        filename=sanitise_filename(file_storage.filename, ext),
        stored_name=stored_name, content_type=mime, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=actor.id,
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


def rescrub_for_anonymity(need: Need) -> None:
    """Check the need's existing attachments when it becomes anonymous."""
    for att in attachments_of(need):
        path = upload_dir() / att.stored_name
        if not path.exists():
            continue
        data = path.read_bytes()
        cleaned = scrub(data, att.content_type, anonymous=True)
        if cleaned != data:
            path.write_bytes(cleaned)


def attachments_of(need: Need) -> list[Attachment]:
    return list(db.session.scalars(
        select(Attachment).where(Attachment.need_id == need.id).order_by(Attachment.id)))


def display_name(att: Attachment, viewer: User | None) -> str:
    """The file name `viewer` may see: the real one, or attachment-<n>.<ext>
    for an anonymous need's attachment seen by someone who may not know its owner."""
    from ..policy import sees_owner

    if att.need_id is not None:
        need = db.session.get(Need, att.need_id)
        if need is not None and not sees_owner(viewer, need):
            ids = [a.id for a in attachments_of(need)]
            n = ids.index(att.id) + 1 if att.id in ids else 1
            ext = ALLOWED.get(att.content_type, "bin")
            return f"attachment-{n}.{ext}"
    return att.filename


def can_download(att: Attachment, viewer: User) -> bool:
    from ..policy import can_view_need, can_view_proposal

    if att.need_id is not None:
        need = db.session.get(Need, att.need_id)
        return need is not None and can_view_need(viewer, need)
    if att.proposal_id is not None:
        proposal = db.session.get(Proposal, att.proposal_id)
        from ..policy import attachment_withheld  # staged disclosure: "after NDA" files

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


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    session.info.pop(_PENDING_KEY, None)
    for path in session.info.pop("oims_delete_on_commit", []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint; the outer transaction decides
        return
    for path in session.info.pop(_PENDING_KEY, []):
        Path(path).unlink(missing_ok=True)
    session.info.pop("oims_delete_on_commit", None)
