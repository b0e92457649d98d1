// Command tlsroots measures, in a fresh process, the first-request costs that the local
// cold starts cannot show because the emulators speak plain HTTP: loading the system's
// TLS root certificates (Go does it once per process, on the first certificate check)
// and a first TLS handshake against a local server, then the same request again on the
// open connection. It prints one JSON object, in milliseconds.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"
)

func main() {
	begin := time.Now()
	if _, err := x509.SystemCertPool(); err != nil {
		fmt.Fprintln(os.Stderr, "system roots:", err)
		os.Exit(1)
	}
	roots := time.Since(begin)

	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func() time.Duration {
		start := time.Now()
		resp, err := client.Get(srv.URL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "https:", err)
			os.Exit(1)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	first, second := get(), get()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	_ = json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"systemRootsMs": ms(roots), "firstHTTPSMs": ms(first), "warmHTTPSMs": ms(second),
	})
}
