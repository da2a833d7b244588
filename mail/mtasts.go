package mail

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MTA-STS and TLS-RPT records are parsed here by hand: no maintained Go library in this
// module's dependencies parses them, and both grammars are a few lines (RFC 8461, RFC 8460).

// MTASTSRecord is a parsed _mta-sts TXT record (RFC 8461 section 3.1).
type MTASTSRecord struct {
	// ID changes whenever the policy does; 1 to 32 letters and digits.
	ID string
}

// ParseMTASTS parses an _mta-sts TXT record: "v=STSv1; id=...". It returns a *[ParseError]
// when v=STSv1 is not the first tag or id is missing or not 1-32 letters and digits. Unknown
// extension tags are allowed.
func ParseMTASTS(s string) (*MTASTSRecord, error) {
	tags, err := parseTags("mta-sts", s)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 || tags[0].name != "v" || tags[0].value != "STSv1" {
		return nil, &ParseError{Record: "mta-sts", Msg: `does not start with "v=STSv1"`}
	}
	id, ok := lookupTag(tags, "id")
	if !ok || !validSTSID(id) {
		return nil, &ParseError{Record: "mta-sts", Term: "id=" + id, Msg: "id must be 1-32 letters and digits"}
	}
	return &MTASTSRecord{ID: id}, nil
}

// String formats the record.
func (r *MTASTSRecord) String() string { return "v=STSv1; id=" + r.ID }

func validSTSID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isAlpha(id[i]) && !isDigit(id[i]) {
			return false
		}
	}
	return true
}

// The MTA-STS policy modes.
const (
	MTASTSEnforce = "enforce"
	MTASTSTesting = "testing"
	MTASTSNone    = "none"
)

// maxSTSAge is RFC 8461's upper bound for max_age: one year, in seconds.
const maxSTSAge = 31557600

// MTASTSPolicy is a parsed MTA-STS policy file (RFC 8461 section 3.2), the text served at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
type MTASTSPolicy struct {
	// Mode is enforce, testing or none.
	Mode string
	// MX are the allowed MX host patterns: a host name or "*.suffix" (one label).
	MX []string
	// MaxAge is how long senders cache the policy, in seconds (at most 31557600).
	MaxAge int
}

// ParseMTASTSPolicy parses a policy file: "key: value" lines ended by CRLF or LF. It returns a
// *[ParseError] when version is not STSv1, mode is unknown, max_age is missing or out of range,
// a key other than mx repeats, or mode is not none and no mx is given.
func ParseMTASTSPolicy(s string) (*MTASTSPolicy, error) {
	p := &MTASTSPolicy{MaxAge: -1}
	seen := map[string]bool{}
	version := ""
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, &ParseError{Record: "mta-sts policy", Term: line, Msg: `not a "key: value" line`}
		}
		if k != "mx" && seen[k] {
			return nil, &ParseError{Record: "mta-sts policy", Term: k, Msg: "key appears twice"}
		}
		seen[k] = true
		switch k {
		case "version":
			version = v
		case "mode":
			p.Mode = v
		case "max_age":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > maxSTSAge || len(v) > 10 {
				return nil, &ParseError{Record: "mta-sts policy", Term: line, Msg: "max_age must be 0-31557600"}
			}
			p.MaxAge = n
		case "mx":
			if !validMXPattern(v) {
				return nil, &ParseError{Record: "mta-sts policy", Term: line, Msg: "not a host name or *.suffix pattern"}
			}
			p.MX = append(p.MX, strings.ToLower(v))
		}
	}
	switch {
	case version != "STSv1":
		return nil, &ParseError{Record: "mta-sts policy", Term: "version", Msg: `must be "STSv1"`}
	case !slices.Contains([]string{MTASTSEnforce, MTASTSTesting, MTASTSNone}, p.Mode):
		return nil, &ParseError{Record: "mta-sts policy", Term: "mode", Msg: "must be enforce, testing or none"}
	case p.MaxAge < 0:
		return nil, &ParseError{Record: "mta-sts policy", Term: "max_age", Msg: "missing"}
	case p.Mode != MTASTSNone && len(p.MX) == 0:
		return nil, &ParseError{Record: "mta-sts policy", Term: "mx", Msg: "missing"}
	}
	return p, nil
}

// String formats the policy file, lines ended by CRLF as RFC 8461's examples are.
func (p *MTASTSPolicy) String() string {
	var b strings.Builder
	b.WriteString("version: STSv1\r\nmode: " + p.Mode + "\r\n")
	for _, mx := range p.MX {
		b.WriteString("mx: " + mx + "\r\n")
	}
	b.WriteString("max_age: " + strconv.Itoa(p.MaxAge) + "\r\n")
	return b.String()
}

// Matches reports whether the MX host is allowed by one of the policy's patterns: equal names
// (case-insensitively, trailing dot ignored), or "*.suffix" matching exactly one more label.
func (p *MTASTSPolicy) Matches(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, pat := range p.MX {
		if suffix, ok := strings.CutPrefix(pat, "*."); ok {
			if label, rest, ok := strings.Cut(host, "."); ok && label != "" && rest == suffix {
				return true
			}
		} else if host == pat {
			return true
		}
	}
	return false
}

func validMXPattern(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	return isHostname(s)
}

// isHostname accepts LDH labels of 1-63 characters, at least two labels, 253 characters in all.
func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// TLSRPTRecord is a parsed _smtp._tls TXT record (RFC 8460 section 3).
type TLSRPTRecord struct {
	// RUA are where reports go: mailto: or https: URIs.
	RUA []string
}

// ParseTLSRPT parses an _smtp._tls TXT record: "v=TLSRPTv1; rua=mailto:...,https://...". It
// returns a *[ParseError] when v=TLSRPTv1 is not first, rua is missing, or a URI is neither
// mailto: nor https:.
func ParseTLSRPT(s string) (*TLSRPTRecord, error) {
	tags, err := parseTags("tls-rpt", s)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 || tags[0].name != "v" || tags[0].value != "TLSRPTv1" {
		return nil, &ParseError{Record: "tls-rpt", Msg: `does not start with "v=TLSRPTv1"`}
	}
	rua, ok := lookupTag(tags, "rua")
	if !ok {
		return nil, &ParseError{Record: "tls-rpt", Term: "rua", Msg: "missing"}
	}
	rec := &TLSRPTRecord{}
	for _, u := range strings.Split(rua, ",") {
		u = strings.TrimSpace(u)
		if !validReportURI(u, "mailto", "https") {
			return nil, &ParseError{Record: "tls-rpt", Term: u, Msg: "not a mailto: or https: URI"}
		}
		rec.RUA = append(rec.RUA, u)
	}
	return rec, nil
}

// String formats the record.
func (r *TLSRPTRecord) String() string { return "v=TLSRPTv1; rua=" + strings.Join(r.RUA, ",") }

// validReportURI accepts mailto:user@host or https://host/... with one of the schemes.
func validReportURI(s string, schemes ...string) bool {
	u, err := url.Parse(s)
	if err != nil || !slices.Contains(schemes, u.Scheme) || strings.ContainsAny(s, " ,;!") {
		return false
	}
	if u.Scheme == "mailto" {
		local, host, ok := strings.Cut(u.Opaque, "@")
		return ok && local != "" && isHostname(host)
	}
	return u.Host != "" && isHostname(u.Hostname())
}
