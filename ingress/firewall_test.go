package ingress_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/ingress"
)

func TestFirewallValidate(t *testing.T) {
	require.NoError(t, new(firewallSpecForTest()).Validate())
	tests := []struct {
		name   string
		modify func(s *ingress.FirewallSpec)
		want   []string
	}{
		{"empty", func(s *ingress.FirewallSpec) { *s = ingress.FirewallSpec{} }, []string{
			"meshInterface: required", "sources: at least one source prefix is required", "targets: at least one target address is required",
		}},
		{"everything wrong at once", func(s *ingress.FirewallSpec) {
			s.Table = "1table"
			s.Sources = append(s.Sources, netip.MustParsePrefix("10.0.0.1/8"), netip.Prefix{})
			s.Targets = append(s.Targets, netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("127.0.0.1"))
			s.Ports = []uint16{80, 0, 80}
			s.MeshInterface = "lo"
			s.PublicInterfaces = []string{"eth 0"}
		}, []string{
			"meshInterface: is the loopback interface",
			"ports[1]: want 1 to 65535",
			"ports[2]: duplicate of ports[0]",
			"publicInterfaces[0]: not a network interface name (1 to 15 letters, digits, '_', '-' or '.', not \".\" or \"..\"): character \" \" at offset 3",
			"sources[4]: has host bits set (want 10.0.0.0/8)",
			"sources[5]: not a prefix",
			"table: want letters, digits and '_', starting with a letter, at most 64",
			"targets[2]: a second IPv4 target (first at targets[0])",
			"targets[3]: a second IPv4 target (first at targets[0])",
			"targets[3]: not a unicast address",
		}},
		{"source family without target", func(s *ingress.FirewallSpec) { s.Targets = s.Targets[:1] }, []string{
			"sources[2]: no IPv6 target to forward to", "sources[3]: no IPv6 target to forward to",
		}},
		{"public interface is the mesh", func(s *ingress.FirewallSpec) { s.PublicInterfaces = []string{"eth0", "tinc0"} }, []string{
			"publicInterfaces[1]: is the mesh interface",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := firewallSpecForTest()
			tt.modify(&s)
			assert.Equal(t, tt.want, poolFieldErrors(t, s.Validate()))
			_, err := ingress.FirewallRuleset(s)
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
		})
	}
}

func TestFirewallRuleset(t *testing.T) {
	spec := firewallSpecForTest()
	spec.Sources = append(spec.Sources, netip.MustParsePrefix("173.245.49.0/24"), netip.MustParsePrefix("173.245.48.0/20"))
	rules, err := ingress.FirewallRuleset(spec)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rules, "# webinfra ingress forwarding; generated, do not edit: the whole table is replaced.\n"+
		"add table inet webinfra_ingress\ndelete table inet webinfra_ingress\ntable inet webinfra_ingress {\n"), rules)
	for _, want := range []string{
		"\t\telements = {\n\t\t\t103.21.244.0/22,\n\t\t\t173.245.48.0/20,\n\t\t}\n", // sorted, covered and repeated prefixes dropped
		"\t\telements = {\n\t\t\t2400:cb00::/32,\n\t\t\t2606:4700::/32,\n\t\t}\n",
		`iifname != { "lo", "tinc0" } ip saddr @sources_v4 fib daddr type local tcp dport { 80, 443 } dnat ip to 10.250.0.10`,
		`iifname != { "lo", "tinc0" } ip6 saddr @sources_v6 fib daddr type local tcp dport { 80, 443 } dnat ip6 to fd00:250::10`,
		`iifname != { "lo", "tinc0" } tcp dport { 80, 443 } drop`,
		`iifname != { "lo", "tinc0" } oifname "tinc0" ip daddr 10.250.0.10 drop`,
		`oifname "tinc0" ip daddr 10.250.0.10 tcp dport { 80, 443 } ct status dnat masquerade`,
		`oifname "tinc0" ip6 daddr fd00:250::10 tcp dport { 80, 443 } ct status dnat masquerade`,
	} {
		assert.Contains(t, rules, want)
	}
	// The only table named is ours.
	for line := range strings.Lines(rules) {
		if strings.Contains(line, "table") && !strings.HasPrefix(line, "#") {
			assert.Contains(t, line, "table inet webinfra_ingress", line)
		}
	}
	again, err := ingress.FirewallRuleset(spec)
	require.NoError(t, err)
	assert.Equal(t, rules, again, "deterministic")

	spec.PublicInterfaces = []string{"eth0"}
	spec.Ports = []uint16{443}
	spec.Table = "edge"
	rules, err = ingress.FirewallRuleset(spec)
	require.NoError(t, err)
	assert.Contains(t, rules, `iifname { "eth0" } ip saddr @sources_v4 fib daddr type local tcp dport 443 dnat ip to 10.250.0.10`)
	assert.Contains(t, rules, "add table inet edge\ndelete table inet edge\n")

	del, err := ingress.FirewallDeleteRuleset("")
	require.NoError(t, err)
	assert.Equal(t, "add table inet webinfra_ingress\ndelete table inet webinfra_ingress\n", del)
	_, err = ingress.FirewallDeleteRuleset("bad name")
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
}

func TestFirewallSysctl(t *testing.T) {
	s := firewallSpecForTest()
	assert.Equal(t, "# webinfra ingress: forward public traffic into the mesh\nnet.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n", ingress.FirewallSysctl(s))
	s.Targets = s.Targets[:1]
	assert.NotContains(t, ingress.FirewallSysctl(s), "ipv6")
}
