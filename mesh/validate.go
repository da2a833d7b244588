package mesh

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/ifname"
	"github.com/webinfra/webinfra/internal/netaddr"
)

var (
	networkName = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)
	tincName    = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	hostname    = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)
	algorithm   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
)

// maxNodeName is the longest node name: NAME_MAX, since the name is a file name (the node's
// directory in a [Dir], its host file).
const maxNodeName = 255

// Validate checks the network and reports every problem in one *webinfra.ValidationError (which
// matches webinfra.ErrInvalidArgument), each naming its field path, for example
// `nodes[3].name: invalid value "node_a": maps to tinc name "node_a", as nodes[1].name does`.
// It is pure and does no I/O. A valid network may still lack node addresses: [Network.Allocate]
// fills them in.
func (n *Network) Validate() error {
	var errs webinfra.ValidationError
	n.validate(&errs)
	return errs.Err()
}

func (n *Network) validate(errs *webinfra.ValidationError) {
	if !networkName.MatchString(n.Name) {
		errs.Invalid(webinfra.NewPath("name"), n.Name, "want 1 to 15 letters, digits or '_'")
	}
	n.validateSubnets(errs)
	if n.Port < 0 || n.Port > 65535 {
		errs.Invalid(webinfra.NewPath("port"), n.Port, "want 1 to 65535, or 0 for 655")
	}
	if n.Interface != "" {
		if err := ifname.Check(n.Interface); err != nil {
			errs.Addf(webinfra.NewPath("interface"), n.Interface, "%s: %v", ifname.Msg, err)
		}
	}
	for _, f := range []struct{ name, value string }{{"cipher", n.Cipher}, {"digest", n.Digest}} {
		if f.value != "" && !algorithm.MatchString(f.value) {
			errs.Invalid(webinfra.NewPath(f.name), f.value, "not an OpenSSL algorithm name such as aes-256-cbc or sha256")
		}
	}
	if n.KeyBits != 0 && (n.KeyBits < 2048 || n.KeyBits > 8192) {
		errs.Invalid(webinfra.NewPath("keyBits"), n.KeyBits, "want 2048 to 8192, or 0 for 2048")
	}
	n.Failover.validate(errs, webinfra.NewPath("failover"))
	n.Topology.validate(errs, webinfra.NewPath("topology"))
	n.validateNodes(errs)
}

func (n *Network) validateSubnets(errs *webinfra.ValidationError) {
	p := webinfra.NewPath("subnets")
	if len(n.Subnets) == 0 {
		errs.Add(p, nil, "at least one overlay subnet is required")
	}
	for i, s := range n.Subnets {
		sp := p.Index(i)
		switch {
		case !s.IsValid():
			errs.Invalid(sp, s, "not a subnet")
			continue
		case s != s.Masked():
			errs.Addf(sp, s, "has host bits set (want %s)", s.Masked())
			continue
		case s.Addr().Is4() && s.Bits() > 30, s.Addr().Is6() && s.Bits() > 126:
			errs.Invalid(sp, s, "too small to hold node addresses")
		}
		for j := range i {
			if o := n.Subnets[j]; o.IsValid() && o.Overlaps(s) {
				errs.Addf(sp, s, "overlaps subnets[%d] (%s)", j, o)
			}
		}
	}
	for i, r := range n.Reserved {
		rp := webinfra.NewPath("reserved").Index(i)
		if !r.IsValid() || r != r.Masked() {
			errs.Invalid(rp, r, "not a subnet without host bits")
			continue
		}
		if n.subnetOf(r.Addr()) < 0 || !n.Subnets[n.subnetOf(r.Addr())].Contains(netaddr.Last(r)) {
			errs.Invalid(rp, r, "not inside any of subnets")
		}
	}
}

// subnetOf returns the index of the overlay subnet holding a, or -1.
func (n *Network) subnetOf(a netip.Addr) int {
	for i, s := range n.Subnets {
		if s.IsValid() && s.Contains(a) {
			return i
		}
	}
	return -1
}

func (f Failover) validate(errs *webinfra.ValidationError, p webinfra.Path) {
	if f == (Failover{}) {
		return
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"pingInterval", f.PingInterval}, {"pingTimeout", f.PingTimeout}, {"maxTimeout", f.MaxTimeout}} {
		if d.value < time.Second || d.value%time.Second != 0 {
			errs.Invalid(p.Child(d.name), d.value, "want whole seconds, at least 1s (tincd counts in seconds)")
		}
	}
}

func (t Topology) validate(errs *webinfra.ValidationError, p webinfra.Path) {
	switch t.Kind {
	case TopologyAuto, TopologyFull, TopologyHubs:
	default:
		errs.NotSupported(p.Child("kind"), t.Kind, []string{string(TopologyFull), string(TopologyHubs), `"" (auto)`})
	}
	for _, f := range []struct {
		name  string
		value int
	}{{"fullMeshMax", t.FullMeshMax}, {"hubsPerRegion", t.HubsPerRegion}, {"peers", t.Peers}} {
		if f.value < 0 {
			errs.Invalid(p.Child(f.name), f.value, "must not be negative")
		}
	}
}

