package mail

import (
	"net/netip"
	"strconv"
	"strings"
)

// SPF records are parsed here by hand because no maintained Go library exposes an SPF record's
// terms: the SPF libraries of the field evaluate a record against a connecting IP address,
// while a checker needs the terms themselves to count DNS lookups without a client address.

// SPFRecord is a parsed SPF record (RFC 7208): its directives and modifiers in order.
type SPFRecord struct {
	// Terms are the record's terms after "v=spf1", in order.
	Terms []SPFTerm
}

// SPFTerm is one directive ("~all", "include:_spf.google.com", "ip4:192.0.2.0/24") or modifier
// ("redirect=_spf.example.com").
type SPFTerm struct {
	// Qualifier is '+', '-', '~' or '?' for directives (0 when the record left it implicit,
	// which means '+'), and 0 for modifiers.
	Qualifier byte
	// Mechanism is the lower-case mechanism name (all, include, a, mx, ptr, ip4, ip6, exists)
	// or "" for a modifier.
	Mechanism string
	// Modifier is the lower-case modifier name (redirect, exp or an unknown one) or "".
	Modifier string
	// Value is the domain-spec, address or modifier value, as written; "" when absent.
	Value string
	// CIDR is the prefix-length suffix as written ("/24", "/24//64", "//64"), or "".
	CIDR string
}

// ParseSPF parses an SPF record's text. It returns a *[ParseError] for text that is not an SPF
// record ("v=spf1" first, case-insensitively) or breaks the grammar: an unknown mechanism, a
// missing or extra argument, a bad address or prefix length, a modifier twice (redirect, exp).
// It does not resolve anything.
func ParseSPF(s string) (*SPFRecord, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 || !strings.EqualFold(fields[0], "v=spf1") {
		return nil, &ParseError{Record: "spf", Msg: `does not start with "v=spf1"`}
	}
	rec := &SPFRecord{}
	mods := map[string]bool{}
	for _, f := range fields[1:] {
		t, err := parseSPFTerm(f)
		if err != nil {
			return nil, err
		}
		if t.Modifier == "redirect" || t.Modifier == "exp" {
			if mods[t.Modifier] {
				return nil, &ParseError{Record: "spf", Term: f, Msg: "modifier appears twice"}
			}
			mods[t.Modifier] = true
		}
		rec.Terms = append(rec.Terms, t)
	}
	return rec, nil
}

func parseSPFTerm(f string) (SPFTerm, error) {
	bad := func(msg string) (SPFTerm, error) {
		return SPFTerm{}, &ParseError{Record: "spf", Term: f, Msg: msg}
	}
	// A modifier is name=value where name has no ':' or '/' before the '='.
	if i := strings.IndexByte(f, '='); i > 0 && !strings.ContainsAny(f[:i], ":/") {
		name := strings.ToLower(f[:i])
		if !isSPFName(name) {
			return bad("not a modifier name")
		}
		value := f[i+1:]
		if (name == "redirect" || name == "exp") && !validDomainSpec(value) {
			return bad("not a domain-spec")
		}
		return SPFTerm{Modifier: name, Value: value}, nil
	}
	t := SPFTerm{}
	rest := f
	switch rest[0] {
	case '+', '-', '~', '?':
		t.Qualifier = rest[0]
		rest = rest[1:]
	}
	name, arg := rest, ""
	hasArg := false
	if i := strings.IndexAny(rest, ":/"); i >= 0 {
		name, arg = rest[:i], rest[i:]
		hasArg = true
	}
	t.Mechanism = strings.ToLower(name)
	switch t.Mechanism {
	case "all":
		if hasArg {
			return bad("all takes no argument")
		}
	case "include", "exists":
		if !strings.HasPrefix(arg, ":") || !validDomainSpec(arg[1:]) {
			return bad(t.Mechanism + " needs a domain-spec")
		}
		t.Value = arg[1:]
	case "ptr":
		if hasArg {
			if !strings.HasPrefix(arg, ":") || !validDomainSpec(arg[1:]) {
				return bad("not a domain-spec")
			}
			t.Value = arg[1:]
		}
	case "a", "mx":
		spec, cidr := arg, ""
		if i := strings.IndexByte(arg, '/'); i >= 0 {
			spec, cidr = arg[:i], arg[i:]
		}
		if spec != "" {
			if !strings.HasPrefix(spec, ":") || !validDomainSpec(spec[1:]) {
				return bad("not a domain-spec")
			}
			t.Value = spec[1:]
		}
		if cidr != "" {
			if !validDualCIDR(cidr) {
				return bad("bad prefix length")
			}
			t.CIDR = cidr
		}
	case "ip4", "ip6":
		if !strings.HasPrefix(arg, ":") {
			return bad(t.Mechanism + " needs an address")
		}
		addr, cidr := arg[1:], ""
		if i := strings.IndexByte(addr, '/'); i >= 0 {
			addr, cidr = addr[:i], addr[i:]
		}
		a, err := netip.ParseAddr(addr)
		if err != nil || a.Zone() != "" || (t.Mechanism == "ip4") != a.Is4() {
			return bad("not an " + strings.ToUpper(t.Mechanism[:2]) + "v" + t.Mechanism[2:] + " address")
		}
		if cidr != "" {
			max := 32
			if a.Is6() {
				max = 128
			}
			n, ok := prefixLen(cidr[1:], max)
			if !ok {
				return bad("bad prefix length")
			}
			cidr = "/" + strconv.Itoa(n)
		}
		t.Value, t.CIDR = addr, cidr
	default:
		return bad("unknown mechanism")
	}
	return t, nil
}

