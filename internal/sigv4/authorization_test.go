package sigv4_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/sigv4"
)

const goodAuth = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261127/eu-west-1/gamelift/aws4_request, SignedHeaders=accept;content-length;content-type;host;x-amz-date, Signature=" +
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseAuthorization(t *testing.T) {
	a, err := sigv4.ParseAuthorization(goodAuth)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKeyID != "AKIAEXAMPLE" || a.Date != "20261127" || a.Region != "eu-west-1" || a.Service != "gamelift" {
		t.Fatalf("scope %+v", a)
	}
	if !slices.Equal(a.SignedHeaders, []string{"accept", "content-length", "content-type", "host", "x-amz-date"}) {
		t.Fatalf("signed headers %v", a.SignedHeaders)
	}
	if len(a.Signature) != 32 || a.Signature[0] != 0x01 {
		t.Fatalf("signature % x", a.Signature)
	}
}

func TestParseAuthorizationRefuses(t *testing.T) {
	tests := []struct {
		name string
		h    string
	}{
		{"another algorithm", strings.Replace(goodAuth, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)},
		{"no credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + strings.Repeat("0", 64)},
		{"no signed headers", "AWS4-HMAC-SHA256 Credential=A/20261127/r/gamelift/aws4_request, Signature=" + strings.Repeat("0", 64)},
		{"no signature", "AWS4-HMAC-SHA256 Credential=A/20261127/r/gamelift/aws4_request, SignedHeaders=host"},
		{"a repeated element", goodAuth + ", Signature=" + strings.Repeat("0", 64)},
		{"an unknown element", goodAuth + ", Foo=bar"},
		{"a credential with four parts", strings.Replace(goodAuth, "/eu-west-1", "", 1)},
		{"a credential without the aws4_request terminator", strings.Replace(goodAuth, "aws4_request", "aws5_request", 1)},
		{"an empty access key", strings.Replace(goodAuth, "AKIAEXAMPLE", "", 1)},
		{"a date that is not yyyymmdd", strings.Replace(goodAuth, "20261127", "2026-11-27", 1)},
		{"upper-case signed headers", strings.Replace(goodAuth, "accept;", "Accept;", 1)},
		{"an empty signed header name", strings.Replace(goodAuth, "accept;", ";", 1)},
		{"a short signature", goodAuth[:len(goodAuth)-2]},
		{"a signature that is not hex", goodAuth[:len(goodAuth)-2] + "zz"},
		{"an element without '='", goodAuth + ", junk"},
		{"an empty header", ""},
	}
	for _, tt := range tests {
		t.Run("it refuses "+tt.name, func(t *testing.T) {
			_, err := sigv4.ParseAuthorization(tt.h)
			var se *sigv4.Error
			if !errors.As(err, &se) || se.Code != sigv4.CodeIncompleteSignature {
				t.Fatalf("got %v, want IncompleteSignatureException", err)
			}
			if strings.Contains(se.Message, "AKIAEXAMPLE") || strings.Contains(se.Message, "0123456789abcdef") {
				t.Fatalf("message quotes the header: %q", se.Message)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add(goodAuth)
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;, Signature=")
	f.Add("Bearer AKIA:secret")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := sigv4.ParseAuthorization(h)
		if err != nil {
			var se *sigv4.Error
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.Signature) != 32 || len(a.SignedHeaders) == 0 || len(a.Date) != 8 {
			t.Fatalf("accepted an incomplete header: %+v", a)
		}
	})
}
