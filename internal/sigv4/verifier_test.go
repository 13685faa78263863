package sigv4_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/sigv4"
	"github.com/musterhq/muster/internal/sigv4/sigv4test"
)

const (
	testKey    = "AKIAMUSTERTEST000001"
	testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAx"
)

var testNow = time.Date(2026, 11, 27, 3, 30, 0, 0, time.UTC)

// keys holds the test key, an admin's.
func keys() sigv4test.Keys {
	return sigv4test.Keys{testKey: {Secret: testSecret, Role: auth.RoleAdmin}}
}

// sdkRequest builds the unsigned request of a GameLift operation with the
// headers the Go SDK sends (maxAttempts is the SDK's retry budget).
func sdkRequest(operation string, maxAttempts int, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/service/GameLift/operation/"+operation, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/cbor")
	r.Header.Set("Accept", "application/cbor")
	r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	r.Header.Set("Amz-Sdk-Invocation-Id", "5a1c7bde-5f2c-4b4e-a9ce-1d8c2f0f5f4a")
	r.Header.Set("Amz-Sdk-Request", fmt.Sprintf("attempt=1; max=%d", maxAttempts))
	return r
}

// signed builds a request as the Go SDK sends it and signs it at t.
func signed(t *testing.T, key, secret string, at time.Time, body []byte, mutate ...func(*http.Request)) *http.Request {
	t.Helper()
	r := sdkRequest("ListLocations", 1, body)
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0")
	sigv4test.Sign(t, r, body, key, secret, "eu-west-1", at)
	for _, m := range mutate {
		m(r)
	}
	return r
}

func TestVerify(t *testing.T) {
	body := []byte{0xa1, 0x65, 'L', 'i', 'm', 'i', 't', 0x05}
	tests := []struct {
		name     string
		req      func(t *testing.T) *http.Request
		body     []byte
		wantCode string // "" means accepted
	}{
		{"a request signed by the SDK is accepted", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body)
		}, body, ""},
		{"a request with an empty body is accepted", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, nil)
		}, nil, ""},
		{"a header added after signing, e.g. by a proxy, is ignored", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") })
		}, body, ""},
		{"a request signed 4 minutes ago is accepted", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow.Add(-4*time.Minute), body)
		}, body, ""},
		{"a body changed after signing is refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body)
		}, []byte{0xa1, 0x65, 'L', 'i', 'm', 'i', 't', 0x06}, sigv4.CodeInvalidSignature},
		{"a signed header changed after signing is refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.Header.Set("Amz-Sdk-Request", "attempt=2; max=3") })
		}, body, sigv4.CodeInvalidSignature},
		{"another path than the signed one is refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.URL.Path = "/service/GameLift/operation/DeleteFleet" })
		}, body, sigv4.CodeInvalidSignature},
		{"another host than the signed one is refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.Host = "evil.example:8080" })
		}, body, sigv4.CodeInvalidSignature},
		{"a wrong secret is refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, "not-the-secret", testNow, body)
		}, body, sigv4.CodeInvalidSignature},
		{"an unknown access key is refused", func(t *testing.T) *http.Request {
			return signed(t, "AKIAUNKNOWN", testSecret, testNow, body)
		}, body, sigv4.CodeUnrecognizedClient},
		{"a request signed 6 minutes ago has expired", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow.Add(-6*time.Minute), body)
		}, body, sigv4.CodeInvalidSignature},
		{"a request signed 6 minutes in the future is not yet current", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow.Add(6*time.Minute), body)
		}, body, sigv4.CodeInvalidSignature},
		{"no Authorization header is a missing token", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.Header.Del("Authorization") })
		}, body, sigv4.CodeMissingAuthenticationToken},
		{"a missing X-Amz-Date is an incomplete signature", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.Header.Del("X-Amz-Date") })
		}, body, sigv4.CodeIncompleteSignature},
		{"a scope date other than X-Amz-Date's is refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261127/", "/20261126/", 1))
			})
		}, body, sigv4.CodeInvalidSignature},
		{"a scope for another service is refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/gamelift/", "/s3/", 1))
			})
		}, body, sigv4.CodeInvalidSignature},
		{"temporary credentials are refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "tok") })
		}, body, sigv4.CodeUnrecognizedClient},
		{"two Authorization headers are refused", func(t *testing.T) *http.Request {
			return signed(t, testKey, testSecret, testNow, body, func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) })
		}, body, sigv4.CodeIncompleteSignature},
	}
	v := &sigv4.Verifier{Secrets: keys(), Clock: clock.NewFake(testNow)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(tt.req(t), tt.body)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.Kind != auth.Operator || p.AccessKeyID != testKey {
					t.Fatalf("principal %+v", p)
				}
				return
			}
			var se *sigv4.Error
			if !errors.As(err, &se) || se.Code != tt.wantCode {
				t.Fatalf("got %v, want %s", err, tt.wantCode)
			}
			if strings.Contains(se.Message, testSecret) || strings.Contains(se.Message, "Signature=") {
				t.Fatalf("message leaks credentials: %q", se.Message)
			}
		})
	}
}

