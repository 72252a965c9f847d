"""Aliases of anonymous needs: one per need, random, never linkable.

An alias is the owner's industry and size (「大手製造業」) followed by a random
case code (「・案件K7Q2」). The code is drawn with `secrets` from 31 letters and
digits that cannot be confused (no 0/O, 1/I/L), so it says nothing about the
owner, the order of its needs or their number, and two needs of one firm
share nothing but the descriptor. The descriptor itself is dropped (「企業・案件
K7Q2」) when fewer than OIMS_ALIAS_MIN_PEERS organisations share it, so that a
rare industry and size cannot point at one firm.
"""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import func, select

from oims.extensions import db
from oims.models import Need, Organisation

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 4
GENERIC = ("企業", "Company")


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def descriptor(org: Organisation) -> tuple[str, str]:
    """(ja, en) descriptor of `org` for an alias, or the generic one when it is too rare."""
    min_peers = int(current_app.config.get("OIMS_ALIAS_MIN_PEERS", 3))
    peers = db.session.scalar(select(func.count(Organisation.id)).where(
        Organisation.kind == org.kind, Organisation.industry == org.industry)) or 0
    if peers < min_peers:
        return GENERIC
    return org.alias_base("ja"), org.alias_base("en")


def format_alias(base_ja: str, base_en: str, code: str) -> tuple[str, str]:
    return f"{base_ja}・案件{code}", f"{base_en}, case {code}"


def assign_alias(need: Need) -> None:
    """Give `need` its own alias (kept once given: proposers may have seen it)."""
    if need.alias:
        return
    base_ja, base_en = descriptor(need.owner_org)
    for attempt in range(20):
        code = new_code(CODE_LENGTH + attempt // 5)  # longer codes if the space ever gets crowded
        alias_ja, alias_en = format_alias(base_ja, base_en, code)
        taken = db.session.scalar(select(Need.id).where(
            (Need.alias == alias_ja) | Need.alias.endswith(f"案件{code}")).limit(1))
        if taken is None:
            need.alias, need.alias_en = alias_ja, alias_en
            return
    raise RuntimeError("could not draw a free alias")
