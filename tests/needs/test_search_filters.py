"""Need search filters on the owner organisation (h10): industry (JSIC
division), prefecture, kind and size, from the query string; empty or unknown
values ignored; an anonymous need is not found by prefecture or size (not in
its alias) by someone who may not know its owner."""

from __future__ import annotations

import re

import pytest

from ..factories import login, logout
from ..html import texts


@pytest.fixture
def world(cast, factory, db):
    a = factory.org(kind="large", prefecture="23", industry="E", employee_band="1001+", name="中部重工業")
    b = factory.org(kind="large", prefecture="13", industry="G", employee_band="1001+", name="東京通信")
    c = factory.org(kind="sme", prefecture="27", industry="E", employee_band="51-300", name="大阪精機")
    owners = {k: factory.user("need_owner", org=o) for k, o in (("a", a), ("b", b), ("c", c))}
    w = {"NA": factory.need(owner=owners["a"], title="NA 軽量化"), "NB": factory.need(owner=owners["b"], title="NB 通信"),
         "NC": factory.need(owner=owners["c"], title="NC 精密"),
         "NX": factory.need(owner=owners["a"], title="NX 匿名", anonymous=True)}
    w["proposer"] = cast.proposer
    w["coord"] = factory.user("coordinator", prefecture="23")
    db.session.commit()
    return w


def found(client, **args) -> list[str]:
    html = client.get("/needs/", query_string=args).get_data(as_text=True)
    return sorted(title.split()[0] for title in texts(html, "need-result"))


def test_owner_filters_from_the_query_string(client, world):
    login(client, world["proposer"])
    assert found(client) == ["NA", "NB", "NC", "NX"]
    assert found(client, industry="E") == ["NA", "NC", "NX"]  # industry is in the alias
    assert found(client, org_kind="sme") == ["NC"]
    assert found(client, org_kind="large", industry="E") == ["NA", "NX"]
    assert found(client, size="1001+") == ["NA", "NB"]  # size is not: the anonymous need stays out
    assert found(client, industry="E", prefecture="23") == ["NA"]
    assert found(client, prefecture="27", size="51-300") == ["NC"]
    # Empty and unknown values are ignored.
    assert found(client, industry="", prefecture="", org_kind="", size="") == ["NA", "NB", "NC", "NX"]
    assert found(client, industry="ZZ", prefecture="99") == ["NA", "NB", "NC", "NX"]
    # The chosen values stay selected in the form.
    html = client.get("/needs/", query_string={"industry": "G", "size": "1001+"}).get_data(as_text=True)
    assert re.search(r'<option selected value="G">|<option value="G" selected>', html)
    assert re.search(r'<option selected value="1001\+">|<option value="1001\+" selected>', html)
    assert "情報通信業" in html and "都道府県" in html and "従業員数" in html
    logout(client)
    login(client, world["coord"])  # staff know who owns anonymous needs
    assert found(client, prefecture="23") == ["NA", "NX"]


def test_owner_filters_in_the_api(client, world, db):
    from oims.api.auth import issue_token

    token, _row = issue_token(world["proposer"], "h10")
    db.session.commit()

    def titles(**args):
        r = client.get("/api/v1/needs", query_string=args, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.get_json()
        return sorted(n["title"].split()[0] for n in r.get_json()["items"])

    assert titles(industry="E") == ["NA", "NC", "NX"]
    assert titles(industry="E", prefecture="23") == ["NA"]
    assert titles(org_kind="sme", size="51-300") == ["NC"]
    r = client.get("/api/v1/needs", query_string={"industry": "ZZ"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and "industry" in r.get_json()["errors"]
