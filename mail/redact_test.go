package mail_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/internal/testutil"
	"github.com/webinfra/webinfra/mail"
	"github.com/webinfra/webinfra/mail/mailtest"
)

// Every type holding a DKIM private key, or the signer made from one, prints no key material
// under any verb, through slog or JSON, alone or inside other values.
func TestDKIMKeysNeverPrint(t *testing.T) {
	for _, alg := range []mail.KeyAlgorithm{mail.RSA2048, mail.Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			key, err := mail.GenerateDKIMKey(alg)
			require.NoError(t, err)
			pemText := key.PrivateKeyPEM().Reveal()
			block, _ := pem.Decode([]byte(pemText))
			require.NotNil(t, block)
			raw, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			require.NoError(t, err)
			forms := testutil.KeyForms(t, raw)
			parsed, err := mail.ParseDKIMPrivateKey([]byte(pemText))
			require.NoError(t, err)
			signer, err := mail.NewDKIMSigner(mail.DKIMSignerConfig{Domain: "example.com", Selector: "s1", Key: key})
			require.NoError(t, err)
			for name, v := range map[string]any{
				"*DKIMKey":         key,
				"DKIMKey":          *key,
				"parsed *DKIMKey":  parsed,
				"DKIMKey.Signer":   key.Signer(),
				"*DKIMSigner":      signer,
				"DKIMSignerConfig": mail.DKIMSignerConfig{Domain: "example.com", Selector: "s1", Key: key},
				"SMTPConfig":       mail.SMTPConfig{Username: "u@example.com", Password: webinfra.NewSecret("pw"), Signer: signer},
				"GmailConfig":      mail.GmailConfig{Signer: signer},
				"PrivateKeyPEM":    key.PrivateKeyPEM(),
			} {
				t.Run(name, func(t *testing.T) { testutil.AssertRedacted(t, v, forms, nil) })
			}
			assert.Equal(t, "mail.DKIMKey("+key.Algorithm()+", "+webinfra.Redacted+")", fmt.Sprint(key))
			assert.Equal(t, "mail.DKIMSigner(d=example.com s=s1)", fmt.Sprint(signer))
		})
	}
}

// The forms table itself finds a leak: printing the bare key material fails it.
func TestKeyFormsCatchRawKeys(t *testing.T) {
	key, err := mail.GenerateDKIMKey(mail.Ed25519)
	require.NoError(t, err)
	block, _ := pem.Decode([]byte(key.PrivateKeyPEM().Reveal()))
	raw, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	rt := &recordingTB{TB: t}
	testutil.AssertRedacted(rt, raw, testutil.KeyForms(t, raw), nil)
	assert.True(t, rt.failed, "a raw ed25519.PrivateKey must be reported")
}

// The test CA of mailtest holds a private key too.
func TestMailtestCANeverPrints(t *testing.T) {
	ca, err := mailtest.NewCA()
	require.NoError(t, err)
	testutil.AssertRedacted(t, ca, testutil.KeyForms(t, ca.Cert.PrivateKey), nil)
}

// recordingTB records failures instead of failing, to test the helper.
type recordingTB struct {
	testing.TB
	failed bool
}

func (r *recordingTB) Errorf(string, ...any) { r.failed = true }
func (r *recordingTB) Helper()               {}
