package cloudflare_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
	"github.com/webinfra/webinfra/internal/ratelimit"
)

type fakeHarness struct{}

func (fakeHarness) New(t *testing.T) cloudflaretest.Target {
	srv := cloudflaretest.Start(t, cloudflaretest.Options{})
	srv.AddZone("example.com")
	// The fake enforces no limit here; the client's default budget would only slow the suite.
	c, err := cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret(srv.Token()), BaseURL: srv.URL(),
		Budget: ratelimit.Budget{Requests: 1000, Per: time.Second, Burst: 1000}})
	require.NoError(t, err)
	return cloudflaretest.Target{Client: c, Zone: "example.com", Prefix: cloudflaretest.UniquePrefix(),
		Token: webinfra.NewSecret(srv.Token()), BaseURL: srv.URL()}
}

func (fakeHarness) Caps() cloudflaretest.Caps {
	return cloudflaretest.Caps{Tags: true, ZoneSettings: true}
}

func TestConformanceFake(t *testing.T) {
	cloudflaretest.RunConformance(t, fakeHarness{})
}

// realHarness runs against the real API in a zone given for tests. Records go under a fresh
// label per subtest and are removed after it; zone settings are left alone.
type realHarness struct{ token, zone string }

func (h realHarness) New(t *testing.T) cloudflaretest.Target {
	c, err := cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret(h.token)})
	require.NoError(t, err)
	return cloudflaretest.Target{Client: c, Zone: h.zone, Prefix: cloudflaretest.UniquePrefix(), Token: webinfra.NewSecret(h.token)}
}

func (realHarness) Caps() cloudflaretest.Caps {
	return cloudflaretest.Caps{Tags: os.Getenv("WEBINFRA_CF_TEST_TAGS") == "true"}
}

// TestConformanceReal needs CLOUDFLARE_API_TOKEN and WEBINFRA_CF_TEST_ZONE. Cloudflare is the
// one real backend that cannot run here, so without them this test skips, in CI too.
func TestConformanceReal(t *testing.T) {
	token, zone := os.Getenv("CLOUDFLARE_API_TOKEN"), os.Getenv("WEBINFRA_CF_TEST_ZONE")
	if token == "" || zone == "" {
		t.Skip("set CLOUDFLARE_API_TOKEN and WEBINFRA_CF_TEST_ZONE to run the conformance suite against the real Cloudflare API")
	}
	cloudflaretest.RunConformance(t, realHarness{token: token, zone: zone})
}
