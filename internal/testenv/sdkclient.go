package testenv

import (
	"bytes"
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
)

// BufferedBodies is the client-side cure for the Go SDK's transport race
// (see internal/server's TestTheGoSDKTransportRaceAgainstAMinimalServer):
// smithy-go closes a request body as soon as the response headers arrive,
// and net/http, still checking a streamed body for extra bytes, may then
// close the connection under the response being read ("use of closed
// network connection"). Handing net/http the body as a bytes.Reader, which
// it knows to be in memory, writes the request in one flush, so the body is
// never read after the SDK closes its copy. The README's client notes
// recommend it to Go SDK users who turn retries off, as the tests do.
func BufferedBodies(o *gamelift.Options) {
	o.HTTPClient = &http.Client{Transport: bufferedBody{awshttp.NewBuildableClient().GetTransport()}}
}

type bufferedBody struct{ http.RoundTripper }

func (b bufferedBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(data))
	}
	return b.RoundTripper.RoundTrip(req)
}
