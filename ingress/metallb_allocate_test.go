package ingress_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/ingress"
)

func poolServices(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ns%d/svc-%d", i%3, i)
	}
	return out
}

func TestPoolAllocate(t *testing.T) {
	pool := ingress.PoolSpec{Name: "fixed", Addresses: []string{"10.250.0.16/29", "10.250.0.2-10.250.0.3"}, L2: &ingress.PoolL2{}}
	usable := []string{"10.250.0.2", "10.250.0.3", "10.250.0.17", "10.250.0.18", "10.250.0.19", "10.250.0.20", "10.250.0.21", "10.250.0.22"}

	t.Run("every address usable, network and broadcast skipped", func(t *testing.T) {
		got, err := pool.Allocate(poolServices(len(usable)), nil)
		require.NoError(t, err)
		var addrs []string
		for _, a := range got {
			addrs = append(addrs, a.String())
		}
		slices.Sort(addrs)
		assert.Equal(t, slices.Sorted(slices.Values(usable)), addrs)
	})
	t.Run("full pool", func(t *testing.T) {
		_, err := pool.Allocate(poolServices(len(usable)+1), nil)
		assert.ErrorIs(t, err, webinfra.ErrFailedPrecondition)
		assert.NotErrorIs(t, err, webinfra.ErrInvalidArgument)
	})
	t.Run("independent of input order", func(t *testing.T) {
		svcs := poolServices(6)
		want, err := pool.Allocate(svcs, nil)
		require.NoError(t, err)
		reversed := pool
		reversed.Addresses = []string{pool.Addresses[1], pool.Addresses[0]}
		r := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			r.Shuffle(len(svcs), func(i, j int) { svcs[i], svcs[j] = svcs[j], svcs[i] })
			got, err := reversed.Allocate(svcs, nil)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
	})
	t.Run("previous assignments kept, invalid ones replaced", func(t *testing.T) {
		prev := map[string]netip.Addr{
			"a/one":   netip.MustParseAddr("10.250.0.22"),
			"a/two":   netip.MustParseAddr("10.250.0.16"), // network address: not usable
			"a/three": netip.MustParseAddr("10.9.9.9"),    // outside the pool
			"a/four":  netip.MustParseAddr("10.250.0.22"), // contested: "a/four" < "a/one", so a/four keeps it
			"gone/x":  netip.MustParseAddr("10.250.0.2"),  // not a service any more
		}
		got, err := pool.Allocate([]string{"a/one", "a/two", "a/three", "a/four"}, prev)
		require.NoError(t, err)
		assert.Equal(t, netip.MustParseAddr("10.250.0.22"), got["a/four"], "the smaller key keeps a contested address")
		assert.NotEqual(t, netip.MustParseAddr("10.250.0.22"), got["a/one"])
		for k, a := range got {
			assert.Contains(t, usable, a.String(), k)
		}
	})
	t.Run("adding and removing services moves nobody with prev", func(t *testing.T) {
		first, err := pool.Allocate(poolServices(4), nil)
		require.NoError(t, err)
		more := append(poolServices(4)[1:], "new/svc")
		second, err := pool.Allocate(more, first)
		require.NoError(t, err)
		for _, k := range poolServices(4)[1:] {
			assert.Equal(t, first[k], second[k], k)
		}
		assert.NotContains(t, []netip.Addr{second["ns1/svc-1"], second["ns2/svc-2"], second["ns0/svc-3"]}, second["new/svc"])
	})
	t.Run("stable hash slot without prev", func(t *testing.T) {
		big := ingress.PoolSpec{Name: "big", Addresses: []string{"10.60.0.0/16"}, L2: &ingress.PoolL2{}}
		a, err := big.Allocate([]string{"web/site"}, nil)
		require.NoError(t, err)
		b, err := big.Allocate([]string{"web/site", "other/one", "other/two"}, nil)
		require.NoError(t, err)
		assert.Equal(t, a["web/site"], b["web/site"], "others do not move a service whose slot is free")
	})
	t.Run("IPv6 and single-address entries", func(t *testing.T) {
		p := ingress.PoolSpec{Name: "v6", Addresses: []string{"fd00::/64", "10.1.1.1/32", "10.2.2.0/31"}, BGP: &ingress.PoolBGP{}}
		got, err := p.Allocate(poolServices(50), nil)
		require.NoError(t, err)
		seen := map[netip.Addr]bool{}
		for _, a := range got {
			assert.False(t, seen[a], "duplicate %s", a)
			seen[a] = true
			assert.NotEqual(t, netip.MustParseAddr("fd00::"), a)
		}
		one := ingress.PoolSpec{Name: "one", Addresses: []string{"10.1.1.1/32", "10.2.2.0/31"}, L2: &ingress.PoolL2{}}
		got, err = one.Allocate([]string{"a/a", "b/b", "c/c"}, nil)
		require.NoError(t, err)
		assert.ElementsMatch(t, []netip.Addr{netip.MustParseAddr("10.1.1.1"), netip.MustParseAddr("10.2.2.0"), netip.MustParseAddr("10.2.2.1")},
			[]netip.Addr{got["a/a"], got["b/b"], got["c/c"]})
	})
	t.Run("invalid keys and pool, all at once", func(t *testing.T) {
		bad := pool
		bad.Addresses = []string{"10.0.0.1/24"}
		_, err := bad.Allocate([]string{"a/b", "nokey", "a/b", "Bad/x", "a/1x"}, nil)
		assert.Equal(t, []string{
			"addresses[0]: prefix has host bits set (want 10.0.0.0/24)",
			"services[1]: want namespace/name",
			"services[2]: duplicate of services[0]",
			"services[3]: namespace: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
			"services[4]: name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
		}, poolFieldErrors(t, err))
	})
}
