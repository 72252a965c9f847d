"""Anonymous needs cannot be traced to their owner: attachments rebuilt on
every path, one random alias per need, and the identifying-text check.
Everything through the HTTP client, the real database and real files."""

from __future__ import annotations

import io

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import select

from oims.models import Attachment, AuditLog, Need, StoredFile
from oims.needs.uploads import file_bytes, store_bytes

from .conftest import need_form
from .identifying_files import (
    assert_name_absent,
    escaped_pdf,
    jpeg_with_exif,
    png_with_chunks,
    rich_pdf,
)

NAMES = ("東都モビリティ", "Toto Mobility")


def _files(*items):
    return [(io.BytesIO(data), name) for data, name in items]


def _stored(att: Attachment) -> bytes:
    return file_bytes(att)


def _stored_files(db) -> set[str]:
    return set(db.session.scalars(select(StoredFile.sha256)))


def _latest_need(db) -> Need:
    db.session.expire_all()
    return db.session.scalar(select(Need).order_by(Need.id.desc()))


def _atts(db, need) -> list[Attachment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Attachment).where(Attachment.need_id == need.id).order_by(Attachment.id)))


def _assert_clean_file(data: bytes, content_type: str) -> None:
    assert_name_absent(data, NAMES)
    if content_type == "application/pdf":
        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root and "/OpenAction" not in pdf.Root
            assert not pdf.attachments
            for page in pdf.pages:
                assert "/PieceInfo" not in page.obj and "/Thumb" not in page.obj
                for annot in page.obj.get("/Annots") or []:
                    assert "/T" not in annot and "/NM" not in annot
            assert not any(isinstance(o, pikepdf.Stream) and o.get("/Type") == "/ObjStm" for o in pdf.objects)
    else:
        img = Image.open(io.BytesIO(data))
        img.load()
        assert not img.info.get("exif") and not img.info.get("icc_profile") and not img.info.get("comment")
        assert not {"Author", "Comment", "Copyright", "XML:com.adobe.xmp"} & set(img.info)
        assert not img.getexif()


@pytest.fixture
def named_owner(cast, db):
    """The owner's organisation with a website, brands and kana name."""
    org = cast.owner_org
    org.website, org.brands, org.name_kana = "https://www.toto-mobility.co.jp/", ["トトライト"], "トウトモビリティコウギョウ"
    db.session.commit()
    return cast.owner


ALL_FILES = lambda: _files((rich_pdf(NAMES), "a.pdf"), (escaped_pdf(NAMES[1]), "b.pdf"),
                           (jpeg_with_exif(NAMES[1]), "c.jpg"), (png_with_chunks(NAMES[1]), "d.png"))


# --- attachments: every path ------------------------------------------------------------------

def test_create_anonymous_need_rebuilds_every_file(cast, as_user, db):
    c = as_user(cast.owner)
    resp = c.post("/needs/new", data=need_form(anonymous="y", attachments=ALL_FILES()),
                  content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    need = _latest_need(db)
    atts = _atts(db, need)
    assert len(atts) == 4 and all(a.anonymised for a in atts)
    for att in atts:
        _assert_clean_file(_stored(att), att.content_type)
    # the pixels are kept
    jpg = Image.open(io.BytesIO(_stored(atts[2])))
    assert jpg.size == (64, 48) and max(abs(a - b) for a, b in zip(jpg.getpixel((5, 5)), (30, 120, 200), strict=True)) < 8


def test_edit_making_a_need_anonymous_rebuilds_its_files(cast, as_user, db):
    c = as_user(cast.owner)
    assert c.post("/needs/new", data=need_form(attachments=_files((rich_pdf(NAMES), "a.pdf"))),
                  content_type="multipart/form-data").status_code == 302
    need = _latest_need(db)
    [att] = _atts(db, need)
    raw_sha = att.sha256
    assert b"/ObjStm" in _stored(att) and not att.anonymised  # a named need keeps its PDF as uploaded
    resp = c.post(f"/needs/{need.id}/edit", data=need_form(anonymous="y"))
    assert resp.status_code == 302
    [att] = _atts(db, need)
    assert att.anonymised and att.sha256 != raw_sha
    _assert_clean_file(_stored(att), att.content_type)
    assert _stored_files(db) == {att.sha256}  # the bytes before cleaning are gone


def test_coordinator_publishing_anonymously_rebuilds_the_files(cast, as_user, db):
    c = as_user(cast.owner)
    assert c.post("/needs/new", data=need_form(action="submit", attachments=_files(
        (rich_pdf(NAMES), "a.pdf"), (png_with_chunks(NAMES[1]), "d.png"))),
        content_type="multipart/form-data").status_code == 302
    need = _latest_need(db)
    assert need.status == "review" and not need.anonymous
    c = as_user(cast.coordinator)
    data = {"pub-" + k: v for k, v in need_form(anonymous="y").items()} | {"action": "publish"}
    assert c.post(f"/needs/{need.id}/review", data=data).status_code == 302
    need = _latest_need(db)
    assert need.status == "published" and need.anonymous and need.alias
    c = as_user(cast.proposer)
    for att in _atts(db, need):
        resp = c.get(f"/needs/attachments/{att.id}")
        assert resp.status_code == 200
        _assert_clean_file(resp.data, att.content_type)


def test_later_upload_to_a_published_anonymous_need_is_rebuilt(cast, as_user, factory, db):
    need = factory.need(cast.owner, status="published", anonymous=True)
    c = as_user(cast.owner)
    resp = c.post(f"/needs/{need.id}/attachments", data={"attachments": _files(
        (jpeg_with_exif(NAMES[1]), "c.jpg"), (escaped_pdf(NAMES[1]), "b.pdf"))}, content_type="multipart/form-data")
    assert resp.status_code == 302
    for att in _atts(db, need):
        _assert_clean_file(_stored(att), att.content_type)


def _encrypted_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="secret"))
    return out.getvalue()


