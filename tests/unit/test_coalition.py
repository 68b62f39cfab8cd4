"""The coalition's rules (bot.domain.coalition) and the audit chain (bot.domain.audit, db.audit)."""

from __future__ import annotations

import io

import pytest

from bot.domain.audit import CSV_HEADER, AuditAction, AuditRecord, AuditRole, first_broken, write_audit_csv
from bot.domain.coalition import (
    Actor,
    Coordinator,
    InviteKind,
    Organisation,
    Role,
    Scope,
    StoredRole,
    may_act_on_alert,
    may_decide,
    may_invite,
    may_manage,
    may_reach,
)
from bot.domain.people import Address, LocationKind
from db.audit import AuditQuery, AuditRepo
from db.database import Database

LIEPAJA, OGRE = "0170000", "0740001"
LIEPAJA_ORG = Organisation(1, "LSK", "Liepājas Samariešu kopa", Scope((LIEPAJA,)))
OTHER_ORG = Organisation(2, "LAPAS", "LAPAS", Scope())
EVERYWHERE = Scope()


def coordinator(org: Organisation, role: StoredRole = StoredRole.COORDINATOR, scope: Scope = EVERYWHERE) -> Actor:
    return Actor.of(Coordinator(Address.telegram(100 + org.id), org, role, scope))


def test_a_coordinator_reaches_within_the_scope_the_pool_their_members_and_the_willing() -> None:
    c = coordinator(LIEPAJA_ORG)
    lv = LocationKind.LV
    assert c.scope == LIEPAJA_ORG.scope and c.role == Role.COORDINATOR
    assert may_reach(c, lv, LIEPAJA, None, (), False)  # the shared pool
    assert may_reach(c, lv, LIEPAJA, None, (1,), False)  # their own member
    assert not may_reach(c, lv, LIEPAJA, None, (2,), False)  # another organisation's
    assert may_reach(c, lv, LIEPAJA, None, (2,), True)  # ... who may be called by others
    assert not may_reach(c, lv, OGRE, None, (), False)  # outside the scope
    assert not may_reach(c, LocationKind.ABROAD, None, "IE", (), False)
    admin = Actor.admin(Address.telegram(1))
    assert may_reach(admin, lv, OGRE, None, (2,), False)


def test_a_narrower_scope_and_scope_checks() -> None:
    abroad = Scope((), ("IE", "GB"))
    assert Scope(("A",)).within(Scope(("A", "B"))) and not Scope(("C",)).within(Scope(("A",)))
    assert not Scope().within(Scope(("A",))) and Scope(("A",)).within(Scope())
    assert abroad.covers_country("IE") and not abroad.covers_country("*") and not abroad.covers_area(OGRE)
    assert Scope((), ("*",)).covers_country("US") and Scope((), ("*",)).covers_country("*")
    assert LIEPAJA_ORG.scope.outside([LIEPAJA, OGRE], ["IE"]) == ([OGRE], ["IE"])
    narrow = coordinator(OTHER_ORG, scope=Scope((OGRE,)))
    assert narrow.scope == Scope((OGRE,))


def test_who_may_manage_invite_follow_and_decide() -> None:
    orgadmin = coordinator(LIEPAJA_ORG, StoredRole.ORGADMIN)
    plain = coordinator(LIEPAJA_ORG)
    admin = Actor.admin(Address.telegram(1))
    assert may_manage(orgadmin, 1) and not may_manage(orgadmin, 2) and not may_manage(plain, 1) and may_manage(admin, 2)
    assert may_invite(orgadmin, InviteKind.COORDINATOR, 1) and not may_invite(orgadmin, InviteKind.ORGADMIN, 1)
    assert may_invite(admin, InviteKind.ORGADMIN, 1) and not may_invite(plain, InviteKind.VOLUNTEERS, 1)
    author = Address.telegram(555)
    assert may_act_on_alert(plain, 1, author) and not may_act_on_alert(plain, 2, author)
    assert may_act_on_alert(plain, None, plain.address) and not may_act_on_alert(plain, None, author)
    assert may_decide(plain, 1, author) and not may_decide(plain, 1, plain.address)
    assert not may_decide(plain, 2, author) and may_decide(admin, None, author)
    assert not may_decide(admin, None, admin.address)


async def test_the_audit_chain_holds_and_a_tampered_row_is_found(db: Database) -> None:
    repo = AuditRepo(db)
    for n in range(4):
        await repo.append(
            AuditRecord(AuditAction.ALERT_SENT, AuditRole.COORDINATOR, "77", "LSK", f"alert:{n}", {"n": n})
        )
    entries = await repo.entries()
    assert [e.target for e in entries] == ["alert:0", "alert:1", "alert:2", "alert:3"]
    assert first_broken(entries) is None
    assert entries[1].prev_hash == entries[0].hash
    with pytest.raises(Exception, match="append-only"):
        await db.execute("UPDATE audit_log SET target = 'alert:9' WHERE id = 2")
    with pytest.raises(Exception, match="append-only"):
        await db.execute("DELETE FROM audit_log WHERE id = 2")
    # someone with the file drops the trigger and edits a row: the chain breaks there
    await db.execute("DROP TRIGGER audit_log_no_update")
    await db.execute("""UPDATE audit_log SET details = '{"n":9}' WHERE id = 3""")
    broken = first_broken(await repo.entries())
    assert broken is not None and broken.id == 3


async def test_audit_queries_and_csv(db: Database) -> None:
    repo = AuditRepo(db)
    await repo.append(AuditRecord(AuditAction.INVITE_CREATED, AuditRole.ORGADMIN, "5", "LSK", "invite", {}))
    await repo.append(AuditRecord(AuditAction.EXPORT, AuditRole.COORDINATOR, "6", "LAPAS", "=alert:1", {"rows": 3}))
    assert [e.action for e in await repo.entries(AuditQuery(organisation="lsk"))] == ["invite_created"]
    assert [e.actor for e in await repo.entries(AuditQuery(actor="6"))] == ["6"]
    assert [e.id for e in await repo.entries(AuditQuery(limit=1))] == [2]
    out = io.StringIO()
    assert write_audit_csv(await repo.entries(), out) == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(CSV_HEADER) == "at,actor_telegram_id,role,organisation,action,target,details"
    assert lines[2].endswith(""",coordinator,LAPAS,export,'=alert:1,"{""rows"":3}\"""")
