"""Translations (gettext catalogs in ``locales/``), CLDR plurals, dates and country names.

There is no global ``_``: code asks for a ``Translator`` for the reader's language and calls
``t._("...")`` / ``t.n_("one", "many", n)``. ``N_`` only marks a string for extraction.
The ``.po`` files are compiled in memory when first used, so no build step is needed."""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: tuple[str, ...] = ("lv", "en")
DEFAULT_LANGUAGE = "lv"
# The catalogues are package data of the top-level ``locales`` package, found the same way in a
# checkout and in an installed wheel.
LOCALES_DIR: Traversable = files("locales")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translated later with t._)."""
    return message


def normalise_language(code: str | None) -> str:
    """Map a Telegram ``language_code`` (``lv``, ``en-GB``...) to a supported language."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if base in LANGUAGES:
            return base
        return "en"
    return DEFAULT_LANGUAGE


def catalog_path(lang: str) -> Traversable:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(lang: str) -> gettext.GNUTranslations:
    with catalog_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Translator:
    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self.locale = Locale.parse(lang)
        self._t = _translations(lang)

    def _(self, message: str, /, **values: object) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=n, **values)

    def country(self, code: str) -> str:
        return self.locale.territories.get(code.upper(), code.upper())

    def datetime(self, moment: dt.datetime, tz: str | dt.tzinfo = "Europe/Riga") -> str:
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        local = moment.astimezone(zone)
        return f"{format_skeleton('MMMd', local, locale=self.locale)} {format_time(local, 'HH:mm', locale=self.locale)}"

    def time(self, moment: dt.datetime, tz: str | dt.tzinfo = "Europe/Riga") -> str:
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return format_time(moment.astimezone(zone), "HH:mm", locale=self.locale)

    def date_only(self, day: dt.date) -> str:
        return format_skeleton("yMMMd", day, locale=self.locale)


@cache
def translator(lang: str | None) -> Translator:
    return Translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
