-- Incidents recorded by playbooks and flow analytics (times: Unix milliseconds; JSON as text).
CREATE TABLE incident (
    id            TEXT PRIMARY KEY,
    created_at    BIGINT NOT NULL,
    source        TEXT NOT NULL,
    title         TEXT NOT NULL,
    class         TEXT NOT NULL,
    score         DOUBLE PRECISION NOT NULL,
    attack        TEXT NOT NULL,
    indicators    TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    source_ref    TEXT,
    organisation  TEXT,
    status        TEXT NOT NULL
);
CREATE INDEX incident_created ON incident (created_at);
