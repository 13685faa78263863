package httpx_test

import (
	"net/http/httptest"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
)

func TestBearerToken(t *testing.T) {
	for _, c := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer  abc ", "abc", true},
		{"BEARER abc", "abc", true},
		{"", "", false},
		{"Bearer ", "", false},
		{"Bearer    ", "", false},
		{"Basic abc", "", false},
		{"Bearerabc", "", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if tok, ok := httpx.BearerToken(r); tok != c.token || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.header, tok, ok, c.token, c.ok)
		}
	}
}
