"""Industry (JSIC division) filter on the coordinator's ranked proposals and on
the recommended organisations (h10), through the real matcher."""

from __future__ import annotations

import re

from oims.extensions import db as _db

from ..factories import login
from .conftest import using

CFRP_PROFILE = "炭素繊維強化樹脂（CFRP）の射出成形とプレス成形で自動車部品を量産しています。軽量化部材の設計から試作まで対応します。"


def _ids(html: str, attr: str) -> list[int]:
    return [int(x) for x in re.findall(rf'{attr}="(\d+)"', html)]


def test_industry_filter_on_candidates_and_recommendations(matching_app, factory):
    app = matching_app()
    with using(app):
        client = app.test_client()
        owner = factory.user("need_owner")
        coord = factory.user("coordinator")
        need = factory.need(owner=owner)
        maker = factory.user("proposer", org=factory.org(kind="sme", industry="E"))
        lab = factory.user("proposer", org=factory.org(kind="university", industry="L"))
        p_maker = factory.proposal(need, maker)
        p_lab = factory.proposal(need, lab)
        rec_e = factory.org(kind="sme", industry="E", profile=CFRP_PROFILE)
        rec_g = factory.org(kind="sme", industry="G", profile=CFRP_PROFILE)
        _db.session.commit()

        login(client, coord)
        url = f"/brokerage/need/{need.id}"
        html = client.get(url, query_string={"bureau": ""}).get_data(as_text=True)
        assert sorted(_ids(html, "data-proposal-id")) == sorted([p_maker.id, p_lab.id])
        assert {rec_e.id, rec_g.id} <= set(_ids(html, "data-org-id"))
        html = client.get(url, query_string={"bureau": "", "cand_industry": "L"}).get_data(as_text=True)
        assert _ids(html, "data-proposal-id") == [p_lab.id]
        assert {rec_e.id, rec_g.id} <= set(_ids(html, "data-org-id"))  # the other list is not filtered
        html = client.get(url, query_string={"bureau": "", "industry": "G"}).get_data(as_text=True)
        assert rec_g.id in _ids(html, "data-org-id") and rec_e.id not in _ids(html, "data-org-id")
        assert sorted(_ids(html, "data-proposal-id")) == sorted([p_maker.id, p_lab.id])
        # Empty values are ignored; both filters together keep each other in the query string.
        html = client.get(url, query_string={"bureau": "", "industry": "", "cand_industry": ""}).get_data(as_text=True)
        assert len(_ids(html, "data-proposal-id")) == 2 and {rec_e.id, rec_g.id} <= set(_ids(html, "data-org-id"))
        html = client.get(url, query_string={"industry": "G", "cand_industry": "E"}).get_data(as_text=True)
        assert '<input type="hidden" name="industry" value="G">' in html
        assert _ids(html, "data-proposal-id") == [p_maker.id]
