-- The coordinator's side: every tracking message of an alert (closing an alert edits them all,
-- not only the latest), and the language a coordinator who has not registered chose with
-- /language. alerts.tracking_chat and alerts.tracking_message_id are copied here and no longer
-- written.

CREATE TABLE tracking_messages (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    chat        TEXT NOT NULL,
    message_id  INTEGER NOT NULL,
    language    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (chat, message_id)
);
CREATE INDEX tracking_messages_by_alert ON tracking_messages (alert_id, id);

INSERT INTO tracking_messages (alert_id, chat, message_id, language, created_at)
    SELECT id, tracking_chat, tracking_message_id, author_language, created_at
    FROM alerts WHERE tracking_chat IS NOT NULL AND tracking_message_id IS NOT NULL;

CREATE TABLE coordinator_languages (
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    language    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
);
