package mesh_test

import (
	"crypto/rsa"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/mesh"
)

// hostileStrings are values that must never reach a rendered file or a path unchanged: path
// elements, line breaks and other control characters, characters that end a value in the
// files around (';', '}', '#', quotes), shell syntax, non-ASCII and overlong values. Valid
// values are mixed in so that the property test also renders something.
var hostileStrings = []string{
	"", ".", "..", "../x", "./x", "x/..", "a/b", "/abs", `a\b`,
	"a\nb", "a\rb", "a\r\nb", "a\x00b", "a\tb", "a\x7fb", "a\x1bb", "a\u2028b", "a\u0085b",
	"x\nConnectTo = evil", "x\nip link del eth0", "a;b", "a}b", "a{b", "a#b", `a"b`, "a'b", "a`b",
	"$(reboot)", "${IFS}", "a b", " a", "a ", "é", "a:b", "a%b", "a*b", "a=b", "-a", ".hidden",
	strings.Repeat("x", 16), strings.Repeat("y", 256),
	// valid
	"a", "node-a", "node.b", "node_c", "tun0", "eth0.100", "Z9",
}

var (
	hostileKeyOnce sync.Once
	hostileKey     *rsa.PrivateKey
)

// sharedKey returns one RSA key for every node: rendering does not need distinct keys, and a
// key per rendering would make the property test slow.
func sharedKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	hostileKeyOnce.Do(func() {
		k, err := mesh.GenerateRSAKey(0)
		require.NoError(t, err)
		hostileKey = k
	})
	require.NotNil(t, hostileKey)
	return hostileKey
}

// hostileFields are the fields of a network that reach tinc.conf, a host file, a script or a
// path, with how to set each.
var hostileFields = []struct {
	path string
	set  func(n *mesh.Network, v string)
}{
	{"name", func(n *mesh.Network, v string) { n.Name = v }},
	{"interface", func(n *mesh.Network, v string) { n.Interface = v }},
	{"cipher", func(n *mesh.Network, v string) { n.Cipher = v }},
	{"digest", func(n *mesh.Network, v string) { n.Digest = v }},
	{"nodes[2].name", func(n *mesh.Network, v string) { n.Nodes[2].Name = v }},
	{"nodes[1].endpoints[0]", func(n *mesh.Network, v string) { n.Nodes[1].Endpoints[0] = v }},
	{"nodes[1].endpoints[0]", func(n *mesh.Network, v string) { n.Nodes[1].Endpoints[0] = v + ":655" }},
}

// Each hostile value is refused at its own field path, and Validate leaves the network alone.
func TestValidateHostileValues(t *testing.T) {
	for _, tc := range []struct {
		field  int // index into hostileFields
		values []string
	}{
		{0, []string{"", ".", "..", "a/b", "a\nb", "a\x00b", "a;b", "a}b", "a b", "é", "a-b", strings.Repeat("x", 16)}},
		{1, []string{".", "..", "a/b", "a\nb", "a\rb", "a\x00b", "a\tb", "a\x7fb", "a;b", "a}b", "a{b", `a"b`, "a b", "a:b", "a%b", "a*b", "é", strings.Repeat("x", 16)}},
		{2, []string{"a\nb", "a b", "a;b", "x\nConnectTo = evil"}},
		{3, []string{"a\rb", "a}b", "a#b"}},
		{4, []string{".", "..", "../x", "./x", "a/b", "/abs", `a\b`, "a\nb", "a\rb", "a\x00b", "a\tb", "x\nConnectTo = evil", "a;b", "a}b", "$(reboot)", "a b", "é", ".hidden", strings.Repeat("y", 256)}},
		{5, []string{"a\nb", "a\rb", "a\x00b", "x\nConnectTo = evil", "a;b", "a}b", "a b", "a/b", "$(reboot)", "a\u2028b"}},
		{6, []string{"a\nb", "a;b", "a b", "a/b"}},
	} {
		f := hostileFields[tc.field]
		for _, v := range tc.values {
			t.Run(f.path+"="+strings.ToValidUTF8(v, "?"), func(t *testing.T) {
				n := valNetwork()
				f.set(&n, v)
				before := valNetwork()
				f.set(&before, v)
				errs := fieldErrors(t, n.Validate())
				var paths []string
				for _, e := range errs {
					paths = append(paths, e.Path)
				}
				assert.Contains(t, paths, f.path, "problems: %v", errs)
				assert.Equal(t, before, n, "Validate changed the network")
			})
		}
	}
}