func TestSkewMessagesSayWhatAWSSays(t *testing.T) {
	v := &sigv4.Verifier{Secrets: keys(), Clock: clock.NewFake(testNow)}
	_, err := v.Verify(signed(t, testKey, testSecret, testNow.Add(-10*time.Minute), nil), nil)
	var se *sigv4.Error
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
	want := "Signature expired: 20261127T032000Z is now earlier than 20261127T032500Z (20261127T033000Z - 5 min.)"
	if se.Message != want {
		t.Fatalf("got %q, want %q", se.Message, want)
	}
}

func TestMaxSkewIsConfigurable(t *testing.T) {
	v := &sigv4.Verifier{Secrets: keys(), Clock: clock.NewFake(testNow), MaxSkew: time.Minute}
	if _, err := v.Verify(signed(t, testKey, testSecret, testNow.Add(-2*time.Minute), nil), nil); err == nil {
		t.Fatal("a request 2 minutes old passed a 1 minute window")
	}
}

func TestAFailingSecretSourceIsNotAnAuthenticationError(t *testing.T) {
	v := &sigv4.Verifier{Secrets: sigv4test.Keys{}, Clock: clock.NewFake(testNow)}
	_, err := v.Verify(signed(t, sigv4test.Broken, testSecret, testNow, nil), nil)
	var se *sigv4.Error
	if err == nil || errors.As(err, &se) {
		t.Fatalf("got %v, want a plain (internal) error", err)
	}
	if !strings.Contains(err.Error(), "database is down") {
		t.Fatalf("cause lost: %v", err)
	}
}

func TestARotatedSecretTakesEffectAtOnce(t *testing.T) {
	keys := keys()
	v := &sigv4.Verifier{Secrets: keys, Clock: clock.NewFake(testNow)}
	if _, err := v.Verify(signed(t, testKey, testSecret, testNow, nil), nil); err != nil {
		t.Fatal(err)
	}
	keys[testKey] = sigv4test.Key{Secret: "rotated-secret", Role: auth.RoleAdmin}
	if _, err := v.Verify(signed(t, testKey, testSecret, testNow, nil), nil); err == nil {
		t.Fatal("the old secret still works after rotation")
	}
	if _, err := v.Verify(signed(t, testKey, "rotated-secret", testNow, nil), nil); err != nil {
		t.Fatalf("the new secret fails: %v", err)
	}
}

// BenchmarkVerify checks the signature of a StartMatchmaking-sized request
// as the Go SDK signs it.
func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte{'x'}, 200)
	v := &sigv4.Verifier{Secrets: keys(), Clock: clock.NewFake(testNow)}
	r := sdkRequest("StartMatchmaking", 3, body)
	sigv4test.Sign(b, r, body, testKey, testSecret, "eu-west-1", testNow)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
