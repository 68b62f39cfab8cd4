"""The catalogs are complete, agree with the code, and plural forms follow CLDR."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.domain import places
from bot.i18n import LANGUAGES, LOCALES_DIR, catalog_path, plural_forms, translator
from bot.i18n_tools import data_messages, fill_from_msgid

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None}
CODES = [lang.code for lang in LANGUAGES]


def load(lang: str):
    with catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def code_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _ctx in (
            (f, ln, m, c, x) for f, ln, m, c, x in extract_from_dir(ROOT / folder, keywords=KEYWORDS)
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found | set(data_messages())  # the skill labels and municipality names count too


def test_template_matches_the_code():
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    in_code = code_messages()
    assert in_code - template == set(), "strings missing from locales/messages.pot: run `make locales`"
    assert template - in_code == set(), "stale strings in locales/messages.pot: run `make locales`"


@pytest.mark.parametrize("lang", CODES)
def test_catalog_is_complete_with_matching_placeholders(lang):
    catalog = load(lang)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert code_messages() <= ids, f"{lang}: missing entries: {sorted(code_messages() - ids)[:5]}"
    problems = []
    for m in catalog:
        if not m.id:
            continue
        source = m.id if isinstance(m.id, str) else m.id[1]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all(strings):
            problems.append(f"untranslated: {source!r}")
            continue
        expected = set(PLACEHOLDER.findall(source))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) != expected:
                problems.append(f"placeholders differ: {source!r} -> {s!r}")
            if sorted(re.findall(r"</?\w+", s)) != sorted(re.findall(r"</?\w+", source)):
                problems.append(f"HTML tags differ: {source!r} -> {s!r}")
        if isinstance(m.string, tuple):
            assert len(m.string) == catalog.num_plurals, source
    assert problems == []


@pytest.mark.parametrize("lang", CODES)
def test_plural_forms_are_cldrs(lang):
    assert load(lang).plural_forms == plural_forms(lang)


def test_data_labels_are_in_the_template():
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert "First aid" in template and "Cēsis Municipality" in template and "Care and health" in template
    assert set(data_messages()) <= template


def test_municipalities_are_named_officially_in_latvian_and_in_english_otherwise():
    lv, en = translator("lv"), translator("en")
    assert [lv._(m.name_en) for m in places.municipalities()] == [m.name_lv for m in places.municipalities()]
    assert [en._(m.name_en) for m in places.municipalities()] == [m.name_en for m in places.municipalities()]


def test_make_locales_fills_english_only_where_it_is_empty():
    reviewed = Message("🕐 In 30 min", "🕐 Ready in 30 min")
    new = Message("Only in the code", "")
    plural = Message(("{n} paused", "{n} people paused"), ("", "{n} paused, reviewed"))
    for message in (reviewed, new, plural):
        fill_from_msgid(message)
    assert reviewed.string == "🕐 Ready in 30 min"
    assert new.string == "Only in the code"
    assert plural.string == ("{n} paused", "{n} paused, reviewed")


def cldr_category(n: int) -> str:
    return Locale("lv").plural_form(n)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 10, 11, 12, 19, 20, 21, 22, 100, 101, 111, 121])
def test_latvian_plurals_follow_cldr(n):
    t = translator("lv")
    text = t.n_("👥 {n} person will receive it", "👥 {n} people will receive it", n)
    catalog = load("lv")
    forms = catalog.get(("👥 {n} person will receive it", "👥 {n} people will receive it")).string
    by_category = {"zero": forms[0], "one": forms[1], "other": forms[2]}
    assert text == by_category[cldr_category(n)].format(n=n)


def test_latvian_count_words():
    t = translator("lv")
    words = {
        n: t.n_("👥 {n} person will receive it", "👥 {n} people will receive it", n) for n in (0, 1, 2, 11, 21, 111)
    }
    noun = {n: text.split(str(n), 1)[1].split()[0] for n, text in words.items()}
    assert noun[1] == noun[21] == "cilvēks"  # one
    assert noun[0] == noun[11] == noun[111] == "cilvēku"  # zero
    assert noun[2] == "cilvēki"  # other


def test_dates_and_countries_in_the_readers_language():
    moment = datetime(2026, 12, 24, 16, 30, tzinfo=UTC)
    assert translator("lv").datetime(moment, "Europe/Riga") == "24. dec. 18:30"
    assert translator("en").datetime(moment, "Europe/London") == "Dec 24 16:30"
    assert translator("lv").date_only(moment.date()) == "2026. g. 24. dec."
    assert translator("lv").country("DE") == "Vācija"
    assert translator("en").country("DE") == "Germany"


def test_english_wording_is_the_reviewed_one():
    """English is a catalogue like Latvian: where the wording was reviewed, the msgstr differs from
    the msgid, and `make locales` must keep it."""
    en = translator("en")
    assert [en._(s) for s in ("✅ I can help", "🕐 In 30 min", "🕑 In 2 hours", "❌ I can't")] == [
        "✅ I can help",
        "🕐 Ready in 30 min",
        "🕑 Ready in 2 h",
        "❌ I can't",
    ]
    assert [en._(s) for s in ("Information", "URGENT", "CRITICAL")] == ["Info", "URGENT", "CRITICAL"]
    assert en._("Severity: {severity}", severity="Info") == "Level: Info"
    assert en._("🧪 Drill: yes") == "🧪 Exercise: yes"
    assert en._("Where are you now?") == "Where are you usually based?"


def test_english_says_alert_not_call():
    catalog = load("en")
    strings = [s for m in catalog if m.id for s in (m.string if isinstance(m.string, tuple) else (m.string,))]
    # "to call you" (by phone) is a verb, not the alert; so is the question of issue 11 ("Other
    # organisations in the coalition may call me").
    assert [s for s in strings if re.search(r"\b[Cc]all(?!\s+(?:you|me)\b)\b", s)] == []
    assert [s for s in strings if "people came" in s] == []


def test_english_error_hints_start_with_a_capital():
    catalog = load("en")
    hints = [m.string for m in catalog if isinstance(m.string, str) and " must be " in m.string]
    assert len(hints) >= 4
    assert [h for h in hints if not h[0].isupper()] == []


@pytest.mark.parametrize(
    "gendered",
    ["esat apstiprināts", "neesat atbildējis", "neesat reģistrējušies", "bloķējis", "apturējis", "atteica "],
)
def test_latvian_does_not_assume_the_readers_gender(gendered):
    catalog = load("lv")
    strings = [s for m in catalog if m.id for s in (m.string if isinstance(m.string, tuple) else (m.string,))]
    assert [s for s in strings if gendered in s] == []


def test_latvian_answer_buttons_and_levels():
    lv = translator("lv")
    assert [lv._(s) for s in ("✅ I can help", "🕐 In 30 min", "🕑 In 2 hours", "❌ I can't")] == [
        "✅ Varu palīdzēt",
        "🕐 Varu pēc 30 min",
        "🕑 Varu pēc 2 st.",
        "❌ Nevaru",
    ]
    assert [lv._(s) for s in ("Information", "URGENT", "CRITICAL")] == ["Informatīvs", "STEIDZAMI", "ĻOTI STEIDZAMI"]
    assert lv.n_("Done ({n} chosen)", "Done ({n} chosen)", 0) == "Gatavs (izvēlētas: 0)"
    assert lv.n_("Done ({n} chosen)", "Done ({n} chosen)", 21) == "Gatavs (izvēlētas: 21)"


HALF_WIDTH_BUTTONS = [
    "✅ I agree",
    "No, thanks",
    "🇱🇻 In Latvia",
    "🌍 Abroad",
    "✏️ Name",
    "✏️ Place",
    "✏️ Skills",
    "✏️ Availability",
    "✏️ Quiet hours",
    "✏️ Phone",
    "🌐 Language",
    "✔️ Done",
    "🗑 Yes, erase everything",
    "No, keep it",
    "🗑 Erase my data",
    "🚪 Yes, leave",
    "No, stay",
    "No",
    "↩️ Keep it open",
    "Until I resume",
    "One week",
    "🗣 Languages",
    "📝 Text",
    "⚠️ Severity",
    "👥 Needed",
    "⏰ Answer by",
    "👁 Preview",
    "✖️ Cancel",
    "✏️ Edit",
    "🕐 In 30 min",
    "🕑 In 2 hours",
    "🔔 Remind the silent",
    "📨 Follow-up",
    "🔒 Close",
    "📄 Export",
]


@pytest.mark.parametrize("lang", CODES)
def test_half_width_buttons_fit_a_phone(lang):
    t = translator(lang)
    assert [t._(s) for s in HALF_WIDTH_BUTTONS if len(t._(s)) > 20] == []
