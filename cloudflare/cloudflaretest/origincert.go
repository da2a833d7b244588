package cloudflaretest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// originCA is the fake's certificate authority, made on first use.
type originCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

// OriginCAPool returns a pool holding the fake Origin CA's root, to verify issued certificates.
func (s *Server) OriginCAPool() (*x509.CertPool, error) {
	ca, err := s.ca()
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool, nil
}

func (s *Server) ca() (*originCA, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.origin != nil {
		return s.origin, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cloudflaretest Origin CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(20 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	s.origin = &originCA{key: key, cert: cert}
	return s.origin, nil
}

var validities = []float64{7, 30, 90, 365, 730, 1095, 5475}

// issueOriginCert signs a CSR as Cloudflare's Origin CA does: the key type must match
// request_type, every hostname must be in one of the fake's zones, validity one of the allowed.
func (s *Server) issueOriginCert(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CSR       string   `json:"csr"`
		Hostnames []string `json:"hostnames"`
		Type      string   `json:"request_type"`
		Validity  float64  `json:"requested_validity"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, 1002, "Invalid request body")
		return
	}
	block, _ := pem.Decode([]byte(body.CSR))
	if block == nil {
		writeError(w, http.StatusBadRequest, 1010, "Failed to read CSR")
		return
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		writeError(w, http.StatusBadRequest, 1010, "Failed to read CSR")
		return
	}
	_, isRSA := csr.PublicKey.(*rsa.PublicKey)
	_, isEC := csr.PublicKey.(*ecdsa.PublicKey)
	if !(body.Type == "origin-rsa" && isRSA) && !(body.Type == "origin-ecc" && isEC) {
		writeError(w, http.StatusBadRequest, 1013, "The CSR's key does not match request_type "+body.Type)
		return
	}
	if body.Validity == 0 {
		body.Validity = 5475
	}
	if !slices.Contains(validities, body.Validity) {
		writeError(w, http.StatusBadRequest, 1014, "Invalid requested_validity")
		return
	}
	s.mu.Lock()
	zones := make([]string, 0, len(s.zones))
	for _, z := range s.zones {
		zones = append(zones, z)
	}
	s.nextID++
	id := fmt.Sprintf("cert%06d", s.nextID)
	serial := s.nextID
	s.mu.Unlock()
	if len(body.Hostnames) == 0 {
		writeError(w, http.StatusBadRequest, 1011, "hostnames is required")
		return
	}
	for _, h := range body.Hostnames {
		base := strings.TrimPrefix(h, "*.")
		if !slices.ContainsFunc(zones, func(z string) bool { return base == z || strings.HasSuffix(base, "."+z) }) {
			writeError(w, http.StatusBadRequest, 1016, "The hostname "+h+" is not in a zone of this account")
			return
		}
	}
	ca, err := s.ca()
	if err != nil {
		writeError(w, http.StatusInternalServerError, 1000, err.Error())
		return
	}
	notAfter := time.Now().Add(time.Duration(body.Validity) * 24 * time.Hour).UTC().Truncate(time.Second)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(int64(serial)), Subject: pkix.Name{Organization: []string{"CloudFlare, Inc."}, CommonName: "CloudFlare Origin Certificate"},
		DNSNames: body.Hostnames, NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		writeError(w, http.StatusInternalServerError, 1000, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Errors: []apiError{}, Messages: []string{}, Result: map[string]any{
		"id": id, "certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"hostnames": body.Hostnames, "expires_on": notAfter.Format("2006-01-02 15:04:05 -0700 MST"),
		"request_type": body.Type, "requested_validity": body.Validity, "csr": body.CSR,
	}})
}
