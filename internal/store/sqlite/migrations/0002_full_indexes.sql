-- Full indexes instead of partial ones: SQLite re-plans a statement on every
-- execution when a bound value could decide whether a partial index applies
-- (it marks such parameters in the statement's expiry mask), and re-planning
-- costs a full parse. Full indexes cost a little space for NULL keys and
-- keep every plan fixed.
DROP INDEX records_k1;
DROP INDEX records_k2;
DROP INDEX records_k3;
DROP INDEX records_expiry;
CREATE INDEX records_k1 ON records (kind, k1, id);
CREATE INDEX records_k2 ON records (kind, k2, id);
CREATE INDEX records_k3 ON records (kind, k3, id);
CREATE INDEX records_expiry ON records (expires_at);
