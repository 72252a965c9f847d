"""Matching needs, pushed: alerts on publish (opt-in, scope, weekly cap,
anonymity), the weekly digest and its login-free, unforgeable unsubscribe link.
Real matcher (packaged USE encoder), real database, outbox rows, HTTP client."""

from __future__ import annotations

import re
from datetime import timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from oims.extensions import db as _db
from oims.matchfeed import alerts
from oims.models import MatchAlert, MatchSubscription, Notification, OutboxMessage
from oims.models.base import utcnow
from oims.needs import services as need_services

from .conftest import REAL_NEED, using

# A capability profile as long as real ones (several hundred characters).
CFRP_PROFILE = ("炭素繊維強化樹脂（CFRP）の射出成形とプレス成形で自動車部品を量産しています。軽量化部材の設計から試作まで対応します。"
                "熱可塑性CFRP（CFRTP）の高速プレスと、金型温度を部位ごとに制御する独自技術により、薄肉で反りの少ない"
                "構造部品を短いサイクルで成形できます。アルミ部品の樹脂化では、強度解析と試作を繰り返して質量を3〜4割減らした"
                "実績があり、ブラケット、カバー、バッテリーケース部材などを年間数万個の規模で納入しています。"
                "評価設備として引張・曲げ・衝撃試験機と恒温槽を持ち、試作品の強度評価まで社内で行えます。")
FOOD_PROFILE = "食品工場向けの包装機械と衛生管理（HACCP）のコンサルティングを行っています。"


def _proposer(factory, prefecture, profile, *, on_publish=False, digest=False):
    org = factory.org(kind="sme", prefecture=prefecture, profile=profile, technologies=["CFRP射出成形"]
                      if profile == CFRP_PROFILE else [])
    user = factory.user("proposer", org=org)
    if on_publish or digest:
        alerts.set_subscription(user, on_publish=on_publish, weekly_digest=digest)
    _db.session.commit()
    return user


def _mail_to(user) -> list[OutboxMessage]:
    return list(_db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == user.email)
                                    .order_by(OutboxMessage.id)))


def _publish(factory, coord, owner, **kw):
    need = factory.need(owner=owner, status="review", **(REAL_NEED | kw))
    need_services.publish(need, coord)
    _db.session.commit()
    return need


def test_publish_alerts_opted_in_matching_orgs_in_scope_with_a_weekly_cap(matching_app, factory):
    app = matching_app(OIMS_PUSH_WEEKLY_CAP=2)
    with using(app):
        coord = factory.user("coordinator")
        owner = factory.user("need_owner")
        fan = _proposer(factory, "09", CFRP_PROFILE, on_publish=True)       # Kanto, matches, opted in
        quiet = _proposer(factory, "11", CFRP_PROFILE)                       # Kanto, matches, not opted in
        far = _proposer(factory, "27", CFRP_PROFILE, on_publish=True)        # Kinki: outside the scope
        food = _proposer(factory, "13", FOOD_PROFILE, on_publish=True)       # Kanto, does not match

        need = _publish(factory, coord, owner, regions=["kanto"], anonymous=True)
        alerted = set(_db.session.scalars(select(MatchAlert.org_id).where(MatchAlert.need_id == need.id)))
        assert alerted == {fan.organisation_id}
        assert [n.kind for n in _db.session.scalars(select(Notification).where(
            Notification.user_id == fan.id))] == ["match_new_need"]
        for user in (quiet, far, food):
            assert not _mail_to(user)
            assert not _db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
        mail = _mail_to(fan)
        assert len(mail) == 1 and need.title in mail[0].body_text
        # Anonymous stays anonymous: the alias, never the firm's name.
        assert owner.organisation.name not in mail[0].body_text + mail[0].subject
        assert need.alias in mail[0].body_text
        assert re.search(r"/matching/unsubscribe/\S+", mail[0].body_text)
        assert re.search(r"(高|中) \d+%", mail[0].body_text)

        # The weekly cap: the second need is pushed, the third is not.
        _publish(factory, coord, owner, regions=["kanto"])
        third = _publish(factory, coord, owner, regions=["kanto"])
        assert len(_mail_to(fan)) == 2
        assert not _db.session.scalar(select(MatchAlert.id).where(MatchAlert.need_id == third.id))
        # A week later the cap has room again.
        for row in _db.session.scalars(select(MatchAlert)):
            row.created_at = utcnow() - timedelta(days=8)
        _db.session.commit()
        _publish(factory, coord, owner, regions=["kanto"])
        assert len(_mail_to(fan)) == 3

        # Opting out (settings page) stops the alerts.
        alerts.set_subscription(fan, on_publish=False, weekly_digest=False)
        _db.session.commit()
        _publish(factory, coord, owner, regions=["kanto"])
        assert len(_mail_to(fan)) == 3


