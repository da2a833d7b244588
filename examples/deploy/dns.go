package main

import (
	"net/netip"
	"os"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/cloudflare/cloudflaretest"
	"github.com/webinfra/webinfra/examples/deploy/stack"
)

// dnsStates turns the stack's sites into Cloudflare records, one desired state per zone of the
// stack (its domain first) with each hostname in the zone it is inside: every site hostname is proxied to
// the firewall nodes' public addresses, since the firewalls are where public traffic enters the
// mesh. Only addresses of the load balancer pool's family are published (A records for an IPv4
// pool): the firewalls forward to Traefik's pool address, and nftables cannot translate between
// IPv6 and IPv4, so Cloudflare must not be sent to a firewall's address of the other family.
func dnsStates(st *stack.Stack) []cloudflare.DNS {
	states := make([]cloudflare.DNS, len(st.AllZones()))
	at := map[string]*cloudflare.DNS{}
	for i, z := range st.AllZones() {
		states[i] = cloudflare.DNS{Zone: z, Owner: st.Name}
		at[z] = &states[i]
	}
	pool4 := netip.MustParsePrefix(st.Cluster.LoadBalancerPool).Addr().Is4() // validated by Stack.Validate
	for _, site := range st.Sites {
		for _, host := range site.Hosts {
			for _, n := range st.Nodes {
				if !n.Has(stack.RoleFirewall) {
					continue
				}
				for _, a := range n.PublicAddresses {
					addr := netip.MustParseAddr(a) // validated by Stack.Validate
					if addr.Is4() != pool4 {
						continue
					}
					typ := cloudflare.TypeA
					if addr.Is6() {
						typ = cloudflare.TypeAAAA
					}
					d := at[st.ZoneOf(host)] // validated: every host is in a zone
					d.Records = append(d.Records, cloudflare.Record{
						Name: host, Type: typ, Content: addr.String(), Proxied: true,
						Comment: "site " + site.Name,
					})
				}
			}
		}
	}
	return states
}

// cloudflareClient returns a client for the real API when CLOUDFLARE_API_TOKEN is set (at
// CLOUDFLARE_API_BASE_URL when that is set too: a proxy, or a test's fake), and otherwise one for
// a built-in simulated Cloudflare holding the stack's zones. close releases it.
func cloudflareClient(st *stack.Stack) (c *cloudflare.Client, svc service, close func(), err error) {
	if token := os.Getenv("CLOUDFLARE_API_TOKEN"); token != "" {
		c, err = cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret(token), BaseURL: os.Getenv("CLOUDFLARE_API_BASE_URL")})
		return c, service{name: "Cloudflare API", detail: "CLOUDFLARE_API_TOKEN"}, func() {}, err
	}
	srv := cloudflaretest.NewServer(cloudflaretest.Options{})
	for _, z := range st.AllZones() {
		srv.AddZone(z)
	}
	c, err = cloudflare.New(cloudflare.Config{Token: webinfra.NewSecret(srv.Token()), BaseURL: srv.URL()})
	return c, service{name: "Cloudflare API", simulated: true, detail: "set CLOUDFLARE_API_TOKEN for the real one"}, srv.Close, err
}

// zoneSettings is the example's baseline for zone: the origin's certificate is verified (its
// Traefik serves a Cloudflare origin certificate), browsers are sent to https and told to stay
// there, and TLS below 1.2 is refused. Every zone of a stack gets it.
func zoneSettings(zone string) cloudflare.Settings {
	on := true
	return cloudflare.Settings{
		Zone: zone, SSL: "strict", AlwaysUseHTTPS: &on, AutomaticHTTPSRewrites: &on, MinTLSVersion: "1.2",
		HSTS: &cloudflare.HSTS{Enabled: true, MaxAgeSeconds: 31536000, IncludeSubdomains: true, NoSniff: true},
	}
}
