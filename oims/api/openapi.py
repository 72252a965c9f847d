"""The OpenAPI 3.1 document of /api/v1, built as a Python dict.

The request-body schemas here are also what the API validates incoming JSON
against (`oims.api.validation`), and a schemathesis run in the tests checks
every response against the response schemas, so the document and the
implementation cannot drift apart silently.
"""

from __future__ import annotations

from oims.core import reference as ref
from oims.models.needs import NEED_STATUSES
from oims.models.proposals import PROPOSAL_STAGES
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


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


STR = {"type": "string"}
INT = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
RATE = {"type": ["number", "null"], "description": "Fraction from 0 to 1; null when the base is 0."}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _text(max_length: int, min_length: int = 0) -> dict:
    s = {"type": "string", "maxLength": max_length}
    if min_length:
        s["minLength"] = min_length
    return s


NEED_FIELDS = {
    "title": _text(200, 1), "summary": _text(2000, 1), "background": _text(5000), "sought": _text(5000),
    "partnership_types": {"type": "array", "items": {"type": "string", "enum": PARTNERSHIPS}, "minItems": 1,
                          "maxItems": len(PARTNERSHIPS)},
    "keywords": {"type": "array", "items": _text(50), "maxItems": 15},
    "regions": {"type": "array", "items": {"type": "string", "enum": BUREAUS}, "maxItems": len(BUREAUS),
                "description": "Preferred bureau regions; empty = nationwide."},
    "budget": _text(200), "deadline": dict(DATE, description="Proposal deadline (a future date)."),
    "desired_start": _text(100), "anonymous": {"type": "boolean"},
}
PROPOSAL_FIELDS = {
    "title": _text(200, 1), "summary": _text(2000), "solution": _text(10000), "track_record": _text(5000),
    "team": _text(2000), "schedule": _text(300), "cost": _text(300),
    "answers": {"type": "array", "items": _text(300), "maxItems": 30,
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
            "desired_start": STR, "anonymous": {"type": "boolean"}, "owner": _ref("Owner"),
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
            "id": INT, "need_id": INT, "organisation": _ref("OrganisationRef"), "title": STR, "summary": STR,
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
        "properties": {"note": _text(2000)},
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
            "proposal_id": INT, "need_id": INT, "organisation": _ref("OrganisationRef"),
            "title": STR, "owner": _ref("Owner"), "stage": STR, "prefecture": STR, "kind": STR,
            "endorsements": {"type": "array", "items": STR,
                             "description": "Capabilities of the organisation endorsed by support bodies (active)."},
        },
    },
    "MatchList": {
        "type": "object", "required": ["kind", "items"],
        "properties": {"kind": {"type": "string", "enum": ["proposals", "organisations", "needs"]},
                       "items": {"type": "array", "items": _ref("Match")}},
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
                         "properties": {"overall": _ref("ResponseFigures"),
                                        "owners": {"type": "array", "items": _ref("ResponseFigures")}}},
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
            "properties": {"items": {"type": "array", "items": _ref(item)}, "page": INT, "per_page": INT,
                           "total": INT, "pages": INT, "links": _ref("Links")}}


for _name in ("Need", "Proposal", "Meeting"):
    SCHEMAS[f"{_name}Page"] = _page_schema(_name)


RESPONSES = {
    code: {"description": text, "content": {"application/problem+json": {"schema": _ref("Problem")}}}
    for code, text in {
        "400": "The request could not be understood (bad query parameter or JSON).",
        "401": "No valid API token (send `Authorization: Bearer <token>`).",
        "403": "The token's user may not do this.",
        "404": "No such object, or the token's user may not see it.",
        "409": "Conflict with the object's state: a second active proposal to the same need, or a stage "
               "change that is no longer possible because the object moved on (another user's change won; "
               "`current` gives its state now). Nothing was changed.",
        "412": "`If-Match` does not match the object's current ETag: it was changed since you read it. "
               "Nothing was changed; GET it again, re-apply your change and send the new ETag.",
        "422": "The JSON is well-formed but its values were refused by the schema or a business rule "
               "(e.g. a deadline in the past, a published anonymous need made public, an unknown need); "
               "`errors` gives the messages per field.",
        "428": "This write needs `If-Match` with the ETag of the version it changes (from GET).",
        "429": "Too many requests for this token; wait the seconds given in `Retry-After` and retry.",
        "503": "Matching is unavailable right now.",
    }.items()
}


