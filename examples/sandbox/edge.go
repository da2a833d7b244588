package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/internal/netns"
)

// cloud is the Cloudflare side: the API fake, a client of it, and the edge stand-in that
// proxies requests from a loopback port of this machine to the origin in the site's DNS record,
// connecting from inside the edge namespace, whose address is the fake's only published range.
type cloud struct {
	fake   *cloudflaretest.Server
	api    *cloudflare.Client
	zoneID string
	edgeNs string
	srv    *http.Server
	addr   string
}

func newCloud(edgeAddr netip.Addr, edgeNs string) (*cloud, error) {
	fake := cloudflaretest.NewServer(cloudflaretest.Options{
		IPv4: []netip.Prefix{netip.PrefixFrom(edgeAddr, 32)},
		IPv6: []netip.Prefix{}, // the sandbox has no IPv6 edge
	})
	zoneID := fake.AddZone(zone)
	api, err := cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret(fake.Token()), BaseURL: fake.URL()})
	if err != nil {
		fake.Close()
		return nil, err
	}
	return &cloud{fake: fake, api: api, zoneID: zoneID, edgeNs: edgeNs}, nil
}

// publish points the site's proxied A record at the firewall's public address.
func (c *cloud) publish(ctx context.Context, firewall netip.Addr) error {
	want := cloudflare.DNS{Zone: zone, Owner: "sandbox", Records: []cloudflare.Record{
		{Name: site, Type: cloudflare.TypeA, Content: firewall.String(), Proxied: true, Comment: "sandbox site"},
	}}
	p, err := c.api.PlanDNS(ctx, want)
	if err != nil {
		return err
	}
	return c.api.ApplyDNS(ctx, p)
}

// firewallRules renders the firewall's nftables rules: public port 80 forwarded to the service
// address, from Cloudflare's published ranges only.
func (c *cloud) firewallRules(ctx context.Context) (string, []netip.Prefix, error) {
	ranges, err := c.api.IPRanges(ctx)
	if err != nil {
		return "", nil, err
	}
	rules, err := ingress.FirewallRuleset(ingress.FirewallSpec{
		Sources:          ranges.All(),
		Targets:          []netip.Addr{vip},
		Ports:            []uint16{80},
		MeshInterface:    meshName,
		PublicInterfaces: []string{"eth0"},
	})
	return rules, ranges.All(), err
}

// origin returns the address of the proxied record of host, as Cloudflare's edge finds the
// origin of a request.
func (c *cloud) origin(host string) (string, bool) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	for _, r := range c.fake.Records(c.zoneID) {
		if r.Name == host && r.Type == "A" && r.Proxied {
			return r.Content, true
		}
	}
	return "", false
}

// serveEdge listens on addr (loopback) and proxies each request to its site's origin on port
// 80, adding X-Forwarded-For and CF-Connecting-IP as Cloudflare does.
func (c *cloud) serveEdge(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	c.addr = ln.Addr().String()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			origin, _ := c.origin(pr.In.Host)
			pr.SetURL(&url.URL{Scheme: "http", Host: net.JoinHostPort(origin, "80")})
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
				pr.Out.Header.Set("CF-Connecting-IP", ip)
			}
		},
		Transport: &http.Transport{DialContext: netns.Dialer(c.edgeNs), ResponseHeaderTimeout: 10 * time.Second, DisableKeepAlives: true},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "sandbox edge: origin unreachable: "+err.Error(), http.StatusBadGateway)
		},
	}
	c.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := c.origin(r.Host); !ok {
			http.Error(w, "sandbox edge: no proxied DNS record for "+r.Host, http.StatusNotFound)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = c.srv.Serve(ln) }()
	return nil
}

func (c *cloud) close() {
	if c.srv != nil {
		_ = c.srv.Close()
	}
	c.fake.Close()
}

// applyFirewall enables forwarding in the firewall's namespace and loads the rules there.
func applyFirewall(ctx context.Context, ns, rules string) error {
	if out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward").CombinedOutput(); err != nil {
		return fmt.Errorf("firewall: enable forwarding: %w: %s", err, out)
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = bytes.NewReader([]byte(rules))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("firewall: nft: %w: %s", err, out)
	}
	return nil
}
