package sigv4

import (
	"encoding/hex"
	"strings"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// Authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/gamelift/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
type Authorization struct {
	AccessKeyID string
	Date        string // yyyymmdd of the credential scope
	Region      string
	Service     string
	// SignedHeaders are the lower-case header names, in the order given.
	SignedHeaders []string
	// Signature is the decoded 32-byte signature.
	Signature []byte
}

// ParseAuthorization parses a SigV4 Authorization header value. Errors are
// *Error with Code IncompleteSignatureException; they never quote the
// header.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(h, Algorithm+" ")
	if !ok {
		return a, incomplete("Authorization header must use the %s algorithm", Algorithm)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		k, v, found := strings.Cut(part, "=")
		if !found {
			return a, incomplete("Authorization header has a malformed element")
		}
		var dup bool
		switch k {
		case "Credential":
			cred, dup, haveCred = v, haveCred, true
		case "SignedHeaders":
			signed, dup, haveSigned = v, haveSigned, true
		case "Signature":
			sig, dup, haveSig = v, haveSig, true
		default:
			return a, incomplete("Authorization header has an unknown element")
		}
		if dup {
			return a, incomplete("Authorization header repeats the %s element", k)
		}
	}
	switch {
	case !haveCred:
		return a, incomplete("Authorization header requires a Credential element")
	case !haveSigned:
		return a, incomplete("Authorization header requires a SignedHeaders element")
	case !haveSig:
		return a, incomplete("Authorization header requires a Signature element")
	}

	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return a, incomplete("Credential must have the form <AccessKeyId>/<date>/<region>/<service>/aws4_request")
	}
	for _, s := range scope[:4] {
		if s == "" {
			return a, incomplete("Credential must have the form <AccessKeyId>/<date>/<region>/<service>/aws4_request")
		}
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = scope[0], scope[1], scope[2], scope[3]
	if len(a.Date) != 8 || strings.Trim(a.Date, "0123456789") != "" {
		return a, incomplete("Credential date must be yyyymmdd")
	}

	if signed == "" {
		return a, incomplete("SignedHeaders must not be empty")
	}
	a.SignedHeaders = strings.Split(signed, ";")
	for _, name := range a.SignedHeaders {
		if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, " \t:") {
			return a, incomplete("SignedHeaders must be lower-case header names separated by ';'")
		}
	}

	if len(sig) != 64 {
		return a, incomplete("Signature must be 64 hexadecimal characters")
	}
	b, err := hex.DecodeString(sig)
	if err != nil {
		return a, incomplete("Signature must be 64 hexadecimal characters")
	}
	a.Signature = b
	return a, nil
}
