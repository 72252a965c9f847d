"""法人番号 (corporate number): 13 digits, the first a check digit.

The National Tax Agency's rule (法人番号の指定等に関する省令 第2条): with the
12-digit base number read from its lowest digit as P1..P12, and Qn = 1 for odd
n and 2 for even n, the check digit is 9 - (Σ Pn×Qn mod 9).
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐－ー−]")


def normalise(raw: object) -> str:
    """Full-width digits, hyphens and spaces as people type them → plain digits.

    Excel hands numbers over as int/float: 1234567890123.0 becomes its digits."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(raw if raw is not None else "")))


def check_digit(base12: str) -> int:
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def is_valid(number: str) -> bool:
    return len(number) == 13 and number.isascii() and number.isdigit() and int(number[0]) == check_digit(number[1:])


def with_check_digit(base12: str) -> str:
    """A valid 13-digit number from any 12 digits (templates, tests, benchmarks)."""
    return f"{check_digit(base12)}{base12}"
