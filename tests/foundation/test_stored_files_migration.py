"""Migration hu_stored_files moves the upload folder's files into the database:
a second app with another instance folder then serves them; a missing file is
logged and skipped; downgrade writes the files back. SQLite, and PostgreSQL
when OIMS_TEST_DATABASE_URL is set."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from oims import create_app
from oims.auth.passwords import hash_password
from oims.extensions import db

from ..factories import PASSWORD, login
from ..security.world import PNG
from .test_alias_migration import _row
from .test_migrations import empty_db_url  # noqa: F401 - the fixture

BEFORE = "h13_themed_calls"


def _app(instance: Path, url: str):
    return create_app({"INSTANCE_PATH": str(instance), "TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                       "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                       "OIMS_MATCHING_ENABLED": False, "SERVER_NAME": "localhost"})


def test_files_move_from_disk_into_the_database_and_back(empty_db_url, tmp_path, capfd):  # noqa: F811
    first = _app(tmp_path / "host1", empty_db_url)
    folder = Path(first.config["OIMS_UPLOAD_DIR"])
    folder.mkdir(parents=True)
    (folder / "a1.png").write_bytes(PNG)
    (folder / "a2.png").write_bytes(PNG)  # the same bytes twice: stored once
    with first.app_context():
        upgrade(revision=BEFORE)
        meta = sa.MetaData()
        meta.reflect(bind=db.engine)
        org, user, need, att = (meta.tables[t] for t in ("organisation", "user", "need", "attachment"))
        with db.engine.begin() as conn:
            conn.execute(org.insert().values(_row(org, id=1, name="東都モビリティ工業株式会社", kind="large")))
            conn.execute(user.insert().values(_row(
                user, id=1, organisation_id=1, email="owner@example.jp", password_hash=hash_password(PASSWORD),
                role="need_owner", status="active", is_org_admin=True)))
            conn.execute(need.insert().values(_row(need, id=1, owner_org_id=1, created_by_id=1, title="n",
                                                   summary="s", status="draft")))
            for i, stored in enumerate(("a1.png", "a2.png", "gone.png"), 1):
                conn.execute(att.insert().values(_row(
                    att, id=i, need_id=1, filename=f"図面{i}.png", stored_name=stored, content_type="image/png",
                    size=len(PNG), sha256=hashlib.sha256(PNG).hexdigest(), uploaded_by_id=1)))
        capfd.readouterr()
        upgrade()  # env.py's fileConfig logs to stderr (and replaces caplog's handler)
        log = capfd.readouterr().err
        with db.engine.connect() as conn:
            files = conn.execute(sa.text("SELECT id, sha256, size, data FROM stored_file")).all()
            links = dict(conn.execute(sa.text("SELECT id, file_id FROM attachment")).all())
        db.engine.dispose()
    assert len(files) == 1 and bytes(files[0].data) == PNG and files[0].sha256 == hashlib.sha256(PNG).hexdigest()
    assert links == {1: files[0].id, 2: files[0].id, 3: None}
    assert "attachment 3: file" in log and "is missing; skipped" in log, log
    assert not (folder / "a1.png").exists() and not (folder / "a2.png").exists()  # moved, not copied

    second = _app(tmp_path / "host2", empty_db_url)  # an empty instance folder of its own
    client = second.test_client()
    with second.app_context():
        assert login(client, "owner@example.jp").status_code == 302
        resp = client.get("/needs/attachments/1")
        assert resp.status_code == 200 and resp.data == PNG
        assert client.get("/needs/attachments/3").status_code == 404  # lost before the move: as before
        db.engine.dispose()

    with first.app_context():
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            names = dict(conn.execute(sa.text("SELECT id, stored_name FROM attachment")).all())
            assert "stored_file" not in sa.inspect(conn).get_table_names()
        db.engine.dispose()
    assert (folder / names[1]).read_bytes() == PNG and (folder / names[2]).read_bytes() == PNG
    assert names[1] != names[2] and not (folder / names[3]).exists()
