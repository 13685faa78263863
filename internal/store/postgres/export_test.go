package postgres

// WriteLockKey is the advisory lock every writer's transaction takes.
const WriteLockKey = writeLockKey
