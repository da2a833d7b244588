package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/mesh"
)

func runDeploy(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// simulated clears the credentials, so every concern runs against its simulated service, and
// gives the run a state directory of its own.
func simulated(t *testing.T) {
	t.Setenv("CLOUDFLARE_API_TOKEN", "")
	t.Setenv("KUBECONFIG", "")
	t.Setenv("LANDSCAPE_API_URI", "")
	for _, n := range []string{"NODE_AMS_1", "NODE_AMS_2", "NODE_NYC_1", "NODE_SGP_1", "NODE_SGP_2"} {
		t.Setenv("SYNCTHING_URL_"+n, "")
	}
	t.Setenv("XDG_STATE_HOME", t.TempDir())
}

func TestDemoPlansAndAppliesWithoutCredentials(t *testing.T) {
	simulated(t)
	code, out, errOut := runDeploy(t)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, `stack "demo" from (built-in demo): 7 nodes in 3 regions, 2 sites, 3 data folders`)
	assert.Contains(t, errOut, "built-in simulated services")
	// 3 hostnames, each proxied to the two firewalls' IPv4 addresses.
	assert.Contains(t, out, "+ dns_record shop.example.com A 198.51.100.10")
	// fw-ams-1's IPv6 address gets no AAAA record: the ingress forwards IPv4 only (the pool).
	assert.NotContains(t, out, "AAAA")
	assert.Contains(t, out, `~ zone_setting example.com ssl`)
	assert.Contains(t, out, "~ k8s_node node-ams-1")
	assert.Contains(t, out, `label:node-role.kubernetes.io/control-plane = (none) -> ""`)
	// The mesh: 7 nodes × (tinc.conf, 4 scripts, rsa_key.priv, 7 host files).
	assert.Contains(t, out, "+ mesh_file node-ams-1 hosts/fw_nyc_1")
	assert.Contains(t, out, "+ mesh_file fw-ams-1 rsa_key.priv\n    mode   = \"0600\"\n    sha256 = (sensitive)")
	// The ingress: Traefik's static configuration, MetalLB, the Traefik workload, one file of
	// routes per site and one ruleset per firewall.
	for _, f := range []string{"traefik/traefik.yml", "kubernetes/metallb.yaml", "kubernetes/traefik.yaml",
		"kubernetes/site-www.yaml", "kubernetes/site-shop.yaml", "firewall/fw-ams-1/webinfra-ingress.nft", "firewall/fw-nyc-1/webinfra-ingress.nft"} {
		assert.Contains(t, out, "+ ingress_file "+f+"\n")
	}
	assert.Contains(t, out, "Plan: 137 to create, 11 to update, 0 to delete.")
	assert.Contains(t, errOut, "plan after apply: No changes.")

	// The mesh files are in the state directory now: a second run plans none of them.
	code, out, errOut = runDeploy(t, "--stack", "stack.yaml", "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "mesh_file")
	assert.NotContains(t, out, "ingress_file")
	// The simulated Cloudflare and Syncthing instances start empty on every run: 10 records (6 for the sites, 4 for mail) and
	// 18 Syncthing objects again; the workers' device IDs are the same (kept under --state).
	assert.Contains(t, out, "Plan: 28 to create")
	assert.NotContains(t, errOut, "applied")
}

func TestJSONOutput(t *testing.T) {
	simulated(t)
	code, out, errOut := runDeploy(t, "--output", "json")
	require.Equal(t, 0, code, errOut)
	var plan struct {
		Changes []json.RawMessage `json:"changes"`
		Summary map[string]int    `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &plan))
	assert.Len(t, plan.Changes, 148)
	assert.Equal(t, 137, plan.Summary["create"])
	assert.Equal(t, 11, plan.Summary["update"]) // 7 nodes + 4 settings (automatic_https_rewrites is on already)
}

// writeStack writes the demo stack with one line replaced, and returns its path.
func writeStack(t *testing.T, old, new string) string {
	t.Helper()
	data, err := os.ReadFile("stack.yaml")
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	p := filepath.Join(t.TempDir(), "stack.yaml")
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
	return p
}

func TestInvalidStacksExitNonZeroNamingTheField(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown field", "  port: 655\n", "  port: 655\n  colour: blue\n", `unknown field "mesh.colour"`},
		{"bad hostname", "hosts: [shop.example.com]", "hosts: [shop..example.com]", `sites[1].hosts[0]: invalid value "shop..example.com": not a hostname`},
		{"overlapping subnets", "podSubnet: 10.244.0.0/16", "podSubnet: 10.88.0.0/20", `cluster.podSubnet: invalid value "10.88.0.0/20": overlaps mesh.subnet (10.88.0.0/16)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runDeploy(t, "--stack", writeStack(t, tt.old, tt.new))
			assert.Equal(t, 1, code)
			assert.Empty(t, out, "nothing planned")
			assert.Contains(t, errOut, tt.want)
		})
	}
}

func TestBadFlags(t *testing.T) {
	// Errors exit 1, as terraform's do: 2 means "changes" under --detailed-exitcode.
	code, _, errOut := runDeploy(t, "--output", "yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `--output "yaml"`)

	code, _, _ = runDeploy(t, "--no-such-flag")
	assert.Equal(t, 1, code)

	code, _, errOut = runDeploy(t, "--stack", "/nonexistent/stack.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "/nonexistent/stack.yaml")
}

// The generated ingress agrees with itself: the routes admit only the firewalls' mesh
// addresses, Traefik trusts forwarded headers from them alone, and the firewalls forward to the
// address the Traefik Service asks MetalLB for.
func TestIngressFilesFitTogether(t *testing.T) {
	simulated(t)
	code, _, errOut := runDeploy(t)
	require.Equal(t, 0, code, errOut)
	dir := filepath.Join(os.Getenv("XDG_STATE_HOME"), "webinfra", "demo")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return string(b)
	}
	var fwAddrs []string
	for _, node := range []string{"fw-ams-1", "fw-nyc-1"} {
		h, err := mesh.ParseHostConfig([]byte(read("mesh/" + node + "/hosts/" + mesh.TincName(node))))
		require.NoError(t, err)
		fwAddrs = append(fwAddrs, h.Subnets[0].String())
	}
	static, site := read("ingress/traefik/traefik.yml"), read("ingress/kubernetes/site-www.yaml")
	for _, a := range fwAddrs {
		assert.Contains(t, static, "- "+a+"\n", "forwardedHeaders.trustedIPs")
		assert.Contains(t, site, "- "+a+"\n", "cloudflare-only sourceRange")
	}
	svc := read("ingress/kubernetes/traefik.yaml")
	m := regexp.MustCompile(`metallb.io/loadBalancerIPs: (\S+)`).FindStringSubmatch(svc)
	require.NotNil(t, m, svc)
	assert.True(t, netip.MustParsePrefix("10.89.255.0/24").Contains(netip.MustParseAddr(m[1])))
	assert.Contains(t, read("ingress/firewall/fw-nyc-1/webinfra-ingress.nft"), "dnat ip to "+m[1]+"\n")
}
