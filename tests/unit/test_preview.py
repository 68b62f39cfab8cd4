"""The coordinator's preview: every recipient language, and Telegram's length limit."""

from __future__ import annotations

from bot.domain.alerts import AlertDraft, Audience, Severity
from bot.domain.people import Address, LocationKind, Person, PersonStatus
from bot.i18n import translator
from bot.messenger.alert_render import preview_texts


def person(i: int, lang: str) -> Person:
    return Person(
        id=i,
        address=Address.telegram(i),
        status=PersonStatus.ACTIVE,
        language=lang,
        location_kind=LocationKind.LV,
        municipality="0001000",
        country="LV",
    )


def utf16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def test_short_alert_is_one_message_in_the_recipients_languages():
    draft = AlertDraft(texts={"lv": "Smilšu maisi pie tilta"}, severity=Severity.CRITICAL, need=3)
    en_only = preview_texts(draft, Audience([person(1, "en")]), "Kārlis", "LAPAS", translator("lv"), "Europe/Riga", 30)
    assert len(en_only) == 1
    body, summary = en_only[0].split(translator("lv")._("<b>Who gets it</b>"))
    assert "CRITICAL" in body and translator("lv")._("CRITICAL") not in body
    assert translator("lv")._("CRITICAL") in summary
    assert (
        "[✅ I can help]" in en_only[0] and "Nepieciešami: 3 cilvēki" in en_only[0]
    )  # the summary in the coordinator's language


def test_long_bilingual_alert_is_split_so_every_message_fits():
    draft = AlertDraft(texts={"lv": "Ā" * 3400, "en": "😀" * 1700}, need=2)
    audience = Audience([person(1, "lv"), person(2, "en")], paused=1)
    texts = preview_texts(draft, audience, "Kārlis", "LAPAS", translator("en"), "Europe/Riga", 30)
    assert len(texts) == 3
    assert "Ā" * 3400 in texts[0] and "[✅ Varu palīdzēt]" in texts[0]
    assert "😀" * 1700 in texts[1] and "[✅ I can help]" in texts[1]
    assert (
        texts[2].startswith("<b>Preview</b>: the messages above")
        and "Needed: 2 people" in texts[2]
        and "1 paused" in texts[2]
    )
    assert all(utf16(t) <= 4096 for t in texts)
