"""The demo data, read from TOML files in ``oims/data/demo/``.

Fictional Japanese organisations, partner needs (ニーズ), proposals (提案) and demo
users, modelled on the regional collaboration cases of the METI study-group deck
(/work/shared/seed). Names, people, patents and URLs are invented (example.jp).

The data is data: edit the TOML files (multi-line Japanese reads well there), not
this module. ``tests/foundation/test_demo_data.py`` checks their invariants
against the app's own vocabulary; ``oims/demo.py`` loads them in order.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"


def read(name: str) -> list[dict]:
    """The rows of ``oims/data/demo/<name>.toml`` (an array of tables named like the file)."""
    with (DEMO_DIR / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)[name]


ORGANISATIONS: list[dict] = read("organisations")
NEEDS: list[dict] = read("needs")
PROPOSALS: list[dict] = read("proposals")
DEMO_USERS: list[dict] = read("users")
