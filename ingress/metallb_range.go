package ingress

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/netaddr"
)

// PoolRange is one entry of a MetalLB pool's address list: an inclusive range of addresses of
// one family, written either as a masked CIDR prefix ("10.20.0.0/28", "fd00:20::/120") or as an
// explicit from-to range ("10.20.0.10-10.20.0.19"), as MetalLB's IPAddressPool accepts them.
//
// The zero PoolRange is invalid. PoolRange values are comparable and safe for concurrent use.
type PoolRange struct {
	// From is the first address of the range.
	From netip.Addr
	// To is the last address of the range, From or after it, of the same family.
	To netip.Addr
	// Prefix is the CIDR the range was written as; the zero Prefix when it was written from-to.
	Prefix netip.Prefix
}

// ParsePoolRange parses a pool address entry. It accepts a CIDR prefix without host bits
// ("10.20.0.0/28", not "10.20.0.1/28") or "from-to" with two addresses of the same family, from
// not after to, optionally with spaces around the dash. Zoned addresses and IPv4-mapped IPv6
// addresses are refused, because MetalLB would silently treat the latter as IPv4. Errors match
// webinfra.ErrInvalidArgument. [PoolRange.String] of the result parses back to the same value.
func ParsePoolRange(s string) (PoolRange, error) {
	r, msg := poolParseRange(s)
	if msg != "" {
		return PoolRange{}, fmt.Errorf("ingress: pool address %q: %s: %w", s, msg, webinfra.ErrInvalidArgument)
	}
	return r, nil
}

// poolParseRange is ParsePoolRange with the reason as a plain message, for validation.
func poolParseRange(s string) (PoolRange, string) {
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return PoolRange{}, "not a CIDR prefix (10.20.0.0/28) or a range (10.20.0.10-10.20.0.19)"
		}
		if msg := poolCheckAddr(p.Addr()); msg != "" {
			return PoolRange{}, msg
		}
		if p != p.Masked() {
			return PoolRange{}, fmt.Sprintf("prefix has host bits set (want %s)", p.Masked())
		}
		return PoolRange{From: p.Addr(), To: netaddr.Last(p), Prefix: p}, ""
	}
	a, errA := netip.ParseAddr(strings.TrimSpace(from))
	b, errB := netip.ParseAddr(strings.TrimSpace(to))
	switch {
	case errA != nil:
		return PoolRange{}, fmt.Sprintf("range start %q is not an IP address", strings.TrimSpace(from))
	case errB != nil:
		return PoolRange{}, fmt.Sprintf("range end %q is not an IP address", strings.TrimSpace(to))
	}
	for _, x := range []netip.Addr{a, b} {
		if msg := poolCheckAddr(x); msg != "" {
			return PoolRange{}, msg
		}
	}
	switch {
	case a.Is4() != b.Is4():
		return PoolRange{}, "range mixes IPv4 and IPv6"
	case b.Less(a):
		return PoolRange{}, fmt.Sprintf("range start %s is after its end %s", a, b)
	}
	return PoolRange{From: a, To: b}, ""
}

func poolCheckAddr(a netip.Addr) string {
	switch {
	case a.Zone() != "":
		return fmt.Sprintf("address %s has a zone", a)
	case a.Is4In6():
		return fmt.Sprintf("address %s is an IPv4-mapped IPv6 address (write %s)", a, a.Unmap())
	}
	return ""
}

// String renders the range as MetalLB's addresses list wants it: the prefix when it was written
// as one, otherwise "from-to".
func (r PoolRange) String() string {
	if r.Prefix.IsValid() {
		return r.Prefix.String()
	}
	return r.From.String() + "-" + r.To.String()
}

// IsValid reports whether r is a range [ParsePoolRange] could have returned.
func (r PoolRange) IsValid() bool {
	return r.From.IsValid() && r.To.IsValid() && r.From.Is4() == r.To.Is4() && !r.To.Less(r.From)
}

// Contains reports whether a lies in the range.
func (r PoolRange) Contains(a netip.Addr) bool {
	return a.IsValid() && a.Is4() == r.From.Is4() && !a.Less(r.From) && !r.To.Less(a)
}

// Overlaps reports whether r and o share at least one address.
func (r PoolRange) Overlaps(o PoolRange) bool {
	return r.From.Is4() == o.From.Is4() && !r.To.Less(o.From) && !o.To.Less(r.From)
}

// OverlapsPrefix reports whether r and the prefix p share at least one address.
func (r PoolRange) OverlapsPrefix(p netip.Prefix) bool {
	if !p.IsValid() {
		return false
	}
	p = p.Masked()
	return r.Overlaps(PoolRange{From: p.Addr(), To: netaddr.Last(p)})
}
