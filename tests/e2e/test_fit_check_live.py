"""The live fit check in a real browser (strict CSP, CSRF on): as a proposer types
into the proposal form, the panel lists the requirements the draft does not
address yet; an unrelated draft scores 0 %, a related one (in English) high."""

from __future__ import annotations

import re

import pytest

from oims.extensions import db as _db

from ..factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NEED = {
    "title": "EV用インバータの水冷式冷却プレートの共同開発",
    "summary": "電動車のインバータ向けに、アルミニウム製の水冷式冷却プレートを共同開発できるパートナーを探しています。",
    "sought": "真空ろう付けによる流路形成と、量産を見据えた精密切削加工ができること。熱抵抗を現行比20%下げたい。",
    "keywords": ["冷却プレート", "ろう付け"],
}


def test_live_fit_check_while_typing(open_as, live_server, artifacts):
    with live_server.app.app_context():
        f = live_server.factory()
        need = f.need(**NEED)
        org = f.org(kind="sme", prefecture="14", name="相模冷熱工業株式会社")
        user = f.user("proposer", org=org, email="fitlive@example.jp")
        need_id, email = need.id, user.email
        _db.session.commit()
    page = open_as("ja-JP")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#content form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard"))

    page.goto(f"/proposals/new?need_id={need_id}")
    page.fill("#title", "作業服の素材提案")
    page.fill("#summary", "当社は作業服向けの繊維素材を開発し、吸汗速乾のテキスタイルを提供しています。")
    score = page.locator("[data-fit-live] .fit-live-score")
    score.wait_for()
    assert "0%" in score.inner_text()
    missing = page.locator("[data-fit-live] .fit-missing li")
    assert missing.count() >= 4 and any("ろう付け" in t for t in missing.all_inner_texts())

    page.fill("#summary", "We build aluminium liquid cold plates for EV inverters. We form the channels by vacuum "
                          "brazing and finish them with precision CNC machining for mass production. "
                          "Our design cut thermal resistance by 25%.")
    page.wait_for_function("() => !document.querySelector('[data-fit-live] .fit-live-score')"
                           ".textContent.includes(' 0%')", timeout=15_000)
    text = score.inner_text()
    percent = int(re.search(r"(\d+)%", text).group(1))
    assert percent >= 60, text
    page.screenshot(path=str(artifacts / "h4-fit-live.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e], errors
