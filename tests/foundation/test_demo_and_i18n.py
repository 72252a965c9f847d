from sqlalchemy import func, select

from oims import models
from oims.i18n_tool import missing


def _counts(db):
    return {name: db.session.scalar(select(func.count()).select_from(getattr(models, name)))
            for name in ("Organisation", "User", "Need", "Proposal", "NeedVersion", "ProposalEvent",
                         "Invitation", "Meeting", "ThreadMessage")}


def test_demo_is_idempotent(runner, db):
    first = runner.invoke(args=["oims", "demo"])
    assert first.exit_code == 0, first.output
    counts = _counts(db)
    assert counts["Organisation"] >= 40 and counts["User"] >= 40
    for role in ("owner@example.jp", "proposer@example.jp", "coordinator@example.jp", "admin@example.jp"):
        assert role in first.output
    db.session.expire_all()
    second = runner.invoke(args=["oims", "demo"])
    assert second.exit_code == 0, second.output
    assert _counts(db) == counts


def test_demo_login_works(runner, client, db):
    runner.invoke(args=["oims", "demo", "--password", "demo-password-42"])
    resp = client.post("/auth/login", data={"email": "coordinator@example.jp", "password": "demo-password-42"})
    assert resp.status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_every_string_has_a_japanese_translation():
    assert missing("ja") == []


def test_create_user_cli(runner, db):
    result = runner.invoke(args=["oims", "create-user", "--email", "kanto.coord@example.jp", "--name", "職員",
                                 "--role", "coordinator", "--org", "関東経済産業局 テスト", "--prefecture", "11"],
                           input="bureau-staff-pass-9\nbureau-staff-pass-9\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(models.User).where(models.User.email == "kanto.coord@example.jp"))
    assert user.role == "coordinator" and user.organisation.kind == "support" and user.bureau == "kanto"
    weak = runner.invoke(args=["oims", "create-user", "--email", "weak@example.jp", "--name", "x",
                               "--role", "admin", "--org", "関東経済産業局 テスト"], input="123\n123\n")
    assert weak.exit_code != 0 and "10" in weak.output
