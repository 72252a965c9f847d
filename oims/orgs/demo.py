"""Demo step: one self-registered organisation waiting for its bureau
coordinator's check (so a coordinator sees the approval page after `make run`)."""

from __future__ import annotations

from sqlalchemy import select

from oims.core.vocabulary import AccountStatus
from oims.extensions import db
from oims.models import Organisation

PENDING = {"name": "多摩精工試作ラボ株式会社", "name_en": "Tama Precision Prototyping Lab Co., Ltd.",
           "corporate_number": "2013401000004", "kind": "startup", "prefecture": "13", "industry": "E",
           "employee_band": "1-20", "profile": "金属3Dプリンタによる試作と少量生産。"}


def demo_step(orgs, users) -> dict:
    if db.session.scalar(select(Organisation.id).where(Organisation.name == PENDING["name"])):
        return {"pending_orgs": 0}
    row = dict(PENDING)
    org = Organisation(status=AccountStatus.PENDING, **{k: v for k, v in row.items() if k != "prefecture"})
    org.set_prefecture(row["prefecture"])
    db.session.add(org)
    db.session.flush()
    return {"pending_orgs": 1}