def test_a_file_that_cannot_be_rebuilt_is_refused_and_nothing_is_saved(cast, as_user, db):
    before = _stored_files(db)
    c = as_user(cast.owner)
    resp = c.post("/needs/new", data=need_form(anonymous="y", title="暗号化PDFのニーズ", attachments=_files(
        (png_with_chunks(NAMES[1]), "d.png"), (_encrypted_pdf(), "locked.pdf"))), content_type="multipart/form-data")
    assert resp.status_code == 400
    assert "パスワード" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Need).where(Need.title == "暗号化PDFのニーズ")) is None
    assert db.session.scalar(select(Attachment)) is None
    assert _stored_files(db) == before


def test_publication_refused_when_a_file_cannot_be_rebuilt(cast, as_user, db):
    c = as_user(cast.owner)
    assert c.post("/needs/new", data=need_form(action="submit", attachments=_files((_encrypted_pdf(), "l.pdf"))),
                  content_type="multipart/form-data").status_code == 302
    need = _latest_need(db)
    c = as_user(cast.coordinator)
    data = {"pub-" + k: v for k, v in need_form(anonymous="y").items()} | {"action": "publish"}
    resp = c.post(f"/needs/{need.id}/review", data=data)
    assert resp.status_code == 400 and "l.pdf" in resp.get_data(as_text=True)
    need = _latest_need(db)
    assert need.status == "review" and not need.anonymous


# --- aliases ------------------------------------------------------------------------------------

def test_aliases_do_not_link_one_owners_needs(cast, as_user, factory, db):
    c = as_user(cast.owner)
    for i in range(4):
        c.post("/needs/new", data=need_form(anonymous="y", title=f"匿名ニーズ{i}", action="submit"))
    needs = list(db.session.scalars(select(Need).where(Need.title.startswith("匿名ニーズ")).order_by(Need.id)))
    assert len(needs) == 4 and len({n.alias for n in needs}) == 4 and len({n.alias_en for n in needs}) == 4
    codes = [n.alias.rsplit("案件", 1)[1] for n in needs]
    assert codes != sorted(codes) or len({c[0] for c in codes}) > 1  # not a sequence
    c = as_user(cast.coordinator)
    for need in needs:
        data = {"pub-" + k: v for k, v in need_form(anonymous="y", title=need.title).items()} | {"action": "publish"}
        assert c.post(f"/needs/{need.id}/review", data=data).status_code == 302
    c = as_user(cast.proposer)
    first = needs[0]
    for q in (first.alias, first.alias_en, first.alias.rsplit("案件", 1)[1]):
        html = c.get("/needs/", query_string={"q": q}).get_data(as_text=True)
        assert first.title in html, q
        assert not any(n.title in html for n in needs[1:]), q


# --- identifying text ------------------------------------------------------------------------------

