"""Build and check the translation catalogues.

Translations live in `oims/translations/<lang>/parts/*.po`, one file per
feature, so features can be translated independently. `build` merges the
parts into `messages.po` and compiles `messages.mo` (run by `make`);
`missing` lists source strings with no translation (a test keeps it empty).

    python -m oims.i18n_tool build
    python -m oims.i18n_tool missing [--write PART]
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGS = ("ja", "en")
METHOD_MAP = [("oims/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _directory_filter(dirpath: str) -> bool:
    name = Path(dirpath).name
    return not (name.startswith(".") or name in {"__pycache__", "node_modules", "translations"})


def extract() -> Catalog:
    catalog = Catalog(locale="en")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords=KEYWORDS, options_map={"templates/**.html": {}},
        # Babel skips folders starting with "_" by default; templates/_partials must be read.
        directory_filter=_directory_filter,
    ):
        if filename.startswith(("oims/translations", ".venv")):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def merged(lang: str) -> Catalog:
    out = Catalog(locale=lang)
    for part in sorted((TRANSLATIONS / lang / "parts").glob("*.po")):
        with part.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        for msg in cat:
            if msg.id and msg.string:
                out.add(msg.id, msg.string, context=msg.context)
    return out


def build() -> None:
    for lang in LANGS:
        parts = TRANSLATIONS / lang / "parts"
        if not parts.exists():
            continue
        cat = merged(lang)
        target = TRANSLATIONS / lang / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        with (target / "messages.po").open("wb") as fh:
            write_po(fh, cat)
        with (target / "messages.mo").open("wb") as fh:
            write_mo(fh, cat)


def missing(lang: str = "ja") -> list[str]:
    have = merged(lang)
    return sorted({m.id if isinstance(m.id, str) else m.id[0] for m in extract()
                   if m.id and (m.id not in have or not have[m.id].string)})


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "build"
    if cmd == "build":
        build()
        return 0
    if cmd == "missing":
        ids = missing()
        if "--write" in argv:
            # Write a part file with the missing ids, for a translator to fill in.
            part = TRANSLATIONS / "ja" / "parts" / (argv[argv.index("--write") + 1] + ".po")
            cat = Catalog(locale="ja")
            if part.exists():
                with part.open("rb") as fh:
                    cat = read_po(fh, locale="ja")
            for mid in ids:
                if mid not in cat:
                    cat.add(mid, "")
            with part.open("wb") as fh:
                write_po(fh, cat, width=0)
        print("\n".join(ids))
        print(f"{len(ids)} missing", file=sys.stderr)
        return 1 if ids else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


def write_part(name: str, translations: dict[str, str], lang: str = "ja") -> Path:
    """Add or update translations in a part file (used to seed a feature's part)."""
    part = TRANSLATIONS / lang / "parts" / f"{name}.po"
    part.parent.mkdir(parents=True, exist_ok=True)
    cat = Catalog(locale=lang)
    if part.exists():
        with part.open("rb") as fh:
            cat = read_po(fh, locale=lang)
    for msgid, msgstr in translations.items():
        cat.add(msgid, msgstr)
    with part.open("wb") as fh:
        write_po(fh, cat, width=0, omit_header=False, sort_output=True)
    return part
