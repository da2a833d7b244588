// Package netaddr holds the small address computations that several concerns need and
// net/netip leaves out.
package netaddr

import "net/netip"

// Last returns the last address of p: the broadcast address of an IPv4 subnet. An invalid
// prefix gives the zero Addr.
func Last(p netip.Prefix) netip.Addr {
	if !p.IsValid() {
		return netip.Addr{}
	}
	b := p.Masked().Addr().AsSlice()
	for i := range b {
		if rest := p.Bits() - 8*i; rest < 8 {
			b[i] |= 0xff >> max(rest, 0)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
