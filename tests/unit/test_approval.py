"""Two-person approval's rule (bot.domain.approval) and its storage's decisions (db.approvals):
one decision wins, and none after the request's time is up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.alerts import AlertDraft, Severity
from bot.domain.approval import REASON_LIMIT, Approval, ApprovalStatus, clean_reason, needs_approval
from bot.domain.people import Address
from db.approvals import ApprovalRepo
from db.database import Database
from db.migrate import migrate


@pytest.mark.parametrize(
    ("audience", "severity", "above", "for_critical", "needed"),
    [
        (300, Severity.URGENT, 300, True, False),  # exactly the limit: not larger
        (301, Severity.URGENT, 300, True, True),
        (301, Severity.INFO, 300, False, True),  # the size alone is enough
        (1, Severity.CRITICAL, 300, True, True),  # critical alone is enough
        (1, Severity.CRITICAL, 300, False, False),
        (0, Severity.INFO, 0, True, False),
        (1, Severity.INFO, 0, False, True),
    ],
)
def test_large_or_critical_alerts_need_approval(
    audience: int, severity: Severity, above: int, for_critical: bool, needed: bool
) -> None:
    assert needs_approval(audience, severity, above, for_critical) is needed


def test_a_reason_is_one_line_and_bounded() -> None:
    assert clean_reason(None) is None
    assert clean_reason("  \n ") is None
    assert clean_reason(" Wrong\n area ") == "Wrong area"
    long = clean_reason("x" * (REASON_LIMIT + 50))
    assert long is not None and len(long) == REASON_LIMIT and long.endswith("…")


@pytest.fixture
async def repo(tmp_path) -> AsyncIterator[ApprovalRepo]:
    db = await Database(tmp_path / "a.sqlite3").open()
    await migrate(db)
    yield ApprovalRepo(db)
    await db.close()


async def add(repo: ApprovalRepo, now: datetime, minutes: int = 30) -> Approval:
    draft = AlertDraft(texts={"lv": "Plūdi"}, severity=Severity.CRITICAL, drill=True)
    return await repo.add(
        draft,
        organisation_id=None,
        author=Address.telegram(1),
        author_name="Anna",
        author_language="en",
        sender="LAPAS",
        audience=12,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )


async def test_the_first_decision_wins_and_the_draft_comes_back_as_stored(repo: ApprovalRepo) -> None:
    now = datetime.now(UTC)
    approval = await add(repo, now)
    assert approval.pending and approval.sender == "LAPAS" and approval.organisation_code == ""
    assert approval.draft.texts == {"lv": "Plūdi"} and approval.draft.drill
    assert approval.draft.severity == Severity.CRITICAL
    by, other = Address.telegram(2), Address.telegram(3)
    assert await repo.decide(approval.id, ApprovalStatus.APPROVED, by=by, by_name="Baiba", now=now)
    assert not await repo.decide(approval.id, ApprovalStatus.REJECTED, by=other, by_name="Cilda", now=now)
    assert not await repo.expire(approval.id, now + timedelta(hours=1))
    decided = await repo.get(approval.id)
    assert decided is not None and decided.status == ApprovalStatus.APPROVED
    assert decided.decided_by == "2" and decided.decided_by_name == "Baiba" and decided.reason is None
    assert await repo.pending() == []


async def test_nothing_is_decided_after_the_time_is_up_and_expiry_waits_for_it(repo: ApprovalRepo) -> None:
    now = datetime.now(UTC)
    approval = await add(repo, now, minutes=30)
    assert not await repo.expire(approval.id, now)  # not due yet
    later = now + timedelta(minutes=31)
    assert approval.overdue(later) and not approval.overdue(now)
    assert not await repo.decide(approval.id, ApprovalStatus.APPROVED, by=Address.telegram(2), by_name="B", now=later)
    assert await repo.expire(approval.id, later)
    expired = await repo.get(approval.id)
    assert expired is not None and expired.status == ApprovalStatus.EXPIRED and expired.decided_by is None


async def test_a_failed_send_reopens_the_approval(repo: ApprovalRepo) -> None:
    now = datetime.now(UTC)
    approval = await add(repo, now)
    assert await repo.decide(approval.id, ApprovalStatus.APPROVED, by=Address.telegram(2), by_name="B", now=now)
    await repo.reopen(approval.id)
    again = await repo.get(approval.id)
    assert again is not None and again.pending and again.decided_by is None
    assert await repo.decide(approval.id, ApprovalStatus.REJECTED, by=Address.telegram(3), by_name="C", now=now)
