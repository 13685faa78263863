package controlapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/gamelift"
)

// These benchmarks measure the adapter's own cost (routing, body read,
// SigV4 or bearer check, decode, encode, metrics) around a trivial
// ListLocations of 10 locations, calling the handler in process.

func benchEnv(b *testing.B) *env {
	e := newEnv(b, 0)
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin})
	for i := range 10 {
		if _, err := e.locs.create(ctx, &gamelift.CreateLocationInput{LocationName: fmt.Sprintf("custom-bench-%02d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func benchServe(b *testing.B, e *env, base *http.Request, body []byte) {
	b.ReportAllocs()
	for b.Loop() {
		r := base.Clone(context.Background())
		r.Body = io.NopCloser(bytes.NewReader(body))
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkControlAPI_ListLocations_CBOR(b *testing.B) {
	e := benchEnv(b)
	body := cbor.Encode(cbor.Map{"Limit": cbor.Uint(50)})
	benchServe(b, e, e.request(b, "/service/GameLift/operation/ListLocations", cborHeaders(), body, adminKey, adminSecret), body)
}

func BenchmarkControlAPI_ListLocations_JSON(b *testing.B) {
	e := benchEnv(b)
	body := []byte(`{"Limit":50}`)
	benchServe(b, e, e.request(b, "/", jsonHeaders("ListLocations"), body, adminKey, adminSecret), body)
}

// The bearer variant shows how much of the cost is SigV4.
func BenchmarkControlAPI_ListLocations_CBOR_Bearer(b *testing.B) {
	e := benchEnv(b)
	body := cbor.Encode(cbor.Map{"Limit": cbor.Uint(50)})
	r := e.request(b, "/service/GameLift/operation/ListLocations", cborHeaders(), body, adminKey, adminSecret)
	r.Header.Set("Authorization", "Bearer "+adminKey+":"+adminSecret)
	benchServe(b, e, r, body)
}
