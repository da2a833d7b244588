package cloudflare_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
	"github.com/webinfra/webinfra/internal/testutil"
)

// An issued origin certificate prints its private key nowhere: any verb, slog, JSON.
func TestOriginCertNeverPrintsKey(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	c := cloudflare.OriginCert{ID: "1", Hostnames: []string{"example.com"}, CertificatePEM: "-----BEGIN CERTIFICATE-----\n...", Key: webinfra.NewSecret(string(keyPEM))}
	forms := testutil.KeyForms(t, key)
	for name, v := range map[string]any{"OriginCert": c, "*OriginCert": &c} {
		t.Run(name, func(t *testing.T) { testutil.AssertRedacted(t, v, forms, nil) })
	}
}
