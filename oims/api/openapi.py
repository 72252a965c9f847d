"""The OpenAPI 3.1 document of /api/v1, built as a Python dict: its paths,
parameters and responses here, its schemas in `oims.api.schemas`.

The request-body schemas are also what the API validates incoming JSON
against (`oims.api.validation`), and a schemathesis run in the tests checks
every response against the response schemas, so the document and the
implementation cannot drift apart silently.
"""

from __future__ import annotations

from oims.api.schemas import (
    BUREAUS,
    DATE,
    ID,
    OWNER_FILTER_HELP,
    OWNER_FILTERS,
    PARTNERSHIPS,
    SCHEMAS,
    schema_ref,
    text_schema,
)
from oims.core.vocabulary import NEED_STATUSES, PROPOSAL_STAGES, NeedStatus

RESPONSES = {
    code: {"description": text, "content": {"application/problem+json": {"schema": schema_ref("Problem")}}}
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
    resp = {"description": description, "content": {"application/json": {"schema": schema_ref(schema)}}}
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
    return {"required": required, "content": {"application/json": {"schema": schema_ref(schema)}}}


PATHS = {
    "/needs": {
        "get": {
            "operationId": "listNeeds", "tags": ["needs"], "summary": "Needs the caller may see",
            "description": "Same search and visibility as the needs pages. Anonymous owners are shown by alias.",
            "parameters": [
                _param("q", text_schema(200), "Words that must all occur (Japanese works as substrings)."),
                _param("status", {"type": "string", "enum": list(NEED_STATUSES) + ["all"],
                                 "default": NeedStatus.PUBLISHED},
                       "Status filter (drafts and reviews only show for their owners and staff)."),
                _param("partnership", {"type": "string", "enum": PARTNERSHIPS}, "Partnership type."),
                _param("keyword", text_schema(50), "A keyword of the need."),
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
