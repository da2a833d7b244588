package mesh_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mesh"
)

// valNetwork returns a valid network that exercises most fields: two overlay subnets, a reserved
// range, an explicit address, endpoints of two kinds, a routed subnet and a node behind NAT.
func valNetwork() mesh.Network {
	return mesh.Network{
		Name:     "mesh0",
		Subnets:  []netip.Prefix{netip.MustParsePrefix("10.10.0.0/24"), netip.MustParsePrefix("10.20.0.0/16")},
		Reserved: []netip.Prefix{netip.MustParsePrefix("10.10.0.128/26")},
		Nodes: []mesh.Node{
			{Name: "node-a", Endpoints: []string{"203.0.113.1"}, Address: netip.MustParseAddr("10.10.0.1"), Region: "eu"},
			{Name: "node-b", Endpoints: []string{"h.example.com"}, Region: "eu", Subnets: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}},
			{Name: "node-c"},
		},
	}
}

// fieldErrors returns the problems of a validation error, failing the test when err is not one.
func fieldErrors(t *testing.T, err error) []webinfra.FieldError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	var ve *webinfra.ValidationError
	require.True(t, errors.As(err, &ve), "error %T is not a *webinfra.ValidationError: %v", err, err)
	return ve.Errors
}

func TestValidateValid(t *testing.T) {
	n := valNetwork()
	require.NoError(t, n.Validate())

	// The zero values of every optional field are valid too.
	minimal := mesh.Network{Name: "m", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/30")}, Nodes: []mesh.Node{{Name: "a"}}}
	assert.NoError(t, minimal.Validate())

	// Every optional field set to a valid value.
	full := valNetwork()
	full.Port = 65535
	full.Interface = "tun-mesh0"
	full.Cipher, full.Digest = "aes-128-gcm", "sha512"
	full.KeyBits = 4096
	full.Ed25519 = true
	full.Failover = mesh.Failover{PingInterval: 2 * time.Second, PingTimeout: 3 * time.Second, MaxTimeout: 10 * time.Second}
	full.Topology = mesh.Topology{Kind: mesh.TopologyHubs, FullMeshMax: 4, HubsPerRegion: 3, Peers: 1}
	assert.NoError(t, full.Validate())

	ipv6 := mesh.Network{Name: "v6", Subnets: []netip.Prefix{netip.MustParsePrefix("fd00:1::/64")}, Nodes: []mesh.Node{{Name: "a", Address: netip.MustParseAddr("fd00:1::5")}}}
	assert.NoError(t, ipv6.Validate())
}

func TestValidateInvalid(t *testing.T) {
	pfx := netip.MustParsePrefix
	for _, tc := range []struct {
		name   string
		mutate func(n *mesh.Network)
		path   string // the one field reported
		msg    string // a fragment of its message
	}{
		{"name with dash", func(n *mesh.Network) { n.Name = "my-net" }, "name", "want 1 to 15 letters, digits or '_'"},
		{"name too long", func(n *mesh.Network) { n.Name = "abcdefghijklmnop" }, "name", "want 1 to 15"},
		{"name empty", func(n *mesh.Network) { n.Name = "" }, "name", "want 1 to 15"},
		{"no subnets", func(n *mesh.Network) { n.Subnets, n.Reserved = nil, nil }, "subnets", "at least one overlay subnet is required"},
		{"subnet with host bits", func(n *mesh.Network) { n.Subnets[1] = pfx("10.20.0.1/16") }, "subnets[1]", "has host bits set (want 10.20.0.0/16)"},
		{"subnet too small", func(n *mesh.Network) { n.Subnets[1] = pfx("10.20.0.0/31") }, "subnets[1]", "too small"},
		{"overlapping subnets", func(n *mesh.Network) { n.Subnets[1] = pfx("10.10.0.0/16") }, "subnets[1]", "overlaps subnets[0] (10.10.0.0/24)"},
		{"reserved outside subnets", func(n *mesh.Network) { n.Reserved[0] = pfx("10.30.0.0/24") }, "reserved[0]", "not inside any of subnets"},
		{"reserved partly outside subnets", func(n *mesh.Network) { n.Reserved[0] = pfx("10.20.0.0/15") }, "reserved[0]", "not inside any of subnets"},
		{"reserved with host bits", func(n *mesh.Network) { n.Reserved[0] = pfx("10.10.0.129/26") }, "reserved[0]", "not a subnet without host bits"},
		{"port too large", func(n *mesh.Network) { n.Port = 65536 }, "port", "want 1 to 65535"},
		{"port negative", func(n *mesh.Network) { n.Port = -1 }, "port", "want 1 to 65535"},
		{"interface with slash", func(n *mesh.Network) { n.Interface = "tun/0" }, "interface", "not a network interface name"},
		{"interface too long", func(n *mesh.Network) { n.Interface = "abcdefghijklmnop" }, "interface", "16 bytes, more than 15"},
		{"interface with space", func(n *mesh.Network) { n.Interface = "tun 0" }, "interface", "not a network interface name"},
		{"cipher with spaces", func(n *mesh.Network) { n.Cipher = "aes 256 cbc" }, "cipher", "not an OpenSSL algorithm name"},
		{"digest upper case", func(n *mesh.Network) { n.Digest = "SHA256" }, "digest", "not an OpenSSL algorithm name"},
		{"keyBits 1024", func(n *mesh.Network) { n.KeyBits = 1024 }, "keyBits", "want 2048 to 8192"},
		{"failover not whole seconds", func(n *mesh.Network) {
			n.Failover = mesh.Failover{PingInterval: 1500 * time.Millisecond, PingTimeout: time.Second, MaxTimeout: 2 * time.Second}
		}, "failover.pingInterval", "want whole seconds"},
		{"failover below a second", func(n *mesh.Network) {
			n.Failover = mesh.Failover{PingInterval: time.Second, PingTimeout: 500 * time.Millisecond, MaxTimeout: 2 * time.Second}
		}, "failover.pingTimeout", "at least 1s"},
		{"bad topology kind", func(n *mesh.Network) { n.Topology.Kind = "star" }, "topology.kind", `supported values: "full", "hubs"`},
		{"negative peers", func(n *mesh.Network) { n.Topology.Peers = -1 }, "topology.peers", "must not be negative"},
		{"negative hubs per region", func(n *mesh.Network) { n.Topology.HubsPerRegion = -2 }, "topology.hubsPerRegion", "must not be negative"},
		{"no nodes", func(n *mesh.Network) { n.Nodes = nil }, "nodes", "at least one node is required"},
		{"empty node name", func(n *mesh.Network) { n.Nodes[2].Name = "" }, "nodes[2].name", "required"},
		{"node name with slash", func(n *mesh.Network) { n.Nodes[2].Name = "a/b" }, "nodes[2].name", "want letters, digits, '_', '-' or '.'"},
		{"node name with space", func(n *mesh.Network) { n.Nodes[2].Name = "a b" }, "nodes[2].name", "want letters, digits"},
		{"tinc name collision", func(n *mesh.Network) { n.Nodes = append(n.Nodes, mesh.Node{Name: "node_a"}) },
			"nodes[3].name", `maps to tinc name "node_a", as nodes[0].name does`},
		{"tinc name collision with dot", func(n *mesh.Network) { n.Nodes = append(n.Nodes, mesh.Node{Name: "node.b"}) },
			"nodes[3].name", "as nodes[1].name does"},
		{"endpoint port 0", func(n *mesh.Network) { n.Nodes[2].Endpoints = []string{"host:0"} }, "nodes[2].endpoints[0]", `port "0": want 1 to 65535`},
		{"endpoint port too large", func(n *mesh.Network) { n.Nodes[2].Endpoints = []string{"host:65536"} }, "nodes[2].endpoints[0]", "want 1 to 65535"},
		{"endpoint unclosed bracket", func(n *mesh.Network) { n.Nodes[2].Endpoints = []string{"[::1"} }, "nodes[2].endpoints[0]", "want [IPv6]:port"},
		{"endpoint with space", func(n *mesh.Network) { n.Nodes[2].Endpoints = []string{"exa mple.com"} }, "nodes[2].endpoints[0]", "not an IP address or hostname"},
		{"endpoint zoned", func(n *mesh.Network) { n.Nodes[2].Endpoints = []string{"fe80::1%eth0"} }, "nodes[2].endpoints[0]", "zoned address"},
		{"second endpoint empty", func(n *mesh.Network) { n.Nodes[1].Endpoints = append(n.Nodes[1].Endpoints, "") }, "nodes[1].endpoints[1]", "not an IP address or hostname"},
		{"address outside subnets[0]", func(n *mesh.Network) { n.Nodes[2].Address = netip.MustParseAddr("10.20.0.5") },
			"nodes[2].address", "outside the node subnet subnets[0] (10.10.0.0/24)"},
		{"address of other family", func(n *mesh.Network) { n.Nodes[2].Address = netip.MustParseAddr("fd00::5") },
			"nodes[2].address", "outside the node subnet"},
		{"network address", func(n *mesh.Network) { n.Nodes[2].Address = netip.MustParseAddr("10.10.0.0") },
			"nodes[2].address", "the network or broadcast address of 10.10.0.0/24"},
		{"broadcast address", func(n *mesh.Network) { n.Nodes[2].Address = netip.MustParseAddr("10.10.0.255") },
			"nodes[2].address", "the network or broadcast address"},
		{"address in reserved range", func(n *mesh.Network) { n.Nodes[2].Address = netip.MustParseAddr("10.10.0.130") },
			"nodes[2].address", "inside reserved[0] (10.10.0.128/26)"},
		{"duplicate address", func(n *mesh.Network) { n.Nodes[2].Address = netip.MustParseAddr("10.10.0.1") },
			"nodes[2].address", "duplicate of nodes[0].address"},
		{"partial overlap of node subnets across nodes", func(n *mesh.Network) { n.Nodes[2].Subnets = []netip.Prefix{pfx("192.168.0.0/16")} },
			"nodes[2].subnets[0]", "partly overlaps nodes[1].subnets[0] (192.168.1.0/24)"},
		{"duplicate subnet on one node", func(n *mesh.Network) { n.Nodes[1].Subnets = append(n.Nodes[1].Subnets, pfx("192.168.1.0/24")) },
			"nodes[1].subnets[1]", "duplicate of nodes[1].subnets[0]"},
		{"node subnet with host bits", func(n *mesh.Network) { n.Nodes[1].Subnets[0] = pfx("192.168.1.1/24") },
			"nodes[1].subnets[0]", "not a subnet without host bits"},
		{"node subnet containing another node's address", func(n *mesh.Network) { n.Nodes[1].Subnets[0] = pfx("10.10.0.0/28") },
			"nodes[1].subnets[0]", "contains the node address of nodes[0].address (10.10.0.1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := valNetwork()
			tc.mutate(&n)
			err := n.Validate()
			errs := fieldErrors(t, err)
			require.Len(t, errs, 1, "want exactly one problem, got:\n%v", err)
			assert.Equal(t, tc.path, errs[0].Path)
			assert.Contains(t, errs[0].Msg, tc.msg)
			// The text starts with the path, as `path: invalid value "v": msg` or `path: msg`.
			assert.True(t, strings.HasPrefix(err.Error(), tc.path+": "), "error %q does not start with %q", err, tc.path+": ")
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// The value in the message is quoted as `path: invalid value "v": msg`.
func TestValidateMessageFormat(t *testing.T) {
	n := valNetwork()
	n.Nodes[2].Endpoints = []string{"exa mple.com"}
	err := n.Validate()
	require.Error(t, err)
	assert.Equal(t, `nodes[2].endpoints[0]: invalid value "exa mple.com": not an IP address or hostname, optionally with :port`, err.Error())

	n = valNetwork()
	n.Nodes = append(n.Nodes, mesh.Node{Name: "node_a"})
	err = n.Validate()
	require.Error(t, err)
	assert.Equal(t, `nodes[3].name: invalid value "node_a": maps to tinc name "node_a", as nodes[0].name does`, err.Error())
}

func TestValidateEndpoints(t *testing.T) {
	for _, e := range []string{
		"203.0.113.1",
		"h.example.com",
		"h.example.com.",
		"[2001:db8::1]:655",
		"198.51.100.7:6655",
		"2001:db8::1",
		"h.example.com:65535",
		"localhost",
	} {
		t.Run(e, func(t *testing.T) {
			n := valNetwork()
			n.Nodes[2].Endpoints = []string{e}
			assert.NoError(t, n.Validate())
		})
	}
	for _, e := range []string{
		"host:0", "[::1", "exa mple.com", "fe80::1%eth0", "[fe80::1%eth0]:655", "[2001:db8::1]",
		"", ":655", "host:port", "host:-1", "-host.example.com", "a..b", strings.Repeat("a", 64) + ".com",
		"h.example.com:655:1",
	} {
		t.Run("invalid "+e, func(t *testing.T) {
			n := valNetwork()
			n.Nodes[2].Endpoints = []string{e}
			errs := fieldErrors(t, n.Validate())
			require.Len(t, errs, 1)
			assert.Equal(t, "nodes[2].endpoints[0]", errs[0].Path)
			require.NotNil(t, errs[0].Value)
			assert.Equal(t, e, *errs[0].Value)
		})
	}
}

// The same routed subnet on several nodes is tinc's failover of a range, and valid.
func TestValidateSharedNodeSubnet(t *testing.T) {
	n := valNetwork()
	n.Nodes[2].Subnets = []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}
	assert.NoError(t, n.Validate())

	// Disjoint subnets on several nodes are valid too.
	n.Nodes[2].Subnets = []netip.Prefix{netip.MustParsePrefix("192.168.2.0/24"), netip.MustParsePrefix("fd10::/64")}
	assert.NoError(t, n.Validate())
}

// Validate reports every problem in one pass, one per line, sorted by path.
func TestValidateReportsAllProblems(t *testing.T) {
	n := valNetwork()
	n.Name = "bad-name"
	n.Port = 70000
	n.Nodes[2].Name = "a/b"
	err := n.Validate()
	errs := fieldErrors(t, err)
	require.Len(t, errs, 3, "problems:\n%v", err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], `name: invalid value "bad-name": `), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], `nodes[2].name: invalid value "a/b": `), lines[1])
	assert.True(t, strings.HasPrefix(lines[2], `port: invalid value "70000": `), lines[2])
}

// Validate is a pure function of the network: it leaves it alone and gives the same answer twice.
func TestValidateDoesNotModify(t *testing.T) {
	n := valNetwork()
	n.Nodes = append(n.Nodes, mesh.Node{Name: "node_a", Endpoints: []string{"[::1"}})
	before := valNetwork()
	before.Nodes = append(before.Nodes, mesh.Node{Name: "node_a", Endpoints: []string{"[::1"}})
	err1 := n.Validate()
	err2 := n.Validate()
	require.Error(t, err1)
	assert.Equal(t, err1.Error(), err2.Error())
	assert.Equal(t, before, n)
}
