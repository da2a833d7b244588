package mail

import (
	"fmt"
	"slices"
	"strings"
)

// Severity ranks a finding. The zero value is [Info].
type Severity int

// The severities, in increasing order.
const (
	// Info is advice: the setup works.
	Info Severity = iota
	// Warning is a weakness: mail flows but is less protected or reliable than it could be.
	Warning
	// Error is a fault: mail is lost, rejected or spoofable.
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its String.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes "info", "warning" or "error".
func (s *Severity) UnmarshalText(b []byte) error {
	for _, v := range []Severity{Info, Warning, Error} {
		if string(b) == v.String() {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("mail: unknown severity %q", b)
}

// The stable finding codes. Callers match on them; messages may change.
const (
	CodeDNSUnavailable = "dns.unavailable" // a query failed or timed out

	CodeMXMissing   = "mx.missing"    // no MX records
	CodeMXNotGoogle = "mx.not_google" // an MX host that is not Google's
	CodeMXLegacy    = "mx.legacy"     // the legacy ASPMX set (info)

	CodeSPFMissing        = "spf.missing"               // no v=spf1 TXT record
	CodeSPFDuplicate      = "spf.duplicate"             // more than one (a permerror)
	CodeSPFSyntax         = "spf.syntax"                // a record that does not parse
	CodeSPFTooManyLookups = "spf.too_many_lookups"      // more than 10 DNS-querying terms
	CodeSPFTooManyVoid    = "spf.too_many_void_lookups" // more than 2 lookups with no answer
	CodeSPFIncludeMissing = "spf.include_missing"       // an include or redirect target with no SPF
	CodeSPFLoop           = "spf.loop"                  // an include chain that returns to itself
	CodeSPFNoGoogle       = "spf.no_google"             // Google's include is absent
	CodeSPFPassAll        = "spf.pass_all"              // "+all" authorises everyone
	CodeSPFWeakAll        = "spf.weak_all"              // "?all" or no all at all
	CodeSPFPTR            = "spf.ptr"                   // the ptr mechanism, which RFC 7208 says not to use
	CodeSPFMXTooManyHosts = "spf.mx_too_many_hosts"     // an mx term with more than 10 hosts

	CodeDMARCMissing       = "dmarc.missing"
	CodeDMARCDuplicate     = "dmarc.duplicate"
	CodeDMARCInvalid       = "dmarc.invalid"
	CodeDMARCPolicyNone    = "dmarc.policy_none"
	CodeDMARCNoReports     = "dmarc.no_reports"
	CodeDMARCDeprecatedTag = "dmarc.deprecated_tag"

	CodeDKIMMissing   = "dkim.missing"
	CodeDKIMMalformed = "dkim.malformed"
	CodeDKIMWeak      = "dkim.weak"    // RSA under 1024 bits (error) or under 2048 (warning)
	CodeDKIMRevoked   = "dkim.revoked" // empty p=
	CodeDKIMTesting   = "dkim.testing" // t=y
	CodeDKIMDuplicate = "dkim.duplicate"

	CodeMTASTSMissing           = "mta_sts.missing" // no _mta-sts record (info)
	CodeMTASTSInvalid           = "mta_sts.invalid"
	CodeMTASTSPolicyUnreachable = "mta_sts.policy_unreachable"
	CodeMTASTSPolicyInvalid     = "mta_sts.policy_invalid"
	CodeMTASTSMXMismatch        = "mta_sts.mx_mismatch" // an MX host the policy does not allow
	CodeMTASTSTesting           = "mta_sts.testing"

	CodeTLSRPTMissing = "tls_rpt.missing"
	CodeTLSRPTInvalid = "tls_rpt.invalid"
)

// Finding is one result of a check.
type Finding struct {
	// Severity ranks the finding.
	Severity Severity `json:"severity"`
	// Code is one of the Code constants: stable, for programs.
	Code string `json:"code"`
	// Name is the DNS name (or URL) the finding is about.
	Name string `json:"name"`
	// Message explains the finding to a person.
	Message string `json:"message"`
}

// String renders "severity code name: message".
func (f Finding) String() string {
	return fmt.Sprintf("%s %s %s: %s", f.Severity, f.Code, f.Name, f.Message)
}

// Findings is the result of a check, sorted by decreasing severity, then code and name.
type Findings []Finding

// Has reports whether a finding with the code is present.
func (fs Findings) Has(code string) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Code == code })
}

// Codes returns the codes present, in order, without repeats.
func (fs Findings) Codes() []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.Code) {
			out = append(out, f.Code)
		}
	}
	return out
}

// Max returns the highest severity present, and false when there are no findings.
func (fs Findings) Max() (Severity, bool) {
	if len(fs) == 0 {
		return Info, false
	}
	m := Info
	for _, f := range fs {
		m = max(m, f.Severity)
	}
	return m, true
}

func (fs Findings) sort() {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity - a.Severity)
		}
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
