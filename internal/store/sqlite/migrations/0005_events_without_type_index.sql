-- Events without the index on (type, seq): it was a second B-tree to write
-- for every event, about a seventh of the store's CPU per matchmaking
-- ticket (BenchmarkTicketLifecycle), and only the operators' listing
-- filtered by type (GET /v1/admin/events?type=), which now reads the
-- outbox forward from its cursor on a reader connection, never the writer.
DROP INDEX IF EXISTS events_type;
