"""Does an anonymous need name its owner? The identifying-text check.

The need's text (every field) and the text of its attachments (PDF text via
pypdf) are compared with what the organisation record says about the owner:
its names (Japanese, kana, English; with and without 株式会社/Co., Ltd. and
the like), brands and products, website domain, the e-mail domains of its
users and its users' names.

Both sides are normalised the same way before comparing: NFKC (full-width
and half-width forms match), lower case, hiragana folded to katakana, and
spaces and punctuation removed ("TOTO-Mobility" matches "Toto Mobility").
Each finding keeps the span of the original text, so it can be shown and
redacted in place.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from oims.extensions import db
from oims.models import Need, Organisation, User
from oims.needs.labels import field_labels

# Legal-form words dropped to get the name people actually use.
LEGAL_FORMS_JA = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "一般社団法人", "一般財団法人",
                  "公益社団法人", "公益財団法人", "特定非営利活動法人", "国立大学法人", "学校法人", "独立行政法人",
                  "(株)", "(有)", "(同)")
LEGAL_FORMS_KANA = ("カブシキガイシャ", "カブシキカイシャ", "ユウゲンガイシャ", "ゴウドウガイシャ")
LEGAL_FORMS_EN = re.compile(
    r"[,.\s]*\b(co\.?,?\s*ltd\.?|company\s+limited|limited|ltd\.?|inc\.?|incorporated|corporation|corp\.?|"
    r"k\.?\s?k\.?|llc|g\.?k\.?|co\.)\s*$", re.IGNORECASE)
# Generic business words at the end of a name: "東都モビリティ" is as telling as "東都モビリティ工業".
GENERIC_SUFFIXES = ("ホールディングス", "グループ", "重工業", "工業所", "製作所", "工業", "産業", "電機", "電気", "化学",
                    "製薬", "技研", "精機", "精工", "商事", "興業", "工務店", "建設", "食品", "コウギョウ", "セイサクショ",
                    "サンギョウ", "holdings", "group", "industries", "industry", "manufacturing", "electric",
                    "works", "company", "technologies")
# Domains of public mail services say nothing about the firm.
PUBLIC_MAIL = {"gmail.com", "googlemail.com", "yahoo.co.jp", "ymail.ne.jp", "outlook.com", "outlook.jp",
               "hotmail.com", "hotmail.co.jp", "live.jp", "icloud.com", "me.com", "docomo.ne.jp", "ezweb.ne.jp",
               "au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com", "biglobe.ne.jp", "so-net.ne.jp",
               "ocn.ne.jp", "example.com", "example.jp", "example.org"}
SECOND_LEVEL_JP = {"co", "ne", "or", "ac", "go", "ed", "lg", "gr", "ad"}
MIN_TERM = 3  # normalised characters; shorter terms would match everywhere


@dataclass(frozen=True)
class Term:
    text: str  # as in the record
    kind: str  # name | kana | name_en | brand | website | email_domain | person
    key: str   # normalised


@dataclass
class Finding:
    field: str     # a need field name, or "attachment"
    where: str     # label of the field or the attachment's file name
    term: Term
    found: str     # the original text that matched
    excerpt: str   # a little context around it


def _fold_char(ch: str) -> str:
    out = []
    for c in unicodedata.normalize("NFKC", ch).lower():
        if unicodedata.category(c)[0] in ("Z", "P", "C", "S") and c not in "&+":
            continue
        if "\u3041" <= c <= "\u3096":  # hiragana → katakana
            c = chr(ord(c) + 0x60)
        out.append(c)
    return "".join(out)


def normalise(text: str) -> str:
    return _indexed(text)[0]


def _indexed(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index in `text`."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text or ""):
        for c in _fold_char(ch):
            if unicodedata.combining(c) and chars:
                # half-width ﾋﾞ → ビ: compose with the previous character
                composed = unicodedata.normalize("NFC", chars[-1] + c)
                if len(composed) == 1:
                    chars[-1] = composed
                    continue
            chars.append(c)
            index.append(i)
    return "".join(chars), index


def _domain_terms(host: str, kind: str) -> list[tuple[str, str]]:
    host = (host or "").lower().strip().strip(".")
    host = host.removeprefix("www.")
    if not host or host in PUBLIC_MAIL:
        return []
    terms = [(host, kind)]
    labels = host.split(".")
    if len(labels) >= 2:
        labels = labels[:-1]  # the top-level domain
        if len(labels) >= 2 and labels[-1] in SECOND_LEVEL_JP:
            labels = labels[:-1]
        registrable = ".".join(host.split(".")[len(labels) - 1:])
        if registrable != host:
            terms.append((registrable, kind))  # toto-mobility.co.jp of mail.toto-mobility.co.jp
        if len(labels[-1]) >= 4:
            terms.append((labels[-1], kind))  # "toto-mobility" of toto-mobility.co.jp
    return terms


def _name_variants(name: str) -> list[str]:
    name = unicodedata.normalize("NFKC", name or "").strip()
    variants = [name]
    short = name
    for form in LEGAL_FORMS_JA + LEGAL_FORMS_KANA:
        short = short.replace(form, "")
    short = LEGAL_FORMS_EN.sub("", short).strip(" ,.")
    variants.append(short)
    shorter = short
    for suffix in GENERIC_SUFFIXES:
        if shorter.lower().endswith(suffix):
            shorter = shorter[: -len(suffix)].strip(" ,.・")
            break
    if len(normalise(shorter)) >= MIN_TERM:
        variants.append(shorter)
    return [v for v in variants if v]


def identifying_terms(org: Organisation) -> list[Term]:
    """Everything in the organisation record that would name the owner."""
    raw: list[tuple[str, str]] = []
    raw += [(v, "name") for v in _name_variants(org.name)]
    raw += [(v, "kana") for v in _name_variants(org.name_kana)]
    raw += [(v, "name_en") for v in _name_variants(org.name_en)]
    raw += [(b, "brand") for b in (org.brands or []) if str(b).strip()]
    if org.website:
        site = org.website if "//" in org.website else "//" + org.website
        raw += _domain_terms(urlsplit(site).hostname or "", "website")
    users = db.session.scalars(select(User).where(User.organisation_id == org.id)).all()
    for user in users:
        if user.email and "@" in user.email:
            raw += _domain_terms(user.email.rsplit("@", 1)[1], "email_domain")
        if getattr(user, "name", "") and len(normalise(user.name)) >= MIN_TERM:
            raw.append((user.name, "person"))
    terms, seen = [], set()
    for text, kind in raw:
        key = normalise(str(text))
        if len(key) < MIN_TERM or (key.isascii() and len(key) < 4) or key in seen:
            continue
        seen.add(key)
        terms.append(Term(str(text), kind, key))
    # Longest first: report "東都モビリティ工業" rather than its shorter variant.
    return sorted(terms, key=lambda t: -len(t.key))


def find_in(text: str, terms: list[Term]) -> list[tuple[Term, int, int]]:
    """(term, start, end) spans of `text` that match a term, not overlapping."""
    norm, index = _indexed(text)
    spans: list[tuple[Term, int, int]] = []
    taken: list[tuple[int, int]] = []
    for term in terms:
        pos = norm.find(term.key)
        while pos != -1:
            start, end = index[pos], index[pos + len(term.key) - 1] + 1
            if not any(s < end and start < e for s, e in taken):
                spans.append((term, start, end))
                taken.append((start, end))
            pos = norm.find(term.key, pos + 1)
    return sorted(spans, key=lambda s: s[1])


def _excerpt(text: str, start: int, end: int, width: int = 30) -> str:
    before = text[max(0, start - width):start]
    after = text[end:end + width]
    return ("…" if start > width else "") + before + "[" + text[start:end] + "]" + after + (
        "…" if end + width < len(text) else "")


TEXT_FIELDS = ("title", "summary", "background", "sought", "keywords", "budget", "desired_start")


def field_values(need_or_values) -> dict[str, str]:
    get = (need_or_values.get if isinstance(need_or_values, dict)
           else lambda k, d=None: getattr(need_or_values, k, d))
    out = {}
    for field in TEXT_FIELDS:
        value = get(field, "") or ""
        out[field] = ", ".join(value) if isinstance(value, list | tuple) else str(value)
    return out


def findings_in_fields(values: dict[str, str], terms: list[Term]) -> list[Finding]:
    labels = field_labels()
    found = []
    for field, text in values.items():
        for term, start, end in find_in(text, terms):
            found.append(Finding(field, labels.get(field, field), term, text[start:end], _excerpt(text, start, end)))
    return found


def findings_in_attachments(need: Need, terms: list[Term]) -> list[Finding]:
    from oims.needs.cleaning import pdf_text
    from oims.needs.uploads import attachments_of, file_bytes

    found = []
    for att in attachments_of(need):
        # File names are not checked: proposers see attachment-<n>.<ext> instead.
        data = file_bytes(att) if att.content_type == "application/pdf" else None
        if data is not None:
            text = pdf_text(data)
            for term, start, end in find_in(text, terms):
                found.append(Finding("attachment", att.filename, term, text[start:end], _excerpt(text, start, end)))
    return found


def check_need(need: Need, values: dict | None = None) -> list[Finding]:
    """Findings in the need's text (or in `values` about to be saved) and its attachments."""
    if need is not None and need.owner_org is None:
        return []
    terms = identifying_terms(need.owner_org)
    if not terms:
        return []
    found = findings_in_fields(field_values(values if values is not None else need), terms)
    if need.id is not None:
        found += findings_in_attachments(need, terms)
    return found


def check_values(org: Organisation, values: dict) -> list[Finding]:
    """Findings in form values of a need not yet saved."""
    terms = identifying_terms(org)
    return findings_in_fields(field_values(values), terms) if terms else []


def redact(text: str, terms: list[Term], replacement: str) -> str:
    """`text` with every match of `terms` replaced."""
    for _term, start, end in reversed(find_in(text, terms)):
        text = text[:start] + replacement + text[end:]
    return text


def kind_labels() -> dict[str, str]:
    return {"name": _("organisation name"), "kana": _("name in kana"), "name_en": _("English name"),
            "brand": _("brand or product"), "website": _("website"), "email_domain": _("e-mail domain"),
            "person": _("person's name")}


def summary(findings: list[Finding]) -> list[dict]:
    """Findings as plain data (for the audit log)."""
    return [{"where": f.where, "kind": f.term.kind, "term": f.term.text} for f in findings]