// Node names that map to the same tinc name, or to tinc names that differ only in case (and so
// to host files that collide on a case-insensitive file system), are refused at the later node.
func TestValidateTincNameCollisions(t *testing.T) {
	for _, tc := range []struct{ a, b, msg string }{
		{"fw-ams-1", "fw_ams_1", `maps to tinc name "fw_ams_1", as nodes[0].name does`},
		{"fw-ams-1", "fw.ams.1", `maps to tinc name "fw_ams_1", as nodes[0].name does`},
		{"fw.ams-1", "fw-ams.1", `maps to tinc name "fw_ams_1", as nodes[0].name does`},
		{"fw-ams-1", "FW-AMS-1", "differs only in case from that of nodes[0].name"},
		{"Node", "node", "differs only in case"},
	} {
		n := mesh.Network{Name: "m", Subnets: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
			Nodes: []mesh.Node{{Name: tc.a}, {Name: tc.b}}}
		errs := fieldErrors(t, n.Validate())
		require.Len(t, errs, 1, "%s, %s", tc.a, tc.b)
		assert.Equal(t, "nodes[1].name", errs[0].Path)
		assert.Contains(t, errs[0].Msg, tc.msg)
	}
	assert.Equal(t, "fw_ams_1", mesh.TincName("fw-ams-1"))
}

// scriptLine is every line a rendered script may hold: the shebang, comments and the commands
// the package writes. A value that smuggled in a line break would add a line that matches none.
var scriptLine = regexp.MustCompile(`^(#!/bin/sh|# .*|set -e|ip (link|addr|route) .*|\[ "\$NODE" = "\$NAME" \] && exit 0|case "\$SUBNET" in [0-9a-f.:/|]+\) exit 0 ;; esac|exec ip route replace .*)$`)

// confKeys are the variables the package writes into tinc.conf and host files.
var confKeys = map[string]bool{
	"Name": true, "ConnectTo": true, "Interface": true, "PingInterval": true, "PingTimeout": true, "MaxTimeout": true,
	"Mode": true, "DeviceType": true, "AddressFamily": true, "Port": true, "Subnet": true, "Address": true,
	"Cipher": true, "Digest": true, "TCPOnly": true, "Ed25519PublicKey": true, "PMTUDiscovery": true,
}

// Property: for every network Validate accepts, whatever hostile value a field got, the
// rendered files land inside the node's directory under the target root (nothing outside it),
// and no rendered file holds an injected line: tinc files parse to the variables the package
// writes, with exactly one Name, and scripts hold only the package's lines.
func TestRenderedFilesStayInsideAndUninjected(t *testing.T) {
	key := sharedKey(t)
	accepted := 0
	for _, f := range hostileFields {
		for _, v := range hostileStrings {
			n := valNetwork()
			f.set(&n, v)
			if n.Validate() != nil {
				continue
			}
			accepted++
			out, err := n.Allocate(nil)
			require.NoError(t, err, "%s=%q", f.path, v)
			keys := map[string]mesh.Keys{}
			for _, node := range out.Nodes {
				keys[node.Name] = mesh.Keys{RSA: key}
			}
			files, err := out.Render(keys)
			require.NoError(t, err, "%s=%q", f.path, v)

			top := t.TempDir()
			root := filepath.Join(top, "root")
			dir := mesh.Dir{Root: root}
			for node, fs := range files {
				for _, file := range fs {
					checkNoInjectedLine(t, f.path+"="+v, file)
				}
				// Only node names choose paths; writing (fsync per file) is kept to those.
				if f.path == "nodes[2].name" {
					require.NoError(t, dir.Target(node).Write(t.Context(), fs, nil), "%s=%q: node %q", f.path, v, node)
				}
			}
			if f.path == "nodes[2].name" {
				checkInside(t, top, root, files, f.path+"="+v)
			}
		}
	}
	assert.Positive(t, accepted, "no hostile or valid value was accepted: the property was never checked")
}

// checkInside walks top and fails on any file outside root/NODE/ for a node of files.
func checkInside(t *testing.T, top, root string, files map[string][]mesh.File, what string) {
	t.Helper()
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		require.NoError(t, err)
		node, _, ok := strings.Cut(filepath.ToSlash(rel), "/")
		_, known := files[node]
		assert.True(t, ok && known && filepath.IsLocal(rel), "%s: file %s is not inside a node directory of %s", what, p, root)
		return nil
	})
	require.NoError(t, err)
	entries, err := os.ReadDir(top)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "%s: something besides %s was written into %s", what, root, top)
}

func checkNoInjectedLine(t *testing.T, what string, f mesh.File) {
	t.Helper()
	if i := strings.IndexFunc(string(f.Data), func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f || r == '\u2028' || r == '\u0085' }); i >= 0 {
		t.Errorf("%s: %s holds control character %q", what, f.Path, f.Data[i])
	}
	switch {
	case f.Private():
	case f.Path == mesh.FileTincConf || strings.HasPrefix(f.Path, "hosts/"):
		c, err := mesh.ParseConf(f.Data)
		require.NoError(t, err, "%s: %s", what, f.Path)
		for _, v := range c.Vars {
			assert.True(t, confKeys[v.Key], "%s: %s has a variable the package never writes: %s = %s", what, f.Path, v.Key, v.Value)
		}
		if f.Path == mesh.FileTincConf {
			assert.Len(t, c.Get("Name"), 1, "%s: %s", what, f.Path)
			assert.LessOrEqual(t, len(c.Get("Interface")), 1, "%s: %s", what, f.Path)
		}
	default:
		for _, line := range strings.Split(strings.TrimSuffix(string(f.Data), "\n"), "\n") {
			assert.Regexp(t, scriptLine, line, "%s: %s has a line the package never writes", what, f.Path)
		}
	}
}
