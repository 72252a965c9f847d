import os
import stat

from oims import create_app
from oims.extensions import db


def test_factory_defaults_use_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("OIMS_DATABASE_URL", raising=False)
    monkeypatch.delenv("OIMS_SECRET_KEY", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'oims.sqlite3'}"
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and len(app.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    # A second app (another worker) reads the same key, never a new one.
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.testing


def test_environment_configures_database_and_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("OIMS_DATABASE_URL", "sqlite:///" + str(tmp_path / "x.db"))
    monkeypatch.setenv("OIMS_SECRET_KEY", "from-env")
    monkeypatch.setenv("OIMS_SECURE_COOKIES", "1")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.db")
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert not (tmp_path / "secret_key").exists()


def test_mapping_overrides_environment(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "OIMS_PAGE_SIZE": 7})
    assert app.testing and app.config["OIMS_PAGE_SIZE"] == 7
    with app.app_context():  # the one db extension is bound to this app's database
        assert str(db.engine.url) == app.config["SQLALCHEMY_DATABASE_URI"]
    assert "sqlalchemy" in app.extensions and "migrate" in app.extensions and "babel" in app.extensions


def test_home_page_is_japanese_by_default(client):
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "オープンイノベーション" in html


def test_security_headers(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_no_external_assets(client):
    html = client.get("/").get_data(as_text=True)
    for marker in ("http://", "https://", "//cdn"):
        for tag in ("<script src=\"" + marker, "<link rel=\"stylesheet\" href=\"" + marker):
            assert tag not in html
    assert client.get("/static/vendor/bootstrap.min.css").status_code == 200


def test_error_pages_in_both_languages(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "見つかりません" in resp.get_data(as_text=True)
    client.post("/lang/en")
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and "Not found" in resp.get_data(as_text=True)


def test_api_errors_are_problem_json(client):
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.content_type == "application/problem+json"
    assert resp.get_json()["status"] == 404
