package cloudflare

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/origin_ca_certificates"
	"github.com/cloudflare/cloudflare-go/v6/shared"
	"github.com/cloudflare/cloudflare-go/v6/ssl"

	"github.com/webinfra/webinfra"
)

// OriginCertRequest asks Cloudflare's Origin CA for a certificate that Cloudflare trusts when it
// connects to the origin (SSL mode "strict"); browsers do not trust it.
type OriginCertRequest struct {
	// Hostnames are the names covered, wildcards allowed ("*.example.com"); at most 100.
	Hostnames []string
	// KeyType is "ecc" (P-256, the default for "") or "rsa" (2048 bits).
	KeyType string
	// ValidityDays is one of 7, 30, 90, 365, 730, 1095 or 5475 (the default for 0).
	ValidityDays int
}

var validities = []int{7, 30, 90, 365, 730, 1095, 5475}

// Validate reports every problem with its field path.
func (r OriginCertRequest) Validate() error {
	var errs webinfra.ValidationError
	if len(r.Hostnames) == 0 {
		errs.Add(webinfra.NewPath("hostnames"), nil, "at least one hostname is required")
	}
	if len(r.Hostnames) > 100 {
		errs.Addf(webinfra.NewPath("hostnames"), len(r.Hostnames), "at most 100 hostnames")
	}
	for i, h := range r.Hostnames {
		if len(checkName(strings.ToLower(h))) > 0 || !strings.Contains(h, ".") {
			errs.Invalid(webinfra.NewPath("hostnames").Index(i), h, "not a hostname")
		}
	}
	if r.KeyType != "" && r.KeyType != "ecc" && r.KeyType != "rsa" {
		errs.NotSupported(webinfra.NewPath("keyType"), r.KeyType, []string{"ecc", "rsa"})
	}
	if r.ValidityDays != 0 && !slices.Contains(validities, r.ValidityDays) {
		errs.Invalid(webinfra.NewPath("validityDays"), r.ValidityDays, "must be 7, 30, 90, 365, 730, 1095 or 5475")
	}
	return errs.Err()
}

// OriginCert is an issued origin certificate with its private key.
type OriginCert struct {
	// ID is Cloudflare's certificate ID (for revocation).
	ID string
	// Hostnames are the names covered.
	Hostnames []string
	// CertificatePEM is the certificate, PEM-encoded.
	CertificatePEM string
	// Key is the private key, PEM-encoded PKCS#8; generated here, it never left this process
	// except to be written where the caller puts it (0600, atomically).
	Key webinfra.Secret
	// NotAfter is when the certificate expires.
	NotAfter time.Time
}

// IssueOriginCert generates a key and a CSR locally and has Cloudflare's Origin CA sign it
// (POST /certificates). It checks that the certificate returned is for that key and those
// hostnames. Each call issues a new certificate, so it is retried only when Cloudflare refused
// it for rate.
func (c *Client) IssueOriginCert(ctx context.Context, req OriginCertRequest) (*OriginCert, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if req.ValidityDays == 0 {
		req.ValidityDays = 5475
	}
	key, requestType, err := newKey(req.KeyType)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: origin certificate key: %w", err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: req.Hostnames[0]},
		DNSNames: req.Hostnames,
	}, key)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: origin certificate CSR: %w", err)
	}
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})

	var res *origin_ca_certificates.OriginCACertificate
	err = c.do(ctx, false, func(ctx context.Context) error {
		var err error
		res, err = c.api.OriginCACertificates.New(ctx, origin_ca_certificates.OriginCACertificateNewParams{
			Csr:               cf.F(string(csrPEM)),
			Hostnames:         cf.F(req.Hostnames),
			RequestType:       cf.F(requestType),
			RequestedValidity: cf.F(ssl.RequestValidity(req.ValidityDays)),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cloudflare: issue origin certificate for %v: %w", req.Hostnames, err)
	}
	cert, err := parseCert(res.Certificate)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: origin certificate %s: %w", res.ID, err)
	}
	if !publicKeyOf(key).Equal(cert.PublicKey) {
		return nil, fmt.Errorf("cloudflare: origin certificate %s is not for the key of this request", res.ID)
	}
	for _, h := range req.Hostnames {
		if !slices.Contains(cert.DNSNames, h) {
			return nil, fmt.Errorf("cloudflare: origin certificate %s does not cover %q", res.ID, h)
		}
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c.log.Info("issued origin certificate", "id", res.ID, "hostnames", strings.Join(req.Hostnames, ","))
	return &OriginCert{
		ID: res.ID, Hostnames: slices.Clone(req.Hostnames), CertificatePEM: res.Certificate,
		Key:      webinfra.NewSecret(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))),
		NotAfter: cert.NotAfter,
	}, nil
}

func newKey(kind string) (crypto.Signer, shared.CertificateRequestType, error) {
	if kind == "rsa" {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		return k, shared.CertificateRequestTypeOriginRSA, err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k, shared.CertificateRequestTypeOriginECC, err
}

type equaler interface{ Equal(crypto.PublicKey) bool }

func publicKeyOf(k crypto.Signer) equaler { return k.Public().(equaler) }

func parseCert(p string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("response holds no PEM certificate")
	}
	return x509.ParseCertificate(bytes.Clone(block.Bytes))
}
