package ingress

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/ifname"
)

// MetalLBAPIVersion is the apiVersion of every MetalLB object this package produces.
const MetalLBAPIVersion = "metallb.io/v1beta1"

// MetalLBNamespace is the namespace MetalLB objects go to when [Pools.Namespace] is empty:
// the one MetalLB's own manifests install into.
const MetalLBNamespace = "metallb-system"

// MetalLB annotations a LoadBalancer Service uses to ask for a fixed address from a named pool.
const (
	// MetalLBAnnotationIPs asks MetalLB for exactly these addresses (comma separated).
	MetalLBAnnotationIPs = "metallb.io/loadBalancerIPs"
	// MetalLBAnnotationPool restricts the Service to the named IPAddressPool.
	MetalLBAnnotationPool = "metallb.io/address-pool"
)

// PoolManagedBy is the value of the app.kubernetes.io/managed-by label on every object this
// package produces.
const PoolManagedBy = "webinfra"

// Pools is the desired MetalLB configuration: address pools for LoadBalancer Services, and the
// networks of the deployment that no pool may overlap.
//
// # Routing over the mesh
//
// MetalLB's L2 mode answers ARP (IPv4) or NDP (IPv6) requests for a service address from the
// node that currently holds it. Over tinc in router mode (the mode package mesh configures)
// there is no ARP or NDP at all: tinc routes packets by the Subnet each node announces, so an
// L2Advertisement's announcements never cross the mesh. The deployment therefore makes every
// worker announce the whole pool as a tinc Subnet (the same Subnet on several nodes is tinc's
// failover), and kube-proxy on whichever worker receives a packet forwards it to a ready
// endpoint. The L2Advertisement is still produced and is harmless: it lets MetalLB mark the
// address as assigned and answers ARP on any real LAN segment a node might also have.
//
// The zero value is not valid (it has no pools); Pools is safe for concurrent reads.
type Pools struct {
	// Namespace holds the MetalLB objects; "" means [MetalLBNamespace].
	Namespace string `json:"namespace,omitempty"`
	// Pools lists the address pools; at least one, with distinct names, no two overlapping.
	Pools []PoolSpec `json:"pools"`
	// MeshSubnets are the mesh's node overlay subnets, which no pool may overlap.
	MeshSubnets []netip.Prefix `json:"meshSubnets,omitempty"`
	// PodCIDRs are the cluster's pod networks, which no pool may overlap.
	PodCIDRs []netip.Prefix `json:"podCIDRs,omitempty"`
	// ServiceCIDRs are the cluster's service (ClusterIP) networks, which no pool may overlap.
	ServiceCIDRs []netip.Prefix `json:"serviceCIDRs,omitempty"`
}

// PoolSpec is one MetalLB IPAddressPool with exactly one advertisement.
type PoolSpec struct {
	// Name names the IPAddressPool and its advertisement: a DNS-1123 subdomain, unique among
	// the pools.
	Name string `json:"name"`
	// Addresses lists the pool's addresses, each as [ParsePoolRange] reads it; at least one.
	// No two entries (of this or any other pool) may overlap.
	Addresses []string `json:"addresses"`
	// AutoAssign says whether MetalLB may hand the pool's addresses to Services that did not ask
	// for one; nil means true, MetalLB's default. Set it to false for a pool whose addresses
	// [PoolSpec.Allocate] hands out as fixed addresses, otherwise MetalLB may give one of them
	// to another Service first.
	AutoAssign *bool `json:"autoAssign,omitempty"`
	// L2 advertises the pool by ARP/NDP; exactly one of L2 and BGP must be set.
	L2 *PoolL2 `json:"l2,omitempty"`
	// BGP advertises the pool to BGP peers; exactly one of L2 and BGP must be set.
	BGP *PoolBGP `json:"bgp,omitempty"`
}

