-- Languages as data: an alert's texts become one JSON mapping (language code -> text), and
-- people.language loses its CHECK (the language list is bot.i18n.LANGUAGES; the application
-- checks against it), so a new language needs no migration. outbox.kind gets a CHECK matching
-- bot.domain.outbox.OutboxKind.
--
-- SQLite cannot change these columns in place, so the three tables are rebuilt following its
-- procedure (https://www.sqlite.org/lang_altertable.html#otheralter): db/migrate.py runs every
-- migration with foreign keys off (so dropping a table cascades nothing) and checks them with
-- PRAGMA foreign_key_check before it commits. Ids are copied, so every reference stays valid.

CREATE TABLE people_new (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL DEFAULT 'telegram',
    external_id   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('registering', 'active')),
    language      TEXT NOT NULL,
    name          TEXT,
    location_kind TEXT CHECK (location_kind IN ('lv', 'abroad')),
    municipality  TEXT,
    country       TEXT,
    city          TEXT,
    timezone      TEXT NOT NULL DEFAULT 'Europe/Riga',
    availability  TEXT,
    quiet_start   TEXT,
    quiet_end     TEXT,
    phone         TEXT,
    organisation  TEXT,
    paused        INTEGER NOT NULL DEFAULT 0,
    paused_until  TEXT,
    blocked_at    TEXT,
    consent_at    TEXT,
    source        TEXT NOT NULL DEFAULT 'chat' CHECK (source IN ('chat', 'import')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (channel, external_id)
);
INSERT INTO people_new (
    id, channel, external_id, status, language, name, location_kind, municipality, country, city, timezone,
    availability, quiet_start, quiet_end, phone, organisation, paused, paused_until, blocked_at, consent_at, source,
    created_at, updated_at
)
SELECT
    id, channel, external_id, status, language, name, location_kind, municipality, country, city, timezone,
    availability, quiet_start, quiet_end, phone, organisation, paused, paused_until, blocked_at, consent_at, source,
    created_at, updated_at
FROM people;
DROP TABLE people;
ALTER TABLE people_new RENAME TO people;

CREATE TABLE alerts_new (
    id                INTEGER PRIMARY KEY,
    author_channel    TEXT NOT NULL,
    author_external_id TEXT NOT NULL,
    author_name       TEXT NOT NULL,
    author_language   TEXT NOT NULL DEFAULT 'lv',
    organisation      TEXT NOT NULL DEFAULT '',
    -- {"lv": "...", "en": "..."}: at least one text; a language without one reads the default's
    texts             TEXT NOT NULL CHECK (json_valid(texts) AND json_type(texts) = 'object' AND texts <> '{}'),
    severity          TEXT NOT NULL CHECK (severity IN ('info', 'urgent', 'critical')),
    need              INTEGER CHECK (need IS NULL OR need > 0),
    respond_by        TEXT,
    drill             INTEGER NOT NULL DEFAULT 0,
    filters           TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at        TEXT NOT NULL,
    closed_at         TEXT,
    remind_at         TEXT,
    reminded_at       TEXT,
    deadline_done     INTEGER NOT NULL DEFAULT 0,
    tracking_chat     TEXT,
    tracking_message_id INTEGER
);
-- json_patch drops the members that are NULL, so an alert with one text gets one key.
INSERT INTO alerts_new (
    id, author_channel, author_external_id, author_name, author_language, organisation, texts, severity, need,
    respond_by, drill, filters, status, created_at, closed_at, remind_at, reminded_at, deadline_done, tracking_chat,
    tracking_message_id
)
SELECT
    id, author_channel, author_external_id, author_name, author_language, organisation,
    json_patch('{}', json_object('lv', nullif(text_lv, ''), 'en', nullif(text_en, ''))), severity, need,
    respond_by, drill, filters, status, created_at, closed_at, remind_at, reminded_at, deadline_done, tracking_chat,
    tracking_message_id
FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;

CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    recipient_id    INTEGER REFERENCES recipients (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    kind            TEXT NOT NULL
                    CHECK (kind IN ('alert', 'edit_answer', 'edit_closed', 'reminder', 'followup', 'closed',
                                    'standby_released', 'promoted', 'notice')),
    priority        INTEGER NOT NULL DEFAULT 1,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sent', 'failed', 'blocked')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error      TEXT,
    message_id      INTEGER,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
INSERT INTO outbox_new (
    id, recipient_id, channel, external_id, kind, priority, payload, state, attempts, next_attempt_at, last_error,
    message_id, created_at, sent_at
)
SELECT
    id, recipient_id, channel, external_id, kind, priority, payload, state, attempts, next_attempt_at, last_error,
    message_id, created_at, sent_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_queue ON outbox (priority, next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_by_recipient ON outbox (recipient_id);
