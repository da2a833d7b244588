package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

func TestMailcheckReportsProblems(t *testing.T) {
	dnsSrv := mailtest.StartDNS(t,
		"example.com. 300 IN MX 10 mx.other-provider.net.",
		`_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none"`,
	)
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"--resolver", dnsSrv.Addr, "example.com"}, &out, &errOut)
	assert.Equal(t, 1, code, "errors give exit status 1; stderr: %s", errOut.String())
	s := out.String()
	assert.Contains(t, s, "ERROR (3)\n")
	assert.Contains(t, s, "spf.missing")
	assert.Contains(t, s, "mx.not_google")
	assert.Contains(t, s, "dkim.missing")
	assert.Contains(t, s, "WARNING (1)\n  dmarc.policy_none")
	assert.Less(t, bytes.Index(out.Bytes(), []byte("ERROR")), bytes.Index(out.Bytes(), []byte("WARNING")))
}

func TestMailcheckPassesGoodDomain(t *testing.T) {
	key, err := mail.GenerateDKIMKey(mail.Ed25519)
	require.NoError(t, err)
	d := mail.Domain{Domain: "example.com", SPF: mail.SPF{All: "-"}, DKIM: mail.DKIM{Selector: "s1", TXT: key.TXT()},
		DMARC: mail.DMARC{Policy: "reject", RUA: []string{"mailto:d@example.com"}}, TLSRPT: &mail.TLSRPT{RUA: []string{"mailto:t@example.com"}}}
	recs, err := d.Records()
	require.NoError(t, err)
	dnsSrv := mailtest.StartDNS(t, append(mailtest.RRs(recs), mailtest.GoogleSPF()...)...)
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"--resolver", dnsSrv.Addr, "--selectors", "s1", "--json", "example.com"}, &out, &errOut)
	assert.Equal(t, 0, code, "stdout: %s stderr: %s", out.String(), errOut.String())
	var fs []mail.Finding
	require.NoError(t, json.Unmarshal(out.Bytes(), &fs))
	require.Len(t, fs, 1)
	assert.Equal(t, mail.CodeMTASTSMissing, fs[0].Code)
}

func TestMailcheckUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage: mailcheck")
	assert.Equal(t, 2, run(t.Context(), []string{"not a domain"}, &out, &errOut))
}
