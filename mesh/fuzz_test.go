package mesh_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mesh"
)

// fuzzConfSeeds are tinc configuration files for the parsers: valid files in every syntax, edge
// cases (separators alone, values starting with '=', PEM blocks in odd places, Unicode) and
// invalid ones (a variable without value, control characters, unterminated blocks, bad keys).
var fuzzConfSeeds = []string{
	// valid
	"",
	"Name = node_a\nConnectTo = node_b\nConnectTo = node_c\n",
	"Name=node_a\nInterface\tmesh0\nPingInterval = 1\nPingTimeout = 1\nMaxTimeout = 2\nMode = router\n",
	"# comment\n\n  Name = a  \r\nconnectto = b\r\n",
	"Address = 203.0.113.1\nAddress = h.example.com 6655\nPort = 655\nSubnet = 10.0.0.1/32\nSubnet = 192.168.0.0/24\nCipher = aes-256-cbc\nDigest = sha256\nTCPOnly = yes\n",
	"Subnet = 10.0.0.1\nSubnet = fd00::/64\nSubnet = 10.0.0.0/8#10\nSubnet = 00:11:22:33:44:55\nSubnet = 10.0.0.1/32\n",
	"Port = 655\nPort = 656\nCipher = a\nCipher = b\nTCPOnly = no\nTCPOnly = yes\nTCPOnly = yes\n",
	"-----BEGIN X-----\nAAAA\n-----END X-----\n",
	"Name = a\n-----BEGIN X-----\n\n-----END X-----\nName = b\n-----BEGIN Y-----\nAAAA\n-----END Y-----\n",
	// edge
	"X = = y\nY==z\nZ a=b = c\n",
	"Address = host port\nAddress = a b c\nAddress = host 0\nAddress = host 065\n",
	"PingInterval = 5\nPingInterval = x\nName = a\nName = b\n",
	"Address = a\u00a0655\nCipher = \u00e9\n",
	"  -----BEGIN X-----\n  -----END X-----\n-----END X-----\n",
	"-----BEGIN x\n-----BEGIN A-----\nAAAA\n-----END A-----\n",
	// invalid
	"Name\n",
	"Name =\n",
	"= a\n",
	"Na-me = a\n",
	"Name = a\x00\n",
	"Name = a\rb\n",
	"-----BEGIN X-----\nAAAA\n",
	"-----BEGIN X\nnot base64\n-----END X\n",
	"PingInterval = 0\n",
	"MaxTimeout = +5\n",
	"Ed25519PublicKey = AAAA\n",
}

// fuzzHostSeeds adds host files with keys: a (tiny, deterministic) RSA public key block and the
// golden tinc 1.1 Ed25519 public key line.
func fuzzHostSeeds(f *testing.F) []string {
	f.Helper()
	rsaBlock := string(mesh.MarshalRSAPublicKey(&rsa.PublicKey{N: big.NewInt(3233), E: 17}))
	ed, err := os.ReadFile(filepath.Join("testdata", "tinc11", "a.host"))
	if err != nil {
		f.Fatal(err)
	}
	return append(fuzzConfSeeds,
		"Address = 203.0.113.1\nSubnet = 10.0.0.1/32\n\n"+rsaBlock,
		rsaBlock+rsaBlock,
		strings.Replace(rsaBlock, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)+rsaBlock,
		string(ed)+"\n"+rsaBlock,
		string(ed)+string(ed),
	)
}

// FuzzParseConf checks that ParseConf never panics, refuses only with ErrInvalidArgument, and
// that parse→Marshal→parse is the identity.
func FuzzParseConf(f *testing.F) {
	for _, s := range fuzzConfSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzzRecover(t, data)
		c, err := mesh.ParseConf(data)
		if err != nil {
			if c != nil || !errors.Is(err, webinfra.ErrInvalidArgument) {
				t.Fatalf("ParseConf(%q) = %v, %v: want nil and ErrInvalidArgument", data, c, err)
			}
			return
		}
		out := c.Marshal()
		again, err := mesh.ParseConf(out)
		if err != nil {
			t.Fatalf("ParseConf(Marshal()) of %q: %v\n%s", data, err, out)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("parse→Marshal→parse of %q:\n%#v\nthen\n%#v", data, c, again)
		}
		if !bytes.Equal(again.Marshal(), out) {
			t.Fatalf("Marshal is not stable for %q", data)
		}
	})
}

