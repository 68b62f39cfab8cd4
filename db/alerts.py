"""Alerts, their recipients and answers."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

import aiosqlite

from bot.domain.alerts import (
    Alert,
    AlertDraft,
    AlertStatus,
    Answer,
    AnswerStatus,
    AudienceFilter,
    Delivery,
    ExportRow,
    Member,
    Promotion,
    Response,
    RosterEntry,
    Severity,
    Tally,
)
from bot.domain.outbox import OutboxKind, OutboxState
from bot.domain.people import Address
from bot.domain.quota import decide
from bot.domain.verification import new_verify_code
from db.database import Database
from db.people import now_iso

# A recipient's organisations and those that may see their phone (bot.domain.coalition.phone_shown
# decides), as comma-separated ids; ``p`` is the recipient's row in people.
_MEMBERSHIPS = (
    " (SELECT group_concat(m.organisation_id) FROM memberships m WHERE m.person_id = p.id) AS member_of,"
    " (SELECT group_concat(m.organisation_id) FROM memberships m"
    " WHERE m.person_id = p.id AND m.phone_visible = 1) AS phone_visible_to"
)


def _ids(joined: str | None) -> tuple[int, ...]:
    return tuple(int(i) for i in joined.split(",")) if joined else ()


# An alert with its organisation's code (for the audit trail: actions on it are filed under it).
_ALERT = (
    "SELECT alerts.*, (SELECT code FROM organisations o WHERE o.id = alerts.organisation_id) AS organisation_code"
    " FROM alerts"
)


def _to_alert(row: aiosqlite.Row) -> Alert:
    draft = AlertDraft(
        audience=AudienceFilter.from_dict(json.loads(row["filters"])),
        texts=json.loads(row["texts"]),
        severity=Severity(row["severity"]),
        need=row["need"],
        respond_by=datetime.fromisoformat(row["respond_by"]) if row["respond_by"] else None,
        drill=bool(row["drill"]),
    )
    return Alert(
        id=row["id"],
        draft=draft,
        author_name=row["author_name"],
        organisation=row["organisation"],
        created_at=datetime.fromisoformat(row["created_at"]),
        status=AlertStatus(row["status"]),
        author_channel=row["author_channel"],
        author_external_id=row["author_external_id"],
        author_language=row["author_language"],
        organisation_id=row["organisation_id"],
        # (sqlite3.Row's ``in`` looks at the values, not the column names)
        organisation_code=(row["organisation_code"] or "") if "organisation_code" in row.keys() else "",  # noqa: SIM118
        verify_code=row["verify_code"],
    )


VERIFY_CODE_ATTEMPTS = 20  # of ~1.5 billion codes: a collision twice in a row is already rare


class AlertRepo:
    def __init__(self, db: Database, new_code: Callable[[], str] = new_verify_code) -> None:
        """``new_code``: where alerts' verification codes come from (a test passes its own)."""
        self.db = db
        self.new_code = new_code

    async def create(
        self,
        draft: AlertDraft,
        *,
        author: Address,
        author_name: str,
        author_language: str,
        organisation: str,
        organisation_id: int | None = None,
        recipients: Sequence[Member],
        remind_at: datetime | None,
    ) -> int:
        """The alert, one recipient row and one queued outbox row per person (in the order
        given), atomically: a coordinator's alert is queued for everyone or not at all."""
        now = now_iso()
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "INSERT INTO alerts (author_channel, author_external_id, author_name, author_language, organisation,"
                " organisation_id, texts, severity, need, respond_by, drill, filters, created_at, remind_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    author.channel,
                    author.external_id,
                    author_name,
                    author_language,
                    organisation,
                    organisation_id,
                    json.dumps(draft.texts, ensure_ascii=False),
                    draft.severity,
                    draft.need,
                    draft.respond_by.isoformat() if draft.respond_by else None,
                    int(draft.drill),
                    json.dumps(draft.audience.to_dict()),
                    now,
                    remind_at.isoformat() if remind_at else None,
                ),
            )
            alert_id = cur.lastrowid
            await self._set_verify_code(conn, alert_id)
            # One statement for tens of thousands of rows (no parameters bound per row): the
            # recipients' ids as a JSON array, their addresses and languages read from people.
            await conn.execute(
                "INSERT INTO recipients (alert_id, person_id, channel, external_id, language)"
                " SELECT ?, p.id, p.channel, p.external_id, p.language"
                " FROM json_each(?) j JOIN people p ON p.id = j.value ORDER BY j.key",
                (alert_id, json.dumps([p.id for p in recipients])),
            )
            await conn.execute(
                "INSERT INTO outbox (recipient_id, channel, external_id, kind, priority, payload, created_at)"
                " SELECT id, channel, external_id, ?, 1, ?, ? FROM recipients WHERE alert_id = ? ORDER BY id",
                (OutboxKind.ALERT, json.dumps({"alert_id": alert_id}), now, alert_id),
            )
        assert alert_id is not None
        return alert_id

    async def _set_verify_code(self, conn: aiosqlite.Connection, alert_id: int | None) -> None:
        """A code no other alert has (the unique index decides; a collision draws again)."""
        for attempt in range(VERIFY_CODE_ATTEMPTS):
            try:
                await conn.execute("UPDATE alerts SET verify_code = ? WHERE id = ?", (self.new_code(), alert_id))
                return
            except sqlite3.IntegrityError as exc:
                if "verify_code" not in str(exc) or attempt == VERIFY_CODE_ATTEMPTS - 1:
                    raise

    async def by_verify_code(self, code: str) -> Alert | None:
        row = await self.db.fetchone("SELECT * FROM alerts WHERE verify_code = ?", (code,))
        return _to_alert(row) if row else None

    async def get(self, alert_id: int) -> Alert | None:
        row = await self.db.fetchone(_ALERT + " WHERE id = ?", (alert_id,))
        return _to_alert(row) if row else None

    async def latest_id(self) -> int | None:
        latest = await self.db.fetchval("SELECT max(id) FROM alerts")
        return int(latest) if latest is not None else None

    async def list(self, only_open: bool = False, limit: int = 50) -> list[Alert]:
        where, args = ("WHERE status = ?", (AlertStatus.OPEN,)) if only_open else ("", ())
        rows = await self.db.fetchall(f"{_ALERT} {where} ORDER BY id DESC LIMIT ?", (*args, limit))
        return [_to_alert(r) for r in rows]

    async def open_of(self, organisation_id: int | None, author: Address, limit: int = 50) -> builtins.list[Alert]:
        """The open alerts sent for ``organisation_id`` or by ``author``, newest first: the rows
        a coordinator's /alerts reads (``bot.domain.coalition.may_act_on_alert`` decides)."""
        rows = await self.db.fetchall(
            _ALERT + " WHERE status = ? AND (organisation_id = ? OR"
            " (author_channel = ? AND author_external_id = ?)) ORDER BY id DESC LIMIT ?",
            (AlertStatus.OPEN, organisation_id, author.channel, author.external_id, limit),
        )
        return [_to_alert(r) for r in rows]

    async def tracking_message(self, alert_id: int) -> tuple[str, int] | None:
        """The latest tracking message of the alert (the one kept up to date while it is open)."""
        row = await self.db.fetchone(
            "SELECT chat, message_id FROM tracking_messages WHERE alert_id = ? ORDER BY id DESC LIMIT 1", (alert_id,)
        )
        return (row["chat"], row["message_id"]) if row else None

    async def tracking_messages(self, alert_id: int) -> builtins.list[tuple[str, int, str]]:
        """Every tracking message of the alert: (chat, message id, language), oldest first."""
        rows = await self.db.fetchall(
            "SELECT chat, message_id, language FROM tracking_messages WHERE alert_id = ? ORDER BY id", (alert_id,)
        )
        return [(r["chat"], r["message_id"], r["language"]) for r in rows]

    async def set_tracking_message(self, alert_id: int, chat: str, message_id: int, language: str = "lv") -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO tracking_messages (alert_id, chat, message_id, language, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (alert_id, chat, message_id, language, now_iso()),
        )

    async def roster(self, alert_id: int) -> builtins.list[RosterEntry]:
        """Everyone who answered, confirmed first, then standby, then those who can't; each in
        the order they answered."""
        rows = await self.db.fetchall(
            "SELECT r.channel, r.external_id, r.response, r.eta, r.responded_at, p.name, p.phone,"
            + _MEMBERSHIPS
            + " FROM recipients r LEFT JOIN people p ON p.id = r.person_id"
            " WHERE r.alert_id = ? AND r.response != ?"
            " ORDER BY CASE r.response WHEN ? THEN 0 WHEN ? THEN 1 ELSE 2 END, r.responded_at, r.id",
            (alert_id, Response.NONE, Response.ACCEPTED, Response.STANDBY),
        )
        return [
            RosterEntry(
                name=r["name"] or "?",
                response=Response(r["response"]),
                eta=r["eta"],
                responded_at=datetime.fromisoformat(r["responded_at"]) if r["responded_at"] else None,
                phone=r["phone"],
                address=Address(r["channel"] or "telegram", r["external_id"] or ""),
                member_of=_ids(r["member_of"]),
                phone_visible_to=_ids(r["phone_visible_to"]),
            )
            for r in rows
        ]

    async def tally(self, alert_id: int) -> Tally:
        rows = await self.db.fetchall(
            "SELECT delivery, response, count(*) AS n FROM recipients WHERE alert_id = ? GROUP BY delivery, response",
            (alert_id,),
        )
        t = Tally()
        for r in rows:
            t.total += r["n"]
            setattr(t, r["delivery"], getattr(t, r["delivery"]) + r["n"])
            setattr(t, r["response"], getattr(t, r["response"]) + r["n"])
        return t

    async def answer(self, alert_id: int, address: Address, accepts: bool, eta: str | None) -> Answer:
        """Record a tap, applying the quota; promotes the first standby person when an
        accepted person withdraws. One transaction, so concurrent taps cannot overfill; the
        reads are one statement, as a tap's cost is mostly trips to the database thread."""
        now = now_iso()
        async with self.db.tx() as conn:
            rows = await conn.execute_fetchall(
                "SELECT a.*, r.id AS recipient_id, r.response AS recipient_response, p.name AS person_name,"
                " (SELECT count(*) FROM recipients c WHERE c.alert_id = a.id AND c.response = ?) AS accepted"
                " FROM alerts a LEFT JOIN recipients r"
                " ON r.alert_id = a.id AND r.channel = ? AND r.external_id = ?"
                " LEFT JOIN people p ON p.id = r.person_id WHERE a.id = ?",
                (Response.ACCEPTED, address.channel, address.external_id, alert_id),
            )
            row = next(iter(rows), None)
            if row is None or row["recipient_id"] is None:
                return Answer(AnswerStatus.NOT_RECIPIENT)
            alert = _to_alert(row)
            previous = Response(row["recipient_response"])
            if not alert.open:
                return Answer(AnswerStatus.CLOSED, previous, previous, alert=alert)
            decision = decide(previous, accepts, alert.draft.need, row["accepted"])
            changed = decision.response != previous
            await conn.execute(
                "UPDATE recipients SET response = ?, eta = ?, responded_at = CASE WHEN ? THEN ? ELSE responded_at END"
                " WHERE id = ?",
                (decision.response, eta if accepts else None, changed, now, row["recipient_id"]),
            )
            promoted = None
            if decision.promote_standby:
                cur = await conn.execute(
                    "SELECT r.id, r.channel, r.external_id, r.language, p.name FROM recipients r"
                    " LEFT JOIN people p ON p.id = r.person_id WHERE r.alert_id = ? AND r.response = ?"
                    " AND r.channel IS NOT NULL ORDER BY r.responded_at, r.id LIMIT 1",
                    (alert_id, Response.STANDBY),
                )
                nxt = await cur.fetchone()
                if nxt is not None:
                    await conn.execute(
                        "UPDATE recipients SET response = ?, responded_at = ? WHERE id = ?",
                        (Response.ACCEPTED, now, nxt["id"]),
                    )
                    promoted = Promotion(
                        nxt["id"], Address(nxt["channel"], nxt["external_id"]), nxt["language"], nxt["name"]
                    )
            return Answer(AnswerStatus.OK, decision.response, previous, promoted, alert, row["person_name"])

    async def open_answers_of(self, address: Address) -> builtins.list[int]:
        """The open alerts that ``address`` accepted or is on standby for."""
        rows = await self.db.fetchall(
            "SELECT r.alert_id FROM recipients r JOIN alerts a ON a.id = r.alert_id"
            " WHERE a.status = ? AND r.channel = ? AND r.external_id = ? AND r.response IN (?, ?) ORDER BY r.alert_id",
            (AlertStatus.OPEN, address.channel, address.external_id, Response.ACCEPTED, Response.STANDBY),
        )
        return [int(r["alert_id"]) for r in rows]

    async def enqueue(
        self,
        alert_id: int,
        kind: OutboxKind,
        *,
        responses: tuple[Response, ...],
        params: dict[str, object] | None = None,
        priority: int = 1,
        max_reminders: int | None = None,
    ) -> int:
        """Queue a ``kind`` message to the recipients who got the alert and whose answer is
        one of ``responses``."""
        conditions = [
            "alert_id = ?",
            "channel IS NOT NULL",
            f"response IN ({','.join('?' for _ in responses)})",
            "delivery = ?",
        ]
        args: list[object] = [alert_id, *responses, Delivery.SENT]
        if max_reminders is not None:
            conditions.append("reminders < ?")
            args.append(max_reminders)
        payload = json.dumps({"alert_id": alert_id, **(params or {})}, ensure_ascii=False)
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "INSERT INTO outbox (recipient_id, channel, external_id, kind, priority, payload, created_at)"
                f" SELECT id, channel, external_id, ?, ?, ?, ? FROM recipients WHERE {' AND '.join(conditions)} ORDER BY id",
                (kind, priority, payload, now_iso(), *args),
            )
            count = cur.rowcount
            if kind == OutboxKind.REMINDER:
                await conn.execute(
                    f"UPDATE recipients SET reminders = reminders + 1 WHERE {' AND '.join(conditions)}", args
                )
        return count

    async def enqueue_one(
        self, recipient_id: int, address: Address, kind: OutboxKind, params: dict[str, object]
    ) -> None:
        await self.db.execute(
            "INSERT INTO outbox (recipient_id, channel, external_id, kind, priority, payload, created_at)"
            " VALUES (?, ?, ?, ?, 0, ?, ?)",
            (
                recipient_id,
                address.channel,
                address.external_id,
                kind,
                json.dumps(params, ensure_ascii=False),
                now_iso(),
            ),
        )

    async def close(self, alert_id: int) -> int | None:
        """Close an open alert (None if it was not open). Its alert messages and reminders
        that have not gone out yet are not sent any more (their recipients stay ``queued``
        in the tally and the export); returns how many were cancelled."""
        now = now_iso()
        async with self.db.tx() as conn:
            cur = await conn.execute(
                "UPDATE alerts SET status = ?, closed_at = ? WHERE id = ? AND status = ?",
                (AlertStatus.CLOSED, now, alert_id, AlertStatus.OPEN),
            )
            if cur.rowcount == 0:
                return None
            cur = await conn.execute(
                "UPDATE outbox SET state = ?, last_error = 'cancelled: the call was closed before sending'"
                " WHERE state = ? AND kind IN (?, ?)"
                " AND recipient_id IN (SELECT id FROM recipients WHERE alert_id = ?)",
                (OutboxState.FAILED, OutboxState.QUEUED, OutboxKind.ALERT, OutboxKind.REMINDER, alert_id),
            )
            return cur.rowcount

    async def enqueue_closed_edits(self, alert_id: int) -> int:
        """Mark every alert message and reminder already sent for ``alert_id`` as closed
        (their buttons go). A message that goes out later is marked by ``OutboxRepo.record``."""
        async with self.db.tx() as conn:
            # the alert messages (their ids are on the recipients) and the reminders (on the outbox)
            cur = await conn.execute(
                "INSERT INTO outbox (recipient_id, channel, external_id, kind, priority, payload, created_at)"
                " SELECT r.id, r.channel, r.external_id, ?1, 2, json_object('alert_id', ?3, 'message_id', m.message_id), ?2"
                " FROM recipients r JOIN outbox m ON m.recipient_id = r.id"
                " WHERE r.alert_id = ?3 AND r.channel IS NOT NULL AND m.kind IN (?4, ?5) AND m.state = ?6"
                " AND m.message_id IS NOT NULL ORDER BY r.id, m.id",
                (OutboxKind.EDIT_CLOSED, now_iso(), alert_id, OutboxKind.ALERT, OutboxKind.REMINDER, OutboxState.SENT),
            )
            return cur.rowcount

    async def mark_reminded(self, alert_id: int) -> None:
        await self.db.execute("UPDATE alerts SET reminded_at = ? WHERE id = ?", (now_iso(), alert_id))

    async def mark_deadline_done(self, alert_id: int) -> None:
        await self.db.execute("UPDATE alerts SET deadline_done = 1 WHERE id = ?", (alert_id,))

    async def schedules(self) -> builtins.list[tuple[int, datetime | None, datetime | None]]:
        """Open alerts' pending automatic reminder and respond-by deadline."""
        rows = await self.db.fetchall(
            "SELECT id, CASE WHEN reminded_at IS NULL THEN remind_at END AS remind_at,"
            " CASE WHEN deadline_done = 0 THEN respond_by END AS respond_by FROM alerts WHERE status = ?",
            (AlertStatus.OPEN,),
        )
        return [
            (
                r["id"],
                datetime.fromisoformat(r["remind_at"]) if r["remind_at"] else None,
                datetime.fromisoformat(r["respond_by"]) if r["respond_by"] else None,
            )
            for r in rows
        ]

    async def export_rows(self, alert_id: int) -> builtins.list[ExportRow]:
        rows = await self.db.fetchall(
            "SELECT r.external_id, r.delivery, r.response, r.eta, r.responded_at, r.language,"
            " p.name, p.phone, p.municipality, p.country, p.city,"
            + _MEMBERSHIPS
            + " FROM recipients r LEFT JOIN people p ON p.id = r.person_id WHERE r.alert_id = ? ORDER BY r.id",
            (alert_id,),
        )
        return [
            ExportRow(
                telegram_id=r["external_id"] or "",
                delivery=r["delivery"],
                response=r["response"],
                eta=r["eta"],
                responded_at=r["responded_at"],
                name=r["name"],
                phone=r["phone"],
                language=r["language"],
                municipality=r["municipality"],
                country=r["country"],
                city=r["city"],
                member_of=_ids(r["member_of"]),
                phone_visible_to=_ids(r["phone_visible_to"]),
            )
            for r in rows
        ]
