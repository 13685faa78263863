-- Records in a rowid table, with (kind, id) as a unique index, instead of a
-- WITHOUT ROWID table keyed by (kind, id). A WITHOUT ROWID table keeps whole
-- rows in the cells of its key's B-tree, interior pages included. SQLite
-- advises it only for rows under about a twentieth of a page (some 200
-- bytes at 4 KiB), and records are JSON documents of 100 to 1,800 bytes:
-- an interior page held only a handful of keys, so the tree was deep, and
-- a row over 1,002 bytes (a game session, a placement) spilled into an
-- overflow page that every key comparison on the way down had to read in
-- full. Here the (kind, id) index holds only the key and the rowid, and the
-- rows sit in the table's leaves.
CREATE TABLE records_new (
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    doc        BLOB    NOT NULL,
    k1         TEXT,
    k2         TEXT,
    k3         TEXT,
    version    INTEGER NOT NULL,
    expires_at INTEGER             -- Unix milliseconds from the service clock
);
INSERT INTO records_new (kind, id, doc, k1, k2, k3, version, expires_at)
    SELECT kind, id, doc, k1, k2, k3, version, expires_at FROM records ORDER BY kind, id;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE UNIQUE INDEX records_key ON records (kind, id);
CREATE INDEX records_k1 ON records (kind, k1, id) WHERE k1 IS NOT NULL;
CREATE INDEX records_k2 ON records (kind, k2, id) WHERE k2 IS NOT NULL;
CREATE INDEX records_k3 ON records (kind, k3, id) WHERE k3 IS NOT NULL;
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;
