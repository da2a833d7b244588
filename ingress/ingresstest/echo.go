package ingresstest

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Echoed is what an [Echo] backend received, as it answers it in JSON.
type Echoed struct {
	// Method is the request method.
	Method string `json:"method"`
	// Host is the Host header the backend saw.
	Host string `json:"host"`
	// Path is the request path.
	Path string `json:"path"`
	// Query is the raw query.
	Query string `json:"query"`
	// Header holds every request header.
	Header http.Header `json:"header"`
	// RemoteAddr is the TCP peer of the backend (Traefik).
	RemoteAddr string `json:"remoteAddr"`
	// Body is the request body.
	Body string `json:"body"`
	// Local is the backend's own address, which tells backends apart.
	Local string `json:"local"`
}

// Echo is an HTTP backend on loopback that answers every request with 200 and the JSON of an
// [Echoed] describing it.
type Echo struct {
	// URL is the backend's base URL, http://127.0.0.1:PORT, for a load-balancer server.
	URL string
	// Addr is the backend's address, 127.0.0.1:PORT, as [Echoed.Local] shows it.
	Addr string
	srv  *httptest.Server
}

// StartEcho starts an [Echo] backend, closed when the test ends.
func StartEcho(t testing.TB) *Echo {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Echoed{
			Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery,
			Header: r.Header, RemoteAddr: r.RemoteAddr, Body: string(body),
			Local: fmt.Sprint(r.Context().Value(http.LocalAddrContextKey)),
		})
	}))
	t.Cleanup(srv.Close)
	return &Echo{URL: srv.URL, Addr: srv.Listener.Addr().String(), srv: srv}
}

// insecureTLS is the client TLS configuration for Traefik's self-signed default certificate.
func insecureTLS(serverName string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: serverName} //nolint:gosec // test client of a self-signed loopback server
}
