"""Catalog maintenance (``make locales``): merge ``locales/messages.pot`` into the lv and en
catalogs. English is the source language, so its new entries are filled from the msgids
(English wording changed in review lives in the en msgstr and is kept); Latvian
entries that are new are left empty for a translator (and the catalog test fails until they
are filled)."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LANGUAGES

# The checkout's catalogues, which this tool rewrites (an installed copy is never edited).
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def catalog_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


# CLDR's Latvian plural categories, in this order: zero (0, 10-20, 30, 100, 111...),
# one (1, 21, 31, 101...), other (2-9, 22-29...). Babel's default header uses an older rule.
PLURAL_FORMS = {
    "lv": "nplurals=3; plural=(n%10==0 || (n%100>=11 && n%100<=19) ? 0 : n%10==1 && n%100!=11 ? 1 : 2);",
    "en": "nplurals=2; plural=(n != 1);",
}


def _load(lang: str) -> Catalog:
    path = catalog_path(lang)
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=lang)
    return Catalog(locale=lang, domain=DOMAIN)


def update() -> int:
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    missing = 0
    for lang in LANGUAGES:
        catalog = _load(lang)
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if lang == "en" and not all(strings):  # new entries; reviewed English wording is kept
                message.string = tuple(message.id) if message.pluralizable else message.id
            message.flags.discard("fuzzy")
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                missing += 1
                print(f"{lang}: untranslated: {message.id if isinstance(message.id, str) else message.id[0]!r}")
        catalog.obsolete.clear()
        path = catalog_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=0, no_location=True, omit_header=False, sort_output=True)
        text = path.read_text("utf-8")
        text = re.sub(r'"Plural-Forms: [^"]*\\n"', f'"Plural-Forms: {PLURAL_FORMS[lang]}\\\\n"', text)
        path.write_text(text, "utf-8")
    print(f"catalogs updated; {missing} entr{'y' if missing == 1 else 'ies'} to translate")
    return 0


# Countries' names in their official languages, for matching what people type (CLDR via Babel).
COUNTRY_NAMES = Path(__file__).resolve().parent / "data" / "country_names.csv"


def write_country_names(path: Path = COUNTRY_NAMES) -> int:
    """Rewrite ``bot/data/country_names.csv`` from Babel's CLDR data (after upgrading Babel)."""
    from bot.domain.places.countries import cldr_official_names

    rows = cldr_official_names()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("country", "language", "name"))
        writer.writerows(rows)
    print(f"{path}: {len(rows)} names")
    return 0


if __name__ == "__main__":
    commands = {"update": update, "country-names": write_country_names}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print("usage: python -m bot.i18n_tools update | country-names", file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
