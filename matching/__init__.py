"""OIMS matcher: offline multilingual encoders, FAISS index, hybrid ranking, evaluation.

A plain library (no Flask, no app imports). Typical use::

    from matching import Matcher, get_encoder
    m = Matcher(Path("instance/index/proposals"))
    m.upsert(42, ["技術の説明...", "特許..."], {"prefecture": "愛知県", "kind": "company"})
    m.save()
    for r in m.search("金属加工の自動化", k=10, filters={"prefecture": "愛知県"}):
        print(r.id, r.score, [str(x) for x in r.reasons])
"""

from .analysis import ANALYSER_VERSION, Analysis, analyse
from .collection import Matcher, Result
from .encoders import DEFAULT_ENCODER, Encoder, EncoderUnavailable, get_encoder
from .fit import Coverage, FitResult, fit_check
from .index import VectorIndex
from .reasons import Reason
from .store import StaleIndexError

__all__ = [
    "ANALYSER_VERSION",
    "DEFAULT_ENCODER",
    "Analysis",
    "Coverage",
    "Encoder",
    "EncoderUnavailable",
    "FitResult",
    "Matcher",
    "Reason",
    "Result",
    "StaleIndexError",
    "VectorIndex",
    "analyse",
    "fit_check",
    "get_encoder",
]
