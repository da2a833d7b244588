package stack

import (
	"fmt"
	"net/mail"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/netaddr"
)

// Validate reports every problem of the stack in one [*webinfra.ValidationError], each with its
// field path; nil means the stack is usable. It is pure: no I/O.
func (s *Stack) Validate() error {
	var errs webinfra.ValidationError
	root := webinfra.Path{}

	if s.Name == "" {
		errs.Required(root.Child("name"))
	} else if msgs := validation.IsDNS1123Label(s.Name); len(msgs) > 0 {
		errs.Invalid(root.Child("name"), s.Name, msgs[0])
	}
	if s.Domain == "" {
		errs.Required(root.Child("domain"))
	} else {
		checkHostname(&errs, root.Child("domain"), s.Domain, false)
	}
	for i, z := range s.Zones {
		zp := root.Child("zones").Index(i)
		if !checkHostname(&errs, zp, z, false) {
			continue
		}
		for j, other := range s.AllZones()[:i+1] {
			if other == "" {
				continue
			}
			op := root.Child("domain")
			if j > 0 {
				op = root.Child("zones").Index(j - 1)
			}
			switch {
			case z == other:
				errs.Duplicate(zp, z, op)
			case inZone(z, other) || inZone(other, z):
				errs.Addf(zp, z, "overlaps %s (%s): a Cloudflare zone holds its subdomains", op, other)
			}
		}
	}

	mesh := s.Mesh.validate(&errs, root.Child("mesh"))
	s.Cluster.validate(&errs, root.Child("cluster"), mesh)
	workers := s.validateNodes(&errs, root.Child("nodes"), mesh)
	s.validateSites(&errs, root.Child("sites"), workers)
	if s.Backup != nil {
		s.Backup.validate(&errs, root.Child("backup"))
	}
	if s.Mail != nil {
		s.Mail.validate(&errs, root.Child("mail"), s.Domain)
	}
	if s.Security != nil {
		s.Security.validate(&errs, root.Child("security"), workers)
	}
	return errs.Err()
}

// tincName is what tinc accepts as a network name.
var tincName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// validate checks the mesh and returns its subnet (invalid when it does not parse).
func (m Mesh) validate(errs *webinfra.ValidationError, p webinfra.Path) netip.Prefix {
	if m.Network == "" {
		errs.Required(p.Child("network"))
	} else if !tincName.MatchString(m.Network) {
		errs.Invalid(p.Child("network"), m.Network, "not a tinc network name (letters, digits and '_')")
	}
	if m.Port < 0 || m.Port > 65535 {
		errs.Invalid(p.Child("port"), m.Port, "not a port (1-65535)")
	}
	return parsePrefix(errs, p.Child("subnet"), m.Subnet)
}

func (c Cluster) validate(errs *webinfra.ValidationError, p webinfra.Path, mesh netip.Prefix) {
	type named struct {
		path   webinfra.Path
		prefix netip.Prefix
	}
	ranges := []named{{webinfra.NewPath("mesh", "subnet"), mesh}}
	for _, f := range []struct {
		name, value string
	}{{"podSubnet", c.PodSubnet}, {"serviceSubnet", c.ServiceSubnet}, {"loadBalancerPool", c.LoadBalancerPool}} {
		ranges = append(ranges, named{p.Child(f.name), parsePrefix(errs, p.Child(f.name), f.value)})
	}
	for i, a := range ranges {
		for _, b := range ranges[:i] {
			if a.prefix.IsValid() && b.prefix.IsValid() && a.prefix.Overlaps(b.prefix) {
				errs.Addf(a.path, a.prefix, "overlaps %s (%s)", b.path, b.prefix)
			}
		}
	}
}

