package sign_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/webhook/sign"
)

// A studio's receiver checks each delivery against the subscription's
// secret before trusting it, and deduplicates by webhook-id.
func ExampleVerifier() {
	verifier, err := sign.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	// The example is signed at a fixed time; a receiver passes time.Now().
	now := time.Unix(1614265330, 0)
	receive := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := verifier.Verify(r.Header, body, now); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("verified", r.Header.Get(sign.HeaderID))
		w.WriteHeader(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(`{"test": 2432232314}`))
	req.Header.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	req.Header.Set("webhook-timestamp", "1614265330")
	req.Header.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	rec := httptest.NewRecorder()
	receive.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// verified msg_p5jXN8AQM9LWM0D4loKWxJek
	// 204
}
