"""Brokerage fixtures: the matcher-enabled app (a fast packaged encoder, loaded
once per process by `matching.get_encoder`'s cache) and a few helpers."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from oims.extensions import db as _db

FAST_ENCODER = "use"  # multilingual USE: ~0.5 s to load, a few ms a text


@contextmanager
def using(app):
    """Make `app` the current app for the factory and the test client (own db session)."""
    with app.app_context(), app.test_request_context():
        try:
            yield app
        finally:
            _db.session.rollback()
            _db.session.remove()


@pytest.fixture
def matching_app(variant_app, db):
    """Build an app with the real matcher on the suite's database."""

    def build(**overrides):
        overrides.setdefault("OIMS_MATCHING_ENABLED", True)
        overrides.setdefault("OIMS_ENCODER", FAST_ENCODER)
        return variant_app(**overrides)

    return build


# Real needs are documents of several hundred characters; the calibration is fitted on such needs.
REAL_NEED = {
    "background": "車体の軽量化が航続距離に直結するため、金属部品の樹脂化を進めたい。現行のアルミ製ブラケットと"
                  "カバー類は切削とプレスで製作しており、質量とコストの両方が課題となっている。衝突時の強度、"
                  "耐熱性（120℃）、振動耐久性を満たしたまま、部品点数を減らせる一体成形の工法を求めている。",
    "sought": "炭素繊維強化樹脂（CFRP・CFRTP）の射出成形またはプレス成形の技術と、自動車部品での量産実績を"
              "持つ企業・大学。金型設計から試作、強度評価まで共同で進め、年間3万台規模の量産を見据えた"
              "工法提案ができるパートナーを求めます。",
}
