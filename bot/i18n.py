"""Translations (gettext catalogs in ``locales/``), CLDR plurals, dates and country names.

There is no global ``_``: code asks for a ``Translator`` for the reader's language and calls
``t._("...")`` / ``t.n_("one", "many", n)``. ``N_`` only marks a string for extraction.
The ``.po`` files are compiled in memory when first used, so no build step is needed.

The languages the bot speaks are ``LANGUAGES``, below, and nothing else: adding one is a
catalogue ``locales/<code>/LC_MESSAGES/messages.po`` and one line there (``make locales``
creates the catalogue; its plural forms come from CLDR). Strings a catalogue does not
translate fall back to English, the language of the msgids."""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeGuard
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.plural import to_gettext

from bot.domain.languages import DEFAULT_LANGUAGE
from bot.domain.places.timezones import LATVIA_TZ


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, as Telegram's ``language_code`` starts
    name: str  # the language's name in itself, for the language buttons


#: The languages the bot speaks, in the order their buttons and texts are offered.
LANGUAGES: tuple[Language, ...] = (
    Language("lv", "Latviešu"),
    Language("en", "English"),
)
SOURCE_LANGUAGE = "en"  # the msgids' language: what an untranslated string falls back to
# The catalogues are package data of the top-level ``locales`` package, found the same way in a
# checkout and in an installed wheel.
LOCALES_DIR: Traversable = files("locales")
DOMAIN = "messages"

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALES_DIR",
    "N_",
    "SOURCE_LANGUAGE",
    "Language",
    "Translator",
    "catalog_path",
    "is_supported",
    "language_codes",
    "language_name",
    "languages",
    "normalise_language",
    "plural_forms",
    "translator",
    "use_languages",
]


@dataclass
class _Enabled:
    languages: tuple[Language, ...]
    locales_dir: Traversable


_enabled = _Enabled(LANGUAGES, LOCALES_DIR)


def languages() -> tuple[Language, ...]:
    """The languages enabled now: ``LANGUAGES`` unless ``use_languages`` changed them."""
    return _enabled.languages


def language_codes() -> tuple[str, ...]:
    return tuple(lang.code for lang in _enabled.languages)


def is_supported(code: str | None) -> TypeGuard[str]:
    return code is not None and code in language_codes()


def language_name(code: str) -> str:
    """The language's name in itself ("Latviešu"); the code if it is not enabled."""
    return next((lang.name for lang in _enabled.languages if lang.code == code), code)


def use_languages(enabled: Iterable[Language], locales_dir: Traversable | Path | None = None) -> None:
    """Speak these languages, from the catalogues in ``locales_dir`` (default: the package's).
    For tests and tools that try a language out; the caches of compiled catalogues and
    translators are emptied."""
    chosen = tuple(enabled)
    codes = [lang.code for lang in chosen]
    if DEFAULT_LANGUAGE not in codes or SOURCE_LANGUAGE not in codes:
        raise ValueError(f"the languages must include {DEFAULT_LANGUAGE!r} and {SOURCE_LANGUAGE!r}")
    _enabled.languages = chosen
    _enabled.locales_dir = LOCALES_DIR if locales_dir is None else locales_dir
    _translations.cache_clear()
    translator.cache_clear()


def plural_forms(code: str) -> str:
    """The gettext ``Plural-Forms`` header of a language, from CLDR (categories in CLDR order:
    zero, one, two, few, many, other)."""
    return to_gettext(Locale.parse(code).plural_form)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translated later with t._)."""
    return message


def normalise_language(code: str | None) -> str:
    """Map a Telegram ``language_code`` (``lv``, ``en-GB``...) to a supported language:
    English for one the bot does not speak, Latvian when Telegram does not say."""
    if code:
        base = code.split("-")[0].split("_")[0].lower()
        if is_supported(base):
            return base
        return SOURCE_LANGUAGE
    return DEFAULT_LANGUAGE


def catalog_path(lang: str) -> Traversable:
    return _enabled.locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(lang: str) -> gettext.GNUTranslations:
    with catalog_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)  # untranslated entries are left out, so they fall back
    buf.seek(0)
    compiled = gettext.GNUTranslations(buf)
    if lang != SOURCE_LANGUAGE:
        compiled.add_fallback(_translations(SOURCE_LANGUAGE))
    return compiled


class Translator:
    def __init__(self, lang: str) -> None:
        if not is_supported(lang):
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

    def language(self, code: str) -> str:
        """A language's name in the reader's language ("lv" for an English reader: "Latvian")."""
        return self.locale.languages.get(code) or language_name(code)

    def country(self, code: str) -> str:
        return self.locale.territories.get(code.upper(), code.upper())

    def datetime(self, moment: dt.datetime, tz: str | dt.tzinfo = LATVIA_TZ) -> str:
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        local = moment.astimezone(zone)
        return f"{format_skeleton('MMMd', local, locale=self.locale)} {format_time(local, 'HH:mm', locale=self.locale)}"

    def time(self, moment: dt.datetime, tz: str | dt.tzinfo = LATVIA_TZ) -> str:
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return format_time(moment.astimezone(zone), "HH:mm", locale=self.locale)

    def date_only(self, day: dt.date) -> str:
        return format_skeleton("yMMMd", day, locale=self.locale)


@cache
def translator(lang: str | None) -> Translator:
    return Translator(lang if is_supported(lang) else DEFAULT_LANGUAGE)
