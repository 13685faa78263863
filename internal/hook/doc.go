// Package hook calls the studio's own HTTP service in the request path:
// hooks that operators register (POST/GET/PATCH/DELETE /v1/admin/hooks)
// to enrich or refuse a player's ticket, refuse a sign-in or attach data
// to it, and veto a proposed match.
//
// Store kinds and secondary keys:
//
//	hook:        id the hook id ("hook-<uuid>"); no keys. The signing
//	             secret, and the rotated-out ones still signing with the
//	             end of each, are sealed with Config.Box when there is one.
//	hooksignin:  id a player's identity id: the data beforeSignIn hooks
//	             attached at its last sign-in or refresh, expiring
//	             Config.SignInDataTTL after it was written.
//
// # Points
//
//   - beforeTicket: before a player's ticket (POST /v1/matchmaking/tickets)
//     is written, through matchmaking.Gate. The hook receives the caller's
//     identity id, the configuration, the party, the rule set's declared
//     attribute types and, per player, its latencies, the attributes the
//     ticket carries, its record (attributes and data) and its signInData.
//     It may allow, optionally adding or overriding attributes (by player
//     id, then name) or moving the ticket to another configuration open to
//     players, or refuse with a reason: the player gets 403 with that
//     reason and nothing is written.
//   - beforeSignIn: after a sign-in is verified and before tokens are
//     issued, and again at every token refresh, through
//     identity.SignInGate (only once the refresh token is one the
//     exchange accepts: a spent one revokes its session unasked). It may
//     refuse (403; at a refresh the session ends, so a ban takes effect
//     within one access-token lifetime) or attach a JSON object of data
//     kept on the server, never in a token, which later hooks receive as
//     the player's signInData.
//   - matchProposed: for the configurations a matchProposed hook names
//     (that is how a configuration asks for it), after the engine proposes
//     a new match (not a backfill) and before acceptance and placement,
//     through matchmaking.MatchGate. The match's tickets are held out of
//     the pool and the hooks are called on a goroutine of their own,
//     outside the configuration's cycle, so a slow hook delays only its own
//     match. They receive the configuration and, per ticket, its players
//     with team, attributes and signInData, and answer allow or refuse.
//     The first refusal vetoes the match: its tickets go back to the pool,
//     and the group (its set of tickets) is remembered by the pool for as
//     long as those tickets wait there, so a proposal holding the whole
//     group is set aside and its tickets match with others. A failClosed
//     hook that fails sends the tickets back without remembering the group
//     (they are proposed again at the next periodic pass). The memory of
//     vetoed groups is the pool's: after a restart, or when another
//     replica takes the configuration over, a group may be proposed once
//     more, and vetoed again.
//
// A hook with configurations runs only for tickets and matches of those
// configurations; a matchProposed hook must name the configurations whose
// matches it may veto — that is how a configuration asks for it.
//
// # Registrations
//
// A registration is refused (400, naming the field and why, writing
// nothing) when it names a configuration that does not exist, or one twice,
// or when another hook has the same point, URL and configurations (in any
// order): it would call the studio twice for one request. A change is
// checked for what it sets, so a hook whose configuration was deleted, or
// whose URL the policy in force now refuses, can still be disabled.
//
// Registrations are read from the store when a change is made here and
// at least every Config.Reload (by Service.Run in the background, which
// every replica runs), into a set swapped in whole; requests read the set
// in force without a lock. The matchmaking cycle (VetsMatches) never waits
// for another goroutine's read, and while Run runs it never reads the
// store for the registrations at all. A read that fails is retried
// after Config.Reload; until one has succeeded, which hooks apply is
// unknown, so every point refuses with 503 (Retry-After), whatever the
// hooks' fail modes, and every configuration's matches are held for
// matchProposed, which refuses them. A later failed read leaves the last
// set read in force. Either is logged.
//
// # Order
//
// The enabled hooks of a point run one after another by order, then id.
// The first refusal wins and no later hook is called. Changes merge in
// order: each hook sees the ticket as the hooks before it left it, an
// attribute a later hook sets replaces an earlier one's, and the last
// configuration answered is the ticket's. Attributes an answer adds must be
// declared by the rule set (of the configuration the answer names, when it
// names one) with the declared type; signInData members merge the same way.
// Each hook attaches at most 4 KiB of data, and the merged object is at
// most 16 KiB of JSON (MaxSignInDataTotal): the hook whose data would take
// it past that answered badly (logged, naming it), its data is not kept,
// and its fail mode decides — failOpen keeps what the hooks before it
// attached, failClosed refuses with 503.
//
// # Calls and failures
//
// A call is a POST of JSON signed per Standard Webhooks with the hook's
// secret (package webhook/sign, as webhook deliveries are), through the
// same safe dialer (package webhook/safehttp): a hook must be https://
// unless the operator allows private destinations (--webhook-allow-private),
// and never reaches link-local, metadata or the control plane's own
// listeners. The policy in force applies to the registrations read from
// the store too: a hook registered while private destinations were
// allowed, read by a server running without them (or one whose secret
// cannot be opened), is not called at all. It is logged once, naming it
// and why; its calls count as outcome "unusable", and its fail mode applies
// to every request it would decide (failClosed refuses with 503) until it
// is changed, disabled or deleted.
//
// The secret is shown once, at registration and at each rotation (POST
// /v1/admin/hooks/{id}/secret/rotate, as for webhook subscriptions). A
// rotation keeps the hook's id, order, breaker and metrics; the secret it
// replaces keeps signing beside the new one for Config.RotationOverlap
// (24 h) — one v1 signature per secret in force, so the studio's service
// accepts calls with either while it switches — and a secret rotated out
// earlier keeps its own end. The end is kept in the registration and the
// secret in force is chosen at each call, so the overlap holds across
// restarts and on every replica and ends on time. A rotated-out secret
// that cannot be opened (sealed under a master key since replaced) is left
// out: a rotation is how a hook whose secret cannot be opened is mended.
//
// The answer must be 200, application/json, at most 64 KiB, and decode
// strictly (unknown members, repeated keys, wrong types, attributes of
// players not in the ticket or of undeclared types are bad answers, named
// in the log and counted).
//
// A call that times out (the hook's timeoutMs, default 300, at most 5000),
// cannot connect, answers another status or answers badly follows the
// hook's fail mode: failOpen goes on as if the hook had allowed without
// changes; failClosed refuses with 503. Each hook has at most
// Config.MaxConcurrent calls in flight — one more is not made and counts as
// a failure — and a breaker: Config.BreakerFailures failures in a row open
// it, and for Config.BreakerCooldown the hook is not called at all (its fail
// mode applies at once), then one trial call decides whether it closes.
// Metrics by hook: muster_hook_calls_total (by point and outcome),
// muster_hook_call_seconds, muster_hook_timeouts_total,
// muster_hook_refusals_total and muster_hook_bad_answers_total.
//
// A hook sees only the players of the ticket, sign-in or match it is asked
// about, never operator secrets or other players' data.
//
// Hooks decide synchronously; reactions after the fact (a match succeeded,
// a game session ended) are webhook subscriptions (package webhook), which
// deliver the same events GameLift publishes, at least once, with retries.
// A studio's service can serve both on one host with one verifier per
// secret.
package hook
