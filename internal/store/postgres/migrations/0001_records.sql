-- Versioned JSON records with three secondary keys and an optional expiry,
-- as in the SQLite store. Text columns use the "C" collation so that ids and
-- keys sort by byte, as SQLite's do: Find's prefix ranges and cursors rely
-- on that order.
CREATE TABLE records (
    kind       text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL,
    doc        bytea  NOT NULL,
    k1         text COLLATE "C",
    k2         text COLLATE "C",
    k3         text COLLATE "C",
    version    bigint NOT NULL,
    expires_at bigint,            -- Unix milliseconds from the service clock
    PRIMARY KEY (kind, id)
);
CREATE INDEX records_k1 ON records (kind, k1, id) WHERE k1 IS NOT NULL;
CREATE INDEX records_k2 ON records (kind, k2, id) WHERE k2 IS NOT NULL;
CREATE INDEX records_k3 ON records (kind, k3, id) WHERE k3 IS NOT NULL;
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

-- The event outbox. seq comes from a sequence, which on its own is not
-- commit-ordered; it is here because every writing transaction takes the
-- store's write lock first (see postgres.go), so numbers are drawn in
-- commit order.
CREATE TABLE events (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id       text   NOT NULL,
    time     bigint NOT NULL,     -- Unix milliseconds
    type     text COLLATE "C" NOT NULL,
    resource text   NOT NULL,
    doc      bytea  NOT NULL
);
CREATE INDEX events_type ON events (type, seq);
