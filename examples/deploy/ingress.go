package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"path"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/webinfra/webinfra/cluster"
	"github.com/webinfra/webinfra/examples/deploy/stack"
	"github.com/webinfra/webinfra/ingress"
	"github.com/webinfra/webinfra/mesh"
)

// The ingress of the demo: Traefik runs as a DaemonSet on the workers, in this namespace, behind
// one fixed address of this MetalLB pool.
const (
	ingressNamespace = "ingress"
	ingressPool      = "webinfra"
)

// ingressFiles renders the whole ingress of a validated stack, by path under STATE/ingress:
//
//   - traefik/traefik.yml: Traefik's static configuration (HTTPS redirect, forwarded headers
//     trusted only from the firewalls, the kubernetesCRD provider);
//   - kubernetes/metallb.yaml, kubernetes/traefik.yaml and kubernetes/site-NAME.yaml: the
//     MetalLB pool, the Traefik workload and each site's IngressRoute with the Cloudflare-only
//     and HSTS middlewares and the modern TLS option, for the cluster package to apply;
//   - firewall/NODE/webinfra-ingress.nft: each firewall's ruleset, admitting only Cloudflare's
//     ranges and forwarding them to Traefik's address over the mesh.
//
// network is the planned mesh (every node's address set); cloudflareRanges are the ranges
// Cloudflare's API publishes. objs are the Kubernetes manifests' objects, in the order the
// files list them (pool, workload, then each site's routes), for applying them to a real
// cluster.
func ingressFiles(st *stack.Stack, network *mesh.Network, cloudflareRanges []netip.Prefix) (files map[string][]byte, objs []*unstructured.Unstructured, err error) {
	var firewalls []netip.Prefix
	var firewallNodes []string
	for _, sn := range st.Nodes {
		if sn.Has(stack.RoleFirewall) {
			a := network.Node(sn.Name).Address
			firewalls = append(firewalls, netip.PrefixFrom(a, a.BitLen()))
			firewallNodes = append(firewallNodes, sn.Name)
		}
	}
	origin, err := ingress.CloudflareOrigin(ingress.OriginOptions{Firewalls: firewalls, Cloudflare: cloudflareRanges})
	if err != nil {
		return nil, nil, fmt.Errorf("ingress: origin: %w", err)
	}
	opts := ingress.StaticOptions{
		InternalAddress: ":8080", // the kubelet probes /ping on the pod address; the Service never exposes it
		RedirectToHTTPS: true,
		KubernetesCRD:   true,
		Metrics:         true,
		AccessLog:       &ingress.AccessLogOptions{JSON: true},
	}
	origin.ApplyStatic(&opts)
	static, err := ingress.NewStatic(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("ingress: static configuration: %w", err)
	}
	files = map[string][]byte{"traefik/traefik.yml": static.YAML()}

	pool := ingress.PoolSpec{Name: ingressPool, Addresses: []string{st.Cluster.LoadBalancerPool}, L2: &ingress.PoolL2{}}
	pools := ingress.Pools{
		Pools:        []ingress.PoolSpec{pool},
		MeshSubnets:  network.Subnets,
		PodCIDRs:     []netip.Prefix{netip.MustParsePrefix(st.Cluster.PodSubnet)},
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix(st.Cluster.ServiceSubnet)},
	}
	poolObjects, err := pools.Objects()
	if err != nil {
		return nil, nil, fmt.Errorf("ingress: MetalLB: %w", err)
	}
	key := ingressNamespace + "/" + ingress.WorkloadName
	addrs, err := pool.Allocate([]string{key}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("ingress: MetalLB address: %w", err)
	}
	workload, err := ingress.WorkloadObjects(ingress.WorkloadSpec{
		Namespace:    ingressNamespace,
		StaticConfig: static.YAML(),
		Address:      addrs[key],
		Pool:         ingressPool,
		NodeSelector: map[string]string{cluster.RoleLabel(string(stack.RoleWorker)): ""},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("ingress: Traefik workload: %w", err)
	}
	workloadObjects, err := ingress.WorkloadUnstructured(workload)
	if err != nil {
		return nil, nil, err
	}
	for name, part := range map[string][]*unstructured.Unstructured{"kubernetes/metallb.yaml": poolObjects, "kubernetes/traefik.yaml": workloadObjects} {
		if files[name], err = manifests(part); err != nil {
			return nil, nil, err
		}
	}
	objs = slices.Concat(poolObjects, workloadObjects)
	for _, site := range st.Sites {
		routes, err := siteRoutes(site, origin)
		if err != nil {
			return nil, nil, fmt.Errorf("ingress: site %q: %w", site.Name, err)
		}
		if files["kubernetes/site-"+site.Name+".yaml"], err = manifests(routes); err != nil {
			return nil, nil, err
		}
		objs = append(objs, routes...)
	}
	// Only Cloudflare's ranges of the pool's family can be forwarded: nftables cannot NAT
	// between IPv6 and IPv4.
	var sources []netip.Prefix
	for _, r := range cloudflareRanges {
		if r.Addr().Is4() == addrs[key].Is4() {
			sources = append(sources, r)
		}
	}
	for _, node := range firewallNodes {
		rules, err := ingress.FirewallRuleset(ingress.FirewallSpec{
			Sources:       sources,
			Targets:       []netip.Addr{addrs[key]},
			MeshInterface: network.Name, // the tun device is named after the network
		})
		if err != nil {
			return nil, nil, fmt.Errorf("ingress: firewall %s: %w", node, err)
		}
		files[path.Join("firewall", node, "webinfra-ingress.nft")] = []byte(rules)
	}
	return files, objs, nil
}

// siteRoutes is one site's IngressRoute (all its hostnames, HTTPS only, modern TLS) in the
// site's namespace, with the origin's middlewares in front and HSTS after them.
func siteRoutes(site stack.Site, origin *ingress.Origin) ([]*unstructured.Unstructured, error) {
	var hosts []ingress.Rule
	for _, h := range site.Hosts {
		hosts = append(hosts, ingress.Host(h))
	}
	svc := site.Service
	d := &ingress.Dynamic{
		HTTP: ingress.HTTP{
			Routers: map[string]ingress.Router{site.Name: {
				EntryPoints: []string{ingress.EntryPointWebSecure},
				Rule:        ingress.Or(hosts...).String(),
				Service:     site.Name,
				Middlewares: []string{"hsts"},
				TLS:         &ingress.RouterTLS{Options: "modern"},
			}},
			Services: map[string]ingress.Service{site.Name: {LoadBalancer: &ingress.LoadBalancer{
				Servers: []ingress.Server{{URL: fmt.Sprintf("http://%s.%s.svc:%d", svc.Name, svc.Namespace, svc.Port)}},
			}}},
			Middlewares: map[string]ingress.Middleware{"hsts": {Headers: ingress.HSTS()}},
		},
		TLS: ingress.TLS{Options: map[string]ingress.TLSOptions{"modern": ingress.ModernTLS()}},
	}
	origin.Apply(d)
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d.CRDs(ingress.CRDOptions{Namespace: svc.Namespace, Services: map[string]ingress.ServiceRef{site.Name: {Name: svc.Name, Port: svc.Port}}})
}

// manifests renders objects as one multi-document YAML file.
func manifests(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, fmt.Errorf("ingress: render %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}
