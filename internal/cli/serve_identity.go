package cli

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/api/player"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/server"
)

// registerIdentityFlags adds the flags of player identities, tokens and the
// player API to `muster serve`; the function it returns checks and finishes
// pc once the flags are parsed.
func registerIdentityFlags(fs *flag.FlagSet, pc *server.PlayerConfig) func(*flagChecks) {
	fs.StringVar(&pc.TokenIssuer, "token-issuer", identity.DefaultIssuer, "`iss` claim of player access tokens")
	fs.StringVar(&pc.SigningAlg, "token-signing-alg", "EdDSA", "`algorithm` of new token signing keys: EdDSA or ES256 (existing keys keep theirs)")
	fs.DurationVar(&pc.AccessTokenLifetime, "access-token-lifetime", identity.DefaultAccessTokenLifetime, "how long a player access token is valid (1m to 24h)")
	fs.DurationVar(&pc.RefreshTokenLifetime, "refresh-token-lifetime", identity.DefaultRefreshTokenLifetime, "how long a player session lives without being refreshed")
	fs.StringVar(&pc.OIDCProvidersFile, "oidc-providers", "", "JSON `file` listing the OpenID Connect providers players may sign in with: [{\"name\",\"issuer\",\"clientId\",\"algorithms\"}]")
	cors := fs.String("cors-origins", "", "comma-separated browser `origins` allowed to call the player API (\"*\" for any)")
	fs.Int64Var(&pc.MaxBody, "player-max-body", player.DefaultMaxBody, "largest player API request body in `bytes`")
	fs.Float64Var(&pc.IPRate, "player-ip-rate", player.DefaultIPRate, "player API requests per second per client IP (0: no limit)")
	fs.IntVar(&pc.IPBurst, "player-ip-burst", player.DefaultIPBurst, "burst of the per-IP limit")
	fs.Float64Var(&pc.IdentityRate, "player-identity-rate", player.DefaultIdentityRate, "player API requests per second per player identity (0: no limit)")
	fs.IntVar(&pc.IdentityBurst, "player-identity-burst", player.DefaultIdentityBurst, "burst of the per-identity limit")
	writable := fs.String("player-writable-keys", "", "comma-separated player record data `keys` that players may change themselves")
	fs.DurationVar(&pc.RecordTTL, "player-record-ttl", 0, "expiry of newly made player records (0: none)")
	return func(checks *flagChecks) {
		checkTokenFlags(checks, pc)
		pc.CORSOrigins = splitList(*cors)
		pc.WritableKeys = splitList(*writable)
		// On the command line 0 means no limit; in server.PlayerConfig it
		// means the default and a negative value means no limit.
		for _, r := range []*float64{&pc.IPRate, &pc.IdentityRate} {
			if *r == 0 {
				*r = -1
			}
		}
	}
}

// checkTokenFlags names the token flags package identity would refuse
// when the server starts, where its error could not name the flag.
func checkTokenFlags(checks *flagChecks, pc *server.PlayerConfig) {
	alg := jose.SignatureAlgorithm(pc.SigningAlg)
	checks.check(alg == jose.EdDSA || alg == jose.ES256, "--token-signing-alg", pc.SigningAlg, "must be EdDSA or ES256")
	access, refresh := pc.AccessTokenLifetime, pc.RefreshTokenLifetime
	checks.check(access >= time.Minute && access <= identity.MaxAccessTokenLifetime, "--access-token-lifetime", access.String(),
		fmt.Sprintf("must be 1m to %gh", identity.MaxAccessTokenLifetime.Hours()))
	// 0 leaves identity its default refresh token lifetime.
	checks.check(refresh == 0 || refresh >= access, "--refresh-token-lifetime", refresh.String(),
		fmt.Sprintf("must be at least --access-token-lifetime (%v)", access))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
