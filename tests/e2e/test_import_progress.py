"""A coordinator imports a firm list in a real browser: upload, dry-run report,
run, and the progress page that follows the job with its static script
(no inline JS) until the summary shows."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook

from oims.extensions import db as _db
from oims.imports.corporate_number import with_check_digit
from oims.imports.services import create_job, run_job
from oims.models import ImportJob

from ..factories import PASSWORD

pytestmark = pytest.mark.slow


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["法人番号", "名称", "都道府県", "事業概要・技術力"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class Stop(Exception):
    pass


def test_coordinator_imports_and_follows_progress(live_server, open_as, tmp_path, artifacts):
    with live_server.app.app_context():
        f = live_server.factory()
        coord = f.user("coordinator", org=f.org(kind="support", prefecture="13", name="関東局（取込）"),
                       email="import-coord@kanto.example.jp")
        email = coord.email
    path = tmp_path / "firms.xlsx"
    path.write_bytes(_xlsx([[with_check_digit("900000000001"), "取込精工株式会社", "東京都", "精密加工"],
                            ["123", "番号誤り株式会社", "東京都", ""]]))
    page = open_as("ja-JP")
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#content form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard"))

    page.goto("/imports/")
    page.set_input_files("input[type=file]", str(path))
    page.click("#content form[enctype] button[type=submit]")
    page.wait_for_url(re.compile(r"/imports/\d+$"))
    assert page.get_by_test_id("import-error").count() == 1
    assert "3" in page.get_by_test_id("import-error").first.locator("td").first.inner_text()
    page.click("#content form[action$='/run'] button")
    page.wait_for_selector("#import-summary")
    assert "新規1件" in page.locator("#import-summary").inner_text()

    # A job left half-done: the progress page polls its status and shows the summary once it finishes.
    with live_server.app.app_context():
        rows = [[with_check_digit(f"9100000000{i:02d}"), f"続き{i}株式会社", "東京都", ""] for i in range(6)]
        job = create_job(_xlsx(rows), "more.xlsx", bureau="kanto")
        _db.session.commit()
        with pytest.raises(Stop):
            run_job(job, chunk_rows=2, progress=lambda j: (_ for _ in ()).throw(Stop()))
        _db.session.rollback()
        job_id = job.id
        _db.session.remove()
    page.goto(f"/imports/{job_id}")
    page.wait_for_selector("#import-progress progress")
    assert page.locator("[data-role=counts]").inner_text().startswith("2 / 6")
    with live_server.app.app_context():
        run_job(_db.session.get(ImportJob, job_id))
        _db.session.remove()
    page.wait_for_selector("#import-summary", timeout=15_000)  # the script saw "done" and reloaded
    assert "新規6件" in page.locator("#import-summary").inner_text()
    page.screenshot(path=str(artifacts / "h3-import-done.png"), full_page=True)
