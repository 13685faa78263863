package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/sigv4"
	"github.com/musterhq/muster/internal/sigv4/sigv4test"
)

func TestOperatorAuth(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	store := sigv4test.Keys{"AKIA1": {Secret: "s3cret", Role: auth.RoleReadOnly}}
	a := httpx.OperatorAuth{Verifier: &sigv4.Verifier{Secrets: store, Clock: clock.NewFake(now)}}

	sigv4Req := func(secret string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "http://muster.test/", nil)
		sigv4test.Sign(t, r, nil, "AKIA1", secret, "home", now)
		return r
	}
	withAuth := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "http://muster.test/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		return r
	}
	tests := []struct {
		name     string
		req      *http.Request
		wantCode string
		internal bool
	}{
		{"a SigV4-signed request is accepted", sigv4Req("s3cret"), "", false},
		{"a SigV4 request with a wrong secret is refused", sigv4Req("guess"), sigv4.CodeInvalidSignature, false},
		{"a bearer key with its secret is accepted", withAuth("Bearer AKIA1:s3cret"), "", false},
		{"the bearer scheme is case-insensitive", withAuth("bearer AKIA1:s3cret"), "", false},
		{"a bearer key with a wrong secret is refused", withAuth("Bearer AKIA1:s3creT"), sigv4.CodeUnrecognizedClient, false},
		{"a bearer key with a prefix of the secret is refused", withAuth("Bearer AKIA1:s3c"), sigv4.CodeUnrecognizedClient, false},
		{"an unknown bearer key is refused", withAuth("Bearer AKIA9:s3cret"), sigv4.CodeUnrecognizedClient, false},
		{"a bearer token without a secret is refused", withAuth("Bearer AKIA1"), sigv4.CodeUnrecognizedClient, false},
		{"basic auth is a missing token", withAuth("Basic QUtJQTE6czNjcmV0"), sigv4.CodeMissingAuthenticationToken, false},
		{"no Authorization header is a missing token", withAuth(""), sigv4.CodeMissingAuthenticationToken, false},
		{"a failing key store is an internal error", withAuth("Bearer " + sigv4test.Broken + ":x"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(tt.req, nil)
			var se *sigv4.Error
			switch {
			case tt.internal:
				if err == nil || errors.As(err, &se) {
					t.Fatalf("got %v, want an internal error", err)
				}
			case tt.wantCode == "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.AccessKeyID != "AKIA1" || p.Role != auth.RoleReadOnly {
					t.Fatalf("principal %+v", p)
				}
			default:
				if !errors.As(err, &se) || se.Code != tt.wantCode {
					t.Fatalf("got %v, want %s", err, tt.wantCode)
				}
			}
		})
	}
}
