package ingress_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/ingress"
)

func poolValid() ingress.Pools {
	return ingress.Pools{
		Pools: []ingress.PoolSpec{
			{Name: "traefik", Addresses: []string{"10.250.0.0/29", "10.250.0.20-10.250.0.29"}, AutoAssign: new(false), L2: &ingress.PoolL2{}},
			{Name: "v6", Addresses: []string{"fd00:250::/120"}, BGP: &ingress.PoolBGP{AggregationLengthV6: new(int32(120))}},
		},
		MeshSubnets:  []netip.Prefix{netip.MustParsePrefix("10.200.0.0/16")},
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")},
	}
}

// poolFieldErrors returns "path: message" of every problem, or fails when err is no validation error.
func poolFieldErrors(t *testing.T, err error) []string {
	t.Helper()
	var verr *webinfra.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	var out []string
	for _, e := range verr.Errors {
		out = append(out, e.Path+": "+e.Msg)
	}
	return out
}

func TestPoolsValidate(t *testing.T) {
	require.NoError(t, new(poolValid()).Validate())
	tests := []struct {
		name   string
		modify func(p *ingress.Pools)
		want   []string
	}{
		{"no pools", func(p *ingress.Pools) { p.Pools = nil }, []string{"pools: at least one pool is required"}},
		{"bad namespace", func(p *ingress.Pools) { p.Namespace = "Metal_LB" }, []string{
			"namespace: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
		}},
		{"host bits, bad range, mixed, reversed", func(p *ingress.Pools) {
			p.Pools[0].Addresses = []string{"10.250.0.1/29", "10.250.0.9-x", "10.250.0.9-fd00::1", "10.250.0.40-10.250.0.30", "nonsense"}
		}, []string{
			"pools[0].addresses[0]: prefix has host bits set (want 10.250.0.0/29)",
			`pools[0].addresses[1]: range end "x" is not an IP address`,
			"pools[0].addresses[2]: range mixes IPv4 and IPv6",
			"pools[0].addresses[3]: range start 10.250.0.40 is after its end 10.250.0.30",
			"pools[0].addresses[4]: not a CIDR prefix (10.20.0.0/28) or a range (10.20.0.10-10.20.0.19)",
		}},
		{"overlaps inside, between pools and with networks, all at once", func(p *ingress.Pools) {
			p.Pools[0].Addresses = append(p.Pools[0].Addresses, "10.250.0.4 - 10.250.0.5", "10.200.1.0/24")
			p.Pools[1].Addresses = []string{"10.250.0.24/30", "10.96.0.0/28", "10.244.3.3-10.244.3.3"}
			p.Pools[1].BGP = &ingress.PoolBGP{}
		}, []string{
			"pools[0].addresses[2]: overlaps pools[0].addresses[0] (10.250.0.0/29)",
			"pools[0].addresses[3]: overlaps meshSubnets[0] (10.200.0.0/16)",
			"pools[1].addresses[0]: overlaps pools[0].addresses[1] (10.250.0.20-10.250.0.29)",
			"pools[1].addresses[1]: overlaps serviceCIDRs[0] (10.96.0.0/12)",
			"pools[1].addresses[2]: overlaps podCIDRs[0] (10.244.0.0/16)",
		}},
		{"names and advertisements", func(p *ingress.Pools) {
			p.Pools[1].Name = "traefik"
			p.Pools[0].L2 = nil
			p.Pools = append(p.Pools, ingress.PoolSpec{Addresses: []string{"10.251.0.0/24"}, L2: &ingress.PoolL2{}, BGP: &ingress.PoolBGP{}})
		}, []string{
			"pools[0]: one of l2 and bgp is required",
			"pools[1].name: duplicate of pools[0].name",
			"pools[2].bgp: only one of l2 and bgp may be set",
			"pools[2].name: required",
		}},
		{"advertisement options", func(p *ingress.Pools) {
			p.Pools[0].L2 = &ingress.PoolL2{Interfaces: []string{"tinc0", "a b"}, NodeSelector: map[string]string{"bad key!": "v"}}
			p.Pools[1].BGP = &ingress.PoolBGP{Peers: []string{"Peer_1"}, Communities: []string{""}, AggregationLength: new(int32(33)), AggregationLengthV6: new(int32(112))}
		}, []string{
			"pools[0].l2.interfaces[1]: not a network interface name (1 to 15 letters, digits, '_', '-' or '.', not \".\" or \"..\"): character \" \" at offset 1",
			"pools[0].l2.nodeSelector[bad key!]: label key: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
			"pools[1].bgp.aggregationLength: want 0 to 32",
			"pools[1].bgp.aggregationLengthV6: shorter than the prefix length of pools[1].addresses[0] (fd00:250::/120)",
			"pools[1].bgp.communities[0]: not a community (65535:65282, large:1:2:3 or a Community alias name)",
			"pools[1].bgp.peers[0]: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
		}},
		{"invalid network inputs", func(p *ingress.Pools) { p.PodCIDRs = append(p.PodCIDRs, netip.Prefix{}) }, []string{
			"podCIDRs[1]: not a prefix",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := poolValid()
			p.Pools = append([]ingress.PoolSpec(nil), p.Pools...)
			tt.modify(&p)
			assert.Equal(t, tt.want, poolFieldErrors(t, p.Validate()))
			_, err := p.Objects()
			assert.ErrorIs(t, err, webinfra.ErrInvalidArgument, "Objects validates")
		})
	}
}