// PoolL2 holds the options of an L2Advertisement. The zero value announces from every node on
// every interface.
type PoolL2 struct {
	// Interfaces limits the announcements to these node interfaces; empty means all. Each is 1
	// to 15 letters, digits, '_', '-' or '.', not "." or "..".
	Interfaces []string `json:"interfaces,omitempty"`
	// NodeSelector limits the announcing nodes to those with these labels; empty means all.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// PoolBGP holds the options of a BGPAdvertisement. The zero value announces every address as a
// host route to every peer.
type PoolBGP struct {
	// Peers limits the advertisement to these BGPPeer names; empty means all peers.
	Peers []string `json:"peers,omitempty"`
	// Communities are attached to the announcements: "65535:65282", a large community
	// "large:1:2:3", or the name of a MetalLB Community alias.
	Communities []string `json:"communities,omitempty"`
	// LocalPref is the BGP LOCAL_PREF attribute for iBGP peers; nil leaves it unset.
	LocalPref *uint32 `json:"localPref,omitempty"`
	// AggregationLength aggregates IPv4 announcements to this prefix length (0 to 32); nil
	// means 32, one route per address. It may not be shorter than a CIDR entry's own length.
	AggregationLength *int32 `json:"aggregationLength,omitempty"`
	// AggregationLengthV6 is the same for IPv6 (0 to 128); nil means 128.
	AggregationLengthV6 *int32 `json:"aggregationLengthV6,omitempty"`
	// NodeSelector limits the announcing nodes to those with these labels; empty means all.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// Validate checks the pools and reports every problem in one *webinfra.ValidationError (which
// matches webinfra.ErrInvalidArgument), each at its field path, for example
// `pools[1].addresses[0]: invalid value "10.0.0.8/29": overlaps pools[0].addresses[0] (10.0.0.0/28)`
// or `pools[0].addresses[1]: invalid value "10.96.0.0/28": overlaps serviceCIDRs[0] (10.96.0.0/12)`.
// It is pure and does no I/O.
func (p *Pools) Validate() error {
	var errs webinfra.ValidationError
	p.validate(&errs)
	return errs.Err()
}

type poolEntry struct {
	r    PoolRange
	raw  string // as written
	path webinfra.Path
}

func (p *Pools) validate(errs *webinfra.ValidationError) {
	if p.Namespace != "" {
		for _, msg := range k8svalidation.IsDNS1123Label(p.Namespace) {
			errs.Invalid(webinfra.NewPath("namespace"), p.Namespace, msg)
		}
	}
	type network struct {
		prefix netip.Prefix
		path   webinfra.Path
	}
	var networks []network
	for _, f := range []struct {
		name     string
		prefixes []netip.Prefix
	}{{"meshSubnets", p.MeshSubnets}, {"podCIDRs", p.PodCIDRs}, {"serviceCIDRs", p.ServiceCIDRs}} {
		for i, n := range f.prefixes {
			np := webinfra.NewPath(f.name).Index(i)
			if !n.IsValid() {
				errs.Invalid(np, n, "not a prefix")
				continue
			}
			networks = append(networks, network{n.Masked(), np})
		}
	}
	pp := webinfra.NewPath("pools")
	if len(p.Pools) == 0 {
		errs.Add(pp, nil, "at least one pool is required")
	}
	names := map[string]webinfra.Path{}
	var all []poolEntry
	for i, spec := range p.Pools {
		sp := pp.Index(i)
		if first, dup := names[spec.Name]; dup && spec.Name != "" {
			errs.Duplicate(sp.Child("name"), spec.Name, first)
		} else {
			names[spec.Name] = sp.Child("name")
		}
		for _, e := range spec.validate(errs, sp) {
			for _, o := range all {
				if e.r.Overlaps(o.r) {
					errs.Addf(e.path, e.raw, "overlaps %s (%s)", o.path, o.r)
				}
			}
			for _, n := range networks {
				if e.r.OverlapsPrefix(n.prefix) {
					errs.Addf(e.path, e.raw, "overlaps %s (%s)", n.path, n.prefix)
				}
			}
			all = append(all, e)
		}
	}
}

// Validate checks one pool on its own, with paths relative to it (`addresses[0]`, `bgp.peers[1]`).
// [Pools.Validate] checks each pool and also the overlaps between pools and networks.
func (s *PoolSpec) Validate() error {
	var errs webinfra.ValidationError
	s.validate(&errs, webinfra.Path{})
	return errs.Err()
}

// validate checks the pool and returns its parsed entries, with overlaps inside the pool
// already reported.
func (s *PoolSpec) validate(errs *webinfra.ValidationError, p webinfra.Path) []poolEntry {
	if s.Name == "" {
		errs.Required(p.Child("name"))
	} else {
		for _, msg := range k8svalidation.IsDNS1123Subdomain(s.Name) {
			errs.Invalid(p.Child("name"), s.Name, msg)
		}
	}
	ap := p.Child("addresses")
	if len(s.Addresses) == 0 {
		errs.Add(ap, nil, "at least one address range is required")
	}
	var entries []poolEntry
	for i, a := range s.Addresses {
		r, msg := poolParseRange(a)
		if msg != "" {
			errs.Invalid(ap.Index(i), a, msg)
			continue
		}
		e := poolEntry{r, a, ap.Index(i)}
		for _, o := range entries {
			if e.r.Overlaps(o.r) {
				errs.Addf(e.path, e.raw, "overlaps %s (%s)", o.path, o.r)
			}
		}
		entries = append(entries, e)
	}
	switch {
	case s.L2 == nil && s.BGP == nil:
		errs.Add(p, nil, "one of l2 and bgp is required")
	case s.L2 != nil && s.BGP != nil:
		errs.Add(p.Child("bgp"), nil, "only one of l2 and bgp may be set")
	case s.L2 != nil:
		s.L2.validate(errs, p.Child("l2"))
	default:
		s.BGP.validate(errs, p.Child("bgp"), entries)
	}
	return entries
}

func (l *PoolL2) validate(errs *webinfra.ValidationError, p webinfra.Path) {
	for i, name := range l.Interfaces {
		if err := ifname.Check(name); err != nil {
			errs.Addf(p.Child("interfaces").Index(i), name, "%s: %v", ifname.Msg, err)
		}
	}
	poolValidateSelector(errs, p.Child("nodeSelector"), l.NodeSelector)
}

func (b *PoolBGP) validate(errs *webinfra.ValidationError, p webinfra.Path, entries []poolEntry) {
	for i, peer := range b.Peers {
		for _, msg := range k8svalidation.IsDNS1123Subdomain(peer) {
			errs.Invalid(p.Child("peers").Index(i), peer, msg)
		}
	}
	for i, c := range b.Communities {
		if c == "" || strings.ContainsAny(c, " \t\n") {
			errs.Invalid(p.Child("communities").Index(i), c, "not a community (65535:65282, large:1:2:3 or a Community alias name)")
		}
	}
	for _, f := range []struct {
		name string
		v    *int32
		max  int32
		is4  bool
	}{{"aggregationLength", b.AggregationLength, 32, true}, {"aggregationLengthV6", b.AggregationLengthV6, 128, false}} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 || *f.v > f.max {
			errs.Invalid(p.Child(f.name), *f.v, fmt.Sprintf("want 0 to %d", f.max))
			continue
		}
		for _, e := range entries {
			if e.r.Prefix.IsValid() && e.r.From.Is4() == f.is4 && int(*f.v) < e.r.Prefix.Bits() {
				errs.Invalid(p.Child(f.name), *f.v, fmt.Sprintf("shorter than the prefix length of %s (%s)", e.path, e.r))
			}
		}
	}
	poolValidateSelector(errs, p.Child("nodeSelector"), b.NodeSelector)
}

func poolValidateSelector(errs *webinfra.ValidationError, p webinfra.Path, sel map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		for _, msg := range k8svalidation.IsQualifiedName(k) {
			errs.Invalid(p.Key(k), k, "label key: "+msg)
		}
		for _, msg := range k8svalidation.IsValidLabelValue(sel[k]) {
			errs.Invalid(p.Key(k), sel[k], "label value: "+msg)
		}
	}
}

