"""The anonymity migration gives every existing anonymous need its own alias
(before, all anonymous needs of one firm shared 「大手製造業A社」)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_migrate import upgrade

from oims import create_app
from oims.extensions import db


def _row(table: sa.Table, **values) -> dict:
    """Values for every required column of `table` (a neutral value by type), overridden by `values`."""
    out = {}
    for col in table.columns:
        if col.name in values or col.primary_key or col.nullable or col.server_default is not None:
            continue
        kind = col.type
        if isinstance(kind, sa.Boolean):
            out[col.name] = False
        elif isinstance(kind, sa.Integer):
            out[col.name] = 1
        elif isinstance(kind, sa.DateTime):
            out[col.name] = datetime(2026, 11, 1)
        elif isinstance(kind, sa.Date):
            out[col.name] = date(2027, 1, 1)
        elif isinstance(kind, sa.JSON):
            out[col.name] = []
        else:
            out[col.name] = ""
    return out | values


def test_existing_anonymous_needs_get_one_alias_each(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="h7_row_version")
        meta = sa.MetaData()
        meta.reflect(bind=db.engine)
        org, user, need = meta.tables["organisation"], meta.tables["user"], meta.tables["need"]
        with db.engine.begin() as conn:
            conn.execute(org.insert().values(_row(org, id=1, name="東都モビリティ工業株式会社", kind="large")))
            conn.execute(user.insert().values(_row(user, id=1, organisation_id=1, email="a@example.jp")))
            for i, (anon, alias, alias_en) in enumerate([(True, "大手製造業A社", "Major manufacturer A"),
                                                         (True, "大手製造業A社", "Major manufacturer A"),
                                                         (False, "", "")], 1):
                conn.execute(need.insert().values(_row(
                    need, id=i, owner_org_id=1, created_by_id=1, title=f"n{i}", summary="s", anonymous=anon,
                    alias=alias, alias_en=alias_en, search_text=f"n{i}\n大手製造業a社 major manufacturer a")))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, alias, alias_en, search_text FROM need ORDER BY id")).all()
    (_, a1, e1, s1), (_, a2, e2, _), (_, a3, _, _) = rows
    assert a1 != a2 and e1 != e2
    assert a1.startswith("大手製造業・案件") and e1.startswith("Major manufacturer, case ")
    assert a1[-4:] == e1[-4:]
    assert "大手製造業a社" not in s1 and a1.lower() in s1
    assert a3 == ""  # named needs are left alone
