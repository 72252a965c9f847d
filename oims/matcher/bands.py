"""The one place the app turns a matcher result into a calibrated score.

A result's `probability` is the estimated chance that a coordinator would
judge the candidate relevant; its `band` is 高 / 中 / 低 (``high``, ``medium``,
``low``). The matcher (`matching.Result`) carries both once its calibration is
fitted; until then, and for results that arrive as a bare score, this module
falls back to a logistic curve on the raw hybrid score whose centre and
scale depend on the encoder's scale (e5 cosines sit around 0.8 for unrelated
Japanese texts, USE around 0). The fallback is deliberately absolute: a weak
candidate looks weak even when it is the best one available, unlike the old
"relative to the best candidate" figure.

Override the fallback with OIMS_CALIBRATION_CENTRE / OIMS_CALIBRATION_SCALE,
the band limits with OIMS_BAND_HIGH / OIMS_BAND_MEDIUM.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

BANDS = ("high", "medium", "low")
# (centre, scale) of the fallback logistic per encoder family. Set by eye on the
# demo data (bench: 17 needs, e5): proposals the coordinators forwarded score
# 0.89-0.97 (→ 32-80 %), unrelated ones ≤ 0.82 (→ ≤ 5 %). Capability profiles are
# aggregated over several short documents (top-5 mean), so organisations
# recommended for a need sit on a lower, narrower scale (top 0.86-0.89, tail
# 0.83): their own curve (kind="orgs").
FALLBACK = {"e5": (0.92, 0.035), "use": (0.55, 0.12), "minilm": (0.45, 0.12)}
FALLBACK_ORGS = {"e5": (0.865, 0.015), "use": (0.55, 0.12), "minilm": (0.45, 0.12)}
BAND_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}


@dataclass(frozen=True)
class Calibrated:
    probability: float  # 0..1
    band: str  # high | medium | low

    @property
    def percent(self) -> int:
        return round(100 * self.probability)

    @property
    def label(self) -> str:
        return str(BAND_LABELS[self.band])

    def __str__(self) -> str:  # 「高 82%」
        return f"{self.label} {self.percent}%"

    def as_json(self) -> dict:
        return {"probability": round(self.probability, 4), "band": self.band}


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def band_of(probability: float) -> str:
    high = _env_float("OIMS_BAND_HIGH", 0.6)
    medium = _env_float("OIMS_BAND_MEDIUM", 0.3)
    return "high" if probability >= high else "medium" if probability >= medium else "low"


def _encoder_family() -> str:
    name = ""
    if has_app_context():
        name = (current_app.config.get("OIMS_ENCODER") or "").lower()
    if "use" in name:
        return "use"
    if "minilm" in name:
        return "minilm"
    return "e5"


def fallback_probability(score: float, family: str | None = None, kind: str = "") -> float:
    """Logistic on the raw hybrid score (used until the matcher's calibration lands).

    `kind`: "orgs" for organisations ranked by their capability profiles."""
    centre, scale = (FALLBACK_ORGS if kind == "orgs" else FALLBACK)[family or _encoder_family()]
    centre = _env_float("OIMS_CALIBRATION_CENTRE", centre)
    scale = _env_float("OIMS_CALIBRATION_SCALE", scale) or scale
    z = max(-40.0, min(40.0, (float(score) - centre) / scale))
    return 1.0 / (1.0 + math.exp(-z))


def calibrate(result, kind: str = "") -> Calibrated | None:
    """(probability, band) of a matcher result, a (id, score, ...) tuple or a bare score.

    `kind` picks the fallback curve ("orgs": capability profiles). None when there
    is no score (not ranked yet)."""
    if result is None:
        return None
    probability = getattr(result, "probability", None)
    band = getattr(result, "band", None)
    if probability is None:
        if isinstance(result, (int, float)):
            score = result
        elif isinstance(result, tuple) and len(result) > 1 and not hasattr(result, "score"):
            score = result[1]
        else:
            score = getattr(result, "score", None)
        if score is None or not math.isfinite(float(score)):
            return None
        probability = fallback_probability(score, kind=kind)
    probability = min(1.0, max(0.0, float(probability)))
    if band not in BANDS:
        band = band_of(probability)
    return Calibrated(probability, band)
