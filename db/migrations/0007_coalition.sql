-- A coalition on one Sauciens: organisations with an optional scope (municipalities by ATVK
-- code and/or countries abroad), their coordinators and organisation admins (admins stay in
-- access.admin_ids), one-time invite links, volunteers' memberships, two-person approval of
-- large or critical alerts, a hash-chained append-only audit trail, verification codes of
-- alerts, the privacy notice a person agreed to, and the retention of old answers.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(code) BETWEEN 2 AND 16),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    -- the scope: ATVK codes and ISO country codes ("*": anywhere abroad); both empty: everywhere
    areas       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(areas) AND json_type(areas) = 'array'),
    countries   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(countries) AND json_type(countries) = 'array'),
    created_at  TEXT NOT NULL
);

-- One organisation per coordinator; revoking deletes the row (the audit trail keeps the history).
CREATE TABLE coordinators (
    channel          TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('coordinator', 'orgadmin')),
    -- a scope narrower than the organisation's (both empty: the organisation's)
    areas            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(areas) AND json_type(areas) = 'array'),
    countries        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(countries) AND json_type(countries) = 'array'),
    name             TEXT,
    added_by         TEXT,  -- the Telegram id of who added them (NULL: the command line)
    added_at         TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);
CREATE INDEX coordinators_by_organisation ON coordinators (organisation_id);

CREATE TABLE invites (
    code              TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('coordinator', 'orgadmin', 'volunteers')),
    organisation_id   INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    areas             TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(areas) AND json_type(areas) = 'array'),
    countries         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(countries) AND json_type(countries) = 'array'),
    created_by        TEXT NOT NULL,  -- Telegram id
    created_at        TEXT NOT NULL,
    expires_at        TEXT,           -- NULL: a volunteers' link, reusable, does not expire
    used_at           TEXT,
    used_by           TEXT,
    revoked_at        TEXT
);
CREATE INDEX invites_by_organisation ON invites (organisation_id, kind);

CREATE TABLE memberships (
    person_id        INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    source           TEXT NOT NULL CHECK (source IN ('import', 'invite')),
    -- the person lets this organisation's coordinators see their phone number in exports
    phone_visible    INTEGER NOT NULL DEFAULT 0 CHECK (phone_visible IN (0, 1)),
    joined_at        TEXT NOT NULL,
    PRIMARY KEY (person_id, organisation_id)
);
CREATE INDEX memberships_by_organisation ON memberships (organisation_id, person_id);

-- "Other organisations in the coalition may call me" (asked at registration, default no).
ALTER TABLE people ADD COLUMN open_to_coalition INTEGER NOT NULL DEFAULT 0;
-- The version of the privacy notice agreed to at consent_at; everyone who agreed so far saw version 1.
ALTER TABLE people ADD COLUMN privacy_version INTEGER;
UPDATE people SET privacy_version = 1 WHERE consent_at IS NOT NULL;

ALTER TABLE alerts ADD COLUMN organisation_id INTEGER REFERENCES organisations (id);
ALTER TABLE alerts ADD COLUMN verify_code TEXT;
ALTER TABLE alerts ADD COLUMN anonymised_at TEXT;
CREATE UNIQUE INDEX alerts_by_verify_code ON alerts (verify_code) WHERE verify_code IS NOT NULL;

-- An alert waiting for a second coordinator: nothing is created or sent before it is approved.
CREATE TABLE approvals (
    id                 INTEGER PRIMARY KEY,
    organisation_id    INTEGER REFERENCES organisations (id) ON DELETE CASCADE,  -- NULL: an admin's
    author_channel     TEXT NOT NULL,
    author_external_id TEXT NOT NULL,
    author_name        TEXT NOT NULL,
    author_language    TEXT NOT NULL,
    draft              TEXT NOT NULL CHECK (json_valid(draft)),
    audience           INTEGER NOT NULL,  -- the count the author's preview showed
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    decided_at         TEXT,
    decided_by         TEXT,  -- Telegram id
    decided_by_name    TEXT,
    reason             TEXT,
    alert_id           INTEGER REFERENCES alerts (id)
);
CREATE INDEX approvals_by_status ON approvals (status, expires_at);

-- Every request message of an approval (all are edited when someone decides).
CREATE TABLE approval_messages (
    id           INTEGER PRIMARY KEY,
    approval_id  INTEGER NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    chat         TEXT NOT NULL,
    message_id   INTEGER NOT NULL,
    language     TEXT NOT NULL,
    UNIQUE (chat, message_id)
);
CREATE INDEX approval_messages_by_approval ON approval_messages (approval_id);

-- Append-only and hash-chained: each row's hash covers its fields and the previous row's hash.
-- No volunteer's personal data: actors are coordinators and admins (NULL: the command line or
-- the bot itself), targets are ids, details are counts.
CREATE TABLE audit_log (
    id                INTEGER PRIMARY KEY,
    at                TEXT NOT NULL,
    actor_channel     TEXT,
    actor_external_id TEXT,
    role              TEXT NOT NULL
                      CHECK (role IN ('admin', 'orgadmin', 'coordinator', 'volunteer', 'operator', 'system')),
    organisation      TEXT NOT NULL DEFAULT '',
    action            TEXT NOT NULL,
    target            TEXT NOT NULL DEFAULT '',
    details           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_by_organisation ON audit_log (organisation, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
