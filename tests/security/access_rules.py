"""THE table of who may reach which route (the access matrix's expectations).

Keyed by endpoint. A route that appears in the app's URL map without an
entry here fails `test_every_endpoint_has_a_rule` and its own matrix cases.

Roles: anon, owner (need owner of Kanto), proposer (Kanto SME), coord
(Kanto coordinator), coord_other (Kinki coordinator), admin. Each role is
tested against the "own" objects (Kanto: the owner's need, the proposer's
proposal to it ...) and the "other" objects (the same in Kinki, by other
firms). So coord_other × other is "a coordinator on its own bureau's object".

Outcomes:
  ok     2xx, or 3xx to anything but the login page
  ok400  ok, or 400/422 (an authorised POST with empty data may fail validation)
  login  redirect to /auth/login (pages) or 401 (API)
  deny   403 or 404, and which one is decided by the one convention below
An expectation is one outcome for both sides or a pair (own, other).

Which refusal (`harness.deny_status`): 403 when the role may not use the route
at all (roles_required, or a route about no object), or when it may see the
object but not do this to it; 404 when it may not see the object (need,
proposal, meeting, organisation by oims.policy; any other object: tokens, jobs,
endorsements, join requests, calls are only ever their managers'). Two tables
below name the routes that differ, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lit:
    """A literal URL value (not a world object)."""

    value: str


@dataclass(frozen=True)
class Rule:
    expect: dict
    params: dict = field(default_factory=dict)  # URL argument -> world key or Lit
    query: dict = field(default_factory=dict)   # query-string argument -> world key or Lit
    method: str | None = None                   # default: GET if the route has it, else its other method
    data: dict = field(default_factory=dict)    # form/JSON fields sent with an unsafe method (world key or Lit)
    unavailable_ok: bool = False                # 503 is fine for authorised roles (the matcher is off in tests)
    session: bool = False                       # an API-blueprint page signed in by cookie, not token
    keeps_world: bool = False                   # an accepted request changes nothing another case depends on
    why: str = ""


# URL arguments and the world object they get unless a rule says otherwise.
PARAM_DEFAULTS = {
    "need_id": "need", "proposal_id": "proposal", "org_id": "owner_org", "meeting_id": "meeting",
    "slot_id": "slot", "message_id": "message", "invitation_id": "invitation", "attachment_id": "att_need",
    "att_id": "att_need", "req_id": "join_request", "user_id": "joiner", "token_id": "token_row",
    "token": Lit("not-a-valid-token"), "code": Lit("en"), "filename": Lit("css/oims.css"),
    "decision": Lit("approve"), "uid": "meeting_uid", "endorsement_id": "endorsement", "job_id": "import_job",
    "call_id": "call",
}

R = ("anon", "owner", "proposer", "coord", "coord_other", "admin")


def roles(anon="login", owner="deny", proposer="deny", coord="deny", coord_other="deny", admin="ok") -> dict:
    return dict(zip(R, (anon, owner, proposer, coord, coord_other, admin), strict=True))


OK, OK4, LOGIN, DENY = "ok", "ok400", "login", "deny"
PUBLIC = roles(OK, OK, OK, OK, OK, OK)
PUBLIC_POST = roles(OK4, OK4, OK4, OK4, OK4, OK4)
SIGNED_IN = roles(LOGIN, OK, OK, OK, OK, OK)
SIGNED_IN_POST = roles(LOGIN, OK4, OK4, OK4, OK4, OK4)
STAFF = roles(coord=OK, coord_other=OK)
ADMIN = roles()
NEED_OWNERS = roles(owner=OK)
PROPOSERS = roles(proposer=OK)
# Objects of one bureau: its coordinator, an admin, and the party in `who`.
_mine, _theirs = (OK, DENY), (DENY, OK)


def bureau_obj(*, owner=DENY, proposer=DENY, ok=OK, admin=None) -> dict:
    """Party roles get (ok, deny); the bureau's coordinator (ok, deny), the other
    bureau's coordinator (deny, ok)."""
    def pair(v):
        return (ok, DENY) if v == OK else v
    return roles(owner=pair(owner), proposer=pair(proposer), coord=(ok, DENY), coord_other=(DENY, ok),
                 admin=admin or ok)


def party_only(*, owner=DENY, proposer=DENY, ok=OK, admin=DENY) -> dict:
    """Only the party (owner or proposer) of the object may act; staff are refused."""
    def pair(v):
        return (ok, DENY) if v == OK else v
    return roles(owner=pair(owner), proposer=pair(proposer), admin=admin)


