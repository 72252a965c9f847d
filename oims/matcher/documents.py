"""What the index holds for each need, proposal and organisation: the searchable
collections and stored queries (kinds), the texts and metadata of an item
(None: not held), and the hashes that tell whether an item must be encoded again.

Shared by the worker (which stores them), the mirror and the searches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oims.core.vocabulary import INACTIVE_STAGES, NeedStatus, ProposalStage
from oims.extensions import db
from oims.models import Need, Organisation, Proposal

KINDS = ("needs", "proposals", "orgs")  # the searchable collections
QUERY_KINDS = ("need_queries", "org_queries")  # stored query vectors, not searched
MODEL_OF_KIND = {"needs": Need, "proposals": Proposal, "orgs": Organisation}
KIND_OF_MODEL = {Need: "needs", Proposal: "proposals", Organisation: "orgs"}
DERIVED_KINDS = {"needs": ("needs", "need_queries"), "proposals": ("proposals",),
                 "orgs": ("orgs", "org_queries")}
SOURCE_OF_KIND = {d: s for s, ds in DERIVED_KINDS.items() for d in ds}

# Attributes whose change alters what the matcher holds for an item.
WATCHED = {
    Need: ("title", "summary", "background", "sought", "keywords", "status", "regions",
           "partnership_types", "bureau", "owner_org_id"),
    Proposal: ("title", "summary", "solution", "track_record", "stage", "need_id", "org_id"),
    Organisation: ("profile", "technologies", "patents", "kind", "prefecture", "bureau",
                   "employee_band", "certifications", "industry"),
}
#: Needs held in the searchable collection (any need is stored as a query: see need_query_document).
INDEXED_NEED_STATUSES = (NeedStatus.PUBLISHED,)
#: Proposals the matcher does not hold: not submitted yet, or no longer alive.
UNINDEXED_PROPOSAL_STAGES = (ProposalStage.DRAFT, *INACTIVE_STAGES)
PROPOSAL_PARTS = ("summary", "solution", "track_record")


def need_document(need: Need) -> tuple[list[str], dict] | None:
    if need.status not in INDEXED_NEED_STATUSES:
        return None
    text = need.matching_text()
    if not text.strip():
        return None
    meta = {"bureau": need.bureau, "regions": list(need.regions or []),
            "partnership_types": list(need.partnership_types or []), "owner_org_id": need.owner_org_id}
    return [text], meta


def proposal_document(proposal: Proposal) -> tuple[list[str], dict] | None:
    if proposal.stage in UNINDEXED_PROPOSAL_STAGES:
        return None
    candidates = {
        "summary": "\n".join(p for p in (proposal.title, proposal.summary) if p),
        "solution": proposal.solution or "",
        "track_record": proposal.track_record or "",
    }
    parts = [name for name in PROPOSAL_PARTS if candidates[name].strip()]
    if not parts:
        return None
    meta = {"need_id": proposal.need_id, "org_id": proposal.org_id, "stage": proposal.stage,
            "parts": parts}
    return [candidates[p] for p in parts], meta


def org_document(org: Organisation) -> tuple[list[str], dict] | None:
    if not org.is_proposer_kind:
        return None
    texts = [t for t in org.capability_texts() if t and t.strip()]
    if not texts:
        return None
    meta = {"kind": org.kind, "prefecture": org.prefecture, "bureau": org.bureau,
            "employee_band": org.employee_band, "certifications": list(org.certifications or []),
            "industry": org.industry}
    return texts, meta


def need_query_document(need: Need) -> tuple[list[str], dict] | None:
    """The need as a query (any status: the coordinator ranks before publishing too):
    the whole text, then its sentences for the fit check."""
    from matching.text import split_sentences

    text = need.matching_text()
    if not text.strip():
        return None
    return [text, *split_sentences(text)], {}


def org_query_text(org: Organisation) -> str:
    return "\n".join(t for t in org.capability_texts() if t)


def org_query_document(org: Organisation) -> tuple[list[str], dict] | None:
    if org_document(org) is None:
        return None
    text = org_query_text(org)
    return ([text], {}) if text.strip() else None


def _hashed(fn: Callable) -> Callable:
    def document(obj):
        doc = fn(obj)
        return (doc[0], _with_hash(*doc)) if doc else None

    return document


def text_hash(texts: list[str]) -> str:
    return hashlib.sha1(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()


DOCUMENT_OF_KIND: dict[str, Callable] = {
    "needs": _hashed(need_document), "proposals": _hashed(proposal_document),
    "orgs": _hashed(org_document), "need_queries": need_query_document,
    "org_queries": org_query_document,
}


def _with_hash(texts: list[str], meta: dict) -> dict:
    digest = hashlib.sha1(json.dumps([texts, meta], ensure_ascii=False, sort_keys=True,
                                     default=str).encode()).hexdigest()[:16]
    return {**meta, "h": digest}


def count_items(session: Session | None = None) -> int:
    """Needs, proposals and organisations in the database (what a full repair compares)."""
    session = session or db.session
    return sum(session.scalar(select(func.count(MODEL_OF_KIND[k].id))) or 0 for k in KINDS)
