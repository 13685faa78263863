// Command hookservice is an example of a studio's hook service for
// Muster's hooks (README, "Studio hooks"): it refuses calls not signed with
// the hook's secret, bans one player at sign-in and at tickets, adds a
// rank attribute from its own table, and vetoes matches of two players who
// blocked each other.
//
//	hookservice -listen :8443 -tls-cert cert.pem -tls-key key.pem -secret whsec_… -ban PLAYER -rank PLAYER=12 -block PLAYER:PLAYER
//
// Register its URL at the points beforeSignIn, beforeTicket and
// matchProposed and give it each registration's secret.
//
// To rotate a hook's secret (POST /v1/admin/hooks/{id}/secret/rotate), give
// the service the new secret in place of the old one within the rotation
// overlap (24 h): until it ends Muster signs each call with both, so the
// service accepts calls with whichever it knows while it is redeployed.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/webhook/sign"
)

// studio is the studio's own data.
type studio struct {
	banned  map[string]bool
	ranks   map[string]float64
	blocked map[[2]string]bool // both orders
}

// call is what Muster sends, at every point.
type call struct {
	Point    string `json:"point"`
	PlayerID string `json:"playerId"`
	Players  []struct {
		PlayerID string `json:"playerId"`
	} `json:"players"`
	Tickets []struct {
		Players []struct {
			PlayerID string `json:"playerId"`
		} `json:"players"`
	} `json:"tickets"`
}

// signed says whether any of the hooks' secrets signed the call.
func signed(verifiers []*sign.Verifier, h http.Header, body []byte) bool {
	for _, v := range verifiers {
		if v.Verify(h, body, time.Now()) == nil {
			return true
		}
	}
	return false
}

func handler(verifiers []*sign.Verifier, s studio) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !signed(verifiers, r.Header, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var c call
		if err := json.Unmarshal(body, &c); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		answer := map[string]any{"allow": true}
		var ids []string
		for _, p := range c.Players {
			ids = append(ids, p.PlayerID)
		}
		for _, t := range c.Tickets {
			for _, p := range t.Players {
				ids = append(ids, p.PlayerID)
			}
		}
		switch c.Point {
		case "beforeSignIn":
			if s.banned[c.PlayerID] {
				answer = map[string]any{"allow": false, "reason": "this account is banned"}
			}
		case "beforeTicket":
			attrs := map[string]any{}
			for _, id := range ids {
				if s.banned[id] {
					answer = map[string]any{"allow": false, "reason": "a player of this ticket is banned"}
					break
				}
				if rank, ok := s.ranks[id]; ok {
					attrs[id] = map[string]any{"rank": map[string]float64{"N": rank}}
				}
			}
			if answer["allow"] == true && len(attrs) > 0 {
				answer["attributes"] = attrs
			}
		case "matchProposed":
			for _, a := range ids {
				for _, b := range ids {
					if s.blocked[[2]string{a, b}] {
						answer = map[string]any{"allow": false, "reason": "two players blocked each other"}
					}
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
	})
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	listen := flag.String("listen", ":8443", "address to serve on")
	cert, key := flag.String("tls-cert", "", "TLS certificate (Muster calls only https:// hooks unless --webhook-allow-private)"), flag.String("tls-key", "", "TLS key")
	var secrets, bans, ranks, blocks list
	flag.Var(&secrets, "secret", "a hook's signing secret, whsec_… (repeatable: one per registered hook; after a rotation, the new one)")
	flag.Var(&bans, "ban", "a banned player's identity id (repeatable)")
	flag.Var(&ranks, "rank", "PLAYER=RANK (repeatable)")
	flag.Var(&blocks, "block", "PLAYER:PLAYER, two players who blocked each other (repeatable)")
	flag.Parse()
	var verifiers []*sign.Verifier
	for _, sec := range secrets {
		v, err := sign.NewVerifier(sec)
		if err != nil {
			log.Fatal(err)
		}
		verifiers = append(verifiers, v)
	}
	var err error
	s := studio{banned: map[string]bool{}, ranks: map[string]float64{}, blocked: map[[2]string]bool{}}
	for _, b := range bans {
		s.banned[b] = true
	}
	for _, r := range ranks {
		id, n, _ := strings.Cut(r, "=")
		if s.ranks[id], err = strconv.ParseFloat(n, 64); err != nil {
			log.Fatalf("-rank %s: %v", r, err)
		}
	}
	for _, b := range blocks {
		x, y, _ := strings.Cut(b, ":")
		s.blocked[[2]string{x, y}], s.blocked[[2]string{y, x}] = true, true
	}
	if *cert != "" {
		log.Fatal(http.ListenAndServeTLS(*listen, *cert, *key, handler(verifiers, s)))
	}
	log.Fatal(http.ListenAndServe(*listen, handler(verifiers, s)))
}