def _problems(*codes: str) -> dict:
    return {c: {"$ref": f"#/components/responses/{c}"} for c in ("401", "429") + codes}


ETAG_HEADER = {"ETag": {"description": "Strong entity tag of this version of the object; send it back in "
                                       "`If-Match` to change the object.", "schema": {"type": "string"}}}
IF_MATCH = {"name": "If-Match", "in": "header", "schema": {"type": "string"},
            "description": "The ETag of the version this request changes (optimistic concurrency)."}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "An ETag you hold: the answer is 304 without a body when it is still current."}
NOT_MODIFIED = {"304": {"description": "Not modified: your `If-None-Match` ETag is current."}}


def _tagged(responses: dict) -> dict:
    """The 200 answer of `responses` with the ETag header declared."""
    ok = dict(responses["200"])
    ok["headers"] = {**ok.get("headers", {}), **ETAG_HEADER}
    return {**responses, "200": ok}


def _ok(schema: str, description: str = "OK", status: str = "200") -> dict:
    resp = {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}
    if schema.endswith("Page"):
        resp["headers"] = {"Link": {"description": "RFC 8288 links to the next and previous pages, if any.",
                                    "schema": {"type": "string"}}}
    if status == "201":
        resp["headers"] = {"Location": {"description": "URL of the new object.", "schema": {"type": "string"}}}
    return {status: resp}


def _param(name: str, schema: dict, description: str, where: str = "query", required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description}


PAGE = _param("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page number.")
PER_PAGE = _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                  "Items per page (at most 100).")


def _path_id(name: str, what: str) -> dict:
    return _param(name, ID, f"The {what}'s id.", where="path")


