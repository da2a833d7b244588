package mesh_test

import (
	"crypto/rsa"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mesh"
)

const confPEM = "-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n  indented line kept\n-----END RSA PUBLIC KEY-----\n"

func TestParseConfSyntax(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want *mesh.Conf
	}{
		{"empty", "", &mesh.Conf{}},
		{"spaces around =", "Name = node_a\n", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "node_a"}}}},
		{"no spaces", "Name=node_a\n", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "node_a"}}}},
		{"space only", "Name node_a\n", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "node_a"}}}},
		{"tabs around =", "Name\t=\tnode_a\n", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "node_a"}}}},
		{"tab only", "Name\tnode_a\n", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "node_a"}}}},
		{"blanks around line", "  \tName = node_a \t \n", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "node_a"}}}},
		{"no final newline", "Name = node_a", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "node_a"}}}},
		{"value with inner blanks and =", "Address = host 655\nX = a=b = c\n", &mesh.Conf{Vars: []mesh.Var{{Key: "Address", Value: "host 655"}, {Key: "X", Value: "a=b = c"}}}},
		{"value starting with =", "X = = y\n", &mesh.Conf{Vars: []mesh.Var{{Key: "X", Value: "= y"}}}},
		{"comments and blank lines", "# a comment\n\n   # indented comment\nName = a\n\n\t\nConnectTo = b # not a comment\n",
			&mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "a"}, {Key: "ConnectTo", Value: "b # not a comment"}}}},
		{"CRLF", "# c\r\nName = a\r\n\r\nConnectTo=b\r\n", &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "a"}, {Key: "ConnectTo", Value: "b"}}}},
		{"repeated keys in order", "ConnectTo = b\nConnectTo = a\nconnectto = c\n",
			&mesh.Conf{Vars: []mesh.Var{{Key: "ConnectTo", Value: "b"}, {Key: "ConnectTo", Value: "a"}, {Key: "connectto", Value: "c"}}}},
		{"PEM block kept whole", "Subnet = 10.0.0.1/32\n\n" + confPEM + "Port = 655\n",
			&mesh.Conf{Vars: []mesh.Var{{Key: "Subnet", Value: "10.0.0.1/32"}, {Key: "Port", Value: "655"}}, Blocks: []string{confPEM}}},
		{"PEM block with CRLF", strings.ReplaceAll(confPEM, "\n", "\r\n"), &mesh.Conf{Blocks: []string{confPEM}}},
		{"PEM block with a blank line and a = line", "-----BEGIN X-----\n\nA = b\n-----END X-----\n",
			&mesh.Conf{Blocks: []string{"-----BEGIN X-----\n\nA = b\n-----END X-----\n"}}},
		{"two PEM blocks", confPEM + confPEM, &mesh.Conf{Blocks: []string{confPEM, confPEM}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := mesh.ParseConf([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c)
			// Marshal gives a file that parses back to the same variables and blocks.
			again, err := mesh.ParseConf(c.Marshal())
			require.NoError(t, err)
			assert.Equal(t, c, again)
		})
	}
}

func TestConfMarshal(t *testing.T) {
	c := &mesh.Conf{Vars: []mesh.Var{{Key: "Name", Value: "a"}, {Key: "ConnectTo", Value: "b"}}, Blocks: []string{confPEM}}
	assert.Equal(t, "Name = a\nConnectTo = b\n\n"+confPEM, string(c.Marshal()))
	assert.Empty(t, (&mesh.Conf{}).Marshal())
	assert.Equal(t, confPEM, string((&mesh.Conf{Blocks: []string{confPEM}}).Marshal()))
}

func TestParseConfRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		msg  string // must include the line number
	}{
		{"variable without value", "Name = a\nConnectTo\n", "line 2: variable \"ConnectTo\" has no value"},
		{"variable with = only", "Name =\n", "line 1: variable \"Name\" has no value"},
		{"variable with = and blanks", "# c\n\nName = \t \n", "line 3: variable \"Name\" has no value"},
		{"unterminated PEM block", "Name = a\n-----BEGIN RSA PUBLIC KEY-----\nMIIB\n", "line 3: PEM block without an -----END line"},
		{"NUL", "Name = a\x00b\n", "line 1: control character"},
		{"escape", "Name = a\nPort = 6\x1b55\n", "line 2: control character"},
		{"DEL", "Name = a\x7f\n", "line 1: control character"},
		{"CR inside a line", "Name = a\rb\n", "line 1: control character"},
		{"form feed", "\f\n", "line 1: control character"},
		{"control character in a comment", "# \x01\n", "line 1: control character"},
		{"control character in a PEM block", "-----BEGIN X-----\n\x02\n-----END X-----\n", "line 2: control character"},
		{"key with dash", "Ping-Interval = 5\n", "line 1: variable name \"Ping-Interval\": want letters and digits"},
		{"key with colon", "Name: a\n", "line 1: variable name \"Name:\""},
		{"empty key", "= a\n", "line 1: variable name \"\""},
		{"key with non-ASCII letter", "\n\nNäme = a\n", "line 3: variable name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := mesh.ParseConf([]byte(tc.in))
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "mesh: "), err.Error())
		})
	}
}

func TestConfGet(t *testing.T) {
	c, err := mesh.ParseConf([]byte("ConnectTo = a\nName = n\nconnectto = b\nCONNECTTO = c\n"))
	require.NoError(t, err)
	for _, key := range []string{"ConnectTo", "connectto", "CONNECTTO", "cOnNeCtTo"} {
		assert.Equal(t, []string{"a", "b", "c"}, c.Get(key), key)
	}
	assert.Equal(t, "n", c.First("NAME"))
	assert.Equal(t, "a", c.First("connectTo"))
	assert.Nil(t, c.Get("Port"))
	assert.Equal(t, "", c.First("Port"))

	without := c.Without("CONNECTTO")
	assert.Equal(t, []mesh.Var{{Key: "Name", Value: "n"}}, without.Vars)
	assert.Len(t, c.Vars, 4, "Without must not modify its receiver")
}

func TestServerConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want *mesh.ServerConfig
	}{
		{"empty", "", &mesh.ServerConfig{}},
		{"all fields", "Name = node_a\nInterface = mesh0\nPingInterval = 1\nPingTimeout = 2\nMaxTimeout = 3\nConnectTo = node_b\nConnectTo = node_c\n",
			&mesh.ServerConfig{Name: "node_a", Interface: "mesh0", PingInterval: 1, PingTimeout: 2, MaxTimeout: 3, ConnectTo: []string{"node_b", "node_c"}}},
		{"keys in any case and order", "connectto = b\nNAME = a\nmaxtimeout = 900\n",
			&mesh.ServerConfig{Name: "a", MaxTimeout: 900, ConnectTo: []string{"b"}}},
		{"unknown variables kept in order", "Name = a\nMode = router\nAddressFamily = ipv4\nConnectTo = b\nDevice = /dev/net/tun\n",
			&mesh.ServerConfig{Name: "a", ConnectTo: []string{"b"}, Extra: []mesh.Var{{Key: "Mode", Value: "router"}, {Key: "AddressFamily", Value: "ipv4"}, {Key: "Device", Value: "/dev/net/tun"}}}},
		{"repeated single-valued variables kept in Extra", "Name = a\nName = b\nInterface = x\nInterface = y\nPingTimeout = 5\nPingTimeout = 6\n",
			&mesh.ServerConfig{Name: "a", Interface: "x", PingTimeout: 5, Extra: []mesh.Var{{Key: "Name", Value: "b"}, {Key: "Interface", Value: "y"}, {Key: "PingTimeout", Value: "6"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := mesh.ParseServerConfig([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, s)
			again, err := mesh.ParseServerConfig(s.Marshal())
			require.NoError(t, err)
			assert.Equal(t, s, again)
		})
	}
}

func TestServerConfigMarshal(t *testing.T) {
	s := &mesh.ServerConfig{Name: "node_a", Interface: "mesh0", PingInterval: 1, PingTimeout: 2, MaxTimeout: 3,
		ConnectTo: []string{"node_b", "node_c"}, Extra: []mesh.Var{{Key: "Mode", Value: "router"}}}
	assert.Equal(t, "Name = node_a\nInterface = mesh0\nPingInterval = 1\nPingTimeout = 2\nMaxTimeout = 3\nMode = router\nConnectTo = node_b\nConnectTo = node_c\n", string(s.Marshal()))
	assert.Empty(t, (&mesh.ServerConfig{}).Marshal())
}

func TestServerConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"zero seconds", "PingInterval = 0\n", `PingInterval "0": want a positive number of seconds`},
		{"negative seconds", "PingTimeout = -1\n", `PingTimeout "-1"`},
		{"not a number", "MaxTimeout = soon\n", `MaxTimeout "soon"`},
		{"leading zero", "MaxTimeout = 05\n", `MaxTimeout "05"`},
		{"plus sign", "MaxTimeout = +5\n", `MaxTimeout "+5"`},
		{"PEM block", "Name = a\n" + confPEM, "unexpected PEM block"},
		{"syntax error", "Name = a\nName\n", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mesh.ParseServerConfig([]byte(tc.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

var confRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return mesh.GenerateRSAKey(2048) })

func TestHostConfig(t *testing.T) {
	pfx := netip.MustParsePrefix
	for _, tc := range []struct {
		name string
		in   string
		want *mesh.HostConfig
	}{
		{"empty", "", &mesh.HostConfig{}},
		{"all variables", "Address = 203.0.113.1\nAddress = host.example.com 6655\nPort = 655\nSubnet = 10.0.0.1/32\nSubnet = 192.168.0.0/24\nCipher = aes-256-cbc\nDigest = sha256\nTCPOnly = yes\n",
			&mesh.HostConfig{
				Addresses: []mesh.HostAddress{{Host: "203.0.113.1"}, {Host: "host.example.com", Port: 6655}},
				Port:      655,
				Subnets:   []netip.Prefix{pfx("10.0.0.1/32"), pfx("192.168.0.0/24")},
				Cipher:    "aes-256-cbc", Digest: "sha256", TCPOnly: true,
			}},
		{"Address host port", "Address = host 655\n", &mesh.HostConfig{Addresses: []mesh.HostAddress{{Host: "host", Port: 655}}}},
		{"Address IPv6", "Address = 2001:db8::1 655\n", &mesh.HostConfig{Addresses: []mesh.HostAddress{{Host: "2001:db8::1", Port: 655}}}},
		{"Subnet address only", "Subnet = 10.0.0.1\nSubnet = fd00::1\n", &mesh.HostConfig{Subnets: []netip.Prefix{pfx("10.0.0.1/32"), pfx("fd00::1/128")}}},
		{"Subnet with weight kept in Extra", "Subnet = 10.0.0.0/8#10\nSubnet = 10.0.0.1\n",
			&mesh.HostConfig{Subnets: []netip.Prefix{pfx("10.0.0.1/32")}, Extra: []mesh.Var{{Key: "Subnet", Value: "10.0.0.0/8#10"}}}},
		{"Subnet MAC kept in Extra", "Subnet = 00:11:22:33:44:55\n", &mesh.HostConfig{Extra: []mesh.Var{{Key: "Subnet", Value: "00:11:22:33:44:55"}}}},
		{"Subnet with host bits kept in Extra", "Subnet = 10.0.0.1/8\n", &mesh.HostConfig{Extra: []mesh.Var{{Key: "Subnet", Value: "10.0.0.1/8"}}}},
		{"duplicate Subnet kept in Extra", "Subnet = 10.0.0.1\nSubnet = 10.0.0.1/32\n",
			&mesh.HostConfig{Subnets: []netip.Prefix{pfx("10.0.0.1/32")}, Extra: []mesh.Var{{Key: "Subnet", Value: "10.0.0.1/32"}}}},
		{"unmodelled values kept in Extra", "Address = host port\nAddress = a b c\nAddress = host 0\nPort = 65536\nPort = 655\nPort = 656\nTCPOnly = no\nCipher = a\nCipher = b\nIndirectData = yes\nEd25519PublicKey = nonsense\n",
			&mesh.HostConfig{Port: 655, Cipher: "a", Extra: []mesh.Var{
				{Key: "Address", Value: "host port"}, {Key: "Address", Value: "a b c"}, {Key: "Address", Value: "host 0"}, {Key: "Port", Value: "65536"}, {Key: "Port", Value: "656"},
				{Key: "TCPOnly", Value: "no"}, {Key: "Cipher", Value: "b"}, {Key: "IndirectData", Value: "yes"}, {Key: "Ed25519PublicKey", Value: "nonsense"},
			}}},
		{"other PEM blocks kept", confPEMOther, &mesh.HostConfig{ExtraBlocks: []string{confPEMOther}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := mesh.ParseHostConfig([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, h)
			again, err := mesh.ParseHostConfig(h.Marshal())
			require.NoError(t, err)
			assert.Equal(t, h, again)
		})
	}
}

const confPEMOther = "-----BEGIN ED25519 PUBLIC KEY-----\nAAAA\n-----END ED25519 PUBLIC KEY-----\n"

func TestHostConfigRSAKeyRoundTrip(t *testing.T) {
	k, err := confRSAKey()
	require.NoError(t, err)
	ed, err := mesh.GenerateEd25519Key(nil)
	require.NoError(t, err)
	edPub := ed.Public()
	h := &mesh.HostConfig{
		Addresses:        []mesh.HostAddress{{Host: "203.0.113.1"}, {Host: "2001:db8::1", Port: 6655}},
		Port:             655,
		Subnets:          []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")},
		Cipher:           "aes-256-cbc",
		Digest:           "sha256",
		TCPOnly:          true,
		PublicKey:        &k.PublicKey,
		Ed25519PublicKey: &edPub,
		Extra:            []mesh.Var{{Key: "IndirectData", Value: "no"}},
		ExtraBlocks:      []string{confPEMOther},
	}
	data := h.Marshal()
	assert.Contains(t, string(data), string(mesh.MarshalRSAPublicKey(&k.PublicKey)))
	assert.Contains(t, string(data), "Ed25519PublicKey = "+edPub.String()+"\n")
	got, err := mesh.ParseHostConfig(data)
	require.NoError(t, err)
	require.NotNil(t, got.PublicKey)
	assert.True(t, got.PublicKey.Equal(&k.PublicKey), "public key changed in the round trip")
	assert.Equal(t, h, got)

	// A key block that is not byte for byte what OpenSSL writes is kept as an extra block.
	odd := strings.Replace(string(mesh.MarshalRSAPublicKey(&k.PublicKey)), "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)
	got, err = mesh.ParseHostConfig([]byte(odd))
	require.NoError(t, err)
	assert.Nil(t, got.PublicKey)
	assert.Equal(t, []string{odd}, got.ExtraBlocks)
}

func TestHostConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"malformed PEM block", "-----BEGIN X\nnot base64\n-----END X\n", "malformed PEM block"},
		{"garbage RSA key", "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n", "RSA public key"},
		{"syntax error", "Address\n", "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mesh.ParseHostConfig([]byte(tc.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// An Address whose value is only Unicode white space (U+00A0, U+0085: ParseConf trims only
// ' ', '\t' and '\r') is kept in Extra. Fuzzing found that it once panicked.
func TestHostConfigAddressUnicodeSpace(t *testing.T) {
	for _, in := range []string{"Address = \u00a0\n", "Address = \u0085\n", "Address = \u2003 \u3000\n"} {
		var h *mesh.HostConfig
		var err error
		require.NotPanics(t, func() { h, err = mesh.ParseHostConfig([]byte(in)) }, "%q", in)
		if err != nil {
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
			continue
		}
		assert.Empty(t, h.Addresses, "%q", in)
	}
}