RULES: dict[str, Rule] = {
    # --- shell, accounts ---------------------------------------------------------------------
    "static": Rule(PUBLIC),
    "main.index": Rule(PUBLIC),
    "main.healthz": Rule(PUBLIC),
    "main.dashboard": Rule(SIGNED_IN),
    "main.notifications": Rule(SIGNED_IN),
    "main.notifications_read": Rule(SIGNED_IN_POST, keeps_world=True),
    "main.set_language": Rule(PUBLIC_POST, keeps_world=True),
    "auth.login": Rule(PUBLIC),
    "auth.signup": Rule(PUBLIC),
    "auth.reset_request": Rule(PUBLIC),
    "auth.reset_password": Rule(PUBLIC, why="an invalid token redirects to the reset request page"),
    "auth.settings": Rule(SIGNED_IN),
    "auth.change_password": Rule(SIGNED_IN_POST),
    "auth.logout": Rule(SIGNED_IN_POST),
    "auth.end_sessions": Rule(SIGNED_IN_POST, why="signs the caller's own account out everywhere"),
    # --- accounts: own data, deletion, off-boarding (admin) ----------------------------------
    "accounts.export_json": Rule(SIGNED_IN, why="each user downloads only their own data"),
    "accounts.export_zip": Rule(SIGNED_IN, why="each user downloads only their own data"),
    "accounts.delete_account": Rule(SIGNED_IN, why="the form; the POST needs the password"),
    "accounts.admin_user": Rule(ADMIN),
    "accounts.admin_export": Rule(ADMIN, why="for disclosure requests of people who cannot sign in"),
    "accounts.disable_user": Rule(roles(admin=OK4)),
    "accounts.enable_user": Rule(roles(admin=OK4)),
    "accounts.end_user_sessions": Rule(roles(admin=OK4)),
    "accounts.delete_user": Rule(roles(admin=OK4), why="without the confirmation box: 400"),
    "accounts.disable_org": Rule(roles(admin=OK4)),
    "accounts.enable_org": Rule(roles(admin=OK4)),
    # --- organisations -----------------------------------------------------------------------
    "orgs.index": Rule(STAFF),
    "orgs.view": Rule(roles(owner=_mine, coord=OK, coord_other=OK),
                      why="staff see every profile (to recommend firms across regions)"),
    "orgs.edit": Rule(bureau_obj(owner=OK)),
    "orgs.join_requests": Rule(roles(owner=OK, proposer=OK, coord=OK, coord_other=OK),
                               why="org admins see their own organisation's requests"),
    "orgs.decide_join": Rule(bureau_obj(owner=OK, ok=OK4)),
    "orgs.pending": Rule(STAFF, why="each coordinator sees its own bureau's new organisations"),
    "orgs.approve": Rule(bureau_obj(), keeps_world=True,
                         why="coordinators approve new organisations of their bureau (the world's are active: no-op)"),
    "orgs.new_staff": Rule(ADMIN),
    # --- needs ---------------------------------------------------------------------------------
    "needs.browse": Rule(SIGNED_IN),
    "needs.mine": Rule(NEED_OWNERS),
    "needs.new": Rule(roles(owner=OK, admin=DENY), why="admins have no firm to post needs for"),
    "needs.review_queue": Rule(STAFF),
    "needs.view": Rule(bureau_obj(owner=OK), params={"need_id": "need_draft"},
                       why="a draft is seen by its owner, its bureau and admins only"),
    "needs.versions": Rule(bureau_obj(owner=OK), params={"need_id": "need_draft"}),
    "needs.edit": Rule(bureau_obj(owner=OK), params={"need_id": "need2"},
                       why="published: the owner edits (versioned), its bureau's coordinator edits"),
    "needs.submit": Rule(party_only(owner=OK, ok=OK4), params={"need_id": "need_draft"}),
    "needs.withdraw": Rule(party_only(owner=OK, ok=OK4, admin=OK4), params={"need_id": "need_draft"}),
    "needs.fulfil": Rule(bureau_obj(owner=OK, ok=OK4), params={"need_id": "need2"}),
    "needs.review": Rule(bureau_obj(), params={"need_id": "need_review"}),
    "needs.upload": Rule(party_only(owner=OK, ok=OK4), params={"need_id": "need_draft"}),
    "needs.delete_upload": Rule(party_only(owner=OK, ok=OK4), params={"need_id": "need", "att_id": "att_need"}),
    "needs.download": Rule(SIGNED_IN, params={"att_id": "att_need"},
                           why="the attachment of a published need (renamed for those who may not know the owner)"),
    # --- proposals -------------------------------------------------------------------------------
    "proposals.view": Rule(bureau_obj(owner=OK, proposer=OK)),
    "proposals.receipt": Rule(bureau_obj(proposer=OK), why="the receipt is the proposer's and the bureau's; not the owner's"),
    "proposals.attachment": Rule(bureau_obj(owner=OK, proposer=OK), params={"attachment_id": "att_proposal"}),
    "proposals.as_owner": Rule(party_only(proposer=OK), why="the proposer's preview of the owner's view"),
    "proposals.edit": Rule(party_only(proposer=OK), params={"proposal_id": "proposal_draft"}),
    "proposals.submit": Rule(party_only(proposer=OK, ok=OK4), params={"proposal_id": "proposal_draft"}),
    "proposals.withdraw": Rule(party_only(proposer=OK, ok=OK4)),
    "proposals.start_screening": Rule(bureau_obj(ok=OK4), params={"proposal_id": "proposal_submitted"}),
    "proposals.decline": Rule(bureau_obj(ok=OK4), params={"proposal_id": "proposal_submitted"}),
    "proposals.for_need": Rule(bureau_obj(owner=OK)),
    "proposals.mine": Rule(PROPOSERS),
    "proposals.new": Rule(roles(proposer=OK, admin=DENY), query={"need_id": "need"},
                          why="only proposer organisations propose, to published needs"),
    # --- brokerage -----------------------------------------------------------------------------
    "brokerage.workspace": Rule(STAFF),
    "brokerage.inbox": Rule(NEED_OWNERS),
    "brokerage.need": Rule(bureau_obj()),
    "brokerage.invite": Rule(bureau_obj(ok=OK4), data={"org_id": "proposer_org"}),
    "brokerage.shortlist": Rule(bureau_obj(ok=OK4)),
    "brokerage.case": Rule(bureau_obj(owner=OK, proposer=OK)),
    "brokerage.post_message": Rule(bureau_obj(owner=OK, proposer=OK, ok=OK4)),
    "brokerage.respond": Rule(bureau_obj(owner=OK, ok=OK4), why="the owner (or its coordinator) answers a forwarded proposal"),
    "brokerage.propose_slots": Rule(bureau_obj(owner=OK, proposer=OK, ok=OK4), why="either side proposes slots"),
    "brokerage.pick_slot": Rule(bureau_obj(proposer=OK, ok=OK4), why="the side that did not propose the slots picks"),
    "brokerage.meeting_held": Rule(bureau_obj(owner=OK, proposer=OK, ok=OK4)),
    "brokerage.meeting_ics": Rule(bureau_obj(owner=OK, proposer=OK), params={"meeting_id": "meeting_held"}),
    "brokerage.record_outcome": Rule(bureau_obj(owner=OK, proposer=OK, ok=OK4), params={"proposal_id": "proposal_met"}),
    "brokerage.fit_check": Rule(SIGNED_IN, query={"need_id": "need"}),
    # --- matcher feedback and alerts (h4) -------------------------------------------------------
    "matchfeed.judge": Rule(bureau_obj(ok=OK4), keeps_world=True,
                            data={"kind": Lit("proposal"), "target_id": "proposal", "relevant": Lit("1")},
                            why="the need's bureau marks its candidates; a mark changes no workflow state"),
    "matchfeed.alert_settings": Rule(SIGNED_IN, why="each user's own alert opt-in"),
    "matchfeed.unsubscribe": Rule(roles(OK4, OK4, OK4, OK4, OK4, OK4),
                                  why="from an e-mail without logging in; the signed token names the user "
                                      "(an invalid one gets 400)"),
    # --- fair dealing (h8) ------------------------------------------------------------------------
    "fairdeal.save_terms": Rule(bureau_obj(owner=OK, proposer=OK, ok=OK4), params={"proposal_id": "proposal_met"},
                                why="either party or the bureau's coordinator records the key terms"),
    "fairdeal.report": Rule(party_only(proposer=OK, ok=OK4), why="only the proposer reports, privately"),
    "fairdeal.reports": Rule(STAFF, why="a coordinator sees the reports of its own bureau only"),
    "checkins.answer": Rule(roles(DENY, DENY, DENY, DENY, DENY, DENY),
                            why="no sign-in: only a valid signed link made for a party opens it"),
    # --- endorsements (h8) --------------------------------------------------------------------------
    "endorsements.index": Rule(roles(coord=OK, coord_other=OK), why="endorsers: allowed support bodies and the bureau"),
    "endorsements.withdraw": Rule(bureau_obj(), keeps_world=True,
                                  why="the endorsing body, or the endorsed organisation's bureau"),
    "endorsements.endorsers": Rule(STAFF),
    "endorsements.remove_endorser": Rule(bureau_obj(), keeps_world=True,
                                         why="a coordinator manages the endorsers of its own bureau"),
    # --- themed calls (h13) ---------------------------------------------------------------------
    "calls.index": Rule(PUBLIC),
    "calls.view": Rule(PUBLIC, why="a call's public page: titles, aliases and deadlines of its published needs"),
    "calls.new": Rule(STAFF, why="bureau staff, and support bodies allowed to endorse"),
    "calls.edit": Rule(bureau_obj(), why="the running body, the call's bureau's coordinators, admins"),
    "calls.add_need": Rule(bureau_obj(ok=OK4), data={"need_id": "need2"}, keeps_world=True),
    "calls.remove_need": Rule(bureau_obj(), keeps_world=True),
    "ratings.rate": Rule(party_only(proposer=OK, ok=OK4), params={"proposal_id": "proposal_met"}, keeps_world=True,
                         why="only the proposer rates the owner, after a decision; empty scores: 400"),
    # --- JSON API (bearer token; cookies do not count) ----------------------------------------
    "api.docs": Rule(PUBLIC),
    "api.openapi_json": Rule(PUBLIC),
    "api.tokens": Rule(SIGNED_IN, session=True),
    "api.revoke": Rule(party_only(owner=OK), session=True, params={"token_id": "token_row"},
                       why="only its user may revoke a token"),
    "api.list_needs": Rule(SIGNED_IN),
    "api.get_need": Rule(bureau_obj(owner=OK), params={"need_id": "need_draft"}),
    "api.create_need": Rule(roles(owner=OK4, admin=DENY)),
    "api.update_need": Rule(bureau_obj(owner=OK, ok=OK4), params={"need_id": "need2"}),
    "api.list_proposals": Rule(SIGNED_IN),
    "api.get_proposal": Rule(bureau_obj(owner=OK, proposer=OK)),
    "api.create_proposal": Rule(roles(proposer=OK4, admin=DENY)),
    "api.withdraw_proposal": Rule(party_only(proposer=OK, ok=OK4)),
    "api.list_meetings": Rule(SIGNED_IN),
    "api.get_meeting": Rule(bureau_obj(owner=OK, proposer=OK)),
    "api.kpi": Rule(roles(owner=OK, coord=OK, coord_other=OK)),
    "api.match_my_organisation": Rule(SIGNED_IN, unavailable_ok=True, why="matches for the caller's own organisation"),
    "api.match_need": Rule(bureau_obj(), unavailable_ok=True),
    # --- bulk import of organisations ---------------------------------------------------------
    "imports.index": Rule(STAFF),
    "imports.upload": Rule(roles(coord=OK4, coord_other=OK4, admin=OK4), why="an empty upload is refused (400)"),
    "imports.template": Rule(STAFF, params={"fmt": Lit("xlsx")}),
    "imports.job": Rule(bureau_obj(), why="a bureau's import jobs are its coordinators' (and admins')"),
    "imports.status": Rule(bureau_obj()),
    "imports.run": Rule(bureau_obj(ok=OK4)),
    # --- insight ---------------------------------------------------------------------------------
    "insight.kpi": Rule(roles(owner=OK, coord=OK, coord_other=OK)),
    "insight.export_kpi": Rule(roles(owner=OK, coord=OK, coord_other=OK), params={"name": Lit("funnel")}),
    "insight.export_list": Rule(SIGNED_IN, params={"kind": Lit("proposals")},
                                why="each user exports only what it may see"),
    # --- audit screens (h11) ------------------------------------------------------------------
    "audit.trail": Rule(STAFF, why="a coordinator's trail holds only its bureau's objects"),
    "audit.trail_csv": Rule(STAFF, why="the same rows as the trail page"),
    "audit.proposal_views": Rule(NEED_OWNERS, why="views of the proposals forwarded to the owner's organisation"),
    "insight.strength_page": Rule(STAFF, why="aggregate counts; a coordinator may look at any bureau, as on the KPI page"),
    "insight.strength_csv": Rule(STAFF, params={"table": Lit("orgs")}),
    "insight.declines": Rule(STAFF, why="aggregate counts of a bureau's declines"),
    "insight.declines_csv": Rule(STAFF),
}


# Staff pages about an object that answer 404 to everyone who does not manage it, even when the
# object itself (a published need, an organisation's profile) is public: the page is the bureau's
# file on the object, and its existence is not told outside the bureau.
NOT_FOUND_UNLESS_MANAGER = {
    "brokerage.need": "the coordinator's page of a need (ranked proposals, recommendations)",
    "brokerage.invite": "invitations are sent from that page",
    "brokerage.shortlist": "shortlists are made on that page",
    "calls.remove_need": "a call's needs are managed by its bureau",
    "matchfeed.judge": "relevance marks on the coordinator's ranked lists",
    "endorsements.remove_endorser": "the bureau's list of allowed endorsers",
    "orgs.approve": "approving a pending organisation is its bureau's act",
}

# Routes whose refusal does not follow the convention: reported, kept visible here until fixed.
INCONSISTENT = {
    "ratings.rate": (404, "answers 404 to everyone outside the proposing organisation, also to the need's "
                          "owner, the bureau and admins who see the proposal (403 by the convention)"),
}