// FuzzServerConfig checks that ParseServerConfig never panics, refuses only with
// ErrInvalidArgument, and that parse→Marshal→parse gives the same struct. Both sides of the
// comparison are parser output, which leaves absent lists nil, so reflect.DeepEqual needs no
// nil-versus-empty normalisation.
func FuzzServerConfig(f *testing.F) {
	for _, s := range fuzzConfSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzzRecover(t, data)
		s, err := mesh.ParseServerConfig(data)
		if err != nil {
			if s != nil || !errors.Is(err, webinfra.ErrInvalidArgument) {
				t.Fatalf("ParseServerConfig(%q) = %v, %v: want nil and ErrInvalidArgument", data, s, err)
			}
			return
		}
		out := s.Marshal()
		again, err := mesh.ParseServerConfig(out)
		if err != nil {
			t.Fatalf("ParseServerConfig(Marshal()) of %q: %v\n%s", data, err, out)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("parse→Marshal→parse of %q:\n%#v\nthen\n%#v", data, s, again)
		}
		if !bytes.Equal(again.Marshal(), out) {
			t.Fatalf("Marshal is not stable for %q", data)
		}
	})
}

// FuzzHostConfig is FuzzServerConfig for host files (no normalisation needed either: both
// sides are parser output). PublicKey is compared by value through reflect.DeepEqual too.
func FuzzHostConfig(f *testing.F) {
	for _, s := range fuzzHostSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzzRecover(t, data)
		h, err := mesh.ParseHostConfig(data)
		if err != nil {
			if h != nil || !errors.Is(err, webinfra.ErrInvalidArgument) {
				t.Fatalf("ParseHostConfig(%q) = %v, %v: want nil and ErrInvalidArgument", data, h, err)
			}
			return
		}
		out := h.Marshal()
		again, err := mesh.ParseHostConfig(out)
		if err != nil {
			t.Fatalf("ParseHostConfig(Marshal()) of %q: %v\n%s", data, err, out)
		}
		if !reflect.DeepEqual(h, again) {
			t.Fatalf("parse→Marshal→parse of %q:\n%#v\nthen\n%#v", data, h, again)
		}
		if !bytes.Equal(again.Marshal(), out) {
			t.Fatalf("Marshal is not stable for %q", data)
		}
	})
}

