package cloudflare_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/cloudflare"
)

func TestIssueOriginCert(t *testing.T) {
	for _, keyType := range []string{"", "rsa"} {
		t.Run("key="+keyType, func(t *testing.T) {
			e := setup(t, 0)
			hosts := []string{"example.com", "*.example.com"}
			cert, err := e.client.IssueOriginCert(t.Context(), cloudflare.OriginCertRequest{Hostnames: hosts, KeyType: keyType, ValidityDays: 365})
			require.NoError(t, err)
			assert.NotEmpty(t, cert.ID)
			assert.Equal(t, hosts, cert.Hostnames)
			assert.WithinDuration(t, time.Now().Add(365*24*time.Hour), cert.NotAfter, time.Hour)

			// The key and certificate form a pair a TLS server can use, chaining to the Origin CA.
			pair, err := tls.X509KeyPair([]byte(cert.CertificatePEM), []byte(cert.Key.Reveal()))
			require.NoError(t, err)
			pool, err := e.srv.OriginCAPool()
			require.NoError(t, err)
			_, err = pair.Leaf.Verify(x509.VerifyOptions{DNSName: "www.example.com", Roots: pool})
			assert.NoError(t, err)
			assert.Equal(t, webinfra.Redacted, cert.Key.String(), "the key never prints")
		})
	}
}

func TestIssueOriginCertRejects(t *testing.T) {
	e := setup(t, 0)
	_, err := e.client.IssueOriginCert(t.Context(), cloudflare.OriginCertRequest{Hostnames: []string{"not a host"}, KeyType: "dsa", ValidityDays: 10})
	require.ErrorIs(t, err, webinfra.ErrInvalidArgument)
	for _, want := range []string{`hostnames[0]: invalid value "not a host"`, `keyType: invalid value "dsa"`, `validityDays: invalid value "10"`} {
		assert.Contains(t, err.Error(), want)
	}

	_, err = e.client.IssueOriginCert(t.Context(), cloudflare.OriginCertRequest{Hostnames: []string{"www.example.org"}})
	var apiErr *cloudflare.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, int64(1016), apiErr.Errors[0].Code, "a hostname outside the account's zones")
}
