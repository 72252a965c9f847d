"""Helpers for the needs tests: a valid need form (the users are the shared `cast`)."""

from __future__ import annotations

from datetime import date, timedelta


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
