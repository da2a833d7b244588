package smoke_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testbin"
	"github.com/webinfra/webinfra/internal/testutil"
)

// TestSyncthingServes generates a Syncthing home, closes every path to the internet (discovery,
// relays, NAT, usage and crash reports, upgrades), starts it on loopback and checks the health
// endpoint and the authenticated status endpoint, which reports the device ID generate printed.
func TestSyncthingServes(t *testing.T) {
	syncthing := testbin.Require(t, "syncthing")
	home := t.TempDir()

	out, err := exec.CommandContext(t.Context(), syncthing, "generate", "--home", home, "--no-default-folder", "--skip-port-probing").CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`Device ID: ([A-Z0-9-]{63})`).FindSubmatch(out)
	require.NotNil(t, m, "generate prints the device ID: %s", out)
	deviceID := string(m[1])

	listen, gui := freePort(t), freePort(t)
	cfgPath := filepath.Join(home, "config.xml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	for tag, value := range map[string]string{
		"globalAnnounceEnabled": "false",
		"localAnnounceEnabled":  "false",
		"relaysEnabled":         "false",
		"natEnabled":            "false",
		"urAccepted":            "-1",
		"crashReportingEnabled": "false",
		"autoUpgradeIntervalH":  "0",
		"startBrowser":          "false",
		"listenAddress":         fmt.Sprintf("tcp://127.0.0.1:%d", listen),
	} {
		re := regexp.MustCompile(`<` + tag + `>[^<]*</` + tag + `>`)
		require.Truef(t, re.Match(cfg), "config.xml has <%s>", tag)
		cfg = re.ReplaceAll(cfg, []byte("<"+tag+">"+value+"</"+tag+">"))
	}
	require.NoError(t, os.WriteFile(cfgPath, cfg, 0o600))

	const apiKey = "webinfra-smoke-api-key"
	guiAddr := fmt.Sprintf("127.0.0.1:%d", gui)
	cmd := exec.Command(syncthing, "serve", "--home", home, "--no-browser", "--no-upgrade", "--no-restart",
		"--gui-address", guiAddr, "--gui-apikey", apiKey, "--logfile=-")
	cmd.Env = append(os.Environ(), "STNOUPGRADE=1", "STMONITORED=1", "STNORESTART=1")
	startDaemon(t, cmd)

	base := "http://" + guiAddr
	testutil.Eventually(t, 30*time.Second, expectBody(t.Context(), base+"/rest/noauth/health", nil, `"OK"`))

	code, _, err := get(t.Context(), base+"/rest/system/status", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, code, "the REST API wants the key")

	code, body, err := get(t.Context(), base+"/rest/system/status", http.Header{"X-Api-Key": {apiKey}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)
	var status struct {
		MyID string `json:"myID"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &status))
	assert.Equal(t, deviceID, status.MyID)
}
