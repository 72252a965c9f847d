"""Bilingual reference data: prefectures, METI regional bureaus, industries and
other fixed lists. The one place these lists live; forms, filters, the demo
data and the matcher's metadata all read them from here.
"""

from __future__ import annotations

from typing import NamedTuple


class Choice(NamedTuple):
    code: str
    ja: str
    en: str

    def label(self, locale: str | None = None) -> str:
        return self.en if (locale or "ja").startswith("en") else self.ja


def _index(items: list[Choice]) -> dict[str, Choice]:
    return {c.code: c for c in items}


BUREAUS = [
    Choice("hokkaido", "北海道経済産業局", "Hokkaido Bureau of Economy, Trade and Industry"),
    Choice("tohoku", "東北経済産業局", "Tohoku Bureau of Economy, Trade and Industry"),
    Choice("kanto", "関東経済産業局", "Kanto Bureau of Economy, Trade and Industry"),
    Choice("chubu", "中部経済産業局", "Chubu Bureau of Economy, Trade and Industry"),
    Choice("kinki", "近畿経済産業局", "Kinki Bureau of Economy, Trade and Industry"),
    Choice("chugoku", "中国経済産業局", "Chugoku Bureau of Economy, Trade and Industry"),
    Choice("shikoku", "四国経済産業局", "Shikoku Bureau of Economy, Trade and Industry"),
    Choice("kyushu", "九州経済産業局", "Kyushu Bureau of Economy, Trade and Industry"),
    Choice("okinawa", "沖縄総合事務局 経済産業部", "Okinawa General Bureau, Economy, Trade and Industry"),
]
BUREAU_BY_CODE = _index(BUREAUS)

# (JIS code, Japanese, English, bureau)
_PREFECTURES = [
    ("01", "北海道", "Hokkaido", "hokkaido"),
    ("02", "青森県", "Aomori", "tohoku"),
    ("03", "岩手県", "Iwate", "tohoku"),
    ("04", "宮城県", "Miyagi", "tohoku"),
    ("05", "秋田県", "Akita", "tohoku"),
    ("06", "山形県", "Yamagata", "tohoku"),
    ("07", "福島県", "Fukushima", "tohoku"),
    ("08", "茨城県", "Ibaraki", "kanto"),
    ("09", "栃木県", "Tochigi", "kanto"),
    ("10", "群馬県", "Gunma", "kanto"),
    ("11", "埼玉県", "Saitama", "kanto"),
    ("12", "千葉県", "Chiba", "kanto"),
    ("13", "東京都", "Tokyo", "kanto"),
    ("14", "神奈川県", "Kanagawa", "kanto"),
    ("15", "新潟県", "Niigata", "kanto"),
    ("16", "富山県", "Toyama", "chubu"),
    ("17", "石川県", "Ishikawa", "chubu"),
    ("18", "福井県", "Fukui", "kinki"),
    ("19", "山梨県", "Yamanashi", "kanto"),
    ("20", "長野県", "Nagano", "kanto"),
    ("21", "岐阜県", "Gifu", "chubu"),
    ("22", "静岡県", "Shizuoka", "kanto"),
    ("23", "愛知県", "Aichi", "chubu"),
    ("24", "三重県", "Mie", "chubu"),
    ("25", "滋賀県", "Shiga", "kinki"),
    ("26", "京都府", "Kyoto", "kinki"),
    ("27", "大阪府", "Osaka", "kinki"),
    ("28", "兵庫県", "Hyogo", "kinki"),
    ("29", "奈良県", "Nara", "kinki"),
    ("30", "和歌山県", "Wakayama", "kinki"),
    ("31", "鳥取県", "Tottori", "chugoku"),
    ("32", "島根県", "Shimane", "chugoku"),
    ("33", "岡山県", "Okayama", "chugoku"),
    ("34", "広島県", "Hiroshima", "chugoku"),
    ("35", "山口県", "Yamaguchi", "chugoku"),
    ("36", "徳島県", "Tokushima", "shikoku"),
    ("37", "香川県", "Kagawa", "shikoku"),
    ("38", "愛媛県", "Ehime", "shikoku"),
    ("39", "高知県", "Kochi", "shikoku"),
    ("40", "福岡県", "Fukuoka", "kyushu"),
    ("41", "佐賀県", "Saga", "kyushu"),
    ("42", "長崎県", "Nagasaki", "kyushu"),
    ("43", "熊本県", "Kumamoto", "kyushu"),
    ("44", "大分県", "Oita", "kyushu"),
    ("45", "宮崎県", "Miyazaki", "kyushu"),
    ("46", "鹿児島県", "Kagoshima", "kyushu"),
    ("47", "沖縄県", "Okinawa", "okinawa"),
]
PREFECTURES = [Choice(code, ja, en) for code, ja, en, _ in _PREFECTURES]
PREFECTURE_BY_CODE = _index(PREFECTURES)
BUREAU_OF_PREFECTURE = {code: bureau for code, _, _, bureau in _PREFECTURES}

