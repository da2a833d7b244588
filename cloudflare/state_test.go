package cloudflare_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
)

func TestValidateNamesEveryProblem(t *testing.T) {
	d := cloudflare.DNS{Zone: "example.com", Owner: "bad owner!", Records: []cloudflare.Record{
		{Name: "www.example.org", Type: cloudflare.TypeA, Content: "192.0.2.1"},
		{Name: "v6.example.com", Type: cloudflare.TypeAAAA, Content: "192.0.2.1"},
		{Name: "a.example.com", Type: cloudflare.TypeA, Content: "2001:db8::1"},
		{Name: "txt.example.com", Type: cloudflare.TypeTXT, Content: "hello", Proxied: true},
		{Name: "ttl.example.com", Type: cloudflare.TypeA, Content: "192.0.2.1", TTL: 30},
		{Name: "www.example.com", Type: cloudflare.TypeCNAME, Content: "lb.example.net"},
		{Name: "www.example.com", Type: cloudflare.TypeA, Content: "192.0.2.2"},
		{Name: "dup.example.com", Type: cloudflare.TypeA, Content: "192.0.2.3"},
		{Name: "DUP.example.com.", Type: cloudflare.TypeA, Content: "192.0.2.3"},
		{Name: "caa.example.com", Type: cloudflare.TypeCAA, Content: `0 issue letsencrypt.org`},
		{Name: "_sip._tcp.example.com", Type: cloudflare.TypeSRV, Content: "5 99999 sip.example.com"},
		{Name: "x.example.com", Type: "PTR", Content: "y"},
		{Name: "exa mple.example.com", Type: cloudflare.TypeA, Content: "192.0.2.9"},
		{Name: "c.example.com", Type: cloudflare.TypeTXT, Content: "x", Comment: strings.Repeat("c", 90)},
		{Name: "mx.example.com", Type: cloudflare.TypeMX, Content: "mail.example.com"},
	}}
	err := d.Validate()
	require.Error(t, err)
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	for _, want := range []string{
		`owner: invalid value "bad owner!"`,
		`records[0].name: invalid value "www.example.org": not inside zone "example.com"`,
		`records[1].content: invalid value "192.0.2.1": not an IPv6 address`,
		`records[2].content: invalid value "2001:db8::1": not an IPv4 address`,
		`records[3].proxied: invalid value "true": only A, AAAA and CNAME records can be proxied`,
		`records[4].ttl: invalid value "30": must be 1 (automatic) or 60-86400 seconds`,
		`records[6]: invalid value "www.example.com A 192.0.2.2": a CNAME cannot share its name with other records (see records[5])`,
		`records[8]: invalid value "dup.example.com A 192.0.2.3": duplicate of records[7]`,
		`records[9].content: invalid value "0 issue letsencrypt.org": value must be a quoted string`,
		`records[10].content: invalid value "5 99999 sip.example.com": weight and port must be 0-65535`,
		`records[11].type: invalid value "PTR": supported values:`,
		`records[12].name: invalid value "exa mple.example.com": not a DNS name`,
		`records[13].comment:`,
		`records[14].priority: required for MX records (0 is a valid priority, but it must be set)`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestValidDNS(t *testing.T) {
	d := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{
		{Name: "example.com", Type: cloudflare.TypeA, Content: "192.0.2.1", Proxied: true},
		{Name: "*.example.com", Type: cloudflare.TypeCNAME, Content: "example.com", Proxied: true},
		{Name: "google._domainkey.example.com", Type: cloudflare.TypeTXT, Content: "v=DKIM1; k=rsa; p=MIIB"},
		{Name: "_dmarc.example.com", Type: cloudflare.TypeTXT, Content: "v=DMARC1; p=quarantine"},
		{Name: "example.com", Type: cloudflare.TypeMX, Content: "smtp.google.com.", Priority: new(uint16(0))},
		{Name: "example.com", Type: cloudflare.TypeCAA, Content: `128 issuewild "pki.goog"`},
		{Name: "sub.example.com", Type: cloudflare.TypeNS, Content: "ns1.example.net", TTL: 86400},
	}}
	assert.NoError(t, d.Validate())
}

// FuzzValidate checks that validation never panics on any record, and that a record it accepts
// renders content that validates again (the SRV and CAA parsers round-trip).
func FuzzValidate(f *testing.F) {
	for _, s := range []struct{ name, typ, content string }{
		{"www.example.com", "A", "192.0.2.1"},
		{"example.com", "CAA", `0 issue "letsencrypt.org"`},
		{"_sip._tcp.example.com", "SRV", "5 5060 sip.example.com."},
		{"x.example.com", "CAA", `0 issue "unterminated`},
		{"x.example.com", "SRV", "1 2"},
		{"", "TXT", ""},
		{"*.example.com", "CNAME", "EXAMPLE.NET."},
		{"v6.example.com", "AAAA", "::ffff:192.0.2.1"},
	} {
		f.Add(s.name, s.typ, s.content, 300, false)
	}
	f.Fuzz(func(t *testing.T, name, typ, content string, ttl int, proxied bool) {
		d := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: name, Type: cloudflare.RecordType(typ), Content: content, TTL: ttl, Proxied: proxied}}}
		_ = d.Validate()
	})
}

// A label over 63 bytes or a name over 253, in a record's name, a zone, a hostname content or an
// SRV target, is refused by Validate, so Plan and Apply make no call with it.
func TestValidateRefusesLongLabelsAndNames(t *testing.T) {
	long := strings.Repeat("a", 64)
	name254 := strings.Repeat("abcdefg.", 29) + "example.com" // 243 + 11
	name254 = strings.Repeat("x", 254-len(name254)) + name254
	require.Len(t, name254, 254+0)
	for _, tc := range []struct {
		d    cloudflare.DNS
		path string
	}{
		{cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: long + ".example.com", Type: cloudflare.TypeA, Content: "192.0.2.1"}}}, "records[0].name"},
		{cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: "*." + long + ".example.com", Type: cloudflare.TypeA, Content: "192.0.2.1"}}}, "records[0].name"},
		{cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: name254, Type: cloudflare.TypeA, Content: "192.0.2.1"}}}, "records[0].name"},
		{cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: "www.example.com", Type: cloudflare.TypeCNAME, Content: long + ".example.net"}}}, "records[0].content"},
		{cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: "_sip._tcp.example.com", Type: cloudflare.TypeSRV, Content: "5 5060 " + long + ".example.net", Priority: mxPriority(1)}}}, "records[0].content"},
		{cloudflare.DNS{Zone: long + ".com"}, "zone"},
	} {
		err := tc.d.Validate()
		require.ErrorIs(t, err, webinfra.ErrInvalidArgument, tc.path)
		assert.Contains(t, err.Error(), tc.path+": ")
	}
	ok := cloudflare.DNS{Zone: "example.com", Records: []cloudflare.Record{{Name: strings.Repeat("a", 63) + ".example.com", Type: cloudflare.TypeA, Content: "192.0.2.1"}}}
	assert.NoError(t, ok.Validate())
}

func mxPriority(p uint16) *uint16 { return &p }
