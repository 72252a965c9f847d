"""Reading an uploaded organisation list (CSV or Excel) into rows of text.

Row numbers are the file's own (the header is row 1), so a report line
"row 7" is row 7 in Excel and line 7 of the CSV (for one-line records)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _

from oims.core.exceptions import ValidationFailed
from oims.imports.columns import COLUMN_BY_KEY, column_for_header

FORMATS = ("csv", "xlsx")


class UnreadableFile(ValidationFailed):
    """The file is not a list we can read at all (no row report possible).
    A service's refusal like any other, so pages show it with `run_action`."""


@dataclass
class Sheet:
    columns: dict[int, str]                     # cell position → column key
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)  # (row number, key → raw value)
    unknown_headers: list[str] = field(default_factory=list)


def format_of(filename: str) -> str | None:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return ext if ext in FORMATS else None


def _decode(data: bytes) -> str:
    # Excel on Japanese Windows saves CSV as Shift_JIS (cp932); everything else UTF-8 (with or without BOM).
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The CSV file is neither UTF-8 nor Shift_JIS text."))


def _csv_rows(data: bytes):
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    for cells in reader:
        yield reader.line_num, cells


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise UnreadableFile(_("The Excel file could not be opened (save it as .xlsx).")) from exc
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()


def read_sheet(data: bytes, file_format: str) -> Sheet:
    rows = _csv_rows(data) if file_format == "csv" else _xlsx_rows(data)
    header = None
    for number, cells in rows:
        if header is None:
            if not any(str(c or "").strip() for c in cells):
                continue  # blank lines above the header
            header = cells
            sheet = Sheet({})
            for pos, text in enumerate(cells):
                key = column_for_header(text)
                if key and key not in sheet.columns.values():
                    sheet.columns[pos] = key
                elif str(text or "").strip():
                    sheet.unknown_headers.append(str(text).strip())
            missing = {"corporate_number", "name", "prefecture"} - set(sheet.columns.values())
            if missing:
                raise UnreadableFile(_("The header row lacks the required column(s): %(cols)s.",
                                       cols="、".join(COLUMN_BY_KEY[k].header for k in sorted(missing))))
            continue
        if not any(str(c if c is not None else "").strip() for c in cells):
            continue  # blank rows are ignored, not reported
        values = {key: cells[pos] if pos < len(cells) else None for pos, key in sheet.columns.items()}
        sheet.rows.append((number, values))
    if header is None:
        raise UnreadableFile(_("The file is empty."))
    return sheet
