package mail

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dmarc"
	"github.com/miekg/dns"

	"github.com/webinfra/webinfra"
)

// Checker checks what a domain publishes for mail, in the spirit of checkdmarc: MX, SPF (with
// RFC 7208's lookup limits), DMARC, DKIM, MTA-STS (record and policy file) and TLS-RPT.
//
// The zero value is ready for use: it asks the first resolver of /etc/resolv.conf, waits 5 s
// per query and fetches MTA-STS policies over HTTPS. A Checker is safe for concurrent use and
// must not be changed after first use.
type Checker struct {
	// Resolver is the DNS server to ask, "host:port"; "" means the first nameserver of
	// /etc/resolv.conf.
	Resolver string
	// Timeout bounds each DNS query and the policy fetch; 0 means 5 s.
	Timeout time.Duration
	// HTTPClient fetches MTA-STS policy files; nil means a client with Timeout.
	HTTPClient *http.Client
	// PolicyURL returns the URL of a domain's MTA-STS policy; nil means
	// "https://mta-sts.DOMAIN/.well-known/mta-sts.txt". Tests point it at a local server.
	PolicyURL func(domain string) string
}

// CheckOptions tunes one [Checker.Check]; nil means the zero value.
type CheckOptions struct {
	// DKIMSelectors are the selectors whose keys must be published; nil means ["google"].
	// A key missing at any of them is an error.
	DKIMSelectors []string
}

// Check queries the domain's records and returns every finding, sorted by decreasing
// severity. A domain with everything right gives no findings of severity Warning or above (an
// absent MTA-STS or TLS-RPT is Info). DNS failures and timeouts do not fail the call: they are
// findings with code [CodeDNSUnavailable] and stop only the part that needed the answer.
//
// The error is non-nil only for a domain that is not a domain name (matching
// webinfra.ErrInvalidArgument) or when ctx ends (the context's error).
func (c *Checker) Check(ctx context.Context, domain string, opts *CheckOptions) (Findings, error) {
	domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if !isHostname(domain) {
		return nil, fmt.Errorf("mail: check %q: not a domain name: %w", domain, webinfra.ErrInvalidArgument)
	}
	if opts == nil {
		opts = &CheckOptions{}
	}
	selectors := opts.DKIMSelectors
	if selectors == nil {
		selectors = []string{"google"}
	}
	r := &report{c: c, ctx: ctx}
	mx := r.checkMX(domain)
	r.checkSPF(domain)
	r.checkDMARC(domain)
	for _, s := range selectors {
		r.checkDKIM(domain, s)
	}
	r.checkMTASTS(domain, mx)
	r.checkTLSRPT(domain)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mail: check %q: %w", domain, err)
	}
	r.out.sort()
	return r.out, nil
}

// report collects the findings of one check.
type report struct {
	c   *Checker
	ctx context.Context // the check's context, held for the duration of one Check call
	out Findings
}

func (r *report) add(sev Severity, code, name, format string, args ...any) {
	r.out = append(r.out, Finding{Severity: sev, Code: code, Name: name, Message: fmt.Sprintf(format, args...)})
}

// txt queries name and reports a failure as dns.unavailable; ok is false then.
func (r *report) txt(name string) ([]string, answer, bool) {
	txts, a, err := r.c.txt(r.ctx, name)
	if err != nil {
		r.add(Error, CodeDNSUnavailable, name, "TXT query failed: %v", err)
		return nil, a, false
	}
	return txts, a, true
}

// withPrefix keeps the records whose first tag is the version tag, case-insensitively, as
// receivers select them.
func withPrefix(txts []string, version string) []string {
	var out []string
	for _, t := range txts {
		first, _, _ := strings.Cut(strings.TrimSpace(t), ";")
		first, _, _ = strings.Cut(first, " ")
		if strings.EqualFold(strings.ReplaceAll(first, " ", ""), version) {
			out = append(out, t)
		}
	}
	return out
}

// isGoogleMX reports whether host is one of Google's mail exchangers.
func isGoogleMX(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "smtp.google.com" || strings.HasSuffix(host, ".aspmx.l.google.com") ||
		host == "aspmx.l.google.com" || strings.HasSuffix(host, ".googlemail.com")
}

func (r *report) checkMX(domain string) []string {
	a, err := r.c.query(r.ctx, domain, dns.TypeMX)
	if err != nil {
		r.add(Error, CodeDNSUnavailable, domain, "MX query failed: %v", err)
		return nil
	}
	if a.empty() {
		r.add(Error, CodeMXMissing, domain, "no MX records: mail to the domain cannot be delivered to Google Workspace")
		return nil
	}
	var hosts []string
	legacy := false
	for _, rr := range a.rrs {
		h := strings.TrimSuffix(strings.ToLower(rr.(*dns.MX).Mx), ".")
		hosts = append(hosts, h)
		if !isGoogleMX(h) {
			r.add(Error, CodeMXNotGoogle, domain, "MX %s is not a Google Workspace mail server", h)
		}
		if strings.HasSuffix(h, "aspmx.l.google.com") {
			legacy = true
		}
	}
	if legacy {
		r.add(Info, CodeMXLegacy, domain, "the legacy ASPMX set is published; Workspace now asks for the single smtp.google.com at priority 1")
	}
	return hosts
}

