"""The fit check in the app: a draft proposal against a need's requirements.

Fast enough to run while the proposer types (≤ 300 ms for a 2,000-character
draft): nothing about the need is encoded per request. Its requirements (title,
summary, technology sought, keywords; not the background) are encoded once per
need text and kept in this process (`_PREPARED`, an LRU keyed by its hash), and draft
sentences are cached by text, so each keystroke re-encodes only the sentence
being edited. (The matcher's stored need vector is one vector for the whole
need; the fit check needs one per requirement, hence its own cache.)

The encoder is OIMS_FIT_ENCODER (default `use`, the packaged multilingual USE:
best aligned across Japanese and English, and fast); when it cannot be loaded,
the matcher's encoder.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict

from flask import current_app

from oims.matcher import service as ms
from oims.models import Need

log = logging.getLogger(__name__)
_PREPARED: OrderedDict[tuple, object] = OrderedDict()
_PREPARED_SIZE = 256
_LOCK = threading.Lock()
_SENTENCES = None


def requirements_text(need: Need) -> str:
    parts = [need.title, need.summary, need.sought, " ".join(need.keywords or [])]
    return "\n".join(p for p in parts if p)


def _encoder():
    from matching import get_encoder

    name = current_app.config.get("OIMS_FIT_ENCODER") or "use"
    try:
        return get_encoder(name)
    except Exception:
        log.warning("fit-check encoder %r unavailable; using the matcher's", name, exc_info=True)
        return ms.service().encoder()


def prepared(need: Need, encoder):
    from matching.fit import prepare_need

    text = requirements_text(need)
    # Keyed by the requirements' content, not the need's id and version: any edit
    # (also one that does not bump the version) gets fresh requirements.
    key = (hashlib.sha256(text.encode()).hexdigest(), encoder.name)
    with _LOCK:
        hit = _PREPARED.get(key)
        if hit is not None:
            _PREPARED.move_to_end(key)
            return hit
    value = prepare_need(text, encoder)
    with _LOCK:
        _PREPARED[key] = value
        while len(_PREPARED) > _PREPARED_SIZE:
            _PREPARED.popitem(last=False)
    return value


def check(need: Need, text: str):
    """matching.fit.FitResult for `text` against `need`, or None when matching is off or unavailable."""
    global _SENTENCES
    from matching.fit import SentenceCache, fit_check

    if not ms.service().enabled:
        return None
    try:
        encoder = _encoder()
        if _SENTENCES is None:
            _SENTENCES = SentenceCache()
        return fit_check(requirements_text(need), text, encoder=encoder, prepared=prepared(need, encoder),
                         cache=_SENTENCES)
    except Exception:
        log.warning("fit check failed", exc_info=True)
        return None


def payload(result) -> dict:
    """The JSON answer (also what the live panel renders)."""
    total = len(result.details)
    return {
        "score": result.score,
        "percent": round(100 * result.score),
        "addressed": len(result.covered),
        "total": total,
        "covered": [{"need": c.need_sentence, "proposal": c.proposal_sentence, "score": c.score,
                     "terms": list(c.terms)} for c in result.covered],
        "missing": list(result.missing),
    }
