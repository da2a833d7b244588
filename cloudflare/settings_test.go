package cloudflare_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
)

func TestSettingsConverge(t *testing.T) {
	e := setup(t, 0)
	on := true
	s := cloudflare.Settings{
		Zone: "example.com", SSL: "strict", AlwaysUseHTTPS: &on, AutomaticHTTPSRewrites: &on, MinTLSVersion: "1.2",
		HSTS:  &cloudflare.HSTS{Enabled: true, MaxAgeSeconds: 31536000, IncludeSubdomains: true, NoSniff: true},
		Other: map[string]any{"browser_cache_ttl": 7200},
	}
	p, err := e.client.PlanSettings(t.Context(), s)
	require.NoError(t, err)
	// automatic_https_rewrites is already on: 5 of the 6 settings change.
	assert.Equal(t, webinfra.Summary{Update: 5}, p.Plan().Summary(), "%s", p.Plan())
	assert.Contains(t, p.Plan().String(), `~ zone_setting example.com ssl`)
	assert.Contains(t, p.Plan().String(), `value = "full" -> "strict"`)
	assert.Equal(t, 0, e.srv.Count("PATCH /zones/{id}/settings/ssl"), "Plan only reads")

	require.NoError(t, e.client.ApplySettings(t.Context(), p))
	assert.Equal(t, "strict", e.srv.Setting(e.zoneID, "ssl"))
	hsts := e.srv.Setting(e.zoneID, "security_header").(map[string]any)["strict_transport_security"].(map[string]any)
	assert.Equal(t, 31536000.0, hsts["max_age"])
	assert.Equal(t, true, hsts["nosniff"])

	again, err := e.client.PlanSettings(t.Context(), s)
	require.NoError(t, err)
	assert.True(t, again.Empty(), "%s", again.Plan())
}

func TestSettingsValidate(t *testing.T) {
	s := cloudflare.Settings{SSL: "full_strict", MinTLSVersion: "1.4",
		HSTS:  &cloudflare.HSTS{Enabled: true, MaxAgeSeconds: 300, Preload: true},
		Other: map[string]any{"ssl": "off", "bad/name": "on", "brotli": nil}}
	err := s.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"zone: required",
		`ssl: invalid value "full_strict": supported values: "off", "flexible", "full", "strict"`,
		`minTLSVersion: invalid value "1.4"`,
		`hsts.preload: invalid value "true": preload needs maxAgeSeconds of at least 31536000 and includeSubdomains`,
		`other[ssl]: invalid value "ssl": set through its typed field instead`,
		`other[bad/name]: invalid value "bad/name": not a setting name`,
		`other[brotli]: invalid value "null": a value is required`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestUnknownSettingIsRejected(t *testing.T) {
	e := setup(t, 0)
	_, err := e.client.PlanSettings(t.Context(), cloudflare.Settings{Zone: "example.com", Other: map[string]any{"no_such_setting": "on"}})
	require.Error(t, err)
	var apiErr *cloudflare.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, int64(1003), apiErr.Errors[0].Code)
	assert.Contains(t, err.Error(), `"no_such_setting"`)
}
