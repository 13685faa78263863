// Package playerdata owns the player data table: one record per player
// identity holding the matchmaking attributes (GameLift AttributeValues such
// as skill or rank), free JSON data, a version for optimistic concurrency
// and an optional expiry. Operators (the studio's backend) write attributes;
// players may write only the data keys the operator marked player-writable,
// never attributes, so a client cannot raise its own skill. Matchmaking reads
// a player's attributes with Service.Attributes.
package playerdata
