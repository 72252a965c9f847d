"""The schemas of the OpenAPI document of /api/v1: what the API returns and
what it accepts (`oims.api.validation` checks request bodies against them),
and the value lists its query parameters share with them.
"""

from __future__ import annotations

from oims.core import reference as ref
from oims.core.vocabulary import NEED_STATUSES, PROPOSAL_STAGES
from oims.policy import RESTRICTABLE_PARTS

MAX_ID = 2_147_483_647
PARTNERSHIPS = [c.code for c in ref.PARTNERSHIP_TYPES]
# Need search on the owner organisation (h10); the same as the needs page.
OWNER_FILTERS = {"industry": [c.code for c in ref.INDUSTRIES], "prefecture": [c.code for c in ref.PREFECTURES],
                 "org_kind": sorted(ref.OWNER_KINDS), "size": [c.code for c in ref.EMPLOYEE_BANDS]}
OWNER_FILTER_HELP = {"industry": "The owner's industry (JSIC division).",
                     "prefecture": "The owner's prefecture (JIS code); anonymous needs are left out for callers "
                                   "who may not know their owner.",
                     "org_kind": "The owner's organisation kind.",
                     "size": "The owner's employee band; anonymous needs are left out as for prefecture."}
BUREAUS = [c.code for c in ref.BUREAUS]


def _nullable(schema: dict) -> dict:
    out = dict(schema)
    out["type"] = [schema["type"], "null"]
    return out


def schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


STR = {"type": "string"}
INT = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
RATE = {"type": ["number", "null"], "description": "Fraction from 0 to 1; null when the base is 0."}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def text_schema(max_length: int, min_length: int = 0) -> dict:
    s = {"type": "string", "maxLength": max_length}
    if min_length:
        s["minLength"] = min_length
    return s


NEED_FIELDS = {
    "title": text_schema(200, 1), "summary": text_schema(2000, 1), "background": text_schema(5000), "sought": text_schema(5000),
    "partnership_types": {"type": "array", "items": {"type": "string", "enum": PARTNERSHIPS}, "minItems": 1,
                          "maxItems": len(PARTNERSHIPS)},
    "keywords": {"type": "array", "items": text_schema(50), "maxItems": 15},
    "regions": {"type": "array", "items": {"type": "string", "enum": BUREAUS}, "maxItems": len(BUREAUS),
                "description": "Preferred bureau regions; empty = nationwide."},
    "budget": text_schema(200), "deadline": dict(DATE, description="Proposal deadline (a future date)."),
    "desired_start": text_schema(100), "anonymous": {"type": "boolean"},
}
PROPOSAL_FIELDS = {
    "title": text_schema(200, 1), "summary": text_schema(2000), "solution": text_schema(10000), "track_record": text_schema(5000),
    "team": text_schema(2000), "schedule": text_schema(300), "cost": text_schema(300),
    "answers": {"type": "array", "items": text_schema(300), "maxItems": 30,
                "description": "Which parts of the need the proposal answers."},
}

SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object", "required": ["type", "title", "status"],
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": STR, "title": STR, "status": INT, "detail": STR,
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": STR},
                       "description": "Messages per field (\"\" for the whole request)."},
            "retry_after": {"type": "integer", "minimum": 1,
                            "description": "429 only: seconds to wait (the same as the Retry-After header)."},
        },
    },
    "Links": {
        "type": "object", "required": ["self", "next", "prev"],
        "properties": {"self": STR, "next": {"type": ["string", "null"]}, "prev": {"type": ["string", "null"]}},
    },
    "Owner": {
        "type": "object", "required": ["name", "disclosed", "organisation_id"],
        "description": "The need's owner, or its alias when the caller may not know who it is.",
        "properties": {"name": STR, "disclosed": {"type": "boolean"},
                       "organisation_id": {"type": ["integer", "null"]}},
    },
    "Need": {
        "type": "object",
        "required": ["id", "title", "summary", "background", "sought", "partnership_types", "keywords", "regions",
                     "budget", "deadline", "desired_start", "anonymous", "owner", "status", "bureau", "version",
                     "published_at", "created_at", "updated_at"],
        "properties": {
            "id": INT, "title": STR, "summary": STR, "background": STR, "sought": STR,
            "partnership_types": {"type": "array", "items": STR}, "keywords": {"type": "array", "items": STR},
            "regions": {"type": "array", "items": STR}, "budget": STR, "deadline": _nullable(DATE),
            "desired_start": STR, "anonymous": {"type": "boolean"}, "owner": schema_ref("Owner"),
            "status": {"type": "string", "enum": list(NEED_STATUSES)}, "bureau": STR, "version": INT,
            "published_at": _nullable(DATETIME), "created_at": DATETIME, "updated_at": DATETIME,
        },
    },
    "NeedCreate": {
        "type": "object", "additionalProperties": False,
        "required": ["title", "summary", "partnership_types", "deadline"],
        "properties": NEED_FIELDS,
    },
    "NeedUpdate": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": NEED_FIELDS,
    },
    "OrganisationRef": {
        "type": "object", "required": ["id", "name"], "properties": {"id": INT, "name": STR},
    },
    "Proposal": {
        "type": "object",
        "required": ["id", "need_id", "organisation", "title", "summary", "solution", "track_record", "team",
                     "schedule", "cost", "answers", "stage", "submitted_at", "forwarded_at", "responded_at",
                     "created_at", "updated_at"],
        "properties": {
            "id": INT, "need_id": INT, "organisation": schema_ref("OrganisationRef"), "title": STR, "summary": STR,
            "solution": STR, "track_record": STR, "team": STR, "schedule": STR, "cost": STR,
            "answers": {"type": "array", "items": STR},
            "stage": {"type": "string", "enum": list(PROPOSAL_STAGES)},
            "submitted_at": _nullable(DATETIME), "forwarded_at": _nullable(DATETIME),
            "responded_at": _nullable(DATETIME), "created_at": DATETIME, "updated_at": DATETIME,
            "withheld": {"type": "array", "items": {"type": "string", "enum": list(RESTRICTABLE_PARTS)},
                         "description": "Sections the proposer discloses after the NDA; empty strings until then."},
        },
    },
    "ProposalCreate": {
        "type": "object", "additionalProperties": False, "required": ["need_id", "title"],
        "properties": {"need_id": ID, **PROPOSAL_FIELDS,
                       "after_nda": {"type": "array", "uniqueItems": True,
                                     "items": {"type": "string", "enum": list(RESTRICTABLE_PARTS)},
                                     "description": "Sections disclosed to the need owner and the coordinators "
                                                    "only once the NDA stage is recorded (staged disclosure)."},
                       "submit": {"type": "boolean", "description": "Submit at once instead of saving a draft."}},
    },
    "Withdrawal": {
        "type": "object", "additionalProperties": False,
        "properties": {"note": text_schema(2000)},
    },
    "Meeting": {
        "type": "object",
        "required": ["id", "proposal_id", "status", "mode", "url", "address", "starts_at", "ends_at",
                     "coordinator_attends", "slots"],
        "properties": {
            "id": INT, "proposal_id": INT, "status": STR, "mode": STR, "url": STR, "address": STR,
            "starts_at": _nullable(DATETIME), "ends_at": _nullable(DATETIME),
            "coordinator_attends": {"type": "boolean"},
            "slots": {"type": "array", "items": {"type": "object", "required": ["starts_at", "ends_at"],
                                                 "properties": {"starts_at": DATETIME, "ends_at": DATETIME}}},
        },
    },
    "Match": {
        "type": "object", "required": ["rank", "score", "reasons"],
        "description": "One ranked result; which id fields are present depends on `kind`.",
        "properties": {
            "rank": INT, "score": {"type": "number", "description": "The matcher's raw hybrid score (no fixed scale)."},
            "probability": {"type": "number", "minimum": 0, "maximum": 1,
                            "description": "Calibrated chance that a coordinator judges the candidate relevant."},
            "band": {"type": "string", "enum": ["high", "medium", "low"],
                     "description": "The probability's band (高 / 中 / 低 in the app)."},
            "reasons": {"type": "array", "items": STR},
            "proposal_id": INT, "need_id": INT, "organisation": schema_ref("OrganisationRef"),
            "title": STR, "owner": schema_ref("Owner"), "stage": STR, "prefecture": STR, "kind": STR,
            "endorsements": {"type": "array", "items": STR,
                             "description": "Capabilities of the organisation endorsed by support bodies (active)."},
        },
    },
    "MatchList": {
        "type": "object", "required": ["kind", "items"],
        "properties": {"kind": {"type": "string", "enum": ["proposals", "organisations", "needs"]},
                       "items": {"type": "array", "items": schema_ref("Match")}},
    },
    "Kpi": {
        "type": "object",
        "required": ["period", "bureau", "summary", "funnel", "breakdowns", "time_measures", "response",
                     "regional", "cross_regional", "matcher"],
        "description": "The figures of the KPI dashboard; see the dashboard for the definitions.",
        "properties": {
            "period": {"type": "object", "required": ["from", "to"],
                       "properties": {"from": _nullable(DATE), "to": _nullable(DATE)}},
            "bureau": {"type": ["string", "null"]},
            "summary": {"type": "object", "required": ["needs", "proposals"],
                        "properties": {"needs": INT, "proposals": INT,
                                       "proposals_per_need": {"type": ["number", "null"]},
                                       "needs_with_proposal": INT, "needs_with_proposal_rate": RATE,
                                       "deal_rate": RATE}},
            "funnel": {"type": "array", "items": {
                "type": "object", "required": ["stage", "count", "rate"],
                "properties": {"stage": {"type": "string", "enum": ["needs", "proposals", "shortlisted", "met",
                                                                     "nda_poc", "deal"]},
                               "count": INT, "rate": RATE}}},
            "breakdowns": {"type": "object", "additionalProperties": {"type": "array", "items": {
                "type": "object", "required": ["key", "needs", "proposals", "shortlisted", "meetings", "nda_poc",
                                               "deals", "meeting_rate"],
                "properties": {"key": STR, "needs": {"type": ["integer", "null"]}, "proposals": INT,
                               "shortlisted": INT, "meetings": INT, "nda_poc": INT, "deals": INT,
                               "meeting_rate": RATE}}}},
            "time_measures": {"type": "array", "items": {
                "type": "object", "required": ["measure", "needs", "median_days"],
                "properties": {"measure": STR, "needs": INT, "median_days": {"type": ["number", "null"]}}}},
            "response": {"type": "object", "required": ["overall", "owners"],
                         "properties": {"overall": schema_ref("ResponseFigures"),
                                        "owners": {"type": "array", "items": schema_ref("ResponseFigures")}}},
            "regional": {"type": "array", "items": {
                "type": "object", "required": ["rank", "prefecture", "proposals", "share", "meetings", "deals"],
                "properties": {"rank": INT, "prefecture": STR, "proposals": INT, "share": RATE, "meetings": INT,
                               "deals": INT}}},
            "cross_regional": {"type": "object", "required": ["proposals", "cross_proposals", "flows"],
                               "properties": {"proposals": INT, "cross_proposals": INT, "cross_share": RATE,
                                              "flows": {"type": "array", "items": {"type": "object"}}}},
            "matcher": {"type": "object", "required": ["top_n", "meetings", "from_invitation", "from_top_n"],
                        "properties": {"top_n": INT, "meetings": INT, "from_invitation": INT, "from_top_n": INT,
                                       "from_either": INT, "from_invitation_share": RATE,
                                       "from_top_n_share": RATE, "from_either_share": RATE}},
        },
    },
}


SCHEMAS["ResponseFigures"] = {
    "type": "object",
    "description": "How need owners answered forwarded proposals (per owner rows add owner_org_id and owner). "
                   "on_time_rate = on_time / (responded + overdue).",
    "required": ["forwarded", "responded", "response_rate", "on_time", "overdue", "pending", "on_time_rate",
                 "median_days"],
    "properties": {"owner_org_id": INT, "owner": STR, "forwarded": INT, "responded": INT, "response_rate": RATE,
                   "on_time": INT, "overdue": INT, "pending": INT, "on_time_rate": RATE,
                   "median_days": {"type": ["number", "null"]}},
}


def _page_schema(item: str) -> dict:
    return {"type": "object", "required": ["items", "page", "per_page", "total", "pages", "links"],
            "properties": {"items": {"type": "array", "items": schema_ref(item)}, "page": INT, "per_page": INT,
                           "total": INT, "pages": INT, "links": schema_ref("Links")}}


for _name in ("Need", "Proposal", "Meeting"):
    SCHEMAS[f"{_name}Page"] = _page_schema(_name)