// validateNodes checks the nodes and returns the number of workers.
func (s *Stack) validateNodes(errs *webinfra.ValidationError, p webinfra.Path, mesh netip.Prefix) int {
	if len(s.Nodes) == 0 {
		errs.Add(p, nil, "at least one node is required")
		return 0
	}
	names := map[string]webinfra.Path{}
	publics := map[netip.Addr]webinfra.Path{}
	meshAddrs := map[netip.Addr]webinfra.Path{}
	count := map[Role]int{}
	for i, n := range s.Nodes {
		np := p.Index(i)
		switch first, dup := names[n.Name]; {
		case n.Name == "":
			errs.Required(np.Child("name"))
		case len(validation.IsDNS1123Label(n.Name)) > 0:
			errs.Invalid(np.Child("name"), n.Name, validation.IsDNS1123Label(n.Name)[0])
		case dup:
			errs.Duplicate(np.Child("name"), n.Name, first)
		default:
			names[n.Name] = np.Child("name")
		}
		if len(n.PublicAddresses) == 0 {
			errs.Add(np.Child("publicAddresses"), nil, "at least one address is required")
		}
		for j, a := range n.PublicAddresses {
			ap := np.Child("publicAddresses").Index(j)
			addr, err := netip.ParseAddr(a)
			switch first, dup := publics[addr]; {
			case err != nil:
				errs.Invalid(ap, a, "not an IP address")
			case dup:
				errs.Duplicate(ap, a, first)
			case mesh.IsValid() && mesh.Contains(addr):
				errs.Addf(ap, a, "inside mesh.subnet (%s): a public address must be outside the overlay", mesh)
			default:
				publics[addr] = ap
			}
		}
		if n.MeshAddress != "" {
			mp := np.Child("meshAddress")
			addr, err := netip.ParseAddr(n.MeshAddress)
			switch first, dup := meshAddrs[addr]; {
			case err != nil:
				errs.Invalid(mp, n.MeshAddress, "not an IP address")
			case mesh.IsValid() && !mesh.Contains(addr):
				errs.Addf(mp, n.MeshAddress, "outside mesh.subnet (%s)", mesh)
			case mesh.IsValid() && (addr == mesh.Addr() || addr == netaddr.Last(mesh)):
				errs.Addf(mp, n.MeshAddress, "the network or broadcast address of mesh.subnet (%s)", mesh)
			case dup:
				errs.Duplicate(mp, n.MeshAddress, first)
			default:
				meshAddrs[addr] = mp
			}
		}
		if n.Region == "" {
			errs.Required(np.Child("region"))
		} else if msgs := validation.IsDNS1123Label(n.Region); len(msgs) > 0 {
			errs.Invalid(np.Child("region"), n.Region, msgs[0])
		}
		if len(n.Roles) == 0 {
			errs.Add(np.Child("roles"), nil, "at least one role is required")
		}
		seenRoles := map[Role]bool{}
		for j, r := range n.Roles {
			switch {
			case !slices.Contains(roles, string(r)):
				errs.NotSupported(np.Child("roles").Index(j), string(r), roles)
			case seenRoles[r]:
				errs.Invalid(np.Child("roles").Index(j), string(r), "listed twice")
			default:
				seenRoles[r] = true
				count[r]++
			}
		}
		if n.Capacity < 0 {
			errs.Invalid(np.Child("capacity"), n.Capacity, "must not be negative")
		}
	}
	for _, r := range roles {
		if count[Role(r)] == 0 {
			errs.Addf(p, nil, "no node has the role %q", r)
		}
	}
	return count[RoleWorker]
}

func (s *Stack) validateSites(errs *webinfra.ValidationError, p webinfra.Path, workers int) {
	names := map[string]webinfra.Path{}
	hosts := map[string]webinfra.Path{}
	folders := map[string]webinfra.Path{}
	paths := map[string]webinfra.Path{}
	for i, site := range s.Sites {
		sp := p.Index(i)
		switch first, dup := names[site.Name]; {
		case site.Name == "":
			errs.Required(sp.Child("name"))
		case len(validation.IsDNS1123Label(site.Name)) > 0:
			errs.Invalid(sp.Child("name"), site.Name, validation.IsDNS1123Label(site.Name)[0])
		case dup:
			errs.Duplicate(sp.Child("name"), site.Name, first)
		default:
			names[site.Name] = sp.Child("name")
		}
		if len(site.Hosts) == 0 {
			errs.Add(sp.Child("hosts"), nil, "at least one hostname is required")
		}
		for j, h := range site.Hosts {
			hp := sp.Child("hosts").Index(j)
			if !checkHostname(errs, hp, h, true) {
				continue
			}
			if first, dup := hosts[h]; dup {
				errs.Duplicate(hp, h, first)
				continue
			}
			hosts[h] = hp
			switch {
			case s.Domain == "" || s.ZoneOf(h) != "":
			case len(s.Zones) == 0:
				errs.Addf(hp, h, "not inside domain %q", s.Domain)
			default:
				errs.Addf(hp, h, "not inside domain %q or the zones %q", s.Domain, s.Zones)
			}
		}
		site.Service.validate(errs, sp.Child("service"))
		for j, d := range site.Data {
			dp := sp.Child("data").Index(j)
			switch first, dup := folders[d.Name]; {
			case d.Name == "":
				errs.Required(dp.Child("name"))
			case len(validation.IsDNS1123Label(d.Name)) > 0:
				errs.Invalid(dp.Child("name"), d.Name, validation.IsDNS1123Label(d.Name)[0])
			case dup:
				errs.Duplicate(dp.Child("name"), d.Name, first)
			default:
				folders[d.Name] = dp.Child("name")
			}
			switch first, dup := paths[d.Path]; {
			case d.Path == "":
				errs.Required(dp.Child("path"))
			case !path.IsAbs(d.Path) || path.Clean(d.Path) != d.Path || d.Path == "/":
				errs.Invalid(dp.Child("path"), d.Path, "not a clean absolute path below /")
			case dup:
				errs.Duplicate(dp.Child("path"), d.Path, first)
			default:
				paths[d.Path] = dp.Child("path")
			}
			switch {
			case d.Replicas < 1:
				errs.Invalid(dp.Child("replicas"), d.Replicas, "must be at least 1")
			case d.Replicas > workers:
				errs.Addf(dp.Child("replicas"), d.Replicas, "above the %d eligible (worker) nodes", workers)
			}
		}
	}
}

