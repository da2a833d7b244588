package ingress

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/ifname"
)

// FirewallTable is the nftables table (family inet) the firewall ruleset lives in when
// [FirewallSpec.Table] is empty.
const FirewallTable = "webinfra_ingress"

// FirewallSpec describes how a firewall server forwards public web traffic to Traefik.
//
// # Forwarding: DNAT plus masquerade
//
// Connections to the firewall's own addresses on [FirewallSpec.Ports] from one of
// [FirewallSpec.Sources] (Cloudflare's edge ranges) are destination-NATed to Traefik's MetalLB
// address inside the mesh, and source-NATed (masquerade) to the firewall's own address on the
// mesh interface on their way in. Without the masquerade, the Traefik node would answer
// Cloudflare's edge address by its own default route, not through the firewall that rewrote
// the packet, and the reply would never be un-NATed (asymmetric routing); avoiding that would
// take policy routing back to the right firewall on every Traefik node, which is fragile when
// the MetalLB address moves between nodes. The client's address is not lost: Cloudflare appends
// it to X-Forwarded-For (and sets CF-Connecting-IP), and Traefik's static configuration trusts
// those headers only from the firewalls' mesh addresses (entryPoints forwardedHeaders.trustedIPs).
// PROXY protocol cannot be produced by nftables, which rewrites packets and never payload; it
// remains an option of Traefik's static configuration for a userspace forwarder.
//
// The same ports from any other source, arriving on a public interface, are dropped, both when
// addressed to the firewall itself and when routed through it straight to a target address.
//
// # What the operator does
//
// Packet forwarding must be enabled on the firewall ([FirewallSysctl] gives the lines; applying
// them is the operator's job, for example a file in /etc/sysctl.d). The mesh interface needs an
// address, which the masquerade uses as the new source.
//
// FirewallSpec is a plain value, safe for concurrent reads.
type FirewallSpec struct {
	// Table names the nftables table (family inet); "" means [FirewallTable]. Letters, digits
	// and '_', starting with a letter, at most 64 characters.
	Table string `json:"table,omitempty"`
	// Sources are the only prefixes allowed to reach Traefik through the firewall, IPv4 and
	// IPv6; at least one, masked. Overlaps are fine: covered prefixes are dropped on rendering.
	// A source family needs a target of the same family.
	Sources []netip.Prefix `json:"sources"`
	// Targets are Traefik's MetalLB addresses: at least one, at most one per family.
	Targets []netip.Addr `json:"targets"`
	// Ports are the TCP ports forwarded, each to the same port of the target; nil means 80
	// and 443.
	Ports []uint16 `json:"ports,omitempty"`
	// MeshInterface is the tinc interface of the mesh, where forwarded packets leave and get
	// masqueraded; required, not lo. Interface names here are 1 to 15 letters, digits, '_', '-'
	// or '.', not "." or "..", so that none can end a string or a statement of the ruleset.
	MeshInterface string `json:"meshInterface"`
	// PublicInterfaces are where public traffic arrives; empty means every interface except
	// MeshInterface and lo.
	PublicInterfaces []string `json:"publicInterfaces,omitempty"`
}

