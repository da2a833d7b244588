package cloudflaretest

import (
	"net/http"
	"testing"

	"github.com/webinfra/webinfra"
)

// TestOptionsToken: a fake made with a token accepts that one and refuses DefaultToken.
func TestOptionsToken(t *testing.T) {
	srv := Start(t, Options{Token: "my-token_1"})
	srv.AddZone("example.com")
	tg := Target{Zone: "example.com", Token: webinfra.NewSecret("my-token_1"), BaseURL: srv.URL()}
	if status, env := raw(t, tg, nil, http.MethodGet, "/zones", nil); status != http.StatusOK || !env.Success {
		t.Fatalf("the fake's own token refused: HTTP %d %+v", status, env.Errors)
	}
	status, env := raw(t, tg, header("Bearer "+DefaultToken), http.MethodGet, "/zones", nil)
	wantRefused(t, status, env, http.StatusForbidden, 9109)
}

// TestOptionsMinTTL: Free to Business zones refuse TTLs under 60; an Enterprise fake
// (MinTTL 30) accepts 30 and refuses 29.
func TestOptionsMinTTL(t *testing.T) {
	for _, c := range []struct {
		minTTL, ttl int
		ok          bool
	}{{0, 30, false}, {0, 59, false}, {0, 60, true}, {30, 30, true}, {30, 29, false}} {
		srv := Start(t, Options{MinTTL: c.minTTL})
		zone := srv.AddZone("example.com")
		tg := Target{Zone: "example.com", Token: webinfra.NewSecret(srv.Token()), BaseURL: srv.URL()}
		status, env := raw(t, tg, nil, http.MethodPost, "/zones/"+zone+"/dns_records",
			map[string]any{"name": "www.example.com", "type": "A", "content": "192.0.2.1", "ttl": c.ttl})
		if c.ok && status != http.StatusOK {
			t.Errorf("MinTTL %d, TTL %d refused: HTTP %d %+v", c.minTTL, c.ttl, status, env.Errors)
		}
		if !c.ok {
			wantRefused(t, status, env, http.StatusBadRequest, 9021)
		}
	}
}