def test_nationwide_need_reaches_every_region(matching_app, factory):
    app = matching_app()
    with using(app):
        coord = factory.user("coordinator")
        far = _proposer(factory, "27", CFRP_PROFILE, on_publish=True)
        _publish(factory, coord, factory.user("need_owner"), regions=[])
        assert len(_mail_to(far)) == 1


def test_alert_settings_page_opts_in_and_out(matching_app, factory):
    from ..factories import login

    app = matching_app()
    with using(app):
        client = app.test_client()
        user = _proposer(factory, "09", CFRP_PROFILE)
        login(client, user)
        html = client.get("/matching/alerts").get_data(as_text=True)
        assert 'name="on_publish"' in html and 'name="weekly_digest"' in html
        assert client.post("/matching/alerts", data={"on_publish": "y"}).status_code == 302
        sub = _db.session.scalar(select(MatchSubscription).where(MatchSubscription.user_id == user.id))
        assert (sub.on_publish, sub.weekly_digest) == (True, False)
        client.post("/matching/alerts", data={"weekly_digest": "y"})
        _db.session.refresh(sub)
        assert (sub.on_publish, sub.weekly_digest) == (False, True)


def test_weekly_digest_and_unsubscribe_without_login(matching_app, factory):
    app = matching_app()
    with using(app):
        coord = factory.user("coordinator")
        owner = factory.user("need_owner")
        reader = _proposer(factory, "09", CFRP_PROFILE, digest=True)
        other = _proposer(factory, "11", CFRP_PROFILE, digest=True)
        not_opted = _proposer(factory, "13", CFRP_PROFILE)
        new = _publish(factory, coord, owner, anonymous=True)
        old = factory.need(owner=owner)
        old.published_at = utcnow() - timedelta(days=20)
        closed = factory.need(owner=owner, status="closed")
        _db.session.commit()

        runner = app.test_cli_runner()
        result = runner.invoke(args=["oims", "send-digest"])
        assert result.exit_code == 0 and "queued 2" in result.output, result.output
        digest = [m for m in _mail_to(reader) if "match_digest" in m.subject or "新着ニーズ" in m.subject]
        assert len(digest) == 1
        body = digest[0].body_text
        assert new.title in body and old.title not in body and closed.title not in body
        assert owner.organisation.name not in body and new.alias in body
        assert not _mail_to(not_opted)
        # Run again the same week: nothing new is sent.
        assert "queued 0" in runner.invoke(args=["oims", "send-digest"]).output

        token = re.search(r"/matching/unsubscribe/(\S+)", body).group(1)
        anon = app.test_client()  # never logged in
        # Forged tokens: another user's id under a wrong key, a tampered signature.
        forged = URLSafeSerializer("not-the-key", salt=alerts.TOKEN_SALT).dumps({"u": other.id})
        for bad in (forged, token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
            r = anon.get(f"/matching/unsubscribe/{bad}")
            assert r.status_code == 400
        subs = {s.user_id: s for s in _db.session.scalars(select(MatchSubscription))}
        assert subs[other.id].weekly_digest and subs[reader.id].weekly_digest

        r = anon.get(f"/matching/unsubscribe/{token}")
        assert r.status_code == 200 and "配信を停止しました" in r.get_data(as_text=True)
        _db.session.expire_all()
        subs = {s.user_id: s for s in _db.session.scalars(select(MatchSubscription))}
        assert not subs[reader.id].weekly_digest and not subs[reader.id].on_publish
        assert subs[other.id].weekly_digest  # only the token's user
        _publish(factory, coord, owner)
        before = len(_mail_to(reader))
        runner.invoke(args=["oims", "send-digest", "--force"])
        assert len(_mail_to(reader)) == before
