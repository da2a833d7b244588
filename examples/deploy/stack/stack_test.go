package stack_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/examples/deploy/stack"
)

// demoStack is the demo stack the deploy example runs by default.
const demoStack = "../stack.yaml"

// demo loads a fresh copy of the demo stack.
func demo(t *testing.T) *stack.Stack {
	t.Helper()
	s, err := stack.Load(demoStack)
	require.NoError(t, err)
	return s
}

func TestDemoStackIsValid(t *testing.T) {
	s := demo(t)
	require.NoError(t, s.Validate())
	assert.Len(t, s.Nodes, 7)
	assert.True(t, s.Nodes[2].Has(stack.RoleControlPlane))
	assert.False(t, s.Nodes[0].Has(stack.RoleWorker))
}

func TestParseIsStrict(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unknown top-level field", "name: x\nfoo: 1\n", `unknown field "foo"`},
		{"unknown nested field names its path", "nodes:\n- name: a\n  roles: [worker]\n  rack: 4\n", `unknown field "nodes[0].rack"`},
		{"duplicate key", "name: a\nname: b\n", `"name" already set`},
		{"wrong type names the field", "mesh:\n  port: high\n", "mesh.port"},
		{"case matters", "Name: x\n", `unknown field "Name"`},
		{"not yaml", "nodes: [\n", "yaml"},
		{"empty", "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stack.Parse([]byte(tt.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*stack.Stack)
		want   []string // each must appear in the error, with its path
	}{
		{"bad hostname", func(s *stack.Stack) { s.Sites[0].Hosts[1] = "exa mple.com" },
			[]string{`sites[0].hosts[1]: invalid value "exa mple.com": not a hostname`}},
		{"host outside the zone", func(s *stack.Stack) { s.Sites[1].Hosts[0] = "shop.example.org" },
			[]string{`sites[1].hosts[0]: invalid value "shop.example.org": not inside domain "example.com"`}},
		{"single-label host", func(s *stack.Stack) { s.Sites[1].Hosts[0] = "shop" },
			[]string{`sites[1].hosts[0]: invalid value "shop": not a fully qualified hostname`}},
		{"duplicate host across sites", func(s *stack.Stack) { s.Sites[1].Hosts[0] = "www.example.com" },
			[]string{`sites[1].hosts[0]: invalid value "www.example.com": duplicate of sites[0].hosts[1]`}},
		{"duplicate node name", func(s *stack.Stack) { s.Nodes[3].Name = "node-ams-1" },
			[]string{`nodes[3].name: invalid value "node-ams-1": duplicate of nodes[2].name`}},
		{"overlapping subnets", func(s *stack.Stack) { s.Cluster.PodSubnet = "10.88.128.0/17" },
			[]string{`cluster.podSubnet: invalid value "10.88.128.0/17": overlaps mesh.subnet (10.88.0.0/16)`}},
		{"service overlaps pods", func(s *stack.Stack) { s.Cluster.ServiceSubnet = "10.244.0.0/24" },
			[]string{`cluster.serviceSubnet: invalid value "10.244.0.0/24": overlaps cluster.podSubnet`}},
		{"pool inside the mesh", func(s *stack.Stack) { s.Cluster.LoadBalancerPool = "10.88.255.0/24" },
			[]string{`cluster.loadBalancerPool: invalid value "10.88.255.0/24": overlaps mesh.subnet (10.88.0.0/16)`}},
		{"pool overlaps the services", func(s *stack.Stack) { s.Cluster.LoadBalancerPool = "10.96.1.0/24" },
			[]string{`cluster.loadBalancerPool: invalid value "10.96.1.0/24": overlaps cluster.serviceSubnet (10.96.0.0/12)`}},
		{"mesh address outside the subnet", func(s *stack.Stack) { s.Nodes[2].MeshAddress = "10.89.0.1" },
			[]string{`nodes[2].meshAddress: invalid value "10.89.0.1": outside mesh.subnet (10.88.0.0/16)`}},
		{"mesh broadcast", func(s *stack.Stack) { s.Nodes[2].MeshAddress = "10.88.255.255" },
			[]string{`nodes[2].meshAddress: invalid value "10.88.255.255": the network or broadcast address`}},
		{"replicas above eligible", func(s *stack.Stack) { s.Sites[0].Data[0].Replicas = 6 },
			[]string{`sites[0].data[0].replicas: invalid value "6": above the 5 eligible (worker) nodes`}},
		{"zero replicas", func(s *stack.Stack) { s.Sites[0].Data[0].Replicas = 0 },
			[]string{`sites[0].data[0].replicas: invalid value "0": must be at least 1`}},
		{"bad subnet", func(s *stack.Stack) { s.Mesh.Subnet = "10.88.0.0/33" },
			[]string{`mesh.subnet: invalid value "10.88.0.0/33": not a CIDR subnet`}},
		{"subnet with host bits", func(s *stack.Stack) { s.Mesh.Subnet = "10.88.1.0/16" },
			[]string{`mesh.subnet: invalid value "10.88.1.0/16": host bits set: the subnet is 10.88.0.0/16`}},
		{"unknown role", func(s *stack.Stack) { s.Nodes[0].Roles = []stack.Role{"router"} },
			[]string{`nodes[0].roles[0]: invalid value "router": supported values: "firewall", "control-plane", "worker"`}},
		{"no firewall left", func(s *stack.Stack) {
			s.Nodes[0].Roles = []stack.Role{stack.RoleWorker}
			s.Nodes[1].Roles = []stack.Role{stack.RoleWorker}
		}, []string{`nodes: no node has the role "firewall"`}},
		{"bad public address", func(s *stack.Stack) { s.Nodes[1].PublicAddresses[0] = "198.51.100.300" },
			[]string{`nodes[1].publicAddresses[0]: invalid value "198.51.100.300": not an IP address`}},
		{"public address in overlay", func(s *stack.Stack) { s.Nodes[1].PublicAddresses[0] = "10.88.0.5" },
			[]string{`nodes[1].publicAddresses[0]: invalid value "10.88.0.5": inside mesh.subnet`}},
		{"relative data path", func(s *stack.Stack) { s.Sites[1].Data[0].Path = "srv/shop" },
			[]string{`sites[1].data[0].path: invalid value "srv/shop": not a clean absolute path below /`}},
		{"bad tinc network", func(s *stack.Stack) { s.Mesh.Network = "web-infra" },
			[]string{`mesh.network: invalid value "web-infra": not a tinc network name`}},
		{"bad service port", func(s *stack.Stack) { s.Sites[0].Service.Port = 0 },
			[]string{`sites[0].service.port: invalid value "0": not a port (1-65535)`}},
		{"backup keeps nothing", func(s *stack.Stack) { s.Backup.Keep = stack.Keep{} },
			[]string{`backup.keep: keeps nothing`}},
		{"backup too often", func(s *stack.Stack) { s.Backup.Every = "10s" },
			[]string{`backup.every: invalid value "10s": must be at least 1m`}},
		{"dmarc policy", func(s *stack.Stack) { s.Mail.DMARC.Policy = "block" },
			[]string{`mail.dmarc.policy: invalid value "block": supported values: "none", "quarantine", "reject"`}},
		{"dmarc report address", func(s *stack.Stack) { s.Mail.DMARC.ReportTo = "Reports <r@example.com>" },
			[]string{`mail.dmarc.reportTo: invalid value "Reports <r@example.com>": not a bare e-mail address`}},
		{"update window", func(s *stack.Stack) { s.Security.Updates.Window = "25:00-05:00" },
			[]string{`security.updates.window: invalid value "25:00-05:00"`}},
		{"updates take every worker", func(s *stack.Stack) { s.Security.Updates.MaxUnavailable = 5 },
			[]string{`security.updates.maxUnavailable: invalid value "5": must leave a worker running (5 workers)`}},
		{"scanner", func(s *stack.Stack) { s.Security.Scanner = "norton" },
			[]string{`security.scanner: invalid value "norton": supported values: "eset", "clamav"`}},
		{"several problems at once", func(s *stack.Stack) {
			s.Name = ""
			s.Nodes[0].Region = "EU West"
			s.Sites[0].Service.Namespace = ""
		}, []string{"name: required", `nodes[0].region: invalid value "EU West"`, "sites[0].service.namespace: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := demo(t)
			tt.mutate(s)
			err := s.Validate()
			require.Error(t, err)
			assert.True(t, errors.Is(err, webinfra.ErrInvalidArgument))
			var ve *webinfra.ValidationError
			require.ErrorAs(t, err, &ve)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Len(t, ve.Errors, len(tt.want), "only the expected problems:\n%s", err)
		})
	}
}

