"""Catalog maintenance (``make locales``): add the data files' labels to
``locales/messages.pot`` (which ``pybabel extract`` filled from the code), then merge the
template into the catalogue of every language in ``bot.i18n.LANGUAGES``. English is the source
language, so its empty entries are filled from the msgids (English wording changed in review
lives in the en msgstr and is kept); entries of other languages that are new are left empty for
a translator (and the catalog test fails until they are filled). Plural forms come from CLDR."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from bot.domain import places, skills
from bot.i18n import DOMAIN, LANGUAGES, SOURCE_LANGUAGE, plural_forms

# The checkout's catalogues, which this tool rewrites (an installed copy is never edited).
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
TEMPLATE = LOCALES_DIR / "messages.pot"


def catalog_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def data_messages() -> dict[str, str]:
    """The msgids that come from data files rather than code, each with where it comes from:
    the skill labels (``bot/data/skills.csv``) and the municipalities' English names
    (``bot/data/latvia_municipalities.csv``; Latvian catalogues give the official name)."""
    found: dict[str, str] = {}
    for s in skills.skills():
        found.setdefault(s.label, f"bot/data/skills.csv: {s.code}")
    for m in places.municipalities():
        found.setdefault(m.name_en, f"bot/data/latvia_municipalities.csv: {m.atvk} {m.name_lv}")
    return found


def add_data_messages(template: Catalog) -> None:
    for msgid, origin in data_messages().items():
        if msgid not in template:
            template[msgid] = Message(msgid, auto_comments=[origin])


def _load(lang: str) -> Catalog:
    path = catalog_path(lang)
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=lang)
    return Catalog(locale=lang, domain=DOMAIN)


def fill_from_msgid(message: Message) -> None:
    """English: every empty form takes the msgid's wording; filled forms stay as reviewed."""
    if isinstance(message.id, str):
        if not message.string:
            message.string = message.id
        return
    ids = tuple(str(i) for i in message.id)
    given = message.string if isinstance(message.string, tuple) else (message.string or "",)
    strings = tuple(str(s) for s in given) + ("",) * (len(ids) - len(given))
    message.string = tuple(s or ids[min(i, len(ids) - 1)] for i, s in enumerate(strings))


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write a language's catalogue as ``make locales`` does, with CLDR's plural forms (babel's
    own header uses older rules for some languages)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, no_location=True, omit_header=False, sort_output=True)
    text = path.read_text("utf-8")
    header = f'"Plural-Forms: {plural_forms(str(catalog.locale))}\\n"'
    text = re.sub(r'"Plural-Forms: [^"]*\\n"', header.replace("\\", r"\\"), text)  # a backslash doubled
    path.write_text(text, "utf-8")


def update() -> int:
    with TEMPLATE.open("rb") as fh:
        template = read_po(fh)
    add_data_messages(template)
    with TEMPLATE.open("wb") as fh:
        write_po(fh, template, no_location=True, sort_output=True)
    missing = 0
    for language in LANGUAGES:
        lang = language.code
        catalog = _load(lang)
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if not message.id:
                continue
            if lang == SOURCE_LANGUAGE:
                fill_from_msgid(message)
            message.flags.discard("fuzzy")
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                missing += 1
                print(f"{lang}: untranslated: {message.id if isinstance(message.id, str) else message.id[0]!r}")
        catalog.obsolete.clear()
        write_catalog(catalog, catalog_path(lang))
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