func (n *Network) validateNodes(errs *webinfra.ValidationError) {
	p := webinfra.NewPath("nodes")
	if len(n.Nodes) == 0 {
		errs.Add(p, nil, "at least one node is required")
	}
	names := map[string]webinfra.Path{}
	folded := map[string]webinfra.Path{} // tinc names in lower case: host files that differ only in case
	addrs := map[netip.Addr]webinfra.Path{}
	type owned struct {
		prefix netip.Prefix
		node   int
		path   webinfra.Path
	}
	var routed []owned
	for i, node := range n.Nodes {
		np := p.Index(i)
		tn := TincName(node.Name)
		switch first, dup := names[tn]; {
		case node.Name == "":
			errs.Required(np.Child("name"))
		case !tincName.MatchString(tn):
			errs.Invalid(np.Child("name"), node.Name, "want letters, digits, '_', '-' or '.'")
		case node.Name[0] == '.':
			// The node's directory in a [Dir] is named after it: "." and ".." would be the
			// root or its parent, and other dot names are hidden entries.
			errs.Invalid(np.Child("name"), node.Name, "must not start with '.' (it names the node's directory)")
		case len(node.Name) > maxNodeName:
			errs.Addf(np.Child("name"), node.Name, "%d bytes, more than %d (it names the node's directory and host file)", len(node.Name), maxNodeName)
		case dup:
			errs.Addf(np.Child("name"), node.Name, "maps to tinc name %q, as %s does", tn, first)
		default:
			names[tn] = np.Child("name")
			if first, dup := folded[strings.ToLower(tn)]; dup {
				errs.Addf(np.Child("name"), node.Name, "maps to tinc name %q, which differs only in case from that of %s (host files would collide on a case-insensitive file system)", tn, first)
			} else {
				folded[strings.ToLower(tn)] = np.Child("name")
			}
		}
		for j, e := range node.Endpoints {
			if _, _, err := splitEndpoint(e); err != nil {
				errs.Invalid(np.Child("endpoints").Index(j), e, err.Error())
			}
		}
		if node.Address.IsValid() {
			n.validateAddress(errs, np.Child("address"), node.Address)
			if first, dup := addrs[node.Address]; dup {
				errs.Duplicate(np.Child("address"), node.Address, first)
			} else {
				addrs[node.Address] = np.Child("address")
			}
		}
		for j, s := range node.Subnets {
			sp := np.Child("subnets").Index(j)
			if !s.IsValid() || s != s.Masked() {
				errs.Invalid(sp, s, "not a subnet without host bits")
				continue
			}
			routed = append(routed, owned{s, i, sp})
		}
	}
	// The same range on several nodes is tinc's way of failing it over between them; ranges that
	// only partly overlap would split traffic by longest prefix, which is never what was meant.
	for i, a := range routed {
		for _, b := range routed[:i] {
			switch {
			case a.prefix == b.prefix && a.node == b.node:
				errs.Duplicate(a.path, a.prefix, b.path)
			case a.prefix != b.prefix && a.prefix.Overlaps(b.prefix):
				errs.Addf(a.path, a.prefix, "partly overlaps %s (%s)", b.path, b.prefix)
			}
		}
		for addr, ap := range addrs {
			if a.prefix.Contains(addr) {
				errs.Addf(a.path, a.prefix, "contains the node address of %s (%s)", ap, addr)
			}
		}
	}
}

func (n *Network) validateAddress(errs *webinfra.ValidationError, p webinfra.Path, a netip.Addr) {
	if len(n.Subnets) == 0 || !n.Subnets[0].IsValid() {
		return
	}
	first := n.Subnets[0]
	switch {
	case !first.Contains(a):
		errs.Addf(p, a, "outside the node subnet subnets[0] (%s)", first)
	case a.Is4() && (a == first.Addr() || a == netaddr.Last(first)):
		errs.Addf(p, a, "the network or broadcast address of %s", first)
	}
	for i, r := range n.Reserved {
		if r.IsValid() && r.Contains(a) {
			errs.Addf(p, a, "inside reserved[%d] (%s)", i, r)
		}
	}
}

// splitEndpoint parses an endpoint into host and port (0 when none is given).
func splitEndpoint(e string) (host string, port int, err error) {
	host = e
	if h, ps, splitErr := net.SplitHostPort(e); splitErr == nil {
		p, convErr := strconv.Atoi(ps)
		if convErr != nil || p < 1 || p > 65535 {
			return "", 0, fmt.Errorf("port %q: want 1 to 65535", ps)
		}
		host, port = h, p
	} else if strings.HasPrefix(e, "[") {
		return "", 0, fmt.Errorf("want [IPv6]:port")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", 0, fmt.Errorf("a zoned address cannot be dialled from other nodes")
		}
		return host, port, nil
	}
	if strings.Contains(host, ":") || !hostname.MatchString(host) || len(host) > 253 {
		return "", 0, fmt.Errorf("not an IP address or hostname, optionally with :port")
	}
	return host, port, nil
}
