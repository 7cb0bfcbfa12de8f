-- mamori serve (issue 7): quarantine, block lists, message log with indicators, executed actions, sender history.
-- Times are Unix milliseconds; structured values are JSON text.
CREATE TABLE quarantine (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    origin      TEXT NOT NULL,
    queue_id    TEXT,
    reason      TEXT NOT NULL,
    class       TEXT NOT NULL,
    score       REAL NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    raw         BLOB NOT NULL,
    envelope    TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    status      TEXT NOT NULL,
    changed_at  INTEGER NOT NULL
);
CREATE INDEX quarantine_created ON quarantine (created_at);
CREATE INDEX quarantine_status ON quarantine (status);

CREATE TABLE block_entry (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    reason      TEXT NOT NULL,
    source_ref  TEXT,
    PRIMARY KEY (kind, value)
);
CREATE INDEX block_entry_expires ON block_entry (expires_at);

CREATE TABLE message_log (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    origin      TEXT NOT NULL,
    queue_id    TEXT,
    message_id  TEXT,
    mail_from   TEXT,
    recipients  TEXT NOT NULL,
    subject     TEXT,
    class       TEXT NOT NULL,
    score       REAL NOT NULL,
    disposition TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    delivery    TEXT NOT NULL,
    verdict     TEXT NOT NULL
);
CREATE INDEX message_log_created ON message_log (created_at);
CREATE INDEX message_log_message_id ON message_log (message_id);

CREATE TABLE message_indicator (
    message_ref TEXT NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (kind, value, message_ref)
);
CREATE INDEX message_indicator_ref ON message_indicator (message_ref);

CREATE TABLE action_log (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    message_ref TEXT NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX action_log_message ON action_log (message_ref);
CREATE INDEX action_log_created ON action_log (created_at);

CREATE TABLE sender_contact (
    recipient     TEXT NOT NULL,
    sender        TEXT NOT NULL,
    sender_domain TEXT NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    messages      INTEGER NOT NULL,
    PRIMARY KEY (recipient, sender)
);
CREATE INDEX sender_contact_domain ON sender_contact (recipient, sender_domain);
