package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/cloudflare/cloudflare-go/v6/ips"
)

// IPRanges are the address ranges Cloudflare's proxies connect to origins from.
type IPRanges struct {
	// IPv4 and IPv6 are the published ranges, in Cloudflare's order.
	IPv4, IPv6 []netip.Prefix
}

// All returns the IPv4 ranges followed by the IPv6 ranges.
func (r IPRanges) All() []netip.Prefix {
	return append(append([]netip.Prefix{}, r.IPv4...), r.IPv6...)
}

// IPRanges fetches Cloudflare's published IP ranges (GET /ips), for allowlists and the
// trusted-proxy settings of an origin. A range that does not parse is an error: an allowlist
// built from a partial list would drop real traffic.
func (c *Client) IPRanges(ctx context.Context) (IPRanges, error) {
	var raw string
	err := c.do(ctx, true, func(ctx context.Context) error {
		res, err := c.api.IPs.List(ctx, ips.IPListParams{})
		if err != nil {
			return err
		}
		raw = res.JSON.RawJSON()
		return nil
	})
	if err != nil {
		return IPRanges{}, fmt.Errorf("cloudflare: list IP ranges: %w", err)
	}
	var body struct {
		IPv4 []string `json:"ipv4_cidrs"`
		IPv6 []string `json:"ipv6_cidrs"`
	}
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		return IPRanges{}, fmt.Errorf("cloudflare: decode IP ranges: %w", err)
	}
	var out IPRanges
	for _, s := range body.IPv4 {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return IPRanges{}, fmt.Errorf("cloudflare: IP ranges: %q is not an IPv4 prefix", s)
		}
		out.IPv4 = append(out.IPv4, p)
	}
	for _, s := range body.IPv6 {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is6() {
			return IPRanges{}, fmt.Errorf("cloudflare: IP ranges: %q is not an IPv6 prefix", s)
		}
		out.IPv6 = append(out.IPv6, p)
	}
	if len(out.IPv4) == 0 && len(out.IPv6) == 0 {
		return IPRanges{}, fmt.Errorf("cloudflare: IP ranges: Cloudflare returned none")
	}
	return out, nil
}