var firewallTableName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// Validate checks the spec and reports every problem in one *webinfra.ValidationError (which
// matches webinfra.ErrInvalidArgument), each at its field path (`sources[3]`, `targets[1]`).
// It is pure and does no I/O.
func (s *FirewallSpec) Validate() error {
	var errs webinfra.ValidationError
	if s.Table != "" && !firewallTableName.MatchString(s.Table) {
		errs.Invalid(webinfra.NewPath("table"), s.Table, "want letters, digits and '_', starting with a letter, at most 64")
	}
	has := map[bool]bool{} // by Is4
	sp := webinfra.NewPath("sources")
	if len(s.Sources) == 0 {
		errs.Add(sp, nil, "at least one source prefix is required")
	}
	tp := webinfra.NewPath("targets")
	if len(s.Targets) == 0 {
		errs.Add(tp, nil, "at least one target address is required")
	}
	families := map[bool]webinfra.Path{}
	for i, t := range s.Targets {
		p := tp.Index(i)
		switch {
		case !t.IsValid():
			errs.Invalid(p, t, "not an IP address")
			continue
		case t.Zone() != "" || t.Is4In6():
			errs.Invalid(p, t, "want a plain IPv4 or IPv6 address, without zone or IPv4 mapping")
			continue
		case t.IsUnspecified() || t.IsLoopback() || t.IsMulticast():
			errs.Invalid(p, t, "not a unicast address")
		}
		if first, dup := families[t.Is4()]; dup {
			errs.Addf(p, t, "a second %s target (first at %s)", firewallFamily(t.Is4()), first)
			continue
		}
		families[t.Is4()] = p
		has[t.Is4()] = true
	}
	for i, src := range s.Sources {
		p := sp.Index(i)
		switch {
		case !src.IsValid():
			errs.Invalid(p, src, "not a prefix")
		case src.Addr().Zone() != "" || src.Addr().Is4In6():
			errs.Invalid(p, src, "want a plain IPv4 or IPv6 prefix")
		case src != src.Masked():
			errs.Addf(p, src, "has host bits set (want %s)", src.Masked())
		case len(s.Targets) > 0 && !has[src.Addr().Is4()]:
			errs.Addf(p, src, "no %s target to forward to", firewallFamily(src.Addr().Is4()))
		}
	}
	seen := map[uint16]webinfra.Path{}
	for i, port := range s.Ports {
		p := webinfra.NewPath("ports").Index(i)
		if port == 0 {
			errs.Invalid(p, port, "want 1 to 65535")
			continue
		}
		if first, dup := seen[port]; dup {
			errs.Duplicate(p, port, first)
		}
		seen[port] = p
	}
	if s.MeshInterface == "" {
		errs.Required(webinfra.NewPath("meshInterface"))
	} else if err := ifname.Check(s.MeshInterface); err != nil {
		errs.Addf(webinfra.NewPath("meshInterface"), s.MeshInterface, "%s: %v", ifname.Msg, err)
	} else if s.MeshInterface == "lo" {
		errs.Invalid(webinfra.NewPath("meshInterface"), s.MeshInterface, "is the loopback interface")
	}
	for i, name := range s.PublicInterfaces {
		p := webinfra.NewPath("publicInterfaces").Index(i)
		switch err := ifname.Check(name); {
		case err != nil:
			errs.Addf(p, name, "%s: %v", ifname.Msg, err)
		case name == s.MeshInterface:
			errs.Invalid(p, name, "is the mesh interface")
		}
	}
	return errs.Err()
}

func firewallFamily(is4 bool) string {
	if is4 {
		return "IPv4"
	}
	return "IPv6"
}

