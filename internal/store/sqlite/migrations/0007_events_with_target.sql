-- Each event keeps the NotificationTarget its resource (a matchmaking
-- configuration, a game session queue) had when the event was written:
-- GameLift sends an event to the target configured when it was published,
-- and the resource may have changed its target, or been deleted, by the
-- time the event is delivered. The column stands beside doc because doc is
-- what receivers are sent. NULL means none was recorded: events of other
-- resources, and those written before this migration, which delivery
-- routes by the resource's current target. Adding a nullable column
-- rewrites nothing.
ALTER TABLE events ADD COLUMN target TEXT;
