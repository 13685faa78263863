-- Events without the index on (type, seq): a second B-tree to write for
-- every event, while only the operators' listing filtered by type
-- (GET /v1/admin/events?type=) used it; that listing now reads the outbox
-- forward from its cursor.
DROP INDEX IF EXISTS events_type;
