package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/webinfra/webinfra"
	"github.com/webinfra/webinfra/replication"
)

// keptIdentity is a worker's Syncthing identity as planned: loaded from --state, completed, or
// new; keep writes what is missing (nil once nothing is).
//
// Syncthing's device ID is the hash of the certificate, so the certificate and key are one
// unit. A new identity is written as one: both files go into a temporary directory that is
// renamed into place (atomicfile.WriteDir), so a killed run leaves the whole identity or none,
// and the next run never sees a key without its certificate. Re-deriving the certificate from
// the key was the other way, and is not one: Syncthing's certificate has a random serial, an
// ECDSA signature made with fresh randomness and its day of issue, so a certificate made again
// from the same key has another device ID than the one planned and published to the peers.
//
// Identities a human or an older deploy left half-written are never a dead end: a key without a
// usable certificate (missing, truncated, or another key's) keeps its key and gets a new
// certificate, as Syncthing would issue it; a certificate without a usable key is worth
// nothing (the device cannot prove it), so the directory is set aside as NODE.broken-UNIXTIME,
// for a human to look at, and a new identity takes its place.
type keptIdentity struct {
	id     *replication.Identity
	change *webinfra.Change
	keep   func(*stateDir) error
}

// loadIdentity plans the identity of the Syncthing home home (of node), reading only.
func loadIdentity(node, home string) (*keptIdentity, error) {
	certPEM, certErr := readOptional(filepath.Join(home, replication.IdentityCertFile))
	keyPEM, keyErr := readOptional(filepath.Join(home, replication.IdentityKeyFile))
	if certErr != nil || keyErr != nil {
		return nil, fmt.Errorf("syncthing identity of %s: %w", node, errors.Join(certErr, keyErr))
	}
	if certPEM != nil && keyPEM != nil {
		if id, err := replication.ParseIdentity(certPEM, keyPEM); err == nil {
			return &keptIdentity{id: id}, nil
		}
	}
	if key := parseKey(keyPEM); key != nil {
		// The key is kept; only the certificate is written, atomically.
		id, err := issueCertificate(keyPEM, key)
		if err != nil {
			return nil, fmt.Errorf("syncthing identity of %s: %w", node, err)
		}
		why := "cert.pem missing"
		if certPEM != nil {
			why = "cert.pem unreadable or not the key's"
		}
		return &keptIdentity{
			id: id,
			change: &webinfra.Change{Kind: "syncthing_identity", ID: node, Action: webinfra.Update,
				Before: webinfra.Fields{"certificate": why},
				After:  webinfra.Fields{"device_id": id.DeviceID(), "certificate": "new, for the kept key.pem"}},
			keep: func(s *stateDir) error {
				return s.writeFile(filepath.Join(home, replication.IdentityCertFile), id.CertPEM(), 0o600, 0o700)
			},
		}, nil
	}
	id, err := replication.NewIdentity()
	if err != nil {
		return nil, fmt.Errorf("syncthing identity of %s: %w", node, err)
	}
	c := &webinfra.Change{Kind: "syncthing_identity", ID: node, Action: webinfra.Create,
		After: webinfra.Fields{"device_id": id.DeviceID(), "key": webinfra.NewSecret("key.pem")}}
	if certPEM != nil || keyPEM != nil {
		c.Action, c.Before = webinfra.Update, webinfra.Fields{"key": "key.pem missing or unreadable: the directory is set aside"}
	}
	return &keptIdentity{id: id, change: c, keep: func(s *stateDir) error {
		// Whatever is in home is of no use without a key: set it aside (never deleted: it
		// may be a human's), then write the new identity as one unit.
		if entries, err := os.ReadDir(home); err == nil && len(entries) > 0 {
			aside := home + ".broken-" + strconv.FormatInt(time.Now().Unix(), 10)
			if err := os.Rename(home, aside); err != nil {
				return fmt.Errorf("syncthing identity of %s: %w", node, err)
			}
			s.log.Warn("syncthing identity without a usable key set aside", "node", node, "path", aside)
		}
		return s.writeDir(home, map[string][]byte{
			replication.IdentityKeyFile:  []byte(id.KeyPEM().Reveal()),
			replication.IdentityCertFile: id.CertPEM(),
		})
	}}, nil
}

// readOptional reads a file, nil when it does not exist.
func readOptional(p string) ([]byte, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// parseKey parses a private key PEM as Syncthing's loading does (SEC 1 EC, PKCS #1 RSA or
// PKCS #8), or returns nil.
func parseKey(keyPEM []byte) crypto.Signer {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s
		}
	}
	return nil
}

// issueCertificate issues a certificate for key as Syncthing v1.30's lib/tlsutil does for a
// device (common name "syncthing", organisation "Syncthing", unit "Automatically Generated",
// valid 20 years from today's midnight UTC), keeping keyPEM byte for byte.
func issueCertificate(keyPEM []byte, key crypto.Signer) (*replication.Identity, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	notBefore := time.Now().UTC().Truncate(24 * time.Hour)
	tmpl := x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         "syncthing",
			Organization:       []string{"Syncthing"},
			OrganizationalUnit: []string{"Automatically Generated"},
		},
		DNSNames:              []string{"syncthing"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(20 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		tmpl.SignatureAlgorithm = x509.ECDSAWithSHA256
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("issue a certificate for the kept key: %w", err)
	}
	return replication.ParseIdentity(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM)
}
