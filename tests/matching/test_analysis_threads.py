"""The analyser is used by the app's index worker thread while request threads
highlight reasons: concurrent use must neither raise nor mix up results."""

from __future__ import annotations

import threading

from matching.analysis import tokens

TEXTS = [
    "アルミニウム合金の精密切削加工と冷却プレートのろう付け技術",
    "Precision cleaning of aluminium parts for EV inverters",
    "熱中症対策のウェアラブルセンサーと見守りサービス",
]


def test_threads_analyse_concurrently_with_the_same_results():
    expected = {i: tokens(f"{text} {i}") for i, text in enumerate(TEXTS * 40)}
    errors: list[str] = []
    mismatches: list[int] = []
    start = threading.Barrier(6)

    def run(offset: int) -> None:
        start.wait()
        try:
            for i, text in list(enumerate(TEXTS * 40))[offset::2]:
                # a new string each time: the per-text cache must not hide the tokenizer
                if tokens(f"{text} {i}" + " " * (offset + 1)) != expected[i]:
                    mismatches.append(i)
        except Exception as exc:  # noqa: BLE001 - the assertion reports it
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(k % 2,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert mismatches == []