def test_owner_warned_about_names_in_every_form_and_offered_redaction(cast, named_owner, as_user, db):
    c = as_user(named_owner)
    summary = ("ＴＯＴＯ　ＭＯＢＩＬＩＴＹの新型車向けに、ﾄｳﾄﾓﾋﾞﾘﾃｨｺｳｷﾞｮｳが部材を探しています。"
               "詳細は www.toto-mobility.co.jp をご覧ください。")
    data = need_form(anonymous="y", title="東都モビリティ工業の軽量化ニーズ", summary=summary, sought="トトライトの後継品")
    resp = c.post("/needs/new", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and db.session.scalar(select(Need)) is None
    for found in ("東都モビリティ工業", "ＴＯＴＯ　ＭＯＢＩＬＩＴＹ", "ﾄｳﾄﾓﾋﾞﾘﾃｨｺｳｷﾞｮｳ", "toto-mobility.co.jp", "トトライト"):
        assert f"<mark>{found}</mark>" in html, found
    # one click: everything replaced, nothing saved yet
    resp = c.post("/needs/new", data=data | {"redact": "stars:*"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "＊＊＊の軽量化ニーズ" in html and "<mark>" not in html
    assert db.session.scalar(select(Need)) is None
    # replacing one term with the alias descriptor leaves the others flagged
    resp = c.post("/needs/new", data=data | {"redact": "alias:トトライト"})
    html = resp.get_data(as_text=True)
    assert "トトライト" not in html.split('id="sought"')[1].split("</textarea>")[0]
    assert "<mark>東都モビリティ工業</mark>" in html
    # kept deliberately: saved, and the acknowledgement is audit-logged
    resp = c.post("/needs/new", data=data | {"identity_ack": "y"})
    assert resp.status_code == 302
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "need.identifying_text_acknowledged"))
    assert log is not None and "トトライト" in str(log.detail)


def test_named_needs_are_not_checked(cast, named_owner, as_user, db):
    c = as_user(named_owner)
    resp = c.post("/needs/new", data=need_form(title="東都モビリティ工業の軽量化ニーズ"))
    need = db.session.scalar(select(Need).where(Need.title == "東都モビリティ工業の軽量化ニーズ"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/needs/{need.id}")
    assert not need.anonymous and need.status == "draft"


def test_email_domain_and_attachment_text_found_at_submission(cast, named_owner, as_user, factory, db):
    factory.user("need_owner", org=cast.owner_org, email="hanako@toto-mob.example-corp.jp")
    need = factory.need(named_owner, status="draft", anonymous=True, summary="連絡は example-corp.jp まで")
    c = as_user(named_owner)
    assert c.post(f"/needs/{need.id}/attachments", data={"attachments": _files(
        (rich_pdf(NAMES, page_text="Toto Mobility internal drawing"), "spec.pdf"))},
        content_type="multipart/form-data").status_code == 302
    resp = c.post(f"/needs/{need.id}/submit")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "<mark>example-corp.jp</mark>" in html and "<mark>Toto Mobility</mark>" in html and "spec.pdf" in html
    assert _latest_need(db).status == "draft"
    resp = c.post(f"/needs/{need.id}/submit", data={"identity_ack": "y"})
    assert resp.status_code == 302 and _latest_need(db).status == "review"


def test_coordinator_sees_findings_and_must_give_a_reason(cast, named_owner, as_user, factory, db):
    need = factory.need(named_owner, status="review", anonymous=True, title="トトライト後継の軽量化部材",
                        summary="東都モビリティの車体向け")
    need.submitted_at = need.created_at
    db.session.commit()
    c = as_user(cast.coordinator)
    html = c.get(f"/needs/{need.id}/review").get_data(as_text=True)
    assert "<mark>トトライト</mark>" in html and "<mark>東都モビリティ</mark>" in html
    form = {"pub-" + k: v for k, v in need_form(anonymous="y", title=need.title, summary=need.summary).items()}
    resp = c.post(f"/needs/{need.id}/review", data=form | {"action": "publish"})
    assert resp.status_code == 400 and _latest_need(db).status == "review"
    # the coordinator's one-click redaction
    resp = c.post(f"/needs/{need.id}/review", data=form | {"redact": "stars:*"})
    assert resp.status_code == 200 and "＊＊＊後継の軽量化部材" in resp.get_data(as_text=True)
    # explicit override with a reason: published, audit-logged
    resp = c.post(f"/needs/{need.id}/review", data=form | {"action": "publish",
                                                             "identity_override_reason": "社名は公知の共同研究先名"})
    assert resp.status_code == 302 and _latest_need(db).status == "published"
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "need.anonymity_override"))
    assert log.detail["reason"] == "社名は公知の共同研究先名" and log.detail["findings"]


def test_redacted_publication_needs_no_override(cast, named_owner, as_user, factory, db):
    need = factory.need(named_owner, status="review", anonymous=True, title="トトライト後継の軽量化部材")
    c = as_user(cast.coordinator)
    form = {"pub-" + k: v for k, v in need_form(anonymous="y", title="＊＊＊後継の軽量化部材").items()}
    assert c.post(f"/needs/{need.id}/review", data=form | {"action": "publish"}).status_code == 302
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "need.anonymity_override")) is None


