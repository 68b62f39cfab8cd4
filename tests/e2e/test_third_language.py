"""A third language is a catalogue and one line in ``bot.i18n.LANGUAGES``: here Ukrainian, from a
small test catalogue (a few strings translated, the rest falls back to English), enabled with
``use_languages``. Registration and an alert run in it through the sandbox, with no migration
and no other change."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, Language, plural_forms, use_languages
from bot.i18n_tools import write_catalog
from bot.sandbox.scenarios import has_button, register_volunteer
from tests.conftest import COORDINATOR_ID
from tests.e2e.seed import alert_messages

ROOT = Path(__file__).resolve().parents[2]
UKRAINIAN = {
    "Hello! Choose your language.": "Вітаю! Оберіть мову.",
    "Language: {language}": "Мова: {language}",
    "First aid": "Перша допомога",
    "✅ I can help": "✅ Можу допомогти",
    "Care and health": "Догляд і здоров'я",
}


@pytest.fixture
def ukrainian(tmp_path: Path) -> Iterator[None]:
    """The package's catalogues plus locales/uk, with Ukrainian in the list, for one test."""
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales)
    with (locales / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    catalog = Catalog(locale="uk", domain="messages")
    for message in template:
        if message.id:
            catalog.add(message.id, UKRAINIAN.get(message.id, "") if isinstance(message.id, str) else ())
    write_catalog(catalog, locales / "uk" / "LC_MESSAGES" / "messages.po")
    use_languages((*LANGUAGES, Language("uk", "Українська")), locales)
    try:
        yield
    finally:
        use_languages(LANGUAGES)


def test_the_test_catalogue_has_cldrs_ukrainian_plurals(ukrainian: None, tmp_path: Path) -> None:
    with (tmp_path / "locales" / "uk" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="uk")
    assert catalog.num_plurals == 4
    assert catalog.plural_forms == plural_forms("uk")


async def test_registration_and_an_alert_in_a_third_language(ukrainian, sandbox, start_bot, db_path) -> None:
    bot = await start_bot()
    u = sandbox.user(301, "Олена", "Коваленко", language_code="uk")
    await u.send("/start")
    hello = await u.wait_for(has_button("lang:"))
    assert hello.text.splitlines()[0] == "Вітаю! Оберіть мову."  # Telegram said uk, so Ukrainian first
    assert hello.button_labels[0] == "Українська"
    summary = await register_volunteer(u, lang="uk", place="Cēsis", skills=("first_aid",))
    assert "Мова: Українська" in summary.text
    assert "Перша допомога" in summary.text  # a skill label from the catalogue
    assert "Cēsis Municipality" in summary.text  # not translated: the English name
    assert "Any time" in summary.text  # not translated: English
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT language, status FROM people WHERE external_id = '301'").fetchone() == (
            "uk",
            "active",
        )

    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await coord.send("/alert")
    menu = await coord.wait_for("New alert")
    assert "(lv 0, en 0, uk 1)" in menu.text
    await coord.press("cmp:v:langs")
    langs = await coord.wait_for_edit(coord.last, "Which languages")
    assert [label for row in langs.buttons for label, _ in row][:3] == ["Latviešu", "English", "Українська"]
    await coord.press("cmp:menu")
    await coord.wait_for_edit(coord.last, "New alert")
    await coord.press("cmp:text")
    await coord.wait_for("Type the alert text in Latvian")
    await coord.send("Plūdi Cēsīs")
    await coord.wait_for("Now the English version")
    await coord.send("Flood in Cēsis")
    await coord.wait_for("Now the Ukrainian version")
    await coord.send("Повінь у Цесісі")
    menu = await coord.wait_for("Text (uk)")
    await coord.press("cmp:preview")
    preview = await coord.wait_for("Preview")
    assert "Повінь у Цесісі" in preview.text and "Plūdi" not in preview.text  # only uk readers are in the audience
    await coord.press("🚀")
    await coord.wait_for("📤 Delivery")

    await u.wait_for(lambda m: m in alert_messages(u), timeout=10)
    (received,) = alert_messages(u)
    assert "Повінь у Цесісі" in received.text and "Flood" not in received.text
    assert "✅ Можу допомогти" in received.button_labels
    assert "URGENT" in received.text  # not translated: English
    alert_id = await bot.services.alerts.latest_id()
    assert alert_id is not None
    with sqlite3.connect(db_path) as conn:
        (texts,) = conn.execute("SELECT texts FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    assert texts == '{"lv": "Plūdi Cēsīs", "en": "Flood in Cēsis", "uk": "Повінь у Цесісі"}'


async def test_the_same_text_for_everyone_skips_the_remaining_languages(ukrainian, sandbox, start_bot) -> None:
    await start_bot()
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await coord.send("/alert")
    await coord.wait_for("New alert")
    await coord.press("cmp:text")
    await coord.wait_for("Type the alert text in Latvian")
    await coord.send("Visiem viens teksts")
    await coord.wait_for("Now the English version")
    await coord.press("cmp:same")
    menu = await coord.wait_for_edit(coord.last, "New alert")
    assert "Text (lv): Visiem viens teksts" in menu.text
    assert "Text (en)" not in menu.text and "Text (uk)" not in menu.text