# Japan Standard Industrial Classification, major divisions.
INDUSTRIES = [
    Choice("A", "農業，林業", "Agriculture and forestry"),
    Choice("B", "漁業", "Fisheries"),
    Choice("C", "鉱業，採石業，砂利採取業", "Mining and quarrying"),
    Choice("D", "建設業", "Construction"),
    Choice("E", "製造業", "Manufacturing"),
    Choice("F", "電気・ガス・熱供給・水道業", "Electricity, gas, heat supply and water"),
    Choice("G", "情報通信業", "Information and communications"),
    Choice("H", "運輸業，郵便業", "Transport and postal activities"),
    Choice("I", "卸売業，小売業", "Wholesale and retail trade"),
    Choice("J", "金融業，保険業", "Finance and insurance"),
    Choice("K", "不動産業，物品賃貸業", "Real estate and goods rental and leasing"),
    Choice("L", "学術研究，専門・技術サービス業", "Scientific research, professional and technical services"),
    Choice("M", "宿泊業，飲食サービス業", "Accommodations, eating and drinking services"),
    Choice("N", "生活関連サービス業，娯楽業", "Living-related and personal services, amusement"),
    Choice("O", "教育，学習支援業", "Education, learning support"),
    Choice("P", "医療，福祉", "Medical, health care and welfare"),
    Choice("Q", "複合サービス事業", "Compound services"),
    Choice("R", "サービス業（他に分類されないもの）", "Services, n.e.c."),
    Choice("S", "公務（他に分類されるものを除く）", "Government, n.e.c."),
    Choice("T", "分類不能の産業", "Industries unable to classify"),
]
INDUSTRY_BY_CODE = _index(INDUSTRIES)

# Short industry words used to build an anonymous need's alias
# (「大手輸送用機器メーカーA社」 style): the division, said as a kind of firm.
INDUSTRY_ALIAS = {
    "A": ("農林業", "agriculture firm"),
    "B": ("水産", "fisheries firm"),
    "C": ("鉱業", "mining firm"),
    "D": ("建設会社", "construction company"),
    "E": ("製造業", "manufacturer"),
    "F": ("エネルギー・インフラ企業", "energy and utilities company"),
    "G": ("情報通信企業", "ICT company"),
    "H": ("運輸・物流企業", "logistics company"),
    "I": ("商社・流通企業", "trading and retail company"),
    "J": ("金融機関", "financial institution"),
    "K": ("不動産企業", "real estate company"),
    "L": ("技術サービス企業", "technical services firm"),
    "M": ("外食・宿泊企業", "hospitality company"),
    "N": ("生活関連サービス企業", "consumer services company"),
    "O": ("教育関連企業", "education company"),
    "P": ("医療・福祉法人", "healthcare organisation"),
    "Q": ("複合サービス事業者", "services company"),
    "R": ("サービス企業", "services company"),
    "S": ("公的機関", "public body"),
    "T": ("企業", "company"),
}

ORG_KINDS = [
    Choice("large", "大企業", "Large company"),
    Choice("sme", "中小企業", "SME"),
    Choice("university", "大学", "University"),
    Choice("institute", "研究機関", "Research institute"),
    Choice("startup", "スタートアップ", "Startup"),
    Choice("support", "支援機関", "Support body"),
]
ORG_KIND_BY_CODE = _index(ORG_KINDS)
PROPOSER_KINDS = {"sme", "university", "institute", "startup"}
OWNER_KINDS = {"large", "sme"}

EMPLOYEE_BANDS = [
    Choice("1-20", "20名以下", "1–20"),
    Choice("21-50", "21〜50名", "21–50"),
    Choice("51-300", "51〜300名", "51–300"),
    Choice("301-1000", "301〜1,000名", "301–1,000"),
    Choice("1001+", "1,001名以上", "1,001+"),
]
EMPLOYEE_BAND_BY_CODE = _index(EMPLOYEE_BANDS)

CERTIFICATIONS = [
    "ISO 9001", "ISO 14001", "ISO 27001", "ISO 13485", "ISO 45001",
    "IATF 16949", "JIS Q 9100", "ISMS", "Pマーク", "FSSC 22000", "HACCP", "JGAP",
]

PARTNERSHIP_TYPES = [
    Choice("joint_rnd", "共同研究開発", "Joint R&D"),
    Choice("alliance", "業務提携", "Business alliance"),
    Choice("supply", "調達・供給", "Supply / procurement"),
    Choice("licensing", "ライセンス", "Licensing in/out"),
    Choice("poc", "実証（PoC）", "Proof of concept"),
    Choice("investment", "出資・M&A", "Investment / M&A"),
]
PARTNERSHIP_BY_CODE = _index(PARTNERSHIP_TYPES)

ROLES = [
    Choice("need_owner", "ニーズ企業", "Need owner"),
    Choice("proposer", "提案者", "Proposer"),
    Choice("coordinator", "コーディネーター", "Coordinator"),
    Choice("admin", "管理者", "Administrator"),
]
ROLE_BY_CODE = _index(ROLES)

LANGUAGES = [Choice("ja", "日本語", "Japanese"), Choice("en", "English", "English")]

DECLINE_REASONS = [
    Choice("tech_mismatch", "技術的な適合性が低い", "Technology does not fit"),
    Choice("cost", "費用・条件が合わない", "Cost or terms do not fit"),
    Choice("schedule", "スケジュールが合わない", "Schedule does not fit"),
    Choice("capacity", "体制・供給能力が不足", "Insufficient capacity or team"),
    Choice("already_selected", "他の提案で充足した", "Need already met by another proposal"),
    Choice("need_changed", "ニーズ側の方針変更", "Need owner changed plans"),
    Choice("other", "その他", "Other"),
]
DECLINE_REASON_BY_CODE = _index(DECLINE_REASONS)


def bureau_for_prefecture(prefecture: str) -> str:
    """The METI regional bureau a prefecture belongs to (KeyError if unknown)."""
    return BUREAU_OF_PREFECTURE[prefecture]


def label(choices: dict[str, Choice], code: str | None, locale: str | None) -> str:
    """Label of a code in the given locale; the code itself when unknown."""
    if not code:
        return ""
    choice = choices.get(code)
    return choice.label(locale) if choice else code
