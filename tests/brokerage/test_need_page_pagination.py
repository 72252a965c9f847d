"""The coordinator's need page at scale: proposals and recommendations a page at a
time, the shortlist across pages, and a number of SQL statements per view that
does not grow with the number of proposals."""

from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event, insert, select

from oims.extensions import db as _db
from oims.matcher import service as ms
from oims.models import Organisation, Proposal
from oims.models.base import utcnow

from ..factories import login
from .conftest import using

ROW = re.compile(r'data-testid="ranked-proposal" data-proposal-id="(\d+)"')
RANKED = re.compile(r'data-proposal-id="\d+">\s*<td>.*?</td>\s*<td>\d+</td>', re.DOTALL)


def _many_proposals(db, need, by, count: int, start: int = 0) -> list[int]:
    """`count` submitted proposals to `need`, one per new organisation (bulk insert)."""
    now = utcnow()
    db.session.execute(insert(Organisation), [
        {"name": f"候補{start + i}", "kind": "sme", "prefecture": "13", "bureau": "kanto", "industry": "E"}
        for i in range(count)])
    org_ids = list(db.session.scalars(select(Organisation.id).where(Organisation.name.like("候補%"))
                                      .order_by(Organisation.id)))[start:start + count]
    db.session.execute(insert(Proposal), [
        {"need_id": need.id, "org_id": oid, "created_by_id": by.id, "title": f"提案{start + i:02d}", "summary": "s",
         "solution": "s", "stage": "submitted", "submitted_at": now, "answers": [], "receipt_hash": "x" * 64,
         # every third one keeps its solution until the NDA (staged disclosure reads the events)
         "after_nda": ["solution"] if i % 3 == 0 else []}
        for i, oid in enumerate(org_ids)])
    db.session.commit()
    return list(db.session.scalars(select(Proposal.id).where(Proposal.need_id == need.id).order_by(Proposal.id)))


def test_second_page_shows_the_rest_and_the_shortlist_works_across_pages(client, db, factory):
    coord = factory.user("coordinator", org=factory.org(kind="support", prefecture="13"))
    need = factory.need()
    ids = _many_proposals(db, need, coord, 60)
    login(client, coord)
    first = client.get(f"/brokerage/need/{need.id}").get_data(as_text=True)
    second = client.get(f"/brokerage/need/{need.id}?page=2").get_data(as_text=True)
    on_1, on_2 = [int(i) for i in ROW.findall(first)], [int(i) for i in ROW.findall(second)]
    assert (len(on_1), len(on_2)) == (50, 10)
    assert sorted(on_1 + on_2) == ids  # the second page shows the rest, nothing twice
    # One hidden judgment form per row of the page, not per proposal of the need.
    assert len(re.findall(r'id="judge-proposal-\d+"', second)) == 10

    # Refused (no comment) with a box ticked on each page: the form comes back on the first
    # page with its own box ticked and the other page's choice kept as a hidden field.
    resp = client.post(f"/brokerage/need/{need.id}/shortlist", data={"proposal_ids": [on_1[0], on_2[0]],
                                                                    "comment": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert re.search(rf'value="{on_1[0]}" id="sel-{on_1[0]}"[^>]* checked', html)
    assert f'<input type="hidden" name="proposal_ids" value="{on_2[0]}">' in html
    # Its page links lead to the need page, not to the form's action.
    assert f'href="/brokerage/need/{need.id}?page=2"' in html
    assert f"/brokerage/need/{need.id}/shortlist?page" not in html
    assert db.session.get(Proposal, on_2[0]).forwarded_at is None

    # Submitted again: both are forwarded, the one from the second page too.
    resp = client.post(f"/brokerage/need/{need.id}/shortlist", data={"proposal_ids": [on_1[0], on_2[0]],
                                                                    "comment": "ご検討ください"})
    assert resp.status_code == 302
    db.session.expire_all()
    forwarded = {p.id for p in db.session.scalars(select(Proposal).where(Proposal.forwarded_at.isnot(None)))}
    assert forwarded == {on_1[0], on_2[0]}
    assert db.session.get(Proposal, on_2[0]).stage == "shortlisted"


# In tests the index follows the change log inline before each search (in production a
# background thread does it): those reads depend on what was logged meanwhile, not on the page.
FOLLOWER_READS = ("SELECT match_cursor.name", "SELECT match_change.id, match_change.origin")


@contextmanager
def _counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().startswith(FOLLOWER_READS):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_sql_statements_do_not_grow_with_the_proposals(matching_app, factory):
    """The page with the matcher on (ranking, reasons, recommendations): the same number
    of statements for 5 proposals as for 60 (no query per row)."""
    app = matching_app()
    with using(app):
        client = app.test_client()
        coord = factory.user("coordinator", org=factory.org(kind="support", prefecture="13"))
        need = factory.need()
        for i in range(3):  # recommendations have something to show
            factory.org(kind="sme", profile="炭素繊維強化樹脂（CFRP）の射出成形で自動車部品を量産しています。",
                        name=f"推薦{i}")
        _many_proposals(_db, need, coord, 5)
        ms.reindex(force=False)  # bulk inserts bypass the ORM hook: index them as the repair does
        login(client, coord)
        url = f"/brokerage/need/{need.id}"

        def statements() -> tuple[int, str]:
            assert client.get(url).status_code == 200  # the index follows the new rows; lists cached
            # The test's session outlives requests: start the counted one as a request's fresh session would.
            _db.session.expire_all()
            with _counting(_db.engine) as seen:
                html = client.get(url).get_data(as_text=True)
            return len(seen), html

        few, html = statements()
        assert len(ROW.findall(html)) == 5 and 'data-org-id="' in html
        assert len(RANKED.findall(html)) == 5  # every row ranked, with reasons
        _many_proposals(_db, need, coord, 55, start=5)
        ms.reindex(force=False)
        many, html = statements()
        assert len(ROW.findall(html)) == 50 and len(RANKED.findall(html)) == 50
        assert many == few, (few, many)