func TestPoolsObjects(t *testing.T) {
	p := poolValid()
	p.Pools[0].Addresses[1] = "10.250.0.20 - 10.250.0.29"
	p.Pools[0].L2 = &ingress.PoolL2{Interfaces: []string{"tinc0"}, NodeSelector: map[string]string{"role": "worker"}}
	p.Pools[1].BGP.Peers = []string{"edge"}
	p.Pools[1].BGP.LocalPref = new(uint32(50))
	objs, err := p.Objects()
	require.NoError(t, err)
	require.Len(t, objs, 4)
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
		assert.Equal(t, ingress.MetalLBAPIVersion, o.GetAPIVersion())
		assert.Equal(t, map[string]string{"app.kubernetes.io/managed-by": "webinfra"}, o.GetLabels())
	}
	assert.Equal(t, []string{
		"IPAddressPool metallb-system/traefik", "L2Advertisement metallb-system/traefik",
		"IPAddressPool metallb-system/v6", "BGPAdvertisement metallb-system/v6",
	}, kinds)
	assert.Equal(t, map[string]any{"addresses": []any{"10.250.0.0/29", "10.250.0.20-10.250.0.29"}, "autoAssign": false}, objs[0].Object["spec"])
	assert.Equal(t, map[string]any{
		"ipAddressPools": []any{"traefik"},
		"interfaces":     []any{"tinc0"},
		"nodeSelectors":  []any{map[string]any{"matchLabels": map[string]any{"role": "worker"}}},
	}, objs[1].Object["spec"])
	assert.Equal(t, map[string]any{"addresses": []any{"fd00:250::/120"}, "autoAssign": true}, objs[2].Object["spec"])
	assert.Equal(t, map[string]any{
		"ipAddressPools": []any{"v6"}, "peers": []any{"edge"}, "localPref": int64(50), "aggregationLengthV6": int64(120),
	}, objs[3].Object["spec"])

	p.Namespace = "lb"
	objs, err = p.Objects()
	require.NoError(t, err)
	assert.Equal(t, "lb", objs[0].GetNamespace())
}

func TestParsePoolRange(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/24":           "10.0.0.0/24",
		"10.0.0.5/32":           "10.0.0.5/32",
		"10.0.0.1-10.0.0.9":     "10.0.0.1-10.0.0.9",
		" 10.0.0.1 - 10.0.0.1 ": "10.0.0.1-10.0.0.1",
		"fd00::1-fd00::ff":      "fd00::1-fd00::ff",
		"FD00::/64":             "fd00::/64",
	} {
		r, err := ingress.ParsePoolRange(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, r.String(), in)
			assert.True(t, r.IsValid())
		}
	}
	for _, in := range []string{"", "-", "10.0.0.1/24", "::ffff:10.0.0.1/128", "fe80::1%eth0-fe80::2%eth0", "10.0.0.2-10.0.0.1", "1.2.3.4-5.6.7.8-9.9.9.9", " 10.0.0.0/24"} {
		_, err := ingress.ParsePoolRange(in)
		assert.ErrorIs(t, err, webinfra.ErrInvalidArgument, "%q", in)
	}
	r, _ := ingress.ParsePoolRange("10.0.0.8/29")
	assert.True(t, r.Contains(netip.MustParseAddr("10.0.0.15")))
	assert.False(t, r.Contains(netip.MustParseAddr("10.0.0.16")))
	assert.False(t, r.Contains(netip.MustParseAddr("::a00:8")))
	assert.True(t, r.OverlapsPrefix(netip.MustParsePrefix("10.0.0.0/28")))
	assert.False(t, r.OverlapsPrefix(netip.MustParsePrefix("10.0.0.0/29")))
	assert.False(t, errors.Is(nil, webinfra.ErrInvalidArgument))
}
