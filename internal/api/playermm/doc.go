// Package playermm is the player-facing matchmaking API under /v1: tickets
// (/v1/matchmaking/tickets), parties (/v1/parties) and the operators'
// matchmaking routes under /v1/admin/matchmaking. It is an adapter over
// matchmaking.Service: it decodes, authenticates through the middleware it
// is given, and renders GameLift tickets in camelCase.
//
// A client never sends attributes: the request bodies are decoded strictly
// (httpx.Body), so an "attributes" member (or any other unknown one) is
// refused with 400 naming its JSON path. The service names bad fields of a
// ticket by the GameLift ticket it builds (Players[0].PlayerId); ticketField
// renders them as members of the body the player sent.
package playermm
