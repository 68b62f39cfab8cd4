"""The offline demo (``python -m bot demo``), smaller and faster: it must finish cleanly and
its report must add up."""

from __future__ import annotations

import io

from bot.i18n import language_codes, translator
from bot.sandbox.demo import demo

CLOSED = "This call is already closed. Thank you!"


async def test_demo_small_population_is_consistent():
    out = io.StringIO()
    report = await demo(24, concurrency=24, pace=0.4, speed=0.2, transcripts=3, out=out)
    text = out.getvalue()

    assert report.problems == [], text
    assert report.exit_code == 0
    assert report.registered == 24 and report.registration_failed == 0
    assert report.by_language.get("lv", 0) + report.by_language.get("en", 0) == 24
    assert report.in_latvia + report.abroad == 24 and report.abroad >= 1

    # a second coordinator approved the alert before anything was sent, and its author was told
    assert report.approved is not None and f"#{report.alert_id}" in report.approved
    # everyone in the audience got exactly one alert message, and every message was sent
    assert report.recipients > 0
    assert sorted(report.alert_messages_per_recipient.values()) == [1] * report.recipients
    assert report.delivery_429 == 0
    # the answers add up, the quota holds, and the closing notices match the answers
    assert sum(report.answers.values()) == report.recipients
    assert report.answers["accepted"] <= report.need
    assert report.thanked == report.answers["accepted"]
    assert report.released == report.answers["standby"]
    assert report.closing_edits == report.recipients + report.reminders_sent  # every message with buttons
    assert report.followups_sent == report.followup_announced
    # a silent person taps "I can help" as the call closes, and is told it is closed (in their language)
    assert report.late_tap_answer in {translator(lang)._(CLOSED) for lang in language_codes()}
    assert report.errors_logged == 0

    # the story was told: three transcripts (lv, en, abroad), the preview, the report
    assert text.count("┌──") == 3
    assert "cmp:send" not in text and "[🚀" in text
    assert "━━ Report" in text and "All consistent" in text
    assert "Traceback" not in text
