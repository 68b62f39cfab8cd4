"""Verification codes: their format, how they are read, their uniqueness in the database, and
the limit on guessing them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.application.verification import Finding, Verification
from bot.domain.alerts import AlertDraft, Severity
from bot.domain.people import Address
from bot.domain.verification import (
    ALPHABET,
    GUESS_LIMIT,
    GuessLimit,
    code_in_text,
    is_verify_code,
    new_verify_code,
    read_code,
    verify_command,
)
from bot.i18n import translator
from bot.messenger.alert_render import PREVIEW_CODE, alert_body
from db.alerts import AlertRepo
from db.database import Database

AUTHOR = Address.telegram(9000)


def test_a_code_is_six_characters_from_a_to_z_and_2_to_9() -> None:
    assert ALPHABET == "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789"
    codes = {new_verify_code() for _ in range(2000)}
    assert all(re.fullmatch(r"[A-Z2-9]{6}", c) for c in codes)
    assert len(codes) > 1990  # random: of ~1.5e9 codes, 2000 draws rarely repeat one (uniqueness is the index's)
    used = set("".join(codes))
    assert used == set(ALPHABET)  # every character is drawn (12000 draws of 34)
    assert verify_command("K7Q2PX") == "/verify_K7Q2PX"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("K7Q2PX", "K7Q2PX"),
        ("k7q2px", "K7Q2PX"),
        (" k7Q2px ", "K7Q2PX"),
        ("/verify_K7Q2PX", "K7Q2PX"),
        ("/VERIFY_k7q2px@sauciens_bot", "K7Q2PX"),
        ("verify_K7Q2PX", "K7Q2PX"),
        ("K7Q2P", None),  # too short
        ("K7Q2PXX", None),  # too long
        ("K7Q0PX", None),  # 0 and 1 are never in a code
        ("K7Q1PX", None),
        ("K7Q-PX", None),
        ("", None),
        ("/verify_", None),
        ("<b>&", None),
    ],
)
def test_a_typed_code_is_read_in_any_case(typed: str, code: str | None) -> None:
    assert read_code(typed) == code
    assert code is None or is_verify_code(code)


def test_the_code_is_found_in_an_alerts_text() -> None:
    text = alert_body(
        AlertDraft(texts={"lv": "Teksts"}), "Kārlis", "LAPAS", translator("lv"), "Europe/Riga", 3, "K7Q2PX"
    )
    assert text.endswith("/verify_K7Q2PX")
    assert code_in_text(text) == "K7Q2PX"
    assert code_in_text("see /verify_k7q2px.") == "K7Q2PX"
    assert code_in_text("/verify_K7Q2PXX") is None and code_in_text("/verify_K7Q0PX") is None
    assert code_in_text("no code here") is None


def test_the_preview_shows_where_the_code_goes_without_a_command() -> None:
    text = alert_body(
        AlertDraft(texts={"en": "Text"}), "K", "LAPAS", translator("en"), "Europe/Riga", None, PREVIEW_CODE
    )
    assert "<code>/verify_······</code>" in text and code_in_text(text) is None
    # an alert sent before alerts had codes has no verification line
    old = alert_body(AlertDraft(texts={"en": "Text"}), "K", "LAPAS", translator("en"), "Europe/Riga", 4)
    assert "verify" not in old


async def create(repo: AlertRepo, text: str = "Teksts") -> int:
    return await repo.create(
        AlertDraft(texts={"lv": text}, severity=Severity.URGENT),
        author=AUTHOR,
        author_name="Kārlis",
        author_language="lv",
        organisation="LAPAS",
        recipients=[],
        remind_at=None,
    )


async def test_every_alert_gets_its_own_code_and_a_collision_draws_again(db: Database) -> None:
    draws: Iterator[str] = iter(["AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"])
    repo = AlertRepo(db, new_code=lambda: next(draws))
    first, second = await create(repo), await create(repo)
    a, b = await repo.get(first), await repo.get(second)
    assert a is not None and b is not None
    assert (a.verify_code, b.verify_code) == ("AAAAAA", "BBBBBB")  # AAAAAA twice more was taken: drawn again
    found = await repo.by_verify_code("BBBBBB")
    assert found is not None and found.id == second
    assert await repo.by_verify_code("CCCCCC") is None
    assert await db.fetchval("SELECT count(*) FROM alerts") == 2


async def test_an_alert_is_not_created_when_no_free_code_is_drawn(db: Database) -> None:
    repo = AlertRepo(db, new_code=lambda: "AAAAAA")
    await create(repo)
    with pytest.raises(Exception, match="verify_code"):
        await create(repo, "Otrs")
    assert await db.fetchval("SELECT count(*) FROM alerts") == 1  # nothing half-written


async def test_guessing_is_limited_per_person_within_the_window(db: Database) -> None:
    assert GuessLimit(guesses=5, window_seconds=600.0) == GUESS_LIMIT  # the rule as the README states it
    now = [1000.0]
    repo = AlertRepo(db)
    alert = await repo.get(await create(repo))
    assert alert is not None and alert.verify_code is not None
    verification = Verification(repo, GuessLimit(guesses=3, window_seconds=60.0), clock=lambda: now[0])
    guesser, other = Address.telegram(1), Address.telegram(2)

    for typed in ("AAAAAA", "nonsense", "BBBBBB"):  # malformed ones count too
        assert (await verification.check_code(guesser, typed)).finding is Finding.NOT_OURS
        now[0] += 10
    throttled = await verification.check_code(guesser, alert.verify_code)
    assert throttled.finding is Finding.TRY_LATER and throttled.alert is None
    assert throttled.retry_in == pytest.approx(30.0)  # the first miss leaves the window 60 s after it
    assert (await verification.check_code(other, alert.verify_code)).finding is Finding.GENUINE

    now[0] += 30  # the first miss is out of the window: one more try
    assert (await verification.check_code(guesser, alert.verify_code.lower())).finding is Finding.GENUINE
    assert (await verification.check_code(guesser, "CCCCCC")).finding is Finding.NOT_OURS
    assert (await verification.check_code(guesser, alert.verify_code)).finding is Finding.TRY_LATER
    # a genuine code does not count against the person, and a forward is never limited
    forwarded = await verification.check_forwarded(guesser, from_this_bot=True, text=f"/verify_{alert.verify_code}")
    assert forwarded.finding is Finding.GENUINE and forwarded.alert is not None and forwarded.alert.id == alert.id
    fake = await verification.check_forwarded(guesser, from_this_bot=False, text=f"/verify_{alert.verify_code}")
    assert fake.finding is Finding.NOT_FROM_US and fake.alert is None and fake.code == alert.verify_code
    ours = await verification.check_forwarded(guesser, from_this_bot=True, text="/help lists what I can do")
    assert ours.finding is Finding.OUR_MESSAGE