// FuzzValidate decodes a small network from JSON and checks that Validate never panics and
// refuses with a ValidationError; that Allocate of a valid network does not panic, fails only
// when the subnet is full (checked exactly on subnets small enough to enumerate), and gives
// distinct addresses that pass Validate; and that Connections and Resilience do not panic and
// dial only nodes with endpoints, each pair from one side.
func FuzzValidate(f *testing.F) {
	// Seeds: valid networks (minimal, with every field, IPv6, a full /30), edge cases (zero
	// Failover and Topology, shared node subnets, hubs) and invalid ones (each kind of problem,
	// several at once, broken JSON).
	for _, s := range []string{
		// valid
		`{"name":"m","subnets":["10.0.0.0/30"],"nodes":[{"name":"a"}]}`,
		`{"name":"mesh0","subnets":["10.10.0.0/24","10.20.0.0/16"],"reserved":["10.10.0.128/26"],"port":655,"interface":"tun0",` +
			`"cipher":"aes-256-cbc","digest":"sha256","keyBits":2048,"ed25519":true,` +
			`"failover":{"pingInterval":1000000000,"pingTimeout":2000000000,"maxTimeout":3000000000,"tcpOnly":true},` +
			`"topology":{"kind":"hubs","fullMeshMax":4,"hubsPerRegion":1,"peers":1},` +
			`"nodes":[{"name":"node-a","endpoints":["203.0.113.1","[2001:db8::1]:655"],"address":"10.10.0.1","region":"eu","hub":true},` +
			`{"name":"node-b","endpoints":["h.example.com:6655"],"subnets":["192.168.1.0/24"],"region":"eu"},` +
			`{"name":"node-c","subnets":["192.168.1.0/24"],"region":"us"},{"name":"node.d","region":"us"}]}`,
		`{"name":"v6","subnets":["fd00:1::/64"],"reserved":["fd00:1::/120"],"nodes":[{"name":"a","address":"fd00:1::1000"},{"name":"b"},{"name":"c","endpoints":["fd00::1"]}]}`,
		`{"name":"full","subnets":["10.0.0.0/30"],"nodes":[{"name":"a"},{"name":"b"}]}`,
		`{"name":"auto","subnets":["10.0.0.0/24"],"topology":{"fullMeshMax":1},"nodes":[{"name":"a","endpoints":["a.example"]},{"name":"b","endpoints":["b.example"]},{"name":"c"}]}`,
		// edge
		`{"name":"m","subnets":["10.0.0.0/30"],"failover":{},"topology":{},"nodes":[{"name":"a","address":"10.0.0.2"},{"name":"b"}]}`,
		`{"name":"m","subnets":["0.0.0.0/0"],"nodes":[{"name":"a"}]}`,
		`{"name":"m","subnets":["::/0"],"nodes":[{"name":"a"}]}`,
		// invalid
		`{"name":"m","subnets":["10.0.0.0/30"],"nodes":[{"name":"a"},{"name":"b"},{"name":"c"}]}`,
		`{"name":"bad-name","subnets":[],"port":70000,"nodes":[]}`,
		`{"name":"m","subnets":["10.0.0.1/24","10.0.0.0/16"],"reserved":["10.9.0.0/24"],"nodes":[{"name":"a/b","endpoints":["host:0","[::1","fe80::1%eth0"]}]}`,
		`{"name":"m","subnets":["10.0.0.0/24"],"nodes":[{"name":"node-a","address":"10.0.0.0"},{"name":"node_a","address":"10.0.0.0"}]}`,
		`{"name":"m","subnets":["10.0.0.0/24"],"nodes":[{"name":"a","subnets":["192.168.0.0/16","192.168.0.0/16"]},{"name":"b","subnets":["192.168.1.0/24"]}]}`,
		`{"name":"m","subnets":["10.0.0.0/24"],"failover":{"pingInterval":1500000000},"topology":{"kind":"star","peers":-1},"nodes":[{"name":""}]}`,
		`{"name":"m"`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzzRecover(t, data)
		var n mesh.Network
		if err := json.Unmarshal(data, &n); err != nil {
			return
		}
		if len(n.Nodes) > 16 || len(n.Reserved) > 8 || len(n.Subnets) > 8 {
			return // keep each run fast; size is not what this target explores
		}
		err := n.Validate()
		if err != nil {
			var ve *webinfra.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, webinfra.ErrInvalidArgument) || ve.Len() == 0 {
				t.Fatalf("Validate: %T %v: want a non-empty *webinfra.ValidationError", err, err)
			}
			if _, err := n.Allocate(nil); !errors.Is(err, webinfra.ErrInvalidArgument) {
				t.Fatalf("Allocate of an invalid network: %v, want ErrInvalidArgument", err)
			}
			return
		}
		out, err := n.Allocate(nil)
		if err != nil {
			if !errors.Is(err, webinfra.ErrFailedPrecondition) {
				t.Fatalf("Allocate of a valid network: %v, want only ErrFailedPrecondition", err)
			}
			if free, ok := fuzzFreeAddrs(&n); ok && free >= fuzzUnaddressed(&n) {
				t.Fatalf("Allocate: %v, but %d addresses are free for %d nodes", err, free, fuzzUnaddressed(&n))
			}
			return
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("the allocated network is invalid:\n%v", err)
		}
		seen := map[netip.Addr]bool{}
		for i, node := range out.Nodes {
			if !node.Address.IsValid() || seen[node.Address] {
				t.Fatalf("node %s: address %v missing or shared", node.Name, node.Address)
			}
			seen[node.Address] = true
			if a := n.Nodes[i].Address; a.IsValid() && a != node.Address {
				t.Fatalf("node %s: explicit address %s became %s", node.Name, a, node.Address)
			}
		}
		conns := out.Connections()
		dialable := map[string]bool{}
		for _, node := range out.Nodes {
			dialable[node.Name] = len(node.Endpoints) > 0
		}
		pairs := map[[2]string]bool{}
		for from, tos := range conns {
			for _, to := range tos {
				if !dialable[to] || from == to {
					t.Fatalf("%s dials %s (dialable %v)", from, to, dialable[to])
				}
				p := [2]string{min(from, to), max(from, to)}
				if pairs[p] {
					t.Fatalf("pair %v connected twice", p)
				}
				pairs[p] = true
			}
		}
		if r := out.Resilience(); r.Components < 1 || r.Components > len(out.Nodes) {
			t.Fatalf("Resilience: %+v for %d nodes", r, len(out.Nodes))
		}
	})
}

// fuzzRecover turns a panic into a failure naming the input, so that a crasher in testdata
// fails its own target instead of aborting the whole test binary.
func fuzzRecover(t *testing.T, data []byte) {
	if r := recover(); r != nil {
		t.Fatalf("panic on %q: %v\n%s", data, r, debug.Stack())
	}
}

// fuzzUnaddressed counts the nodes Allocate must find an address for.
func fuzzUnaddressed(n *mesh.Network) int {
	c := 0
	for _, node := range n.Nodes {
		if !node.Address.IsValid() {
			c++
		}
	}
	return c
}

// fuzzFreeAddrs counts the addresses of subnets[0] a node could get (not the network or IPv4
// broadcast address, not reserved, not explicitly taken), when the subnet has at most 2^16
// addresses; ok is false for larger subnets.
func fuzzFreeAddrs(n *mesh.Network) (free int, ok bool) {
	s := n.Subnets[0]
	if s.Addr().BitLen()-s.Bits() > 16 {
		return 0, false
	}
	taken := map[netip.Addr]bool{}
	for _, node := range n.Nodes {
		taken[node.Address] = true
	}
	first := s.Masked().Addr()
	var last netip.Addr
	for a := first; a.IsValid() && s.Contains(a); a = a.Next() {
		last = a
	}
	for a := first.Next(); a.IsValid() && s.Contains(a); a = a.Next() {
		if taken[a] || (a.Is4() && a == last) {
			continue
		}
		reserved := false
		for _, r := range n.Reserved {
			reserved = reserved || r.Contains(a)
		}
		if !reserved {
			free++
		}
	}
	return free, true
}
