package ingress_test

import (
	"fmt"
	"net/netip"

	"github.com/webinfra/webinfra/ingress"
)

// Example_metalLBAndTraefik builds a fixed-address pool, gives Traefik's Service an address
// from it, and lists the objects to apply.
func Example_metalLBAndTraefik() {
	pools := ingress.Pools{
		Pools: []ingress.PoolSpec{{
			Name:       "ingress",
			Addresses:  []string{"10.250.0.8/29"},
			AutoAssign: new(false),
			L2:         &ingress.PoolL2{},
		}},
		MeshSubnets:  []netip.Prefix{netip.MustParsePrefix("10.200.0.0/16")},
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")},
	}
	mlb, err := pools.Objects()
	if err != nil {
		fmt.Println(err)
		return
	}
	addrs, err := pools.Pools[0].Allocate([]string{"ingress/traefik"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	objs, err := ingress.WorkloadObjects(ingress.WorkloadSpec{
		Namespace:    "ingress",
		StaticConfig: []byte("entryPoints:\n  web:\n    address: \":80\"\n  websecure:\n    address: \":443\"\nping: {}\n"),
		Address:      addrs["ingress/traefik"],
		Pool:         "ingress",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	wl, err := ingress.WorkloadUnstructured(objs)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range append(mlb, wl...) {
		fmt.Println(o.GetKind(), o.GetName())
	}
	fmt.Println(pools.Pools[0].Addresses[0], "contains", addrs["ingress/traefik"], netip.MustParsePrefix("10.250.0.8/29").Contains(addrs["ingress/traefik"]))
	// Output:
	// IPAddressPool ingress
	// L2Advertisement ingress
	// ServiceAccount traefik
	// ClusterRole ingress-traefik
	// ClusterRoleBinding ingress-traefik
	// ConfigMap traefik
	// DaemonSet traefik
	// Service traefik
	// 10.250.0.8/29 contains 10.250.0.10 true
}

// ExampleFirewallRuleset shows a spec refused with its field path (a source with host bits),
// then the valid spec rendered, and the sysctl lines the operator applies.
func ExampleFirewallRuleset() {
	spec := ingress.FirewallSpec{
		Sources:       []netip.Prefix{netip.MustParsePrefix("173.245.48.1/20")},
		Targets:       []netip.Addr{netip.MustParseAddr("10.250.0.9")},
		MeshInterface: "tinc0",
	}
	_, err := ingress.FirewallRuleset(spec)
	fmt.Println(err)
	spec.Sources[0] = spec.Sources[0].Masked()
	rules, _ := ingress.FirewallRuleset(spec)
	fmt.Println(len(rules) > 0)
	fmt.Print(ingress.FirewallSysctl(spec))
	// Output:
	// sources[0]: invalid value "173.245.48.1/20": has host bits set (want 173.245.48.0/20)
	// true
	// # webinfra ingress: forward public traffic into the mesh
	// net.ipv4.ip_forward = 1
}
