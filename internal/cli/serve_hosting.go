package cli

import (
	"flag"

	"github.com/musterhq/muster/internal/server"
)

// registerHostingFlags adds the server SDK endpoint's flags to `muster serve`.
func registerHostingFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.SDKListen, "sdk-listen", server.DefaultSDKListen, "`address` of the server SDK endpoint (GameLift Server SDK 5 WebSocket; ws:// and wss:// on one port; port 0 picks a free one)")
	fs.StringVar(&cfg.SDKURL, "sdk-url", "", "`URL` that RegisterCompute advertises to game servers (default ws://<bound --sdk-listen address>; use wss://… for TLS)")
	fs.StringVar(&cfg.SDKTLSCert, "sdk-tls-cert", "", "PEM certificate `file` for the SDK endpoint (default: a self-signed ECDSA certificate generated into <data-dir>/sdk-tls-cert.pem)")
	fs.StringVar(&cfg.SDKTLSKey, "sdk-tls-key", "", "PEM private key `file` for --sdk-tls-cert")
	fs.StringVar(&cfg.SDKAddrFile, "sdk-addr-file", "", "write the SDK endpoint's bound address to this `file` once listening")
}
