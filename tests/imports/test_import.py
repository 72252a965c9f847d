"""Bulk import of organisations: real CSV and XLSX files (built with openpyxl
here), through the CLI and through the coordinator's pages."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from oims.imports.corporate_number import is_valid, normalise, with_check_digit
from oims.imports.services import create_job, run_job
from oims.models import AuditLog, ImportJob, Organisation

from ..factories import login

HEADERS = ["法人番号", "名称", "名称カナ", "種別", "都道府県", "業種", "従業員規模", "ウェブサイト", "事業概要・技術力",
           "技術・シーズ", "認証"]


def cn(i: int) -> str:
    return with_check_digit(f"{i:012d}")


def good_rows(n: int, start: int = 1, pref: str = "東京都") -> list[list]:
    return [[cn(start + i), f"株式会社テスト{start + i}", "テスト", "中小企業", pref, "製造業", "21〜50名",
             "https://example.jp", f"精密加工{start + i}の技術", "切削;研削", "ISO 9001"] for i in range(n)]


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(headers)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def org_count(db) -> int:
    return db.session.scalar(select(func.count(Organisation.id)).where(Organisation.corporate_number.isnot(None)))


# --- the corporate number ------------------------------------------------------------------------

def test_corporate_number_check_digit():
    assert is_valid("7000012050002")  # 国税庁's own number
    assert is_valid("2021001052596")
    assert not is_valid("7000012050003")
    assert not is_valid("1000012050002")
    assert not is_valid("700001205000")
    assert normalise("７０００－０１２０５－０００２") == "7000012050002"
    assert normalise(7000012050002.0) == "7000012050002"
    assert all(is_valid(with_check_digit(f"{i:012d}")) for i in range(0, 5000, 37))


# --- CLI --------------------------------------------------------------------------------------------

def test_cli_dry_run_saves_nothing_and_reports_rows(app, db, runner, tmp_path):
    rows = good_rows(3)
    rows[1][0] = "7000012050003"          # row 3 of the file: wrong check digit
    rows[2][4] = "ムー大陸"                 # row 4: unknown prefecture
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_bytes(rows))
    result = runner.invoke(args=["oims", "import-orgs", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 rows, 1 valid" in result.output
    assert "row 3: 法人番号:" in result.output and "row 4: 都道府県:" in result.output
    assert "nothing was saved" in result.output
    assert org_count(db) == 0
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


def test_cli_import_csv_then_reimport_is_idempotent(app, db, runner, tmp_path):
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_bytes(good_rows(5)))
    result = runner.invoke(args=["oims", "import-orgs", str(path)])
    assert result.exit_code == 0, result.output
    assert "5 created, 0 updated, 0 unchanged" in result.output
    org = db.session.scalar(select(Organisation).where(Organisation.corporate_number == cn(2)))
    assert (org.name, org.kind, org.prefecture, org.bureau, org.employee_band) == (
        "株式会社テスト2", "sme", "13", "kanto", "21-50")
    assert org.technologies == ["切削", "研削"] and org.certifications == ["ISO 9001"]

    result = runner.invoke(args=["oims", "import-orgs", str(path)])
    assert "0 created, 0 updated, 5 unchanged" in result.output
    assert org_count(db) == 5

    rows = good_rows(6)
    rows[0][8] = "新しい事業概要"
    path.write_bytes(csv_bytes(rows, encoding="cp932"))   # Shift_JIS, as Excel saves CSV in Japan
    result = runner.invoke(args=["oims", "import-orgs", str(path)])
    assert "1 created, 1 updated, 4 unchanged" in result.output, result.output
    assert org_count(db) == 6
    db.session.expire_all()
    assert db.session.scalar(select(Organisation.profile).where(Organisation.corporate_number == cn(1))) == "新しい事業概要"


def test_cli_import_xlsx_with_numeric_corporate_numbers(app, db, runner, tmp_path):
    rows = good_rows(3)
    rows[0][0] = int(rows[0][0])  # Excel keeps a typed-in number as a number
    path = tmp_path / "firms.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    result = runner.invoke(args=["oims", "import-orgs", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    assert db.session.scalar(select(Organisation.name).where(Organisation.corporate_number == cn(1))) == "株式会社テスト1"


def test_cli_bureau_scope_refuses_other_bureaus(app, db, runner, tmp_path):
    rows = good_rows(2) + good_rows(1, start=50, pref="大阪府")
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_bytes(rows))
    result = runner.invoke(args=["oims", "import-orgs", str(path), "--bureau", "kanto"])
    assert "row 4: 都道府県: 大阪府は担当局の管外です" in result.output
    assert "2 created" in result.output and "1 skipped" in result.output
    assert org_count(db) == 2


def test_unreadable_files_are_refused_clearly(app, db, runner, tmp_path):
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_bytes(good_rows(1), headers=["番号", "名称"]))
    result = runner.invoke(args=["oims", "import-orgs", str(path)])
    assert result.exit_code != 0
    assert "法人番号" in result.output and "都道府県" in result.output
    bad = tmp_path / "firms.xlsx"
    bad.write_bytes(b"not a zip")
    result = runner.invoke(args=["oims", "import-orgs", str(bad)])
    assert result.exit_code != 0 and ".xlsx" in result.output
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


# --- resumption ---------------------------------------------------------------------------------------

class Interrupted(Exception):
    pass


def test_run_resumes_after_interruption_without_doing_rows_twice(app, db, runner, tmp_path):
    data = csv_bytes(good_rows(10))
    job = create_job(data, "firms.csv")
    db.session.commit()
    seen = []

    def crash_after_two_chunks(j):
        seen.append(j.last_row)
        if len(seen) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_job(job, chunk_rows=3, progress=crash_after_two_chunks)
    db.session.rollback()
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert (job.status, job.last_row, job.created_count) == ("running", 7, 6)  # rows 2..7 committed
    assert org_count(db) == 6

    # The same command again picks the unfinished job up after row 7.
    path = tmp_path / "firms.csv"
    path.write_bytes(data)
    result = runner.invoke(args=["oims", "import-orgs", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Resuming import job {job.id} after row 7" in result.output
    assert "10 created, 0 updated, 0 unchanged" in result.output
    assert org_count(db) == 10
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).status == "done"
    assert db.session.scalar(select(func.count(ImportJob.id))) == 1


def test_duplicate_numbers_in_one_file_are_reported_and_skipped(app, db):
    rows = good_rows(2) + [good_rows(1)[0]]
    rows[2][1] = "別名"
    job = create_job(csv_bytes(rows), "dup.csv")
    assert [(e["row"], e["column"]) for e in job.errors] == [(4, "法人番号")]
    assert "2行目" in job.errors[0]["message"]
    run_job(job)
    assert (job.created_count, job.skipped_count) == (2, 1)
    assert db.session.scalar(select(Organisation.name).where(Organisation.corporate_number == cn(1))) == "株式会社テスト1"


# --- HTTP: the coordinator's pages ----------------------------------------------------------------------

@pytest.fixture
def coord(cast):
    return cast.coordinator


def test_http_upload_dry_run_then_run(client, db, coord, factory):
    existing_other = factory.org(kind="sme", prefecture="27", name="大阪の会社")
    existing_other.corporate_number = cn(99)
    db.session.commit()
    login(client, coord)
    rows = good_rows(3) + [[cn(99), "大阪の会社", "", "中小企業", "東京都"] + [""] * 6] + [["123", "", "", "", ""] + [""] * 6]
    resp = client.post("/imports/", data={"file": (io.BytesIO(xlsx_bytes(rows)), "firms.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    job = db.session.scalar(select(ImportJob))
    assert job.bureau == "kanto" and job.created_by_id == coord.id and job.file_format == "xlsx"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert org_count(db) == 1  # dry run: only the Osaka firm that was already there
    assert "import-error" in page
    errors = {(e["row"], e["column"]) for e in job.errors}
    assert (5, "法人番号") in errors   # registered with another bureau
    assert {(6, "法人番号"), (6, "名称"), (6, "都道府県")} <= errors
    assert "<td>6</td><td>名称</td>" in page
    assert f"/imports/{job.id}/run" in page

    resp = client.post(f"/imports/{job.id}/run")
    assert resp.status_code == 302
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert 'id="import-summary"' in page
    db.session.expire_all()
    assert (job.status, job.created_count, job.skipped_count) == ("done", 3, 2)
    assert org_count(db) == 4
    assert db.session.scalar(select(Organisation.bureau).where(Organisation.corporate_number == cn(99))) == "kinki"
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "importjob")))
    assert {"import.validated", "import.started", "import.finished"} <= actions
    status = client.get(f"/imports/{job.id}/status").get_json()
    assert status["status"] == "done" and status["percent"] == 100 and status["created"] == 3

    # Re-import through the page: nothing new.
    resp = client.post("/imports/", data={"file": (io.BytesIO(csv_bytes(good_rows(3))), "firms.csv")},
                       content_type="multipart/form-data")
    job2 = db.session.get(ImportJob, int(resp.headers["Location"].rsplit("/", 1)[1]))
    client.post(f"/imports/{job2.id}/run")
    db.session.expire_all()
    assert (job2.created_count, job2.unchanged_count) == (0, 3)
    assert org_count(db) == 4


def test_http_bad_upload_rerenders_with_message(client, db, coord):
    login(client, coord)
    resp = client.post("/imports/", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "firms.txt")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert ".csv" in resp.get_data(as_text=True)
    resp = client.post("/imports/", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


def test_http_progress_page_polls_and_offers_resume(client, db, coord):
    login(client, coord)
    job = create_job(csv_bytes(good_rows(4)), "firms.csv", actor=coord)
    db.session.commit()
    with pytest.raises(Interrupted):
        run_job(job, chunk_rows=2, progress=lambda j: (_ for _ in ()).throw(Interrupted()))
    db.session.rollback()
    db.session.expire_all()
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert 'id="import-progress"' in page and f'data-status-url="/imports/{job.id}/status"' in page
    assert "js/import-progress.js" in page and "<script>" not in page
    assert "import-stalled" in page
    status = client.get(f"/imports/{job.id}/status").get_json()
    assert (status["status"], status["processed_rows"], status["total_rows"]) == ("running", 2, 4)
    assert status["stalled"] is False  # heartbeat is fresh: a second runner may not take it yet
    resp = client.post(f"/imports/{job.id}/run", follow_redirects=True)
    assert org_count(db) == 2  # refused: it looks alive

    from datetime import timedelta

    from oims.models.base import utcnow
    job.heartbeat_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert client.get(f"/imports/{job.id}/status").get_json()["stalled"] is True
    resp = client.post(f"/imports/{job.id}/run")
    assert resp.status_code == 302
    db.session.expire_all()
    assert (job.status, job.created_count) == ("done", 4)
    assert org_count(db) == 4


def test_http_other_bureau_job_is_hidden(client, db, coord, factory):
    other = factory.user("coordinator", org=factory.org(kind="support", prefecture="27", name="近畿局"),
                         email="kinki@example.jp")
    job = create_job(csv_bytes(good_rows(1, pref="大阪府")), "k.csv", actor=other)
    db.session.commit()
    login(client, coord)
    assert client.get(f"/imports/{job.id}").status_code == 404
    assert client.get(f"/imports/{job.id}/status").status_code == 404
    assert client.post(f"/imports/{job.id}/run").status_code == 404
    assert "k.csv" not in client.get("/imports/").get_data(as_text=True)
    assert org_count(db) == 0


def test_templates_have_japanese_headers_and_import_cleanly(client, db, coord, runner, tmp_path):
    login(client, coord)
    resp = client.get("/imports/template.xlsx")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).worksheets[0]
    assert [c.value for c in ws[1]][:3] == ["法人番号", "名称", "名称カナ"]
    resp = client.get("/imports/template.csv")
    text = resp.data.decode("utf-8-sig")
    assert text.startswith("法人番号,名称,")
    path = tmp_path / "t.csv"
    path.write_bytes(resp.data)
    result = runner.invoke(args=["oims", "import-orgs", str(path), "--dry-run"])
    assert "1 rows, 1 valid, 0 problem(s)" in result.output, result.output


# --- outside a request: the CLI process and the background runner ---------------------------------------

def test_background_runner_without_a_request_reports_and_imports(app, db):
    """The page's runner thread (and `flask oims import-orgs`) has no request:
    messages come in the default language and the rows are imported."""
    import threading

    from oims.imports.services import start_in_background

    rows = good_rows(3)
    rows[2][4] = "ムー大陸"
    made = {}

    def dry_run_without_request():
        with app.app_context():
            job = create_job(csv_bytes(rows), "firms.csv")
            from oims.extensions import db as _db
            _db.session.commit()
            made["id"], made["errors"] = job.id, job.errors
            _db.session.remove()

    t = threading.Thread(target=dry_run_without_request)
    t.start()
    t.join(30)
    assert made["errors"] and made["errors"][0]["message"].startswith("不明な都道府県")
    start_in_background(made["id"]).join(60)
    db.session.expire_all()
    job = db.session.get(ImportJob, made["id"])
    assert (job.status, job.created_count, job.skipped_count) == ("done", 2, 1)
    assert org_count(db) == 2