func TestEmptyStackReportsRequiredFields(t *testing.T) {
	err := (&stack.Stack{}).Validate()
	require.Error(t, err)
	for _, w := range []string{"name: required", "domain: required", "mesh.network: required", "mesh.subnet: required", "nodes: at least one node is required", "cluster.podSubnet: required"} {
		assert.Contains(t, err.Error(), w)
	}
}

func TestParseWindow(t *testing.T) {
	start, end, err := stack.ParseWindow("22:30-04:00")
	require.NoError(t, err)
	assert.Equal(t, "22h30m0s", start.String())
	assert.Equal(t, "4h0m0s", end.String())
	for _, bad := range []string{"", "02:00", "2-5", "02:00-02:00", "02:00-24:00"} {
		_, _, err := stack.ParseWindow(bad)
		assert.Error(t, err, bad)
	}
}

// A stack file over 4 MiB is refused before parsing, naming the file and the limit; one of
// exactly 4 MiB gets past the size check (and fails as YAML, since it is all NUL bytes).
func TestLoadRefusesLargeFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, nil, 0o644))
	require.NoError(t, os.Truncate(big, stack.MaxFileSize+1))
	_, err := stack.Load(big)
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), big)
	assert.Contains(t, err.Error(), "larger than the limit of 4 MiB (4194304 bytes)")

	_, err = stack.Parse(make([]byte, stack.MaxFileSize+1))
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "4194305 bytes, larger than the limit of 4 MiB")

	exact := filepath.Join(dir, "exact.yaml")
	require.NoError(t, os.WriteFile(exact, nil, 0o644))
	require.NoError(t, os.Truncate(exact, stack.MaxFileSize))
	_, err = stack.Load(exact)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "limit")

	// An endless file is refused after the limit too, not read to the end.
	if _, statErr := os.Stat("/dev/zero"); statErr == nil {
		_, err = stack.Load("/dev/zero")
		require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
		assert.Contains(t, err.Error(), "/dev/zero: stack: more than 4 MiB")
	}
}

