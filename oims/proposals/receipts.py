"""The timestamped receipt of a submitted proposal.

On submission the server writes down exactly what was disclosed — the need,
the proposing organisation, every text field, the SHA-256 of every attachment
and the server time in UTC — as canonical JSON, and keeps its SHA-256. The
proposer can download the JSON file; `sha256sum` of that file equals the hash
shown on the page, so it can later prove what it disclosed and when.

Canonical form: UTF-8 JSON, keys sorted, no insignificant whitespace,
non-ASCII characters kept as they are (no \\u escapes).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

RECEIPT_FORMAT = "oims-proposal-receipt/1"
TEXT_FIELDS = ("title", "summary", "solution", "track_record", "team", "schedule", "cost")


def canonical_json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_hex(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def utc_iso(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z suffix, to the second (e.g. 2026-11-30T05:34:04Z)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def receipt_payload(proposal, attachments, issued_at: datetime) -> dict:
    """What the receipt certifies. `attachments` are Attachment rows."""
    payload = {
        "format": RECEIPT_FORMAT,
        "proposal_id": proposal.id,
        "need_id": proposal.need_id,
        "org_id": proposal.org_id,
        "answers": list(proposal.answers or []),
        "attachments": sorted(
            ({"filename": a.filename, "sha256": a.sha256, "size": a.size}
             | ({"after_nda": True} if getattr(a, "after_nda", False) else {}) for a in attachments),
            key=lambda a: (a["sha256"], a["filename"]),
        ),
        "submitted_at": utc_iso(issued_at),
    }
    # Staged disclosure: the receipt covers every part, and says which ones the
    # proposer disclosed only after the NDA (absent when none, so older receipts keep their form).
    if list(getattr(proposal, "after_nda", None) or []):
        payload["after_nda"] = list(proposal.after_nda)
    for field in TEXT_FIELDS:
        payload[field] = getattr(proposal, field) or ""
    return payload


def issue_receipt(proposal, attachments, issued_at: datetime) -> str:
    """Write the receipt onto the proposal; return its hash."""
    proposal.receipt_content = canonical_json(receipt_payload(proposal, attachments, issued_at))
    proposal.receipt_hash = sha256_hex(proposal.receipt_content)
    _keep(proposal, issued_at)
    return proposal.receipt_hash


def _keep(proposal, issued_at: datetime) -> None:
    """Keep every receipt, not only the current one (earlier ones stay downloadable)."""
    try:
        from oims.extensions import db
        from oims.models import ProposalReceipt
    except ImportError:  # pragma: no cover - library use without the app
        return
    db.session.add(ProposalReceipt(proposal=proposal, receipt_hash=proposal.receipt_hash,
                                   content=proposal.receipt_content, issued_at=issued_at))


def history(proposal) -> list:
    """The proposal's receipts, oldest first (the last one is the current receipt)."""
    from sqlalchemy import select

    from oims.extensions import db
    from oims.models import ProposalReceipt

    return list(db.session.scalars(select(ProposalReceipt).where(ProposalReceipt.proposal_id == proposal.id)
                                   .order_by(ProposalReceipt.issued_at, ProposalReceipt.id)))


def verify_receipt(content: str, expected_hash: str) -> bool:
    """True when `content` is canonical JSON whose SHA-256 is `expected_hash`."""
    try:
        canonical = canonical_json(json.loads(content))
    except ValueError:
        return False
    return canonical == content and sha256_hex(content) == expected_hash.lower()


def receipt_time(proposal, content: str | None = None) -> datetime | None:
    """The server time the receipt certifies (None without a receipt)."""
    content = proposal.receipt_content if content is None else content
    if not content:
        return None
    stamp = json.loads(content)["submitted_at"]
    return datetime.fromisoformat(stamp)  # Python 3.11 reads the Z suffix


def receipt_text(proposal, content: str | None = None, digest: str | None = None) -> str:
    """A plain-text rendering (for people and printing); the JSON is the proof."""
    content = proposal.receipt_content if content is None else content
    digest = proposal.receipt_hash if digest is None else digest
    data = json.loads(content)
    lines = [
        "OIMS proposal receipt / 提案受付証明",
        f"SHA-256: {digest}",
        f"submitted_at (UTC): {data['submitted_at']}",
        f"proposal_id: {data['proposal_id']}  need_id: {data['need_id']}  org_id: {data['org_id']}",
        "",
        "The SHA-256 above is computed over the following canonical JSON (UTF-8, one line):",
        "上記 SHA-256 は次の正規化 JSON（UTF-8、1 行）から計算されています：",
        "",
        content,
        "",
    ]
    return "\n".join(lines)
