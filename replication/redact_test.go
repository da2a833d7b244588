package replication

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/internal/testutil"
)

// A Syncthing identity (key.pem) prints no key material under any verb, through slog or JSON,
// alone or inside other values, by pointer or by value.
func TestIdentityRedactsEveryRoute(t *testing.T) {
	id, err := NewIdentity()
	require.NoError(t, err)
	block, _ := pem.Decode([]byte(id.KeyPEM().Reveal()))
	require.NotNil(t, block)
	key, err := x509.ParseECPrivateKey(block.Bytes)
	require.NoError(t, err)
	forms := append(testutil.KeyForms(t, key), testutil.PEMBodyLines([]byte(id.KeyPEM().Reveal()))...)
	parsed, err := ParseIdentity(id.CertPEM(), []byte(id.KeyPEM().Reveal()))
	require.NoError(t, err)
	for name, v := range map[string]any{"*Identity": id, "Identity": *id, "parsed": parsed, "KeyPEM": id.KeyPEM()} {
		t.Run(name, func(t *testing.T) { testutil.AssertRedacted(t, v, forms, nil) })
	}
}
