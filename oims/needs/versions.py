"""Need versions: snapshots before each change, and readable diffs."""

from __future__ import annotations

import difflib

from oims.extensions import db
from oims.models import Need, NeedVersion, User
from oims.models.needs import NEED_SNAPSHOT_FIELDS, NEED_TEXT_FIELDS
from oims.needs.identity import redact
from oims.policy import sees_need_history

# Why a version was recorded (NeedVersion.reason).
EDIT_AFTER_PUBLISH = "edit_after_publish"
COORDINATOR_EDIT = "coordinator_edit"

# --- versions ------------------------------------------------------------------------------------

def record_version(need: Need, actor: User, reason: str) -> NeedVersion:
    """Keep the need as it is now (before a change) and count its version up."""
    version = NeedVersion(need=need, version=need.version, snapshot=need.snapshot(),
                          changed_by_id=actor.id, reason=reason)
    db.session.add(version)
    need.version += 1
    return version


def versions_for(need: Need, viewer: User) -> list[NeedVersion]:
    """Versions `viewer` may see: all for the owner and staff; for others
    only the changes made after publication."""
    versions = list(need.versions)
    if sees_need_history(viewer, need):
        return versions
    return [v for v in versions if v.reason == EDIT_AFTER_PUBLISH]


def coordinator_edits(need: Need) -> list[NeedVersion]:
    return [v for v in need.versions if v.reason == COORDINATOR_EDIT]


def _field_text(snapshot: dict, field: str) -> str:
    value = snapshot.get(field)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "—"
    return "" if value is None else str(value)


def diff_snapshots(old: dict, new: dict) -> list[dict]:
    """Per changed field: name, old/new text and line-level diff ops."""
    out = []
    for field in NEED_SNAPSHOT_FIELDS:
        a, b = _field_text(old, field), _field_text(new, field)
        if a == b:
            continue
        ops = []
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                ops.append(("equal", a[i1:i2]))
            else:
                if i2 > i1:
                    ops.append(("delete", a[i1:i2]))
                if j2 > j1:
                    ops.append(("insert", b[j1:j2]))
        out.append({"field": field, "old": a, "new": b, "ops": ops, "text": field in NEED_TEXT_FIELDS})
    return out


def version_diffs(need: Need, versions: list[NeedVersion], *, redact_terms: list | None = None) -> list[dict]:
    """For each version: what changed from it to the next one (or to now).

    `redact_terms` (oims.needs.identity terms): words naming the owner are
    replaced by ＊＊＊ in both sides first, so that a name redacted from an
    anonymous need does not come back through its history."""
    all_versions = list(need.versions)
    out = []

    def shown(snapshot: dict) -> dict:
        if not redact_terms:
            return snapshot
        return {k: redact(v, redact_terms, "＊＊＊") if isinstance(v, str)
                else [redact(str(x), redact_terms, "＊＊＊") for x in v] if k == "keywords" and isinstance(v, list)
                else v
                for k, v in snapshot.items()}

    for v in versions:
        idx = all_versions.index(v)
        nxt = all_versions[idx + 1].snapshot if idx + 1 < len(all_versions) else need.snapshot()
        out.append({"version": v, "to_version": v.version + 1,
                    "changes": diff_snapshots(shown(v.snapshot), shown(nxt))})
    return out