// A value of the wrong type names the field's path and both kinds in the stack's words, never
// Go's ("cannot unmarshal ... into Go struct field").
func TestWrongTypeNamesPathAndKind(t *testing.T) {
	for in, want := range map[string]string{
		"name: 3\n":                              "stack: name: a number given, want text",
		"nodes: {a: 1}\n":                        "stack: nodes: a mapping given, want a list",
		"nodes:\n  - name: a\n    region: [x]\n": "stack: nodes.region: a list given, want text",
		"backup:\n  keep: {last: three}\n":       "stack: backup.keep.last: text given, want a whole number",
	} {
		_, err := stack.Parse([]byte(in))
		require.Error(t, err, in)
		assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), "Go struct")
		assert.NotContains(t, err.Error(), "unmarshal")
	}
}

// A named rclone remote cannot work without an rclone.conf: the error names the field and how
// to write it as a connection string.
func TestNamedBackupRemoteSaysWhatToWrite(t *testing.T) {
	data, err := os.ReadFile("../stack.yaml")
	require.NoError(t, err)
	s, err := stack.Parse([]byte(strings.Replace(string(data), `remote: ":googlecloudstorage:webinfra-demo-backups/demo"`, `remote: "gcs:bucket/path"`, 1)))
	require.NoError(t, err)
	err = s.Validate()
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `backup.remote: invalid value "gcs:bucket/path": names the rclone remote "gcs", but a stack has no rclone.conf`)
	assert.Contains(t, err.Error(), `":googlecloudstorage:BUCKET/PATH"`)
}

// A key the deployment generates never goes under Workspace's selector "google"; with
// Workspace's own record, "google" is right.
func TestGeneratedDKIMKeyNeverUsesGooglesSelector(t *testing.T) {
	data, err := os.ReadFile("../stack.yaml")
	require.NoError(t, err)
	with := func(old, new string) error {
		s, err := stack.Parse([]byte(strings.Replace(string(data), old, new, 1)))
		require.NoError(t, err)
		return s.Validate()
	}
	err = with("  domain: example.com\n", "  domain: example.com\n  dkimSelector: google\n")
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `mail.dkimSelector: invalid value "google": is Google Workspace's selector`)
	assert.NoError(t, with("  domain: example.com\n", "  domain: example.com\n  dkimSelector: google\n  dkimRecord: \"v=DKIM1; k=rsa; p=MIIB\"\n"))
}

// Zones beside the stack's domain: each site hostname belongs to the longest zone it is in;
// zones that repeat or overlap, and hostnames in none, are refused naming the field.
func TestZones(t *testing.T) {
	data, err := os.ReadFile("../stack.yaml")
	require.NoError(t, err)
	parse := func(zones string, hosts string) *stack.Stack {
		y := strings.Replace(string(data), "domain: example.com\n", "domain: example.com\nzones: "+zones+"\n", 1)
		y = strings.Replace(y, "hosts: [shop.example.com]", "hosts: "+hosts, 1)
		s, err := stack.Parse([]byte(y))
		require.NoError(t, err)
		return s
	}
	s := parse("[customer.test, shop.example.org]", "[a.shop.example.org, customer.test]")
	require.NoError(t, s.Validate())
	assert.Equal(t, "customer.test", s.ZoneOf("customer.test"))
	assert.Equal(t, "shop.example.org", s.ZoneOf("a.shop.example.org"))
	assert.Equal(t, "example.com", s.ZoneOf("www.example.com"))
	assert.Equal(t, "", s.ZoneOf("example.net"))

	err = parse("[customer.test, customer.test, sub.example.com]", "[x.example.net]").Validate()
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	for _, want := range []string{
		`zones[1]: invalid value "customer.test": duplicate of zones[0]`,
		`zones[2]: invalid value "sub.example.com": overlaps domain (example.com)`,
		`sites[1].hosts[0]: invalid value "x.example.net": not inside domain "example.com" or the zones`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}
