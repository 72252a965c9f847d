"""CSV exports: every KPI table, and lists of needs, proposals and meetings.

UTF-8 with a BOM so Japanese Excel opens the files correctly. Lists come
from `oims.policy` (visible_needs / visible_proposals / owner_label), so an
export never shows more than the pages do.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import Response
from flask_babel import gettext as _
from sqlalchemy import select

from oims.core import reference as ref
from oims.extensions import db
from oims.models import Meeting, Need, Organisation, Proposal, User
from oims.policy import owner_label, proposal_filter, visible_needs, visible_proposals
from oims.proposals.workflow import stage_labels

BOM = "\ufeff"
# A cell starting with one of these would run as a formula in a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        value = " / ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return BOM + buf.getvalue()


def csv_response(filename: str, header: list[str], rows: list[list]) -> Response:
    resp = Response(to_csv(header, rows).encode("utf-8"), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


# --- KPI tables ------------------------------------------------------------------

def stage_names() -> dict[str, str]:
    return {"needs": _("Needs published"), "proposals": _("Proposals"), "shortlisted": _("Shortlisted"),
            "met": _("Meetings"), "nda_poc": _("NDA / PoC"), "deal": _("Deals")}


def measure_names() -> dict[str, str]:
    return {"first_proposal": _("Days to first proposal"), "first_shortlist": _("Days to first shortlisting"),
            "first_meeting": _("Days to first meeting")}


def dimension_names() -> dict[str, str]:
    return {"bureau": _("Bureau"), "prefecture": _("Prefecture of the need owner"),
            "industry": _("Industry of the need owner"), "kind": _("Kind of proposing organisation"),
            "partnership": _("Partnership type")}


def dimension_label(dim: str, code: str, locale: str) -> str:
    table = {"bureau": ref.BUREAU_BY_CODE, "prefecture": ref.PREFECTURE_BY_CODE, "industry": ref.INDUSTRY_BY_CODE,
             "kind": ref.ORG_KIND_BY_CODE, "partnership": ref.PARTNERSHIP_BY_CODE}[dim]
    return ref.label(table, code, locale) or _("(none)")


KPI_TABLES = ("funnel", "bureau", "prefecture", "industry", "kind", "partnership", "time", "response",
              "regional", "cross_regional", "matcher")


def kpi_table(report: dict, name: str, locale: str) -> tuple[list[str], list[list]]:
    """Header and rows of one KPI table (the same numbers the page shows)."""
    if name == "funnel":
        names = stage_names()
        return ([_("Stage"), _("Count"), _("Conversion from previous stage (%)")],
                [[names[r["stage"]], r["count"], _pct(r["rate"])] for r in report["funnel"]])
    if name in report["breakdowns"]:
        return ([_("Code"), dimension_names()[name], _("Needs published"), _("Proposals"), _("Shortlisted"),
                 _("Meetings"), _("NDA / PoC"), _("Deals"), _("Meeting rate (%)")],
                [[r["key"], dimension_label(name, r["key"], locale), r["needs"], r["proposals"], r["shortlisted"],
                  r["meetings"], r["nda_poc"], r["deals"], _pct(r["meeting_rate"])]
                 for r in report["breakdowns"][name]])
    if name == "time":
        names = measure_names()
        return ([_("Measure"), _("Needs measured"), _("Median days")],
                [[names[r["measure"]], r["needs"], r["median_days"]] for r in report["time_measures"]])
    if name == "response":
        def row(label, f):
            return [label, f["forwarded"], f["responded"], _pct(f["response_rate"]), f["on_time"], f["overdue"],
                    f["pending"], _pct(f["on_time_rate"]), f["median_days"]]
        rows = [row(_("All need owners"), report["response"]["overall"])]
        rows += [row(r["owner"], r) for r in report["response"]["owners"]]
        return ([_("Need owner"), _("Forwarded"), _("Answered"), _("Response rate (%)"), _("Answered on time"),
                 _("Overdue"), _("Not yet due"), _("On-time rate (%)"), _("Median days to answer")], rows)
    if name == "regional":
        return ([_("Rank"), _("Code"), _("Prefecture of the proposer"), _("Proposals"), _("Share (%)"),
                 _("Meetings"), _("Deals")],
                [[r["rank"], r["prefecture"], ref.label(ref.PREFECTURE_BY_CODE, r["prefecture"], locale),
                  r["proposals"], _pct(r["share"]), r["meetings"], r["deals"]] for r in report["regional"]])
    if name == "cross_regional":
        return ([_("Proposer’s bureau"), _("Need’s bureau"), _("Proposals"), _("Meetings")],
                [[ref.label(ref.BUREAU_BY_CODE, r["from_bureau"], locale),
                  ref.label(ref.BUREAU_BY_CODE, r["to_bureau"], locale), r["proposals"], r["meetings"]]
                 for r in report["cross_regional"]["flows"]])
    if name == "matcher":
        m = report["matcher"]
        return ([_("Source"), _("Meetings"), _("Share of meetings (%)")],
                [[_("All meetings"), m["meetings"], ""],
                 [_("Invited by a coordinator"), m["from_invitation"], _pct(m["from_invitation_share"])],
                 [_("Shortlisted from the top %(n)d of the ranking", n=m["top_n"]), m["from_top_n"],
                  _pct(m["from_top_n_share"])],
                 [_("Either"), m["from_either"], _pct(m["from_either_share"])]])
    raise KeyError(name)


# --- lists -------------------------------------------------------------------------

def needs_rows(user: User, locale: str) -> tuple[list[str], list[list]]:
    needs = db.session.scalars(visible_needs(user).order_by(Need.id)).all()
    header = [_("ID"), _("Title"), _("Need owner"), _("Status"), _("Bureau"), _("Partnership types"),
              _("Keywords"), _("Deadline"), _("Published")]
    rows = [[n.id, n.title, owner_label(n, user, locale), n.status, ref.label(ref.BUREAU_BY_CODE, n.bureau, locale),
             [ref.label(ref.PARTNERSHIP_BY_CODE, t, locale) for t in n.partnership_types or []],
             n.keywords or [], n.deadline, n.published_at] for n in needs]
    return header, rows


def proposals_rows(user: User, locale: str) -> tuple[list[str], list[list]]:
    labels = stage_labels()
    props = db.session.scalars(visible_proposals(user).order_by(Proposal.id)).all()
    header = [_("ID"), _("Need ID"), _("Need"), _("Need owner"), _("Proposer"), _("Proposal title"),
              _("Stage code"), _("Stage"), _("Submitted"), _("Forwarded")]
    rows = [[p.id, p.need_id, p.need.title, owner_label(p.need, user, locale, p), p.org.display_name(locale),
             p.title, p.stage, labels.get(p.stage, p.stage), p.submitted_at, p.forwarded_at] for p in props]
    return header, rows


def meetings_rows(user: User, locale: str) -> tuple[list[str], list[list]]:
    visible_ids = select(Proposal.id).where(proposal_filter(user))
    meetings = db.session.scalars(select(Meeting).where(Meeting.proposal_id.in_(visible_ids))
                                  .order_by(Meeting.id)).all()
    header = [_("ID"), _("Proposal ID"), _("Need"), _("Need owner"), _("Proposer"), _("Status"), _("Mode"),
              _("Starts"), _("Ends")]
    rows = []
    for m in meetings:
        p = db.session.get(Proposal, m.proposal_id)
        org = db.session.get(Organisation, p.org_id)
        rows.append([m.id, p.id, p.need.title, owner_label(p.need, user, locale, p), org.display_name(locale),
                     m.status, m.mode, m.starts_at, m.ends_at])
    return header, rows


LISTS = {"needs": needs_rows, "proposals": proposals_rows, "meetings": meetings_rows}