// Objects validates the pools and returns MetalLB's objects for them: for each pool, in the
// order given, an IPAddressPool and an L2Advertisement or BGPAdvertisement of the same name
// restricted to that pool, all in [Pools.Namespace] (default [MetalLBNamespace]), labelled
// app.kubernetes.io/managed-by=webinfra. Addresses keep the spelling [PoolRange.String] gives
// them. An invalid configuration gives the *webinfra.ValidationError of [Pools.Validate] and no
// objects. The objects are fresh on every call; the caller may modify them.
func (p *Pools) Objects() ([]*unstructured.Unstructured, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	ns := p.Namespace
	if ns == "" {
		ns = MetalLBNamespace
	}
	var out []*unstructured.Unstructured
	for _, s := range p.Pools {
		addrs := make([]any, len(s.Addresses))
		for i, a := range s.Addresses {
			r, _ := poolParseRange(a)
			addrs[i] = r.String()
		}
		autoAssign := s.AutoAssign == nil || *s.AutoAssign
		out = append(out, poolObject("IPAddressPool", ns, s.Name, map[string]any{
			"addresses":  addrs,
			"autoAssign": autoAssign,
		}))
		adv := map[string]any{"ipAddressPools": []any{s.Name}}
		kind := "L2Advertisement"
		var sel map[string]string
		if s.L2 != nil {
			if len(s.L2.Interfaces) > 0 {
				adv["interfaces"] = poolStrings(s.L2.Interfaces)
			}
			sel = s.L2.NodeSelector
		} else {
			kind = "BGPAdvertisement"
			b := s.BGP
			if len(b.Peers) > 0 {
				adv["peers"] = poolStrings(b.Peers)
			}
			if len(b.Communities) > 0 {
				adv["communities"] = poolStrings(b.Communities)
			}
			if b.LocalPref != nil {
				adv["localPref"] = int64(*b.LocalPref)
			}
			if b.AggregationLength != nil {
				adv["aggregationLength"] = int64(*b.AggregationLength)
			}
			if b.AggregationLengthV6 != nil {
				adv["aggregationLengthV6"] = int64(*b.AggregationLengthV6)
			}
			sel = b.NodeSelector
		}
		if len(sel) > 0 {
			labels := map[string]any{}
			for k, v := range sel {
				labels[k] = v
			}
			adv["nodeSelectors"] = []any{map[string]any{"matchLabels": labels}}
		}
		out = append(out, poolObject(kind, ns, s.Name, adv))
	}
	return out, nil
}

func poolObject(kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": MetalLBAPIVersion,
		"kind":       kind,
		"metadata": map[string]any{
			"name":      name,
			"namespace": ns,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": PoolManagedBy},
		},
		"spec": spec,
	}}
}

func poolStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
