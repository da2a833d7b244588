package mail_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/mail"
)

func TestRecordsDefault(t *testing.T) {
	recs, err := mail.Domain{Domain: "Example.COM."}.Records()
	require.NoError(t, err)
	assert.Equal(t, []mail.Record{
		{Name: "example.com", Type: "MX", Content: "smtp.google.com", Priority: 1},
		{Name: "example.com", Type: "TXT", Content: "v=spf1 include:_spf.google.com ~all"},
		{Name: "_dmarc.example.com", Type: "TXT", Content: "v=DMARC1; p=none"},
	}, recs)
}

func TestRecordsFull(t *testing.T) {
	pct := 50
	d := mail.Domain{
		Domain: "example.com", MX: mail.MXLegacy, TTL: 3600,
		SPF:    mail.SPF{Includes: []string{"mailgun.org"}, IP4: []netip.Prefix{netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("198.51.100.0/24")}, IP6: []netip.Prefix{netip.MustParsePrefix("2001:db8::/48")}, All: "-"},
		DKIM:   mail.DKIM{Selector: "s2", TXT: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
		DMARC:  mail.DMARC{Policy: "quarantine", SubdomainPolicy: "reject", RUA: []string{"mailto:d@example.com"}, RUF: []string{"mailto:f@example.com!10m"}, ADKIM: "s", ASPF: "r", FO: "1", Percent: &pct},
		MTASTS: &mail.MTASTS{Mode: mail.MTASTSEnforce, MaxAge: 86400, ID: "20260101"},
		TLSRPT: &mail.TLSRPT{RUA: []string{"mailto:tls@example.com", "https://reports.example.com/tls"}},
	}
	recs, err := d.Records()
	require.NoError(t, err)
	var got []string
	for _, r := range recs {
		assert.Equal(t, 3600, r.TTL)
		got = append(got, r.String())
	}
	assert.Equal(t, []string{
		"example.com MX 1 aspmx.l.google.com",
		"example.com MX 5 alt1.aspmx.l.google.com",
		"example.com MX 5 alt2.aspmx.l.google.com",
		"example.com MX 10 alt3.aspmx.l.google.com",
		"example.com MX 10 alt4.aspmx.l.google.com",
		"example.com TXT v=spf1 include:_spf.google.com include:mailgun.org ip4:192.0.2.7 ip4:198.51.100.0/24 ip6:2001:db8::/48 -all",
		"s2._domainkey.example.com TXT v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
		"_dmarc.example.com TXT v=DMARC1; p=quarantine; sp=reject; rua=mailto:d@example.com; ruf=mailto:f@example.com!10m; adkim=s; aspf=r; fo=1; pct=50",
		"_mta-sts.example.com TXT v=STSv1; id=20260101",
		"_smtp._tls.example.com TXT v=TLSRPTv1; rua=mailto:tls@example.com,https://reports.example.com/tls",
	}, got)
	pol, ok := d.MTASTSPolicy()
	require.True(t, ok)
	assert.Equal(t, "version: STSv1\r\nmode: enforce\r\nmx: aspmx.l.google.com\r\nmx: alt1.aspmx.l.google.com\r\nmx: alt2.aspmx.l.google.com\r\nmx: alt3.aspmx.l.google.com\r\nmx: alt4.aspmx.l.google.com\r\nmax_age: 86400\r\n", pol)
	codes := mail.Findings(d.Warnings()).Codes()
	assert.Equal(t, []string{mail.CodeDMARCDeprecatedTag}, codes)
}

func TestMTASTSIDFollowsPolicy(t *testing.T) {
	id := func(mode string) string {
		recs, err := mail.Domain{Domain: "example.com", MTASTS: &mail.MTASTS{Mode: mode}}.Records()
		require.NoError(t, err)
		return recs[len(recs)-1].Content
	}
	assert.Equal(t, id("testing"), id("testing"))
	assert.NotEqual(t, id("testing"), id("enforce"))
	_, err := mail.ParseMTASTS(id("enforce"))
	assert.NoError(t, err)
}

func TestDomainValidateReportsAllPaths(t *testing.T) {
	pct := 101
	d := mail.Domain{
		Domain: "exa mple.com", MX: "other", TTL: 5,
		SPF:    mail.SPF{Includes: []string{"_spf.google.com", "bad host"}, IP4: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}, All: "+"},
		DKIM:   mail.DKIM{TXT: "v=DKIM1; p=!!"},
		DMARC:  mail.DMARC{Policy: "block", RUA: []string{"ftp://x"}, ADKIM: "x", Percent: &pct},
		MTASTS: &mail.MTASTS{Mode: "on", ID: "has-dash"},
		TLSRPT: &mail.TLSRPT{},
	}
	err := d.Validate()
	require.Error(t, err)
	assert.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	var ve *webinfra.ValidationError
	require.ErrorAs(t, err, &ve)
	var paths []string
	for _, e := range ve.Errors {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"dkim.txt", "dmarc.adkim", "dmarc.pct", "dmarc.policy", "dmarc.rua[0]", "domain", "mta_sts.id", "mta_sts.mode", "mx", "spf.all", "spf.includes[0]", "spf.includes[1]", "spf.ip4[0]", "tls_rpt.rua", "ttl"}, paths)
	_, err = d.Records()
	assert.Error(t, err)
	_, ok := d.MTASTSPolicy()
	assert.False(t, ok)
}

func TestRecordRRSplitsLongText(t *testing.T) {
	key, err := mail.GenerateDKIMKey(mail.RSA2048)
	require.NoError(t, err)
	r := mail.Record{Name: "google._domainkey.example.com", Type: "TXT", Content: key.TXT()}
	assert.Regexp(t, `^google\._domainkey\.example\.com\. 300 IN TXT "[^"]{255}" "[^"]+"$`, r.RR())
}
