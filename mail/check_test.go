package mail_test

import (
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

// goodDomain is a complete, correct setup; the checker must find nothing above Info in it.
func goodDomain(t *testing.T) mail.Domain {
	t.Helper()
	key, err := mail.GenerateDKIMKey(mail.RSA2048)
	require.NoError(t, err)
	return mail.Domain{
		Domain: "example.com",
		SPF:    mail.SPF{All: "-"},
		DKIM:   mail.DKIM{TXT: key.TXT()},
		DMARC:  mail.DMARC{Policy: "reject", RUA: []string{"mailto:dmarc@example.com"}},
		MTASTS: &mail.MTASTS{Mode: mail.MTASTSEnforce},
		TLSRPT: &mail.TLSRPT{RUA: []string{"mailto:tls@example.com"}},
	}
}

// zone renders a domain's records plus Google's SPF chain.
func zone(t *testing.T, d mail.Domain) []string {
	t.Helper()
	recs, err := d.Records()
	require.NoError(t, err)
	return append(mailtest.RRs(recs), mailtest.GoogleSPF()...)
}

// policyServer serves an MTA-STS policy file; the checker is pointed at it.
func policyServer(t *testing.T, policy string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mta-sts.txt" || policy == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(policy))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func checker(dnsSrv *mailtest.DNSServer, policy *httptest.Server) *mail.Checker {
	return &mail.Checker{
		Resolver:   dnsSrv.Addr,
		Timeout:    2 * time.Second,
		HTTPClient: policy.Client(),
		PolicyURL:  func(string) string { return policy.URL + "/.well-known/mta-sts.txt" },
	}
}

func TestCheckCorrectZonePasses(t *testing.T) {
	d := goodDomain(t)
	pol, ok := d.MTASTSPolicy()
	require.True(t, ok)
	dnsSrv := mailtest.StartDNS(t, zone(t, d)...)
	c := checker(dnsSrv, policyServer(t, pol))
	fs, err := c.Check(t.Context(), "example.com", nil)
	require.NoError(t, err)
	max, _ := fs.Max()
	assert.Equal(t, mail.Info, max, "findings: %v", fs)
	assert.Empty(t, fs, "a complete setup has nothing to report")
}

func TestCheckFindsEachProblem(t *testing.T) {
	// Go refuses to generate keys under 1024 bits; a published key is only a modulus, so an
	// odd 512-bit number stands in for one.
	n := new(big.Int).Lsh(big.NewInt(1), 511)
	n.Add(n, big.NewInt(12345677))
	weakTXT, err := mail.DKIMTXT(&rsa.PublicKey{N: n, E: 65537})
	require.NoError(t, err)
	mid, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	midTXT, err := mail.DKIMTXT(&mid.PublicKey)
	require.NoError(t, err)

	// replace swaps the zone's records at name (of type typ) for the given ones.
	replace := func(rrs []string, name, typ string, with ...string) []string {
		var out []string
		for _, rr := range rrs {
			f := strings.Fields(rr)
			if f[0] == name+"." && f[3] == typ {
				continue
			}
			out = append(out, rr)
		}
		return append(out, with...)
	}
	txt := func(name, text string) string { return name + `. 300 IN TXT "` + text + `"` }
	const spf = "example.com"
	cases := []struct {
		name   string
		edit   func(rrs []string) []string
		policy string // "" keeps the good policy; "-" serves none
		code   string
		sev    mail.Severity
	}{
		{"spf missing", func(r []string) []string { return replace(r, spf, "TXT") }, "", mail.CodeSPFMissing, mail.Error},
		{"spf duplicate", func(r []string) []string {
			return append(r, txt(spf, "v=spf1 include:_spf.google.com -all"))
		}, "", mail.CodeSPFDuplicate, mail.Error},
		{"spf syntax", func(r []string) []string {
			return replace(r, spf, "TXT", txt(spf, "v=spf1 include:_spf.google.com ip4:300.1.1.1 -all"))
		}, "", mail.CodeSPFSyntax, mail.Error},
		{"spf too many lookups", func(r []string) []string {
			var incs []string
			for i := range 7 {
				n := "s" + string(rune('a'+i)) + ".example.net"
				incs = append(incs, "include:"+n)
				r = append(r, txt(n, "v=spf1 ip4:192.0.2.1 -all"))
			}
			return replace(r, spf, "TXT", txt(spf, "v=spf1 include:_spf.google.com "+strings.Join(incs, " ")+" -all"))
		}, "", mail.CodeSPFTooManyLookups, mail.Error},
		{"spf void lookups", func(r []string) []string {
			return replace(r, spf, "TXT", txt(spf, "v=spf1 include:_spf.google.com a:none1.example.net a:none2.example.net exists:none3.example.net -all"))
		}, "", mail.CodeSPFTooManyVoid, mail.Error},
		{"spf include missing", func(r []string) []string {
			return replace(r, spf, "TXT", txt(spf, "v=spf1 include:_spf.google.com include:nospf.example.net -all"),
				txt("nospf.example.net", "not spf"))
		}, "", mail.CodeSPFIncludeMissing, mail.Error},
		{"spf loop", func(r []string) []string {
			return replace(r, spf, "TXT", txt(spf, "v=spf1 include:_spf.google.com include:loop.example.net -all"),
				txt("loop.example.net", "v=spf1 include:example.com -all"))
		}, "", mail.CodeSPFLoop, mail.Error},
		{"spf without google", func(r []string) []string {
			return replace(r, spf, "TXT", txt(spf, "v=spf1 ip4:192.0.2.1 -all"))
		}, "", mail.CodeSPFNoGoogle, mail.Warning},
		{"spf +all", func(r []string) []string {
			return replace(r, spf, "TXT", txt(spf, "v=spf1 include:_spf.google.com +all"))
		}, "", mail.CodeSPFPassAll, mail.Error},
		{"dmarc missing", func(r []string) []string { return replace(r, "_dmarc.example.com", "TXT") }, "", mail.CodeDMARCMissing, mail.Error},
		{"dmarc invalid", func(r []string) []string {
			return replace(r, "_dmarc.example.com", "TXT", txt("_dmarc.example.com", "v=DMARC1; p=block"))
		}, "", mail.CodeDMARCInvalid, mail.Error},
		{"dmarc p=none", func(r []string) []string {
			return replace(r, "_dmarc.example.com", "TXT", txt("_dmarc.example.com", "v=DMARC1; p=none; rua=mailto:d@example.com"))
		}, "", mail.CodeDMARCPolicyNone, mail.Warning},
		{"dmarc deprecated", func(r []string) []string {
			return replace(r, "_dmarc.example.com", "TXT", txt("_dmarc.example.com", "v=DMARC1; p=reject; pct=50; rua=mailto:d@example.com"))
		}, "", mail.CodeDMARCDeprecatedTag, mail.Warning},
		{"dkim missing", func(r []string) []string { return replace(r, "google._domainkey.example.com", "TXT") }, "", mail.CodeDKIMMissing, mail.Error},
		{"dkim malformed", func(r []string) []string {
			return replace(r, "google._domainkey.example.com", "TXT", txt("google._domainkey.example.com", "v=DKIM1; k=rsa; p=!!notbase64"))
		}, "", mail.CodeDKIMMalformed, mail.Error},
		{"dkim weak", func(r []string) []string {
			return replace(r, "google._domainkey.example.com", "TXT", txt("google._domainkey.example.com", weakTXT))
		}, "", mail.CodeDKIMWeak, mail.Error},
		{"dkim 1024", func(r []string) []string {
			return replace(r, "google._domainkey.example.com", "TXT", txt("google._domainkey.example.com", midTXT))
		}, "", mail.CodeDKIMWeak, mail.Warning},
		{"dkim revoked", func(r []string) []string {
			return replace(r, "google._domainkey.example.com", "TXT", txt("google._domainkey.example.com", "v=DKIM1; p="))
		}, "", mail.CodeDKIMRevoked, mail.Error},
		{"mx missing", func(r []string) []string { return replace(r, "example.com", "MX") }, "", mail.CodeMXMissing, mail.Error},
		{"mx not google", func(r []string) []string {
			return replace(r, "example.com", "MX", "example.com. 300 IN MX 10 mx.other-provider.net.")
		}, "", mail.CodeMXNotGoogle, mail.Error},
		{"mx legacy", func(r []string) []string {
			return replace(r, "example.com", "MX", "example.com. 300 IN MX 1 aspmx.l.google.com.")
		}, "version: STSv1\nmode: enforce\nmx: aspmx.l.google.com\nmax_age: 86400\n", mail.CodeMXLegacy, mail.Info},
		{"mta-sts policy does not cover mx", nil, "version: STSv1\nmode: enforce\nmx: mx.other.net\nmax_age: 86400\n", mail.CodeMTASTSMXMismatch, mail.Error},
		{"mta-sts policy unreachable", nil, "-", mail.CodeMTASTSPolicyUnreachable, mail.Error},
		{"mta-sts policy invalid", nil, "version: STSv2\nmode: enforce\n", mail.CodeMTASTSPolicyInvalid, mail.Error},
		{"mta-sts record invalid", func(r []string) []string {
			return replace(r, "_mta-sts.example.com", "TXT", txt("_mta-sts.example.com", "v=STSv1; id=not-alnum!"))
		}, "", mail.CodeMTASTSInvalid, mail.Error},
		{"tls-rpt invalid", func(r []string) []string {
			return replace(r, "_smtp._tls.example.com", "TXT", txt("_smtp._tls.example.com", "v=TLSRPTv1; rua=ftp://x.example.com"))
		}, "", mail.CodeTLSRPTInvalid, mail.Error},
	}
	d := goodDomain(t)
	good := zone(t, d)
	goodPolicy, _ := d.MTASTSPolicy()
	dnsSrv := mailtest.StartDNS(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rrs := append([]string(nil), good...)
			if tc.edit != nil {
				rrs = tc.edit(rrs)
			}
			require.NoError(t, dnsSrv.Set(rrs...))
			policy := goodPolicy
			switch tc.policy {
			case "":
			case "-":
				policy = ""
			default:
				policy = tc.policy
			}
			fs, err := checker(dnsSrv, policyServer(t, policy)).Check(t.Context(), "example.com", nil)
			require.NoError(t, err)
			var got []mail.Finding
			for _, f := range fs {
				if f.Code == tc.code {
					got = append(got, f)
				}
			}
			require.NotEmpty(t, got, "want %s, got %v", tc.code, fs)
			assert.Equal(t, tc.sev, got[0].Severity)
			assert.NotEmpty(t, got[0].Name)
			assert.NotEmpty(t, got[0].Message)
		})
	}
}

