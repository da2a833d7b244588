package cloudflare

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/webinfra/webinfra"
)

// RecordType is a DNS record type this package manages.
type RecordType string

// The record types this package manages.
const (
	TypeA     RecordType = "A"
	TypeAAAA  RecordType = "AAAA"
	TypeCNAME RecordType = "CNAME"
	TypeTXT   RecordType = "TXT"
	TypeMX    RecordType = "MX"
	TypeSRV   RecordType = "SRV"
	TypeCAA   RecordType = "CAA"
	TypeNS    RecordType = "NS"
)

var recordTypes = []string{"A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS"}

// Record is one DNS record as the user declares it.
type Record struct {
	// Name is the fully qualified name, lower case, without the trailing dot: "www.example.com".
	Name string `json:"name"`
	// Type is the record type.
	Type RecordType `json:"type"`
	// Content is the record data in zone-file form: an address for A/AAAA, a hostname for
	// CNAME/MX/NS, the text for TXT, "weight port target" for SRV, `flags tag "value"` for CAA.
	Content string `json:"content"`
	// TTL is in seconds, 60 to 86400; 0 or 1 means automatic (and proxied records are always
	// automatic).
	TTL int `json:"ttl,omitempty"`
	// Proxied sends the name's traffic through Cloudflare; only A, AAAA and CNAME can be proxied.
	Proxied bool `json:"proxied,omitempty"`
	// Priority is the MX preference or SRV priority; required for MX and SRV, where nil is an
	// error (never sent as 0) and a pointer to 0 is the valid priority 0. Ignored for other types.
	Priority *uint16 `json:"priority,omitempty"`
	// Comment is a note kept on the record; the ownership marker is added to it.
	Comment string `json:"comment,omitempty"`
	// Tags are "name:value" labels kept on the record (paid plans).
	Tags []string `json:"tags,omitempty"`
}

// String renders "name TYPE content", the record's identity in plans and errors.
func (r Record) String() string { return fmt.Sprintf("%s %s %s", r.Name, r.Type, r.Content) }

// normalized returns the record in the form Cloudflare stores, so that desired and actual
// records compare equal when Cloudflare would treat them the same.
func (r Record) normalized() Record {
	r.Name = strings.TrimSuffix(strings.ToLower(r.Name), ".")
	if r.TTL == 0 || r.Proxied {
		r.TTL = 1
	}
	switch r.Type {
	case TypeCNAME, TypeMX, TypeNS:
		r.Content = strings.TrimSuffix(strings.ToLower(r.Content), ".")
	case TypeA, TypeAAAA:
		if a, err := netip.ParseAddr(r.Content); err == nil {
			r.Content = a.String()
		}
	}
	if r.Type != TypeMX && r.Type != TypeSRV {
		r.Priority = nil
	} else if r.Priority != nil {
		p := *r.Priority
		r.Priority = &p
	}
	r.Tags = slices.Clone(r.Tags)
	slices.Sort(r.Tags)
	r.Tags = slices.Compact(r.Tags)
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	return r
}

// fields renders the record's mutable fields for a plan.
func (r Record) fields() webinfra.Fields {
	f := webinfra.Fields{"content": r.Content, "ttl": r.TTL, "proxied": r.Proxied}
	if (r.Type == TypeMX || r.Type == TypeSRV) && r.Priority != nil {
		f["priority"] = int(*r.Priority)
	}
	if r.Comment != "" {
		f["comment"] = r.Comment
	}
	if len(r.Tags) > 0 {
		f["tags"] = slices.Clone(r.Tags)
	}
	return f
}

// validate records every problem of r at p. zone is the zone's name.
func (r Record) validate(errs *webinfra.ValidationError, p webinfra.Path, zone string) {
	name := strings.TrimSuffix(strings.ToLower(r.Name), ".")
	switch {
	case r.Name == "":
		errs.Required(p.Child("name"))
	case len(checkName(name)) > 0:
		errs.Invalid(p.Child("name"), r.Name, "not a DNS name: "+checkName(name)[0])
	case name != zone && !strings.HasSuffix(name, "."+zone):
		errs.Addf(p.Child("name"), r.Name, "not inside zone %q", zone)
	}
	if !slices.Contains(recordTypes, string(r.Type)) {
		errs.NotSupported(p.Child("type"), string(r.Type), recordTypes)
		return
	}
	if msg := checkContent(r.Type, r.Content); msg != "" {
		errs.Invalid(p.Child("content"), r.Content, msg)
	}
	if r.TTL != 0 && r.TTL != 1 && (r.TTL < 60 || r.TTL > 86400) {
		errs.Invalid(p.Child("ttl"), r.TTL, "must be 1 (automatic) or 60-86400 seconds")
	}
	if r.Proxied && r.Type != TypeA && r.Type != TypeAAAA && r.Type != TypeCNAME {
		errs.Invalid(p.Child("proxied"), r.Proxied, "only A, AAAA and CNAME records can be proxied")
	}
	if (r.Type == TypeMX || r.Type == TypeSRV) && r.Priority == nil {
		errs.Add(p.Child("priority"), nil, "required for "+string(r.Type)+" records (0 is a valid priority, but it must be set)")
	}
	if len(r.Comment) > 100 {
		errs.Invalid(p.Child("comment"), r.Comment[:20]+"...", "longer than 100 characters (the Free plan's limit)")
	}
	for i, t := range r.Tags {
		if n, _, ok := strings.Cut(t, ":"); !ok || n == "" {
			errs.Invalid(p.Child("tags").Index(i), t, `not a "name:value" tag`)
		}
	}
}

