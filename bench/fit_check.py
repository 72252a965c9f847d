"""Fit check: speed on a 2,000-character draft and whether an unrelated draft scores low.

    .venv/bin/python bench/fit_check.py [--encoder use] [--repeat 5]

Measures the library path the app uses (oims/matchfeed/fitcheck.py): the need's
requirements prepared once (the app caches them per need version), then
  cold    a new 2,000-character draft (every sentence encoded),
  typing  the same draft with one sentence added (only that sentence encoded),
and, for comparison, the previous implementation's cost (need + draft encoded
on every call). Scores: related / partial / unrelated drafts, Japanese and English.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching import get_encoder
from matching.fit import SentenceCache, fit_check, prepare_need

NEED = """EV用インバータの水冷式冷却プレートの共同開発
電動車のインバータ向けに、アルミニウム製の水冷式冷却プレートを共同開発できるパートナーを探しています。
真空ろう付けまたは摩擦攪拌接合（FSW）による流路形成と、量産を見据えた精密切削加工ができること。
熱抵抗を現行比20%下げ、量産コストは現行以下に抑えたい。
冷却プレート ろう付け アルミニウム"""
DRAFTS = {
    "related (ja)": "当社はアルミニウムの真空ろう付けと精密切削加工を得意とし、EV向けの水冷式冷却プレートを量産しています。"
                    "流路設計の最適化により熱抵抗を25%低減した実績があります。量産時の加工コストも自動化で抑えられます。",
    "related (en)": "We manufacture aluminium liquid cold plates for EV inverters using vacuum brazing and precision CNC "
                    "machining. Our channel design cut thermal resistance by 25%. Automated machining keeps "
                    "mass-production cost low.",
    "partial (ja)": "当社はアルミニウムの精密切削加工を行っています。5軸マシニングセンタで量産部品を加工します。",
    "unrelated (ja)": "当社は作業服向けの繊維素材を開発し、吸汗速乾のテキスタイルを提供しています。全国の工場で採用実績があります。"
                      "洗濯耐久性にも優れ、価格も手頃です。",
    "unrelated (en)": "We provide HACCP hygiene consulting for food factories and design packaging lines. "
                      "Our team trains staff on cleaning procedures.",
}
FILLER = ["当社は{}年に創業し、アルミ部品の切削加工を続けてきました。", "試作から量産まで一貫して対応できる体制を整えています。",
          "品質管理はISO9001に基づき、全数検査を行っています。", "設計段階から熱解析を行い、流路形状を提案します。",
          "ろう付け炉を{}基保有し、月産{}枚の生産能力があります。", "納期は試作で{}週間、量産で{}か月が目安です。"]


def draft_2000(seed: int) -> str:
    out, i = [], 0
    while sum(len(s) for s in out) < 2000:
        out.append(FILLER[i % len(FILLER)].format(seed + i, i + 2, (seed + i) * 10))
        i += 1
    return "".join(out)[:2000]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoder", default="use")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    enc = get_encoder(args.encoder)
    enc.encode_queries(["warm-up"])
    t = time.perf_counter()
    prepared = prepare_need(NEED, enc)
    print(f"encoder {enc.name}; need prepared once in {1000 * (time.perf_counter() - t):.0f} ms")
    cache = SentenceCache()
    cold, typing, old, cold_cpu = [], [], [], []
    for r in range(args.repeat):
        draft = draft_2000(100 * r)
        t, c = time.perf_counter(), time.process_time()
        fit_check(NEED, draft, enc, prepared=prepared, cache=cache)
        cold.append(time.perf_counter() - t)
        cold_cpu.append(time.process_time() - c)
        t = time.perf_counter()
        fit_check(NEED, draft + f"追加の説明{r}です。", enc, prepared=prepared, cache=cache)
        typing.append(time.perf_counter() - t)
        t = time.perf_counter()
        enc.encode_queries([s for s in NEED.splitlines()] + [draft[i:i + 40] for i in range(0, 2000, 40)])
        old.append(time.perf_counter() - t)
    ms = lambda xs: f"median {1000 * statistics.median(xs):.0f} ms, max {1000 * max(xs):.0f} ms"
    print(f"2,000-char draft, cold (all sentences encoded): {ms(cold)} (CPU {ms(cold_cpu)}; "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"2,000-char draft, typing (one new sentence):    {ms(typing)}")
    print(f"previous approach (need + draft every call):    {ms(old)}")
    print("\nscores (share of requirements addressed):")
    for name, text in DRAFTS.items():
        res = fit_check(NEED, text, enc, prepared=prepared)
        print(f"  {name:15s} {100 * res.score:5.1f} %  missing {len(res.missing)}/{len(res.details)}")


if __name__ == "__main__":
    main()