def test_brands_are_kept_on_the_organisation_profile(cast, as_user, db):
    c = as_user(cast.owner)
    org = cast.owner_org
    page = c.get(f"/orgs/{org.id}/edit").get_data(as_text=True)
    assert 'name="brands"' in page
    data = {"name": org.name, "name_en": org.name_en, "prefecture": org.prefecture, "industry": org.industry,
            "employee_band": org.employee_band, "brands": "トトライト\nTOTO-Fly"}
    assert c.post(f"/orgs/{org.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert org.brands == ["トトライト", "TOTO-Fly"]


def test_a_name_redacted_after_publication_does_not_return_through_the_history(cast, named_owner, as_user,
                                                                                factory, db):
    need = factory.need(named_owner, status="published", anonymous=True, summary="トトライトの後継部材を探しています。")
    c = as_user(named_owner)
    resp = c.post(f"/needs/{need.id}/edit", data=need_form(anonymous="y", summary="＊＊＊の後継部材を探しています。"))
    assert resp.status_code == 302
    c = as_user(cast.proposer)
    resp = c.get(f"/needs/{need.id}/versions")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and need.alias in html and "トトライト" not in html
    c = as_user(named_owner)  # the owner still sees its own history in full
    assert "トトライト" in c.get(f"/needs/{need.id}/versions").get_data(as_text=True)


def test_cli_rebuilds_files_stored_before_cleaning(cast, factory, runner, db, app):
    """Files of anonymous needs stored by older versions (not anonymised) are rebuilt by the command."""
    need = factory.need(cast.owner, status="published", anonymous=True)
    raw = rich_pdf(NAMES)
    stored = store_bytes(raw, "application/pdf")
    raw_sha = stored.sha256
    db.session.add(Attachment(need_id=need.id, filename="old.pdf", file_id=stored.id, content_type="application/pdf",
                              size=len(raw), sha256=raw_sha, uploaded_by_id=cast.owner.id))
    db.session.commit()
    result = runner.invoke(args=["oims", "clean-anonymous-attachments"])
    assert result.exit_code == 0 and "rebuilt 1 files" in result.output
    [att] = _atts(db, need)
    assert att.anonymised and att.sha256 != raw_sha and _stored_files(db) == {att.sha256}
    _assert_clean_file(_stored(att), att.content_type)


def test_api_made_anonymous_need_gets_its_own_alias_and_is_checked_at_submission(cast, named_owner, as_user, db):
    from ..security.world import api_token_for

    token = api_token_for(db, named_owner)
    body = need_form(anonymous=True, title="トトライト後継の部材", keywords=["軽量化"], partnership_types=["joint_rnd"])
    body.pop("regions")
    resp = as_user(named_owner).post("/api/v1/needs", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    need = _latest_need(db)
    assert "・案件" in need.alias
    c = as_user(named_owner)
    resp = c.post(f"/needs/{need.id}/submit")
    assert resp.status_code == 400 and "<mark>トトライト</mark>" in resp.get_data(as_text=True)


def test_rare_industry_and_size_are_not_used_in_the_alias(cast, as_user, factory, db, app):
    c = as_user(cast.owner)
    c.post("/needs/new", data=need_form(anonymous="y", title="希少な業種のニーズ"))
    assert _latest_need(db).alias.startswith("企業・案件")  # the only large manufacturer: too telling
    for _ in range(3):
        factory.org(kind="large", industry="E")
    c.post("/needs/new", data=need_form(anonymous="y", title="よくある業種のニーズ"))
    need = _latest_need(db)
    assert need.alias.startswith("大手製造業・案件") and need.alias_en.startswith("Major manufacturer, case ")


def test_a_link_to_the_firms_site_inside_a_pdf_is_found(cast, named_owner, as_user, factory, db):
    pdf = pikepdf.new()
    pdf.add_blank_page()
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 50, 50],
                              A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI="https://www.toto-mobility.co.jp/r"))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))
    out = io.BytesIO()
    pdf.save(out)
    need = factory.need(named_owner, status="draft", anonymous=True)
    c = as_user(named_owner)
    assert c.post(f"/needs/{need.id}/attachments", data={"attachments": _files((out.getvalue(), "l.pdf"))},
                  content_type="multipart/form-data").status_code == 302
    resp = c.post(f"/needs/{need.id}/submit")
    assert resp.status_code == 400 and "<mark>toto-mobility.co.jp</mark>" in resp.get_data(as_text=True)