func (svc Service) validate(errs *webinfra.ValidationError, p webinfra.Path) {
	for _, f := range []struct{ name, value string }{{"namespace", svc.Namespace}, {"name", svc.Name}} {
		if f.value == "" {
			errs.Required(p.Child(f.name))
		} else if msgs := validation.IsDNS1123Label(f.value); len(msgs) > 0 {
			errs.Invalid(p.Child(f.name), f.value, msgs[0])
		}
	}
	if svc.Port < 1 || svc.Port > 65535 {
		errs.Invalid(p.Child("port"), svc.Port, "not a port (1-65535)")
	}
}

func (b Backup) validate(errs *webinfra.ValidationError, p webinfra.Path) {
	switch name, _, _ := strings.Cut(b.Remote, ":"); {
	case b.Remote == "":
		errs.Required(p.Child("remote"))
	case strings.HasPrefix(b.Remote, "/"):
	case !strings.Contains(b.Remote, ":"):
		errs.Invalid(p.Child("remote"), b.Remote, `not an rclone remote (":backend:path" or an absolute path)`)
	case name != "" && !strings.HasPrefix(name, ":"):
		// A named remote lives in an rclone.conf, which a stack does not name: say how to
		// write the same remote without one.
		errs.Invalid(p.Child("remote"), b.Remote, `names the rclone remote "`+name+`", but a stack has no rclone.conf: write the remote as a connection string, `+
			`":googlecloudstorage:BUCKET/PATH" for Google Cloud Storage (":s3,provider=...:BUCKET/PATH", ":drive:PATH", or an absolute path for the others)`)
	}
	switch b.Encryption {
	case "", "crypt", "none":
	default:
		errs.NotSupported(p.Child("encryption"), b.Encryption, []string{"crypt", "none"})
	}
	if d, err := time.ParseDuration(b.Every); err != nil {
		errs.Invalid(p.Child("every"), b.Every, `not a duration ("1h", "30m")`)
	} else if d < time.Minute {
		errs.Invalid(p.Child("every"), b.Every, "must be at least 1m")
	}
	k := b.Keep
	kp := p.Child("keep")
	for _, f := range []struct {
		name string
		n    int
	}{{"last", k.Last}, {"hourly", k.Hourly}, {"daily", k.Daily}, {"weekly", k.Weekly}, {"monthly", k.Monthly}, {"yearly", k.Yearly}} {
		if f.n < 0 {
			errs.Invalid(kp.Child(f.name), f.n, "must not be negative")
		}
	}
	if k == (Keep{}) {
		errs.Add(kp, nil, "keeps nothing: set at least one count")
	}
}

var dmarcPolicies = []string{"none", "quarantine", "reject"}