// checkName validates a record name: a DNS subdomain of at most 253 bytes whose labels are 1 to
// 63 bytes (RFC 1035; the apimachinery check bounds only the whole name), allowing a leading
// wildcard and the underscores of service names (_dmarc, _sip._tcp, selector._domainkey).
func checkName(name string) []string {
	n := strings.TrimPrefix(name, "*.")
	return checkHostname(n)
}

// checkHostname validates a host name as checkName does, without the wildcard.
func checkHostname(n string) []string {
	if len(n) > 253 {
		return []string{fmt.Sprintf("%d bytes, more than 253", len(n))}
	}
	for l := range strings.SplitSeq(n, ".") {
		if len(l) > 63 {
			return []string{fmt.Sprintf("label %q is %d bytes, more than 63", l, len(l))}
		}
	}
	return validation.IsDNS1123SubdomainWithUnderscore(n)
}

// checkContent returns why content is not valid for typ, or "".
func checkContent(typ RecordType, content string) string {
	if content == "" {
		return "required"
	}
	switch typ {
	case TypeA:
		if a, err := netip.ParseAddr(content); err != nil || !a.Is4() {
			return "not an IPv4 address"
		}
	case TypeAAAA:
		if a, err := netip.ParseAddr(content); err != nil || !a.Is6() || a.Is4In6() {
			return "not an IPv6 address"
		}
	case TypeCNAME, TypeMX, TypeNS:
		h := strings.TrimSuffix(strings.ToLower(content), ".")
		if msgs := checkHostname(h); len(msgs) > 0 {
			return "not a hostname: " + msgs[0]
		}
	case TypeTXT:
		if len(content) > 2048 {
			return "longer than 2048 characters"
		}
	case TypeSRV:
		if _, err := parseSRV(content); err != nil {
			return err.Error()
		}
	case TypeCAA:
		if _, err := parseCAA(content); err != nil {
			return err.Error()
		}
	}
	return ""
}

// srvData is the structured form Cloudflare's API uses for SRV records.
type srvData struct {
	Weight int    `json:"weight"`
	Port   int    `json:"port"`
	Target string `json:"target"`
}

func parseSRV(content string) (srvData, error) {
	f := strings.Fields(content)
	if len(f) != 3 {
		return srvData{}, fmt.Errorf(`not "weight port target"`)
	}
	w, err1 := strconv.Atoi(f[0])
	port, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || w < 0 || w > 65535 || port < 0 || port > 65535 {
		return srvData{}, fmt.Errorf("weight and port must be 0-65535")
	}
	target := strings.TrimSuffix(strings.ToLower(f[2]), ".")
	if target != "" && len(checkHostname(target)) > 0 {
		return srvData{}, fmt.Errorf("target %q is not a hostname", f[2])
	}
	return srvData{Weight: w, Port: port, Target: target}, nil
}

// caaData is the structured form Cloudflare's API uses for CAA records.
type caaData struct {
	Flags int    `json:"flags"`
	Tag   string `json:"tag"`
	Value string `json:"value"`
}

var caaTags = []string{"issue", "issuewild", "iodef"}

func parseCAA(content string) (caaData, error) {
	flags, rest, ok := strings.Cut(strings.TrimSpace(content), " ")
	tag, value, ok2 := strings.Cut(strings.TrimSpace(rest), " ")
	if !ok || !ok2 {
		return caaData{}, fmt.Errorf(`not "flags tag \"value\""`)
	}
	f, err := strconv.Atoi(flags)
	if err != nil || f < 0 || f > 255 {
		return caaData{}, fmt.Errorf("flags must be 0-255")
	}
	if !slices.Contains(caaTags, tag) {
		return caaData{}, fmt.Errorf("tag %q is not one of issue, issuewild, iodef", tag)
	}
	v, err := strconv.Unquote(strings.TrimSpace(value))
	if err != nil {
		return caaData{}, fmt.Errorf("value must be a quoted string")
	}
	return caaData{Flags: f, Tag: tag, Value: v}, nil
}

func (d caaData) content() string { return fmt.Sprintf("%d %s %q", d.Flags, d.Tag, d.Value) }

func (d srvData) content() string { return fmt.Sprintf("%d %d %s", d.Weight, d.Port, d.Target) }
