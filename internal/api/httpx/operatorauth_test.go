package httpx_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/sigv4"
)

type keys map[string]string

func (k keys) OperatorSecret(_ context.Context, id string) (string, auth.Principal, error) {
	if id == "AKIABROKEN" {
		return "", auth.Principal{}, errors.New("store unavailable")
	}
	s, ok := k[id]
	if !ok {
		return "", auth.Principal{}, fmt.Errorf("key %s: %w", id, fault.New(fault.NotFound, "unknown key"))
	}
	return s, auth.Principal{Kind: auth.Operator, AccessKeyID: id, Role: auth.RoleReadOnly}, nil
}

func TestOperatorAuth(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	store := keys{"AKIA1": "s3cret"}
	a := httpx.OperatorAuth{Verifier: &sigv4.Verifier{Secrets: store, Clock: clock.NewFake(now)}}

	sigv4Req := func(secret string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "http://muster.test/", nil)
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIA1", SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), "gamelift", "home", now); err != nil {
			t.Fatal(err)
		}
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
		{"a failing key store is an internal error", withAuth("Bearer AKIABROKEN:x"), "", true},
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
