package smoke_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
)

// TestTraefikServes starts Traefik on loopback with a file provider, checks /ping, then routes a
// request by Host through a dynamic configuration file to a backend the test runs.
func TestTraefikServes(t *testing.T) {
	traefik := testbin.Require(t, "traefik")
	dir := t.TempDir()
	dynamic := filepath.Join(dir, "dynamic")
	require.NoError(t, os.Mkdir(dynamic, 0o755))

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend saw host %s", r.Host)
	}))
	t.Cleanup(backend.Close)

	web, admin := freePort(t), freePort(t)
	static := fmt.Sprintf(`global:
  checkNewVersion: false
  sendAnonymousUsage: false
entryPoints:
  web:
    address: "127.0.0.1:%d"
  traefik:
    address: "127.0.0.1:%d"
ping:
  entryPoint: traefik
providers:
  providersThrottleDuration: 100ms
  file:
    directory: %q
    watch: true
`, web, admin, dynamic)
	staticPath := filepath.Join(dir, "traefik.yml")
	require.NoError(t, os.WriteFile(staticPath, []byte(static), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dynamic, "smoke.yml"), fmt.Appendf(nil, `http:
  routers:
    smoke:
      rule: "Host(`+"`smoke.webinfra.test`"+`)"
      entryPoints: [web]
      service: smoke
  services:
    smoke:
      loadBalancer:
        servers:
          - url: %q
`, backend.URL), 0o644))

	startDaemon(t, exec.Command(traefik, "--configFile="+staticPath))

	testutil.Eventually(t, 30*time.Second, expectBody(t.Context(), fmt.Sprintf("http://127.0.0.1:%d/ping", admin), nil, "OK"))
	testutil.Eventually(t, 10*time.Second, expectBody(t.Context(), fmt.Sprintf("http://127.0.0.1:%d/", web),
		http.Header{"Host": {"smoke.webinfra.test"}}, "backend saw host smoke.webinfra.test"))
}
