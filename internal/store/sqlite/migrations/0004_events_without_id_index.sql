-- Events without the UNIQUE index on id: ids are UUIDs the store generates
-- (or the caller's own), so uniqueness holds by construction, and the index
-- was a third B-tree to write for every event — the outbox is the busiest
-- table. Rebuilding is the only way to drop an inline UNIQUE in SQLite.
CREATE TABLE events_new (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT    NOT NULL,
    time     INTEGER NOT NULL,
    type     TEXT    NOT NULL,
    resource TEXT    NOT NULL,
    doc      BLOB    NOT NULL
);
INSERT INTO events_new (seq, id, time, type, resource, doc) SELECT seq, id, time, type, resource, doc FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_type ON events (type, seq);