def _image(mode: str, fmt: str, **save) -> bytes:
    size = (7, 5)
    if mode == "P":
        img = Image.new("P", size, 3)
        img.putpalette([i % 256 for i in range(768)])
        save.setdefault("transparency", 0)
    else:
        img = Image.new(mode, size)
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize(("mode", "fmt", "mime"), [
    ("L", "JPEG", "image/jpeg"), ("CMYK", "JPEG", "image/jpeg"), ("RGB", "JPEG", "image/jpeg"),
    ("1", "PNG", "image/png"), ("L", "PNG", "image/png"), ("LA", "PNG", "image/png"), ("I;16", "PNG", "image/png"),
    ("P", "PNG", "image/png"), ("RGBA", "PNG", "image/png")])
def test_every_image_mode_is_rebuilt_with_its_size(app, mode, fmt, mime):
    from oims.needs.cleaning import clean_image

    with app.test_request_context():
        data = clean_image(_image(mode, fmt), mime)
    img = Image.open(io.BytesIO(data))
    assert img.format == fmt and img.size == (7, 5) and not img.info.get("icc_profile")


def test_exif_orientation_is_applied_before_exif_is_dropped(app):
    from oims.needs.cleaning import clean_image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° when shown
    out = io.BytesIO()
    Image.new("RGB", (40, 20)).save(out, "JPEG", exif=exif.tobytes())
    with app.test_request_context():
        img = Image.open(io.BytesIO(clean_image(out.getvalue(), "image/jpeg")))
    assert img.size == (20, 40) and not img.getexif()


def test_names_in_bookmarks_and_layers_of_a_pdf_are_found(cast, named_owner, as_user, factory, db):
    pdf = pikepdf.new()
    pdf.add_blank_page()
    with pdf.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("トトライト 開発計画", 0))
    ocg = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.OCG, Name=pikepdf.String("東都モビリティ ロゴ")))
    pdf.Root.OCProperties = pikepdf.Dictionary(OCGs=pikepdf.Array([ocg]), D=pikepdf.Dictionary(ON=[ocg]))
    out = io.BytesIO()
    pdf.save(out)
    need = factory.need(named_owner, status="draft", anonymous=True)
    c = as_user(named_owner)
    assert c.post(f"/needs/{need.id}/attachments", data={"attachments": _files((out.getvalue(), "o.pdf"))},
                  content_type="multipart/form-data").status_code == 302
    html = c.post(f"/needs/{need.id}/submit").get_data(as_text=True)
    assert "<mark>トトライト</mark>" in html and "<mark>東都モビリティ</mark>" in html


def test_api_patch_making_a_need_anonymous_rebuilds_its_files(cast, as_user, db):
    from ..security.world import api_token_for

    c = as_user(cast.owner)
    assert c.post("/needs/new", data=need_form(attachments=_files((rich_pdf(NAMES), "a.pdf"))),
                  content_type="multipart/form-data").status_code == 302
    need = _latest_need(db)
    token = api_token_for(db, cast.owner)
    auth = {"Authorization": f"Bearer {token}"}
    etag = c.get(f"/api/v1/needs/{need.id}", headers=auth).headers["ETag"]
    resp = c.patch(f"/api/v1/needs/{need.id}", json={"anonymous": True}, headers=auth | {"If-Match": etag})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    [att] = _atts(db, need)
    assert att.anonymised and _latest_need(db).alias
    _assert_clean_file(_stored(att), att.content_type)
