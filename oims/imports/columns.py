"""The columns of an organisation list: Japanese headers (as in the template),
with English and code aliases accepted, and how each cell is read."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from oims.core import reference as ref


@dataclass(frozen=True)
class Column:
    key: str          # Organisation attribute
    header: str       # Japanese header of the template
    aliases: tuple    # other accepted headers (compared normalised)
    required: bool = False
    example: str = ""
    note: object = ""


COLUMNS = (
    Column("corporate_number", "法人番号", ("corporate_number", "corporate number", "法人番号(13桁)"), True,
           "7000012050002", _l("13 digits with a valid check digit; the key of re-imports")),
    Column("name", "名称", ("name", "法人名", "企業名", "商号又は名称", "組織名"), True, "株式会社サンプル精工",
           _l("Organisation name")),
    Column("name_kana", "名称カナ", ("name_kana", "フリガナ", "ふりがな", "カナ"), False, "サンプルセイコウ",
           _l("Name in kana")),
    Column("name_en", "英語名称", ("name_en", "english name", "名称(英語)"), False, "Sample Seiko Co., Ltd.",
           _l("Name in English")),
    Column("kind", "種別", ("kind", "組織種別"), False, "中小企業",
           _l("大企業 / 中小企業 / 大学 / 研究機関 / スタートアップ (or large, sme...); default 中小企業")),
    Column("prefecture", "都道府県", ("prefecture", "所在地(都道府県)", "都道府県コード"), True, "東京都",
           _l("Prefecture name or JIS code (13)")),
    Column("industry", "業種", ("industry", "業種(大分類)", "jsic"), False, "製造業",
           _l("JSIC division: name or letter (E); default 製造業")),
    Column("employee_band", "従業員規模", ("employee_band", "employees", "従業員数"), False, "21〜50名",
           _l("20名以下 / 21〜50名 / 51〜300名 / 301〜1,000名 / 1,001名以上, or a head count")),
    Column("website", "ウェブサイト", ("website", "url", "ホームページ", "hp"), False, "https://www.example.co.jp",
           _l("http(s) address")),
    Column("profile", "事業概要・技術力", ("profile", "capability profile", "事業概要", "技術力", "強み"), False,
           "精密切削加工と異材接合の量産技術。", _l("Capability profile, up to 5,000 characters")),
    Column("technologies", "技術・シーズ", ("technologies", "技術", "シーズ"), False, "精密切削加工;異材接合",
           _l("One per line or separated by ;")),
    Column("certifications", "認証", ("certifications", "認証・資格", "iso"), False, "ISO 9001;ISO 14001",
           _l("One per line or separated by ;")),
    Column("patents", "特許", ("patents", "特許・知財"), False, "特許第1234567号 接合方法",
           _l("One per line or separated by ;")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
LIST_COLUMNS = ("technologies", "certifications", "patents")
IMPORT_KINDS = [k for k in ref.ORG_KINDS if k.code != "support"]


def norm(text: object) -> str:
    """Header/label comparison form: NFKC, lower case, no spaces or brackets.

    The wave dash 〜 becomes ～ (then ~) when Shift_JIS text is decoded as cp932: all three are one."""
    text = unicodedata.normalize("NFKC", str(text or "")).lower().replace("〜", "~")
    return re.sub(r"[\s（）()・]", "", text)


_HEADER_INDEX = {norm(alias): c.key for c in COLUMNS for alias in (c.header, c.key, *c.aliases)}


def column_for_header(header: object) -> str | None:
    return _HEADER_INDEX.get(norm(header))


def _choice_index(choices, extra: dict | None = None) -> dict[str, str]:
    out = {}
    for c in choices:
        for text in (c.code, c.ja, c.en):
            out[norm(text)] = c.code
    for text, code in (extra or {}).items():
        out[norm(text)] = code
    return out


KIND_INDEX = _choice_index(IMPORT_KINDS, {"大手企業": "large", "中小": "sme", "ベンチャー": "startup"})
INDUSTRY_INDEX = _choice_index(ref.INDUSTRIES)
BAND_INDEX = _choice_index(ref.EMPLOYEE_BANDS)
PREFECTURE_INDEX = _choice_index(ref.PREFECTURES)
for _p in ref.PREFECTURES:  # 「東京」「大阪」 without 都/府/県, and "1" for "01"
    PREFECTURE_INDEX.setdefault(norm(_p.ja[:-1] if _p.ja[-1] in "都府県" else _p.ja), _p.code)
    PREFECTURE_INDEX.setdefault(str(int(_p.code)), _p.code)


def employee_band_of(value: str) -> str | None:
    """A band code from its code/label, or from a head count (「35」「35名」)."""
    if code := BAND_INDEX.get(norm(value)):
        return code
    digits = norm(value).removesuffix("名").replace(",", "")
    if digits.isdigit():
        n = int(digits)
        for upper, code in ((20, "1-20"), (50, "21-50"), (300, "51-300"), (1000, "301-1000")):
            if n <= upper:
                return code
        return "1001+"
    return None


_LIST_SPLIT = re.compile(r"[\n;；|｜]")


def split_list(value: str) -> list[str]:
    return [item.strip() for item in _LIST_SPLIT.split(value) if item.strip()]
