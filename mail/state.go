package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/webinfra/webinfra"
)

// MXStyle selects the MX records Google Workspace asks for.
type MXStyle string

// The MX styles.
const (
	// MXGoogle is the single "smtp.google.com" at priority 1, what Workspace shows for new
	// domains (the default).
	MXGoogle MXStyle = "google"
	// MXLegacy is the five ASPMX hosts older domains were told to publish, still served.
	MXLegacy MXStyle = "legacy"
)

// GoogleSPFInclude is the SPF include that authorises Google Workspace's senders.
const GoogleSPFInclude = "_spf.google.com"

// googleMX returns the MX records of a style, as (priority, host).
func googleMX(style MXStyle) []Record {
	if style == MXLegacy {
		return []Record{
			{Type: "MX", Priority: 1, Content: "aspmx.l.google.com"},
			{Type: "MX", Priority: 5, Content: "alt1.aspmx.l.google.com"},
			{Type: "MX", Priority: 5, Content: "alt2.aspmx.l.google.com"},
			{Type: "MX", Priority: 10, Content: "alt3.aspmx.l.google.com"},
			{Type: "MX", Priority: 10, Content: "alt4.aspmx.l.google.com"},
		}
	}
	return []Record{{Type: "MX", Priority: 1, Content: "smtp.google.com"}}
}

// Domain is the desired mail setup of one domain on Google Workspace. It is plain data;
// [Domain.Validate] checks it and [Domain.Records] renders the DNS records.
type Domain struct {
	// Domain is the mail domain, "example.com"; required.
	Domain string `json:"domain"`
	// MX selects the MX records; "" means [MXGoogle].
	MX MXStyle `json:"mx,omitempty"`
	// TTL is applied to every record, in seconds; 0 means the publisher's default.
	TTL int `json:"ttl,omitempty"`
	// SPF is the sender policy. Google's include is always present.
	SPF SPF `json:"spf"`
	// DKIM publishes the signing key; without a key no DKIM record is made.
	DKIM DKIM `json:"dkim"`
	// DMARC is the DMARC policy; a zero value publishes p=none with no reports, which the
	// checker warns about.
	DMARC DMARC `json:"dmarc"`
	// MTASTS publishes an MTA-STS policy when not nil.
	MTASTS *MTASTS `json:"mta_sts,omitempty"`
	// TLSRPT publishes a TLS reporting address when not nil.
	TLSRPT *TLSRPT `json:"tls_rpt,omitempty"`
}

// SPF is the domain's sender policy framework record beyond Google's include.
type SPF struct {
	// Includes are further domains whose SPF authorises senders ("mailgun.org"), after
	// Google's.
	Includes []string `json:"includes,omitempty"`
	// IP4 and IP6 are further sending addresses or networks.
	IP4 []netip.Prefix `json:"ip4,omitempty"`
	IP6 []netip.Prefix `json:"ip6,omitempty"`
	// All is the qualifier of the final "all": "~" (softfail, the default and Google's
	// advice), "-" (fail) or "?" (neutral). "+" is refused: it authorises the whole Internet.
	All string `json:"all,omitempty"`
}

// DKIM publishes a DKIM key.
type DKIM struct {
	// Selector names the key; "" means "google", Workspace's default.
	Selector string `json:"selector,omitempty"`
	// TXT is the key record's text: what the Workspace admin console shows ("v=DKIM1; k=rsa;
	// p=MIIB..."), or [DKIMKey.TXT] of a key made with [GenerateDKIMKey]. "" publishes no key.
	TXT string `json:"txt,omitempty"`
}

// DMARC is a DMARC policy (RFC 7489).
type DMARC struct {
	// Policy is "none", "quarantine" or "reject"; "" means "none".
	Policy string `json:"policy,omitempty"`
	// SubdomainPolicy is sp=; "" leaves it out (subdomains follow Policy).
	SubdomainPolicy string `json:"subdomain_policy,omitempty"`
	// RUA and RUF are aggregate and failure report URIs ("mailto:dmarc@example.com").
	RUA []string `json:"rua,omitempty"`
	RUF []string `json:"ruf,omitempty"`
	// ADKIM and ASPF are the alignment modes, "r" (relaxed) or "s" (strict); "" leaves them
	// out (relaxed).
	ADKIM string `json:"adkim,omitempty"`
	ASPF  string `json:"aspf,omitempty"`
	// FO is the failure reporting option ("0", "1", "d", "s", colon separated); "" leaves it out.
	FO string `json:"fo,omitempty"`
	// Percent is pct=, 0-100; nil leaves it out. Deprecated by DMARCbis: [Domain.Warnings]
	// says so.
	Percent *int `json:"pct,omitempty"`
	// ReportInterval is ri=, in seconds; 0 leaves it out. Deprecated by DMARCbis.
	ReportInterval int `json:"ri,omitempty"`
}

