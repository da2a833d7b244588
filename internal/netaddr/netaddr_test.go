package netaddr_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/webinfra/webinfra/internal/netaddr"
)

func TestLast(t *testing.T) {
	for in, want := range map[string]string{
		"10.88.0.0/16":    "10.88.255.255",
		"10.88.1.7/16":    "10.88.255.255", // host bits do not matter
		"192.0.2.8/29":    "192.0.2.15",
		"192.0.2.1/32":    "192.0.2.1",
		"0.0.0.0/0":       "255.255.255.255",
		"10.0.0.0/9":      "10.127.255.255",
		"fd00::/64":       "fd00::ffff:ffff:ffff:ffff",
		"2001:db8::/127":  "2001:db8::1",
		"2001:db8::1/128": "2001:db8::1",
	} {
		assert.Equal(t, netip.MustParseAddr(want), netaddr.Last(netip.MustParsePrefix(in)), in)
	}
	assert.False(t, netaddr.Last(netip.Prefix{}).IsValid())
}
