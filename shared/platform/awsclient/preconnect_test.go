package awsclient

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A preconnected client's next request reuses the connection Preconnect opened.
func TestPreconnectLeavesTheConnectionInThePool(t *testing.T) {
	var conns, gets atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets.Add(1)
			// DynamoDB Local's answer to GET /: an error document, kept alive.
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"MissingAuthenticationToken"}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()

	preconnect(hc, srv.URL+"/")
	if gets.Load() != 1 || conns.Load() != 1 {
		t.Fatalf("after preconnect: %d GETs, %d connections", gets.Load(), conns.Load())
	}
	resp, err := hc.Post(srv.URL+"/", "application/x-amz-json-1.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want the preconnected one reused", n)
	}

	// In the background, and harmless when the endpoint cannot be reached.
	Preconnect(hc, srv.URL+"/")
	Preconnect(hc, "http://127.0.0.1:1/")
	Preconnect(nil, srv.URL)
	Preconnect(hc, "")
	deadline := time.Now().Add(5 * time.Second)
	for gets.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if gets.Load() != 2 {
		t.Errorf("Preconnect did not connect in the background: %d GETs", gets.Load())
	}
}
