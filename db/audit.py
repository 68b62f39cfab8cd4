"""The audit trail's table: rows are only ever appended (triggers refuse UPDATE and DELETE),
each chained to the one before it inside the same write transaction, so that two processes
(the bot and an operator's command) appending at once still make one chain."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.domain.audit import GENESIS, AuditEntry, AuditRecord, details_json, entry_hash
from bot.domain.audit import AuditQuery as AuditQuery  # the query's type lives in the domain
from bot.domain.people import TELEGRAM
from db.database import Database
from db.people import now_iso


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor_external_id"],
        role=row["role"],
        organisation=row["organisation"],
        action=row["action"],
        target=row["target"],
        details=row["details"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, record: AuditRecord) -> AuditEntry:
        at = now_iso()
        details = details_json(record.details)
        channel = TELEGRAM if record.actor is not None else None
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            row = await cur.fetchone()
            prev = str(row[0]) if row is not None else GENESIS
            digest = entry_hash(
                prev, at, record.actor, record.role, record.organisation, record.action, record.target, details
            )
            entry = AuditEntry(
                0,
                at,
                record.actor,
                record.role,
                record.organisation,
                record.action,
                record.target,
                details,
                prev,
                digest,
            )
            cur = await conn.execute(
                "INSERT INTO audit_log (at, actor_channel, actor_external_id, role, organisation, action, target,"
                " details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.at,
                    channel,
                    entry.actor,
                    entry.role,
                    entry.organisation,
                    entry.action,
                    entry.target,
                    entry.details,
                    entry.prev_hash,
                    entry.hash,
                ),
            )
            entry_id = cur.lastrowid
        assert entry_id is not None
        return replace(entry, id=entry_id)

    async def entries(self, query: AuditQuery | None = None) -> list[AuditEntry]:
        """Matching entries, oldest first."""
        q = query or AuditQuery()
        where, args = ["1 = 1"], []
        if q.since is not None:
            where.append("at >= ?")
            args.append(q.since.isoformat(timespec="seconds"))
        if q.actor is not None:
            where.append("actor_external_id = ?")
            args.append(q.actor)
        if q.action is not None:
            where.append("action = ?")
            args.append(q.action)
        if q.organisation is not None:
            where.append("organisation = ? COLLATE NOCASE")
            args.append(q.organisation)
        sql = f"SELECT * FROM audit_log WHERE {' AND '.join(where)} ORDER BY id"
        if q.limit is not None:
            sql = f"SELECT * FROM ({sql.replace('ORDER BY id', 'ORDER BY id DESC')} LIMIT {int(q.limit)}) ORDER BY id"
        return [_entry(r) for r in await self.db.fetchall(sql, args)]
