package ingress_test

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/webinfra/webinfra/ingress"
)

// FuzzParsePoolRange checks that ParsePoolRange never panics, that String parses back to the
// same range, and that whatever it accepts MetalLB's own parser (net.ParseCIDR, or net.ParseIP
// on both sides of the dash) accepts with the same first and last address.
func FuzzParsePoolRange(f *testing.F) {
	seeds := []string{
		// valid
		"10.20.0.0/28", "10.20.0.10-10.20.0.19", "10.0.0.1 - 10.0.0.1", "fd00:20::/120", "fd00::1-fd00::ff",
		"0.0.0.0/0", "::/0", "255.255.255.255/32",
		// edge
		"10.0.0.0/31", "FD00::/64", " 10.0.0.1-10.0.0.2 ", "::ffff:10.0.0.1-::ffff:10.0.0.2",
		// invalid
		"", "-", "10.20.0.1/28", "10.0.0.2-10.0.0.1", "10.0.0.1-fd00::1", "fe80::1%eth0/128",
		"1.2.3.4-5.6.7.8-9.9.9.9", "10.0.0.0/33", "10.0.0.0/24-10.0.1.0/24", "010.0.0.1/32",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ingress.ParsePoolRange(s)
		if err != nil {
			return
		}
		if !r.IsValid() {
			t.Fatalf("%q: parsed to invalid %#v", s, r)
		}
		again, err := ingress.ParsePoolRange(r.String())
		if err != nil || again != r {
			t.Fatalf("%q: String %q parses to %#v, %v; want %#v", s, r.String(), again, err, r)
		}
		// MetalLB's ParseCIDR (internal/config) in terms of package net.
		if from, to, ok := strings.Cut(s, "-"); ok {
			a, b := net.ParseIP(strings.TrimSpace(from)), net.ParseIP(strings.TrimSpace(to))
			if a == nil || b == nil || bytes.Compare(a, b) > 0 {
				t.Fatalf("%q: accepted, but MetalLB would refuse it", s)
			}
			if !a.Equal(net.IP(r.From.AsSlice())) || !b.Equal(net.IP(r.To.AsSlice())) {
				t.Fatalf("%q: MetalLB reads %s-%s, we %s", s, a, b, r)
			}
			return
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatalf("%q: accepted, but MetalLB would refuse it: %v", s, err)
		}
		if n.String() != r.Prefix.String() {
			t.Fatalf("%q: MetalLB reads %s, we %s", s, n, r)
		}
	})
}
