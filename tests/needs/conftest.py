"""Fixtures for the needs tests: people in two bureaus and a valid need form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ..factories import login


def need_form(**overrides) -> dict:
    data = {
        "title": "車体の軽量化部材の共同開発",
        "summary": "電動車の車体を軽くするため、アルミに代わる高強度樹脂部材を共同で開発するパートナーを探しています。",
        "background": "航続距離を延ばすために車体の軽量化が必要です。",
        "sought": "炭素繊維強化樹脂（CFRP）の成形技術と量産実績。",
        "partnership_types": ["joint_rnd", "supply"],
        "keywords": "軽量化, CFRP, 異材接合",
        "regions": ["kanto"],
        "budget": "試作費 1,000万円程度",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "desired_start": "2026年10月",
    }
    data.update(overrides)
    return data


class People:
    def __init__(self, factory):
        self.factory = factory
        self.owner_org = factory.org(kind="large", prefecture="14", name="東都モビリティ工業株式会社",
                                     name_en="Toto Mobility Industries", industry="E")
        self.owner = factory.user("need_owner", org=self.owner_org, name="鈴木 一郎")
        self.coordinator = factory.user("coordinator", prefecture="11")       # kanto
        self.other_coordinator = factory.user("coordinator", prefecture="23")  # chubu
        self.admin = factory.user("admin", prefecture="11")
        self.proposer = factory.user("proposer", prefecture="13")
        self.other_proposer = factory.user("proposer", prefecture="40")
        self.other_owner = factory.user("need_owner", prefecture="27")


@pytest.fixture
def people(factory):
    return People(factory)


@pytest.fixture
def as_user(client):
    """Log the test client in as `user` (logging out whoever was in)."""
    def switch(user):
        client.post("/auth/logout")
        resp = login(client, user)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client

    return switch
