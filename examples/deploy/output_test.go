package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The text plan names each concern's service, real or simulated, and groups the changes by
// concern and node with their counts.
func TestPlanGroupedByConcernAndNode(t *testing.T) {
	simulated(t)
	code, out, errOut := runDeploy(t, "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^  cloudflare\s+simulated\s+Cloudflare API\s+set CLOUDFLARE_API_TOKEN`, out)
	assert.Regexp(t, `(?m)^  cluster\s+simulated\s+Kubernetes API\s+set KUBECONFIG`, out)
	assert.Regexp(t, `(?m)^  mesh\s+local\s+local files\s+`, out)
	// 7 nodes × 13 files; per node: 7 host files, tinc.conf, the key and 4 scripts.
	assert.Contains(t, out, "\n# mesh: 91 to create\n")
	assert.Contains(t, out, "\n## mesh node node-sgp-2: 13 to create\n")
	// The firewall rulesets are per node, the rest of the ingress is the cluster's.
	assert.Contains(t, out, "\n## ingress all nodes: 5 to create\n")
	assert.Contains(t, out, "\n## ingress node fw-ams-1: 1 to create\n\n+ ingress_file firewall/fw-ams-1/webinfra-ingress.nft\n")
	assert.Contains(t, out, "\n# cloudflare: 10 to create, 4 to update\n")
	assert.Contains(t, out, "\n## cluster node node-ams-1: 1 to update\n")
	// The scan and update policies, with the nodes the (simulated) Landscape holds under the
	// stack's tag.
	assert.Regexp(t, `(?m)^  security\s+simulated\s+Landscape API\s+set LANDSCAPE_API_URI`, out)
	assert.Contains(t, out, "+ security_policy scan clamd\n    after_sync = true\n    on_finding = \"report\"\n    paths      = [\"/srv\"]\n")
	assert.Contains(t, out, `computers       = ["fw-ams-1","fw-nyc-1","node-ams-1","node-ams-2","node-nyc-1","node-sgp-1","node-sgp-2"]`)
	assert.Contains(t, out, `window          = "02:00 for 3h0m0s (UTC)"`)
	// Every change is printed once, under its group.
	assert.Equal(t, 148, strings.Count(out, "\n+ ")+strings.Count(out, "\n~ ")+strings.Count(out, "\n- "))
}

func TestJSONPlacesEveryChange(t *testing.T) {
	simulated(t)
	code, out, errOut := runDeploy(t, "--dry-run", "--output", "json")
	require.Equal(t, 0, code, errOut)
	var plan struct {
		Services []struct {
			Name    string         `json:"name"`
			Real    bool           `json:"real"`
			Summary map[string]int `json:"summary"`
		} `json:"services"`
		Changes []struct {
			Concern string `json:"concern"`
			Node    string `json:"node"`
			Kind    string `json:"kind"`
			ID      string `json:"id"`
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &plan))
	total := 0
	for _, s := range plan.Services {
		total += s.Summary["create"] + s.Summary["update"] + s.Summary["delete"]
		if s.Name == "cloudflare" {
			assert.False(t, s.Real)
		}
	}
	assert.Equal(t, len(plan.Changes), total)
	for _, c := range plan.Changes {
		switch c.Kind {
		case "mesh_file":
			assert.Equal(t, "mesh", c.Concern)
			assert.True(t, strings.HasPrefix(c.ID, c.Node+" "), c.ID)
		case "dns_record", "zone_setting":
			assert.Equal(t, "cloudflare", c.Concern)
			assert.Empty(t, c.Node, c.ID)
		case "syncthing_folder", "syncthing_device":
			assert.Equal(t, "replication", c.Concern)
			assert.True(t, strings.HasPrefix(c.Node, "node-"), c.Node)
		}
	}
}

// --detailed-exitcode: 2 when the plan has changes (applied or not), 0 when there is nothing
// to do; --apply=false plans only, like --dry-run.
func TestDetailedExitCode(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	code, _, errOut := runDeploy(t, "--state", state, "--apply=false", "--detailed-exitcode")
	require.Equal(t, exitChanges, code, errOut)
	assert.NotContains(t, errOut, "applied")
	entries, err := os.ReadDir(state)
	require.NoError(t, err)
	assert.Empty(t, entries, "planning only writes nothing, not even new keys or identities")

	code, _, errOut = runDeploy(t, "--state", state, "--detailed-exitcode")
	require.Equal(t, exitChanges, code, errOut)
	assert.Contains(t, errOut, "plan after apply: No changes.")

	// Without the flag a successful run with changes exits 0.
	code, _, errOut = runDeploy(t, "--state", state, "--dry-run")
	require.Equal(t, exitOK, code, errOut)
}

// A policy change shows before and after; the plan after applying it is empty.
func TestSecurityPolicyChangeIsPlanned(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	code, _, errOut := runDeploy(t, "--state", state)
	require.Equal(t, 0, code, errOut)
	code, out, errOut := runDeploy(t, "--state", state, "--dry-run", "--stack", writeStack(t, `window: "02:00-05:00"`, `window: "23:30-01:00"`))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "~ security_policy updates webinfra-demo\n    window = \"02:00 for 3h0m0s (UTC)\" -> \"23:30 for 1h30m0s (UTC)\"\n")
	assert.NotContains(t, out, "security_policy scan")
}