// MTASTS publishes an MTA-STS policy (RFC 8461).
type MTASTS struct {
	// Mode is "enforce", "testing" or "none"; "" means "testing", the safe first step.
	Mode string `json:"mode,omitempty"`
	// MX are the allowed MX patterns; empty means the hosts of the domain's MX style.
	MX []string `json:"mx,omitempty"`
	// MaxAge is the policy's cache lifetime in seconds; 0 means 604800 (a week).
	MaxAge int `json:"max_age,omitempty"`
	// ID is the record's id=, 1-32 letters and digits; "" means one derived from the policy
	// text, so it changes exactly when the policy does.
	ID string `json:"id,omitempty"`
}

// TLSRPT publishes a TLS reporting address (RFC 8460).
type TLSRPT struct {
	// RUA are mailto: or https: URIs; at least one.
	RUA []string `json:"rua"`
}

func (d Domain) name() string { return strings.TrimSuffix(strings.ToLower(d.Domain), ".") }

func (d Domain) mxStyle() MXStyle {
	if d.MX == "" {
		return MXGoogle
	}
	return d.MX
}

// Validate reports every problem at once: nil, or a *webinfra.ValidationError (matching
// webinfra.ErrInvalidArgument) naming each field path, such as `dmarc.rua[1]` or
// `spf.includes[0]`. It does no I/O.
func (d Domain) Validate() error {
	var errs webinfra.ValidationError
	root := webinfra.Path{}
	if d.Domain == "" {
		errs.Required(root.Child("domain"))
	} else if !isHostname(d.name()) {
		errs.Invalid(root.Child("domain"), d.Domain, "not a domain name")
	}
	if d.MX != "" && d.MX != MXGoogle && d.MX != MXLegacy {
		errs.NotSupported(root.Child("mx"), string(d.MX), []string{string(MXGoogle), string(MXLegacy)})
	}
	if d.TTL != 0 && (d.TTL < 60 || d.TTL > 86400) {
		errs.Invalid(root.Child("ttl"), d.TTL, "must be 60-86400 seconds")
	}
	d.SPF.validate(root.Child("spf"), &errs)
	d.DKIM.validate(root.Child("dkim"), &errs)
	d.DMARC.validate(root.Child("dmarc"), &errs)
	if d.MTASTS != nil {
		d.MTASTS.validate(root.Child("mta_sts"), &errs)
	}
	if d.TLSRPT != nil {
		p := root.Child("tls_rpt").Child("rua")
		if len(d.TLSRPT.RUA) == 0 {
			errs.Required(p)
		}
		for i, u := range d.TLSRPT.RUA {
			if !validReportURI(u, "mailto", "https") {
				errs.Invalid(p.Index(i), u, "not a mailto: or https: URI")
			}
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	// The rendered SPF must stay a valid record whose lookups Google's include leaves room for.
	if _, err := ParseSPF(d.spfText()); err != nil {
		errs.Invalid(root.Child("spf"), d.spfText(), err.Error())
	}
	return errs.Err()
}

func (s SPF) validate(p webinfra.Path, errs *webinfra.ValidationError) {
	for i, inc := range s.Includes {
		if !isHostname(inc) {
			errs.Invalid(p.Child("includes").Index(i), inc, "not a domain name")
		} else if strings.EqualFold(strings.TrimSuffix(inc, "."), GoogleSPFInclude) {
			errs.Invalid(p.Child("includes").Index(i), inc, "Google's include is always present")
		}
	}
	for i, pr := range s.IP4 {
		if !pr.IsValid() || !pr.Addr().Is4() {
			errs.Invalid(p.Child("ip4").Index(i), pr, "not an IPv4 prefix")
		}
	}
	for i, pr := range s.IP6 {
		if !pr.IsValid() || !pr.Addr().Is6() || pr.Addr().Is4In6() {
			errs.Invalid(p.Child("ip6").Index(i), pr, "not an IPv6 prefix")
		}
	}
	if s.All != "" && s.All != "~" && s.All != "-" && s.All != "?" {
		errs.NotSupported(p.Child("all"), s.All, []string{"~", "-", "?"})
	}
	// Google's include costs 4 of the 10 lookups (itself and its three netblocks); each
	// include here costs at least one more. The checker counts the real total.
	if n := 4 + len(s.Includes); n > 10 {
		errs.Addf(p.Child("includes"), nil, "%d includes need at least %d DNS lookups, over SPF's limit of 10", len(s.Includes), n)
	}
}

func (k DKIM) validate(p webinfra.Path, errs *webinfra.ValidationError) {
	if k.Selector != "" && (!isHostname(k.Selector+".x") || strings.Contains(k.Selector, "_")) {
		errs.Invalid(p.Child("selector"), k.Selector, "not a DNS label sequence")
	}
	if k.TXT == "" {
		return
	}
	rec, err := ParseDKIMKey(k.TXT)
	switch {
	case err != nil:
		errs.Invalid(p.Child("txt"), truncate(k.TXT), err.Error())
	case rec.KeyType == "rsa" && rec.Bits < 1024:
		errs.Addf(p.Child("txt"), truncate(k.TXT), "RSA key of %d bits: verifiers ignore keys under 1024 bits", rec.Bits)
	}
}

func (m DMARC) validate(p webinfra.Path, errs *webinfra.ValidationError) {
	policies := []string{"none", "quarantine", "reject"}
	if m.Policy != "" && !slices.Contains(policies, m.Policy) {
		errs.NotSupported(p.Child("policy"), m.Policy, policies)
	}
	if m.SubdomainPolicy != "" && !slices.Contains(policies, m.SubdomainPolicy) {
		errs.NotSupported(p.Child("subdomain_policy"), m.SubdomainPolicy, policies)
	}
	for name, uris := range map[string][]string{"rua": m.RUA, "ruf": m.RUF} {
		for i, u := range uris {
			base, _, _ := strings.Cut(u, "!") // the optional size limit, "!10m"
			if !validReportURI(base, "mailto", "https") {
				errs.Invalid(p.Child(name).Index(i), u, "not a mailto: or https: URI")
			}
		}
	}
	for name, v := range map[string]string{"adkim": m.ADKIM, "aspf": m.ASPF} {
		if v != "" && v != "r" && v != "s" {
			errs.NotSupported(p.Child(name), v, []string{"r", "s"})
		}
	}
	if m.FO != "" {
		for _, o := range strings.Split(m.FO, ":") {
			if !slices.Contains([]string{"0", "1", "d", "s"}, o) {
				errs.Invalid(p.Child("fo"), m.FO, `colon-separated list of "0", "1", "d", "s"`)
				break
			}
		}
	}
	if m.Percent != nil && (*m.Percent < 0 || *m.Percent > 100) {
		errs.Invalid(p.Child("pct"), *m.Percent, "must be 0-100")
	}
	if m.ReportInterval < 0 {
		errs.Invalid(p.Child("ri"), m.ReportInterval, "must be positive")
	}
}

func (m MTASTS) validate(p webinfra.Path, errs *webinfra.ValidationError) {
	modes := []string{MTASTSEnforce, MTASTSTesting, MTASTSNone}
	if m.Mode != "" && !slices.Contains(modes, m.Mode) {
		errs.NotSupported(p.Child("mode"), m.Mode, modes)
	}
	for i, mx := range m.MX {
		if !validMXPattern(mx) {
			errs.Invalid(p.Child("mx").Index(i), mx, "not a host name or *.suffix pattern")
		}
	}
	if m.MaxAge < 0 || m.MaxAge > maxSTSAge {
		errs.Invalid(p.Child("max_age"), m.MaxAge, "must be 0-31557600 seconds")
	}
	if m.ID != "" && !validSTSID(m.ID) {
		errs.Invalid(p.Child("id"), m.ID, "must be 1-32 letters and digits")
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Records returns the DNS records the domain needs, in a fixed order: MX, SPF (TXT at the
// domain), DKIM (SELECTOR._domainkey), DMARC (_dmarc), MTA-STS (_mta-sts) and TLS-RPT
// (_smtp._tls). It validates d first and returns the validation error, if any.
//
// The MTA-STS policy file itself is not DNS: serve [Domain.MTASTSPolicy] at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt, which also needs an address record for
// mta-sts.DOMAIN pointing at the web server.
func (d Domain) Records() ([]Record, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	name := d.name()
	var out []Record
	for _, mx := range googleMX(d.mxStyle()) {
		mx.Name, mx.TTL = name, d.TTL
		out = append(out, mx)
	}
	txt := func(n, content string) {
		out = append(out, Record{Name: n, Type: "TXT", Content: content, TTL: d.TTL})
	}
	txt(name, d.spfText())
	if d.DKIM.TXT != "" {
		txt(d.dkimSelector()+"._domainkey."+name, strings.Join(strings.Fields(d.DKIM.TXT), " "))
	}
	txt("_dmarc."+name, d.DMARC.text())
	if d.MTASTS != nil {
		pol := d.mtaSTSPolicy()
		txt("_mta-sts."+name, (&MTASTSRecord{ID: d.mtaSTSID(pol)}).String())
	}
	if d.TLSRPT != nil {
		txt("_smtp._tls."+name, (&TLSRPTRecord{RUA: d.TLSRPT.RUA}).String())
	}
	return out, nil
}

func (d Domain) dkimSelector() string {
	if d.DKIM.Selector == "" {
		return "google"
	}
	return strings.ToLower(d.DKIM.Selector)
}

func (d Domain) spfText() string {
	terms := []string{"v=spf1", "include:" + GoogleSPFInclude}
	for _, inc := range d.SPF.Includes {
		terms = append(terms, "include:"+strings.TrimSuffix(strings.ToLower(inc), "."))
	}
	for _, p := range slices.Concat(d.SPF.IP4, d.SPF.IP6) {
		mech := "ip4:"
		if p.Addr().Is6() {
			mech = "ip6:"
		}
		if p.IsSingleIP() {
			terms = append(terms, mech+p.Addr().String())
		} else {
			terms = append(terms, mech+p.Masked().String())
		}
	}
	all := d.SPF.All
	if all == "" {
		all = "~"
	}
	return strings.Join(append(terms, all+"all"), " ")
}

func (m DMARC) text() string {
	policy := m.Policy
	if policy == "" {
		policy = "none"
	}
	tags := []string{"v=DMARC1", "p=" + policy}
	add := func(name, v string) {
		if v != "" {
			tags = append(tags, name+"="+v)
		}
	}
	add("sp", m.SubdomainPolicy)
	add("rua", strings.Join(m.RUA, ","))
	add("ruf", strings.Join(m.RUF, ","))
	add("adkim", m.ADKIM)
	add("aspf", m.ASPF)
	add("fo", m.FO)
	if m.Percent != nil {
		add("pct", strconv.Itoa(*m.Percent))
	}
	if m.ReportInterval > 0 {
		add("ri", strconv.Itoa(m.ReportInterval))
	}
	return strings.Join(tags, "; ")
}

func (d Domain) mtaSTSPolicy() *MTASTSPolicy {
	m := d.MTASTS
	p := &MTASTSPolicy{Mode: m.Mode, MaxAge: m.MaxAge}
	if p.Mode == "" {
		p.Mode = MTASTSTesting
	}
	if p.MaxAge == 0 {
		p.MaxAge = 604800
	}
	for _, mx := range m.MX {
		p.MX = append(p.MX, strings.ToLower(mx))
	}
	if len(p.MX) == 0 {
		for _, r := range googleMX(d.mxStyle()) {
			p.MX = append(p.MX, r.Content)
		}
	}
	return p
}

func (d Domain) mtaSTSID(p *MTASTSPolicy) string {
	if d.MTASTS.ID != "" {
		return d.MTASTS.ID
	}
	sum := sha256.Sum256([]byte(p.String()))
	return hex.EncodeToString(sum[:10])
}

// MTASTSPolicy returns the MTA-STS policy file to serve at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt (with Content-Type text/plain), and false
// when d publishes no MTA-STS or does not validate.
func (d Domain) MTASTSPolicy() (string, bool) {
	if d.MTASTS == nil || d.Validate() != nil {
		return "", false
	}
	return d.mtaSTSPolicy().String(), true
}

// Warnings returns the advice about a valid d that is not an error: DMARC p=none (reports
// only, no protection), no DMARC aggregate reports, DMARC tags deprecated by DMARCbis (pct,
// ri), MTA-STS in testing mode, SPF with "?all". Findings use the checker's codes; Name is the
// record's name.
func (d Domain) Warnings() []Finding {
	name := d.name()
	var out []Finding
	add := func(sev Severity, code, n, msg string) {
		out = append(out, Finding{Severity: sev, Code: code, Name: n, Message: msg})
	}
	dm := "_dmarc." + name
	if d.DMARC.Policy == "" || d.DMARC.Policy == "none" {
		add(Warning, CodeDMARCPolicyNone, dm, "DMARC p=none only monitors: receivers still deliver spoofed mail")
	}
	if len(d.DMARC.RUA) == 0 {
		add(Info, CodeDMARCNoReports, dm, "no rua= address: nobody receives DMARC aggregate reports")
	}
	if d.DMARC.Percent != nil {
		add(Warning, CodeDMARCDeprecatedTag, dm, "pct= is deprecated by DMARCbis and ignored by many receivers")
	}
	if d.DMARC.ReportInterval != 0 {
		add(Warning, CodeDMARCDeprecatedTag, dm, "ri= is deprecated by DMARCbis; receivers report daily")
	}
	if d.MTASTS != nil && (d.MTASTS.Mode == "" || d.MTASTS.Mode == MTASTSTesting) {
		add(Info, CodeMTASTSTesting, "_mta-sts."+name, "MTA-STS in testing mode: failures are reported, not enforced")
	}
	if d.SPF.All == "?" {
		add(Warning, CodeSPFWeakAll, name, `"?all" is neutral: it does not ask receivers to reject anything`)
	}
	return out
}
