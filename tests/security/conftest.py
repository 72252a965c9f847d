"""The confidentiality scene the sweeps share (test_confidentiality*.py)."""

from __future__ import annotations

import hashlib

import pytest

from oims.models import Attachment, Notification
from oims.needs.uploads import store_bytes

from .test_confidentiality import SECRET_FIRM, SECRET_PROPOSAL
from .world import PNG


@pytest.fixture
def scene(db, cast, factory):
    """The cast's owner posts an anonymous need with a file named after the firm
    (stored as such, not renamed: the pages must still hide it); the cast's
    proposer (p1) proposes and is not forwarded yet; the other proposer (p2) is
    a competitor; the Kinki coordinator (coord_other) is another bureau."""
    assert cast.owner_org.name == SECRET_FIRM
    need = factory.need(owner=cast.owner, anonymous=True, title="匿名ニーズ：軽量化部材")
    unforwarded = factory.proposal(need, proposer=cast.proposer, stage="submitted", title=SECRET_PROPOSAL)
    stored = store_bytes(PNG, "image/png")
    att = Attachment(need_id=need.id, filename=f"{SECRET_FIRM}_仕様書.png", file_id=stored.id,
                     content_type="image/png", size=len(PNG), sha256=hashlib.sha256(PNG).hexdigest(),
                     uploaded_by_id=cast.owner.id)
    db.session.add_all([att, Notification(user_id=cast.proposer.id, kind="x", text="提案を受け付けました")])
    db.session.commit()
    return {"owner": cast.owner, "need": need, "p1": cast.proposer, "p2": cast.other_proposer,
            "proposal": unforwarded, "att": att, "coord_other": cast.other_coordinator}
