"""The API documentation page follows the UI language: Japanese descriptions
by default, English after switching; openapi.json stays English unless ?lang=ja."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from oims.api.docs import spec_texts
from oims.api.openapi import build_spec
from oims.web.security import CSP


def test_every_openapi_text_has_a_japanese_translation(app):
    texts = set(spec_texts(build_spec()))
    assert len(texts) > 50
    with app.test_request_context(), force_locale("ja"):
        untranslated = sorted(t for t in texts if gettext(t) == t)
    assert untranslated == []


def test_docs_page_in_japanese_then_english(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "呼び出し元が閲覧できるニーズ" in html  # listNeeds summary
    assert "1ページあたりの件数（最大100）。" in html  # a parameter description
    assert "ニーズの出し手。呼び出し元が知ってはならない場合は仮名。" in html  # inside the schema JSON
    assert "Needs the caller may see" not in html
    assert 'id="listNeeds"' in html  # anchors and operation ids unchanged
    assert client.post("/lang/en").status_code == 302
    resp = client.get("/api/v1/docs")
    html = resp.get_data(as_text=True)
    assert "Needs the caller may see" in html and "呼び出し元が閲覧できるニーズ" not in html
    assert resp.headers["Content-Security-Policy"] == CSP


def test_openapi_json_is_english_unless_asked(client):
    plain = client.get("/api/v1/openapi.json").get_json()
    assert plain["paths"]["/needs"]["get"]["summary"] == "Needs the caller may see"
    ja = client.get("/api/v1/openapi.json?lang=ja").get_json()
    assert ja["paths"]["/needs"]["get"]["summary"] == "呼び出し元が閲覧できるニーズ"
    assert ja["paths"].keys() == plain["paths"].keys() and ja["components"]["schemas"].keys() == \
        plain["components"]["schemas"].keys()