def _json_body(schema: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": _ref(schema)}}}


PATHS = {
    "/needs": {
        "get": {
            "operationId": "listNeeds", "tags": ["needs"], "summary": "Needs the caller may see",
            "description": "Same search and visibility as the needs pages. Anonymous owners are shown by alias.",
            "parameters": [
                _param("q", _text(200), "Words that must all occur (Japanese works as substrings)."),
                _param("status", {"type": "string", "enum": list(NEED_STATUSES) + ["all"], "default": "published"},
                       "Status filter (drafts and reviews only show for their owners and staff)."),
                _param("partnership", {"type": "string", "enum": PARTNERSHIPS}, "Partnership type."),
                _param("keyword", _text(50), "A keyword of the need."),
                _param("region", {"type": "string", "enum": BUREAUS}, "Needs preferring this region or nationwide."),
                _param("deadline_before", DATE, "Deadline on or before this date."),
                *[_param(name, {"type": "string", "enum": codes}, OWNER_FILTER_HELP[name])
                  for name, codes in OWNER_FILTERS.items()],
                _param("sort", {"type": "string", "enum": ["newest", "deadline"], "default": "newest"}, "Order."),
                PAGE, PER_PAGE,
            ],
            "responses": {**_ok("NeedPage"), **_problems("400")},
        },
        "post": {
            "operationId": "createNeed", "tags": ["needs"], "summary": "Create a need as a draft (need owners)",
            "requestBody": _json_body("NeedCreate"),
            "responses": {**_ok("Need", "Created", "201"), **_problems("400", "403", "422")},
        },
    },
    "/needs/{need_id}": {
        "parameters": [_path_id("need_id", "need")],
        "get": {"operationId": "getNeed", "tags": ["needs"], "summary": "One need",
                "parameters": [IF_NONE_MATCH],
                "responses": {**_tagged(_ok("Need")), **NOT_MODIFIED, **_problems("404")}},
        "patch": {"operationId": "updateNeed", "tags": ["needs"],
                  "summary": "Change some fields of a need (its owner, or the bureau's coordinator)",
                  "description": "Optimistic concurrency: send `If-Match` with the ETag from GET. Without it "
                                 "the answer is 428; when the need changed since, 412 and nothing is changed.",
                  "parameters": [dict(IF_MATCH, required=True)],
                  "requestBody": _json_body("NeedUpdate"),
                  "responses": {**_tagged(_ok("Need")),
                                **_problems("400", "403", "404", "412", "422", "428")}},
    },
    "/needs/{need_id}/matches": {
        "parameters": [_path_id("need_id", "need")],
        "get": {
            "operationId": "matchNeed", "tags": ["matches"],
            "summary": "Ranked proposals or organisations for a need (the need's bureau coordinators)",
            "parameters": [
                _param("kind", {"type": "string", "enum": ["proposals", "organisations"], "default": "proposals"},
                       "What to rank."),
                _param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "How many."),
            ],
            "responses": {**_ok("MatchList"), **_problems("400", "403", "404", "503")},
        },
    },
    "/matches/needs": {
        "get": {
            "operationId": "matchMyOrganisation", "tags": ["matches"],
            "summary": "Published needs that fit the caller's organisation profile",
            "parameters": [_param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                                  "How many.")],
            "responses": {**_ok("MatchList"), **_problems("400", "503")},
        },
    },
    "/proposals": {
        "get": {
            "operationId": "listProposals", "tags": ["proposals"],
            "summary": "Proposals the caller may see (proposers: their own)",
            "parameters": [_param("need_id", ID, "Only proposals to this need."),
                           _param("stage", {"type": "string", "enum": list(PROPOSAL_STAGES)}, "Only this stage."),
                           PAGE, PER_PAGE],
            "responses": {**_ok("ProposalPage"), **_problems("400")},
        },
        "post": {
            "operationId": "createProposal", "tags": ["proposals"],
            "summary": "Create a proposal to a published need (proposers)",
            "requestBody": _json_body("ProposalCreate"),
            "responses": {**_ok("Proposal", "Created", "201"), **_problems("400", "403", "409", "422")},
        },
    },
    "/proposals/{proposal_id}": {
        "parameters": [_path_id("proposal_id", "proposal")],
        "get": {"operationId": "getProposal", "tags": ["proposals"], "summary": "One proposal",
                "parameters": [IF_NONE_MATCH],
                "responses": {**_tagged(_ok("Proposal")), **NOT_MODIFIED, **_problems("404")}},
    },
    "/proposals/{proposal_id}/withdraw": {
        "parameters": [_path_id("proposal_id", "proposal")],
        "post": {"operationId": "withdrawProposal", "tags": ["proposals"],
                 "summary": "Withdraw the caller's organisation's proposal (before a meeting is agreed)",
                 "description": "A stage change: of two concurrent changes exactly one wins, the other gets "
                                "409. `If-Match` is optional; when sent and stale, the answer is 412.",
                 "parameters": [dict(IF_MATCH, required=False)],
                 "requestBody": _json_body("Withdrawal", required=False),
                 "responses": {**_tagged(_ok("Proposal")),
                               **_problems("400", "403", "404", "409", "412", "422")}},
    },
    "/meetings": {
        "get": {"operationId": "listMeetings", "tags": ["meetings"],
                "summary": "Meetings of the proposals the caller may see",
                "parameters": [PAGE, PER_PAGE],
                "responses": {**_ok("MeetingPage"), **_problems("400")}},
    },
    "/meetings/{meeting_id}": {
        "parameters": [_path_id("meeting_id", "meeting")],
        "get": {"operationId": "getMeeting", "tags": ["meetings"], "summary": "One meeting",
                "responses": {**_ok("Meeting"), **_problems("404")}},
    },
    "/kpi": {
        "get": {
            "operationId": "getKpi", "tags": ["kpi"],
            "summary": "KPI figures (coordinators, admins; need owners for their own needs)",
            "parameters": [
                _param("from", DATE, "First day of the period (inclusive)."),
                _param("to", DATE, "Last day of the period (inclusive)."),
                _param("bureau", {"type": "string", "enum": BUREAUS + ["all"]},
                       "Staff only: a bureau or all (coordinators default to their own)."),
                _param("top_n", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
                       "Rank limit for the matcher-usefulness figures."),
            ],
            "responses": {**_ok("Kpi"), **_problems("400", "403")},
        },
    },
}


def build_spec(server_url: str = "/api/v1") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OIMS API",
            "version": "1.0.0",
            "description": (
                "JSON API of the Open Innovation Matching Square. Authenticate with a personal API token "
                "(create one under Settings → API tokens) sent as `Authorization: Bearer <token>`; the token "
                "acts with exactly its user's rights. Errors are RFC 9457 problem+json. Lists are paginated "
                "with `page` and `per_page`; `links.next` is the next page or null."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in ("needs", "proposals", "matches", "meetings", "kpi")],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A personal API token."}},
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }
