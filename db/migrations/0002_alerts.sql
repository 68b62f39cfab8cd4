-- Alerts, their recipients (delivery state and answer) and the durable outbox.
CREATE TABLE alerts (
    id                INTEGER PRIMARY KEY,
    author_channel    TEXT NOT NULL,
    author_external_id TEXT NOT NULL,
    author_name       TEXT NOT NULL,
    author_language   TEXT NOT NULL DEFAULT 'lv',
    organisation      TEXT NOT NULL DEFAULT '',
    text_lv           TEXT,
    text_en           TEXT,
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
    tracking_message_id INTEGER,
    CHECK (text_lv IS NOT NULL OR text_en IS NOT NULL)
);

CREATE TABLE recipients (
    id           INTEGER PRIMARY KEY,
    alert_id     INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    person_id    INTEGER REFERENCES people (id) ON DELETE SET NULL,
    channel      TEXT,
    external_id  TEXT,
    language     TEXT NOT NULL,
    delivery     TEXT NOT NULL DEFAULT 'queued'
                 CHECK (delivery IN ('queued', 'sent', 'failed', 'blocked')),
    message_id   INTEGER,
    response     TEXT NOT NULL DEFAULT 'none'
                 CHECK (response IN ('none', 'accepted', 'declined', 'standby')),
    eta          TEXT,
    responded_at TEXT,
    reminders    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (alert_id, person_id)
);
CREATE INDEX recipients_by_person ON recipients (person_id);
-- a tap finds its recipient row by address: without this, every tap scans the alert's rows
CREATE UNIQUE INDEX recipients_by_address ON recipients (alert_id, channel, external_id);
CREATE INDEX recipients_by_response ON recipients (alert_id, response, responded_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    recipient_id    INTEGER REFERENCES recipients (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    kind            TEXT NOT NULL,
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
CREATE INDEX outbox_queue ON outbox (priority, next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_by_recipient ON outbox (recipient_id);