// validDualCIDR accepts "/n", "//m" and "/n//m" (ip4 0-32, ip6 0-128).
func validDualCIDR(s string) bool {
	v4, v6, dual := strings.Cut(s, "//")
	if dual {
		if _, ok := prefixLen(v6, 128); !ok {
			return false
		}
		if v4 == "" {
			return true
		}
	}
	if !strings.HasPrefix(v4, "/") {
		return false
	}
	_, ok := prefixLen(v4[1:], 32)
	return ok
}

// prefixLen parses a prefix length without leading zeros (RFC 7208 forbids them).
func prefixLen(s string, max int) (int, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max {
		return 0, false
	}
	return n, true
}

func isSPFName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// validDomainSpec checks the domain-spec grammar loosely: visible ASCII, macros well formed,
// no empty labels in the literal part.
func validDomainSpec(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			return false
		}
		if c == '%' {
			if i+1 >= len(s) {
				return false
			}
			switch s[i+1] {
			case '%', '_', '-':
				i++
			case '{':
				end := strings.IndexByte(s[i:], '}')
				if end < 3 || !strings.ContainsRune("slodiphcrtvSLODIPHCRTV", rune(s[i+2])) {
					return false
				}
				i += end
			default:
				return false
			}
		}
	}
	return !strings.Contains(s, "..") && !strings.HasPrefix(s, ".")
}

// hasMacro reports whether a domain-spec holds a macro, which only an evaluation with a client
// address can expand.
func hasMacro(s string) bool { return strings.Contains(s, "%{") }

// String formats the record; parsing the result gives the same record.
func (r *SPFRecord) String() string {
	var b strings.Builder
	b.WriteString("v=spf1")
	for _, t := range r.Terms {
		b.WriteByte(' ')
		b.WriteString(t.String())
	}
	return b.String()
}

// String formats the term as it appears in a record.
func (t SPFTerm) String() string {
	if t.Modifier != "" {
		return t.Modifier + "=" + t.Value
	}
	var b strings.Builder
	if t.Qualifier != 0 {
		b.WriteByte(t.Qualifier)
	}
	b.WriteString(t.Mechanism)
	if t.Value != "" {
		b.WriteByte(':')
		b.WriteString(t.Value)
	}
	b.WriteString(t.CIDR)
	return b.String()
}

// All returns the record's "all" directive, if any.
func (r *SPFRecord) All() (SPFTerm, bool) {
	for _, t := range r.Terms {
		if t.Mechanism == "all" {
			return t, true
		}
	}
	return SPFTerm{}, false
}

// Redirect returns the redirect= modifier's domain-spec, or "".
func (r *SPFRecord) Redirect() string {
	for _, t := range r.Terms {
		if t.Modifier == "redirect" {
			return t.Value
		}
	}
	return ""
}
