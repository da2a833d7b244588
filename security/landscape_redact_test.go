package security_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/security"
)

const (
	leakAccessKey = "AKIDLEAKCHECK0123456789"
	leakSecretKey = "secret-key-that-must-not-leak-9876543210"
	leakToken     = "jwt-token-that-must-not-leak-abcdefghij"
)

var leakNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// closedPortURL returns the URL of a loopback port nothing listens on any more.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// hangUpServer answers the REST login with leakToken and drops every other connection without
// a reply, so that http.Client.Do fails with a *url.Error after the request was sent.
func hangUpServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/login") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"token":"` + leakToken + `"}`))
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hangingServer holds every request until the client gives up.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/login") {
			_, _ = w.Write([]byte(`{"token":"` + leakToken + `"}`))
			return
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

// assertNoCredentials fails when err's text holds any credential or any part of a signed
// legacy query that identifies the caller.
func assertNoCredentials(t *testing.T, base string, err error) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	u, perr := url.Parse(base)
	require.NoError(t, perr)
	signed, perr := url.ParseQuery(security.SignLegacy(http.MethodGet, u.Host, "/api/", url.Values{}, leakAccessKey, webinfra.NewSecret(leakSecretKey), leakNow))
	require.NoError(t, perr)
	sig := signed.Get("signature")
	require.NotEmpty(t, sig)
	for name, bad := range map[string]string{
		"access key": leakAccessKey, "secret key": leakSecretKey, "token": leakToken,
		"signature": sig, "escaped signature": url.QueryEscape(sig),
		"access_key_id parameter": "access_key_id", "signature parameter": "signature=",
	} {
		assert.NotContains(t, msg, bad, "%s in error %q", name, msg)
	}
}

func TestLandscapeTransportErrorsCarryNoCredentials(t *testing.T) {
	for _, mode := range []string{"legacy", "rest-access-key", "rest-password"} {
		config := func(base string, hc *http.Client) security.LandscapeConfig {
			cfg := security.LandscapeConfig{BaseURL: base, HTTPClient: hc, Now: func() time.Time { return leakNow }}
			switch mode {
			case "legacy":
				cfg.Legacy, cfg.AccessKey, cfg.SecretKey = true, leakAccessKey, webinfra.NewSecret(leakSecretKey)
			case "rest-access-key":
				cfg.AccessKey, cfg.SecretKey = leakAccessKey, webinfra.NewSecret(leakSecretKey)
			case "rest-password":
				cfg.Email, cfg.Password = "ops@example.com", webinfra.NewSecret(leakSecretKey)
			}
			return cfg
		}
		// Each call reaches the legacy action endpoint (Activity) and the REST API (Computers).
		calls := map[string]func(context.Context, *security.Landscape) error{
			"legacy-action": func(ctx context.Context, c *security.Landscape) error { _, err := c.Activity(ctx, 7); return err },
			"rest-list":     func(ctx context.Context, c *security.Landscape) error { _, err := c.Computers(ctx, ""); return err },
		}
		for callName, call := range calls {
			t.Run(mode+"/"+callName+"/ClosedPort", func(t *testing.T) {
				base := closedPortURL(t)
				c, err := security.NewLandscape(config(base, nil))
				require.NoError(t, err)
				err = call(t.Context(), c)
				assertNoCredentials(t, base, err)
				assert.ErrorIs(t, err, webinfra.ErrUnavailable)
				var ue *url.Error
				require.ErrorAs(t, err, &ue, "the transport error stays in the chain")
				var oe *net.OpError
				assert.ErrorAs(t, err, &oe, "the dial error stays in the chain")
			})
			t.Run(mode+"/"+callName+"/HangUp", func(t *testing.T) {
				srv := hangUpServer(t)
				c, err := security.NewLandscape(config(srv.URL, nil))
				require.NoError(t, err)
				err = call(t.Context(), c)
				assertNoCredentials(t, srv.URL, err)
				assert.ErrorIs(t, err, webinfra.ErrUnavailable)
			})
			t.Run(mode+"/"+callName+"/ClientTimeout", func(t *testing.T) {
				srv := hangingServer(t)
				c, err := security.NewLandscape(config(srv.URL, &http.Client{Timeout: 100 * time.Millisecond}))
				require.NoError(t, err)
				err = call(t.Context(), c)
				assertNoCredentials(t, srv.URL, err)
				assert.ErrorIs(t, err, context.DeadlineExceeded, "the client's timeout stays visible")
				var ne net.Error
				require.ErrorAs(t, err, &ne)
				assert.True(t, ne.Timeout())
			})
		}
	}
}

// The redacted URL still says where the request went, so the error stays useful.
func TestLandscapeTransportErrorNamesEndpoint(t *testing.T) {
	base := closedPortURL(t)
	c, err := security.NewLandscape(security.LandscapeConfig{BaseURL: base, Legacy: true, AccessKey: leakAccessKey, SecretKey: webinfra.NewSecret(leakSecretKey)})
	require.NoError(t, err)
	_, err = c.Activity(t.Context(), 7)
	require.Error(t, err)
	assert.Contains(t, err.Error(), base+"/api/")
	assert.Contains(t, err.Error(), webinfra.Redacted)
	assert.False(t, errors.Is(err, context.Canceled))
}
