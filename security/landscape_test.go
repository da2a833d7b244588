package security_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/security"
	"github.com/webinfra/webinfra/security/securitytest"
)

func landscapeWithNodes(t *testing.T) *securitytest.LandscapeServer {
	srv := securitytest.StartLandscape(t)
	srv.AddComputer(securitytest.FakeComputer{Hostname: "node-1", Tags: []string{"k8s"}, RebootAfterUpgrade: true,
		Upgrades: []security.Package{{Name: "openssl", Version: "3.0.2-0ubuntu1.18", Security: true}, {Name: "vim", Version: "2:9.1"}}})
	srv.AddComputer(securitytest.FakeComputer{Hostname: "node-2", Tags: []string{"k8s"}})
	srv.AddComputer(securitytest.FakeComputer{Hostname: "mail", Tags: []string{"other"}})
	return srv
}

func TestLandscapeClientModes(t *testing.T) {
	for name, mod := range map[string]func(*securitytest.LandscapeServer, *security.LandscapeConfig){
		"rest-access-key": func(*securitytest.LandscapeServer, *security.LandscapeConfig) {},
		"rest-password": func(s *securitytest.LandscapeServer, c *security.LandscapeConfig) {
			c.AccessKey, c.SecretKey, c.Email, c.Password = "", webinfra.Secret{}, s.Email, s.Password
		},
		"legacy-signed": func(_ *securitytest.LandscapeServer, c *security.LandscapeConfig) { c.Legacy = true },
	} {
		t.Run(name, func(t *testing.T) {
			srv := landscapeWithNodes(t)
			cfg := srv.Config()
			mod(srv, &cfg)
			c, err := security.NewLandscape(cfg)
			require.NoError(t, err)
			ctx := t.Context()

			comps, err := c.ComputersByTag(ctx, "k8s")
			require.NoError(t, err)
			require.Len(t, comps, 2)
			assert.Equal(t, []string{"node-1", "node-2"}, []string{comps[0].Hostname, comps[1].Hostname})

			n1, err := c.ComputerByName(ctx, "node-1")
			require.NoError(t, err)
			_, err = c.ComputerByName(ctx, "nope")
			assert.ErrorIs(t, err, webinfra.ErrNotFound)

			sec, err := c.PendingUpgrades(ctx, n1.ID, true)
			require.NoError(t, err)
			assert.Equal(t, []security.Package{{Name: "openssl", Version: "3.0.2-0ubuntu1.18", Security: true}}, sec)

			a, err := c.UpgradePackages(ctx, []int{n1.ID}, true)
			require.NoError(t, err)
			a, err = c.WaitActivity(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, "succeeded", a.Status)
			left, err := c.PendingUpgrades(ctx, n1.ID, false)
			require.NoError(t, err)
			assert.Equal(t, []security.Package{{Name: "vim", Version: "2:9.1"}}, left, "security-only leaves the others")
			n1, err = c.ComputerByName(ctx, "node-1")
			require.NoError(t, err)
			assert.True(t, n1.RebootRequiredFlag)

			var rebooted []string
			srv.OnReboot(func(h string) { rebooted = append(rebooted, h) })
			r, err := c.Reboot(ctx, []int{n1.ID})
			require.NoError(t, err)
			_, err = c.WaitActivity(ctx, r.ID)
			require.NoError(t, err)
			assert.Equal(t, []string{"node-1"}, rebooted)

			srv.AddScript(7, "true")
			srv.FailNext("node-1", "script", 1)
			s, err := c.ExecuteScript(ctx, []int{n1.ID}, 7, "root", 0)
			require.NoError(t, err)
			_, err = c.WaitActivity(ctx, s.ID)
			var ae *security.ActivityError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "failed", ae.Activity.Status)
			assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
			assert.Empty(t, srv.Errors())
		})
	}
}

func TestLandscapeRelogsInAfterExpiry(t *testing.T) {
	srv := landscapeWithNodes(t)
	c, err := security.NewLandscape(srv.Config())
	require.NoError(t, err)
	_, err = c.Computers(t.Context(), "")
	require.NoError(t, err)
	srv.ExpireTokens()
	cs, err := c.Computers(t.Context(), "")
	require.NoError(t, err)
	assert.Len(t, cs, 3)
	assert.Equal(t, 2, srv.Count("POST /api/v2/login/access-key"))
}

func TestLandscapeErrorsHaveCategories(t *testing.T) {
	srv := landscapeWithNodes(t)
	cfg := srv.Config()
	cfg.SecretKey = webinfra.NewSecret("wrong")
	c, err := security.NewLandscape(cfg)
	require.NoError(t, err)
	_, err = c.Computers(t.Context(), "")
	assert.ErrorIs(t, err, webinfra.ErrPermissionDenied)
	assert.NotContains(t, err.Error(), "wrong")

	cfg.Legacy = true
	c, err = security.NewLandscape(cfg)
	require.NoError(t, err)
	_, err = c.Computers(t.Context(), "")
	assert.ErrorIs(t, err, webinfra.ErrPermissionDenied, "bad signature")

	srv.AddFault(securitytest.LandscapeFault{Action: "UpgradePackages", Status: 503, Times: 1})
	c, err = security.NewLandscape(srv.Config())
	require.NoError(t, err)
	_, err = c.UpgradePackages(t.Context(), []int{101}, false)
	var api *security.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, 503, api.Status)
	assert.ErrorIs(t, err, webinfra.ErrUnavailable)

	_, err = c.Activity(t.Context(), 99999)
	assert.ErrorIs(t, err, webinfra.ErrNotFound)
}

func TestSignLegacyIsCanonical(t *testing.T) {
	q := security.CanonicalQuery(map[string][]string{"b": {"2 3"}, "a": {"x/y"}, "action": {"GetComputers"}})
	assert.Equal(t, "a=x%2Fy&action=GetComputers&b=2%203", q)
}

func TestNewLandscapeRejectsBadConfig(t *testing.T) {
	_, err := security.NewLandscape(security.LandscapeConfig{BaseURL: "https://l.example", AccessKey: "k"})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	_, err = security.NewLandscape(security.LandscapeConfig{BaseURL: "https://l.example", Email: "a@b", Password: webinfra.NewSecret("p"), Legacy: true})
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}