func (r *report) checkDMARC(domain string) {
	name := "_dmarc." + domain
	txts, _, ok := r.txt(name)
	if !ok {
		return
	}
	recs := withPrefix(txts, "v=DMARC1")
	switch {
	case len(recs) == 0:
		r.add(Error, CodeDMARCMissing, name, "no DMARC record: receivers apply no policy to mail spoofing the domain")
		return
	case len(recs) > 1:
		r.add(Error, CodeDMARCDuplicate, name, "%d DMARC records: receivers ignore them all", len(recs))
		return
	}
	rec, err := dmarc.Parse(recs[0])
	if err != nil {
		r.add(Error, CodeDMARCInvalid, name, "%v", err)
		return
	}
	if rec.Policy == dmarc.PolicyNone {
		r.add(Warning, CodeDMARCPolicyNone, name, "p=none only monitors: receivers still deliver spoofed mail")
	}
	if len(rec.ReportURIAggregate) == 0 {
		r.add(Info, CodeDMARCNoReports, name, "no rua= address: nobody receives DMARC aggregate reports")
	}
	var deprecated []string
	if rec.Percent != nil {
		deprecated = append(deprecated, "pct")
	}
	if rec.ReportFormat != nil {
		deprecated = append(deprecated, "rf")
	}
	if rec.ReportInterval != 0 {
		deprecated = append(deprecated, "ri")
	}
	if len(deprecated) > 0 {
		r.add(Warning, CodeDMARCDeprecatedTag, name, "tags deprecated by DMARCbis: %s", strings.Join(deprecated, ", "))
	}
}

func (r *report) checkDKIM(domain, selector string) {
	name := strings.ToLower(selector) + "._domainkey." + domain
	txts, _, ok := r.txt(name)
	if !ok {
		return
	}
	switch {
	case len(txts) == 0:
		r.add(Error, CodeDKIMMissing, name, "no DKIM key for selector %q: signatures cannot be verified", selector)
		return
	case len(txts) > 1:
		r.add(Error, CodeDKIMDuplicate, name, "%d TXT records: verifiers refuse an ambiguous key", len(txts))
		return
	}
	rec, err := ParseDKIMKey(txts[0])
	switch {
	case err == ErrKeyRevoked:
		r.add(Error, CodeDKIMRevoked, name, "the key is revoked (empty p=)")
		return
	case err != nil:
		r.add(Error, CodeDKIMMalformed, name, "%v", err)
		return
	}
	switch {
	case rec.KeyType == "rsa" && rec.Bits < 1024:
		r.add(Error, CodeDKIMWeak, name, "RSA key of %d bits: verifiers ignore keys under 1024 bits (RFC 8301)", rec.Bits)
	case rec.KeyType == "rsa" && rec.Bits < 2048:
		r.add(Warning, CodeDKIMWeak, name, "RSA key of %d bits: generate a 2048-bit key in the Workspace admin console", rec.Bits)
	}
	if rec.Testing() {
		r.add(Info, CodeDKIMTesting, name, "t=y: verifiers treat signatures as a test")
	}
}

func (r *report) checkTLSRPT(domain string) {
	name := "_smtp._tls." + domain
	txts, _, ok := r.txt(name)
	if !ok {
		return
	}
	recs := withPrefix(txts, "v=TLSRPTv1")
	switch {
	case len(recs) == 0:
		r.add(Info, CodeTLSRPTMissing, name, "no TLS-RPT record: nobody hears about failed TLS deliveries")
	case len(recs) > 1:
		r.add(Error, CodeTLSRPTInvalid, name, "%d TLS-RPT records: senders ignore them all", len(recs))
	default:
		if _, err := ParseTLSRPT(recs[0]); err != nil {
			r.add(Error, CodeTLSRPTInvalid, name, "%v", err)
		}
	}
}

func (r *report) checkMTASTS(domain string, mx []string) {
	name := "_mta-sts." + domain
	txts, _, ok := r.txt(name)
	if !ok {
		return
	}
	recs := withPrefix(txts, "v=STSv1")
	switch {
	case len(recs) == 0:
		r.add(Info, CodeMTASTSMissing, name, "no MTA-STS record: senders may deliver without TLS")
		return
	case len(recs) > 1:
		r.add(Error, CodeMTASTSInvalid, name, "%d MTA-STS records: senders ignore them all", len(recs))
		return
	}
	if _, err := ParseMTASTS(recs[0]); err != nil {
		r.add(Error, CodeMTASTSInvalid, name, "%v", err)
		return
	}
	url := "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
	if r.c.PolicyURL != nil {
		url = r.c.PolicyURL(domain)
	}
	text, err := r.fetch(url)
	if err != nil {
		r.add(Error, CodeMTASTSPolicyUnreachable, url, "the record announces a policy that cannot be fetched: %v", err)
		return
	}
	pol, err := ParseMTASTSPolicy(text)
	if err != nil {
		r.add(Error, CodeMTASTSPolicyInvalid, url, "%v", err)
		return
	}
	if pol.Mode == MTASTSTesting {
		r.add(Info, CodeMTASTSTesting, url, "mode testing: failures are reported, not enforced")
	}
	if pol.Mode == MTASTSNone {
		return
	}
	for _, h := range mx {
		if !pol.Matches(h) {
			r.add(Error, CodeMTASTSMXMismatch, url, "MX %s is not allowed by the policy's mx lines (%s): senders enforcing it will not deliver there", h, strings.Join(pol.MX, ", "))
		}
	}
}

// fetch GETs an MTA-STS policy: 200 only, redirects refused (RFC 8461 section 3.3), at most
// 64 KiB read.
func (r *report) fetch(url string) (string, error) {
	hc := r.c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: r.c.timeout()}
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithTimeout(r.ctx, r.c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP status %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return string(b), err
}
