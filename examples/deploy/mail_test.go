package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/mail"
)

// The demo domain's mail records are in the Cloudflare part of the plan; the DKIM key is made
// once, kept 0600 under --state, and the record published from it stays the same on later runs.
func TestMailRecordsInTheCloudflarePlan(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	code, out, errOut := runDeploy(t, "--state", state)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "+ dns_record example.com MX smtp.google.com\n")
	assert.Contains(t, out, "+ dns_record example.com TXT v=spf1 include:_spf.google.com ~all\n")
	assert.Contains(t, out, "+ dns_record _dmarc.example.com TXT v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.com\n")
	dkim := regexp.MustCompile(`\+ dns_record webinfra1\._domainkey\.example\.com TXT (v=DKIM1; k=rsa; p=\S+)\n`).FindStringSubmatch(out)
	require.NotNil(t, dkim, out)

	keyFile := filepath.Join(state, "mail", "dkim-webinfra1.pem")
	info, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	pem, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	key, err := mail.ParseDKIMPrivateKey(pem)
	require.NoError(t, err)
	assert.Equal(t, dkim[1], key.TXT(), "the published record is the kept key's")
	assert.NotContains(t, out, string(pem[40:80]), "the key never prints")

	// The simulated Cloudflare starts empty again; the record is planned from the same key.
	code, out, errOut = runDeploy(t, "--state", state, "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, dkim[0])
	assert.NotContains(t, out, "mail_file")
}

// A record given by Workspace is published as given, and no key is made.
func TestMailWorkspaceDKIMRecord(t *testing.T) {
	simulated(t)
	state := t.TempDir()
	const txt = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"
	code, out, errOut := runDeploy(t, "--state", state, "--dry-run", "--stack", writeStack(t, "  domain: example.com\n", "  domain: example.com\n  dkimRecord: \""+txt+"\"\n"))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "+ dns_record google._domainkey.example.com TXT "+txt+"\n")
	assert.NotContains(t, out, "mail_file")
	assert.NoDirExists(t, filepath.Join(state, "mail"))
}