func TestCheckReportsDNSTimeout(t *testing.T) {
	dnsSrv := mailtest.StartDNS(t)
	dnsSrv.Drop(true)
	c := &mail.Checker{Resolver: dnsSrv.Addr, Timeout: 100 * time.Millisecond}
	fs, err := c.Check(t.Context(), "example.com", nil)
	require.NoError(t, err)
	assert.True(t, fs.Has(mail.CodeDNSUnavailable), "%v", fs)
	assert.False(t, fs.Has(mail.CodeSPFMissing), "an unanswered query is not a missing record")
}

func TestCheckRefusesBadDomainAndCancelledContext(t *testing.T) {
	c := &mail.Checker{Resolver: "127.0.0.1:1"}
	_, err := c.Check(t.Context(), "not a domain", nil)
	assert.ErrorIs(t, err, webinfraErrInvalidArgument)
	ctx, cancel := contextWithCancel(t)
	cancel()
	_, err = c.Check(ctx, "example.com", nil)
	assert.ErrorIs(t, err, errCanceled)
}

func TestCheckFollowsLongDKIMKeyOverTCP(t *testing.T) {
	// A 4096-bit key does not fit a 1232-byte UDP answer: the server truncates, the checker
	// must retry over TCP.
	k, err := rsa.GenerateKey(rand.Reader, 4096)
	require.NoError(t, err)
	txtVal, err := mail.DKIMTXT(&k.PublicKey)
	require.NoError(t, err)
	d := goodDomain(t)
	d.DKIM.TXT = txtVal
	d.MTASTS = nil
	dnsSrv := mailtest.StartDNS(t, zone(t, d)...)
	fs, err := (&mail.Checker{Resolver: dnsSrv.Addr, Timeout: 2 * time.Second}).Check(t.Context(), "example.com", nil)
	require.NoError(t, err)
	assert.False(t, fs.Has(mail.CodeDKIMMalformed), "%v", fs)
	assert.False(t, fs.Has(mail.CodeDKIMMissing), "%v", fs)
	assert.False(t, fs.Has(mail.CodeDNSUnavailable), "%v", fs)
}
