package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// tlsRootsPkg measures the first-request costs of TLS (see testdata/tlsroots).
const tlsRootsPkg = "./infra/bench/testdata/tlsroots"

// TLSCosts are the medians of the tlsroots program's runs, in milliseconds.
type TLSCosts struct {
	Runs int `json:"runs"`
	// SystemRoots is loading and parsing the system's root certificates, which Go does
	// once per process, on the first TLS certificate check.
	SystemRoots Float `json:"systemRootsMs"`
	// FirstHTTPS is a first request to a local TLS server (connection and handshake,
	// against a one-certificate pool); WarmHTTPS the next one on the open connection.
	FirstHTTPS Float  `json:"firstHTTPSMs"`
	WarmHTTPS  Float  `json:"warmHTTPSMs"`
	Error      string `json:"error,omitempty"`
}

// MeasureTLS runs the tlsroots binary runs times, one at a time, with extraEnv added to
// this process's environment, and returns the medians.
func MeasureTLS(ctx context.Context, bin string, runs int, extraEnv ...string) *TLSCosts {
	var roots, first, warm []float64
	for range runs {
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(), extraEnv...)
		out, err := cmd.Output()
		if err != nil {
			return &TLSCosts{Error: fmt.Sprintf("tlsroots: %v", err)}
		}
		var m map[string]float64
		if err := json.Unmarshal(out, &m); err != nil {
			return &TLSCosts{Error: fmt.Sprintf("tlsroots: %v: %s", err, strings.TrimSpace(string(out)))}
		}
		roots, first, warm = append(roots, m["systemRootsMs"]), append(first, m["firstHTTPSMs"]), append(warm, m["warmHTTPSMs"])
	}
	return &TLSCosts{Runs: runs, SystemRoots: Float(Median(roots)), FirstHTTPS: Float(Median(first)), WarmHTTPS: Float(Median(warm))}
}

// FirstRequest are the TLS costs of a first request in AWS, measured on this machine:
// with Go's default search for root certificates (a certificate file, then every file
// of /etc/ssl/certs and /etc/pki/tls/certs), and with the certificate file only.
type FirstRequest struct {
	DefaultRoots *TLSCosts `json:"defaultRoots"`
	FileOnly     *TLSCosts `json:"certificateFileOnly"`
}

// NoCertDir is the SSL_CERT_DIR value that makes Go read root certificates from the
// certificate file only: a folder that does not exist.
const NoCertDir = "SSL_CERT_DIR=/nonexistent"
