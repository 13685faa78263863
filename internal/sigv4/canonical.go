package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
)

// The signature of the requests AWS SDKs send — a path of plain
// characters, no query, the host and date signed, every signed header
// present — is computed here directly from the request: the SDK's signer,
// which sign falls back to for anything else, copies the request and its
// headers, sorts and re-derives them, and cost a twentieth of a control-API
// request's CPU. Both give the same signature (TestCanonicalMatchesTheSDK).

// signingKeys caches derived signing keys by key, secret and scope: a key
// is four HMACs, and one serves a key's requests for a whole day.
type signingKeys struct {
	mu sync.Mutex
	m  map[signingScope][]byte
}

type signingScope struct {
	secret                [32]byte // sha256 of access key id and secret
	date, region, service string
}

func (c *signingKeys) get(secretSum [32]byte, secret string, a Authorization) []byte {
	scope := signingScope{secretSum, a.Date, a.Region, a.Service}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.m[scope]; ok {
		return k
	}
	if c.m == nil || len(c.m) >= 1024 {
		c.m = make(map[signingScope][]byte)
	}
	k := hmacSHA256([]byte("AWS4"+secret), a.Date)
	k = hmacSHA256(k, a.Region)
	k = hmacSHA256(k, a.Service)
	k = hmacSHA256(k, "aws4_request")
	c.m[scope] = k
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// canonicalSignature computes the signature of r directly, or reports
// false when r is not of the plain form this handles.
func canonicalSignature(r *http.Request, body []byte, a Authorization, amzDate string, key []byte) ([]byte, bool) {
	if r.URL.RawQuery != "" || r.URL.Opaque != "" || !plainPath(r.URL.Path) || r.URL.RawPath != "" ||
		strings.HasSuffix(r.Host, ":80") || strings.HasSuffix(r.Host, ":443") || r.Host == "" {
		return nil, false
	}
	var sb strings.Builder
	sb.Grow(512)
	sb.WriteString(r.Method)
	sb.WriteByte('\n')
	sb.WriteString(r.URL.Path)
	sb.WriteString("\n\n")
	var host, date bool
	prev := ""
	for _, name := range a.SignedHeaders {
		if name <= prev { // the SDKs send them sorted, once each
			return nil, false
		}
		prev = name
		sb.WriteString(name)
		sb.WriteByte(':')
		switch name {
		case "host":
			sb.WriteString(stripExcessSpaces(r.Host))
			host = true
		case "content-length":
			sb.WriteString(strconv.Itoa(len(body)))
		default:
			vals, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
			if !ok {
				return nil, false
			}
			for i, v := range vals {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(strings.TrimSpace(stripExcessSpaces(v)))
			}
			date = date || name == "x-amz-date"
		}
		sb.WriteByte('\n')
	}
	if !host || !date {
		return nil, false
	}
	sb.WriteByte('\n')
	for i, name := range a.SignedHeaders {
		if i > 0 {
			sb.WriteByte(';')
		}
		sb.WriteString(name)
	}
	sb.WriteByte('\n')
	payload := sha256.Sum256(body)
	sb.WriteString(hex.EncodeToString(payload[:]))
	request := sha256.Sum256([]byte(sb.String()))

	sb.Reset()
	sb.WriteString(Algorithm + "\n")
	sb.WriteString(amzDate)
	sb.WriteByte('\n')
	sb.WriteString(a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request\n")
	sb.WriteString(hex.EncodeToString(request[:]))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sb.String()))
	return mac.Sum(nil), true
}

// plainPath reports a path that SigV4's URI encoding leaves as it is.
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
		default:
			return false
		}
	}
	return !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}

// stripExcessSpaces trims v of spaces and makes each run of spaces inside
// it one, as SigV4 canonicalises a header value (each value of a header
// apart, then also trimmed of other white space).
func stripExcessSpaces(v string) string {
	v = strings.Trim(v, " ")
	if !strings.Contains(v, "  ") {
		return v
	}
	var sb strings.Builder
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if !space {
				sb.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		sb.WriteByte(v[i])
	}
	return sb.String()
}
