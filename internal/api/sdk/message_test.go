package sdk

import (
	"encoding/json"
	"testing"
)

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"Action":"AcceptPlayerSession","RequestId":"r1","GameSessionId":"g","PlayerSessionId":"psess-1"}`))
	f.Add([]byte(`{"Action":"HeartbeatServerProcess","RequestId":"r2","HealthStatus":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(data)
		if err == nil && req.RequestId == "" {
			t.Fatal("a request without RequestId decoded without error")
		}
		if req.RequestId == "" {
			return
		}
		// Whatever was decoded can be answered with a frame the SDKs parse,
		// carrying the same RequestId and Action.
		var env Envelope
		if err := json.Unmarshal(errorResponse(req, 400, "bad"), &env); err != nil || env.RequestId != req.RequestId || env.Action != req.Action || env.StatusCode != 400 {
			t.Fatalf("answer to %q does not round-trip: %+v %v", data, env, err)
		}
	})
}

func TestDecodeRequest(t *testing.T) {
	t.Run("a wrong member type keeps the envelope so the request can be answered", func(t *testing.T) {
		req, err := DecodeRequest([]byte(`{"Action":"ActivateServerProcess","RequestId":"r","Port":"7777"}`))
		if err == nil || req.RequestId != "r" || req.Action != "ActivateServerProcess" {
			t.Fatalf("got %+v, %v", req, err)
		}
	})
	t.Run("unknown members are ignored", func(t *testing.T) {
		req, err := DecodeRequest([]byte(`{"Action":"ActivateServerProcess","RequestId":"r","Port":7777,"SdkToolName":"Metrics","Future":{"x":1}}`))
		if err != nil || req.Port != 7777 || req.SdkToolName != "Metrics" {
			t.Fatalf("got %+v, %v", req, err)
		}
	})
	t.Run("a message without RequestId cannot be answered", func(t *testing.T) {
		if _, err := DecodeRequest([]byte(`{"Action":"HeartbeatServerProcess","HealthStatus":true}`)); err != errNoRequestID {
			t.Fatalf("err %v", err)
		}
	})
}
