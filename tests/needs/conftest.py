"""Fixtures for the needs tests: people in two bureaus and a valid need form."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cached_property

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
    """The cast, made on first use (each user costs a commit)."""

    def __init__(self, factory):
        self.factory = factory

    @cached_property
    def owner_org(self):
        return self.factory.org(kind="large", prefecture="14", name="東都モビリティ工業株式会社",
                                name_en="Toto Mobility Industries", industry="E")

    @cached_property
    def owner(self):
        return self.factory.user("need_owner", org=self.owner_org, name="鈴木 一郎")

    @cached_property
    def coordinator(self):  # Kanto, like the owner
        return self.factory.user("coordinator", prefecture="11")

    @cached_property
    def other_coordinator(self):  # Chubu
        return self.factory.user("coordinator", prefecture="23")

    @cached_property
    def admin(self):
        return self.factory.user("admin", prefecture="11")

    @cached_property
    def proposer(self):
        return self.factory.user("proposer", prefecture="13")

    @cached_property
    def other_proposer(self):
        return self.factory.user("proposer", prefecture="40")

    @cached_property
    def other_owner(self):  # Kinki
        return self.factory.user("need_owner", prefecture="27")


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
