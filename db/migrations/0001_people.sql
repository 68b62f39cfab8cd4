-- People who registered (or were imported) and the state of their conversation with the bot.
CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL DEFAULT 'telegram',
    external_id   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('registering', 'active')),
    language      TEXT NOT NULL CHECK (language IN ('lv', 'en')),
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

CREATE TABLE person_skills (
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    skill     TEXT NOT NULL,
    PRIMARY KEY (person_id, skill)
) WITHOUT ROWID;

-- Where a person is in a multi-step conversation (registration, profile edit, composer),
-- so that a restart of the bot loses nothing that was entered.
CREATE TABLE sessions (
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    flow        TEXT NOT NULL,
    step        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
) WITHOUT ROWID;
