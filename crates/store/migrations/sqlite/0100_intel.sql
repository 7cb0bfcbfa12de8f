-- Intelligence hub (crates/intel): STIX objects per TAXII collection, every version kept (times: Unix
-- microseconds; the STIX object itself as JSON text), collections, organisation accounts and rights, TAXII status.
CREATE TABLE intel_object (
    collection    TEXT NOT NULL,
    id            TEXT NOT NULL,
    version       TEXT NOT NULL,
    version_us    INTEGER NOT NULL,
    type          TEXT NOT NULL,
    spec_version  TEXT NOT NULL,
    date_added    INTEGER NOT NULL,
    org           TEXT,
    tlp           TEXT,
    revoked       INTEGER NOT NULL,
    deprecated    INTEGER NOT NULL,
    object        TEXT NOT NULL,
    PRIMARY KEY (collection, id, version_us)
);
CREATE INDEX intel_object_added ON intel_object (collection, date_added, id, version_us);
CREATE INDEX intel_object_type ON intel_object (collection, type, date_added);
CREATE INDEX intel_object_id ON intel_object (id);

CREATE TABLE intel_collection (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    description   TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE intel_org (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE intel_grant (
    org           TEXT NOT NULL,
    collection    TEXT NOT NULL,
    can_read      INTEGER NOT NULL,
    can_write     INTEGER NOT NULL,
    restricted    INTEGER NOT NULL,
    PRIMARY KEY (org, collection)
);

CREATE TABLE intel_status (
    id            TEXT PRIMARY KEY,
    org           TEXT,
    created_at    INTEGER NOT NULL,
    status        TEXT NOT NULL
);