// FirewallRuleset validates the spec and renders an nftables script (for `nft -f`) that
// replaces the table [FirewallSpec.Table] (family inet) as a whole in one transaction: it
// creates the table if absent, deletes it, and declares it again, so applying the script is
// atomic (no packet sees a half-written table), idempotent, and works whether or not the table
// existed. It never names another table, so the host's other rules stay as they are. Sources
// are sorted and prefixes covered by others left out, so equal inputs give byte-equal output.
//
// An invalid spec gives the *webinfra.ValidationError of [FirewallSpec.Validate] and no text.
func FirewallRuleset(spec FirewallSpec) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	table := firewallOr(spec.Table, FirewallTable)
	ports := spec.Ports
	if len(ports) == 0 {
		ports = []uint16{80, 443}
	}
	portSet := firewallPorts(ports)
	mesh := strconv.Quote(spec.MeshInterface)
	public := "iifname != { \"lo\", " + mesh + " }"
	if len(spec.PublicInterfaces) > 0 {
		quoted := make([]string, len(spec.PublicInterfaces))
		for i, n := range spec.PublicInterfaces {
			quoted[i] = strconv.Quote(n)
		}
		public = "iifname { " + strings.Join(quoted, ", ") + " }"
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# webinfra ingress forwarding; generated, do not edit: the whole table is replaced.\n")
	fmt.Fprintf(&b, "add table inet %s\ndelete table inet %s\n", table, table)
	fmt.Fprintf(&b, "table inet %s {\n", table)
	type fam struct {
		is4          bool
		ip, typ, set string
		target       netip.Addr
		sources      []netip.Prefix
	}
	var fams []fam
	for _, is4 := range []bool{true, false} {
		f := fam{is4: is4, ip: "ip6", typ: "ipv6_addr", set: "sources_v6"}
		if is4 {
			f.ip, f.typ, f.set = "ip", "ipv4_addr", "sources_v4"
		}
		for _, t := range spec.Targets {
			if t.Is4() == is4 {
				f.target = t
			}
		}
		if !f.target.IsValid() {
			continue
		}
		for _, s := range spec.Sources {
			if s.Addr().Is4() == is4 {
				f.sources = append(f.sources, s)
			}
		}
		f.sources = firewallCompact(f.sources)
		fams = append(fams, f)
	}
	for _, f := range fams {
		if len(f.sources) == 0 {
			continue
		}
		elems := make([]string, len(f.sources))
		for i, s := range f.sources {
			elems[i] = s.String()
		}
		fmt.Fprintf(&b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = {\n\t\t\t%s,\n\t\t}\n\t}\n\n",
			f.set, f.typ, strings.Join(elems, ",\n\t\t\t"))
	}
	b.WriteString("\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n")
	for _, f := range fams {
		if len(f.sources) > 0 {
			fmt.Fprintf(&b, "\t\t%s %s saddr @%s fib daddr type local tcp dport %s dnat %s to %s\n",
				public, f.ip, f.set, portSet, f.ip, f.target)
		}
	}
	b.WriteString("\t}\n\n")
	b.WriteString("\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n")
	fmt.Fprintf(&b, "\t\t%s tcp dport %s drop\n", public, portSet)
	b.WriteString("\t}\n\n")
	b.WriteString("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n")
	for _, f := range fams {
		fmt.Fprintf(&b, "\t\t%s oifname %s %s daddr %s tcp dport %s ct status dnat accept\n", public, mesh, f.ip, f.target, portSet)
		fmt.Fprintf(&b, "\t\t%s oifname %s %s daddr %s drop\n", public, mesh, f.ip, f.target)
	}
	b.WriteString("\t}\n\n")
	b.WriteString("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n")
	for _, f := range fams {
		fmt.Fprintf(&b, "\t\toifname %s %s daddr %s tcp dport %s ct status dnat masquerade\n", mesh, f.ip, f.target, portSet)
	}
	b.WriteString("\t}\n}\n")
	return b.String(), nil
}

// FirewallDeleteRuleset returns an nftables script that removes the table (family inet) named
// table ("" means [FirewallTable]) if it exists and does nothing otherwise. It refuses an
// invalid table name with an error matching webinfra.ErrInvalidArgument.
func FirewallDeleteRuleset(table string) (string, error) {
	s := FirewallSpec{Table: table}
	if table != "" && !firewallTableName.MatchString(table) {
		var errs webinfra.ValidationError
		errs.Invalid(webinfra.NewPath("table"), table, "want letters, digits and '_', starting with a letter, at most 64")
		return "", errs.Err()
	}
	t := firewallOr(s.Table, FirewallTable)
	return fmt.Sprintf("add table inet %s\ndelete table inet %s\n", t, t), nil
}

// FirewallSysctl returns the sysctl.d lines that enable packet forwarding for the families the
// spec forwards (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding). The ruleset does not and
// cannot enable forwarding itself; writing these lines (for example to
// /etc/sysctl.d/60-webinfra-ingress.conf) and loading them is the operator's job.
func FirewallSysctl(spec FirewallSpec) string {
	var b strings.Builder
	b.WriteString("# webinfra ingress: forward public traffic into the mesh\n")
	if slices.ContainsFunc(spec.Targets, netip.Addr.Is4) {
		b.WriteString("net.ipv4.ip_forward = 1\n")
	}
	if slices.ContainsFunc(spec.Targets, func(a netip.Addr) bool { return a.IsValid() && !a.Is4() }) {
		b.WriteString("net.ipv6.conf.all.forwarding = 1\n")
	}
	return b.String()
}

// firewallPorts renders an nft port expression: "80" or "{ 80, 443 }", sorted.
func firewallPorts(ports []uint16) string {
	ps := slices.Sorted(slices.Values(ports))
	if len(ps) == 1 {
		return strconv.Itoa(int(ps[0]))
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return "{ " + strings.Join(s, ", ") + " }"
}

// firewallCompact sorts prefixes of one family and drops those covered by another, so that an
// interval set gets disjoint elements.
func firewallCompact(ps []netip.Prefix) []netip.Prefix {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	var out []netip.Prefix
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Bits() <= p.Bits() && out[n-1].Contains(p.Addr()) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func firewallOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
