-- Messages between a volunteer and the coordinator of an alert they received (talk-back).
-- ``direction``: 'in' (from the volunteer to the coordinator) or 'out' (the coordinator's reply).
-- The volunteer's address and the text are personal data: /forget deletes the person's rows.
CREATE TABLE messages (
    id                      INTEGER PRIMARY KEY,
    alert_id                INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    direction               TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    channel                 TEXT NOT NULL,
    external_id             TEXT NOT NULL,
    coordinator_channel     TEXT NOT NULL,
    coordinator_external_id TEXT NOT NULL,
    coordinator_name        TEXT NOT NULL,
    text                    TEXT NOT NULL,
    created_at              TEXT NOT NULL
);
CREATE INDEX messages_by_alert ON messages (alert_id, id);
CREATE INDEX messages_by_person ON messages (channel, external_id, direction, created_at);
