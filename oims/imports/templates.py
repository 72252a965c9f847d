"""The downloadable templates: the columns with Japanese headers and one example row."""

from __future__ import annotations

import csv
import io

from oims.imports.columns import COLUMNS


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    writer.writerow([c.example for c in COLUMNS])
    # UTF-8 with a BOM: Excel on Japanese Windows opens it without garbling.
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    sheet = wb.active
    sheet.title = "組織一覧"
    sheet.append([c.header for c in COLUMNS])
    sheet.append([c.example for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet["A2"].number_format = "@"  # 法人番号 as text: Excel must not turn it into 7.00001E+12
    for letter, width in zip("ABCDEFGHIJKLM", (16, 28, 20, 24, 12, 10, 12, 14, 28, 40, 24, 20, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    notes = wb.create_sheet("記入方法")
    notes.append(["列", "必須", "内容"])
    for c in COLUMNS:
        notes.append([c.header, "○" if c.required else "", str(c.note)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
