-- Versioned JSON records with three secondary keys and an optional expiry.
CREATE TABLE records (
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    doc        BLOB    NOT NULL,
    k1         TEXT,
    k2         TEXT,
    k3         TEXT,
    version    INTEGER NOT NULL,
    expires_at INTEGER,            -- Unix milliseconds from the service clock
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX records_k1 ON records (kind, k1, id) WHERE k1 IS NOT NULL;
CREATE INDEX records_k2 ON records (kind, k2, id) WHERE k2 IS NOT NULL;
CREATE INDEX records_k3 ON records (kind, k3, id) WHERE k3 IS NOT NULL;
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

-- The event outbox: seq is assigned in commit order by the single writer.
CREATE TABLE events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT    NOT NULL UNIQUE,
    time     INTEGER NOT NULL,     -- Unix milliseconds
    type     TEXT    NOT NULL,
    resource TEXT    NOT NULL,
    doc      BLOB    NOT NULL
);
CREATE INDEX events_type ON events (type, seq);
