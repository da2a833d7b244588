package cloudflare_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
	"github.com/webinfra/webinfra/internal/ratelimit"
)

// TestLockoutPausesEveryCallThenRecovers spends the fake's budget with a client allowed more
// than the fake: the 429 with Retry-After pauses the client, which then carries on.
func TestLockoutPausesEveryCallThenRecovers(t *testing.T) {
	// A long window, so a slow machine cannot let it lapse before the sixth call.
	srv := cloudflaretest.Start(t, cloudflaretest.Options{Budget: cloudflaretest.Budget{Requests: 5, Window: time.Minute, Lockout: time.Second}})
	srv.AddZone("example.com")
	c, err := cloudflare.New(cloudflare.Config{
		Token: webinfra.NewSecret(srv.Token()), BaseURL: srv.URL(),
		Budget: ratelimit.Budget{Requests: 1000, Per: time.Second, Burst: 100},
	})
	require.NoError(t, err)
	start := time.Now()
	for range 8 {
		_, err := c.ZoneID(t.Context(), "example.com")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Limited(), "one 429, then every caller waited out the lockout")
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
}

// TestClientBudgetAvoidsLockout keeps a client's budget below the fake's: no call is ever
// answered 429.
func TestClientBudgetAvoidsLockout(t *testing.T) {
	srv := cloudflaretest.Start(t, cloudflaretest.Options{Budget: cloudflaretest.Budget{Requests: 12, Window: 500 * time.Millisecond}})
	srv.AddZone("example.com")
	c, err := cloudflare.New(cloudflare.Config{
		Token: webinfra.NewSecret(srv.Token()), BaseURL: srv.URL(),
		Budget: ratelimit.Budget{Requests: 10, Per: 500 * time.Millisecond, Burst: 1},
	})
	require.NoError(t, err)
	for range 30 {
		_, err := c.ZoneID(t.Context(), "example.com")
		require.NoError(t, err)
	}
	assert.Zero(t, srv.Limited())
}