func (m Mail) validate(errs *webinfra.ValidationError, p webinfra.Path, zone string) {
	if m.Domain == "" {
		errs.Required(p.Child("domain"))
	} else if checkHostname(errs, p.Child("domain"), m.Domain, false) && zone != "" && !inZone(m.Domain, zone) {
		errs.Addf(p.Child("domain"), m.Domain, "not inside domain %q, whose DNS the stack manages", zone)
	}
	if m.DKIMSelector != "" {
		if msgs := validation.IsDNS1123Label(m.DKIMSelector); len(msgs) > 0 {
			errs.Invalid(p.Child("dkimSelector"), m.DKIMSelector, msgs[0])
		}
	}
	if m.DKIMRecord == "" && strings.EqualFold(m.DKIMSelector, "google") {
		errs.Invalid(p.Child("dkimSelector"), m.DKIMSelector, `is Google Workspace's selector: a key the deployment generates gets one of its own (leave dkimSelector out for "webinfra1"), or give Workspace's key as dkimRecord`)
	}
	if !slices.Contains(dmarcPolicies, m.DMARC.Policy) {
		errs.NotSupported(p.Child("dmarc").Child("policy"), m.DMARC.Policy, dmarcPolicies)
	}
	if m.DMARC.ReportTo != "" {
		if a, err := mail.ParseAddress(m.DMARC.ReportTo); err != nil || a.Address != m.DMARC.ReportTo {
			errs.Invalid(p.Child("dmarc").Child("reportTo"), m.DMARC.ReportTo, "not a bare e-mail address")
		}
	}
}

var scanners = []string{"eset", "clamav"}

func (sec Security) validate(errs *webinfra.ValidationError, p webinfra.Path, workers int) {
	if !slices.Contains(scanners, sec.Scanner) {
		errs.NotSupported(p.Child("scanner"), sec.Scanner, scanners)
	}
	for i, sp := range sec.ScanPaths {
		if !path.IsAbs(sp) || path.Clean(sp) != sp {
			errs.Invalid(p.Child("scanPaths").Index(i), sp, "not a clean absolute path")
		}
	}
	up := p.Child("updates")
	if _, _, err := ParseWindow(sec.Updates.Window); err != nil {
		errs.Invalid(up.Child("window"), sec.Updates.Window, err.Error())
	}
	switch mu := sec.Updates.MaxUnavailable; {
	case mu < 1:
		errs.Invalid(up.Child("maxUnavailable"), mu, "must be at least 1")
	case workers > 0 && mu >= workers:
		errs.Addf(up.Child("maxUnavailable"), mu, "must leave a worker running (%d workers)", workers)
	}
}

// ParseWindow parses "HH:MM-HH:MM" into offsets from midnight; the end may be before the start,
// for a window that wraps midnight.
func ParseWindow(w string) (start, end time.Duration, err error) {
	a, b, ok := strings.Cut(w, "-")
	if !ok {
		return 0, 0, fmt.Errorf(`not a time window "HH:MM-HH:MM"`)
	}
	ta, errA := time.Parse("15:04", a)
	tb, errB := time.Parse("15:04", b)
	if errA != nil || errB != nil {
		return 0, 0, fmt.Errorf(`not a time window "HH:MM-HH:MM"`)
	}
	if ta.Equal(tb) {
		return 0, 0, fmt.Errorf("empty time window")
	}
	day := func(t time.Time) time.Duration {
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	return day(ta), day(tb), nil
}

// checkHostname records why h is not a hostname, and reports whether it is one.
func checkHostname(errs *webinfra.ValidationError, p webinfra.Path, h string, wildcard bool) bool {
	check := validation.IsDNS1123Subdomain
	if wildcard && strings.HasPrefix(h, "*.") {
		check = validation.IsWildcardDNS1123Subdomain
	}
	if msgs := check(h); len(msgs) > 0 {
		errs.Invalid(p, h, "not a hostname: "+msgs[0])
		return false
	}
	if !strings.Contains(h, ".") {
		errs.Invalid(p, h, "not a fully qualified hostname")
		return false
	}
	return true
}

func inZone(host, zone string) bool {
	host = strings.TrimPrefix(host, "*.")
	return host == zone || strings.HasSuffix(host, "."+zone)
}

func parsePrefix(errs *webinfra.ValidationError, p webinfra.Path, s string) netip.Prefix {
	if s == "" {
		errs.Required(p)
		return netip.Prefix{}
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		errs.Invalid(p, s, `not a CIDR subnet ("10.88.0.0/16")`)
		return netip.Prefix{}
	}
	if pfx.Masked() != pfx {
		errs.Addf(p, s, "host bits set: the subnet is %s", pfx.Masked())
		return netip.Prefix{}
	}
	return pfx
}
