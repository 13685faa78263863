// Package flexmatch owns the FlexMatch rule-set language: parsing and
// validating rule sets, evaluating property expressions, forming matches from
// a pool of waiting tickets, backfilling existing matches and explaining why a
// ticket is still waiting.
//
// The package is pure: it does no I/O and never reads the clock. Callers pass
// the current time to Engine.Cycle, Engine.Explain and Engine.Backfill.
//
// # Parsing
//
// Parse returns a *RuleSet or a *ValidationError that lists every problem
// found, each with a JSON path ("rules[2].maxDistance") and a plain reason.
// Warnings (accepted but suspicious input) are kept on the RuleSet.
//
// # Decisions on points FlexMatch leaves open
//
// Where AWS's FlexMatch documentation is silent or ambiguous, this package
// decides as follows (docs/flexmatch.md explains the larger ones):
//
//   - Unknown properties anywhere in a rule set are errors; JSON comments are
//     rejected. Names are case-sensitive.
//   - Team copies made by quantity are named <name>_<n> (n from 1); an
//     expression or expansion naming the base team means every copy.
//   - minPlayers may be 0; maxPlayers must be at least 1.
//   - Rules are evaluated on every trial addition to a potential match except
//     rules whose expressions use count( and the lower bounds more players
//     can still reach (minDistance, the minCount of contains), which are
//     evaluated only on complete candidates. When a complete candidate fails
//     such a rule the most recently added tickets are dropped one at a time.
//     When it fails the effective minPlayers, the newest tickets are dropped
//     one at a time (docs/flexmatch.md, "Expansions").
//   - Bounds are inclusive; a distance may exceed its bound by a rounding
//     slack of a billionth of the values compared (roundingSlack), so that
//     the order of the teams, which orders the sums, never decides a match.
//   - Aggregates of empty lists are undefined and a test with an undefined
//     operand passes; count of an empty list is 0.
//   - partyAggregation: every player of a multi-player ticket contributes the
//     ticket's aggregated value in place of its own.
//   - batchDistance is inclusive, string values compare case-sensitively and
//     a party whose players disagree on a string batch attribute never matches.
//     A number batchDistance without maxDistance means 0 (with a warning).
//   - Comparisons with ordering operators on strings, and comparisons of
//     string_list attributes, are validation errors.
//   - distance requires referenceValue; distance and count bounds are
//     inclusive.
//   - Latency: a match needs at least one location eligible for every ticket;
//     a player that omits a location cannot play there. distanceReference
//     accepts only "min" and "avg". Locations beyond the 128th distinct
//     location an engine sees are ignored.
//   - Sort rules order strings lexicographically; tickets lacking the anchor's
//     map key sort last; remaining ties go to the oldest ticket.
//   - Compound statements accept n-ary and/or, exactly two arguments for xor
//     and one for not; they may reference earlier compound and latency rules
//     but not sort or batchDistance rules.
//   - median of an even-length list is the mean of the two middle values;
//     stddev is the population standard deviation; flatten of a flat list
//     returns it unchanged. Map-key access, arithmetic and top-level players
//     are not part of the expression language. team[...] is accepted as an
//     alias of teams[...].
//   - A referenceValue string is an expression when it starts with teams[,
//     team[ or a function name followed by "("; otherwise it is a literal.
//   - Expansion targets must be numeric properties; maxPlayers may be
//     expanded; "*" is rejected in targets; two expansions of one target are
//     an error.
//   - strategy "balanced" on a rule set of 40 players or fewer draws a warning
//     and uses the large-match algorithm. backfillPriority under balanced means
//     backfill first unless it is "low".
//   - Names (rules, teams, attributes) are at most 128 characters and may not
//     contain [ ] , ( ) . * or leading/trailing spaces.
//
// # Match formation
//
// Engine keeps the waiting tickets in per-partition indexes ordered by a key
// attribute (the first numeric batchDistance attribute, else the attribute a
// spread rule bounds, else under batchingPreference "sorted" the first
// sortByAttributes entry, else the first numeric attribute a distance rule
// measures, else ticket age). Under "sorted" the index keeps the full
// sortByAttributes order, strings and later attributes included (see
// sortkey.go), so an anchor's batch is its neighbourhood in that order. A
// cycle tries as anchors only the tickets that arrived since the last cycle
// and the tickets whose expansion step changed, oldest first; for each
// anchor it considers up to Options.BatchSize candidates nearest in the key,
// ordered by the sort rules when there are any. Where FlexMatch's "random"
// batching leaves the order open, Muster takes the nearest candidates first:
// matches are tighter and the search ends sooner.
//
// Under expansionAgeSelection "newest" a potential match's step is set by its
// newest ticket, so every match whose newest ticket is T was examined when T
// last arrived or changed step; a ticket woken by a new step therefore skips
// newer tickets that did not arrive in this cycle (they anchor for
// themselves). Under "oldest" a woken ticket skips older ones in the same
// way. Arriving tickets, including re-queued ones with old start times, look
// at every candidate.
// A rule that bounds the spread of the key attribute (a numeric batchDistance
// or a distance of max(flatten(A)) from min(flatten(A))) bounds how far from
// the anchor candidates are looked for. Under such a rule, in a partition
// whose waiting tickets all arrived together with one start time (a first
// pass over fresh tickets), anchors go in ascending key order and take the
// candidates above them first (then, failing that, their nearest both
// ways): such a pass places at least as many as a sort-and-cut over the
// key (sort, then cut consecutive runs of a match's worth within the bound,
// greedily from the lowest). A partition holding older tickets keeps
// nearest-first batches and oldest-first anchors, as FlexMatch documents,
// which can leave fragments a sort-and-cut would not (docs/flexmatch.md,
// "Forming matches").
//
// With latency rules, an anchor first picks the location that most of its
// candidates can play in (largestPopulation, applied to small matches) and
// keeps only the candidates eligible there.
//
// Team choice (docs/flexmatch.md): below-minimum teams first, then the
// team with the most open slots, then definition order. Candidates refused on
// the partial match are tried once more after the first pass; a complete
// candidate that fails is cut back (newest ticket first when minimums fail,
// else the last added) and refilled from the remaining candidates, a few
// times, or as long as candidates remain when it fell short of a lower bound
// (the nearest candidates are the least likely to reach a minDistance); a
// candidate with enough players but a failing split is re-split by a bounded
// search, unless the failing rule reads the match regardless of teams.
// Compound statements with not or xor are judged on complete candidates
// only, like count rules.
//
// A partition of at most Options.ExactSearchTickets tickets is solved
// exactly: the engine chooses the set of matches that places the most
// players (ties: fewest matches, then the oldest tickets). Explain runs the
// same search for a ticket in such a partition, so "matchable" means the
// next cycle places it, and a valid match the best set leaves out is shown
// as such. When the search exceeds its budget the partition's anchors are
// built greedily instead, in the same cycle, including a partition the
// greedy pass itself shrank to that size.
//
// Large matches (more than 40 players, or strategy balanced) are built per
// location: largestPopulation tries the anchor's acceptable location with the
// most waiting players first, fastestRegion the anchor's lowest-latency
// location first, and there takes the tickets whose own lowest latency is in
// that location before those that merely accept it. Players are spread
// over teams by the fill order FlexMatch documents for large matches and,
// within that, greedily so that team averages of the balanced attribute stay
// even.
//
// # Cost
//
// Tickets are stored in slabs and index entries hold no pointers; the
// slices of returned matches are cut from shared blocks (a block stays alive
// while any match cut from it does). Adding tickets and forming matches
// therefore allocates amortised nothing; see the benchmarks in
// bench_test.go. A ticket's latencies live in a block of their own, so a
// rule set without latency does not pay for them.
//
// Without sort or latency rules an anchor's candidates are gathered as the
// build consumes them rather than BatchSize at once, since nothing needs
// the whole batch first. With latency rules and no sort rules, an anchor
// first tries its nearest few candidates (eight times the players a match
// needs, and 16) and gathers the whole batch only when they hold no match.
// Where a batch is gathered (and for large matches, location by location,
// from one batch per anchor), an anchor whose batch holds too few players
// within one window rule's reach is given up without trying them. Matched
// tickets leave the ID map at the end of the cycle, at the cost of the
// fewer of them and the tickets left waiting. muster bench engine measures
// one pass over fresh tickets.
//
// # Backfill
//
// Engine.Backfill fills a running match at once from the pool. AddBackfill
// registers a request instead, and every Cycle tries it, ordered against new
// matches by backfillPriority: "high" before them, "low" after them,
// "normal" by age (a request goes before anchors that started after it, and
// before an exactly solved partition whose tickets all started after it);
// under strategy balanced requests go first unless "low", as FlexMatch
// favours backfill in large matches.
// Backfill requests are never in the ticket pool, so two of them are never
// matched together, and a filled one always gains at least one ticket.
// A request that failed is tried again only once the pool has changed
// (tickets arrived, woke to a new step or left) or its own expansion step
// has, so a quiet pool costs nothing per waiting request.
package flexmatch
